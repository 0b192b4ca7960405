//! The observatory page of a campus, its exports (CSV, ODS) and its JSON.
//! Charts are SVG drawn on the server from the same figures as the tables
//! beside them, so they read without JavaScript and every figure is also
//! in a table.

use crate::extract::Path;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use app::observatory::{Observatory, TableKind, WhatIf};
use app::{App, AppError};

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::pages::{render, Params};
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/campus/{slug}/observatoire", page)
        .get("/campus/{slug}/observatoire/{table}", export)
        .post("/campus/{slug}/observatoire/secteur", sector_save)
}

/// One bar pair of the demand/supply chart, in SVG units.
struct Bar {
    label: String,
    y: usize,
    demand: f64,
    supply: f64,
    demand_width: f64,
    supply_width: f64,
}

/// Width of the bar area of the chart.
const BAR_AREA: f64 = 420.0;

fn bars(o: &Observatory) -> (Vec<Bar>, usize) {
    let mut rows: Vec<_> = o
        .metiers
        .iter()
        .filter(|m| m.demand.unwrap_or(0.0) > 0.0 || m.supply > 0.0)
        .collect();
    rows.sort_by(|a, b| {
        b.demand
            .unwrap_or(0.0)
            .max(b.supply)
            .total_cmp(&a.demand.unwrap_or(0.0).max(a.supply))
    });
    rows.truncate(12);
    let max = rows
        .iter()
        .map(|m| m.demand.unwrap_or(0.0).max(m.supply))
        .fold(0.0, f64::max)
        .max(1.0);
    let bars = rows
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let demand = m.demand.unwrap_or(0.0);
            Bar {
                label: truncate(&m.label, 38),
                y: 30 + i * 34,
                demand,
                supply: m.supply,
                demand_width: demand / max * BAR_AREA,
                supply_width: m.supply / max * BAR_AREA,
            }
        })
        .collect::<Vec<_>>();
    let height = 40 + bars.len() * 34;
    (bars, height)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// One certification × voie of the outcomes scatter, in SVG units (the
/// plot is 300 × 300 from (60, 20), 0–100 % on both axes).
struct Point {
    n: usize,
    cx: f64,
    cy: f64,
    label: String,
    voie: String,
    employment: f64,
    further: f64,
    quadrant: String,
}

fn points(o: &Observatory) -> Vec<Point> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in &o.outcomes {
        let r = &f.outcome;
        let (Some(e), Some(s), Some(q)) = (
            r.rate_employed_6m,
            r.rate_further_study,
            r.quadrant.as_ref(),
        ) else {
            continue;
        };
        if !seen.insert((r.cfd.clone(), r.voie.clone())) {
            continue;
        }
        out.push(Point {
            n: out.len() + 1,
            cx: 60.0 + s * 3.0,
            cy: 320.0 - e * 3.0,
            label: r.label.clone().unwrap_or_else(|| f.title.clone()),
            voie: r.voie.clone(),
            employment: e,
            further: s,
            quadrant: q.clone(),
        });
    }
    out
}

/// One territory of the tension map, filled by its level.
struct Area {
    d: String,
    fill: &'static str,
    title: String,
}

/// The map of one métier's tension level over the perimeter: communes
/// (overseas) or départements, each filled by the level of its bassin(s).
struct TensionMap {
    code_rome: String,
    label: String,
    width: f64,
    height: f64,
    areas: Vec<Area>,
    /// Levels per bassin, the table beside the map.
    rows: Vec<(String, u8)>,
}

fn fill(level: Option<u8>) -> &'static str {
    match level {
        Some(1) => "#b7dfc0",
        Some(2) => "#d9ea9a",
        Some(3) => "#ffe08a",
        Some(4) => "#ffb070",
        Some(5) => "#f26b5b",
        _ => "#e6e6e6",
    }
}

fn tension_map(app: &App, o: &Observatory, wanted: Option<&str>) -> Option<TensionMap> {
    let m = match wanted {
        Some(code) => o.metiers.iter().find(|m| m.code_rome == code)?,
        None => o.metiers.iter().find(|m| !m.places.is_empty())?,
    };
    if m.places.is_empty() {
        return None;
    }
    let level_of = |basin: &str| m.places.iter().find(|(t, _)| t == basin).map(|(_, l)| *l);
    let view = app::map::draw(&app.config.data_dir.join("geo"), &o.departements, &[]).ok()?;
    let areas = view
        .shapes
        .iter()
        .map(|s| {
            // A commune: its bassin's level; a département: the rounded mean of its bassins'.
            let level = if s.code.len() == 5 {
                o.commune_basins
                    .iter()
                    .find(|(c, _)| *c == s.code)
                    .and_then(|(_, b)| level_of(b))
            } else {
                let levels: Vec<u8> = o
                    .commune_basins
                    .iter()
                    .filter(|(c, _)| c.starts_with(&s.code))
                    .filter_map(|(_, b)| level_of(b))
                    .collect();
                (!levels.is_empty()).then(|| {
                    (levels.iter().map(|l| f64::from(*l)).sum::<f64>() / levels.len() as f64)
                        .round() as u8
                })
            };
            Area {
                d: s.d.clone(),
                fill: fill(level),
                title: match level {
                    Some(l) => format!("{} : niveau {l}/5", s.name),
                    None => format!("{} : pas de niveau publié", s.name),
                },
            }
        })
        .collect();
    Some(TensionMap {
        code_rome: m.code_rome.clone(),
        label: m.label.clone(),
        width: view.width,
        height: view.height,
        areas,
        rows: m.places.clone(),
    })
}

#[derive(Template)]
#[template(path = "observatory/observatory.html")]
struct ObservatoryPage {
    nav: Nav,
    o: Observatory,
    bars: Vec<Bar>,
    chart_height: usize,
    points: Vec<Point>,
    /// The campus' certifications, for the what-if form: code, label.
    certifications: Vec<(i64, String)>,
    what_if: Option<WhatIf>,
    what_if_error: Option<String>,
    /// Base observatory without the what-if, to show the gap before.
    before: Option<Observatory>,
    /// Whether the actor may edit the sector mapping (campus managers).
    manageable: bool,
    /// The tension map of one métier.
    map: Option<TensionMap>,
    /// A refused sector mapping: the text typed and why.
    sector_error: Option<(String, String)>,
}

impl ObservatoryPage {
    /// Whether any métier has a level for the dimension at `i` (the others
    /// are not published for this territory and their column is left out).
    fn dim_shown(&self, i: &usize) -> bool {
        self.o
            .metiers
            .iter()
            .any(|m| m.dimensions.get(*i).is_some_and(|d| d.level.is_some()))
    }
    fn level_class(&self, level: &Option<u8>) -> &'static str {
        match level {
            Some(5) => "lvl lvl5",
            Some(4) => "lvl lvl4",
            Some(3) => "lvl lvl3",
            Some(2) => "lvl lvl2",
            Some(1) => "lvl lvl1",
            _ => "lvl",
        }
    }
    fn num(&self, v: &Option<f64>) -> String {
        v.map_or_else(|| "—".to_owned(), fmt_num)
    }
    fn num0(&self, v: &f64) -> String {
        fmt_num(*v)
    }
    fn dec2(&self, v: &Option<f64>) -> String {
        v.map_or_else(|| "—".to_owned(), |x| format!("{x:.2}").replace('.', ","))
    }
    fn gap_before(&self, code: &str) -> String {
        self.before
            .as_ref()
            .and_then(|b| b.metiers.iter().find(|m| m.code_rome == code))
            .map_or_else(|| "—".to_owned(), |m| self.num(&m.gap))
    }
}

/// A figure with at most one decimal, French style.
fn fmt_num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}").replace('.', ",")
    }
}

async fn page(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    render(&page_for(&app, &actor, nav, &slug, raw, None).await?, true)
}

/// Saves the campus' sector → ROME domains mapping (campus managers).
async fn sector_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let text = pairs
        .iter()
        .find(|(k, _)| k == "domaines")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match app.set_sector_domains(&actor, &slug, &text).await {
        Ok(()) => Ok(crate::redirect::see_other(&format!(
            "/campus/{slug}/observatoire"
        ))),
        Err(AppError::Invalid(errors)) => {
            let why = errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" ");
            let page = page_for(&app, &actor, nav, &slug, None, Some((text, why))).await?;
            let mut res = render(&page, true)?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

async fn page_for(
    app: &App,
    actor: &app::Actor,
    nav: Nav,
    slug: &str,
    raw: Option<String>,
    sector_error: Option<(String, String)>,
) -> Result<ObservatoryPage, WebError> {
    let p = Params::parse(raw);
    let period = p.one("periode").filter(|s| !s.is_empty());
    let (what_if, what_if_error) = match (p.one("certification"), p.one("places")) {
        (Some(c), Some(n)) if !c.is_empty() || !n.is_empty() => {
            match WhatIf::parse(&format!("{c}={n}")) {
                Some(w) => (Some(w), None),
                None => (
                    None,
                    Some(
                        "Choisissez une certification et un nombre de places entier positif."
                            .to_owned(),
                    ),
                ),
            }
        }
        _ => (None, None),
    };
    let o = app
        .observatory(actor, slug, None, period.as_deref())
        .await?;
    let (o, before, what_if_error) = match what_if {
        Some(w) => match app
            .observatory(actor, slug, Some(w), period.as_deref())
            .await
        {
            Ok(with) => (with, Some(o), what_if_error),
            Err(AppError::NotFound(_)) => (
                o,
                None,
                Some(format!(
                    "La certification {} n'est reliée à aucun métier : simulation impossible.",
                    w.certification_code
                )),
            ),
            Err(AppError::Invalid(fields)) => (
                o,
                None,
                Some(
                    fields
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join(" ; "),
                ),
            ),
            Err(e) => return Err(e.into()),
        },
        None => (o, None, what_if_error),
    };
    let campus = app.campus(slug).await?;
    let certifications = app.what_if_certifications(actor, slug).await?;
    let (bars, chart_height) = bars(&o);
    let points = points(&o);
    let map = tension_map(app, &o, p.one("metier").as_deref());
    let manageable =
        app::policy::allows(actor, app::Action::Manage, app::Resource::Campus(campus.id));
    Ok(ObservatoryPage {
        nav,
        o,
        bars,
        chart_height,
        points,
        certifications,
        what_if,
        what_if_error,
        before,
        manageable,
        sector_error,
        map,
    })
}

/// `/campus/{slug}/observatoire/{tension|ecart|competences}.{csv|ods}`.
async fn export(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path((slug, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (name, ext) = file
        .rsplit_once('.')
        .ok_or_else(|| WebError::page(AppError::NotFound(file.clone())))?;
    let kind =
        TableKind::parse(name).ok_or_else(|| WebError::page(AppError::NotFound(file.clone())))?;
    let ods = match ext {
        "csv" => false,
        "ods" => true,
        _ => return Err(WebError::page(AppError::NotFound(file.clone()))),
    };
    let (bytes, media_type) = app.observatory_export(&actor, &slug, kind, ods).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"observatoire-{slug}-{}.{ext}\"",
                    kind.name()
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

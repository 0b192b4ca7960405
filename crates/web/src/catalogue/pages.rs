//! The catalogue's pages: formations (search and one), ROME fiches (search
//! and one), certifications.

use crate::extract::Path;
use app::catalogue::{CatalogueQuery, CertificationView, FormationView, OccupationView};
use app::listing::Page;
use app::rows::{FormationRow, OccupationRow};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use app::App;

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::pages::{base_query, page_link, render, Labels, Params};
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/formations", formations)
        .get("/formations/{id}", formation)
        .get("/metiers", occupations)
        .get("/metiers/{code}", occupation)
        .get("/certifications/{code}", certification)
}

#[derive(Template)]
#[template(path = "catalogue/formations.html")]
struct FormationsPage {
    nav: Nav,
    q: String,
    campus: Option<String>,
    page: Page<FormationRow>,
    /// Query string without `page`, to build pagination links.
    base_query: String,
}
impl Labels for FormationsPage {}

impl FormationsPage {
    fn page_link(&self, n: usize) -> String {
        page_link("/formations", &self.base_query, n)
    }
}

/// Reads a catalogue query from the URL parameters.
pub(crate) fn catalogue_query(p: &Params) -> CatalogueQuery {
    CatalogueQuery {
        q: p.one("q").unwrap_or_default(),
        page: p.page(),
        level: p.all("niveau"),
        pathway: p.all("voie"),
        modality: p.all("modalite"),
        departement: p.all("departement"),
        provider: p.all("organisme"),
        campus: p.one("campus").filter(|c| !c.is_empty()),
    }
}

async fn formations(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let cq = catalogue_query(&p);
    let page = app.search_formations(&actor, &cq).await?;
    let base_query = base_query(&p);
    render(
        &FormationsPage {
            nav,
            q: cq.q.clone(),
            campus: cq.campus.clone(),
            page,
            base_query,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "catalogue/formation.html")]
struct FormationPage {
    nav: Nav,
    v: FormationView,
}

async fn formation(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let v = app.formation_view(&actor, id).await?;
    let private = v.private;
    render(&FormationPage { nav, v }, private)
}

#[derive(Template)]
#[template(path = "catalogue/occupations.html")]
struct OccupationsPage {
    nav: Nav,
    q: String,
    q_enc: String,
    page: Page<OccupationRow>,
}

async fn occupations(
    State(app): State<App>,
    nav: Nav,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let q = p.one("q").unwrap_or_default();
    let page = app.search_occupations(&q, p.page()).await?;
    let q_enc = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    render(
        &OccupationsPage {
            nav,
            q,
            q_enc,
            page,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "catalogue/occupation.html")]
struct OccupationPage {
    nav: Nav,
    v: OccupationView,
}

async fn occupation(
    State(app): State<App>,
    nav: Nav,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    render(
        &OccupationPage {
            nav,
            v: app.occupation_view(&code).await?,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "catalogue/certification.html")]
struct CertificationPage {
    nav: Nav,
    v: CertificationView,
}

async fn certification(
    State(app): State<App>,
    nav: Nav,
    Path(code): Path<i64>,
) -> Result<Response, WebError> {
    render(
        &CertificationPage {
            nav,
            v: app.certification_view(code).await?,
        },
        false,
    )
}

//! Editing a formation (and its sessions) in the browser, validated on the
//! server by the same rules as imports and the API.

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::network::FormationInput;

use app::{App, AppError};
use domain::network::FieldError;

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::forms::{
    choices, parse_date, parse_vocab, publication_statuses, refused, rows_in_use, Choice, Fields,
    FormPage,
};
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/formations/{id}/modifier", formation_form)
        .post("/formations/{id}/modifier", formation_save)
}

/// The field names of one session row of a formation form.
struct SessionNames {
    number: usize,
    start: String,
    end: String,
    places: String,
}

/// Session rows a formation form offers at most.
const MAX_SESSIONS: usize = 12;

/// The sessions of a submitted formation form; problems name their row's
/// fields (`session_debut_N`, `session_fin_N`, `session_places_N`).
fn session_rows(f: &mut Fields) -> Vec<domain::network::SessionInput> {
    let mut out = Vec::new();
    for i in 0..MAX_SESSIONS {
        let (start, end, places) = (
            format!("session_debut_{i}"),
            format!("session_fin_{i}"),
            format!("session_places_{i}"),
        );
        if f.opt(&start).is_none() && f.opt(&end).is_none() && f.opt(&places).is_none() {
            continue;
        }
        let mut errors = Vec::new();
        let starts_on = match f.opt(&start) {
            Some(d) => domain::network::chrono_free::Date::parse(&d).or_else(|| {
                errors.push(FieldError::new(
                    &start,
                    format!("date invalide « {d} », attendu AAAA-MM-JJ"),
                ));
                None
            }),
            None => {
                errors.push(FieldError::new(&start, "la date de début est obligatoire"));
                None
            }
        };
        let ends_on = parse_date(&end, &f.opt(&end), &mut errors);
        f.errors.extend(errors);
        let places = f.number(&places);
        if let Some(starts_on) = starts_on {
            let s = domain::network::SessionInput {
                starts_on,
                ends_on,
                places,
            };
            for e in s.validate().err().unwrap_or_default() {
                let field = if e.field == "date_fin" {
                    format!("session_fin_{i}")
                } else {
                    format!("session_places_{i}")
                };
                f.errors.push(FieldError::new(&field, e.message));
            }
            out.push(s);
        }
    }
    out
}

#[derive(Template)]
#[template(path = "catalogue/formation_form.html")]
struct FormationFormPage {
    nav: Nav,
    id: i64,
    title: String,
    provider: String,
    f: Fields,
    /// The session rows shown (the existing ones and one empty).
    session_rows: Vec<SessionNames>,
    pathways: Vec<Choice>,
    modalities: Vec<Choice>,
    statuses: Vec<Choice>,
}

impl FormPage for FormationFormPage {
    fn fields(&self) -> &Fields {
        &self.f
    }
}

fn formation_page(
    nav: Nav,
    id: i64,
    title: String,
    provider: String,
    f: Fields,
) -> FormationFormPage {
    let filled = rows_in_use(&f, "session_debut", MAX_SESSIONS);
    FormationFormPage {
        nav,
        id,
        title,
        provider,
        session_rows: (0..(filled + 1).min(MAX_SESSIONS))
            .map(|i| SessionNames {
                number: i + 1,
                start: format!("session_debut_{i}"),
                end: format!("session_fin_{i}"),
                places: format!("session_places_{i}"),
            })
            .collect(),
        f,
        pathways: choices(
            domain::Pathway::ALL,
            domain::Pathway::code,
            domain::Pathway::label,
        ),
        modalities: choices(
            domain::Modality::ALL,
            domain::Modality::code,
            domain::Modality::label,
        ),
        statuses: publication_statuses(),
    }
}

async fn formation_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let form = app.formation_for_edit(&actor, id).await?;
    let x = &form.formation;
    let mut f = Fields::default();
    f.set("intitule", Some(&x.title));
    f.set("certifinfo", x.certification_code);
    f.set("niveau", x.level);
    f.set("voie", Some(&x.pathway));
    f.set("modalite", Some(&x.modality));
    f.set("code_insee_lieu", x.site_code_insee.as_ref());
    f.set("capacite", x.capacity);
    f.set("duree_heures", x.duration_hours);
    f.set("description", x.description.as_ref());
    f.set("statut", Some(&x.status));
    f.set("codes_rome", Some(form.manual_romes.join(" ")));
    for (i, session) in form.sessions.iter().enumerate().take(MAX_SESSIONS) {
        f.set(&format!("session_debut_{i}"), Some(&session.starts_on));
        f.set(&format!("session_fin_{i}"), session.ends_on.as_ref());
        f.set(&format!("session_places_{i}"), session.places);
    }
    render(
        &formation_page(nav, id, x.title.clone(), x.provider_name.clone(), f),
        true,
    )
}

async fn formation_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let current = app.formation_for_edit(&actor, id).await?.formation;
    let mut f = Fields::from_pairs(pairs);
    let mut errors = Vec::new();
    let level = match f.number("niveau") {
        None => None,
        Some(n) => {
            let l = u8::try_from(n).ok().and_then(domain::Level::new);
            if l.is_none() {
                errors.push(FieldError::new("niveau", "le niveau européen va de 1 à 8"));
            }
            l
        }
    };
    let input = FormationInput {
        title: f.value("intitule").trim().to_owned(),
        certification_code: f.number("certifinfo"),
        level,
        pathway: parse_vocab(
            "voie",
            Some(f.value("voie")),
            domain::Pathway::Continuing,
            domain::Pathway::parse,
            &mut errors,
        ),
        modality: parse_vocab(
            "modalite",
            Some(f.value("modalite")),
            domain::Modality::OnSite,
            domain::Modality::parse,
            &mut errors,
        ),
        provider_id: current.provider_id,
        site_code_insee: f.opt("code_insee_lieu"),
        capacity: f.number("capacite"),
        duration_hours: f.number("duree_heures"),
        description: f.opt("description"),
        status: parse_vocab(
            "statut",
            Some(f.value("statut")),
            domain::PublicationStatus::Draft,
            domain::PublicationStatus::parse,
            &mut errors,
        ),
        rome_codes: f
            .value("codes_rome")
            .split([' ', ',', ';'])
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_ascii_uppercase())
            .collect(),
        external_key: Some(current.external_key.clone()),
        invented: current.invented,
    };
    f.errors.extend(errors);
    for code in &input.rome_codes {
        if domain::CodeRome::parse(code).is_err() {
            f.errors.push(FieldError::new(
                "codes_rome",
                format!("code ROME invalide « {code} » (exemple : J1501)"),
            ));
        }
    }
    // Like contacts: a form without session fields keeps the sessions.
    let sessions = f
        .values
        .keys()
        .any(|k| k.starts_with("session_"))
        .then(|| session_rows(&mut f));
    let result = if f.errors.is_empty() {
        app.update_formation(&actor, id, &input, sessions.as_deref())
            .await
            .map(|_| ())
    } else {
        let mut errors = std::mem::take(&mut f.errors);
        errors.extend(input.validate().err().unwrap_or_default());
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(crate::redirect::see_other(&format!("/formations/{id}"))),
        Err(e) => refused(
            |errors| {
                f.errors = errors;
                formation_page(
                    nav,
                    id,
                    current.title.clone(),
                    current.provider_name.clone(),
                    f,
                )
            },
            e,
        ),
    }
}

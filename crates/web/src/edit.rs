//! Editing in the browser: member organisations and formations. Forms are
//! validated on the server by the same rules as imports and the API; every
//! problem is shown next to its field, and the form keeps what was typed.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use app::{App, AppError};
use domain::network::{FieldError, FormationInput, MemberInput};

use crate::api::{parse_date, parse_vocab};
use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/membres/{id}/modifier", member_form)
        .post("/membres/{id}/modifier", member_save)
        .get("/formations/{id}/modifier", formation_form)
        .post("/formations/{id}/modifier", formation_save)
}

/// What a form shows: the values (as typed or as stored) and the problems.
#[derive(Default)]
struct Fields {
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl Fields {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            values: pairs.into_iter().collect(),
            errors: Vec::new(),
        }
    }

    fn set(&mut self, name: &str, value: Option<impl ToString>) {
        self.values.insert(
            name.to_owned(),
            value.map(|v| v.to_string()).unwrap_or_default(),
        );
    }

    /// The value of a field, for `value="…"` (askama escapes it).
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn opt(&self, name: &str) -> Option<String> {
        Some(self.value(name).trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// The problem with a field, if any.
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    fn number(&mut self, name: &str) -> Option<i64> {
        let v = self.opt(name)?;
        match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.errors.push(FieldError::new(
                    name,
                    format!("nombre entier attendu, « {v} » saisi"),
                ));
                None
            }
        }
    }
}

/// One choice of a `<select>`.
struct Choice {
    code: &'static str,
    label: &'static str,
}

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: label(*v),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "member_form.html")]
struct MemberFormPage {
    nav: Nav,
    id: i64,
    name: String,
    f: Fields,
    kinds: Vec<Choice>,
    statuses: Vec<Choice>,
}

impl MemberFormPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.f.error(name)
    }
    fn value(&self, name: &str) -> &str {
        self.f.value(name)
    }
}

fn member_page(nav: Nav, id: i64, name: String, f: Fields) -> MemberFormPage {
    MemberFormPage {
        nav,
        id,
        name,
        f,
        kinds: choices(
            domain::MemberKind::ALL,
            domain::MemberKind::code,
            domain::MemberKind::label,
        ),
        statuses: choices(
            domain::PublicationStatus::ALL,
            domain::PublicationStatus::code,
            domain::PublicationStatus::label,
        ),
    }
}

async fn member_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let m = app.member_for_edit(&actor, id).await?;
    let mut f = Fields::default();
    f.set("nom", Some(&m.name));
    f.set("type", Some(&m.kind));
    f.set("siret", m.siret.as_ref());
    f.set("uai", m.uai.as_ref());
    f.set("code_insee", m.code_insee.as_ref());
    f.set("adresse", m.address.as_ref());
    f.set("code_postal", m.postcode.as_ref());
    f.set("site_web", m.website.as_ref());
    f.set("description", m.description.as_ref());
    f.set("date_adhesion", m.joined_on.as_ref());
    f.set("date_sortie", m.left_on.as_ref());
    f.set("statut", Some(&m.status));
    render(&member_page(nav, id, m.name, f), true)
}

/// Reads a member from its form; problems go to `f.errors`.
fn member_input(f: &mut Fields, invented: bool) -> MemberInput {
    let mut errors = Vec::new();
    let input = MemberInput {
        name: f.value("nom").trim().to_owned(),
        kind: parse_vocab(
            "type",
            Some(f.value("type")),
            domain::MemberKind::Employer,
            domain::MemberKind::parse,
            &mut errors,
        ),
        siret: f.opt("siret"),
        uai: f.opt("uai"),
        code_insee: f.opt("code_insee"),
        address: f.opt("adresse"),
        postcode: f.opt("code_postal"),
        website: f.opt("site_web"),
        description: f.opt("description"),
        joined_on: parse_date("date_adhesion", &f.opt("date_adhesion"), &mut errors),
        left_on: parse_date("date_sortie", &f.opt("date_sortie"), &mut errors),
        status: parse_vocab(
            "statut",
            Some(f.value("statut")),
            domain::PublicationStatus::Draft,
            domain::PublicationStatus::parse,
            &mut errors,
        ),
        invented,
    };
    f.errors.extend(errors);
    input
}

/// Shows the form again with its problems (422), or passes other errors on.
fn refused<T: Template>(
    page: impl FnOnce(Vec<FieldError>) -> T,
    e: AppError,
) -> Result<Response, WebError> {
    match e {
        AppError::Invalid(errors) => {
            let mut res = render(&page(errors), true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        e => Err(e.into()),
    }
}

async fn member_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let current = app.member_for_edit(&actor, id).await?;
    let mut f = Fields::from_pairs(pairs);
    let input = member_input(&mut f, current.invented);
    let result = if f.errors.is_empty() {
        app.update_member(&actor, id, &input).await.map(|_| ())
    } else {
        // Typing problems first; the domain rules add theirs.
        let mut errors = std::mem::take(&mut f.errors);
        errors.extend(input.validate().err().unwrap_or_default());
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/membres/{id}")).into_response()),
        Err(e) => refused(
            |errors| {
                f.errors = errors;
                member_page(nav, id, current.name, f)
            },
            e,
        ),
    }
}

#[derive(Template)]
#[template(path = "formation_form.html")]
struct FormationFormPage {
    nav: Nav,
    id: i64,
    title: String,
    provider: String,
    f: Fields,
    pathways: Vec<Choice>,
    modalities: Vec<Choice>,
    statuses: Vec<Choice>,
}

impl FormationFormPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.f.error(name)
    }
    fn value(&self, name: &str) -> &str {
        self.f.value(name)
    }
}

fn formation_page(
    nav: Nav,
    id: i64,
    title: String,
    provider: String,
    f: Fields,
) -> FormationFormPage {
    FormationFormPage {
        nav,
        id,
        title,
        provider,
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
        statuses: choices(
            domain::PublicationStatus::ALL,
            domain::PublicationStatus::code,
            domain::PublicationStatus::label,
        ),
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
    let result = if f.errors.is_empty() {
        app.update_formation(&actor, id, &input).await.map(|_| ())
    } else {
        let mut errors = std::mem::take(&mut f.errors);
        errors.extend(input.validate().err().unwrap_or_default());
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/formations/{id}")).into_response()),
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

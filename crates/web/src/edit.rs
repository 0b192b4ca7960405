//! Editing in the browser: member organisations and formations. Forms are
//! validated on the server by the same rules as imports and the API; every
//! problem is shown next to its field, and the form keeps what was typed.

use std::collections::HashMap;

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

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
        .get("/campus/{slug}/modifier", campus_form)
        .post("/campus/{slug}/modifier", campus_save)
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

/// The field names of one contact row of a member form.
struct ContactNames {
    number: usize,
    name: String,
    role: String,
    email: String,
    phone: String,
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

/// Contact rows a member form offers at most.
const MAX_CONTACTS: usize = 10;

/// The contact rows of a submitted member form.
fn contact_rows(f: &Fields) -> Vec<app::write::ContactForm> {
    (0..MAX_CONTACTS)
        .map(|i| app::write::ContactForm {
            name: f.value(&format!("contact_nom_{i}")).to_owned(),
            role: f.value(&format!("contact_role_{i}")).to_owned(),
            email: f.value(&format!("contact_email_{i}")).to_owned(),
            phone: f.value(&format!("contact_tel_{i}")).to_owned(),
        })
        .collect()
}

/// How many rows of a repeated group (`{field}_N`) a form uses: up to the
/// last one with a value or an error, so that one empty row follows them.
fn rows_in_use(f: &Fields, field: &str, max: usize) -> usize {
    (0..max)
        .filter(|i| {
            let name = format!("{field}_{i}");
            !f.value(&name).is_empty() || f.error(&name).is_some()
        })
        .max()
        .map_or(0, |i| i + 1)
}

/// The publication statuses, for a `<select>`.
fn publication_statuses() -> Vec<Choice> {
    choices(
        domain::PublicationStatus::ALL,
        domain::PublicationStatus::code,
        domain::PublicationStatus::label,
    )
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
    /// The contact rows shown (the existing ones and one empty).
    contact_rows: Vec<ContactNames>,
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
    let filled = rows_in_use(&f, "contact_nom", MAX_CONTACTS);
    MemberFormPage {
        nav,
        id,
        name,
        contact_rows: (0..(filled + 1).min(MAX_CONTACTS))
            .map(|i| ContactNames {
                number: i + 1,
                name: format!("contact_nom_{i}"),
                role: format!("contact_role_{i}"),
                email: format!("contact_email_{i}"),
                phone: format!("contact_tel_{i}"),
            })
            .collect(),
        f,
        kinds: choices(
            domain::MemberKind::ALL,
            domain::MemberKind::code,
            domain::MemberKind::label,
        ),
        statuses: publication_statuses(),
    }
}

async fn member_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let form = app.member_for_edit(&actor, id).await?;
    let m = form.member;
    let mut f = Fields::default();
    for (i, c) in form.contacts.iter().enumerate().take(MAX_CONTACTS) {
        f.set(&format!("contact_nom_{i}"), Some(&c.name));
        f.set(&format!("contact_role_{i}"), c.role.as_ref());
        f.set(&format!("contact_email_{i}"), c.email.as_ref());
        f.set(&format!("contact_tel_{i}"), c.phone.as_ref());
    }
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
    let current = app.member_for_edit(&actor, id).await?.member;
    let mut f = Fields::from_pairs(pairs);
    let input = member_input(&mut f, current.invented);
    // A form without contact fields (a program posting the fields it
    // knows) leaves the contacts as they are; the page always sends them.
    let contacts = f
        .values
        .keys()
        .any(|k| k.starts_with("contact_"))
        .then(|| contact_rows(&f));
    let result = if f.errors.is_empty() {
        app.update_member(&actor, id, &input, contacts.as_deref())
            .await
            .map(|_| ())
    } else {
        // Typing problems first; the domain rules add theirs.
        let mut errors = std::mem::take(&mut f.errors);
        errors.extend(input.validate().err().unwrap_or_default());
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(crate::redirect::see_other(&format!("/membres/{id}"))),
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
    /// The session rows shown (the existing ones and one empty).
    session_rows: Vec<SessionNames>,
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

/// A `<select>` choice with an owned code (member ids).
struct OwnedChoice {
    code: String,
    label: String,
}

#[derive(Template)]
#[template(path = "campus_form.html")]
struct CampusFormPage {
    nav: Nav,
    slug: String,
    name: String,
    f: Fields,
    sectors: Vec<Choice>,
    members: Vec<OwnedChoice>,
}

impl CampusFormPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.f.error(name)
    }
    fn value(&self, name: &str) -> &str {
        self.f.value(name)
    }
}

async fn campus_page(
    app: &App,
    actor: &app::Actor,
    nav: Nav,
    slug: &str,
    f: Option<Fields>,
) -> Result<CampusFormPage, WebError> {
    let (campus, territories, members) = app.campus_for_edit(actor, slug).await?;
    let f = match f {
        Some(f) => f,
        None => {
            let mut f = Fields::default();
            f.set("nom", Some(&campus.name));
            f.set("filiere", Some(&campus.sector));
            f.set("theme", campus.theme.as_ref());
            f.set("description", campus.description.as_ref());
            f.set("label_debut", campus.label_start.as_ref());
            f.set("label_fin", campus.label_end.as_ref());
            f.set("fuseau", Some(&campus.time_zone));
            f.set("site_web", campus.website.as_ref());
            f.set("support", campus.support_member_id);
            f.set(
                "perimetre",
                Some(
                    territories
                        .iter()
                        .map(|(k, c, _)| format!("{k}:{c}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            );
            f
        }
    };
    let mut member_choices = vec![OwnedChoice {
        code: String::new(),
        label: "— aucun —".into(),
    }];
    member_choices.extend(members.into_iter().map(|m| OwnedChoice {
        code: m.id.to_string(),
        label: m.name,
    }));
    Ok(CampusFormPage {
        nav,
        slug: campus.slug,
        name: campus.name,
        f,
        sectors: choices(
            domain::Sector::ALL,
            domain::Sector::code,
            domain::Sector::label,
        ),
        members: member_choices,
    })
}

async fn campus_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    render(&campus_page(&app, &actor, nav, &slug, None).await?, true)
}

async fn campus_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let mut f = Fields::from_pairs(pairs);
    let form = app::write::CampusForm {
        name: f.value("nom").into(),
        sector: f.value("filiere").into(),
        theme: f.value("theme").into(),
        description: f.value("description").into(),
        label_start: f.value("label_debut").into(),
        label_end: f.value("label_fin").into(),
        time_zone: f.value("fuseau").into(),
        website: f.value("site_web").into(),
        support_member: f.value("support").into(),
        territories: f.value("perimetre").into(),
    };
    match app.update_campus(&actor, &slug, &form).await {
        Ok(()) => Ok(crate::redirect::see_other(&format!("/campus/{slug}"))),
        Err(AppError::Invalid(errors)) => {
            f.errors = errors;
            let mut res = render(&campus_page(&app, &actor, nav, &slug, Some(f)).await?, true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

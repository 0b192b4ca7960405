//! Editing the network in the browser: a member organisation (with its
//! contacts) and a campus. Forms are validated on the server by the same
//! rules as imports and the API; every problem is shown next to its field,
//! and the form keeps what was typed.

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use domain::network::MemberInput;

use app::{App, AppError};

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::forms::{
    choices, parse_date, parse_vocab, publication_statuses, refused, rows_in_use, Choice, Fields,
    FormPage, OwnedChoice,
};
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/membres/{id}/modifier", member_form)
        .post("/membres/{id}/modifier", member_save)
        .get("/campus/{slug}/modifier", campus_form)
        .post("/campus/{slug}/modifier", campus_save)
}

/// The field names of one contact row of a member form.
struct ContactNames {
    number: usize,
    name: String,
    role: String,
    email: String,
    phone: String,
}

/// Contact rows a member form offers at most.
const MAX_CONTACTS: usize = 10;

/// The contact rows of a submitted member form.
fn contact_rows(f: &Fields) -> Vec<app::network::ContactForm> {
    (0..MAX_CONTACTS)
        .map(|i| app::network::ContactForm {
            name: f.value(&format!("contact_nom_{i}")).to_owned(),
            role: f.value(&format!("contact_role_{i}")).to_owned(),
            email: f.value(&format!("contact_email_{i}")).to_owned(),
            phone: f.value(&format!("contact_tel_{i}")).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "network/member_form.html")]
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

impl FormPage for MemberFormPage {
    fn fields(&self) -> &Fields {
        &self.f
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
#[template(path = "network/campus_form.html")]
struct CampusFormPage {
    nav: Nav,
    slug: String,
    name: String,
    f: Fields,
    sectors: Vec<Choice>,
    members: Vec<OwnedChoice>,
}

impl FormPage for CampusFormPage {
    fn fields(&self) -> &Fields {
        &self.f
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
    let form = app::network::CampusForm {
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

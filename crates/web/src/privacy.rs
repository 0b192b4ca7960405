//! Personal data pages: learners' registration, « Mes données » (see,
//! download as JSON or CSV, rectify, erase), the register of requests for
//! network admins, and the legal pages.

use crate::extract::Form;
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use app::privacy::{ProfileInput, Registration, LEARNER_STATUSES};
use app::{App, AppError};

use crate::auth::{clear_cookie_header, Client, Nav, RequestActor};
use crate::error::WebError;
use crate::forms::{Fields, FormPage, OwnedChoice};
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/inscription", register_page)
        .post("/inscription", register)
        .get("/compte/donnees", my_data_page)
        .get("/compte/donnees.json", my_data_json)
        .get("/compte/donnees.csv", my_data_csv)
        .get("/compte/profil", profile_page)
        .post("/compte/profil", profile_save)
        .post("/compte/supprimer", erase)
        .get("/registre-rgpd", register_of_requests)
        .get("/confidentialite", privacy_notice)
        .get("/mentions-legales", legal_notice)
        .get("/accessibilite", accessibility)
        .get("/admin/pages/{slug}", legal_form)
        .post("/admin/pages/{slug}", legal_save)
}

fn statuses() -> Vec<OwnedChoice> {
    LEARNER_STATUSES
        .iter()
        .map(|(c, l)| OwnedChoice {
            code: (*c).to_owned(),
            label: (*l).to_owned(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "privacy/sign_up.html")]
struct RegisterPage {
    nav: Nav,
    f: Fields,
    campuses: Vec<OwnedChoice>,
    statuses: Vec<OwnedChoice>,
}

impl FormPage for RegisterPage {
    fn fields(&self) -> &Fields {
        &self.f
    }
}

async fn register_form(app: &App, nav: Nav, f: Fields) -> Result<RegisterPage, WebError> {
    let campuses = app
        .campuses()
        .await?
        .into_iter()
        .map(|c| OwnedChoice {
            code: c.slug,
            label: c.name,
        })
        .collect();
    Ok(RegisterPage {
        nav,
        f,
        campuses,
        statuses: statuses(),
    })
}

async fn register_page(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    render(&register_form(&app, nav, Fields::default()).await?, true)
}

async fn register(
    State(app): State<App>,
    nav: Nav,
    Client(client): Client,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = Fields {
        values: pairs.into_iter().collect(),
        errors: Vec::new(),
    };
    let r = Registration {
        email: f.value("email").into(),
        display_name: f.value("nom").into(),
        password: f.value("mot_de_passe").into(),
        campus_slug: f.value("campus").into(),
        status: f.value("statut").into(),
        birth_date: f.value("date_naissance").into(),
        code_insee: f.value("code_insee").into(),
        consent: f.checked("consentement"),
        parent_name: f.value("parent_nom").into(),
        parent_email: f.value("parent_email").into(),
        parent_consent: f.checked("parent_consentement"),
    };
    match app.register_learner(&r, &client).await {
        Ok(_) => Ok(crate::redirect::see_other("/connexion?inscrit=1")),
        Err(AppError::Invalid(errors)) => {
            let mut f = f;
            // Never sent back.
            f.values.remove("mot_de_passe");
            f.errors = errors;
            let mut res = render(&register_form(&app, nav, f).await?, true)?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "privacy/personal_data.html")]
struct MyDataPage {
    nav: Nav,
    rows: Vec<(String, String)>,
    error: Option<String>,
}

fn flatten(data: &serde_json::Value) -> Vec<(String, String)> {
    let csv = app::privacy::data_as_csv(data);
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(csv.as_bytes());
    r.records()
        .filter_map(Result::ok)
        .map(|rec| (rec[0].to_owned(), rec[1].to_owned()))
        .collect()
}

async fn my_data_page(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    if actor.is_visitor() {
        return Ok(crate::redirect::see_other(
            "/connexion?suivant=%2Fcompte%2Fdonnees",
        ));
    }
    let data = app.my_data(&actor).await?;
    render(
        &MyDataPage {
            nav,
            rows: flatten(&data),
            error: None,
        },
        true,
    )
}

fn download(body: String, content_type: &'static str, name: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn my_data_json(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    let data = app.my_data(&actor).await?;
    Ok(download(
        serde_json::to_string_pretty(&data).unwrap_or_default(),
        "application/json; charset=utf-8",
        "attachment; filename=\"mes-donnees-passerelle.json\"",
    ))
}

async fn my_data_csv(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    let data = app.my_data(&actor).await?;
    Ok(download(
        app::privacy::data_as_csv(&data),
        "text/csv; charset=utf-8",
        "attachment; filename=\"mes-donnees-passerelle.csv\"",
    ))
}

#[derive(Template)]
#[template(path = "privacy/profile.html")]
struct ProfilePage {
    nav: Nav,
    learner: bool,
    f: Fields,
    statuses: Vec<OwnedChoice>,
}

impl FormPage for ProfilePage {
    fn fields(&self) -> &Fields {
        &self.f
    }
}

async fn profile_page(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    let Some(p) = actor.principal.clone() else {
        return Ok(crate::redirect::see_other(
            "/connexion?suivant=%2Fcompte%2Fprofil",
        ));
    };
    let profile = app.my_profile(&actor).await?;
    let mut f = Fields::default();
    f.values.insert("nom".into(), p.display_name.clone());
    if let Some(x) = &profile {
        f.values.insert("statut".into(), x.status.clone());
        f.values.insert(
            "niveau".into(),
            x.level.map(|l| l.to_string()).unwrap_or_default(),
        );
        f.values.insert(
            "code_insee".into(),
            x.code_insee.clone().unwrap_or_default(),
        );
        f.values
            .insert("interets".into(), x.interests.clone().unwrap_or_default());
    }
    render(
        &ProfilePage {
            nav,
            learner: profile.is_some(),
            f,
            statuses: statuses(),
        },
        true,
    )
}

async fn profile_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let mut f = Fields {
        values: pairs.into_iter().collect(),
        errors: Vec::new(),
    };
    let input = ProfileInput {
        display_name: f.value("nom").into(),
        status: f.value("statut").into(),
        level: f.value("niveau").into(),
        code_insee: f.value("code_insee").into(),
        interests: f.value("interets").into(),
    };
    match app.update_profile(&actor, &input).await {
        Ok(()) => Ok(crate::redirect::see_other("/compte")),
        Err(AppError::Invalid(errors)) => {
            let learner = app.my_profile(&actor).await?.is_some();
            f.errors = errors;
            let mut res = render(
                &ProfilePage {
                    nav,
                    learner,
                    f,
                    statuses: statuses(),
                },
                true,
            )?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct EraseForm {
    mot_de_passe: String,
}

async fn erase(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Form(f): Form<EraseForm>,
) -> Result<Response, WebError> {
    match app.erase_my_account(&actor, &f.mot_de_passe).await {
        Ok(()) => {
            let mut res = crate::redirect::see_other("/?compte=supprime");
            res.headers_mut()
                .insert(header::SET_COOKIE, clear_cookie_header());
            Ok(res)
        }
        Err(AppError::Invalid(errors)) => {
            let data = app.my_data(&actor).await?;
            let mut res = render(
                &MyDataPage {
                    nav,
                    rows: flatten(&data),
                    error: errors.first().map(|e| e.message.clone()),
                },
                true,
            )?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "privacy/register.html")]
struct RegisterOfRequestsPage {
    nav: Nav,
    requests: Vec<app::rows::PrivacyRequestRow>,
}

async fn register_of_requests(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    let requests = app.privacy_register(&actor).await?;
    render(&RegisterOfRequestsPage { nav, requests }, true)
}

#[derive(Template)]
#[template(path = "privacy/privacy_notice.html")]
struct PrivacyNotice {
    nav: Nav,
    audit_days: i64,
    learner_years: i64,
}

/// A legal page as rewritten by the network admin.
#[derive(Template)]
#[template(path = "privacy/legal_edited.html")]
struct EditedLegalPage {
    nav: Nav,
    title: String,
    blocks: Vec<app::privacy::Block>,
}

/// The edited version of a legal page, if there is one.
async fn edited(app: &App, nav: &Nav, slug: &str) -> Result<Option<Response>, WebError> {
    let Some(blocks) = app.legal_page(slug).await? else {
        return Ok(None);
    };
    let title = app::privacy::LEGAL_PAGES
        .iter()
        .find(|(s, _)| *s == slug)
        .map_or(slug, |(_, t)| t)
        .to_owned();
    Ok(Some(render(
        &EditedLegalPage {
            nav: nav.clone(),
            title,
            blocks,
        },
        false,
    )?))
}

async fn privacy_notice(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    if let Some(res) = edited(&app, &nav, "confidentialite").await? {
        return Ok(res);
    }
    let r = app.config.retention;
    render(
        &PrivacyNotice {
            nav,
            audit_days: r.audit_personal.num_days(),
            learner_years: r.inactive_learner.num_days() / 365,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "privacy/legal_notice.html")]
struct LegalNotice {
    nav: Nav,
}

async fn legal_notice(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    if let Some(res) = edited(&app, &nav, "mentions-legales").await? {
        return Ok(res);
    }
    render(&LegalNotice { nav }, false)
}

#[derive(Template)]
#[template(path = "privacy/accessibility.html")]
struct AccessibilityStatement {
    nav: Nav,
}

async fn accessibility(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    if let Some(res) = edited(&app, &nav, "accessibilite").await? {
        return Ok(res);
    }
    render(&AccessibilityStatement { nav }, false)
}

#[derive(Template)]
#[template(path = "privacy/legal_form.html")]
struct LegalFormPage {
    nav: Nav,
    slug: String,
    title: String,
    text: String,
    error: Option<String>,
}

async fn legal_form(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    crate::extract::Path(slug): crate::extract::Path<String>,
) -> Result<Response, WebError> {
    let text = app
        .legal_page_text(&actor, &slug)
        .await?
        .unwrap_or_default();
    let title = app::privacy::LEGAL_PAGES
        .iter()
        .find(|(s, _)| *s == slug)
        .map_or("", |(_, t)| t)
        .to_owned();
    render(
        &LegalFormPage {
            nav,
            slug,
            title,
            text,
            error: None,
        },
        true,
    )
}

#[derive(Deserialize)]
struct LegalForm {
    texte: String,
}

async fn legal_save(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    crate::extract::Path(slug): crate::extract::Path<String>,
    Form(f): Form<LegalForm>,
) -> Result<Response, WebError> {
    match app.set_legal_page(&actor, &slug, &f.texte).await {
        Ok(()) => Ok(crate::redirect::see_other(&format!("/{slug}"))),
        Err(AppError::Invalid(errors)) => {
            let title = app::privacy::LEGAL_PAGES
                .iter()
                .find(|(s, _)| *s == slug)
                .map_or("", |(_, t)| t)
                .to_owned();
            let mut res = render(
                &LegalFormPage {
                    nav,
                    slug,
                    title,
                    text: f.texte,
                    error: errors.first().map(|e| e.message.clone()),
                },
                true,
            )?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

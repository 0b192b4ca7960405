//! Pages behind mailed links: forgotten password and reset, invitations of
//! member editors, and requests of organisations to join a campus.

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use app::rows::JoinRequestInput;
use app::{App, AppError};
use domain::network::FieldError;

use crate::auth::{Client, Nav, RequestActor};
use crate::error::WebError;
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/mot-de-passe-oublie", forgot_page)
        .post("/mot-de-passe-oublie", forgot)
        .get("/reinitialisation", reset_page)
        .post("/reinitialisation", reset)
        .get("/invitation", invitation_page)
        .post("/invitation", accept)
        .post("/membres/{id}/inviter", invite)
        .get("/campus/{slug}/rejoindre", join_page)
        .post("/campus/{slug}/rejoindre", join)
        .get("/campus/{slug}/demandes", requests_page)
        .post("/campus/{slug}/demandes/{id}", decide)
}

/// One message and the problems of a small form.
#[derive(Template)]
#[template(path = "simple_form.html")]
struct SimplePage {
    nav: Nav,
    title: String,
    intro: String,
    action: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
    button: String,
    done: Option<String>,
    errors: Vec<FieldError>,
}

/// A field of a small form.
struct Field {
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    autocomplete: &'static str,
}

impl SimplePage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }
}

fn field(
    name: &str,
    label: &str,
    kind: &'static str,
    value: &str,
    autocomplete: &'static str,
) -> Field {
    Field {
        name: name.into(),
        label: label.into(),
        kind,
        value: value.into(),
        autocomplete,
    }
}

/// Renders a small form, with 422 when it has problems.
fn page(p: SimplePage) -> Result<Response, WebError> {
    let invalid = !p.errors.is_empty();
    let mut res = render(&p, true)?;
    if invalid {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

fn forgot_form(nav: Nav, email: &str, done: Option<String>, errors: Vec<FieldError>) -> SimplePage {
    SimplePage {
        nav,
        title: "Mot de passe oublié".into(),
        intro: "Indiquez l'adresse e-mail de votre compte : vous recevrez un lien, valable une heure, pour choisir un nouveau mot de passe.".into(),
        action: "/mot-de-passe-oublie".into(),
        hidden: Vec::new(),
        fields: vec![field("email", "Adresse e-mail", "email", email, "username")],
        button: "Recevoir le lien".into(),
        done,
        errors,
    }
}

async fn forgot_page(nav: Nav) -> Result<Response, WebError> {
    page(forgot_form(nav, "", None, Vec::new()))
}

#[derive(Deserialize)]
struct EmailForm {
    email: String,
}

async fn forgot(
    State(app): State<App>,
    nav: Nav,
    Client(client): Client,
    Form(f): Form<EmailForm>,
) -> Result<Response, WebError> {
    match app.request_password_reset(&f.email, &client).await {
        // The same answer whether or not the address has an account.
        Ok(()) => page(forgot_form(
            nav,
            "",
            Some("Si un compte utilise cette adresse, un lien vient de lui être envoyé. Pensez à regarder dans les indésirables.".into()),
            Vec::new(),
        )),
        Err(AppError::TooManyRequests) => {
            let mut res = page(forgot_form(
                nav,
                &f.email,
                None,
                vec![FieldError::new("email", "trop de demandes : réessayez dans une heure")],
            ))?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    jeton: Option<String>,
}

fn reset_form(nav: Nav, token: &str, errors: Vec<FieldError>) -> SimplePage {
    SimplePage {
        nav,
        title: "Nouveau mot de passe".into(),
        intro: "Choisissez un nouveau mot de passe d'au moins 12 caractères. Toutes vos sessions ouvertes seront fermées.".into(),
        action: "/reinitialisation".into(),
        hidden: vec![("jeton".into(), token.into())],
        fields: vec![field("mot_de_passe", "Nouveau mot de passe", "password", "", "new-password")],
        button: "Enregistrer".into(),
        done: None,
        errors,
    }
}

async fn reset_page(nav: Nav, Query(q): Query<TokenQuery>) -> Result<Response, WebError> {
    page(reset_form(
        nav,
        q.jeton.as_deref().unwrap_or(""),
        Vec::new(),
    ))
}

#[derive(Deserialize)]
struct ResetForm {
    jeton: String,
    mot_de_passe: String,
}

async fn reset(
    State(app): State<App>,
    nav: Nav,
    Form(f): Form<ResetForm>,
) -> Result<Response, WebError> {
    match app.reset_password(&f.jeton, &f.mot_de_passe).await {
        Ok(()) => Ok(crate::redirect::see_other("/connexion?reinitialise=1")),
        Err(AppError::Invalid(errors)) => page(reset_form(nav, &f.jeton, errors)),
        Err(e) => Err(e.into()),
    }
}

fn invitation_form(
    nav: Nav,
    token: &str,
    v: &app::mail::InvitationView,
    errors: Vec<FieldError>,
) -> SimplePage {
    let intro = format!(
        "Vous êtes invité·e à tenir à jour la fiche de « {} » sur le {}, avec l'adresse {}.",
        v.member_name, v.campus_name, v.email
    );
    let (intro, fields) = if v.account_exists {
        (
            format!("{intro} Un compte utilise déjà cette adresse : connectez-vous avec lui, puis revenez sur ce lien pour accepter."),
            Vec::new(),
        )
    } else {
        (
            format!("{intro} Choisissez votre nom et un mot de passe pour créer votre compte."),
            vec![
                field("nom", "Nom", "text", "", "name"),
                field(
                    "mot_de_passe",
                    "Mot de passe (12 caractères au moins)",
                    "password",
                    "",
                    "new-password",
                ),
            ],
        )
    };
    SimplePage {
        nav,
        title: "Invitation".into(),
        intro,
        action: "/invitation".into(),
        hidden: vec![("jeton".into(), token.into())],
        fields,
        button: "Accepter l'invitation".into(),
        done: None,
        errors,
    }
}

async fn invitation_page(
    State(app): State<App>,
    nav: Nav,
    Query(q): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let token = q.jeton.unwrap_or_default();
    let v = app.invitation(&token).await?;
    page(invitation_form(nav, &token, &v, Vec::new()))
}

#[derive(Deserialize)]
struct AcceptForm {
    jeton: String,
    nom: Option<String>,
    mot_de_passe: Option<String>,
}

async fn accept(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Form(f): Form<AcceptForm>,
) -> Result<Response, WebError> {
    let v = app.invitation(&f.jeton).await?;
    match app
        .accept_invitation(
            &f.jeton,
            &actor,
            f.nom.as_deref().unwrap_or(""),
            f.mot_de_passe.as_deref().unwrap_or(""),
        )
        .await
    {
        Ok(_) if actor.is_visitor() => Ok(crate::redirect::see_other("/connexion?invitation=1")),
        Ok(_) => Ok(crate::redirect::see_other("/compte")),
        Err(AppError::Invalid(errors)) => page(invitation_form(nav, &f.jeton, &v, errors)),
        Err(e) => Err(e.into()),
    }
}

async fn invite(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
    Form(f): Form<EmailForm>,
) -> Result<Response, WebError> {
    app.invite_editor(&actor, id, &f.email).await?;
    Ok(crate::redirect::see_other(&format!(
        "/membres/{id}?invitation=envoyee"
    )))
}

fn join_form(
    nav: Nav,
    slug: &str,
    campus: &str,
    values: &JoinRequestInput,
    done: Option<String>,
    errors: Vec<FieldError>,
) -> SimplePage {
    SimplePage {
        nav,
        title: format!("Rejoindre le {campus}"),
        intro: "Votre organisation (établissement, organisme de formation, employeur…) souhaite devenir membre du campus : \
                décrivez-la. L'équipe du campus étudie la demande ; si elle l'accepte, la personne de contact reçoit une \
                invitation à tenir la fiche à jour. Type : lycee, universite, cfa, organisme-formation, employeur, \
                etablissement-sante, etablissement-medico-social, service-public-emploi, mission-locale, collectivite, \
                laboratoire, branche-professionnelle."
            .into(),
        action: format!("/campus/{slug}/rejoindre"),
        hidden: Vec::new(),
        fields: vec![
            field("nom", "Nom de l'organisation", "text", &values.name, "organization"),
            field("type", "Type d'organisation", "text", &values.kind, "off"),
            field("siret", "SIRET", "text", values.siret.as_deref().unwrap_or(""), "off"),
            field("uai", "UAI (établissements scolaires)", "text", values.uai.as_deref().unwrap_or(""), "off"),
            field("code_insee", "Code INSEE de la commune", "text", values.code_insee.as_deref().unwrap_or(""), "off"),
            field("contact_email", "E-mail de la personne de contact", "email", &values.contact_email, "email"),
            field("message", "Message à l'équipe du campus", "text", values.message.as_deref().unwrap_or(""), "off"),
        ],
        button: "Envoyer la demande".into(),
        done,
        errors,
    }
}

async fn join_page(
    State(app): State<App>,
    nav: Nav,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let campus = app.campus(&slug).await?;
    page(join_form(
        nav,
        &slug,
        &campus.name,
        &JoinRequestInput::default(),
        None,
        Vec::new(),
    ))
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[derive(Deserialize)]
struct JoinForm {
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    siret: Option<String>,
    uai: Option<String>,
    code_insee: Option<String>,
    contact_email: String,
    message: Option<String>,
}

async fn join(
    State(app): State<App>,
    nav: Nav,
    Client(client): Client,
    Path(slug): Path<String>,
    Form(f): Form<JoinForm>,
) -> Result<Response, WebError> {
    let campus = app.campus(&slug).await?;
    let input = JoinRequestInput {
        name: f.nom.trim().to_owned(),
        kind: f.kind.trim().to_owned(),
        siret: opt(&f.siret),
        uai: opt(&f.uai),
        code_insee: opt(&f.code_insee),
        contact_email: f.contact_email.trim().to_owned(),
        message: opt(&f.message),
    };
    match app.request_join(&slug, &input, &client).await {
        Ok(_) => page(join_form(
            nav,
            &slug,
            &campus.name,
            &JoinRequestInput::default(),
            Some("Demande envoyée : l'équipe du campus vous répondra par e-mail.".into()),
            Vec::new(),
        )),
        Err(AppError::Invalid(errors)) => {
            page(join_form(nav, &slug, &campus.name, &input, None, errors))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "mail/requests.html")]
struct RequestsPage {
    nav: Nav,
    slug: String,
    requests: Vec<app::rows::JoinRequestRow>,
}

async fn requests_page(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let requests = app.join_requests(&actor, &slug).await?;
    render(
        &RequestsPage {
            nav,
            slug,
            requests,
        },
        true,
    )
}

#[derive(Deserialize)]
struct DecisionForm {
    decision: String,
}

async fn decide(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path((slug, id)): Path<(String, i64)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, WebError> {
    app.decide_join(&actor, id, f.decision == "accepter")
        .await?;
    Ok(crate::redirect::see_other(&format!(
        "/campus/{slug}/demandes"
    )))
}

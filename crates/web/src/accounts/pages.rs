//! Sign-in, sign-out and the person's own account page (roles, sessions,
//! API tokens). Every state change is a POST checked by `auth::layer`.

use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;

use crate::extract::Form;
use crate::redirect::local_path;
use serde::Deserialize;

use app::accounts::Stage;
use app::{App, AppError};

use crate::auth::{clear_cookie_header, session_cookie_header, Client, Nav, RequestActor, Session};
use crate::error::WebError;
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/connexion", sign_in_page)
        .post("/connexion", sign_in)
        .get("/connexion/code", second_factor_page)
        .post("/connexion/code", second_factor)
        .get("/compte/double-authentification", totp_page)
        .post("/compte/double-authentification", totp_confirm)
        .post("/deconnexion", sign_out)
        .get("/compte", account)
        .post("/compte/sessions/terminer", end_session)
        .post("/compte/jetons", create_token)
        .post("/compte/jetons/{id}/revoquer", revoke_token)
}

#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
struct SignInPage {
    nav: Nav,
    email: String,
    next: String,
    error: Option<String>,
    /// The configuration waives the second factor (demonstration).
    totp_waived: bool,
}

/// The status and the one message a refused sign-in step shows (the same
/// whatever was wrong, so nothing tells which part).
fn refusal(e: &AppError) -> (StatusCode, String) {
    match e {
        AppError::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors
                .first()
                .map(|f| f.message.clone())
                .unwrap_or_default(),
        ),
        e => (StatusCode::TOO_MANY_REQUESTS, e.to_string()),
    }
}

#[derive(Deserialize)]
struct NextQuery {
    suivant: Option<String>,
}

async fn sign_in_page(
    State(app): State<App>,
    nav: Nav,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, WebError> {
    render(
        &SignInPage {
            nav,
            email: String::new(),
            next: local_path(q.suivant.as_deref()),
            error: None,
            totp_waived: !app.config.require_totp,
        },
        true,
    )
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    mot_de_passe: String,
    suivant: Option<String>,
}

async fn sign_in(
    State(app): State<App>,
    nav: Nav,
    Client(client): Client,
    Form(f): Form<SignInForm>,
) -> Result<Response, WebError> {
    let next = local_path(f.suivant.as_deref());
    match app.sign_in(&f.email, &f.mot_de_passe, &client).await {
        Ok(signed_in) => {
            let target = if signed_in.stage == Stage::Ok {
                next
            } else {
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                format!("/connexion/code?suivant={next}")
            };
            let mut res = crate::redirect::see_other(&target);
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie_header(&signed_in.cookie));
            Ok(res)
        }
        Err(e @ (AppError::Invalid(_) | AppError::TooManyRequests)) => {
            let (status, message) = refusal(&e);
            let mut res = render(
                &SignInPage {
                    nav,
                    email: f.email.trim().to_owned(),
                    next,
                    error: Some(message),
                    totp_waived: !app.config.require_totp,
                },
                true,
            )?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/code.html")]
struct SecondFactorPage {
    nav: Nav,
    email: String,
    /// While enrolling: the secret and its `otpauth://` address.
    setup: Option<(String, String)>,
    next: String,
    error: Option<String>,
}

/// The second step of signing in: the TOTP code (and first, for roles that
/// require it, enrolling an authenticator application).
async fn second_factor_page(
    State(app): State<App>,
    nav: Nav,
    Session(session): Session,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = local_path(q.suivant.as_deref());
    let Some(session) = session.filter(|s| s.stage != Stage::Ok) else {
        return Ok(crate::redirect::see_other("/connexion"));
    };
    let (email, setup) = app.second_factor_setup(&session).await?;
    render(
        &SecondFactorPage {
            nav,
            email,
            setup,
            next,
            error: None,
        },
        true,
    )
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
    suivant: Option<String>,
}

async fn second_factor(
    State(app): State<App>,
    nav: Nav,
    Client(client): Client,
    Session(session): Session,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    let next = local_path(f.suivant.as_deref());
    let Some(session) = session.filter(|s| s.stage != Stage::Ok) else {
        return Ok(crate::redirect::see_other("/connexion"));
    };
    match app.complete_second_factor(&session, &f.code, &client).await {
        Ok(signed_in) => {
            let mut res = crate::redirect::see_other(&next);
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie_header(&signed_in.cookie));
            Ok(res)
        }
        Err(e @ (AppError::Invalid(_) | AppError::TooManyRequests)) => {
            let (status, message) = refusal(&e);
            let (email, setup) = app.second_factor_setup(&session).await?;
            let mut res = render(
                &SecondFactorPage {
                    nav,
                    email,
                    setup,
                    next,
                    error: Some(message),
                },
                true,
            )?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "accounts/totp.html")]
struct TotpPage {
    nav: Nav,
    /// `None` when the second factor is already on.
    setup: Option<(String, String)>,
    error: Option<String>,
}

/// Optional enrolment from the account page.
async fn totp_page(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    if actor.is_visitor() {
        return Ok(sign_in_first("/compte/double-authentification"));
    }
    let setup = app.start_totp(&actor).await?;
    render(
        &TotpPage {
            nav,
            setup,
            error: None,
        },
        true,
    )
}

async fn totp_confirm(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Form(f): Form<CodeForm>,
) -> Result<Response, WebError> {
    if app.totp_enabled(&actor).await? {
        return Ok(crate::redirect::see_other("/compte"));
    }
    match app.confirm_totp(&actor, &f.code).await {
        Ok(()) => Ok(crate::redirect::see_other("/compte")),
        Err(AppError::Invalid(errors)) => {
            let setup = app.start_totp(&actor).await?;
            let mut res = render(
                &TotpPage {
                    nav,
                    setup,
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

async fn sign_out(State(app): State<App>, Session(session): Session) -> Result<Response, WebError> {
    if let Some(s) = &session {
        app.sign_out(s).await?;
    }
    let mut res = crate::redirect::see_other("/");
    res.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie_header());
    Ok(res)
}

/// A session as the account page lists it.
struct SessionItem {
    id: String,
    created_at: String,
    last_seen_at: String,
    ip_prefix: String,
    user_agent: String,
    current: bool,
}

/// A token as the account page lists it.
struct TokenItem {
    id: i64,
    name: String,
    can_write: bool,
    created_at: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    nav: Nav,
    totp: bool,
    /// Whether the person administers the network (links to its pages).
    admin: bool,
    name: String,
    email: String,
    grants: Vec<String>,
    sessions: Vec<SessionItem>,
    tokens: Vec<TokenItem>,
    new_token: Option<String>,
    token_error: Option<String>,
}

/// Builds the account page of the signed-in person.
async fn account_page(
    app: &App,
    nav: Nav,
    actor: &app::Actor,
    current: Option<&str>,
    new_token: Option<String>,
    token_error: Option<String>,
) -> Result<Response, WebError> {
    let principal = actor
        .principal
        .as_ref()
        .ok_or(WebError::page(AppError::Unauthorized))?;
    let campuses = app.campuses().await?;
    let grants = principal
        .grants
        .iter()
        .map(|g| {
            let campus = g
                .campus_id
                .and_then(|id| campuses.iter().find(|c| c.id == id))
                .map(|c| format!(" — campus {}", c.name))
                .unwrap_or_default();
            let member = g
                .member_id
                .map(|m| format!(" (membre n° {m})"))
                .unwrap_or_default();
            format!("{}{campus}{member}", g.role.label())
        })
        .collect();
    let sessions = app
        .my_sessions(actor)
        .await?
        .into_iter()
        .map(|s| SessionItem {
            current: current == Some(s.id_hash.as_str()),
            id: s.id_hash,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            ip_prefix: s.ip_prefix.unwrap_or_else(|| "inconnue".into()),
            user_agent: s.user_agent.unwrap_or_else(|| "inconnu".into()),
        })
        .collect();
    let tokens = app
        .my_tokens(actor)
        .await?
        .into_iter()
        .map(|t| TokenItem {
            id: t.id,
            name: t.name,
            can_write: t.can_write,
            created_at: t.created_at,
            last_used: t.last_used_at.unwrap_or_else(|| "jamais".into()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let totp = app.totp_enabled(actor).await?;
    let admin = app::policy::allows(actor, app::Action::Manage, app::Resource::Network);
    render(
        &AccountPage {
            nav,
            totp,
            admin,
            name: principal.display_name.clone(),
            email: principal.email.clone(),
            grants,
            sessions,
            tokens,
            new_token,
            token_error,
        },
        true,
    )
}

/// Sends visitors to the sign-in page, and back here afterwards.
fn sign_in_first(path: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    crate::redirect::see_other(&format!("/connexion?suivant={next}"))
}

async fn account(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Session(session): Session,
) -> Result<Response, WebError> {
    if actor.is_visitor() {
        return Ok(sign_in_first("/compte"));
    }
    let current = session.as_ref().map(|s| s.id_hash.clone());
    account_page(&app, nav, &actor, current.as_deref(), None, None).await
}

#[derive(Deserialize)]
struct EndSessionForm {
    session: String,
}

async fn end_session(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Form(f): Form<EndSessionForm>,
) -> Result<Response, WebError> {
    app.end_my_session(&actor, &f.session).await?;
    Ok(crate::redirect::see_other("/compte"))
}

#[derive(Deserialize)]
struct TokenForm {
    nom: String,
    ecriture: Option<String>,
}

async fn create_token(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Session(session): Session,
    Form(f): Form<TokenForm>,
) -> Result<Response, WebError> {
    let current = session.as_ref().map(|s| s.id_hash.clone());
    match app
        .create_token(&actor, &f.nom, f.ecriture.as_deref() == Some("oui"))
        .await
    {
        Ok((_, token)) => {
            account_page(&app, nav, &actor, current.as_deref(), Some(token), None).await
        }
        Err(AppError::Invalid(errors)) => {
            let message = errors.first().map(|e| e.message.clone());
            let mut res =
                account_page(&app, nav, &actor, current.as_deref(), None, message).await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke_token(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    if !app.revoke_my_token(&actor, id).await? {
        return Err(AppError::NotFound(format!("jeton {id}")).into());
    }
    Ok(crate::redirect::see_other("/compte"))
}

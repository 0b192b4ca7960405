//! Account management pages: the roles on a campus (its managers) and
//! every account (network admins).

use crate::extract::Form;
use crate::extract::Path;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use app::admin::AccountLine;
use app::{App, AppError};

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::pages::render;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/admin/comptes", all_accounts)
        .post("/admin/comptes/{id}/desactiver", disable)
        .post("/admin/comptes/{id}/reactiver", enable)
        .get("/campus/{slug}/comptes", campus_accounts)
        .post("/campus/{slug}/comptes", grant)
        .post("/roles/{id}/retirer", revoke)
}

#[derive(Template)]
#[template(path = "accounts/accounts.html")]
struct AccountsPage {
    nav: Nav,
    /// `None` for the whole network.
    slug: Option<String>,
    accounts: Vec<AccountLine>,
    error: Option<String>,
}

async fn all_accounts(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
) -> Result<Response, WebError> {
    let accounts = app.accounts(&actor, None).await?;
    render(
        &AccountsPage {
            nav,
            slug: None,
            accounts,
            error: None,
        },
        true,
    )
}

async fn set_disabled(
    app: &App,
    actor: &app::Actor,
    id: i64,
    disabled: bool,
) -> Result<Response, WebError> {
    app.set_account_disabled(actor, id, disabled).await?;
    Ok(crate::redirect::see_other("/admin/comptes"))
}

async fn disable(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    set_disabled(&app, &actor, id, true).await
}

async fn enable(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    set_disabled(&app, &actor, id, false).await
}

async fn campus_accounts(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let accounts = app.accounts(&actor, Some(&slug)).await?;
    render(
        &AccountsPage {
            nav,
            slug: Some(slug),
            accounts,
            error: None,
        },
        true,
    )
}

#[derive(Deserialize)]
struct GrantForm {
    email: String,
    role: String,
    membre: Option<String>,
}

async fn grant(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    Form(f): Form<GrantForm>,
) -> Result<Response, WebError> {
    let member = f.membre.as_deref().and_then(|m| m.trim().parse().ok());
    match app
        .grant_role(&actor, &slug, &f.email, &f.role, member)
        .await
    {
        Ok(()) => Ok(crate::redirect::see_other(&format!(
            "/campus/{slug}/comptes"
        ))),
        Err(AppError::Invalid(errors)) => {
            let accounts = app.accounts(&actor, Some(&slug)).await?;
            let message = errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join(" ; ");
            let mut res = render(
                &AccountsPage {
                    nav,
                    slug: Some(slug),
                    accounts,
                    error: Some(message),
                },
                true,
            )?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let back = match app.revoke_grant(&actor, id).await? {
        Some(slug) => format!("/campus/{slug}/comptes"),
        None => "/admin/comptes".to_owned(),
    };
    Ok(crate::redirect::see_other(&back))
}

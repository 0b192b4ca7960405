//! Turns application errors into responses: JSON `{ "error", "message" }`
//! for the API, a French page for people. Internal details go to the log.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use app::error::ErrorCode;
use app::AppError;

/// An error on its way to the client, for a page or for the API.
pub enum WebError {
    Page(AppError),
    Api(AppError),
    /// A request refused before any use case ran (a malformed path, a body
    /// too large or unreadable), with its HTTP status and stable code.
    Protocol {
        api: bool,
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl WebError {
    /// For pages.
    pub fn page(e: AppError) -> Self {
        WebError::Page(e)
    }

    /// For the API.
    pub fn api(e: AppError) -> Self {
        WebError::Api(e)
    }
}

fn status(e: &AppError) -> StatusCode {
    match e.code() {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: crate::auth::Nav,
    title: String,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (e, api) = match self {
            WebError::Page(e) => (e, false),
            WebError::Api(e) => (e, true),
            WebError::Protocol {
                api: true,
                status,
                code,
                message,
            } => {
                let body = serde_json::json!({ "error": code, "message": message });
                return (status, Json(body)).into_response();
            }
            WebError::Protocol {
                api: false,
                status,
                message,
                ..
            } => return error_page(status, "Requête refusée", message),
        };
        let status = status(&e);
        if e.is_internal() {
            tracing::error!(error = ?e, "request failed");
        }
        let message = match &e {
            AppError::NotFound(_) => "La page ou la ressource demandée n'existe pas.".to_owned(),
            AppError::Invalid(errs) => errs
                .iter()
                .map(|f| format!("{} : {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" ; "),
            e if e.is_internal() => "Une erreur est survenue. Elle a été enregistrée.".to_owned(),
            e => e.to_string(),
        };
        if api {
            let mut body = serde_json::json!({ "error": e.code().as_str(), "message": message });
            if let AppError::Invalid(errs) = &e {
                body["fields"] = serde_json::to_value(errs).unwrap_or_default();
            }
            (status, Json(body)).into_response()
        } else {
            let title = match status {
                StatusCode::NOT_FOUND => "Page introuvable",
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "Accès refusé",
                StatusCode::UNPROCESSABLE_ENTITY => "Données invalides",
                StatusCode::TOO_MANY_REQUESTS => "Trop de tentatives",
                _ => "Erreur",
            };
            error_page(status, title, message)
        }
    }
}

fn error_page(status: StatusCode, title: &str, message: String) -> Response {
    let page = ErrorPage {
        nav: crate::auth::Nav::default(),
        title: title.to_owned(),
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, "Erreur").into_response(),
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::Page(e)
    }
}

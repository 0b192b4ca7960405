//! Extractors whose refusals are answered like every other error: JSON
//! `{error, message}` on the API, a French page for people. axum's own
//! extractors answer a malformed path or form with English `text/plain`.

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::WebError;

/// Whether the request is for the API (nested routers see their URI
/// without the `/api/v1` prefix: the original one tells).
fn is_api(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |o| &o.0)
        .path()
        .starts_with("/api/")
}

/// A path parameter. A value of the wrong type (`/api/v1/members/abc`) is
/// a `400 bad_request` on the API and a « page introuvable » for people:
/// no such page can exist.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let api = is_api(parts);
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) if !api => Err(WebError::page(app::AppError::NotFound("adresse".into()))),
            Err(rejection) => Err(WebError::Protocol {
                api,
                status: StatusCode::BAD_REQUEST,
                code: "bad_request",
                message: format!(
                    "paramètre de l'adresse invalide : {}",
                    rejection.body_text()
                ),
            }),
        }
    }
}

/// A page form. A body that is not the expected form (a field missing or
/// of the wrong type, too large) gets a French page with the status axum
/// would have given.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let api = is_api(&parts);
        let req = Request::from_parts(parts, body);
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(body_refused(
                api,
                rejection.status(),
                &rejection.body_text(),
            )),
        }
    }
}

/// The answer to a request body that could not be read: too large (413),
/// of the wrong media type (415), or not the expected shape (422).
pub fn body_refused(api: bool, status: StatusCode, detail: &str) -> WebError {
    let (status, code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            status,
            "too_large",
            "le contenu envoyé dépasse la taille permise".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            status,
            "unsupported_media_type",
            "type de contenu non pris en charge (attendu : application/json ou formulaire)"
                .to_owned(),
        ),
        _ => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("contenu illisible : {detail}"),
        ),
    };
    WebError::Protocol {
        api,
        status,
        code,
        message,
    }
}

/// Largest body read by [`refuse_nul`]: the same as the extractors' limit
/// (axum's default), so that it refuses nothing they would accept.
const BODY_LIMIT: usize = 2 << 20;

/// Refuses, before anything else reads it, a request whose path, query or
/// body would carry a NUL character once decoded. SQLite stores NUL in text
/// while PostgreSQL refuses it with an error: refusing it here, the same
/// way on both backends, keeps them answering alike (fields of imported
/// files are checked by `ingest`). A body over the limit is a `413`.
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, body) = req.into_parts();
    let api = is_api(&parts);
    let nul = |status| {
        WebError::Protocol {
            api,
            status,
            code: "invalid",
            message: "le caractère nul (U+0000) n'est pas accepté dans le texte".to_owned(),
        }
        .into_response()
    };
    let in_url = |s: &str| s.contains('\0') || contains_ignore_case(s.as_bytes(), b"%00");
    if in_url(parts.uri.path()) {
        return nul(StatusCode::BAD_REQUEST);
    }
    if parts.uri.query().is_some_and(in_url) {
        return nul(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return body_refused(api, StatusCode::PAYLOAD_TOO_LARGE, "").into_response();
        }
    };
    let form = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let json_nul = || {
        contains_ignore_case(&bytes, b"\\u0000")
            && serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| has_nul(&v))
    };
    if bytes.contains(&0) || (form && contains_ignore_case(&bytes, b"%00")) || json_nul() {
        return nul(StatusCode::UNPROCESSABLE_ENTITY);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Whether a JSON value holds a NUL in one of its strings or keys.
fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(a) => a.iter().any(has_nul),
        serde_json::Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Whether `needle` (ASCII) occurs in `haystack`, ignoring ASCII case.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::contains_ignore_case;

    #[test]
    fn finds_escaped_nul_in_any_case() {
        assert!(contains_ignore_case(b"a=%00", b"%00"));
        assert!(contains_ignore_case(br#"{"n":"\u0000"}"#, b"\\u0000"));
        assert!(contains_ignore_case(br#"{"n":"\U0000"}"#, b"\\u0000"));
        assert!(!contains_ignore_case(b"a=%20", b"%00"));
    }
}

//! The HTTP face of Passerelle: server-rendered French pages and the JSON API
//! v1 with its OpenAPI document. This is the only crate that knows HTTP;
//! every decision about data is made in `app`.

mod api;
mod error;
mod pages;

use axum::http::{header, HeaderValue, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use api::ApiDoc;
pub use error::WebError;

/// Builds the router of the whole site.
pub fn router(app: app::App) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// Liveness: answers without touching the database, so that it measures the
/// server itself (benchmarks compare against it).
async fn healthz() -> &'static str {
    "ok"
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
        .into_response()
}

async fn not_found() -> Response {
    WebError::page(app::AppError::NotFound("page".into())).into_response()
}

/// Headers every response carries: no inline script is ever needed, so the
/// policy allows none.
async fn security_headers(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

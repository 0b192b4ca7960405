//! The HTTP face of Passerelle: server-rendered French pages and the JSON API
//! v1 with its OpenAPI document. This is the only crate that knows HTTP;
//! every decision about data is made in `app`.

mod accounts;
mod admin;
mod api;
pub mod auth;
mod catalogue;
mod error;
mod extract;
mod forms;
mod limit;
mod mail;
mod network;
mod observatory;
mod pages;
mod privacy;
mod redirect;
mod serve;
mod survey;

use axum::handler::Handler;
use axum::http::header;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use api::ApiDoc;
pub use error::WebError;
pub use serve::{serve, HEADER_READ_TIMEOUT, MAX_CONNECTIONS};

/// One route of the site: its method and path pattern (`{name}` for a path
/// parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Full path pattern, e.g. `/api/v1/members/{id}`.
    pub path: String,
}

/// A router that records what it routes, so that tests can enumerate every
/// route (the authorization matrix fails on a route it does not know).
pub(crate) struct Routes {
    router: Router<app::App>,
    prefix: &'static str,
    list: Vec<RouteInfo>,
}

impl Routes {
    fn new(prefix: &'static str) -> Self {
        Self {
            router: Router::new(),
            prefix,
            list: Vec::new(),
        }
    }

    fn record(&mut self, method: &'static str, path: &str) {
        self.list.push(RouteInfo {
            method,
            path: format!("{}{path}", self.prefix),
        });
    }

    /// Routes `GET path` to `handler`.
    pub(crate) fn get<H, T>(mut self, path: &str, handler: H) -> Self
    where
        H: Handler<T, app::App>,
        T: 'static,
    {
        self.record("GET", path);
        self.router = self.router.route(path, get(handler));
        self
    }

    /// Routes `POST path` to `handler`.
    pub(crate) fn post<H, T>(mut self, path: &str, handler: H) -> Self
    where
        H: Handler<T, app::App>,
        T: 'static,
    {
        self.record("POST", path);
        self.router = self.router.route(path, post(handler));
        self
    }
}

fn site_routes() -> Routes {
    let r = Routes::new("")
        .get("/healthz", healthz)
        .get("/static/style.css", stylesheet);
    let r = pages::routes(r);
    let r = catalogue::routes(network::routes(r));
    let r = accounts::routes(survey::routes(observatory::routes(r)));
    admin::routes(mail::routes(privacy::routes(r)))
}

fn api_routes() -> Routes {
    api::routes(Routes::new("/api/v1"))
}

/// Every route of the site, pages and API.
pub fn route_list() -> Vec<RouteInfo> {
    let mut list = site_routes().list;
    list.extend(api_routes().list);
    list
}

/// Builds the router of the whole site.
pub fn router(app: app::App) -> Router {
    let api = api_routes().router.fallback(api::api_not_found);
    site_routes()
        .router
        .nest("/api/v1", api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            auth::AuthState {
                limiter: limit::Limiter::new(app.config.api_rate),
                app: app.clone(),
            },
            auth::layer,
        ))
        .layer(middleware::from_fn(extract::refuse_nul))
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

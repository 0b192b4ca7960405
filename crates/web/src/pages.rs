//! Server-rendered pages, in French: what every area's pages share
//! (rendering, query parameters, pagination, labels) and the site's own
//! pages (home, reference data). Each handler asks `app` for a view and
//! renders a template; templates never query anything. The pages of a
//! feature area live in its module (`network::pages`, `catalogue::pages`…),
//! their templates in `templates/<area>/`.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use app::rows::{CampusRow, DatasetRow};
use app::{App, AppError};

use crate::auth::Nav;
use crate::error::WebError;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/", home).get("/donnees", datasets)
}

/// Renders a template, with `no-store` when it shows private data.
pub(crate) fn render(t: &impl Template, private: bool) -> Result<Response, WebError> {
    let html = t
        .render()
        .map_err(|e| WebError::page(AppError::Internal(e.to_string())))?;
    let mut res = Html(html).into_response();
    if private {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    Ok(res)
}

/// Query parameters, with repeated keys kept (facets).
pub struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<String>) -> Self {
        Params(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn one(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn page(&self) -> usize {
        self.one("page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .clamp(1, MAX_PAGE)
    }
}

/// Deepest page of results served.
pub(crate) const MAX_PAGE: usize = 500;

/// Label helpers shared by templates.
pub(crate) trait Labels {
    fn kind_label(&self, code: &str) -> &'static str {
        domain::MemberKind::parse(code).map_or("", |k| k.label())
    }
    fn pathway_label(&self, code: &str) -> &'static str {
        domain::Pathway::parse(code).map_or("", |k| k.label())
    }
    fn modality_label(&self, code: &str) -> &'static str {
        domain::Modality::parse(code).map_or("", |k| k.label())
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    campuses: Vec<CampusRow>,
}

async fn home(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    render(
        &HomePage {
            nav,
            campuses: app.campuses().await?,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "datasets.html")]
struct DatasetsPage {
    nav: Nav,
    datasets: Vec<DatasetRow>,
}

async fn datasets(State(app): State<App>, nav: Nav) -> Result<Response, WebError> {
    render(
        &DatasetsPage {
            nav,
            datasets: app.datasets().await?,
        },
        false,
    )
}

/// A link to page `n` of a listing, keeping the other parameters.
pub(crate) fn page_link(path: &str, base_query: &str, n: usize) -> String {
    if base_query.is_empty() {
        format!("{path}?page={n}")
    } else {
        format!("{path}?{base_query}&page={n}")
    }
}

/// The query string without `page`, to build pagination links.
pub(crate) fn base_query(p: &Params) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.0.iter().filter(|(k, _)| k != "page"))
        .finish()
}

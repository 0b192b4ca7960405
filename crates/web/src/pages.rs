//! Server-rendered pages, in French. Each handler asks `app` for a view and
//! renders a template; templates never query anything.

use crate::extract::Path;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use app::rows::{CampusRow, DatasetRow, FormationRow, MemberRow, OccupationRow};
use app::views::{
    CampusView, CatalogueQuery, CertificationView, FormationView, MemberQuery, MemberView,
    OccupationView, Page,
};
use app::{App, AppError};

use crate::auth::Nav;
pub use crate::auth::RequestActor;
use crate::error::WebError;
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/", home)
        .get("/campus/{slug}", campus)
        .get("/campus/{slug}/membres", campus_members)
        .get("/campus/{slug}/journal", campus_journal)
        .get("/membres", directory)
        .get("/membres/{id}", member)
        .get("/formations", formations)
        .get("/formations/{id}", formation)
        .get("/metiers", occupations)
        .get("/metiers/{code}", occupation)
        .get("/certifications/{code}", certification)
        .get("/donnees", datasets)
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
pub struct Params(Vec<(String, String)>);

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
trait Labels {
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
#[template(path = "campus.html")]
struct CampusPage {
    nav: Nav,
    v: CampusView,
    /// Whether the visitor manages this campus (links to its tools).
    manageable: bool,
    /// May read the observatory (managers, observers, network admins).
    observable: bool,
}

async fn campus(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let v = app.campus_view(&slug).await?;
    let manageable = app::policy::allows(
        &actor,
        app::Action::Manage,
        app::Resource::Campus(v.campus.id),
    );
    let observable = app::policy::allows(
        &actor,
        app::Action::ReadAggregate,
        app::Resource::Campus(v.campus.id),
    );
    render(
        &CampusPage {
            nav,
            v,
            manageable,
            observable,
        },
        manageable || observable,
    )
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    nav: Nav,
    campus: CampusRow,
    members: Vec<MemberRow>,
    map: Option<app::map::MapView>,
}
impl Labels for MembersPage {}

async fn campus_members(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let (campus, members, private) = app.campus_members(&actor, &slug).await?;
    let map = app.campus_map(&campus, &members).await.ok();
    render(
        &MembersPage {
            nav,
            campus,
            members,
            map,
        },
        private,
    )
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    nav: Nav,
    q: String,
    page: Page<MemberRow>,
    campuses: Vec<CampusRow>,
    base_query: String,
}
impl Labels for DirectoryPage {}

impl DirectoryPage {
    fn page_link(&self, n: usize) -> String {
        page_link("/membres", &self.base_query, n)
    }
}

/// A link to page `n` of a listing, keeping the other parameters.
fn page_link(path: &str, base_query: &str, n: usize) -> String {
    if base_query.is_empty() {
        format!("{path}?page={n}")
    } else {
        format!("{path}?{base_query}&page={n}")
    }
}

/// The query string without `page`, to build pagination links.
fn base_query(p: &Params) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.0.iter().filter(|(k, _)| k != "page"))
        .finish()
}

/// Reads a member search from the URL parameters.
pub fn member_query(p: &Params) -> MemberQuery {
    MemberQuery {
        q: p.one("q").unwrap_or_default(),
        page: p.page(),
        kind: p.all("type"),
        departement: p.all("departement"),
        campus: p.one("campus").filter(|c| !c.is_empty()),
    }
}

async fn directory(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let mq = member_query(&p);
    let page = app.search_members(&actor, &mq).await?;
    render(
        &DirectoryPage {
            nav,
            q: mq.q,
            page,
            campuses: app.campuses().await?,
            base_query: base_query(&p),
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "member.html")]
struct MemberPage {
    nav: Nav,
    v: MemberView,
}
impl Labels for MemberPage {}

async fn member(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let v = app.member_view(&actor, id).await?;
    let private = v.private;
    render(&MemberPage { nav, v }, private)
}

#[derive(Template)]
#[template(path = "formations.html")]
struct FormationsPage {
    nav: Nav,
    q: String,
    campus: Option<String>,
    page: Page<FormationRow>,
    /// Query string without `page`, to build pagination links.
    base_query: String,
}
impl Labels for FormationsPage {}

impl FormationsPage {
    fn page_link(&self, n: usize) -> String {
        page_link("/formations", &self.base_query, n)
    }
}

/// Reads a catalogue query from the URL parameters.
pub fn catalogue_query(p: &Params) -> CatalogueQuery {
    CatalogueQuery {
        q: p.one("q").unwrap_or_default(),
        page: p.page(),
        level: p.all("niveau"),
        pathway: p.all("voie"),
        modality: p.all("modalite"),
        departement: p.all("departement"),
        provider: p.all("organisme"),
        campus: p.one("campus").filter(|c| !c.is_empty()),
    }
}

async fn formations(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let cq = catalogue_query(&p);
    let page = app.search_formations(&actor, &cq).await?;
    let base_query = base_query(&p);
    render(
        &FormationsPage {
            nav,
            q: cq.q.clone(),
            campus: cq.campus.clone(),
            page,
            base_query,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "formation.html")]
struct FormationPage {
    nav: Nav,
    v: FormationView,
}

async fn formation(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let v = app.formation_view(&actor, id).await?;
    let private = v.private;
    render(&FormationPage { nav, v }, private)
}

#[derive(Template)]
#[template(path = "metiers.html")]
struct OccupationsPage {
    nav: Nav,
    q: String,
    q_enc: String,
    page: Page<OccupationRow>,
}

async fn occupations(
    State(app): State<App>,
    nav: Nav,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = Params::parse(raw);
    let q = p.one("q").unwrap_or_default();
    let page = app.search_occupations(&q, p.page()).await?;
    let q_enc = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    render(
        &OccupationsPage {
            nav,
            q,
            q_enc,
            page,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "metier.html")]
struct OccupationPage {
    nav: Nav,
    v: OccupationView,
}

async fn occupation(
    State(app): State<App>,
    nav: Nav,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    render(
        &OccupationPage {
            nav,
            v: app.occupation_view(&code).await?,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "certification.html")]
struct CertificationPage {
    nav: Nav,
    v: CertificationView,
}

async fn certification(
    State(app): State<App>,
    nav: Nav,
    Path(code): Path<i64>,
) -> Result<Response, WebError> {
    render(
        &CertificationPage {
            nav,
            v: app.certification_view(code).await?,
        },
        false,
    )
}

#[derive(Template)]
#[template(path = "donnees.html")]
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

#[derive(Template)]
#[template(path = "journal.html")]
struct JournalPage {
    nav: Nav,
    campus: CampusRow,
    entries: Vec<app::rows::AuditRow>,
}

/// The audit log of a campus, for its managers.
async fn campus_journal(
    State(app): State<App>,
    nav: Nav,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let entries = app.campus_audit(&actor, &slug).await?;
    let campus = app.campus(&slug).await?;
    render(
        &JournalPage {
            nav,
            campus,
            entries,
        },
        true,
    )
}

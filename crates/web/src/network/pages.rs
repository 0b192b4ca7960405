//! The network's pages: a campus, its members and its journal, the
//! directory of member organisations, one member.

use crate::extract::Path;
use app::listing::Page;
use app::network::{CampusView, MemberQuery, MemberView};
use app::rows::{CampusRow, MemberRow};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use app::App;

use crate::auth::{Nav, RequestActor};
use crate::error::WebError;
use crate::pages::{base_query, page_link, render, Labels, Params};
use crate::Routes;

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/campus/{slug}", campus)
        .get("/campus/{slug}/membres", campus_members)
        .get("/campus/{slug}/journal", campus_journal)
        .get("/membres", directory)
        .get("/membres/{id}", member)
}

#[derive(Template)]
#[template(path = "network/campus.html")]
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
#[template(path = "network/members.html")]
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
#[template(path = "network/directory.html")]
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

/// Reads a member search from the URL parameters.
pub(crate) fn member_query(p: &Params) -> MemberQuery {
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
#[template(path = "network/member.html")]
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
#[template(path = "network/journal.html")]
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

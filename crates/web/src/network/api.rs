//! The network in the JSON API: campuses and member organisations, and
//! writing a member.

use axum::response::Response;
use domain::network::MemberInput;

use app::rows::MemberRow;
use app::AppError;

use crate::api::{saved, write_body, ApiError, Saved};
use crate::error::WebError;
use crate::extract::Path;
use crate::forms::{parse_date, parse_vocab};
use crate::network::member_query;
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use app::App;

use crate::api::{api, api_params, ApiResult};
use crate::auth::RequestActor;
use crate::Routes;

/// A member organisation (public card: no contact).
#[derive(Serialize, ToSchema)]
pub struct MemberItem {
    id: i64,
    name: String,
    url: String,
    kind: String,
    siret: Option<String>,
    uai: Option<String>,
    code_insee: Option<String>,
    commune: Option<String>,
    website: Option<String>,
    status: String,
    /// Whether the identifiers of this record (SIRET) were invented for the
    /// demonstration: invented SIRETs are taken where INSEE assigns none
    /// (SIREN beginning with 000), so they can never designate a real company.
    invented: bool,
}

impl From<&MemberRow> for MemberItem {
    fn from(m: &MemberRow) -> Self {
        Self {
            id: m.id,
            name: m.name.clone(),
            url: format!("/membres/{}", m.id),
            kind: m.kind.clone(),
            siret: m.siret.clone(),
            uai: m.uai.clone(),
            code_insee: m.code_insee.clone(),
            commune: m.commune_name.clone(),
            website: m.website.clone(),
            status: m.status.clone(),
            invented: m.invented,
        }
    }
}

/// A page of members.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    items: Vec<MemberItem>,
    total: usize,
    page: usize,
    pages: usize,
}

/// Searches member organisations (published ones for visitors).
#[utoipa::path(get, path = "/api/v1/members", tag = "passerelle",
    params(("q" = Option<String>, Query, description = "Texte recherché"), ("page" = Option<usize>, Query, description = "Page"),
        ("type" = Option<String>, Query, description = "Type de membre : lycee, cfa, employeur… (répétable)"),
        ("departement" = Option<String>, Query, description = "Code du département (répétable)"),
        ("campus" = Option<String>, Query, description = "Identifiant (slug) du campus")),
    responses((status = 200, body = MemberList)))]
pub(crate) async fn list_members(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    RawQuery(raw): RawQuery,
) -> ApiResult<MemberList> {
    let page = api(app
        .search_members(&actor, &member_query(&api_params(raw)?))
        .await)?;
    Ok(Json(MemberList {
        items: page.items.iter().map(MemberItem::from).collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
    }))
}

/// One member.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "passerelle",
    params(("id" = i64, Path, description = "Identifiant du membre")),
    responses((status = 200, body = MemberItem), (status = 404, body = ApiError)))]
pub(crate) async fn get_member(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> ApiResult<MemberItem> {
    let v = api(app.member_view(&actor, id).await)?;
    Ok(Json(MemberItem::from(&v.member)))
}

/// A campus.
#[derive(Serialize, ToSchema)]
pub struct CampusItem {
    id: String,
    name: String,
    url: String,
    sector: String,
    time_zone: String,
}

/// Every campus.
#[derive(Serialize, ToSchema)]
pub struct CampusList {
    items: Vec<CampusItem>,
    total: usize,
}

/// Lists the campuses.
#[utoipa::path(get, path = "/api/v1/campuses", tag = "passerelle", responses((status = 200, body = CampusList)))]
pub(crate) async fn list_campuses(State(app): State<App>) -> ApiResult<CampusList> {
    let items: Vec<CampusItem> = api(app.campuses().await)?
        .into_iter()
        .map(|c| CampusItem {
            url: format!("/campus/{}", c.slug),
            id: c.slug,
            name: c.name,
            sector: c.sector,
            time_zone: c.time_zone,
        })
        .collect();
    Ok(Json(CampusList {
        total: items.len(),
        items,
    }))
}

/// A member to create or update (keyed on SIRET, else UAI, else name).
#[derive(Deserialize, ToSchema)]
pub struct MemberWrite {
    name: String,
    /// lycee, universite, cfa, organisme-formation, employeur, etablissement-sante, …
    kind: String,
    siret: Option<String>,
    uai: Option<String>,
    code_insee: Option<String>,
    address: Option<String>,
    postcode: Option<String>,
    website: Option<String>,
    description: Option<String>,
    /// YYYY-MM-DD.
    joined_on: Option<String>,
    left_on: Option<String>,
    /// brouillon or publie.
    status: Option<String>,
}

/// Creates or updates a member of a campus (a read-write token of its campus team, or of the member itself to update it).
#[utoipa::path(post, path = "/api/v1/campuses/{slug}/members", tag = "passerelle",
    params(("slug" = String, Path, description = "Identifiant du campus")),
    request_body = MemberWrite,
    security(("bearer" = [])),
    responses((status = 201, body = Saved), (status = 200, body = Saved), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub(crate) async fn create_member(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    body: Result<Json<MemberWrite>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, WebError> {
    let w = write_body(&actor, body)?;
    let mut errors = Vec::new();
    let input = MemberInput {
        kind: parse_vocab(
            "kind",
            Some(&w.kind),
            domain::MemberKind::Employer,
            domain::MemberKind::parse,
            &mut errors,
        ),
        status: parse_vocab(
            "status",
            w.status.as_deref(),
            domain::PublicationStatus::Draft,
            domain::PublicationStatus::parse,
            &mut errors,
        ),
        joined_on: parse_date("joined_on", &w.joined_on, &mut errors),
        left_on: parse_date("left_on", &w.left_on, &mut errors),
        name: w.name,
        siret: w.siret,
        uai: w.uai,
        code_insee: w.code_insee,
        address: w.address,
        postcode: w.postcode,
        website: w.website,
        description: w.description,
        invented: false,
    };
    if !errors.is_empty() {
        return Err(WebError::api(AppError::Invalid(errors)));
    }
    let u = api(app.save_member(&actor, &slug, &input).await)?;
    Ok(saved(u, "/membres"))
}

/// The network's endpoints.
pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/members", list_members)
        .get("/members/{id}", get_member)
        .get("/campuses", list_campuses)
        .post("/campuses/{slug}/members", create_member)
}

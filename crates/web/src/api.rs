//! JSON API v1. Its OpenAPI 3.1 document is generated from these handlers
//! and types (`utoipa`) and served at `/api/v1/openapi.json`.

use crate::extract::Path;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::rows::{FormationRow, MemberRow, Upsert};
use app::{App, AppError};
use domain::network::chrono_free::Date;
use domain::network::{FieldError, FormationInput, MemberInput, SessionInput};

use crate::error::WebError;
use crate::pages::{catalogue_query, member_query, Params, RequestActor};
use crate::Routes;

/// The OpenAPI document of API v1.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle API",
        version = "1.0.0",
        description = "Données des campus des métiers et des qualifications : formations, métiers ROME 4.0, membres, certifications."
    ),
    paths(
        list_formations, get_formation, list_occupations, get_occupation, list_members,
        get_member, get_certification, list_campuses, create_member, create_formation, me,
        campus_observatory
    ),
    components(schemas(
        FormationItem, FormationList, FormationDetail, SessionItem, OccupationItem, OccupationList,
        OccupationDetail, SkillItem, MobilityItem, MemberItem, MemberList, CertificationDetail,
        CampusItem, CampusList, MemberWrite, FormationWrite, SessionWrite, Saved, ApiError, FieldProblem,
        Me, MeGrant
    )),
    modifiers(&BearerAuth, &CommonResponses),
    tags((name = "passerelle", description = "API v1"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds to every operation the answers any request may get before its
/// handler runs, so that the document lists every status the API returns:
/// `401` (a wrong token), `429` (the anonymous rate limit), `400` (a
/// malformed path), `404` (an unknown campus or object), `422` (a malformed
/// query), and for writes `403`, `413` and `415` (not allowed, body too
/// large, not JSON).
struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_param = path.contains('{');
            let operations = [(&mut item.get, false), (&mut item.post, true)];
            for (operation, is_write) in operations {
                let Some(op) = operation.as_mut() else {
                    continue;
                };
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                add("401", "Jeton inconnu, expiré ou révoqué");
                add(
                    "429",
                    "Trop de requêtes anonymes : réessayer après Retry-After secondes",
                );
                add("422", "Paramètre de la requête invalide");
                add(
                    "400",
                    if has_path_param {
                        "Paramètre de l'adresse invalide"
                    } else {
                        "Adresse invalide (caractère nul)"
                    },
                );
                // Lists filter by campus: an unknown one is not found.
                add("404", "Campus ou objet introuvable");
                if is_write {
                    add("403", "Action non autorisée");
                    add("413", "Contenu trop volumineux");
                    add("415", "Contenu non JSON");
                }
            }
        }
    }
}

pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/openapi.json", openapi)
        .get("/formations", list_formations)
        .get("/formations/{id}", get_formation)
        .get("/occupations", list_occupations)
        .get("/occupations/{code_rome}", get_occupation)
        .get("/members", list_members)
        .get("/members/{id}", get_member)
        .get("/certifications/{code}", get_certification)
        .get("/campuses", list_campuses)
        .post("/campuses/{slug}/members", create_member)
        .post("/campuses/{slug}/formations", create_formation)
        .get("/me", me)
        .get("/campuses/{slug}/observatory", campus_observatory)
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub(crate) async fn api_not_found() -> WebError {
    WebError::api(AppError::NotFound("route".into()))
}

type ApiResult<T> = Result<Json<T>, WebError>;

/// The query of a list: `page`, when given, must be a page number (pages
/// for people clamp it instead; a program should learn it sent nonsense).
fn api_params(raw: Option<String>) -> Result<Params, WebError> {
    let p = Params::parse(raw);
    if let Some(page) = p.one("page") {
        if !page
            .trim()
            .parse::<usize>()
            .is_ok_and(|n| (1..=crate::pages::MAX_PAGE).contains(&n))
        {
            return Err(WebError::api(AppError::Invalid(vec![FieldError::new(
                "page",
                format!(
                    "« {page} » n'est pas un numéro de page (de 1 à {})",
                    crate::pages::MAX_PAGE
                ),
            )])));
        }
    }
    Ok(p)
}

fn api<T>(r: Result<T, AppError>) -> Result<T, WebError> {
    r.map_err(WebError::api)
}

/// An error body.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    /// Stable code: not_found, unauthorized, forbidden, invalid, conflict, internal.
    error: String,
    message: String,
    /// For `invalid`: each problem with its field.
    fields: Option<Vec<FieldProblem>>,
}

/// A problem with one field of the input.
#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    field: String,
    message: String,
}

/// A formation in a list.
#[derive(Serialize, ToSchema)]
pub struct FormationItem {
    id: i64,
    title: String,
    /// Its page for people.
    url: String,
    provider: String,
    provider_id: i64,
    level: Option<i64>,
    pathway: String,
    modality: String,
    commune: Option<String>,
    certification_code: Option<i64>,
}

impl From<&FormationRow> for FormationItem {
    fn from(f: &FormationRow) -> Self {
        Self {
            id: f.id,
            title: f.title.clone(),
            url: format!("/formations/{}", f.id),
            provider: f.provider_name.clone(),
            provider_id: f.provider_id,
            level: f.level,
            pathway: f.pathway.clone(),
            modality: f.modality.clone(),
            commune: f.site_name.clone(),
            certification_code: f.certification_code,
        }
    }
}

/// A page of formations.
#[derive(Serialize, ToSchema)]
pub struct FormationList {
    items: Vec<FormationItem>,
    total: usize,
    page: usize,
    pages: usize,
    /// Facet counts: parameter name → [(value, count)].
    facets: Vec<(String, Vec<(String, u64)>)>,
}

/// Searches published formations.
#[utoipa::path(get, path = "/api/v1/formations", tag = "passerelle",
    params(
        ("q" = Option<String>, Query, description = "Texte recherché (accents, pluriels et une faute tolérés)"),
        ("page" = Option<usize>, Query, description = "Page, à partir de 1"),
        ("niveau" = Option<String>, Query, description = "Niveau européen (répétable)"),
        ("voie" = Option<String>, Query, description = "scolaire, apprentissage, continue, vae (répétable)"),
        ("modalite" = Option<String>, Query, description = "presentiel, distanciel, hybride (répétable)"),
        ("departement" = Option<String>, Query, description = "Code du département (répétable)"),
        ("organisme" = Option<String>, Query, description = "Nom de l'organisme (répétable)"),
        ("campus" = Option<String>, Query, description = "Identifiant (slug) du campus"),
    ),
    responses((status = 200, body = FormationList)))]
async fn list_formations(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    RawQuery(raw): RawQuery,
) -> ApiResult<FormationList> {
    let p = api_params(raw)?;
    let cq = catalogue_query(&p);
    let page = api(app.search_formations(&actor, &cq).await)?;
    Ok(Json(FormationList {
        items: page.items.iter().map(FormationItem::from).collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
        facets: page
            .facets
            .into_iter()
            .map(|f| {
                (
                    f.param.to_owned(),
                    f.values.into_iter().map(|v| (v.value, v.count)).collect(),
                )
            })
            .collect(),
    }))
}

/// A session.
#[derive(Serialize, ToSchema)]
pub struct SessionItem {
    starts_on: String,
    ends_on: Option<String>,
    places: Option<i64>,
}

/// A formation with its sessions and métiers.
#[derive(Serialize, ToSchema)]
pub struct FormationDetail {
    #[serde(flatten)]
    item: FormationItem,
    campus: String,
    capacity: Option<i64>,
    /// Whether the capacity and places were invented for the demonstration.
    invented: bool,
    duration_hours: Option<i64>,
    description: Option<String>,
    status: String,
    occupations: Vec<OccupationItem>,
    sessions: Vec<SessionItem>,
}

/// One formation.
#[utoipa::path(get, path = "/api/v1/formations/{id}", tag = "passerelle",
    params(("id" = i64, Path, description = "Identifiant de la formation")),
    responses((status = 200, body = FormationDetail), (status = 404, body = ApiError)))]
async fn get_formation(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> ApiResult<FormationDetail> {
    let v = api(app.formation_view(&actor, id).await)?;
    Ok(Json(FormationDetail {
        item: FormationItem::from(&v.formation),
        campus: v.campus.slug,
        capacity: v.formation.capacity,
        invented: v.formation.invented,
        duration_hours: v.formation.duration_hours,
        description: v.formation.description,
        status: v.formation.status,
        occupations: v
            .occupations
            .into_iter()
            .map(|o| OccupationItem {
                url: format!("/metiers/{}", o.code_rome),
                id: o.code_rome,
                title: o.label,
            })
            .collect(),
        sessions: v
            .sessions
            .into_iter()
            .map(|s| SessionItem {
                starts_on: s.starts_on,
                ends_on: s.ends_on,
                places: s.places,
            })
            .collect(),
    }))
}

/// A ROME fiche in a list.
#[derive(Serialize, ToSchema)]
pub struct OccupationItem {
    /// The ROME code.
    id: String,
    title: String,
    url: String,
}

/// A page of ROME fiches.
#[derive(Serialize, ToSchema)]
pub struct OccupationList {
    items: Vec<OccupationItem>,
    total: usize,
    page: usize,
    pages: usize,
}

/// Searches the ROME 4.0 fiches and their appellations.
#[utoipa::path(get, path = "/api/v1/occupations", tag = "passerelle",
    params(("q" = Option<String>, Query, description = "Texte recherché"), ("page" = Option<usize>, Query, description = "Page")),
    responses((status = 200, body = OccupationList)))]
async fn list_occupations(
    State(app): State<App>,
    RawQuery(raw): RawQuery,
) -> ApiResult<OccupationList> {
    let p = api_params(raw)?;
    let page = api(app
        .search_occupations(&p.one("q").unwrap_or_default(), p.page())
        .await)?;
    Ok(Json(OccupationList {
        items: page
            .items
            .into_iter()
            .map(|o| OccupationItem {
                url: format!("/metiers/{}", o.code_rome),
                id: o.code_rome,
                title: o.label,
            })
            .collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
    }))
}

/// A compétence or savoir.
#[derive(Serialize, ToSchema)]
pub struct SkillItem {
    code_ogr: i64,
    label: String,
    category: Option<String>,
    core: bool,
}

/// A professional mobility.
#[derive(Serialize, ToSchema)]
pub struct MobilityItem {
    code_rome: String,
    label: String,
    url: String,
}

/// A ROME fiche with its appellations, compétences, savoirs and mobilités.
#[derive(Serialize, ToSchema)]
pub struct OccupationDetail {
    code_rome: String,
    label: String,
    url: String,
    code_rome_parent: String,
    definition: Option<String>,
    access: Option<String>,
    appellations: Vec<String>,
    competences: Vec<SkillItem>,
    savoirs: Vec<SkillItem>,
    mobilites: Vec<MobilityItem>,
}

/// One ROME fiche.
#[utoipa::path(get, path = "/api/v1/occupations/{code_rome}", tag = "passerelle",
    params(("code_rome" = String, Path, description = "Code ROME, ex. J1501")),
    responses((status = 200, body = OccupationDetail), (status = 404, body = ApiError)))]
async fn get_occupation(
    State(app): State<App>,
    Path(code): Path<String>,
) -> ApiResult<OccupationDetail> {
    let v = api(app.occupation_view(&code).await)?;
    let skill = |s: app::rows::SkillRow| SkillItem {
        code_ogr: s.code_ogr,
        label: s.label,
        category: s.category,
        core: s.core,
    };
    Ok(Json(OccupationDetail {
        url: format!("/metiers/{}", v.occupation.code_rome),
        code_rome: v.occupation.code_rome,
        label: v.occupation.label,
        code_rome_parent: v.occupation.code_rome_parent,
        definition: v.occupation.definition,
        access: v.occupation.access,
        appellations: v.titles.into_iter().map(|t| t.label).collect(),
        competences: v.competences.into_iter().map(skill).collect(),
        savoirs: v.savoirs.into_iter().map(skill).collect(),
        mobilites: v
            .mobilities
            .into_iter()
            .map(|m| MobilityItem {
                url: format!("/metiers/{}", m.target_code_rome),
                code_rome: m.target_code_rome,
                label: m.label,
            })
            .collect(),
    }))
}

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
async fn list_members(
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
async fn get_member(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(id): Path<i64>,
) -> ApiResult<MemberItem> {
    let v = api(app.member_view(&actor, id).await)?;
    Ok(Json(MemberItem::from(&v.member)))
}

/// A certification with its métiers.
#[derive(Serialize, ToSchema)]
pub struct CertificationDetail {
    id: i64,
    title: String,
    url: String,
    level: Option<i64>,
    code_rncp: Option<String>,
    active: bool,
    occupations: Vec<OccupationItem>,
    blocs: Vec<String>,
}

/// One Certif Info certification.
#[utoipa::path(get, path = "/api/v1/certifications/{code}", tag = "passerelle",
    params(("code" = i64, Path, description = "Code Certif Info")),
    responses((status = 200, body = CertificationDetail), (status = 404, body = ApiError)))]
async fn get_certification(
    State(app): State<App>,
    Path(code): Path<i64>,
) -> ApiResult<CertificationDetail> {
    let v = api(app.certification_view(code).await)?;
    Ok(Json(CertificationDetail {
        id: v.certification.code,
        title: v.certification.label,
        url: format!("/certifications/{code}"),
        level: v.certification.level,
        code_rncp: v.certification.code_rncp,
        active: v.certification.active,
        occupations: v
            .occupations
            .into_iter()
            .map(|o| OccupationItem {
                url: format!("/metiers/{}", o.code_rome),
                id: o.code_rome,
                title: o.label,
            })
            .collect(),
        blocs: v.blocs.into_iter().map(|b| b.label).collect(),
    }))
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
async fn list_campuses(State(app): State<App>) -> ApiResult<CampusList> {
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

/// The account behind the credentials of a request.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Account id.
    id: i64,
    email: String,
    display_name: String,
    /// False for a read-only API token.
    can_write: bool,
    roles: Vec<MeGrant>,
}

/// A role of the account.
#[derive(Serialize, ToSchema)]
pub struct MeGrant {
    /// network_admin, campus_manager, member_editor, observer, learner.
    role: String,
    /// Campus id (none for network_admin).
    campus_id: Option<i64>,
    /// Member organisation id (member editors).
    member_id: Option<i64>,
}

/// Who the token (or session) belongs to.
/// The observatory of a campus (docs/OBSERVATORY.md): perimeter, sources,
/// métiers of the sector ranked by tension with their dimensions, demand,
/// supply, gap and skills. For the campus' managers and observers.
#[utoipa::path(get, path = "/api/v1/campuses/{slug}/observatory", tag = "passerelle", security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "Campus"),
        ("period" = Option<String>, Query, description = "Période de tension (AAAA ; défaut : la dernière)"),
        ("certification" = Option<i64>, Query, description = "Simulation : code de la certification ouverte"),
        ("places" = Option<i64>, Query, description = "Simulation : places ouvertes")
    ),
    responses((status = 200, description = "L'observatoire du campus"), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn campus_observatory(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<app::observatory::Observatory> {
    let p = crate::pages::Params::parse(raw);
    let what_if = match (p.one("certification"), p.one("places")) {
        (None, None) => None,
        (c, n) => Some(api(app::observatory::WhatIf::parse(&format!(
            "{}={}",
            c.unwrap_or_default(),
            n.unwrap_or_default()
        ))
        .ok_or_else(|| {
            AppError::Invalid(vec![domain::network::FieldError::new(
                "places",
                "certification (code) et places (entier positif) sont attendus ensemble",
            )])
        }))?),
    };
    Ok(Json(api(app
        .observatory(&actor, &slug, what_if, p.one("period").as_deref())
        .await)?))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "passerelle", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ApiError)))]
async fn me(RequestActor(actor): RequestActor) -> ApiResult<Me> {
    let p = actor
        .principal
        .as_ref()
        .ok_or_else(|| WebError::api(AppError::Unauthorized))?;
    Ok(Json(Me {
        id: p.user_id,
        email: p.email.clone(),
        display_name: p.display_name.clone(),
        can_write: !actor.read_only,
        roles: p
            .grants
            .iter()
            .map(|g| MeGrant {
                role: g.role.as_str().to_owned(),
                campus_id: g.campus_id,
                member_id: g.member_id,
            })
            .collect(),
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

/// A session to write.
#[derive(Deserialize, ToSchema)]
pub struct SessionWrite {
    starts_on: String,
    ends_on: Option<String>,
    places: Option<i64>,
}

/// A formation to create or update (keyed on `key`).
#[derive(Deserialize, ToSchema)]
pub struct FormationWrite {
    key: String,
    title: String,
    certification_code: Option<i64>,
    level: Option<u8>,
    pathway: String,
    modality: Option<String>,
    provider_id: i64,
    site_code_insee: Option<String>,
    capacity: Option<i64>,
    duration_hours: Option<i64>,
    description: Option<String>,
    status: Option<String>,
    #[serde(default)]
    rome_codes: Vec<String>,
    #[serde(default)]
    sessions: Vec<SessionWrite>,
}

/// What a write did.
#[derive(Serialize, ToSchema)]
pub struct Saved {
    id: i64,
    url: String,
    /// created, updated or unchanged.
    outcome: String,
}

fn saved(u: Upsert, prefix: &str) -> Response {
    let (status, outcome) = match u {
        Upsert::Created(_) => (StatusCode::CREATED, "created"),
        Upsert::Updated(_) => (StatusCode::OK, "updated"),
        Upsert::Unchanged(_) => (StatusCode::OK, "unchanged"),
    };
    (
        status,
        Json(Saved {
            id: u.id(),
            url: format!("{prefix}/{}", u.id()),
            outcome: outcome.into(),
        }),
    )
        .into_response()
}

pub(crate) fn parse_date(
    field: &str,
    v: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<Date> {
    let s = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    let d = Date::parse(s);
    if d.is_none() {
        errors.push(FieldError::new(
            field,
            format!("date invalide « {s} », attendu AAAA-MM-JJ"),
        ));
    }
    d
}

pub(crate) fn parse_vocab<T>(
    field: &str,
    v: Option<&str>,
    default: T,
    parse: fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> T {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => default,
        Some(s) => parse(s).unwrap_or_else(|| {
            errors.push(FieldError::new(field, format!("valeur inconnue « {s} »")));
            default
        }),
    }
}

/// Checks that the actor may write before looking at the body, then reads
/// the JSON body; a malformed body is an `invalid` error naming the problem.
fn write_body<T>(
    actor: &app::Actor,
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, WebError> {
    api(app::policy::may_write(actor))?;
    body.map(|Json(w)| w).map_err(|e| match e.status() {
        // Too large, or not JSON at all: the protocol's own statuses.
        s @ (StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE) => {
            crate::extract::body_refused(true, s, &e.body_text())
        }
        _ => WebError::api(AppError::Invalid(vec![FieldError::new(
            "corps",
            e.body_text(),
        )])),
    })
}

/// Creates or updates a member of a campus (a read-write token of its campus team, or of the member itself to update it).
#[utoipa::path(post, path = "/api/v1/campuses/{slug}/members", tag = "passerelle",
    params(("slug" = String, Path, description = "Identifiant du campus")),
    request_body = MemberWrite,
    security(("bearer" = [])),
    responses((status = 201, body = Saved), (status = 200, body = Saved), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn create_member(
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

/// Creates or updates a formation of a campus (a read-write token of its campus team or of its provider).
#[utoipa::path(post, path = "/api/v1/campuses/{slug}/formations", tag = "passerelle",
    params(("slug" = String, Path, description = "Identifiant du campus")),
    request_body = FormationWrite,
    security(("bearer" = [])),
    responses((status = 201, body = Saved), (status = 200, body = Saved), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
async fn create_formation(
    State(app): State<App>,
    RequestActor(actor): RequestActor,
    Path(slug): Path<String>,
    body: Result<Json<FormationWrite>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, WebError> {
    let w = write_body(&actor, body)?;
    let mut errors = Vec::new();
    let level = match w.level {
        None => None,
        Some(n) => {
            let l = domain::Level::new(n);
            if l.is_none() {
                errors.push(FieldError::new("level", "le niveau européen va de 1 à 8"));
            }
            l
        }
    };
    let sessions: Vec<SessionInput> = w
        .sessions
        .iter()
        .filter_map(|s| {
            let start = parse_date(
                "sessions.starts_on",
                &Some(s.starts_on.clone()),
                &mut errors,
            )?;
            Some(SessionInput {
                starts_on: start,
                ends_on: parse_date("sessions.ends_on", &s.ends_on, &mut errors),
                places: s.places,
            })
        })
        .collect();
    let input = FormationInput {
        pathway: parse_vocab(
            "pathway",
            Some(&w.pathway),
            domain::Pathway::Continuing,
            domain::Pathway::parse,
            &mut errors,
        ),
        modality: parse_vocab(
            "modality",
            w.modality.as_deref(),
            domain::Modality::OnSite,
            domain::Modality::parse,
            &mut errors,
        ),
        status: parse_vocab(
            "status",
            w.status.as_deref(),
            domain::PublicationStatus::Draft,
            domain::PublicationStatus::parse,
            &mut errors,
        ),
        title: w.title,
        certification_code: w.certification_code,
        level,
        provider_id: w.provider_id,
        site_code_insee: w.site_code_insee,
        capacity: w.capacity,
        duration_hours: w.duration_hours,
        description: w.description,
        rome_codes: w.rome_codes,
        external_key: Some(w.key.clone()),
        invented: false,
    };
    if !errors.is_empty() {
        return Err(WebError::api(AppError::Invalid(errors)));
    }
    let u = api(app
        .save_formation(&actor, &slug, &w.key, &input, &sessions)
        .await)?;
    Ok(saved(u, "/formations"))
}

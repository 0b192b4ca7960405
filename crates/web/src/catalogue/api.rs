//! The catalogue in the JSON API: formations, ROME fiches, certifications,
//! and writing a formation.

use axum::response::Response;
use domain::network::{FieldError, FormationInput, SessionInput};

use app::rows::FormationRow;
use app::AppError;

use crate::api::{saved, write_body, ApiError, Saved};
use crate::catalogue::catalogue_query;
use crate::error::WebError;
use crate::extract::Path;
use crate::forms::{parse_date, parse_vocab};
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use app::App;

use crate::api::{api, api_params, ApiResult};
use crate::auth::RequestActor;
use crate::Routes;

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
pub(crate) async fn list_formations(
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
pub(crate) async fn get_formation(
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
pub(crate) async fn list_occupations(
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
pub(crate) async fn get_occupation(
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
pub(crate) async fn get_certification(
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

/// Creates or updates a formation of a campus (a read-write token of its campus team or of its provider).
#[utoipa::path(post, path = "/api/v1/campuses/{slug}/formations", tag = "passerelle",
    params(("slug" = String, Path, description = "Identifiant du campus")),
    request_body = FormationWrite,
    security(("bearer" = [])),
    responses((status = 201, body = Saved), (status = 200, body = Saved), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError)))]
pub(crate) async fn create_formation(
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

/// The catalogue's endpoints.
pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/formations", list_formations)
        .get("/formations/{id}", get_formation)
        .get("/occupations", list_occupations)
        .get("/occupations/{code_rome}", get_occupation)
        .get("/certifications/{code}", get_certification)
        .post("/campuses/{slug}/formations", create_formation)
}

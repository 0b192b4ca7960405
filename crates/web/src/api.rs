//! JSON API v1. Its OpenAPI 3.1 document is generated from these handlers
//! and types (`utoipa`) and served at `/api/v1/openapi.json`.

//!
//! The endpoints live with their feature area (`network::api`,
//! `catalogue::api`, `observatory::api`, `accounts::api`); this module holds
//! what they share: the document, the error body, list parameters, reading
//! a write's body and answering what it did.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use app::rows::Upsert;
use app::AppError;
use domain::network::FieldError;

use crate::accounts::api::{Me, MeGrant};
use crate::catalogue::api::{
    CertificationDetail, FormationDetail, FormationItem, FormationList, FormationWrite,
    MobilityItem, OccupationDetail, OccupationItem, OccupationList, SessionItem, SessionWrite,
    SkillItem,
};
use crate::error::WebError;
use crate::network::api::{CampusItem, CampusList, MemberItem, MemberList, MemberWrite};
use crate::pages::Params;
use crate::{accounts, catalogue, network, observatory, Routes};

/// The OpenAPI document of API v1.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Passerelle API",
        version = "1.0.0",
        description = "Données des campus des métiers et des qualifications : formations, métiers ROME 4.0, membres, certifications."
    ),
    paths(
        catalogue::api::list_formations, catalogue::api::get_formation,
        catalogue::api::list_occupations, catalogue::api::get_occupation,
        network::api::list_members, network::api::get_member,
        catalogue::api::get_certification, network::api::list_campuses,
        network::api::create_member, catalogue::api::create_formation, accounts::api::me,
        observatory::api::campus_observatory
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

/// Every route of the API, each area adding its own.
pub(crate) fn routes(r: Routes) -> Routes {
    let r = r.get("/openapi.json", openapi);
    let r = catalogue::api::routes(network::api::routes(r));
    observatory::api::routes(accounts::api::routes(r))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub(crate) async fn api_not_found() -> WebError {
    WebError::api(AppError::NotFound("route".into()))
}

pub(crate) type ApiResult<T> = Result<Json<T>, WebError>;

/// The query of a list: `page`, when given, must be a page number (pages
/// for people clamp it instead; a program should learn it sent nonsense).
pub(crate) fn api_params(raw: Option<String>) -> Result<Params, WebError> {
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

pub(crate) fn api<T>(r: Result<T, AppError>) -> Result<T, WebError> {
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

/// What a write did.
#[derive(Serialize, ToSchema)]
pub struct Saved {
    id: i64,
    url: String,
    /// created, updated or unchanged.
    outcome: String,
}

/// Answers what a write did: 201 with the new object, else 200.
pub(crate) fn saved(u: Upsert, prefix: &str) -> Response {
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

/// Checks that the actor may write before looking at the body, then reads
/// the JSON body; a malformed body is an `invalid` error naming the problem.
pub(crate) fn write_body<T>(
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

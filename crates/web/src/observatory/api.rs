//! The observatory in the JSON API.

use app::AppError;

use crate::extract::Path;
use axum::extract::{RawQuery, State};
use axum::Json;

use app::App;

use crate::api::{api, ApiError, ApiResult};
use crate::auth::RequestActor;
use crate::Routes;

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
pub(crate) async fn campus_observatory(
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

/// The observatory's endpoints.
pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/campuses/{slug}/observatory", campus_observatory)
}

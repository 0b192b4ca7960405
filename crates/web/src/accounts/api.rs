//! Accounts in the JSON API: who the credentials belong to.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use app::AppError;

use crate::api::{ApiError, ApiResult};
use crate::auth::RequestActor;
use crate::error::WebError;
use crate::Routes;

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
#[utoipa::path(get, path = "/api/v1/me", tag = "passerelle", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub(crate) async fn me(RequestActor(actor): RequestActor) -> ApiResult<Me> {
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

/// The accounts' endpoints.
pub(crate) fn routes(r: Routes) -> Routes {
    r.get("/me", me)
}

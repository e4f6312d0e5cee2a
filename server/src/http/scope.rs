//! Object-level authorisation: which dossiers a caller may see.
//!
//! - the portal: the dossiers it filed (its own submission keys), inside its area;
//! - an agency (system or officer): dossiers with a step of its agency, inside its area;
//! - a manager: dossiers inside their area; an administrator: all.
//!
//! Anything else answers exactly like a dossier that does not exist.

use super::auth::{Principal, Role};
use super::{AppState, not_found};
use axum::response::IntoResponse as _;
use axum::response::Response;
use lienthong_engine::machine::Dossier;
use lienthong_engine::runtime::{Origin, Store};

/// Whether `p` may see `d`, filed from `origin`.
pub fn may_see(p: &Principal, d: &Dossier, origin: &Origin) -> bool {
    if !p.scope.covers(origin) {
        return false;
    }
    match p.role {
        Role::Admin | Role::Manager => true,
        Role::Portal => origin.submitted_by.as_deref() == Some(p.subject.as_str()),
        Role::AgencySystem | Role::AgencyOfficer => p
            .agency
            .as_deref()
            .is_some_and(|a| d.steps.values().any(|s| s.agency == a)),
    }
}

pub fn unavailable(e: impl std::fmt::Display) -> Response {
    super::ApiError::store(e).into_response()
}

/// The dossier with this code, if `p` may see it; else the 404 of a missing one.
pub async fn visible<S: Store>(
    state: &AppState<S>,
    p: &Principal,
    code: &str,
) -> Result<(Dossier, Origin), Response> {
    let store = &state.runtime;
    let Some(id) = store.dossier_by_code(code).await.map_err(unavailable)? else {
        return Err(not_found());
    };
    let (Some(d), Some(origin)) = (
        store.load(&id).await.map_err(unavailable)?,
        store.origin(&id).await.map_err(unavailable)?,
    ) else {
        return Err(not_found());
    };
    if may_see(p, &d, &origin) {
        Ok((d, origin))
    } else {
        Err(not_found())
    }
}

/// The agency role an agency caller acts for (their tokens always name one).
pub fn agency_of(p: &Principal) -> Result<&str, Response> {
    p.agency.as_deref().ok_or_else(not_found)
}

//! Operations: incidents (list, retry, skip — with who and why), the working-day calendar
//! (a year's days off; uploading a yearly notice, which every new deadline then uses), and
//! figures per procedure group inside the caller's area.

use super::auth::Principal;
use super::dossiers::{ReasonBody, bad_body, iso, view};
use super::scope::{unavailable, visible};
use super::tasks::page_size;
use super::{AppState, problem};
use crate::figures;
use axum::Extension;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienthong_engine::machine::{Resolution, StepStatus};
use lienthong_engine::runtime::NoticeError;
use lienthong_engine::runtime::Store;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Continue after this dossier id (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// `GET /api/v1/incidents`
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(PageQuery),
    responses((status = 200, description = "steps in incident"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid query",
            "allowed: after, limit",
        );
    };
    let limit = match page_size(q.limit, state.limits.max_page) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let store = &state.runtime;
    let page = match store
        .incident_dossiers(&p.scope, q.after.as_deref().unwrap_or(""), limit)
        .await
    {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|d| d.id.0.clone()))
        .flatten();
    let mut items = Vec::new();
    for d in &page {
        for (step, s) in &d.steps {
            if let (StepStatus::Incident, Some(i)) = (s.status, &s.incident) {
                items.push(json!({
                    "dossier": d.code, "step": step, "agency": s.agency,
                    "opened_at": iso(i.opened_at), "attempts": i.attempts,
                    "message": crate::mask::text(&i.message),
                }));
            }
        }
    }
    Json(json!({"items": items, "next": next})).into_response()
}

async fn resolve<S: Store>(
    state: &AppState<S>,
    p: &Principal,
    code: &str,
    step: String,
    resolution: Resolution,
    reason: String,
) -> Response {
    if reason.trim().is_empty() || reason.chars().count() > 4_000 {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request",
            "reason: 1 to 4000 characters",
        );
    }
    let (d, _) = match visible(state, p, code).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rt = &state.runtime;
    match rt
        .resolve_incident(&d.id, &step, resolution, &p.subject, &reason)
        .await
    {
        Ok(t) => {
            let def = rt.procedure(&t.state.procedure.hash).await.ok();
            Json(view(&t.state, p, &rt.calendar(), rt.now(), def.as_deref())).into_response()
        }
        Err(e) => crate::http::api_error(e),
    }
}

/// `POST /api/v1/incidents/{code}/{step}/retry`
#[utoipa::path(post, path = "/api/v1/incidents/{code}/{step}/retry", tag = "incidents", request_body = ReasonBody,
    params(("code" = String, Path), ("step" = String, Path)),
    responses((status = 200, description = "done"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn retry<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path((code, step)): Path<(String, String)>,
    body: Result<Json<ReasonBody>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(b)) => resolve(&state, &p, &code, step, Resolution::Retry, b.reason).await,
        Err(e) => bad_body(e),
    }
}

/// `POST /api/v1/incidents/{code}/{step}/skip`
#[utoipa::path(post, path = "/api/v1/incidents/{code}/{step}/skip", tag = "incidents", request_body = ReasonBody,
    params(("code" = String, Path), ("step" = String, Path)),
    responses((status = 200, description = "done"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn skip<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path((code, step)): Path<(String, String)>,
    body: Result<Json<ReasonBody>, JsonRejection>,
) -> Response {
    match body {
        Ok(Json(b)) => resolve(&state, &p, &code, step, Resolution::Skip, b.reason).await,
        Err(e) => bad_body(e),
    }
}

fn year_of(text: &str) -> Result<i32, Response> {
    text.parse::<i32>()
        .ok()
        .filter(|y| (1900..=2100).contains(y))
        .ok_or_else(|| {
            problem(
                StatusCode::BAD_REQUEST,
                "Invalid year",
                "year: 1900 to 2100",
            )
        })
}

/// `GET /api/v1/calendar/{year}` — days off and make-up working days.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar", params(("year" = i32, Path)),
    responses((status = 200, description = "the year's special days"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials")),
    security(("bearer" = [])))]
pub async fn year<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(year): Path<String>,
) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(r) => return r,
    };
    let calendar = state.runtime.calendar();
    Json(json!({
        "year": year,
        "calendar_version": calendar.version(),
        "provisional": calendar.is_provisional(year),
        "days": calendar.entries(year),
    }))
    .into_response()
}

pub use lienthong_engine::runtime::calendar_with;

/// `PUT /api/v1/calendar/notices/{year}` — a yearly notice (YAML, the format of
/// `workflows/calendar/`); checked, stored, and in force for new deadlines at once.
#[utoipa::path(put, path = "/api/v1/calendar/notices/{year}", tag = "calendar", params(("year" = i32, Path)),
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, description = "done"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 413, description = "body too large"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn upload_notice<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path(year): Path<String>,
    body: String,
) -> Response {
    let year = match year_of(&year) {
        Ok(y) => y,
        Err(r) => return r,
    };
    match state.runtime.install_notice(year, &body, &p.subject).await {
        Ok(version) => Json(json!({"year": year, "calendar_version": version})).into_response(),
        Err(NoticeError::Invalid(m)) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, "Invalid notice", &m)
        }
        Err(NoticeError::Store(e)) => unavailable(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// Only this procedure id.
    pub procedure: Option<String>,
    /// Only dossiers received on or after this day (yyyy-mm-dd, Vietnam time).
    pub from: Option<String>,
    /// Only dossiers received on or before this day.
    pub to: Option<String>,
}

/// `GET /api/v1/figures` — per procedure group, inside the caller's area, from the engine's
/// reporting model: counts by status, decided dossiers resolved early / on time / late,
/// overdue ones, processing time in working days (median, p90) against the legal limit, the
/// internal target and the baseline, the on-time and target rates, the working days each
/// agency held the files, the trend by week and month of receipt, the counts per province and
/// commune (worst commune first) and the late dossiers.
#[utoipa::path(get, path = "/api/v1/figures", tag = "figures", params(FiguresQuery),
    responses((status = 200, description = "figures per group"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn figures<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    query: Result<Query<FiguresQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid query",
            "allowed: procedure, from, to",
        );
    };
    let days = match figures::period(q.from.as_deref(), q.to.as_deref()) {
        Ok(d) => d,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "Invalid query", &e),
    };
    let f = match state
        .runtime
        .report(&p.scope, q.procedure.as_deref(), days)
        .await
    {
        Ok(f) => f,
        Err(e) => return unavailable(e),
    };
    Json(json!({
        "scope": p.scope,
        "dossiers": f.dossiers,
        "groups": f.summary.groups,
        "agencies": f.summary.agencies,
        "weeks": f.weeks,
        "months": f.months,
        "provinces": f.provinces,
        "communes": f.communes,
        "late": f.late,
        "late_total": f.late_total,
        "stored_until": f.stored_until,
        "live": f.live,
    }))
    .into_response()
}

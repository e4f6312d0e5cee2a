//! The agency work queue: an agency's system or officer lists its open tasks (filtered,
//! sorted, paged), claims one, and completes it (outputs checked against the step's
//! `writes:`), rejects it, asks for a supplement or starts verification. Every call acts for
//! the caller's own agency and area; another agency's task, or one outside the area, is 404.

use super::auth::Principal;
use super::dossiers::{ReasonBody, bad_body, iso};
use super::scope::{agency_of, unavailable, visible};
use super::{AppState, problem};
use axum::Extension;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lienthong_engine::machine::DossierId;
use lienthong_engine::runtime::{Store, Task};
use lienthong_engine::runtime::{TaskQuery, TaskStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskListQuery {
    /// Only tasks of this procedure id.
    pub procedure: Option<String>,
    /// `queued` or `claimed`.
    pub status: Option<String>,
    /// `opened_at` (oldest first, the default) or `-opened_at` (newest first).
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// Tasks to skip (default 0).
    pub offset: Option<i64>,
}

/// A task as shown to its agency.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub dossier: String,
    pub step: String,
    pub agency: String,
    pub action: String,
    pub status: String,
    pub claimed_by: Option<String>,
    pub claim_until: Option<String>,
    pub opened_at: Option<String>,
    /// The fields of the dossier this step reads (and nothing else).
    #[schema(value_type = Object)]
    pub request: Value,
}

/// Outputs of a completed task: exactly the step's `writes:`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[schema(value_type = Object)]
    pub outputs: Map<String, Value>,
}

/// The legal basis of a verification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    pub basis: String,
}

fn task_view(code: &str, t: Task) -> TaskView {
    TaskView {
        dossier: code.to_string(),
        step: t.step,
        agency: t.agency,
        action: t.action,
        status: t.status,
        claimed_by: t.claimed_by,
        claim_until: t.claim_until.and_then(iso),
        opened_at: iso(t.opened_at),
        request: t.request,
    }
}

/// A page size within bounds, or a 400 naming `limit`.
pub fn page_size(limit: Option<i64>, max: i64) -> Result<i64, Response> {
    match limit {
        None => Ok(50.min(max)),
        Some(l) if (1..=max).contains(&l) => Ok(l),
        Some(_) => Err(problem(
            StatusCode::BAD_REQUEST,
            "Invalid page size",
            &format!("limit: 1 to {max}"),
        )),
    }
}

/// `GET /api/v1/tasks`
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskListQuery),
    responses((status = 200, description = "the agency's open tasks"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    query: Result<Query<TaskListQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid query",
            "allowed: procedure, status, sort, limit, offset",
        );
    };
    let agency = match agency_of(&p) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let limit = match page_size(q.limit, state.limits.max_page) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let status = match q.status.as_deref() {
        None => None,
        Some("queued") => Some(TaskStatus::Queued),
        Some("claimed") => Some(TaskStatus::Claimed),
        Some(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid query",
                "status: queued or claimed",
            );
        }
    };
    let newest_first = match q.sort.as_deref() {
        None | Some("opened_at") => false,
        Some("-opened_at") => true,
        Some(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid query",
                "sort: opened_at or -opened_at",
            );
        }
    };
    let offset = q.offset.unwrap_or(0);
    if !(0..=100_000).contains(&offset) {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid query",
            "offset: 0 to 100000",
        );
    }
    let query = TaskQuery {
        procedure: q.procedure,
        status,
        limit,
        offset,
        newest_first,
        scope: p.scope.clone(),
    };
    let rt = &state.runtime;
    let tasks = match rt.open_tasks(agency, &query).await {
        Ok(t) => t,
        Err(e) => return crate::http::api_error(e),
    };
    // The page's dossier codes in one read.
    let ids: Vec<_> = tasks.iter().map(|t| t.dossier.clone()).collect();
    let codes: std::collections::HashMap<_, _> = match rt.load_many(&ids).await {
        Ok(ds) => ds.into_iter().map(|d| (d.id, d.code)).collect(),
        Err(e) => return unavailable(e),
    };
    let mut items = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Some(code) = codes.get(&t.dossier) {
            items.push(task_view(code, t));
        }
    }
    let next_offset = (items.len() as i64 == limit).then_some(offset + limit);
    Json(json!({"items": items, "next_offset": next_offset})).into_response()
}

/// The dossier of a task the caller's agency may act on.
async fn target<S: Store>(
    state: &AppState<S>,
    p: &Principal,
    code: &str,
) -> Result<(DossierId, String), Response> {
    let agency = agency_of(p)?.to_string();
    let (d, _) = visible(state, p, code).await?;
    Ok((d.id, agency))
}

/// `GET /api/v1/tasks/{code}/{step}`
#[utoipa::path(get, path = "/api/v1/tasks/{code}/{step}", tag = "tasks",
    params(("code" = String, Path), ("step" = String, Path)),
    responses((status = 200, body = TaskView, description = "done"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours")),
    security(("bearer" = [])))]
pub async fn get<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path((code, step)): Path<(String, String)>,
) -> Response {
    let (id, agency) = match target(&state, &p, &code).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match state.runtime.agency_task(&agency, &id, &step).await {
        Ok(t) => Json(task_view(&code, t)).into_response(),
        Err(e) => crate::http::api_error(e),
    }
}

/// Who answers for the agency: the signed-in officer, or the agency's system key.
fn officer(p: &Principal) -> &str {
    &p.subject
}

macro_rules! task_action {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, |$rt:ident, $agency:ident, $id:ident, $step:ident, $who:ident, $b:ident| $call:expr) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "tasks", request_body = $body,
            params(("code" = String, Path), ("step" = String, Path)),
            responses((status = 200, body = TaskView, description = "done"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 422, description = "invalid content (the problem names the field)")),
            security(("bearer" = [])))]
        pub async fn $name<S: Store>(
            State(state): State<Arc<AppState<S>>>,
            Extension(p): Extension<Principal>,
            Path((code, $step)): Path<(String, String)>,
            body: Result<Json<$body>, JsonRejection>,
        ) -> Response {
            let Json($b) = match body {
                Ok(b) => b,
                Err(e) => return bad_body(e),
            };
            let ($id, $agency) = match target(&state, &p, &code).await {
                Ok(t) => t,
                Err(r) => return r,
            };
            let $rt = &state.runtime;
            let $who = officer(&p);
            let $step = $step.as_str();
            match $call.await {
                Ok(t) => Json(task_view(&code, t)).into_response(),
                Err(e) => crate::http::api_error(e),
            }
        }
    };
}

/// An empty body (`{}`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/claim`
    claim, "/api/v1/tasks/{code}/{step}/claim", Empty,
    |rt, agency, id, step, who, _b| rt.claim_task(&agency, &id, step, who)
);
task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/release` — back to the queue (the claimant only).
    release, "/api/v1/tasks/{code}/{step}/release", Empty,
    |rt, agency, id, step, who, _b| rt.release_task(&agency, &id, step, who)
);
task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/complete`
    complete, "/api/v1/tasks/{code}/{step}/complete", CompleteBody,
    |rt, agency, id, step, who, b| rt.complete_task(&agency, &id, step, who, &b.outputs)
);
task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/reject`
    reject, "/api/v1/tasks/{code}/{step}/reject", ReasonBody,
    |rt, agency, id, step, who, b| rt.reject_task(&agency, &id, step, who, &b.reason)
);
task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/supplement`
    supplement, "/api/v1/tasks/{code}/{step}/supplement", ReasonBody,
    |rt, agency, id, step, who, b| rt.request_supplement(&agency, &id, step, who, &b.reason)
);
task_action!(
    /// `POST /api/v1/tasks/{code}/{step}/verify`
    verify, "/api/v1/tasks/{code}/{step}/verify", VerifyBody,
    |rt, agency, id, step, who, b| rt.start_verification(&agency, &id, step, who, &b.basis)
);

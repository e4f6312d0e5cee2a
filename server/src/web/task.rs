//! The task page: what the step reads (and nothing else), the documents, the deadline and
//! its clock; claim; complete through the form generated from the step's outputs (errors on
//! their fields); refuse with a reason; ask for a supplement; start verification with the
//! new deadline shown before confirming. Every action goes through the runtime's task use
//! cases, as the API's do, so the machine's claim rule applies to both.

use super::desk::{Due, due_of, local};
use super::form::{self, Field};
use super::{Chrome, Ctx, render};
use crate::http::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lienthong_engine::calendar::ClockStatus;
use lienthong_engine::definition::{Outcome, Procedure};
use lienthong_engine::machine::{Dossier, DossierId};
use lienthong_engine::runtime::{Error, TaskError};
use lienthong_engine::runtime::{Store, Task};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

type Posted = BTreeMap<String, String>;

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    c: Chrome,
    code: String,
    step: String,
    procedure: String,
    step_name: String,
    agency: String,
    reads: Vec<(String, String)>,
    due: Due,
    clock: &'static str,
    mine: bool,
    other: Option<String>,
    claim_until: String,
    fields: Vec<Field>,
    can_reject: bool,
    can_supplement: bool,
    can_verify: bool,
    verify_deadline: String,
    error: Option<String>,
    field_errors: bool,
    documents: Vec<(String, String)>,
}

/// What a page action needs: the dossier, its definition, the agency's task.
struct Target {
    d: Dossier,
    def: Arc<Procedure>,
    agency: String,
    officer: String,
    task: Task,
}

async fn target<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    code: &str,
    step: &str,
) -> Result<Target, Response> {
    let Some(p) = ctx.principal.clone() else {
        return Err(super::not_found(ctx));
    };
    let Some(agency) = p.agency.clone() else {
        return Err(super::not_found(ctx));
    };
    let (d, def) = super::dossier::visible(state, ctx, &p, code).await?;
    // Another agency's step answers like a step that does not exist.
    let task = match state.runtime.agency_task(&agency, &d.id, step).await {
        Ok(t) => t,
        Err(Error::Task(TaskError::NotFound { .. }) | Error::NoDossier(_)) => {
            return Err(super::not_found(ctx));
        }
        Err(e) => return Err(super::unavailable(ctx, e)),
    };
    Ok(Target {
        d,
        def,
        agency,
        officer: p.subject,
        task,
    })
}

/// Flattens what the step reads into `(path, value)` lines.
fn lines(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                lines(&p, v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => out.push((prefix.to_string(), "—".into())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The task page for `t`, with `fields` (the blank form, or the one posted with its errors)
/// and an error for the page.
async fn page<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    t: &Target,
    fields: Option<Vec<Field>>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let rt = &state.runtime;
    let now = rt.now();
    let lang = ctx.lang;
    let tx = ctx.t();
    let step = t.def.step(&t.task.step);
    let st = t.d.steps.get(t.task.step.as_str());
    let live = st.and_then(|s| s.live_claim(now));
    let mine = live.is_some_and(|(by, _)| by == t.officer);
    let other = live
        .filter(|(by, _)| *by != t.officer)
        .map(|(by, _)| by.strip_prefix("user:").unwrap_or(by).to_string());
    let outcomes = step.map(|s| s.outcomes.clone()).unwrap_or_default();
    let open = matches!(t.task.status.as_str(), "queued" | "claimed");
    let can_verify = mine && outcomes.contains(&Outcome::Verification);
    let verify_deadline = if can_verify {
        match rt
            .preview_verification(&t.agency, &t.d.id, &t.task.step, &t.officer, "preview")
            .await
        {
            Ok(p) => p.step_deadline.map(local).unwrap_or_default(),
            Err(_) => String::new(),
        }
    } else {
        String::new()
    };
    let mut reads = Vec::new();
    lines("", &t.task.request, &mut reads);
    let clock = match st.and_then(|s| s.clock.as_ref()).map(|c| c.status()) {
        Some(ClockStatus::Running | ClockStatus::Extended) => tx.clock_running,
        Some(ClockStatus::Paused) => tx.clock_paused,
        Some(ClockStatus::Stopped) => tx.clock_stopped,
        None => tx.no_deadline,
    };
    let field_errors = fields
        .as_ref()
        .is_some_and(|f| f.iter().any(|f| f.error.is_some()));
    let documents =
        t.d.documents
            .iter()
            .map(|doc| {
                let (vi, en) = lienthong_engine::documents::render(&doc.kind, &doc.data);
                (local(doc.at), lang.pick(&vi, &en).to_string())
            })
            .collect();
    render(
        status,
        &TaskPage {
            c: ctx.chrome("/desk"),
            code: t.d.code.clone(),
            step: t.task.step.clone(),
            procedure: lang.pick(&t.def.title.vi, &t.def.title.en).to_string(),
            step_name: step.map_or_else(
                || t.task.step.clone(),
                |s| lang.pick(&s.name.vi, &s.name.en).to_string(),
            ),
            agency: lienthong_engine::definition::Catalog::role_name(&t.def, &t.agency)
                .map_or_else(|| t.agency.clone(), |n| lang.pick(&n.vi, &n.en).to_string()),
            reads,
            due: due_of(ctx, &t.d, &t.def, &t.task.step, &rt.calendar(), now),
            clock,
            mine: mine && open,
            other,
            claim_until: live.map(|(_, until)| local(until)).unwrap_or_default(),
            fields: fields
                .unwrap_or_else(|| step.map(|s| form::fields(&s.writes)).unwrap_or_default()),
            can_reject: mine && outcomes.contains(&Outcome::Rejected),
            can_supplement: mine && outcomes.contains(&Outcome::Supplement),
            can_verify,
            verify_deadline,
            error,
            field_errors,
            documents,
        },
    )
}

/// `GET /desk/{code}/{step}`
pub async fn show<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
) -> Response {
    match target(&state, &ctx, &code, &step).await {
        Ok(t) => page(&state, &ctx, &t, None, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

/// A refused action in the officer's words.
fn refusal(ctx: &Ctx, e: &Error) -> String {
    let t = ctx.t();
    match e {
        Error::Task(TaskError::ClaimedByOther { .. }) => t.claimed_by_other.to_string(),
        Error::Task(TaskError::NotClaimant { .. }) => t.claim_first.to_string(),
        other => crate::mask::text(&other.to_string()),
    }
}

/// Runs an action and answers: to the task page again (claim, verification), or to the
/// dossier (the task is answered and leaves the queue).
async fn act<S, F, Fut>(
    state: &AppState<S>,
    ctx: &Ctx,
    code: &str,
    step: &str,
    leaves: bool,
    f: F,
) -> Response
where
    S: Store,
    F: FnOnce(DossierId, String, String) -> Fut,
    Fut: std::future::Future<Output = lienthong_engine::runtime::Result<Task>>,
{
    let t = match target(state, ctx, code, step).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    match f(t.d.id.clone(), t.agency.clone(), t.officer.clone()).await {
        Ok(_) if leaves => Redirect::to(&format!("/dossiers/{code}?done=1")).into_response(),
        Ok(_) => Redirect::to(&format!("/desk/{code}/{step}")).into_response(),
        Err(Error::Task(TaskError::NotFound { .. })) => super::not_found(ctx),
        Err(e) => {
            let msg = refusal(ctx, &e);
            match target(state, ctx, code, step).await {
                Ok(t) => page(state, ctx, &t, None, Some(msg), StatusCode::CONFLICT).await,
                Err(r) => r,
            }
        }
    }
}

/// `POST /desk/{code}/{step}/claim`
pub async fn claim<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
) -> Response {
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, false, |id, agency, who| {
        let step = step.clone();
        async move { rt.claim_task(&agency, &id, &step, &who).await }
    })
    .await
}

/// `POST /desk/{code}/{step}/release`: back to the agency's queue.
pub async fn release<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
) -> Response {
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, false, |id, agency, who| {
        let step = step.clone();
        async move { rt.release_task(&agency, &id, &step, &who).await }
    })
    .await
}

/// `POST /desk/{code}/{step}/complete`
pub async fn complete<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(posted): Form<Posted>,
) -> Response {
    let t = match target(&state, &ctx, &code, &step).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let writes = t
        .def
        .step(&step)
        .map(|s| s.writes.clone())
        .unwrap_or_default();
    let outputs = match form::parse(&writes, &posted, ctx.t()) {
        Ok(o) => o,
        Err(fields) => {
            let msg = Some(ctx.t().form_errors.to_string());
            return page(
                &state,
                &ctx,
                &t,
                Some(fields),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, true, |id, agency, who| {
        let step = step.clone();
        async move { rt.complete_task(&agency, &id, &step, &who, &outputs).await }
    })
    .await
}

/// The trimmed `name` field, or the task page with "enter a reason".
async fn reason<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    code: &str,
    step: &str,
    posted: &Posted,
    name: &str,
) -> Result<String, Response> {
    let text = posted
        .get(name)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if !text.is_empty() {
        return Ok(text);
    }
    let msg = Some(ctx.t().reason_required.to_string());
    Err(match target(state, ctx, code, step).await {
        Ok(t) => page(state, ctx, &t, None, msg, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(r) => r,
    })
}

/// `POST /desk/{code}/{step}/reject`
pub async fn reject<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(posted): Form<Posted>,
) -> Response {
    let why = match reason(&state, &ctx, &code, &step, &posted, "reason").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, true, |id, agency, who| {
        let step = step.clone();
        async move { rt.reject_task(&agency, &id, &step, &who, &why).await }
    })
    .await
}

/// `POST /desk/{code}/{step}/supplement`
pub async fn supplement<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(posted): Form<Posted>,
) -> Response {
    let why = match reason(&state, &ctx, &code, &step, &posted, "reason").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, true, |id, agency, who| {
        let step = step.clone();
        async move { rt.request_supplement(&agency, &id, &step, &who, &why).await }
    })
    .await
}

/// `POST /desk/{code}/{step}/verify` (needs the confirmation box ticked).
pub async fn verify<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(posted): Form<Posted>,
) -> Response {
    let basis = match reason(&state, &ctx, &code, &step, &posted, "basis").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    if posted.get("confirm").map(String::as_str) != Some("yes") {
        let msg = Some(ctx.t().verify_confirm.to_string());
        return match target(&state, &ctx, &code, &step).await {
            Ok(t) => {
                page(
                    &state,
                    &ctx,
                    &t,
                    None,
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r,
        };
    }
    let rt = state.runtime.clone();
    act(&state, &ctx, &code, &step, false, |id, agency, who| {
        let step = step.clone();
        async move {
            rt.start_verification(&agency, &id, &step, &who, &basis)
                .await
        }
    })
    .await
}

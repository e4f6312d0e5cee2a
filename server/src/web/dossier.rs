//! A dossier as staff see it: its status and appointment, each procedure's outcome, the
//! steps with the time each agency held the file, the control sheet, and the documents
//! issued to the citizen — each printable as its slip. It is the API's dossier view
//! (`http/view.rs`) rendered, so an agency sees only its own steps here too.

use super::{Chrome, Ctx, render};
use crate::http::AppState;
use crate::http::auth::Principal;
use crate::http::scope::may_see;
use crate::http::view::{DossierView, view};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use lienthong_engine::definition::Procedure;
use lienthong_engine::machine::{Dossier, portal_label_en, portal_label_vi};
use lienthong_engine::runtime::Store;
use serde::Deserialize;
use std::sync::Arc;

/// The dossier with this code and its definition, if the caller may see it; else the
/// page of a dossier that does not exist.
pub async fn visible<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    p: &Principal,
    code: &str,
) -> Result<(Dossier, Arc<Procedure>), Response> {
    let store = &state.runtime;
    let id = match store.dossier_by_code(code).await {
        Ok(Some(id)) => id,
        Ok(None) => return Err(super::not_found(ctx)),
        Err(e) => return Err(super::unavailable(ctx, e)),
    };
    let (d, origin) = match (store.load(&id).await, store.origin(&id).await) {
        (Ok(Some(d)), Ok(Some(o))) => (d, o),
        (Err(e), _) | (_, Err(e)) => return Err(super::unavailable(ctx, e)),
        _ => return Err(super::not_found(ctx)),
    };
    if !may_see(p, &d, &origin) {
        return Err(super::not_found(ctx));
    }
    match state.runtime.procedure(&d.procedure.hash).await {
        Ok(def) => Ok((d, def)),
        Err(e) => Err(super::unavailable(ctx, e)),
    }
}

/// One document issued to the citizen, in the page's language.
#[derive(Debug)]
pub struct Slip {
    pub n: usize,
    pub kind: String,
    pub at: String,
    pub text: String,
}

/// One step row.
#[derive(Debug)]
pub struct StepRow {
    pub name: String,
    pub agency: String,
    pub status: String,
    pub started: String,
    pub finished: String,
    pub deadline: String,
    pub held: String,
    pub breached: bool,
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage {
    c: Chrome,
    code: String,
    title: String,
    status: String,
    received: String,
    appointment: String,
    reason: String,
    procedures: Vec<(String, String)>,
    steps: Vec<StepRow>,
    sheet: String,
    slips: Vec<Slip>,
    only: Option<usize>,
    notice: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct Options {
    /// Print one document (its number on the page).
    pub print: Option<usize>,
    /// Set after an action on the desk.
    pub done: Option<String>,
}

fn when(iso: Option<&str>) -> String {
    iso.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.format("%d/%m/%Y %H:%M").to_string())
        .unwrap_or_default()
}

/// `GET /dossiers/{code}`
pub async fn show<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path(code): Path<String>,
    Query(options): Query<Options>,
) -> Response {
    let Some(p) = ctx.principal.clone() else {
        return super::not_found(&ctx);
    };
    let (d, def) = match visible(&state, &ctx, &p, &code).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rt = &state.runtime;
    let v: DossierView = view(&d, &p, &rt.calendar(), rt.now(), Some(&def));
    let lang = ctx.lang;
    let t = ctx.t();
    let steps = v
        .timeline
        .iter()
        .map(|s| {
            let step = def.step(&s.step);
            StepRow {
                name: step.map_or_else(
                    || s.step.clone(),
                    |st| lang.pick(&st.name.vi, &st.name.en).to_string(),
                ),
                agency: lienthong_engine::definition::Catalog::role_name(&def, &s.agency)
                    .map_or_else(|| s.agency.clone(), |n| lang.pick(&n.vi, &n.en).to_string()),
                status: step_status(lang, &s.status).to_string(),
                started: when(s.started_at.as_deref()),
                finished: when(s.finished_at.as_deref()),
                deadline: when(s.deadline.as_deref()),
                held: s
                    .held_working_days
                    .map(|h| format!("{h:.2} {}", t.working_days))
                    .unwrap_or_default(),
                breached: s.breached,
            }
        })
        .collect();
    let slips = v
        .documents
        .iter()
        .enumerate()
        .map(|(n, doc)| Slip {
            n: n + 1,
            kind: doc.kind.clone(),
            at: when(doc.at.as_deref()),
            text: lang.pick(&doc.vi, &doc.en).to_string(),
        })
        .collect();
    render(
        StatusCode::OK,
        &DossierPage {
            c: ctx.chrome(""),
            code: v.code.clone(),
            title: lang.pick(&def.title.vi, &def.title.en).to_string(),
            status: lang
                .pick(portal_label_vi(&def, &d), portal_label_en(&def, &d))
                .to_string(),
            received: when(Some(&v.received_at)),
            appointment: when(v.appointment.as_deref()),
            reason: v.reason.clone().unwrap_or_default(),
            procedures: lienthong_engine::machine::results(&def, &d)
                .into_iter()
                .map(|pr| {
                    (
                        lang.pick(&pr.title_vi, &pr.title_en).to_string(),
                        lang.pick(pr.status.label_vi(), pr.status.label_en())
                            .to_string(),
                    )
                })
                .collect(),
            steps,
            sheet: lang
                .pick(&v.control_sheet.vi, &v.control_sheet.en)
                .to_string(),
            slips,
            only: options.print,
            notice: options.done.as_ref().map(|_| t.done_message),
        },
    )
}

/// A step status in words.
pub fn step_status(lang: super::Lang, status: &str) -> &'static str {
    let (vi, en) = match status {
        "pending" => ("Chưa đến lượt", "Not started"),
        "queued" => ("Chờ cán bộ nhận", "Waiting for an officer"),
        "claimed" => ("Cán bộ đang xử lý", "With an officer"),
        "dispatched" => ("Đã gửi cơ quan", "Sent to the agency"),
        "accepted" => ("Cơ quan đang xử lý", "Accepted by the agency"),
        "retry_wait" => ("Chờ gửi lại", "Waiting to retry"),
        "supplement" => (
            "Chờ công dân bổ sung",
            "Waiting for the citizen's supplement",
        ),
        "done" => ("Đã xong", "Done"),
        "rejected" => ("Từ chối", "Refused"),
        "skipped" => ("Không áp dụng", "Not applicable"),
        "incident" => (
            "Sự cố, chờ quản trị xử lý",
            "Incident, waiting for an administrator",
        ),
        "cancelled" => ("Đã hủy", "Cancelled"),
        _ => ("—", "—"),
    };
    lang.pick(vi, en)
}

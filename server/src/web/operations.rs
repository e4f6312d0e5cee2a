//! The administrator's operations: steps in incident, retried or skipped with a reason (the
//! runtime's `resolve_incident`, as through the API), and the working-day calendar of a year
//! — holidays, compensatory days, working Saturdays — with the yearly notice uploaded (the
//! runtime's `install_notice`).

use super::desk::local;
use super::{Chrome, Ctx, render};
use crate::http::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lienthong_engine::calendar::DayKind;
use lienthong_engine::machine::{Resolution, StepStatus};
use lienthong_engine::runtime::Store;
use lienthong_engine::runtime::{Error, NoticeError};
use serde::Deserialize;
use std::sync::Arc;

/// The incidents shown on one page, at most.
const PAGE: i64 = 100;

#[derive(Debug)]
pub struct Incident {
    pub code: String,
    pub step: String,
    pub agency: String,
    pub opened: String,
    pub attempts: u32,
    pub message: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    c: Chrome,
    items: Vec<Incident>,
    error: Option<String>,
    done: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: String,
}

async fn incidents_page<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    error: Option<String>,
    done: bool,
) -> Response {
    let Some(p) = &ctx.principal else {
        return super::not_found(ctx);
    };
    let page = match state.runtime.incident_dossiers(&p.scope, "", PAGE).await {
        Ok(page) => page,
        Err(e) => return super::unavailable(ctx, e),
    };
    let mut items = Vec::new();
    for d in &page {
        for (step, s) in &d.steps {
            if let (StepStatus::Incident, Some(i)) = (s.status, &s.incident) {
                items.push(Incident {
                    code: d.code.clone(),
                    step: step.to_string(),
                    agency: s.agency.to_string(),
                    opened: local(i.opened_at),
                    attempts: i.attempts,
                    message: crate::mask::text(&i.message),
                });
            }
        }
    }
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &IncidentsPage {
            c: ctx.chrome("/admin"),
            items,
            error,
            done,
        },
    )
}

/// `GET /admin/incidents`
pub async fn incidents<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<Done>,
) -> Response {
    incidents_page(&state, &ctx, None, !q.done.is_empty()).await
}

#[derive(Debug, Deserialize)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

async fn resolve<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    code: &str,
    step: &str,
    resolution: Resolution,
    reason: &str,
) -> Response {
    let t = ctx.t();
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 4_000 {
        return incidents_page(state, ctx, Some(t.reason_required.to_string()), false).await;
    }
    let Some(p) = ctx.principal.clone() else {
        return super::not_found(ctx);
    };
    let (d, _) = match super::dossier::visible(state, ctx, &p, code).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match state
        .runtime
        .resolve_incident(&d.id, step, resolution, &p.subject, reason)
        .await
    {
        Ok(_) => Redirect::to("/admin/incidents?done=1").into_response(),
        Err(Error::NoIncident { .. } | Error::NoDossier(_)) => super::not_found(ctx),
        // What failed inside is logged, never shown (as the API's `ApiError`).
        Err(e @ Error::Store(_)) => super::unavailable(ctx, e),
        Err(e) => {
            let msg = crate::mask::text(&e.to_string());
            incidents_page(state, ctx, Some(msg), false).await
        }
    }
}

/// `POST /admin/incidents/{code}/{step}/retry`
pub async fn retry<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(f): Form<Reason>,
) -> Response {
    resolve(&state, &ctx, &code, &step, Resolution::Retry, &f.reason).await
}

/// `POST /admin/incidents/{code}/{step}/skip`
pub async fn skip<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path((code, step)): Path<(String, String)>,
    Form(f): Form<Reason>,
) -> Response {
    resolve(&state, &ctx, &code, &step, Resolution::Skip, &f.reason).await
}

#[derive(Debug)]
pub struct Day {
    pub date: String,
    pub weekday: &'static str,
    pub kind: &'static str,
    pub class: &'static str,
    pub name: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    c: Chrome,
    year: i32,
    prev: i32,
    next: i32,
    days: Vec<Day>,
    provisional: bool,
    version: String,
    notice: String,
    installed: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    #[serde(default)]
    year: String,
}

fn weekday(lang: super::Lang, d: chrono::NaiveDate) -> &'static str {
    use chrono::Datelike as _;
    let n = d.weekday().num_days_from_monday() as usize;
    let vi = [
        "Thứ Hai",
        "Thứ Ba",
        "Thứ Tư",
        "Thứ Năm",
        "Thứ Sáu",
        "Thứ Bảy",
        "Chủ nhật",
    ];
    let en = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    lang.pick(vi[n], en[n])
}

fn calendar_page<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    year: i32,
    notice: String,
    installed: Option<String>,
    error: Option<String>,
) -> Response {
    let cal = state.runtime.calendar();
    let lang = ctx.lang;
    let days = cal
        .entries(year)
        .into_iter()
        .map(|e| {
            let (kind, class) = match e.kind {
                DayKind::Holiday => (lang.pick("Ngày lễ, Tết", "Public holiday"), "overdue"),
                DayKind::Compensatory => {
                    (lang.pick("Ngày nghỉ bù", "Compensatory day off"), "soon")
                }
                DayKind::WorkingSaturday => (lang.pick("Thứ Bảy làm bù", "Working Saturday"), "ok"),
            };
            Day {
                date: e.date.format("%d/%m/%Y").to_string(),
                weekday: weekday(lang, e.date),
                kind,
                class,
                name: lang.pick(&e.name_vi, &e.name_en).to_string(),
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &CalendarPage {
            c: ctx.chrome("/admin"),
            year,
            prev: year - 1,
            next: year + 1,
            days,
            provisional: cal.is_provisional(year),
            version: cal.version(),
            notice,
            installed,
            error,
        },
    )
}

fn year_of(text: &str, default: i32) -> i32 {
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (1900..=2100).contains(y))
        .unwrap_or(default)
}

fn this_year<S: Store>(state: &AppState<S>) -> i32 {
    use chrono::Datelike as _;
    chrono::DateTime::from_timestamp_millis(state.runtime.now()).map_or(2026, |t| {
        t.with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
            .year()
    })
}

/// `GET /admin/calendar?year=…`
pub async fn calendar<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<YearQuery>,
) -> Response {
    let year = year_of(&q.year, this_year(&state));
    calendar_page(&state, &ctx, year, String::new(), None, None)
}

#[derive(Debug, Deserialize)]
pub struct Notice {
    #[serde(default)]
    year: String,
    #[serde(default)]
    notice: String,
}

/// `POST /admin/calendar`: the year's notice, checked and in force at once.
pub async fn notice<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<Notice>,
) -> Response {
    let year = year_of(&f.year, this_year(&state));
    let by = ctx
        .principal
        .as_ref()
        .map_or_else(String::new, |p| p.subject.clone());
    match state.runtime.install_notice(year, &f.notice, &by).await {
        Ok(version) => calendar_page(&state, &ctx, year, String::new(), Some(version), None),
        Err(NoticeError::Invalid(m)) => calendar_page(&state, &ctx, year, f.notice, None, Some(m)),
        Err(NoticeError::Store(e)) => super::unavailable(&ctx, e),
    }
}

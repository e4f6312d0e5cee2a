//! The manager's dashboard: per procedure group, inside the manager's area and for the
//! period asked — counts in the one-stop-shop report's shape, median and p90 working days
//! against the legal limit and the pre-reform baseline, the on-time and online rates, the
//! time each agency held the files, the trend by week or month of receipt, the provinces
//! and the worst communes, and the late dossiers. It reads the runtime's `report`, as
//! `/api/v1/figures` does, and the CSV and XLSX exports are written from the same report
//! (`super::export`).

use super::chart::{self, Bar, Group, num1};
use super::desk::{Choice, procedure_choices};
use super::export;
use super::{Chrome, Ctx, render};
use crate::figures::{self, AreaRow, Late, Report};
use crate::http::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_engine::report::GroupReport;
use lienthong_engine::runtime::Store;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Default, Deserialize)]
pub struct Period {
    #[serde(default)]
    pub procedure: String,
    /// First day of receipt (yyyy-mm-dd), inclusive.
    #[serde(default)]
    pub from: String,
    /// Last day of receipt, inclusive.
    #[serde(default)]
    pub to: String,
    /// The trend by `week` (the default) or `month` of receipt.
    #[serde(default)]
    pub by: String,
    /// `csv` or `xlsx` (the export's format).
    #[serde(default)]
    pub format: String,
}

/// One group's line, as the page and the CSV write it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub dossiers: usize,
    pub decided: usize,
    pub median: String,
    pub p90: String,
    pub limit: u32,
    pub baseline: String,
    pub on_time_rate: String,
    pub online_rate: String,
    pub online: usize,
    pub in_person: usize,
    pub early: usize,
    pub on_time: usize,
    pub late: usize,
    pub within_time: usize,
    pub overdue: usize,
    pub carried_over: String,
}

fn opt1(x: Option<f64>) -> String {
    x.map(num1).unwrap_or_default()
}

fn rate(x: Option<f64>) -> String {
    x.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_default()
}

fn row(ctx: &Ctx, g: &GroupReport) -> Row {
    Row {
        id: g.procedure.clone(),
        title: ctx.lang.pick(&g.title_vi, &g.title_en).to_string(),
        dossiers: g.dossiers,
        decided: g.decided,
        median: opt1(g.median_working_days),
        p90: opt1(g.p90_working_days),
        limit: g.legal_limit_days,
        baseline: g.baseline_days.map(|b| b.to_string()).unwrap_or_default(),
        on_time_rate: rate(g.on_time_rate),
        online_rate: rate(g.online_rate),
        online: g.received.online,
        in_person: g.received.in_person,
        early: g.resolved.early,
        on_time: g.resolved.on_time,
        late: g.resolved.late,
        within_time: g.in_progress.within_time,
        overdue: g.in_progress.overdue,
        carried_over: g.carried_over.map(|n| n.to_string()).unwrap_or_default(),
    }
}

#[derive(Debug)]
pub struct AgencyRow {
    pub agency: String,
    pub steps: usize,
    pub total: String,
    pub mean: String,
}

/// A week or month of the trend, as written.
#[derive(Debug)]
pub struct WeekRow {
    pub start: String,
    pub received: usize,
    pub decided: usize,
    pub median: String,
    pub on_time_rate: String,
}

/// A step that ran past its limit, and how often.
#[derive(Debug)]
pub struct Worst {
    pub group: String,
    pub step: String,
    pub breaches: usize,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    weeks: Vec<WeekRow>,
    monthly: bool,
    provinces: Vec<AreaRow>,
    communes: Vec<AreaRow>,
    national: bool,
    export_xlsx: String,
    stored_until: String,
    worst: Vec<Worst>,
    c: Chrome,
    p: Period,
    procedures: Vec<Choice>,
    rows: Vec<Row>,
    agencies: Vec<AgencyRow>,
    late: Vec<Late>,
    chart: String,
    total: usize,
    error: Option<String>,
    export: String,
}

async fn load<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    p: &Period,
) -> Result<(Report, Option<String>), Response> {
    let Some(who) = ctx.principal.as_ref() else {
        return Err(super::not_found(ctx));
    };
    let (window, error) = match figures::period(Some(&p.from), Some(&p.to)) {
        Ok(w) => (w, None),
        Err(e) => (None, Some(e)),
    };
    let procedure = (!p.procedure.is_empty()).then_some(p.procedure.as_str());
    match state.runtime.report(&who.scope, procedure, window).await {
        Ok(f) => Ok((f, error)),
        Err(e) => Err(super::unavailable(ctx, e)),
    }
}

/// `GET /dashboard`
pub async fn show<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<Period>,
) -> Response {
    let (f, error) = match load(&state, &ctx, &p).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = ctx.t();
    let rows: Vec<Row> = f.summary.groups.iter().map(|g| row(&ctx, g)).collect();
    let groups: Vec<Group> = f
        .summary
        .groups
        .iter()
        .filter(|g| g.dossiers > 0)
        .map(|g| {
            // No bar for a median that does not exist yet (nothing decided).
            let mut bars: Vec<Bar> = g
                .median_working_days
                .map(|m| Bar {
                    series: t.chart_median.into(),
                    value: m,
                    color: "#0b4f8a",
                })
                .into_iter()
                .collect();
            bars.push(Bar {
                series: t.legal_limit.into(),
                value: f64::from(g.legal_limit_days),
                color: "#6b7480",
            });
            if let Some(b) = g.baseline_days {
                bars.push(Bar {
                    series: t.baseline.into(),
                    value: f64::from(b),
                    color: "#a3140f",
                });
            }
            Group {
                label: ctx.lang.pick(&g.title_vi, &g.title_en).to_string(),
                bars,
            }
        })
        .collect();
    let agencies = f
        .summary
        .agencies
        .iter()
        .map(|a| AgencyRow {
            agency: lienthong_engine::definition::Catalog::builtin_name(&a.agency).map_or_else(
                || a.agency.clone(),
                |n| ctx.lang.pick(&n.vi, &n.en).to_string(),
            ),
            steps: a.steps,
            total: num1(a.working_days),
            mean: num1(a.mean_per_step),
        })
        .collect();
    let query = |format| {
        serde_urlencoded::to_string([
            ("procedure", p.procedure.as_str()),
            ("from", p.from.as_str()),
            ("to", p.to.as_str()),
            ("format", format),
        ])
        .unwrap_or_default()
    };
    let (export, export_xlsx) = (query("csv"), query("xlsx"));
    let monthly = p.by == "month";
    let procedures = procedure_choices(&state, &ctx, &p.procedure).await;
    let weeks = if monthly { &f.months } else { &f.weeks }
        .iter()
        .map(|w| WeekRow {
            start: if monthly {
                w.start.format("%m/%Y").to_string()
            } else {
                w.start.format("%d/%m/%Y").to_string()
            },
            received: w.received,
            decided: w.decided,
            median: opt1(w.median_working_days),
            on_time_rate: rate(w.on_time_rate),
        })
        .collect();
    let mut worst = Vec::new();
    for g in &f.summary.groups {
        if g.breaches.is_empty() {
            continue;
        }
        let def = state
            .runtime
            .newest_procedure(&g.procedure)
            .await
            .ok()
            .flatten();
        for (step, n) in &g.breaches {
            let name = def.as_ref().and_then(|d| d.step(step)).map_or_else(
                || step.clone(),
                |s| ctx.lang.pick(&s.name.vi, &s.name.en).to_string(),
            );
            worst.push(Worst {
                group: ctx.lang.pick(&g.title_vi, &g.title_en).to_string(),
                step: name,
                breaches: *n,
            });
        }
    }
    worst.sort_by_key(|w| std::cmp::Reverse(w.breaches));
    worst.truncate(10);
    render(
        StatusCode::OK,
        &DashboardPage {
            c: ctx.chrome("/dashboard"),
            weeks,
            monthly,
            national: ctx
                .principal
                .as_ref()
                .is_some_and(|w| w.scope.province.is_none() && w.scope.commune.is_none()),
            provinces: f.provinces.clone(),
            communes: f.communes.iter().take(10).cloned().collect(),
            export_xlsx,
            stored_until: stored_until(f.stored_until),
            worst,
            procedures,
            chart: chart::bars("chart-times", t.chart_title, &groups),
            rows,
            agencies,
            late: f.late.into_iter().take(50).collect(),
            total: f.dossiers,
            error,
            export,
            p,
        },
    )
}

/// `GET /dashboard/export?format=csv|xlsx`: the groups as CSV, or every table of the page
/// as an Excel workbook.
pub async fn export<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<Period>,
) -> Response {
    let xlsx = match p.format.as_str() {
        "" | "csv" => false,
        "xlsx" => true,
        _ => return super::not_found(&ctx),
    };
    let (f, _) = match load(&state, &ctx, &p).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let sheets = export::sheets(ctx.t(), ctx.lang == super::Lang::Vi, &f);
    let (body, kind, name) = if xlsx {
        match export::xlsx(&sheets) {
            Ok(b) => (
                b,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "attachment; filename=\"lienthong-figures.xlsx\"",
            ),
            Err(e) => return super::unavailable(&ctx, e),
        }
    } else {
        let groups = sheets.first().map(export::csv).unwrap_or_default();
        (
            groups.into_bytes(),
            "text/csv; charset=utf-8",
            "attachment; filename=\"lienthong-figures.csv\"",
        )
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    r
}

/// The day the stored tallies end, as the page writes it (empty before the first rollup).
fn stored_until(at: lienthong_engine::clock::Millis) -> String {
    if at <= 0 {
        return String::new();
    }
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| {
            t.with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
                .format("%d/%m/%Y")
                .to_string()
        })
        .unwrap_or_default()
}

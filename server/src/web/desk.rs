//! The officer's desk: the agency's open tasks, the most urgent first (by working time left
//! on the step's own clock, in its procedure's office hours and calendar), with due today,
//! due soon and overdue marked; filters by procedure, status and commune; search by code.

use super::{Chrome, Ctx, render};
use crate::http::AppState;
use crate::http::scope::may_see;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use lienthong_engine::calendar::{Calendar, VIETNAM_OFFSET};
use lienthong_engine::clock::Millis;
use lienthong_engine::definition::Procedure;
use lienthong_engine::ident::units::units;
use lienthong_engine::machine::{Dossier, office_hours};
use lienthong_engine::runtime::{Scope, Store, Task};
use lienthong_engine::runtime::{TaskQuery, TaskStatus};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest queue page shown (the most urgent of these first).
const PAGE: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub code: String,
}

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    Overdue,
    Today,
    Soon,
    InTime,
    None,
}

impl Urgency {
    pub fn class(self) -> &'static str {
        match self {
            Urgency::Overdue => "overdue",
            Urgency::Today => "today",
            Urgency::Soon => "soon",
            Urgency::InTime => "ok",
            Urgency::None => "",
        }
    }
}

/// A task's deadline and what is left of it, in words.
#[derive(Debug, Clone)]
pub struct Due {
    pub urgency: Urgency,
    pub label: &'static str,
    pub at: String,
    pub left: String,
    /// Working minutes left (negative when overdue): the sort key.
    pub minutes: i64,
}

/// The deadline of `step` of `d` at `now`, in its procedure's office hours.
pub fn due_of(
    ctx: &Ctx,
    d: &Dossier,
    p: &Procedure,
    step: &str,
    cal: &Calendar,
    now: Millis,
) -> Due {
    let t = ctx.t();
    let clock = d.steps.get(step).and_then(|s| s.clock.as_ref());
    let office = office_hours(p);
    let (Some(clock), Some(now_at)) = (
        clock,
        DateTime::from_timestamp_millis(now).map(|n| n.with_timezone(&VIETNAM_OFFSET)),
    ) else {
        return Due {
            urgency: Urgency::None,
            label: t.no_deadline,
            at: String::new(),
            left: String::new(),
            minutes: i64::MAX,
        };
    };
    let left = clock.remaining(now_at, cal, &office);
    let deadline = clock.deadline();
    let minutes = left.working_time.num_minutes();
    let day = office.day_length().num_minutes().max(1);
    let urgency = if left.overdue {
        Urgency::Overdue
    } else if left.working_days == 0 {
        Urgency::Today
    } else if left.working_days <= 1 {
        Urgency::Soon
    } else {
        Urgency::InTime
    };
    let label = match urgency {
        Urgency::Overdue => t.overdue,
        Urgency::Today => t.due_today,
        Urgency::Soon => t.due_soon,
        Urgency::InTime => t.in_time,
        Urgency::None => t.no_deadline,
    };
    let amount = if minutes.abs() < day {
        format!("{:.1} {}", minutes.abs() as f64 / 60.0, t.working_hours)
    } else {
        format!(
            "{:.1} {}",
            minutes.abs() as f64 / day as f64,
            t.working_days
        )
    };
    let left_text = if minutes < 0 {
        format!("{} {amount}", t.late_by)
    } else {
        amount
    };
    Due {
        urgency,
        label,
        at: deadline
            .map(|d| local(d.timestamp_millis()))
            .unwrap_or_default(),
        left: left_text,
        minutes,
    }
}

/// `dd/mm/yyyy hh:mm` in Vietnam.
pub fn local(ms: Millis) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&VIETNAM_OFFSET)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct Row {
    pub code: String,
    pub step: String,
    pub procedure: String,
    pub step_name: String,
    pub status: &'static str,
    pub holder: String,
    pub received: String,
    pub due: Due,
}

#[derive(Debug)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    c: Chrome,
    rows: Vec<Row>,
    procedures: Vec<Choice>,
    statuses: Vec<Choice>,
    f: Filters,
    error: Option<String>,
}

/// The area of the queue: the officer's own, narrowed to a commune inside it if asked.
fn narrowed(scope: &Scope, commune: &str) -> Result<Scope, String> {
    if commune.is_empty() {
        return Ok(scope.clone());
    }
    let (_, province) = units()
        .commune(commune, scope.province.as_deref())
        .map_err(|e| e.to_string())?;
    if scope.commune.as_deref().is_some_and(|c| c != commune) {
        return Err(format!("commune `{commune}` is outside your area"));
    }
    Ok(Scope {
        province: Some(province.to_string()),
        commune: Some(commune.to_string()),
    })
}

/// `GET /desk`
pub async fn queue<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Query(f): Query<Filters>,
) -> Response {
    let (Some(p), t) = (ctx.principal.clone(), ctx.t()) else {
        return super::not_found(&ctx);
    };
    let Some(agency) = p.agency.clone() else {
        return super::not_found(&ctx);
    };
    let rt = &state.runtime;
    let mut error = None;
    let scope = match narrowed(&p.scope, f.commune.trim()) {
        Ok(s) => s,
        Err(e) => {
            error = Some(format!("{}: {e}", t.commune));
            p.scope.clone()
        }
    };
    let status = match f.status.as_str() {
        "queued" => Some(TaskStatus::Queued),
        "claimed" => Some(TaskStatus::Claimed),
        _ => None,
    };
    let procedure = (!f.procedure.is_empty()).then(|| f.procedure.clone());
    let tasks: Vec<Task> = if f.code.trim().is_empty() {
        let query = TaskQuery {
            procedure,
            status,
            limit: PAGE,
            offset: 0,
            newest_first: false,
            scope,
        };
        match rt.open_tasks(&agency, &query).await {
            Ok(t) => t,
            Err(e) => return super::unavailable(&ctx, e),
        }
    } else {
        match by_code(&state, &p, &agency, f.code.trim()).await {
            Ok(t) => t,
            Err(e) => return super::unavailable(&ctx, e),
        }
    };
    let ids: Vec<_> = tasks.iter().map(|t| t.dossier.clone()).collect();
    let dossiers: HashMap<_, _> = match rt.load_many(&ids).await {
        Ok(ds) => ds.into_iter().map(|d| (d.id.clone(), d)).collect(),
        Err(e) => return super::unavailable(&ctx, e),
    };
    let cal = rt.calendar();
    let now = rt.now();
    let mut defs: HashMap<String, Arc<Procedure>> = HashMap::new();
    let mut rows = Vec::new();
    for task in &tasks {
        let Some(d) = dossiers.get(&task.dossier) else {
            continue;
        };
        if !defs.contains_key(&d.procedure.hash) {
            match rt.procedure(&d.procedure.hash).await {
                Ok(def) => {
                    defs.insert(d.procedure.hash.clone(), def);
                }
                Err(e) => return super::unavailable(&ctx, e),
            }
        }
        let Some(def) = defs.get(&d.procedure.hash) else {
            continue;
        };
        let step_name = def.step(&task.step).map_or_else(
            || task.step.clone(),
            |s| ctx.lang.pick(&s.name.vi, &s.name.en).to_string(),
        );
        rows.push(Row {
            code: d.code.clone(),
            step: task.step.clone(),
            procedure: ctx.lang.pick(&def.title.vi, &def.title.en).to_string(),
            step_name,
            status: if task.status == "claimed" {
                t.claimed
            } else {
                t.queued
            },
            holder: task
                .claimed_by
                .as_deref()
                .map(|h| h.strip_prefix("user:").unwrap_or(h).to_string())
                .unwrap_or_default(),
            received: local(d.received_at),
            due: due_of(&ctx, d, def, &task.step, &cal, now),
        });
    }
    rows.sort_by(|a, b| a.due.minutes.cmp(&b.due.minutes).then(a.code.cmp(&b.code)));
    let procedures = procedure_choices(&state, &ctx, &f.procedure).await;
    let statuses = [("queued", t.queued), ("claimed", t.claimed)]
        .into_iter()
        .map(|(v, l)| Choice {
            value: v.into(),
            label: l.into(),
            selected: f.status == v,
        })
        .collect();
    render(
        StatusCode::OK,
        &DeskPage {
            c: ctx.chrome("/desk"),
            rows,
            procedures,
            statuses,
            f,
            error,
        },
    )
}

/// The agency's open tasks of the dossier with this code, if the officer may see it.
async fn by_code<S: Store>(
    state: &AppState<S>,
    p: &crate::http::auth::Principal,
    agency: &str,
    code: &str,
) -> Result<Vec<Task>, String> {
    let rt = &state.runtime;
    let store = rt;
    let Some(id) = store
        .dossier_by_code(code)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(Vec::new());
    };
    let (Some(d), Some(origin)) = (
        store.load(&id).await.map_err(|e| e.to_string())?,
        store.origin(&id).await.map_err(|e| e.to_string())?,
    ) else {
        return Ok(Vec::new());
    };
    if !may_see(p, &d, &origin) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (step, st) in &d.steps {
        if st.agency != agency {
            continue;
        }
        if let Ok(t) = rt.agency_task(agency, &id, step).await
            && matches!(t.status.as_str(), "queued" | "claimed")
        {
            out.push(t);
        }
    }
    Ok(out)
}

/// The published procedures (each by its newest version's title), as filter choices.
pub async fn procedure_choices<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    selected: &str,
) -> Vec<Choice> {
    let rt = &state.runtime;
    let versions = rt.procedure_versions(None).await.unwrap_or_default();
    let mut newest: std::collections::BTreeMap<String, (i64, String)> = Default::default();
    for v in versions {
        if newest.get(&v.id).is_none_or(|(n, _)| *n < v.version) {
            newest.insert(v.id.clone(), (v.version, v.hash.clone()));
        }
    }
    let mut out = Vec::new();
    for (id, (_, hash)) in newest {
        let label = match rt.procedure(&hash).await {
            Ok(p) => ctx.lang.pick(&p.title.vi, &p.title.en).to_string(),
            Err(_) => id.clone(),
        };
        out.push(Choice {
            selected: id == selected,
            value: id,
            label,
        });
    }
    out
}

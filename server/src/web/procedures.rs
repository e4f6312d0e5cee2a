//! The administrator's console for procedures: the published versions (which is in force
//! today), each procedure's graph, and a definition pasted or uploaded, validated with each
//! finding on its line, then published. Publishing is the runtime's, as through the API;
//! only a nationwide administrator publishes (a definition applies nationwide).

use super::{Chrome, Ctx, render};
use crate::http::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lienthong_engine::definition::{Catalog, Severity, validate_source};
use lienthong_engine::runtime::{Store, VersionRow};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct Version {
    pub id: String,
    pub title: String,
    pub version: i64,
    pub effective_from: String,
    pub published: String,
    pub in_force: bool,
}

#[derive(Debug)]
pub struct SourceLine {
    pub n: usize,
    pub text: String,
    pub messages: Vec<String>,
    pub bad: bool,
}

#[derive(Template)]
#[template(path = "procedures.html")]
struct ProceduresPage {
    c: Chrome,
    versions: Vec<Version>,
    source: String,
    checked: bool,
    valid: bool,
    lines: Vec<SourceLine>,
    findings: usize,
    published: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    c: Chrome,
    id: String,
    title: String,
    versions: Vec<Version>,
    graph: String,
}

/// Marks, per procedure, the newest version in force today.
async fn versions<S: Store>(state: &AppState<S>, ctx: &Ctx, rows: Vec<VersionRow>) -> Vec<Version> {
    let rt = &state.runtime;
    let today = chrono::DateTime::from_timestamp_millis(rt.now())
        .map(|t| {
            t.with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
                .date_naive()
                .to_string()
        })
        .unwrap_or_default();
    let mut in_force: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        if r.effective_from <= today && in_force.get(&r.id).is_none_or(|v| *v < r.version) {
            in_force.insert(r.id.clone(), r.version);
        }
    }
    let mut out = Vec::new();
    for r in rows {
        let title = match rt.procedure(&r.hash).await {
            Ok(p) => ctx.lang.pick(&p.title.vi, &p.title.en).to_string(),
            Err(_) => r.id.clone(),
        };
        out.push(Version {
            in_force: in_force.get(&r.id) == Some(&r.version),
            title,
            version: r.version,
            effective_from: r.effective_from,
            published: super::desk::local(r.published_at),
            id: r.id,
        });
    }
    out.sort_by(|a, b| a.id.cmp(&b.id).then(b.version.cmp(&a.version)));
    out
}

async fn console<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    source: String,
    published: Option<String>,
    error: Option<String>,
) -> Response {
    let rows = match state.runtime.procedure_versions(None).await {
        Ok(r) => r,
        Err(e) => return super::unavailable(ctx, e),
    };
    let checked = !source.is_empty() && published.is_none();
    let (valid, lines, findings) = if checked {
        check(&source)
    } else {
        (false, Vec::new(), 0)
    };
    let status = if checked && !valid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &ProceduresPage {
            c: ctx.chrome("/admin"),
            versions: versions(state, ctx, rows).await,
            source,
            checked,
            valid,
            lines,
            findings,
            published,
            error,
        },
    )
}

/// The validator's findings, each on its line of `source`.
fn check(source: &str) -> (bool, Vec<SourceLine>, usize) {
    let v = validate_source("definition.yaml", source.as_bytes(), &Catalog::builtin());
    let mut lines: Vec<SourceLine> = source
        .lines()
        .enumerate()
        .map(|(i, text)| SourceLine {
            n: i + 1,
            text: text.to_string(),
            messages: Vec::new(),
            bad: false,
        })
        .collect();
    if lines.is_empty() {
        lines.push(SourceLine {
            n: 1,
            text: String::new(),
            messages: Vec::new(),
            bad: false,
        });
    }
    let last = lines.len();
    for d in &v.diagnostics {
        let i = d.line.clamp(1, last) - 1;
        let kind = if d.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        let mut m = format!("{kind} {:?}: {}", d.code, d.message);
        if let Some(h) = &d.hint {
            m.push_str(&format!(" ({h})"));
        }
        lines[i].messages.push(m);
        lines[i].bad |= d.severity == Severity::Error;
    }
    (v.is_valid(), lines, v.diagnostics.len())
}

/// `GET /admin`
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    console(&state, &ctx, String::new(), None, None).await
}

#[derive(Debug, serde::Deserialize)]
pub struct Source {
    #[serde(default)]
    pub source: String,
}

/// `POST /admin/validate`
pub async fn validate<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<Source>,
) -> Response {
    console(&state, &ctx, f.source, None, None).await
}

/// `POST /admin/publish`: validated again, then published (by content hash: publishing the
/// same text twice gives one version).
pub async fn publish<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<Source>,
) -> Response {
    let national = ctx
        .principal
        .as_ref()
        .is_some_and(|p| p.scope.is_national());
    if !national {
        return console(
            &state,
            &ctx,
            f.source,
            None,
            Some(
                ctx.lang
                    .pick(
                        "Chỉ quản trị viên cấp toàn quốc được công bố thủ tục.",
                        "Only a nationwide administrator may publish a procedure.",
                    )
                    .to_string(),
            ),
        )
        .await;
    }
    let v = validate_source("definition.yaml", f.source.as_bytes(), &Catalog::builtin());
    let Some(p) = v.procedure else {
        return console(&state, &ctx, f.source, None, None).await;
    };
    match state.runtime.publish(&p).await {
        Ok(done) => {
            let msg = format!(
                "{} {} v{} ({})",
                ctx.t().published,
                done.id,
                done.version,
                done.effective_from
            );
            console(&state, &ctx, String::new(), Some(msg), None).await
        }
        Err(e) => {
            let msg = crate::mask::text(&e.to_string());
            console(&state, &ctx, f.source, None, Some(msg)).await
        }
    }
}

/// `GET /admin/procedures/{id}`: its versions and the graph of the newest.
pub async fn show<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let rows = match state.runtime.procedure_versions(Some(&id)).await {
        Ok(r) => r,
        Err(e) => return super::unavailable(&ctx, e),
    };
    let Some(newest) = rows
        .iter()
        .max_by_key(|r| r.version)
        .map(|r| r.hash.clone())
    else {
        return super::not_found(&ctx);
    };
    let p = match state.runtime.procedure(&newest).await {
        Ok(p) => p,
        Err(e) => return super::unavailable(&ctx, e),
    };
    render(
        StatusCode::OK,
        &ProcedurePage {
            c: ctx.chrome("/admin"),
            title: ctx.lang.pick(&p.title.vi, &p.title.en).to_string(),
            graph: super::graph::svg(&p, ctx.lang == super::Lang::Vi),
            versions: versions(&state, &ctx, rows).await,
            id,
        },
    )
}

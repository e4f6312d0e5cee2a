//! The citizen's status page (public): a dossier code and the applicant's personal ID number
//! show the dossier's status, the appointment and which procedures have a result — nothing
//! else. The pair is posted (never in a URL or a log), a wrong pair answers exactly like an
//! unknown code, and lookups are limited per address.

use super::desk::local;
use super::{Chrome, Ctx, render};
use crate::http::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use lienthong_engine::machine::{
    Dossier, ProcedureStatus, portal_label_en, portal_label_vi, results,
};
use lienthong_engine::runtime::Store;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// Where a filing names the person who files it: the declarant (births, deaths), the
/// applicant (certificates), either partner (marriage).
const FILERS: &[&str] = &["declarant", "applicant", "partner_a", "partner_b"];

#[derive(Debug, Default)]
pub struct Found {
    pub code: String,
    pub status: String,
    pub appointment: String,
    pub procedures: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    c: Chrome,
    code: String,
    found: Option<Found>,
    unknown: bool,
    limited: bool,
}

#[derive(Debug, Deserialize)]
pub struct Lookup {
    #[serde(default)]
    code: String,
    #[serde(default)]
    personal_id: String,
}

/// `GET /status`
pub async fn form(Extension(ctx): Extension<Ctx>) -> Response {
    render(
        StatusCode::OK,
        &StatusPage {
            c: ctx.chrome("/status"),
            code: String::new(),
            found: None,
            unknown: false,
            limited: false,
        },
    )
}

/// The personal ID numbers of those who filed a dossier with this form.
pub fn filers(form: &serde_json::Value) -> impl Iterator<Item = &str> {
    FILERS.iter().filter_map(|f| {
        form.get(*f)
            .and_then(|p| p.get("personal_id"))
            .and_then(|v| v.as_str())
    })
}

/// Whether `id` is the personal ID number of one who filed `d`.
fn filed_by(d: &Dossier, id: &str) -> bool {
    filers(&d.form).any(|v| v == id)
}

/// `POST /status`
pub async fn look_up<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    addr: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(q): Form<Lookup>,
) -> Response {
    let client = addr.map_or_else(|| "-".to_string(), |Extension(a)| a.0.ip().to_string());
    let code = q.code.trim().to_string();
    let id = q.personal_id.trim().to_string();
    let answer = |found: Option<Found>, unknown: bool, limited: bool, status: StatusCode| {
        render(
            status,
            &StatusPage {
                c: ctx.chrome("/status"),
                code: code.clone(),
                found,
                unknown,
                limited,
            },
        )
    };
    if state.lookups.take(&client).is_err() {
        return answer(None, false, true, StatusCode::TOO_MANY_REQUESTS);
    }
    let well_formed = id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) && code.len() <= 64;
    let store = &state.runtime;
    let dossier = if well_formed {
        match store.dossier_by_code(&code).await {
            Ok(Some(i)) => store.load(&i).await.ok().flatten(),
            Ok(None) => None,
            Err(e) => return super::unavailable(&ctx, e),
        }
    } else {
        None
    };
    let Some(d) = dossier.filter(|d| filed_by(d, &id)) else {
        return answer(None, true, false, StatusCode::NOT_FOUND);
    };
    let def = match state.runtime.procedure(&d.procedure.hash).await {
        Ok(p) => p,
        Err(e) => return super::unavailable(&ctx, e),
    };
    let lang = ctx.lang;
    let found = Found {
        code: d.code.clone(),
        status: lang
            .pick(portal_label_vi(&def, &d), portal_label_en(&def, &d))
            .to_string(),
        appointment: d.appointment.map(local).unwrap_or_default(),
        procedures: results(&def, &d)
            .into_iter()
            .filter(|r| r.status != ProcedureStatus::NotRequested)
            .map(|r| {
                (
                    lang.pick(&r.title_vi, &r.title_en).to_string(),
                    lang.pick(r.status.label_vi(), r.status.label_en())
                        .to_string(),
                    r.status == ProcedureStatus::Decided,
                )
            })
            .collect(),
    };
    answer(Some(found), false, false, StatusCode::OK)
}

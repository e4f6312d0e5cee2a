//! Dossiers: the portal files them (with an `Idempotency-Key`), follows them, supplies
//! missing papers and withdraws them; agencies, managers and administrators read the ones
//! they may see (`scope.rs`). A dossier's view shows its status (with the national portal's
//! code), each step, the timeline of which agency held it for how many working days, and
//! its deadlines. Only the filing portal sees the form.

use super::auth::Principal;
use super::scope::{unavailable, visible};
pub use super::view::{DossierView, iso, view};
use super::{AppState, problem};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, extract::rejection::JsonRejection};
use lienthong_engine::ident::units::units;
use lienthong_engine::machine::{Channel, Dossier, Event};
use lienthong_engine::runtime::{Filed, Runtime, Submission};
use lienthong_engine::runtime::{Origin, Store};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A new dossier from the portal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDossier {
    /// The procedure group's id, e.g. `birth-residence-bhyt`.
    pub procedure: String,
    /// The bundle the citizen chose, if the group has several.
    #[serde(default)]
    pub bundle: Option<String>,
    /// The form, as the procedure's form schema describes it.
    #[schema(value_type = Object)]
    pub form: Value,
    /// How it reached the administration: `online` (the default: the portal, VNeID) or
    /// `in_person` (handed in at a one-stop desk or sent by post).
    #[serde(default)]
    pub channel: FilingChannel,
    /// Where it is filed (a portal scoped to an area may leave these out).
    #[serde(default)]
    pub province: Option<String>,
    #[serde(default)]
    pub commune: Option<String>,
}

/// How a dossier reached the administration (see [`NewDossier::channel`]).
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilingChannel {
    #[default]
    Online,
    InPerson,
}

impl From<FilingChannel> for Channel {
    fn from(c: FilingChannel) -> Self {
        match c {
            FilingChannel::Online => Channel::Online,
            FilingChannel::InPerson => Channel::InPerson,
        }
    }
}

/// Papers the citizen supplies for a step that asked for them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementBody {
    pub step: String,
    /// Form fields to merge.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// A reason, for withdrawals, rejections, supplements, verification and incidents.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this procedure id.
    pub procedure: Option<String>,
    /// Continue after this dossier (the `next` of the previous page).
    pub after: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// A refused request body: 400 (not JSON) or 422 (wrong fields), naming the field.
pub fn bad_body(e: JsonRejection) -> Response {
    problem(e.status(), "Invalid request body", &e.body_text())
}

fn text_field(name: &str, value: &str, max: usize) -> Result<(), Response> {
    let ok = !value.trim().is_empty()
        && value.chars().count() <= max
        && !value.chars().any(|c| c.is_control());
    if ok {
        Ok(())
    } else {
        Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request",
            &format!("{name}: 1 to {max} characters, no control characters"),
        ))
    }
}

/// `POST /api/v1/dossiers`
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = NewDossier,
    params(("Idempotency-Key" = String, Header, description = "the same key twice gives one dossier")),
    responses((status = 201, body = DossierView, description = "created"), (status = 200, body = DossierView, description = "the key was used before: the same dossier"),
        (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 413, description = "body too large"), (status = 422, description = "invalid content (the problem names the field)"), (status = 429, description = "too many requests (see Retry-After)")),
    security(("bearer" = [])))]
pub async fn submit<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Json<NewDossier>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key required",
            "Idempotency-Key: send a unique key per dossier (1 to 200 visible ASCII characters)",
        );
    };
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid Idempotency-Key",
            "Idempotency-Key: 1 to 200 visible ASCII characters",
        );
    }
    for (name, v) in [("province", &body.province), ("commune", &body.commune)] {
        if let Some(v) = v
            && let Err(r) = text_field(name, v, 64)
        {
            return r;
        }
    }
    if let Err(e) = units().check_area(body.province.as_deref(), body.commune.as_deref()) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not an administrative unit in force",
            &e,
        );
    }
    // A portal scoped to an area files there and nowhere else.
    let inside = |mine: &Option<String>, given: &Option<String>, name: &str| match (mine, given) {
        (Some(m), Some(g)) if m != g => Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Outside your area",
            &format!("{name}: this portal files in {m} only"),
        )),
        (Some(m), _) => Ok(Some(m.clone())),
        (None, g) => Ok(g.clone()),
    };
    let province = match inside(&p.scope.province, &body.province, "province") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let commune = match inside(&p.scope.commune, &body.commune, "commune") {
        Ok(v) => v,
        Err(r) => return r,
    };
    let sub = Submission {
        channel: body.channel.into(),
        procedure: body.procedure.clone(),
        bundle: body.bundle.clone(),
        form: body.form.clone(),
        // Keys are the portal's own: another system's key never finds this dossier.
        key: Some(format!("{}:{key}", p.subject)),
        origin: Origin {
            submitted_by: Some(p.subject.clone()),
            province,
            commune,
        },
    };
    let rt = &state.runtime;
    let (d, new) = match rt.file(sub).await {
        Ok(Filed::New(d)) => (*d, true),
        // The key filed a dossier before: that one is read, as stored then.
        Ok(Filed::Existing(id)) => match rt.load(&id).await {
            Ok(Some(d)) => (d, false),
            Ok(None) => return super::not_found(),
            Err(e) => return crate::http::api_error(e),
        },
        Err(e) => return crate::http::api_error(e),
    };
    if !new && !same_request(rt, &d, &body).await {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key reused",
            "Idempotency-Key: this key was used for a different dossier",
        );
    }
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let def = rt.procedure(&d.procedure.hash).await.ok();
    let v = view(&d, &p, &rt.calendar(), rt.now(), def.as_deref());
    (status, Json(v)).into_response()
}

/// Whether a repeated key comes with the request that first used it.
async fn same_request<S: Store>(rt: &Runtime<S>, d: &Dossier, body: &NewDossier) -> bool {
    match rt.journal(&d.id).await {
        Ok(j) => j.first().is_some_and(|e| {
            matches!(&e.event, Event::Submitted { procedure, bundle, form, .. }
                if procedure.id == body.procedure && bundle == &body.bundle && form == &body.form)
        }),
        Err(_) => false,
    }
}

/// `GET /api/v1/dossiers/{code}`
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "the dossier code")),
    responses((status = 200, body = DossierView, description = "done"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours")),
    security(("bearer" = [])))]
pub async fn get<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Response {
    match visible(&state, &p, &code).await {
        Ok((d, _)) => {
            let rt = &state.runtime;
            let def = rt.procedure(&d.procedure.hash).await.ok();
            Json(view(&d, &p, &rt.calendar(), rt.now(), def.as_deref())).into_response()
        }
        Err(r) => r,
    }
}

/// `GET /api/v1/dossiers`
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListQuery),
    responses((status = 200, description = "a page of dossiers and the `next` cursor"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Invalid query",
            "allowed: procedure, after, limit",
        );
    };
    let limit = match super::tasks::page_size(q.limit, state.limits.max_page) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let store = &state.runtime;
    let scope = p.scope.clone();
    let page = match store
        .scoped_dossiers(
            &scope,
            q.procedure.as_deref(),
            q.after.as_deref().unwrap_or(""),
            limit,
        )
        .await
    {
        Ok(page) => page,
        Err(e) => return unavailable(e),
    };
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|d| d.id.0.clone()))
        .flatten();
    let rt = &state.runtime;
    let calendar = rt.calendar();
    let mut items = Vec::new();
    for d in &page {
        let origin = match store.origin(&d.id).await {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(e) => return unavailable(e),
        };
        if super::scope::may_see(&p, d, &origin) {
            let def = rt.procedure(&d.procedure.hash).await.ok();
            items.push(view(d, &p, &calendar, rt.now(), def.as_deref()));
        }
    }
    Json(json!({"items": items, "next": next})).into_response()
}

/// `POST /api/v1/dossiers/{code}/supplement`
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/supplement", tag = "dossiers", request_body = SupplementBody,
    params(("code" = String, Path)),
    responses((status = 200, body = DossierView, description = "done"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn supplement<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    body: Result<Json<SupplementBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    let event = Event::SupplementProvided {
        step: body.step.into(),
        data: body.data,
    };
    apply(&state, &p, &code, event).await
}

/// `POST /api/v1/dossiers/{code}/withdraw`
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/withdraw", tag = "dossiers", request_body = ReasonBody,
    params(("code" = String, Path)),
    responses((status = 200, body = DossierView, description = "done"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours"), (status = 409, description = "not allowed in the current state"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn withdraw<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    body: Result<Json<ReasonBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    if let Err(r) = text_field("reason", &body.reason, 4_000) {
        return r;
    }
    apply(
        &state,
        &p,
        &code,
        Event::Withdrawn {
            reason: body.reason,
        },
    )
    .await
}

/// Applies the citizen's event to a dossier the caller may see.
async fn apply<S: Store>(state: &AppState<S>, p: &Principal, code: &str, event: Event) -> Response {
    let (d, _) = match visible(state, p, code).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let rt = &state.runtime;
    match rt.handle(&d.id, &event, None).await {
        Ok(t) => {
            let def = rt.procedure(&t.state.procedure.hash).await.ok();
            Json(view(&t.state, p, &rt.calendar(), rt.now(), def.as_deref())).into_response()
        }
        Err(e) => crate::http::api_error(e),
    }
}

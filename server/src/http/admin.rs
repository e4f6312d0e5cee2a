//! Administration: validate and publish procedure definitions (YAML in the body), list
//! published versions, draw a procedure's graph; create, list and revoke API keys.

use super::auth::{Principal, Role, new_key};
use super::dossiers::bad_body;
use super::scope::unavailable;
use super::{AppState, not_found, problem};
use axum::Extension;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lienthong_engine::definition::{Catalog, render, validate_source};
use lienthong_engine::ident::units::units;
use lienthong_engine::runtime::{ApiKey, Scope, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// Checks a definition: `Ok(procedure)` or the 422 listing every finding.
fn checked(text: &str) -> Result<lienthong_engine::definition::Procedure, Response> {
    let v = validate_source("definition.yaml", text.as_bytes(), &Catalog::builtin());
    match v.procedure {
        Some(p) => Ok(p),
        None => Err(super::problem_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid definition",
            "the definition has errors; see findings",
            json!({"findings": v.diagnostics}),
        )),
    }
}

/// `POST /api/v1/procedures/validate` — the findings, without publishing.
#[utoipa::path(post, path = "/api/v1/procedures/validate", tag = "procedures",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 200, description = "valid: the findings (warnings)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 413, description = "body too large"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn validate(body: String) -> Response {
    let v = validate_source("definition.yaml", body.as_bytes(), &Catalog::builtin());
    let status = if v.is_valid() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        Json(json!({"valid": v.is_valid(), "findings": v.diagnostics})),
    )
        .into_response()
}

/// `POST /api/v1/procedures` — publishes a definition (by content hash; idempotent).
#[utoipa::path(post, path = "/api/v1/procedures", tag = "procedures",
    request_body(content = String, content_type = "application/yaml"),
    responses((status = 201, description = "published"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 409, description = "not allowed in the current state"), (status = 413, description = "body too large"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn publish<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(who): Extension<Principal>,
    body: String,
) -> Response {
    // A definition applies nationwide: only a nationwide administrator publishes one.
    if !who.scope.is_national() {
        return outside_scope("publishing a procedure needs a nationwide administrator");
    }
    let p = match checked(&body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state.runtime.publish(&p).await {
        Ok(published) => (StatusCode::CREATED, Json(json!(published))).into_response(),
        Err(lienthong_engine::runtime::Error::Store(
            lienthong_engine::runtime::StoreError::Conflict(m),
        )) => problem(StatusCode::CONFLICT, "Version exists", &m),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/v1/procedures` — every published version.
#[utoipa::path(get, path = "/api/v1/procedures", tag = "procedures",
    responses((status = 200, description = "published versions"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn list<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    match state.runtime.procedure_versions(None).await {
        Ok(v) => Json(json!({"items": v})).into_response(),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/v1/procedures/{id}/versions`
#[utoipa::path(get, path = "/api/v1/procedures/{id}/versions", tag = "procedures",
    params(("id" = String, Path)),
    responses((status = 200, description = "versions of one procedure"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours")),
    security(("bearer" = [])))]
pub async fn versions<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<String>,
) -> Response {
    match state.runtime.procedure_versions(Some(&id)).await {
        Ok(v) if v.is_empty() => not_found(),
        Ok(v) => Json(json!({"items": v})).into_response(),
        Err(e) => unavailable(e),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GraphQuery {
    /// `mermaid` (default) or `dot`.
    pub format: Option<String>,
}

/// `GET /api/v1/procedures/{id}/graph` — the version in force today, drawn.
#[utoipa::path(get, path = "/api/v1/procedures/{id}/graph", tag = "procedures",
    params(("id" = String, Path), GraphQuery),
    responses((status = 200, description = "Mermaid or Graphviz text", content_type = "text/plain"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours")),
    security(("bearer" = [])))]
pub async fn graph<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Path(id): Path<String>,
    query: Result<Query<GraphQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        return problem(StatusCode::BAD_REQUEST, "Invalid query", "allowed: format");
    };
    let rt = &state.runtime;
    let today = chrono::DateTime::from_timestamp_millis(rt.now())
        .map(|t| {
            t.with_timezone(&lienthong_engine::calendar::VIETNAM_OFFSET)
                .date_naive()
        })
        .unwrap_or_default();
    let p = match rt.procedure_for(&id, today).await {
        Ok(Some((_, p))) => p,
        Ok(None) => return not_found(),
        Err(e) => return unavailable(e),
    };
    let catalog = Catalog::builtin();
    let text = match q.format.as_deref() {
        None | Some("mermaid") => render::mermaid(&p, &catalog),
        Some("dot") => render::dot(&p, &catalog),
        Some(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid query",
                "format: mermaid or dot",
            );
        }
    };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// `portal`, `agency_system`, `agency_officer`, `admin` or `manager`.
    pub role: String,
    /// The agency role it acts for (agency roles only, and required for them).
    pub agency: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    /// What the key is for (shown in lists and the audit).
    pub label: String,
}

/// A created key: the only time the key itself is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub id: String,
    pub key: String,
}

/// Checks and builds a key record; the printed key is returned beside it.
pub fn make_key(k: &NewKey, now: i64) -> Result<(String, ApiKey), String> {
    let role = Role::parse(&k.role).ok_or_else(|| {
        "role: one of portal, agency_system, agency_officer, admin, manager".to_string()
    })?;
    match (&k.agency, role.is_agency()) {
        (None, true) => return Err("agency: required for agency roles".into()),
        (Some(_), false) => return Err("agency: only agency roles act for an agency".into()),
        (Some(a), true) if !lienthong_adapters::agency::ROLES.contains(&a.as_str()) => {
            return Err(format!("agency: unknown agency role `{a}`"));
        }
        _ => {}
    }
    if k.label.trim().is_empty() || k.label.chars().count() > 200 {
        return Err("label: 1 to 200 characters".into());
    }
    // The area is a unit in force (Decision 19/2025); a former province names its successor.
    units().check_area(k.province.as_deref(), k.commune.as_deref())?;
    let (key, id, hash) = new_key().map_err(|e| e.to_string())?;
    Ok((
        key,
        ApiKey {
            id,
            key_hash: hash,
            role: role.as_str().into(),
            agency: k.agency.clone(),
            province: k.province.clone(),
            commune: k.commune.clone(),
            label: k.label.clone(),
            created_at: now,
            revoked_at: None,
        },
    ))
}

/// `POST /api/v1/keys`
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = NewKey,
    responses((status = 201, body = CreatedKey, description = "created"), (status = 400, description = "malformed request (the problem names the field)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 422, description = "invalid content (the problem names the field)")),
    security(("bearer" = [])))]
pub async fn create_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(who): Extension<Principal>,
    body: Result<Json<NewKey>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(b) => b,
        Err(e) => return bad_body(e),
    };
    let wanted = Scope {
        province: body.province.clone(),
        commune: body.commune.clone(),
    };
    if !who.scope.contains(&wanted) {
        return outside_scope(
            "province, commune: a key may not reach beyond the area of the administrator who creates it",
        );
    }
    let (key, record) = match make_key(&body, state.runtime.now()) {
        Ok(k) => k,
        Err(m) => return problem(StatusCode::UNPROCESSABLE_ENTITY, "Invalid key", &m),
    };
    match state.runtime.create_api_key(record).await {
        Ok(record) => {
            (StatusCode::CREATED, Json(CreatedKey { id: record.id, key })).into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `GET /api/v1/keys` — keys without their secrets.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    responses((status = 200, description = "keys (ids, roles, labels)"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route")),
    security(("bearer" = [])))]
pub async fn list_keys<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(who): Extension<Principal>,
) -> Response {
    match state.runtime.api_keys().await {
        Ok(keys) => {
            let items: Vec<_> = keys
                .into_iter()
                .filter(|k| who.scope.contains(&k.scope()))
                .map(|k| {
                    json!({"id": k.id, "role": k.role, "agency": k.agency, "province": k.province,
                        "commune": k.commune, "label": k.label, "created_at": k.created_at, "revoked_at": k.revoked_at})
                })
                .collect();
            Json(json!({"items": items})).into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `DELETE /api/v1/keys/{id}` — revokes a key at once.
#[utoipa::path(delete, path = "/api/v1/keys/{id}", tag = "keys", params(("id" = String, Path)),
    responses((status = 204, description = "done, no content"), (status = 401, description = "no valid credentials"), (status = 403, description = "this role may not use this route"), (status = 404, description = "no such object, or not yours")),
    security(("bearer" = [])))]
pub async fn revoke_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let rt = &state.runtime;
    // A key outside the administrator's area answers like one that does not exist.
    match rt.api_keys().await {
        Ok(keys) => {
            if !keys
                .iter()
                .any(|k| k.id == id && who.scope.contains(&k.scope()))
            {
                return not_found();
            }
        }
        Err(e) => return unavailable(e),
    }
    match rt.revoke_api_key(&id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => not_found(),
        Err(e) => unavailable(e),
    }
}

/// A request beyond the caller's area (403, naming what it asked for).
fn outside_scope(detail: &str) -> Response {
    problem(StatusCode::FORBIDDEN, "Outside your area", detail)
}

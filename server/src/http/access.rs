//! The layer every request passes: find its route in the table, authenticate the caller,
//! apply the route's policy (401 without valid credentials, 403 for a role the route does
//! not admit), the client's rate limit (429 + `Retry-After`), then audit the outcome (who,
//! what, on what, from where, which status — denials included) and count it.

use super::auth::{COOKIE, KEY_PREFIX, Principal, key_hash, key_principal};
use super::policy::{self, Access};
use super::{AppState, problem};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lienthong_engine::clock::Millis;
use lienthong_engine::runtime::{AuditEntry, Store};
use std::net::SocketAddr;
use std::sync::Arc;

/// The credentials a request carries: a bearer value, else the session cookie.
pub fn credentials(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    crate::web::csrf::cookie(headers, COOKIE).map(str::to_string)
}

/// The caller, if the request proves one. `Err` only when the store cannot be read.
pub async fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    now: Millis,
) -> Result<Option<Principal>, String> {
    let Some(token) = credentials(headers) else {
        return Ok(None);
    };
    let store = &state.runtime;
    if token.starts_with(KEY_PREFIX) {
        let key = store
            .api_key_by_hash(&key_hash(&token))
            .await
            .map_err(|e| e.to_string())?;
        return Ok(key.as_ref().and_then(key_principal));
    }
    let Some(session) = state.sessions.session(&token, now) else {
        return Ok(None);
    };
    // A session signed out is over, on every node.
    if store
        .session_ended(&session.id)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(None);
    }
    let p = session.principal;
    // A session lasts only while its account does.
    let Some(name) = p.subject.strip_prefix("user:") else {
        return Ok(None);
    };
    let user = store.user(name).await.map_err(|e| e.to_string())?;
    Ok(user
        .filter(|u| u.disabled_at.is_none() && u.role == p.role.as_str())
        .map(|_| p))
}

fn unauthorized() -> Response {
    let mut r = problem(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "valid credentials are required / cần xác thực hợp lệ",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"lienthong\""),
    );
    r
}

fn forbidden() -> Response {
    problem(
        StatusCode::FORBIDDEN,
        "Forbidden",
        "this role may not use this route / vai trò này không được dùng chức năng này",
    )
}

/// The access layer (see the module's documentation).
pub async fn layer<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = std::time::Instant::now();
    let now = state.runtime.now();
    let method = req.method().as_str().to_string();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_string(), |c| c.0.ip().to_string());
    let target = crate::mask::text(req.uri().path());
    let route = matched.as_deref().and_then(|m| policy::find(&method, m));
    let principal = match authenticate(&state, req.headers(), state.session_now()).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %crate::mask::text(&e), "cannot read credentials");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Store unavailable",
                "try again later",
            );
        }
    };
    let client = principal
        .as_ref()
        .map_or_else(|| format!("addr:{source}"), |p| p.subject.clone());
    let response = if let Err(wait) = state.limiter.take(&client) {
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "slow down / quá nhiều yêu cầu",
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    } else {
        if let Some(p) = &principal {
            req.extensions_mut().insert(p.clone());
        }
        let ctx = req.extensions_mut().get_mut::<crate::web::Ctx>().map(|c| {
            c.principal.clone_from(&principal);
            c.clone()
        });
        match (route, &principal) {
            // Unknown paths and methods: the router answers (404, 405).
            (None, _) => next.run(req).await,
            (Some(r), _) if matches!(r.access, Access::Public | Access::Signed) => {
                next.run(req).await
            }
            // A page sends the visitor to sign in, and answers a role it does not admit
            // as if it did not exist.
            (Some(r), None) if r.page => {
                let here = ctx.as_ref().map_or("/", |c| c.here.as_str());
                let back = if r.method == "GET" { here } else { "/" };
                crate::web::sign_in_redirect(back)
            }
            (Some(r), Some(p)) if r.page && !r.access.admits(p.role) => match &ctx {
                Some(c) => crate::web::not_found(c),
                None => super::not_found(),
            },
            (Some(_), None) => unauthorized(),
            (Some(r), Some(p)) if !r.access.admits(p.role) => forbidden(),
            (Some(_), Some(_)) => next.run(req).await,
        }
    };
    let status = response.status().as_u16();
    let route_name = route.map_or("(unmatched)", |r| r.path);
    metrics::counter!("lienthong_http_requests_total", "route" => route_name, "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("lienthong_http_request_seconds", "route" => route_name)
        .record(started.elapsed().as_secs_f64());
    let audited = target.starts_with("/api/")
        || route.is_some_and(|r| r.page && r.id != policy::RouteId::PageAsset);
    if audited {
        let entry = AuditEntry {
            at: now,
            actor: principal
                .as_ref()
                .map_or_else(|| "anonymous".into(), |p| p.subject.clone()),
            role: principal
                .as_ref()
                .map_or_else(|| "-".into(), |p| p.role.as_str().into()),
            action: format!("{method} {}", matched.as_deref().unwrap_or("(unmatched)")),
            target,
            source,
            outcome: i64::from(status),
        };
        // The action has happened (or been refused) already: a failed audit write cannot
        // undo it, so it is reported loudly instead of changing the answer.
        if let Err(e) = state.runtime.append_audit(&entry).await {
            tracing::error!(error = %e, "audit row not written");
            metrics::counter!("lienthong_audit_failures_total").increment(1);
        }
    }
    tracing::info!(method = %method, route = route_name, status, "request");
    response.into_response()
}

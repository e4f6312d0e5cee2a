//! The administrator's accounts and keys: staff accounts (created with a first password,
//! disabled — their sessions end at once) and systems' API keys (created and shown once,
//! revoked), each only inside the administrator's own area, never a wider one.

use super::{Chrome, Ctx, render};
use crate::http::AppState;
use crate::http::admin::{NewKey, make_key};
use crate::http::auth::{Principal, Role, hash_password};
use crate::http::names;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lienthong_engine::ident::units::units;
use lienthong_engine::runtime::{Scope, Store, User};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub role: &'static str,
    pub agency: String,
    pub area: String,
    pub label: String,
    pub live: bool,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    c: Chrome,
    users: Vec<Row>,
    keys: Vec<Row>,
    roles: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    created_key: Option<String>,
    done: Option<String>,
}

fn area(province: &Option<String>, commune: &Option<String>, t: &super::Text) -> String {
    match (province, commune) {
        (_, Some(c)) => c.clone(),
        (Some(p), None) => units()
            .province(p)
            .map_or_else(|_| p.clone(), |n| format!("{n} ({p})")),
        (None, None) => t.area_national.to_string(),
    }
}

async fn page<S: Store>(
    state: &AppState<S>,
    ctx: &Ctx,
    error: Option<String>,
    created_key: Option<String>,
    done: Option<String>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return super::not_found(ctx);
    };
    let t = ctx.t();
    let store = &state.runtime;
    let (users, keys) = match (store.users().await, store.api_keys().await) {
        (Ok(u), Ok(k)) => (u, k),
        (Err(e), _) | (_, Err(e)) => return super::unavailable(ctx, e),
    };
    let role = |r: &str| Role::parse(r).map_or("—", |r| super::role_label(t, r));
    let users = users
        .into_iter()
        .filter(|u| who.scope.contains(&u.scope()))
        .map(|u| Row {
            role: role(&u.role),
            agency: u.agency.clone().unwrap_or_default(),
            area: area(&u.province, &u.commune, t),
            label: String::new(),
            live: u.disabled_at.is_none(),
            id: u.name,
        })
        .collect();
    let keys = keys
        .into_iter()
        .filter(|k| who.scope.contains(&k.scope()))
        .map(|k| Row {
            role: role(&k.role),
            agency: k.agency.clone().unwrap_or_default(),
            area: area(&k.province, &k.commune, t),
            label: k.label.clone(),
            live: k.revoked_at.is_none(),
            id: k.id,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        status,
        &AccountsPage {
            c: ctx.chrome("/admin"),
            users,
            keys,
            roles: Role::ALL
                .into_iter()
                .map(|r| (r.as_str(), super::role_label(t, r)))
                .collect(),
            error,
            created_key,
            done,
        },
    )
}

/// `GET /admin/accounts`
pub async fn list<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    page(&state, &ctx, None, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct NewAccount {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    province: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    label: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Checks what every new account or key needs: a known role with its agency, an area in
/// force, inside the administrator's own.
fn checked(who: &Principal, f: &NewAccount) -> Result<(Role, Scope), String> {
    let role = Role::parse(f.role.trim())
        .ok_or("role: one of portal, agency_system, agency_officer, admin, manager")?;
    if role.is_agency() != opt(&f.agency).is_some() {
        return Err("agency: required for agency roles, and only for them".into());
    }
    let scope = Scope {
        province: opt(&f.province),
        commune: opt(&f.commune),
    };
    units().check_area(scope.province.as_deref(), scope.commune.as_deref())?;
    if !who.scope.contains(&scope) {
        return Err("province, commune: not beyond your own area".into());
    }
    Ok((role, scope))
}

/// `POST /admin/accounts`: a staff account with its first password.
pub async fn create_user<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<NewAccount>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return super::not_found(&ctx);
    };
    let made = async {
        let name = names::normalise(&f.name)?;
        let (role, scope) = checked(&who, &f)?;
        if f.password.chars().count() < 12 {
            return Err("password: at least 12 characters".to_string());
        }
        let store = &state.runtime;
        let existing = store.users().await.map_err(|e| e.to_string())?;
        if let Some(like) = names::confusable(&name, existing.iter().map(|u| u.name.as_str())) {
            return Err(format!(
                "name: `{name}` looks like the existing user `{like}`"
            ));
        }
        let u = User {
            name: name.clone(),
            password_hash: hash_password(&f.password)?,
            role: role.as_str().into(),
            agency: opt(&f.agency),
            province: scope.province,
            commune: scope.commune,
            created_at: state.runtime.now(),
            disabled_at: None,
        };
        if store
            .create_user(u)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Err(format!("name: `{name}` exists"));
        }
        Ok(name)
    };
    match made.await {
        Ok(name) => page(&state, &ctx, None, None, Some(name)).await,
        Err(e) => page(&state, &ctx, Some(e), None, None).await,
    }
}

/// `POST /admin/accounts/{id}/disable`
pub async fn disable_user<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return super::not_found(&ctx);
    };
    if who.subject == format!("user:{name}") {
        let msg = ctx
            .lang
            .pick(
                "Không thể tự khóa tài khoản của mình.",
                "You cannot disable your own account.",
            )
            .to_string();
        return page(&state, &ctx, Some(msg), None, None).await;
    }
    let store = &state.runtime;
    match store.user(&name).await {
        Ok(Some(u)) if who.scope.contains(&u.scope()) => {}
        Ok(_) => return super::not_found(&ctx),
        Err(e) => return super::unavailable(&ctx, e),
    }
    match store.disable_user(&name).await {
        Ok(_) => Redirect::to("/admin/accounts").into_response(),
        Err(e) => super::unavailable(&ctx, e),
    }
}

/// `POST /admin/keys`: a key, shown once on the page that answers.
pub async fn create_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Form(f): Form<NewAccount>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return super::not_found(&ctx);
    };
    let (role, scope) = match checked(&who, &f) {
        Ok(v) => v,
        Err(e) => return page(&state, &ctx, Some(e), None, None).await,
    };
    let new = NewKey {
        role: role.as_str().into(),
        agency: opt(&f.agency),
        province: scope.province,
        commune: scope.commune,
        label: f.label.trim().to_string(),
    };
    let (key, record) = match make_key(&new, state.runtime.now()) {
        Ok(k) => k,
        Err(e) => return page(&state, &ctx, Some(e), None, None).await,
    };
    match state.runtime.create_api_key(record).await {
        Ok(_) => page(&state, &ctx, None, Some(key), None).await,
        Err(e) => super::unavailable(&ctx, e),
    }
}

/// `POST /admin/keys/{id}/revoke`
pub async fn revoke_key<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return super::not_found(&ctx);
    };
    let store = &state.runtime;
    match store.api_keys().await {
        Ok(keys)
            if keys
                .iter()
                .any(|k| k.id == id && who.scope.contains(&k.scope())) => {}
        Ok(_) => return super::not_found(&ctx),
        Err(e) => return super::unavailable(&ctx, e),
    }
    match store.revoke_api_key(&id).await {
        Ok(_) => Redirect::to("/admin/accounts").into_response(),
        Err(e) => super::unavailable(&ctx, e),
    }
}

//! The web application: server-rendered pages (askama templates, htmx for partial updates,
//! every asset served by this binary) for the officer's desk, the manager's dashboard, the
//! administrator's console and the citizen's status page.
//!
//! Pages are routes of the same table as the API (`http/policy.rs`, marked `page`): the
//! access layer authenticates and authorises them, a page a role may not see answers like
//! one that does not exist, and page actions are audited like API calls. This module's
//! layer adds what only pages need: the language, the CSRF check of every form post (a
//! token bound to a cookie, and the `Origin`), and the security headers.

pub mod accounts;
pub mod assets;
pub mod chart;
pub mod csrf;
pub mod dashboard;
pub mod desk;
pub mod dossier;
pub mod export;
pub mod form;
pub mod graph;
pub mod i18n;
pub mod operations;
pub mod procedures;
pub mod sign_in;
pub mod status;
pub mod task;

use crate::http::auth::{Principal, Role};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
pub use i18n::{Lang, Text};
use lienthong_engine::ident::units::units;

/// What every page handler gets from the layers: the language, the form token and the
/// caller (none on public pages when nobody is signed in).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    /// The request's path and query, without `lang=` (for the language toggle).
    pub here: String,
    pub principal: Option<Principal>,
}

impl Ctx {
    pub fn t(&self) -> &'static Text {
        self.lang.text()
    }

    /// The frame of a page: header, navigation, language toggle, sign-out.
    pub fn chrome(&self, current: &str) -> Chrome {
        let t = self.t();
        let user = self.principal.as_ref().map(|p| UserBar {
            name: p
                .subject
                .strip_prefix("user:")
                .unwrap_or(&p.subject)
                .to_string(),
            role: role_label(t, p.role),
            area: area_label(t, p),
            agency: p.agency.as_deref().map(|a| {
                lienthong_engine::definition::Catalog::builtin_name(a).map_or_else(
                    || a.to_string(),
                    |n| self.lang.pick(&n.vi, &n.en).to_string(),
                )
            }),
        });
        let role = self.principal.as_ref().map(|p| p.role);
        let mut nav = Vec::new();
        let mut item = |href: &'static str, label: &'static str| {
            nav.push(NavItem {
                href,
                label,
                current: href == current,
            });
        };
        if role == Some(Role::AgencyOfficer) {
            item("/desk", t.nav_desk);
        }
        if matches!(role, Some(Role::Manager | Role::Admin)) {
            item("/dashboard", t.nav_dashboard);
        }
        if role == Some(Role::Admin) {
            item("/admin", t.nav_admin);
        }
        item("/status", t.nav_status);
        let sep = if self.here.contains('?') { '&' } else { '?' };
        Chrome {
            t,
            lang: self.lang.code(),
            toggle_href: format!("{}{sep}lang={}", self.here, self.lang.other().code()),
            toggle_lang: self.lang.other().code(),
            csrf: self.csrf.clone(),
            user,
            nav,
        }
    }
}

/// The frame shared by every page template (`base.html`).
#[derive(Debug)]
pub struct Chrome {
    pub t: &'static Text,
    pub lang: &'static str,
    pub toggle_href: String,
    pub toggle_lang: &'static str,
    pub csrf: String,
    pub user: Option<UserBar>,
    pub nav: Vec<NavItem>,
}

#[derive(Debug)]
pub struct UserBar {
    pub name: String,
    pub role: &'static str,
    pub area: String,
    pub agency: Option<String>,
}

#[derive(Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub fn role_label(t: &Text, role: Role) -> &'static str {
    match role {
        Role::AgencyOfficer => t.role_agency_officer,
        Role::AgencySystem => t.role_agency_system,
        Role::Manager => t.role_manager,
        Role::Admin => t.role_admin,
        Role::Portal => t.role_portal,
    }
}

/// The caller's area in words: the commune and province names, or nationwide.
fn area_label(t: &Text, p: &Principal) -> String {
    let u = units();
    let province = p.scope.province.as_deref().map(|c| {
        u.province(c)
            .map_or_else(|_| c.to_string(), |n| format!("{n} ({c})"))
    });
    let commune = p.scope.commune.as_deref().map(|c| {
        u.commune(c, None)
            .map_or_else(|_| c.to_string(), |(n, _)| format!("{n} ({c})"))
    });
    match (commune, province) {
        (Some(c), Some(p)) => format!("{c}, {p}"),
        (Some(c), None) => c,
        (None, Some(p)) => p,
        (None, None) => t.area_national.to_string(),
    }
}

/// Renders a page: HTML, with the pages' security headers (added by the layer).
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => {
            let mut r = (status, html).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "page not rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "page error").into_response()
        }
    }
}

/// A page that only says something (refusals, errors, not found).
#[derive(Template, Debug)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub title: &'static str,
    pub text: &'static str,
}

pub fn message(ctx: &Ctx, status: StatusCode, title: &'static str, text: &'static str) -> Response {
    render(
        status,
        &MessagePage {
            c: ctx.chrome(""),
            title,
            text,
        },
    )
}

/// The page for an object that does not exist or is not the caller's (the same answer).
pub fn not_found(ctx: &Ctx) -> Response {
    let t = ctx.t();
    message(
        ctx,
        StatusCode::NOT_FOUND,
        t.not_found_title,
        t.not_found_text,
    )
}

pub fn unavailable(ctx: &Ctx, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %crate::mask::text(&e.to_string()), "page: store error");
    let t = ctx.t();
    message(
        ctx,
        StatusCode::SERVICE_UNAVAILABLE,
        t.refused_title,
        t.unavailable,
    )
}

/// Where an unauthenticated visitor of a staff page is sent (and brought back from).
pub fn sign_in_redirect(here: &str) -> Response {
    let next = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
    Redirect::to(&format!("/sign-in?{next}")).into_response()
}

/// A staff member's first page.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::AgencyOfficer => "/desk",
        Role::Manager => "/dashboard",
        Role::Admin => "/admin",
        Role::AgencySystem | Role::Portal => "/status",
    }
}

/// `GET /`: the signed-in staff member's first page, else the citizen's status page.
pub async fn home(axum::Extension(ctx): axum::Extension<Ctx>) -> Response {
    let to = ctx
        .principal
        .as_ref()
        .map_or("/status", |p| home_of(p.role));
    Redirect::to(to).into_response()
}

pub use csrf::layer;

//! The API document (OpenAPI 3.1), generated from the handlers' annotations, served at
//! `/openapi.json`, with Swagger UI at `/docs`. A test compares it with the route table.

use super::{admin, callbacks, dossiers, health, ops, session, tasks};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

#[derive(Debug)]
struct Security;

/// Unique operation ids from method and path (`get_api_v1_tasks_code_step`): handlers in
/// different modules share names (`list`, `get`).
#[derive(Debug)]
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let name: String = path
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .split('_')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                if let Some(op) = op {
                    op.operation_id = Some(format!("{method}_{name}"));
                }
            }
        }
    }
}

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "An API key (`lt_…`) or a session token from POST /api/v1/session",
                        ))
                        .build(),
                ),
            );
        }
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "lienthong",
        description = "Liên thông thủ tục hành chính — interlinked administrative procedures. \
                       Errors are application/problem+json (RFC 9457).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, health::metrics, document,
        session::sign_in, session::sign_out,
        dossiers::submit, dossiers::list, dossiers::get, dossiers::supplement, dossiers::withdraw,
        tasks::list, tasks::get, tasks::claim, tasks::release, tasks::complete, tasks::reject, tasks::supplement, tasks::verify,
        callbacks::receive,
        admin::validate, admin::publish, admin::list, admin::versions, admin::graph,
        ops::list, ops::retry, ops::skip, ops::year, ops::upload_notice, ops::figures,
        admin::create_key, admin::list_keys, admin::revoke_key,
    ),
    modifiers(&Security, &OperationIds),
    tags(
        (name = "dossiers", description = "Hồ sơ — dossiers filed by the portal"),
        (name = "tasks", description = "Hàng đợi công việc — an agency's work queue"),
        (name = "callbacks", description = "Asynchronous answers of agency systems"),
        (name = "procedures", description = "Quy trình — procedure definitions"),
        (name = "incidents", description = "Sự cố — steps that need an operator"),
        (name = "calendar", description = "Lịch làm việc — working days"),
        (name = "figures", description = "Số liệu — figures per procedure group"),
        (name = "keys", description = "API keys of systems"),
        (name = "session", description = "Staff sign-in"),
        (name = "health", description = "Health, readiness, metrics")
    )
)]
pub struct ApiDoc;

/// The document.
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /openapi.json`
#[utoipa::path(get, path = "/openapi.json", tag = "health",
    responses((status = 200, description = "this document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}

/// Swagger UI at `/docs`, reading `/openapi.json`.
pub fn swagger_ui<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new("/docs")
        .config(Config::from("/openapi.json"))
        .into()
}

//! Builds the router from the route table: each [`RouteId`] has exactly one handler (the
//! match below is exhaustive), and every route is registered from the table with its
//! method — so a route cannot be served without a policy, nor a policy lack a route.

use super::policy::{ROUTES, RouteId};
use super::{AppState, access, admin, callbacks, dossiers, health, openapi, ops, session, tasks};
use crate::web;
use axum::routing::{MethodRouter, delete, get, post, put};
use lienthong_engine::runtime::Store;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

type Handler<S> = MethodRouter<Arc<AppState<S>>>;

fn handler<S: Store>(id: RouteId) -> Handler<S> {
    use RouteId as R;
    match id {
        R::Health => get(health::healthz),
        R::Ready => get(health::readyz::<S>),
        R::Metrics => get(health::metrics::<S>),
        R::OpenApi => get(openapi::document),
        R::SignIn => post(session::sign_in::<S>),
        R::SignOut => delete(session::sign_out::<S>),
        R::SubmitDossier => post(dossiers::submit::<S>),
        R::ListDossiers => get(dossiers::list::<S>),
        R::GetDossier => get(dossiers::get::<S>),
        R::Supplement => post(dossiers::supplement::<S>),
        R::Withdraw => post(dossiers::withdraw::<S>),
        R::ListTasks => get(tasks::list::<S>),
        R::GetTask => get(tasks::get::<S>),
        R::ClaimTask => post(tasks::claim::<S>),
        R::ReleaseTask => post(tasks::release::<S>),
        R::CompleteTask => post(tasks::complete::<S>),
        R::RejectTask => post(tasks::reject::<S>),
        R::TaskSupplement => post(tasks::supplement::<S>),
        R::TaskVerify => post(tasks::verify::<S>),
        R::Callback => post(callbacks::receive::<S>),
        R::ValidateProcedure => post(admin::validate),
        R::PublishProcedure => post(admin::publish::<S>),
        R::ListProcedures => get(admin::list::<S>),
        R::ProcedureVersions => get(admin::versions::<S>),
        R::ProcedureGraph => get(admin::graph::<S>),
        R::ListIncidents => get(ops::list::<S>),
        R::RetryIncident => post(ops::retry::<S>),
        R::SkipIncident => post(ops::skip::<S>),
        R::CalendarYear => get(ops::year::<S>),
        R::UploadNotice => put(ops::upload_notice::<S>),
        R::Figures => get(ops::figures::<S>),
        R::CreateKey => post(admin::create_key::<S>),
        R::ListKeys => get(admin::list_keys::<S>),
        R::RevokeKey => delete(admin::revoke_key::<S>),
        R::PageHome => get(web::home),
        R::PageAsset => get(web::assets::serve),
        R::PageSignIn => get(web::sign_in::form),
        R::PageSignInPost => post(web::sign_in::submit::<S>),
        R::PageSignOut => post(web::sign_in::sign_out::<S>),
        R::PageDesk => get(web::desk::queue::<S>),
        R::PageTask => get(web::task::show::<S>),
        R::PageTaskClaim => post(web::task::claim::<S>),
        R::PageTaskRelease => post(web::task::release::<S>),
        R::PageTaskComplete => post(web::task::complete::<S>),
        R::PageTaskReject => post(web::task::reject::<S>),
        R::PageTaskSupplement => post(web::task::supplement::<S>),
        R::PageTaskVerify => post(web::task::verify::<S>),
        R::PageDossier => get(web::dossier::show::<S>),
        R::PageDashboard => get(web::dashboard::show::<S>),
        R::PageExport => get(web::dashboard::export::<S>),
        R::PageAdmin => get(web::procedures::list::<S>),
        R::PageProcedure => get(web::procedures::show::<S>),
        R::PageValidate => post(web::procedures::validate::<S>),
        R::PagePublish => post(web::procedures::publish::<S>),
        R::PageStatus => get(web::status::form),
        R::PageStatusPost => post(web::status::look_up::<S>),
        R::PageIncidents => get(web::operations::incidents::<S>),
        R::PageIncidentRetry => post(web::operations::retry::<S>),
        R::PageIncidentSkip => post(web::operations::skip::<S>),
        R::PageCalendar => get(web::operations::calendar::<S>),
        R::PageNotice => post(web::operations::notice::<S>),
        R::PageAccounts => get(web::accounts::list::<S>),
        R::PageUserCreate => post(web::accounts::create_user::<S>),
        R::PageUserDisable => post(web::accounts::disable_user::<S>),
        R::PageKeyCreate => post(web::accounts::create_key::<S>),
        R::PageKeyRevoke => post(web::accounts::revoke_key::<S>),
    }
}

/// The whole router: the table's routes, the API document's UI, and the layers (body
/// limit, time-out, panics → 500, access control with audit).
pub fn build<S: Store>(state: Arc<AppState<S>>) -> axum::Router {
    let mut by_path: Vec<(&str, Handler<S>)> = Vec::new();
    for r in ROUTES {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, h)) => *h = std::mem::take(h).merge(handler::<S>(r.id)),
            None => by_path.push((r.path, handler::<S>(r.id))),
        }
    }
    let mut router = axum::Router::new();
    for (path, h) in by_path {
        router = router.route(path, h);
    }
    let limits = state.limits.clone();
    router
        .merge(openapi::swagger_ui())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::layer::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::layer::<S>,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(limits.body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state)
}

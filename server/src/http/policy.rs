//! The route table: every route of the server with who may call it. The router is built
//! from this table (`routes.rs` maps each [`RouteId`] to its handler, exhaustively), the
//! access layer looks each request up here, and the authorisation test is generated from
//! it — so a route cannot exist without a policy.
//!
//! Function level (who may call a route) is decided here: no credentials → 401, a role the
//! route does not admit → 403. Object level (which dossier, task or incident) is decided by
//! the handlers (`scope.rs`): an object the caller may not see answers exactly as one that
//! does not exist (404).

use super::auth::Role;

/// Every route, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteId {
    Health,
    Ready,
    Metrics,
    OpenApi,
    SignIn,
    SignOut,
    SubmitDossier,
    ListDossiers,
    GetDossier,
    Supplement,
    Withdraw,
    ListTasks,
    GetTask,
    ClaimTask,
    ReleaseTask,
    CompleteTask,
    RejectTask,
    TaskSupplement,
    TaskVerify,
    Callback,
    ValidateProcedure,
    PublishProcedure,
    ListProcedures,
    ProcedureVersions,
    ProcedureGraph,
    ListIncidents,
    RetryIncident,
    SkipIncident,
    CalendarYear,
    UploadNotice,
    Figures,
    CreateKey,
    ListKeys,
    RevokeKey,
    // The web application's pages (`crate::web`).
    PageHome,
    PageAsset,
    PageSignIn,
    PageSignInPost,
    PageSignOut,
    PageDesk,
    PageTask,
    PageTaskClaim,
    PageTaskRelease,
    PageTaskComplete,
    PageTaskReject,
    PageTaskSupplement,
    PageTaskVerify,
    PageDossier,
    PageDashboard,
    PageExport,
    PageAdmin,
    PageProcedure,
    PageValidate,
    PagePublish,
    PageStatus,
    PageStatusPost,
    PageIncidents,
    PageIncidentRetry,
    PageIncidentSkip,
    PageCalendar,
    PageNotice,
    PageAccounts,
    PageUserCreate,
    PageUserDisable,
    PageKeyCreate,
    PageKeyRevoke,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, metrics, the API document, signing in).
    Public,
    /// Authenticated by the request's own signature (agency callbacks).
    Signed,
    /// Any authenticated caller.
    Authenticated,
    /// These roles only.
    Roles(&'static [Role]),
}

/// What the route's path parameters name, for object-level checks and the BOLA test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    None,
    /// `{code}`: a dossier.
    Dossier,
    /// `{code}/{step}`: a step of a dossier (task or incident).
    Step,
    /// `{id}`: a procedure id, or a key id, or a year.
    Name,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub id: RouteId,
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub object: Object,
    /// A page of the web application (HTML, form posts checked for CSRF) rather than an
    /// API route: without credentials it sends the visitor to sign in; to a role it does
    /// not admit it answers like a page that does not exist.
    pub page: bool,
}

const AGENCY: &[Role] = &[Role::AgencySystem, Role::AgencyOfficer];
const ADMIN: &[Role] = &[Role::Admin];
const PORTAL: &[Role] = &[Role::Portal];
const WATCHERS: &[Role] = &[Role::Admin, Role::Manager];
const OFFICER: &[Role] = &[Role::AgencyOfficer];
const STAFF: &[Role] = &[Role::AgencyOfficer, Role::Admin, Role::Manager];
const READERS: &[Role] = &[
    Role::Portal,
    Role::AgencySystem,
    Role::AgencyOfficer,
    Role::Admin,
    Role::Manager,
];

macro_rules! route {
    ($id:ident, $m:literal, $p:literal, $a:expr, $o:ident) => {
        Route {
            id: RouteId::$id,
            method: $m,
            path: $p,
            access: $a,
            object: Object::$o,
            page: false,
        }
    };
}

macro_rules! page {
    ($id:ident, $m:literal, $p:literal, $a:expr, $o:ident) => {
        Route {
            id: RouteId::$id,
            method: $m,
            path: $p,
            access: $a,
            object: Object::$o,
            page: true,
        }
    };
}

/// The table.
pub const ROUTES: &[Route] = &[
    route!(Health, "GET", "/healthz", Access::Public, None),
    route!(Ready, "GET", "/readyz", Access::Public, None),
    route!(Metrics, "GET", "/metrics", Access::Public, None),
    route!(OpenApi, "GET", "/openapi.json", Access::Public, None),
    route!(SignIn, "POST", "/api/v1/session", Access::Public, None),
    route!(
        SignOut,
        "DELETE",
        "/api/v1/session",
        Access::Authenticated,
        None
    ),
    route!(
        SubmitDossier,
        "POST",
        "/api/v1/dossiers",
        Access::Roles(PORTAL),
        None
    ),
    route!(
        ListDossiers,
        "GET",
        "/api/v1/dossiers",
        Access::Roles(&[Role::Portal, Role::Admin, Role::Manager]),
        None
    ),
    route!(
        GetDossier,
        "GET",
        "/api/v1/dossiers/{code}",
        Access::Roles(READERS),
        Dossier
    ),
    route!(
        Supplement,
        "POST",
        "/api/v1/dossiers/{code}/supplement",
        Access::Roles(PORTAL),
        Dossier
    ),
    route!(
        Withdraw,
        "POST",
        "/api/v1/dossiers/{code}/withdraw",
        Access::Roles(PORTAL),
        Dossier
    ),
    route!(
        ListTasks,
        "GET",
        "/api/v1/tasks",
        Access::Roles(AGENCY),
        None
    ),
    route!(
        GetTask,
        "GET",
        "/api/v1/tasks/{code}/{step}",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        ClaimTask,
        "POST",
        "/api/v1/tasks/{code}/{step}/claim",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        ReleaseTask,
        "POST",
        "/api/v1/tasks/{code}/{step}/release",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        CompleteTask,
        "POST",
        "/api/v1/tasks/{code}/{step}/complete",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        RejectTask,
        "POST",
        "/api/v1/tasks/{code}/{step}/reject",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        TaskSupplement,
        "POST",
        "/api/v1/tasks/{code}/{step}/supplement",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        TaskVerify,
        "POST",
        "/api/v1/tasks/{code}/{step}/verify",
        Access::Roles(AGENCY),
        Step
    ),
    route!(
        Callback,
        "POST",
        "/api/v1/callbacks/{agency}",
        Access::Signed,
        Name
    ),
    route!(
        ValidateProcedure,
        "POST",
        "/api/v1/procedures/validate",
        Access::Roles(ADMIN),
        None
    ),
    route!(
        PublishProcedure,
        "POST",
        "/api/v1/procedures",
        Access::Roles(ADMIN),
        None
    ),
    route!(
        ListProcedures,
        "GET",
        "/api/v1/procedures",
        Access::Roles(WATCHERS),
        None
    ),
    route!(
        ProcedureVersions,
        "GET",
        "/api/v1/procedures/{id}/versions",
        Access::Roles(WATCHERS),
        Name
    ),
    route!(
        ProcedureGraph,
        "GET",
        "/api/v1/procedures/{id}/graph",
        Access::Roles(WATCHERS),
        Name
    ),
    route!(
        ListIncidents,
        "GET",
        "/api/v1/incidents",
        Access::Roles(ADMIN),
        None
    ),
    route!(
        RetryIncident,
        "POST",
        "/api/v1/incidents/{code}/{step}/retry",
        Access::Roles(ADMIN),
        Step
    ),
    route!(
        SkipIncident,
        "POST",
        "/api/v1/incidents/{code}/{step}/skip",
        Access::Roles(ADMIN),
        Step
    ),
    route!(
        CalendarYear,
        "GET",
        "/api/v1/calendar/{year}",
        Access::Authenticated,
        Name
    ),
    route!(
        UploadNotice,
        "PUT",
        "/api/v1/calendar/notices/{year}",
        Access::Roles(ADMIN),
        Name
    ),
    route!(
        Figures,
        "GET",
        "/api/v1/figures",
        Access::Roles(WATCHERS),
        None
    ),
    route!(
        CreateKey,
        "POST",
        "/api/v1/keys",
        Access::Roles(ADMIN),
        None
    ),
    route!(ListKeys, "GET", "/api/v1/keys", Access::Roles(ADMIN), None),
    route!(
        RevokeKey,
        "DELETE",
        "/api/v1/keys/{id}",
        Access::Roles(ADMIN),
        Name
    ),
    page!(PageHome, "GET", "/", Access::Public, None),
    page!(PageAsset, "GET", "/assets/{file}", Access::Public, Name),
    page!(PageSignIn, "GET", "/sign-in", Access::Public, None),
    page!(PageSignInPost, "POST", "/sign-in", Access::Public, None),
    page!(
        PageSignOut,
        "POST",
        "/sign-out",
        Access::Authenticated,
        None
    ),
    page!(PageDesk, "GET", "/desk", Access::Roles(OFFICER), None),
    page!(
        PageTask,
        "GET",
        "/desk/{code}/{step}",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskClaim,
        "POST",
        "/desk/{code}/{step}/claim",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskRelease,
        "POST",
        "/desk/{code}/{step}/release",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskComplete,
        "POST",
        "/desk/{code}/{step}/complete",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskReject,
        "POST",
        "/desk/{code}/{step}/reject",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskSupplement,
        "POST",
        "/desk/{code}/{step}/supplement",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageTaskVerify,
        "POST",
        "/desk/{code}/{step}/verify",
        Access::Roles(OFFICER),
        Step
    ),
    page!(
        PageDossier,
        "GET",
        "/dossiers/{code}",
        Access::Roles(STAFF),
        Dossier
    ),
    page!(
        PageDashboard,
        "GET",
        "/dashboard",
        Access::Roles(WATCHERS),
        None
    ),
    page!(
        PageExport,
        "GET",
        "/dashboard/export",
        Access::Roles(WATCHERS),
        None
    ),
    page!(PageAdmin, "GET", "/admin", Access::Roles(ADMIN), None),
    page!(
        PageProcedure,
        "GET",
        "/admin/procedures/{id}",
        Access::Roles(ADMIN),
        Name
    ),
    page!(
        PageValidate,
        "POST",
        "/admin/validate",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PagePublish,
        "POST",
        "/admin/publish",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageIncidents,
        "GET",
        "/admin/incidents",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageIncidentRetry,
        "POST",
        "/admin/incidents/{code}/{step}/retry",
        Access::Roles(ADMIN),
        Step
    ),
    page!(
        PageIncidentSkip,
        "POST",
        "/admin/incidents/{code}/{step}/skip",
        Access::Roles(ADMIN),
        Step
    ),
    page!(
        PageCalendar,
        "GET",
        "/admin/calendar",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageNotice,
        "POST",
        "/admin/calendar",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageAccounts,
        "GET",
        "/admin/accounts",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageUserCreate,
        "POST",
        "/admin/accounts",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageUserDisable,
        "POST",
        "/admin/accounts/{id}/disable",
        Access::Roles(ADMIN),
        Name
    ),
    page!(
        PageKeyCreate,
        "POST",
        "/admin/keys",
        Access::Roles(ADMIN),
        None
    ),
    page!(
        PageKeyRevoke,
        "POST",
        "/admin/keys/{id}/revoke",
        Access::Roles(ADMIN),
        Name
    ),
    page!(PageStatus, "GET", "/status", Access::Public, None),
    page!(PageStatusPost, "POST", "/status", Access::Public, None),
];

/// The route matched by `method` and axum's matched path.
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}

impl Access {
    /// Whether `role` may call a route with this access (authenticated callers only).
    pub fn admits(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Authenticated => true,
            Access::Signed => false,
            Access::Roles(roles) => roles.contains(&role),
        }
    }
}

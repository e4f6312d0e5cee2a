//! Authorisation, generated from the route table: every caller × every route × every method,
//! aimed at objects of another portal, agency or area. A role a route does not admit gets
//! 401/403; an object the caller may not see answers exactly like a missing one (404, same
//! body); nothing of another's comes back from a list. A route added without a policy, or
//! a policy without its route in the API document, fails here.

use crate::api_support;

use api_support::{Api, Caller, start};
use axum::http::{Method, StatusCode};
use lienthong_engine::store::{SqliteStore, Store};
use lienthong_server::http::auth::Role;
use lienthong_server::http::openapi;
use lienthong_server::http::policy::{Access, Object, ROUTES, Route, RouteId};
use lienthong_tests::fixtures;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const MISSING_CODE: &str = "G22.99.08-000101-999999";

/// A valid body for a route, so that a refusal is never a body error in disguise.
fn body(id: RouteId) -> Option<String> {
    let j = |v: Value| Some(v.to_string());
    match id {
        RouteId::SubmitDossier => {
            let (p, _, form) = fixtures::forms().swap_remove(2);
            j(json!({"procedure": p, "form": form}))
        }
        RouteId::Supplement => j(json!({"step": "register_marriage", "data": {}})),
        RouteId::Withdraw
        | RouteId::RejectTask
        | RouteId::TaskSupplement
        | RouteId::RetryIncident
        | RouteId::SkipIncident => j(json!({"reason": "kiểm thử / test"})),
        RouteId::ClaimTask | RouteId::ReleaseTask => j(json!({})),
        RouteId::CompleteTask => j(json!({"outputs": fixtures::outputs("register_marriage")})),
        RouteId::TaskVerify => j(json!({"basis": "Điều 34 Luật Hộ tịch"})),
        RouteId::ValidateProcedure | RouteId::PublishProcedure => {
            Some(include_str!("../../examples/minimal-procedure.yaml").to_string())
        }
        RouteId::UploadNotice => {
            Some(include_str!("../../workflows/calendar/2026.yaml").to_string())
        }
        RouteId::CreateKey => j(json!({"role": "manager", "label": "from the matrix"})),
        RouteId::SignIn => j(json!({"name": "nobody", "password": "wrong"})),
        RouteId::Callback => j(json!({})),
        _ => None,
    }
}

/// An object of `route`'s kind that `c` may not see, as the path's parameters.
fn foreign(api: &Api<SqliteStore>, c: &Caller, object: Object) -> Option<(String, &'static str)> {
    let o = &api.objects;
    // Whose dossiers each caller may see (see `scope.rs`); the first one it may not.
    let (code, step) = match (c.name, object) {
        (_, Object::None | Object::Name) => return None,
        ("portal_a", _) => (&o.m2, "register_marriage"),
        ("portal_b" | "portal_c", _) => (&o.m, "register_marriage"),
        ("civil_079", _) => (&o.m2, "register_marriage"),
        ("civil_officer_001", _) => (&o.m, "register_marriage"),
        ("funeral" | "residence", _) => (&o.m, "register_marriage"),
        ("manager_079", _) => (&o.d, "funeral_support"),
        // Admins and unscoped managers see everything: no foreign object.
        _ => return None,
    };
    Some((code.clone(), step))
}

fn fill(path: &str, code: &str, step: &str) -> String {
    path.replace("{code}", code)
        .replace("{step}", step)
        .replace("{id}", "marital-status-marriage")
        .replace("{year}", "2026")
        .replace("{agency}", "residence")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).expect("method")
}

/// A page form's token (any well-formed value the cookie repeats), so that a page post is
/// refused for who sends it, not for a missing token.
const CSRF: &str = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";

async fn send(
    api: &Api<SqliteStore>,
    r: &Route,
    m: &str,
    path: &str,
    cred: Option<&str>,
) -> api_support::Answer {
    let key = format!("matrix-{}", api.rt.now());
    if r.page && m == "POST" {
        let body = format!(
            "csrf={CSRF}&reason=test&basis=test&confirm=yes&out.marriage_certificate_number=1\
             &out.registered_on=2026-11-23&out.handover_deferred=false&code=x&personal_id=1"
        );
        let cookie = format!("lienthong_csrf={CSRF}");
        return api
            .request(
                method(m),
                path,
                cred,
                Some(body),
                &[
                    ("cookie", cookie.as_str()),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
            )
            .await;
    }
    api.request(
        method(m),
        path,
        cred,
        body(r.id),
        &[("idempotency-key", key.as_str())],
    )
    .await
}

/// What a caller without credentials gets: the API says 401, a page sends them to sign in.
fn unauthenticated(r: &Route) -> StatusCode {
    if r.page {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// What a role a route does not admit gets: the API says 403, a page does not exist.
fn not_admitted(r: &Route) -> StatusCode {
    if r.page {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::FORBIDDEN
    }
}

#[tokio::test]
async fn no_caller_reaches_what_is_not_theirs() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let missing = api
        .call(
            Method::GET,
            &format!("/api/v1/dossiers/{MISSING_CODE}"),
            api.cred("admin"),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let mut checked = 0;
    let mut successes = Vec::new();
    for r in ROUTES {
        if matches!(r.access, Access::Public | Access::Signed) {
            continue;
        }
        // Without credentials: 401 everywhere.
        let path = fill(r.path, &api.objects.m, "register_marriage");
        let a = send(&api, r, r.method, &path, None).await;
        assert_eq!(
            a.status,
            unauthenticated(r),
            "{} {path} without credentials",
            r.method
        );
        // A forged key and a stale session are nobody.
        for bad in ["lt_000000000000_00", "eyJhbGciOiJIUzI1NiJ9.e30.x"] {
            let a = send(&api, r, r.method, &path, Some(bad)).await;
            assert_eq!(
                a.status,
                unauthenticated(r),
                "{} {path} with {bad}",
                r.method
            );
        }
        for c in &api.callers {
            let role = Role::parse(c.role).expect("role");
            let cred = Some(c.credential.as_str());
            if !r.access.admits(role) {
                let a = send(&api, r, r.method, &path, cred).await;
                checked += 1;
                if a.status.is_success() {
                    successes.push(format!("{} {} {path}: {}", c.name, r.method, a.status));
                }
                assert_eq!(a.status, not_admitted(r), "{} {} {path}", c.name, r.method);
                continue;
            }
            let Some((code, step)) = foreign(&api, c, r.object) else {
                continue;
            };
            let path = fill(r.path, &code, step);
            let a = send(&api, r, r.method, &path, cred).await;
            checked += 1;
            if a.status.is_success() {
                successes.push(format!("{} {} {path}: {}", c.name, r.method, a.status));
            }
            assert_eq!(
                a.status,
                StatusCode::NOT_FOUND,
                "{} {} {path}: {}",
                c.name,
                r.method,
                a.text
            );
            if !r.page {
                assert_eq!(
                    a.text, missing.text,
                    "a foreign object must answer like a missing one"
                );
            }
        }
    }
    // Every other method on every path: never a success.
    let paths: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
    for path in paths {
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if ROUTES.iter().any(|r| r.path == path && r.method == m) {
                continue;
            }
            for c in &api.callers {
                let p = fill(path, &api.objects.m, "register_marriage");
                let a = api
                    .request(method(m), &p, Some(&c.credential), Some("{}".into()), &[])
                    .await;
                checked += 1;
                if a.status.is_success() {
                    successes.push(format!("{} {m} {p}: {}", c.name, a.status));
                }
            }
        }
    }
    assert!(
        successes.is_empty(),
        "unauthorised successes: {successes:#?}"
    );
    assert!(checked > 300, "only {checked} cases checked");
    // The objects are untouched: nobody's refused request changed them.
    assert_eq!(
        api.step_status(&api.objects.m, "register_marriage").await,
        lienthong_engine::machine::StepStatus::Queued
    );
}

#[tokio::test]
async fn lists_hold_only_what_is_theirs() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let o = api.objects.clone();
    let codes = |v: &Value, field: &str| -> BTreeSet<String> {
        v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i[field].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    for (who, expected) in [
        ("portal_a", set(&[&o.m])),
        ("portal_b", set(&[&o.m2, &o.d, &o.b])),
        ("portal_c", BTreeSet::new()),
        ("manager_079", set(&[&o.m])),
        ("admin", set(&[&o.m, &o.m2, &o.d, &o.b])),
    ] {
        let a = api
            .call(Method::GET, "/api/v1/dossiers", api.cred(who), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{who}: {}", a.text);
        assert_eq!(codes(&a.json(), "code"), expected, "{who}");
    }
    for (who, expected) in [
        ("civil_079", set(&[&o.m])),
        ("civil_officer_001", set(&[&o.m2])),
        ("funeral", set(&[&o.d])),
        ("residence", BTreeSet::new()),
    ] {
        let a = api
            .call(Method::GET, "/api/v1/tasks", api.cred(who), None)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{who}: {}", a.text);
        assert_eq!(codes(&a.json(), "dossier"), expected, "{who}");
    }
    // An agency reading a dossier sees its own steps only, and never the form.
    let a = api
        .call(
            Method::GET,
            &format!("/api/v1/dossiers/{}", o.d),
            api.cred("residence"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = a.json();
    assert!(v["form"].is_null());
    let agencies: BTreeSet<&str> = v["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|x| x["agency"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(agencies, BTreeSet::from(["residence"]));
    // A manager of 79 sees 79's figures only.
    let f = api
        .call(
            Method::GET,
            "/api/v1/figures",
            api.cred("manager_079"),
            None,
        )
        .await;
    assert_eq!(f.json()["dossiers"], json!(1), "{}", f.text);
}

/// Who may call each route, written here independently of the table: a widened policy, or
/// a new route (the match is exhaustive), fails the test below.
fn expected(id: RouteId) -> &'static [&'static str] {
    use RouteId as R;
    const ALL: &[&str] = &[
        "portal",
        "agency_system",
        "agency_officer",
        "admin",
        "manager",
    ];
    const AGENCY: &[&str] = &["agency_system", "agency_officer"];
    match id {
        R::Health | R::Ready | R::Metrics | R::OpenApi | R::SignIn | R::Callback => &[],
        R::SignOut | R::CalendarYear => ALL,
        R::SubmitDossier | R::Supplement | R::Withdraw => &["portal"],
        R::ListDossiers => &["portal", "admin", "manager"],
        R::GetDossier => ALL,
        R::ListTasks
        | R::GetTask
        | R::ClaimTask
        | R::ReleaseTask
        | R::CompleteTask
        | R::RejectTask
        | R::TaskSupplement
        | R::TaskVerify => AGENCY,
        R::ListProcedures | R::ProcedureVersions | R::ProcedureGraph | R::Figures => {
            &["admin", "manager"]
        }
        R::ValidateProcedure
        | R::PublishProcedure
        | R::ListIncidents
        | R::RetryIncident
        | R::SkipIncident
        | R::UploadNotice
        | R::CreateKey
        | R::ListKeys
        | R::RevokeKey => &["admin"],
        R::PageHome
        | R::PageAsset
        | R::PageSignIn
        | R::PageSignInPost
        | R::PageStatus
        | R::PageStatusPost => &[],
        R::PageSignOut => ALL,
        R::PageDesk
        | R::PageTask
        | R::PageTaskClaim
        | R::PageTaskRelease
        | R::PageTaskComplete
        | R::PageTaskReject
        | R::PageTaskSupplement
        | R::PageTaskVerify => &["agency_officer"],
        R::PageDossier => &["agency_officer", "admin", "manager"],
        R::PageDashboard | R::PageExport => &["admin", "manager"],
        R::PageAdmin
        | R::PageProcedure
        | R::PageValidate
        | R::PagePublish
        | R::PageIncidents
        | R::PageIncidentRetry
        | R::PageIncidentSkip
        | R::PageCalendar
        | R::PageNotice
        | R::PageAccounts
        | R::PageUserCreate
        | R::PageUserDisable
        | R::PageKeyCreate
        | R::PageKeyRevoke => &["admin"],
    }
}

#[test]
fn every_route_admits_exactly_the_expected_roles() {
    for r in ROUTES {
        let public = matches!(r.access, Access::Public | Access::Signed);
        assert_eq!(public, expected(r.id).is_empty(), "{} {}", r.method, r.path);
        if public {
            continue;
        }
        for role in Role::ALL {
            assert_eq!(
                r.access.admits(role),
                expected(r.id).contains(&role.as_str()),
                "{} {} for {}",
                r.method,
                r.path,
                role.as_str()
            );
        }
    }
}

#[test]
fn the_route_table_and_the_api_document_agree() {
    let doc = serde_json::to_value(openapi::spec()).expect("document");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                documented.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .filter(|r| !r.page)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    let undocumented: Vec<_> = table.difference(&documented).collect();
    let without_policy: Vec<_> = documented.difference(&table).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the API document: {undocumented:?}"
    );
    assert!(
        without_policy.is_empty(),
        "documented routes without a policy: {without_policy:?}"
    );
    // No route admits nobody, and every object route names its object.
    for r in ROUTES {
        if let Access::Roles(roles) = r.access {
            assert!(!roles.is_empty(), "{} {} admits no role", r.method, r.path);
        }
        let has_param = r.path.contains('{');
        assert_eq!(
            has_param,
            r.object != Object::None,
            "{} {}",
            r.method,
            r.path
        );
    }
    assert_eq!(doc["openapi"], json!("3.1.0"));
}

#[tokio::test]
async fn works_on_postgres_too() {
    let Some(db) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    let store = db.store.clone();
    store.migrate().await.expect("migrate");
    let api = start(store).await;
    let a = api
        .call(
            Method::GET,
            &format!("/api/v1/dossiers/{}", api.objects.m2),
            api.cred("portal_a"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let t = api
        .call(Method::GET, "/api/v1/tasks", api.cred("civil_079"), None)
        .await;
    assert_eq!(
        t.json()["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        t.text
    );
    drop(api);
    db.drop_now().await;
}

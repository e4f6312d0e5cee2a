//! The pages' defences without a browser: a form post needs its token and this site's
//! Origin (and is audited), and a signed-out session is refused at once, on every route.

use crate::api_support;

use api_support::start;
use axum::http::{Method, StatusCode};
use lienthong_engine::store::{Accounts, SqliteStore};
use serde_json::json;

const PASSWORD: &str = "a long password for tests";

/// The CSRF defence of page forms: the token and the Origin, without a browser.
#[tokio::test]
async fn a_form_post_needs_its_token_and_this_origin() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let page = api.request(Method::GET, "/sign-in", None, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lienthong_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("a CSRF cookie")
        .to_string();
    let token = cookie.trim_start_matches("lienthong_csrf=").to_string();
    assert!(page.text.contains(&token), "the form carries the token");
    let csp = page.headers["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    let form = |csrf: &str| {
        format!("csrf={csrf}&name=civil_officer_001&password=a+long+password+for+tests&next=")
    };
    let post = |body: String, origin: &'static str| {
        let cookie = cookie.clone();
        let api = &api;
        async move {
            api.request(
                Method::POST,
                "/sign-in",
                None,
                Some(body),
                &[
                    ("cookie", cookie.as_str()),
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("origin", origin),
                    ("host", "lienthong.local"),
                ],
            )
            .await
        }
    };
    // No token, a wrong token, another site's origin: refused, nobody signed in.
    for (body, origin) in [
        (form(""), "http://lienthong.local"),
        (form(&"0".repeat(64)), "http://lienthong.local"),
        (form(&token), "https://attacker.example"),
    ] {
        let a = post(body, origin).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
        assert!(a.headers.get("set-cookie").is_none());
    }
    let a = post(form(&token), "http://lienthong.local").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text);
    // Page actions are audited like API calls, refusals included.
    let rows = api.rt.store().audit_rows(0, 10_000).await.expect("audit");
    let sign_ins: Vec<i64> = rows
        .iter()
        .filter(|r| r.entry.action == "POST /sign-in")
        .map(|r| r.entry.outcome)
        .collect();
    assert!(sign_ins.contains(&303), "{sign_ins:?}");
    assert!(
        a.headers["set-cookie"]
            .to_str()
            .expect("cookie")
            .starts_with("lienthong_session=")
    );
}

/// Signing out ends the session on the server: its token is refused at once.
#[tokio::test]
async fn a_signed_out_session_is_refused_at_once() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let token = api.cred("civil_officer_001").expect("token").to_string();
    let a = api
        .call(Method::GET, "/api/v1/tasks", Some(&token), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let out = api
        .call(Method::DELETE, "/api/v1/session", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let a = api
        .call(Method::GET, "/api/v1/tasks", Some(&token), None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // As a cookie too.
    let cookie = format!("lienthong_session={token}");
    let a = api
        .request(
            Method::GET,
            "/desk",
            None,
            None,
            &[("cookie", cookie.as_str())],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // Another session of the same account still works.
    let again = api
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"name": "civil_officer_001", "password": PASSWORD})),
        )
        .await;
    let fresh = again.json()["token"].as_str().expect("token").to_string();
    let a = api
        .call(Method::GET, "/api/v1/tasks", Some(&fresh), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
}

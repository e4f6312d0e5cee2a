//! The REST API end to end: an agency works its queue to the decision, idempotent filing,
//! incidents, publishing and the calendar. Refusals are in `api_refusals.rs`.

use crate::api_support;

use api_support::{Api, start};
use axum::http::{Method, StatusCode};
use lienthong_engine::machine::StepStatus;
use lienthong_engine::store::SqliteStore;
use lienthong_tests::fixtures;
use serde_json::{Value, json};

async fn api() -> Api<SqliteStore> {
    start(SqliteStore::in_memory().await.expect("store")).await
}

#[tokio::test]
async fn an_agency_works_its_queue_to_the_decision() {
    let api = api().await;
    let m = api.objects.m.clone();
    let civil = api.cred("civil_079");
    let list = api
        .call(
            Method::GET,
            "/api/v1/tasks?status=queued&sort=-opened_at&limit=10",
            civil,
            None,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let task = &list.json()["items"][0];
    assert_eq!(task["dossier"], json!(m));
    assert_eq!(task["step"], json!("register_marriage"));
    let base = format!("/api/v1/tasks/{m}/register_marriage");
    // Answering before claiming is refused.
    let early = api
        .call(
            Method::POST,
            &format!("{base}/complete"),
            civil,
            Some(json!({"outputs": fixtures::outputs("register_marriage")})),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
    let claim = api
        .call(
            Method::POST,
            &format!("{base}/claim"),
            civil,
            Some(json!({})),
        )
        .await;
    assert_eq!(claim.status, StatusCode::OK, "{}", claim.text);
    assert_eq!(claim.json()["status"], json!("claimed"));
    // Outputs must be exactly the step's writes: an extra one is named.
    let mut extra = fixtures::outputs("register_marriage");
    extra.insert("approved_by_minister".into(), json!(true));
    let bad = api
        .call(
            Method::POST,
            &format!("{base}/complete"),
            civil,
            Some(json!({"outputs": extra})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("approved_by_minister"), "{}", bad.text);
    let done = api
        .call(
            Method::POST,
            &format!("{base}/complete"),
            civil,
            Some(json!({"outputs": fixtures::outputs("register_marriage")})),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    api.settle().await;
    let d = api
        .call(
            Method::GET,
            &format!("/api/v1/dossiers/{m}"),
            api.cred("portal_a"),
            None,
        )
        .await;
    let v = d.json();
    assert_eq!(v["status"], json!("decided"), "{}", d.text);
    assert_eq!(v["portal_code"], json!(9));
    assert_eq!(v["status_vi"], json!("Đã xử lý xong"));
    let timeline = v["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 3);
    assert!(
        timeline
            .iter()
            .all(|s| s["agency"] == json!("civil_status") && s["held_working_days"].is_number())
    );
    assert!(v["form"].is_object(), "the filing portal sees its form");

    // A signed-in officer works through the session cookie.
    let officer = api.caller("civil_officer_001").credential.clone();
    let m2 = api.objects.m2.clone();
    let cookie = format!("lienthong_session={officer}");
    let a = api
        .request(
            Method::POST,
            &format!("/api/v1/tasks/{m2}/register_marriage/claim"),
            None,
            Some("{}".into()),
            &[("cookie", cookie.as_str())],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["claimed_by"], json!("user:civil_officer_001"));
    // Another agency's system cannot take over the claimed task.
    let other = api
        .call(
            Method::POST,
            &format!("/api/v1/tasks/{m2}/register_marriage/reject"),
            api.cred("civil_079"),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_same_key_gives_one_dossier() {
    let api = api().await;
    let (p, _, form) = fixtures::forms().swap_remove(2);
    let body = json!({"procedure": p, "form": form}).to_string();
    let send = |who: &'static str, key: &'static str, body: String| {
        let api = &api;
        async move {
            api.request(
                Method::POST,
                "/api/v1/dossiers",
                api.cred(who),
                Some(body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send("portal_c", "k-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = send("portal_c", "k-1", body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["code"], first.json()["code"]);
    // The same key for another request is refused, naming the header.
    let mut other: Value = serde_json::from_str(&body).expect("json");
    other["form"]["consent"]["partner_b"] = json!(false);
    let reused = send("portal_c", "k-1", other.to_string()).await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reused.text
    );
    assert!(reused.text.contains("Idempotency-Key"));
    // Keys are each portal's own: another portal's equal key files its own dossier.
    let theirs = send("portal_a", "k-1", body.clone()).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.json()["code"], first.json()["code"]);
    let none = api
        .request(
            Method::POST,
            "/api/v1/dossiers",
            api.cred("portal_c"),
            Some(body),
            &[],
        )
        .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{}", none.text);
    assert!(none.text.contains("Idempotency-Key"));
}

#[tokio::test]
async fn operators_resolve_incidents_publish_and_upload_notices() {
    let api = api().await;
    let admin = api.cred("admin");
    let list = api
        .call(Method::GET, "/api/v1/incidents", admin, None)
        .await;
    let items = list.json()["items"].clone();
    let b = api.objects.b.clone();
    assert_eq!(items[0]["dossier"], json!(b), "{}", list.text);
    assert_eq!(items[0]["step"], json!("issue_bhyt_card"));
    let no_reason = api
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{b}/issue_bhyt_card/skip"),
            admin,
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let skip = api
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{b}/issue_bhyt_card/skip"),
            admin,
            Some(json!({"reason": "cấp thẻ tại quầy"})),
        )
        .await;
    assert_eq!(skip.status, StatusCode::OK, "{}", skip.text);
    assert_eq!(
        api.step_status(&b, "issue_bhyt_card").await,
        StepStatus::Skipped
    );
    let again = api
        .call(
            Method::POST,
            &format!("/api/v1/incidents/{b}/issue_bhyt_card/retry"),
            admin,
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "no incident there any more"
    );

    let broken = "id: x\nversion: 1\nsteps: [\n";
    let a = api
        .request(
            Method::POST,
            "/api/v1/procedures",
            admin,
            Some(broken.into()),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert!(a.json()["findings"][0]["line"].is_number(), "{}", a.text);
    let yaml = include_str!("../../examples/minimal-procedure.yaml");
    let ok = api
        .request(
            Method::POST,
            "/api/v1/procedures",
            admin,
            Some(yaml.into()),
            &[],
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let versions = api
        .call(
            Method::GET,
            "/api/v1/procedures/example-birth/versions",
            api.cred("manager_079"),
            None,
        )
        .await;
    assert_eq!(versions.json()["items"][0]["version"], json!(1));
    let graph = api
        .call(
            Method::GET,
            "/api/v1/procedures/example-birth/graph?format=dot",
            admin,
            None,
        )
        .await;
    assert!(graph.text.starts_with("digraph"), "{}", graph.text);

    let notice = include_str!("../../workflows/calendar/2026.yaml");
    let wrong_year = api
        .request(
            Method::PUT,
            "/api/v1/calendar/notices/2027",
            admin,
            Some(notice.into()),
            &[],
        )
        .await;
    assert_eq!(wrong_year.status, StatusCode::UNPROCESSABLE_ENTITY);
    let up = api
        .request(
            Method::PUT,
            "/api/v1/calendar/notices/2026",
            admin,
            Some(notice.into()),
            &[],
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text);
    let year = api
        .call(
            Method::GET,
            "/api/v1/calendar/2026",
            api.cred("portal_a"),
            None,
        )
        .await;
    assert!(year.text.contains("2026-02-17"), "{}", year.text);
}

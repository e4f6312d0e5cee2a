//! The REST API end to end: an agency works its queue to the decision, idempotent filing,
//! authentication failures (S4), refused input naming its field, mass assignment (S3),
//! limits (S5: body size, rate), incidents, publishing, the calendar, and error bodies
//! that never carry a personal ID number (S14).

mod api_support;

use api_support::{Api, start, start_with};
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use lienthong_engine::machine::StepStatus;
use lienthong_engine::runtime::SpanHook;
use lienthong_engine::store::SqliteStore;
use lienthong_server::http::Limits;
use lienthong_tests::fixtures;
use serde_json::{Value, json};

async fn api() -> Api<SqliteStore> {
    start(SqliteStore::in_memory().await.expect("store")).await
}

/// True if `text` holds a run of exactly twelve digits (an unmasked personal ID number).
fn has_personal_id(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - s == 12 {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
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

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn bad_credentials_are_refused() {
    let api = api().await;
    let m = api.objects.m.clone();
    let path = format!("/api/v1/tasks/{m}/register_marriage");
    let token = api.caller("civil_officer_001").credential.clone();
    let now = api.rt.now() / 1_000;
    let claims = json!({"sub": "user:civil_officer_001", "role": "agency_officer", "agency": "civil_status",
        "province": "001", "iss": "lienthong", "aud": "lienthong-api", "iat": now, "exp": now + 600});
    let sign = |c: &Value, secret: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            c,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .expect("encode")
    };
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("another-service");
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("someone-else");
    let mut admin_claims = claims.clone();
    admin_claims["role"] = json!("admin");
    let (head, rest) = token.split_once('.').expect("jwt");
    let (payload, signature) = rest.split_once('.').expect("jwt");
    let mut flipped = signature.to_string();
    flipped.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
    let cases = [
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims)
            ),
        ),
        ("forged signature", format!("{head}.{payload}.{flipped}")),
        (
            "other secret",
            sign(&claims, b"a different secret of 32 bytes!!"),
        ),
        ("wrong audience", sign(&wrong_aud, api_support::SECRET)),
        ("wrong issuer", sign(&wrong_iss, api_support::SECRET)),
        (
            "role raised in a forged token",
            format!("{head}.{}.{signature}", b64(&admin_claims)),
        ),
        ("garbage", "not-a-token".to_string()),
    ];
    for (what, bad) in &cases {
        let a = api.call(Method::GET, &path, Some(bad), None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{what}: {}", a.text);
    }
    let ok = api.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(
        ok.status,
        StatusCode::NOT_FOUND,
        "a valid token of province 001 is not 401"
    );
    // Expired: the session lasts 900 s.
    api.clock.advance(901_000);
    let expired = api
        .call(Method::GET, "/api/v1/tasks", Some(&token), None)
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    // A revoked key stops at once.
    let admin = api.cred("admin");
    let created = api
        .call(
            Method::POST,
            "/api/v1/keys",
            admin,
            Some(json!({"role": "agency_system", "agency": "residence", "label": "to revoke"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let key = created.json()["key"].as_str().expect("key").to_string();
    let id = created.json()["id"].as_str().expect("id").to_string();
    assert_eq!(
        api.call(Method::GET, "/api/v1/tasks", Some(&key), None)
            .await
            .status,
        StatusCode::OK
    );
    let listed = api.call(Method::GET, "/api/v1/keys", admin, None).await;
    assert!(!listed.text.contains(&key), "keys are never shown again");
    let revoked = api
        .call(Method::DELETE, &format!("/api/v1/keys/{id}"), admin, None)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        api.call(Method::GET, "/api/v1/tasks", Some(&key), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Wrong passwords and unknown names answer alike.
    let wrong = api
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"name": "civil_officer_001", "password": "guess"})),
        )
        .await;
    let unknown = api
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"name": "nobody", "password": "guess"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text, unknown.text);
}

#[tokio::test]
async fn bad_input_is_refused_and_named() {
    let api = api().await;
    let portal = api.cred("portal_c");
    let (p, _, form) = fixtures::forms().swap_remove(2);
    // Mass assignment: fields the caller may not set are unknown fields.
    for field in ["status", "agency_id", "owner", "submitted_by", "code"] {
        let mut body = json!({"procedure": p, "form": form});
        body[field] = json!("decided");
        let a = api
            .request(
                Method::POST,
                "/api/v1/dossiers",
                portal,
                Some(body.to_string()),
                &[("idempotency-key", field)],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            a.text
        );
        assert!(a.text.contains(field), "{field}: {}", a.text);
        assert_eq!(a.headers["content-type"], "application/problem+json");
    }
    let not_json = api
        .request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some("{\"procedure\":".into()),
            &[("idempotency-key", "x")],
        )
        .await;
    assert_eq!(
        not_json.status,
        StatusCode::BAD_REQUEST,
        "{}",
        not_json.text
    );
    let unknown = api
        .request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(json!({"procedure": "no-such", "form": {}}).to_string()),
            &[("idempotency-key", "y")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text.contains("procedure"), "{}", unknown.text);
    let page = api
        .call(
            Method::GET,
            "/api/v1/tasks?limit=100000",
            api.cred("civil_079"),
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text.contains("limit"));
    let sort = api
        .call(
            Method::GET,
            "/api/v1/tasks?sort=1;DROP",
            api.cred("civil_079"),
            None,
        )
        .await;
    assert_eq!(sort.status, StatusCode::BAD_REQUEST);
    // Bodies over 256 KiB: 413, nothing stored.
    let big = json!({"procedure": p, "form": {"padding": "x".repeat(300 * 1024)}}).to_string();
    let a = api
        .request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(big),
            &[("idempotency-key", "big")],
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    let mine = api
        .call(Method::GET, "/api/v1/dossiers", portal, None)
        .await;
    assert_eq!(
        mine.json()["items"],
        json!([]),
        "nothing was filed by refused requests"
    );
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let limits = Limits {
        rate_per_s: 1.0,
        burst: 5.0,
        ..Limits::default()
    };
    let api = start_with(
        SqliteStore::in_memory().await.expect("store"),
        limits,
        SpanHook::default(),
    )
    .await;
    // The set-up used the bucket of the anonymous address; the caller's own is full.
    let admin = api.cred("admin");
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            api.call(Method::GET, "/api/v1/procedures", admin, None)
                .await,
        );
    }
    let refused = statuses
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        refused,
        2,
        "{:?}",
        statuses.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let last = statuses.last().expect("answers");
    assert_eq!(last.headers["retry-after"], "1");
    // Another client is not slowed by it.
    let other = api
        .call(
            Method::GET,
            "/api/v1/procedures",
            api.cred("manager_079"),
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
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

#[tokio::test]
async fn error_bodies_never_carry_a_personal_id() {
    let api = api().await;
    let portal = api.cred("portal_c");
    let id = "001204012345";
    let (p, _, form) = fixtures::forms().swap_remove(2);
    let mut with_field = json!({"procedure": p, "form": form});
    with_field[id] = json!(id);
    let mut answers = vec![
        api.call(Method::GET, &format!("/api/v1/dossiers/{id}"), portal, None)
            .await,
        api.request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(with_field.to_string()),
            &[("idempotency-key", id)],
        )
        .await,
        api.request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(format!("{{\"procedure\": {id}")),
            &[("idempotency-key", "z")],
        )
        .await,
        api.request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(json!({"procedure": id, "form": {}}).to_string()),
            &[("idempotency-key", "w")],
        )
        .await,
    ];
    let m = api.objects.m.clone();
    let civil = api.cred("civil_079");
    api.call(
        Method::POST,
        &format!("/api/v1/tasks/{m}/register_marriage/claim"),
        civil,
        Some(json!({})),
    )
    .await;
    let mut outputs = fixtures::outputs("register_marriage");
    outputs.insert(format!("id_{id}"), json!(id));
    answers.push(
        api.call(
            Method::POST,
            &format!("/api/v1/tasks/{m}/register_marriage/complete"),
            civil,
            Some(json!({"outputs": outputs})),
        )
        .await,
    );
    answers.push(
        api.call(
            Method::POST,
            &format!("/api/v1/dossiers/{m}/supplement"),
            api.cred("portal_a"),
            Some(json!({"step": id, "data": {}})),
        )
        .await,
    );
    for a in &answers {
        assert!(!a.status.is_success(), "{}", a.text);
        assert!(
            !has_personal_id(&a.text),
            "unmasked ID in {}: {}",
            a.status,
            a.text
        );
    }
    assert!(
        answers.iter().any(|a| a.text.contains("001******345")),
        "the masked form is what is shown"
    );
}

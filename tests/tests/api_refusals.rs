//! What the API refuses: bad credentials (S4), mass assignment and malformed input named
//! by field (S3), oversized bodies and over-rate clients (S5), and error bodies that never
//! carry a personal ID number (S14).

use crate::api_support;

use api_support::{Api, has_personal_id, start, start_with};
use axum::http::{Method, StatusCode};
use base64::Engine as _;
use lienthong_engine::runtime::SpanHook;
use lienthong_engine::store::SqliteStore;
use lienthong_server::http::Limits;
use lienthong_tests::fixtures;
use serde_json::{Value, json};

async fn api() -> Api<SqliteStore> {
    start(SqliteStore::in_memory().await.expect("store")).await
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
        "province": "01", "iss": "lienthong", "aud": "lienthong-api", "iat": now, "exp": now + 600});
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
        "a valid token of province 01 is not 401"
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

//! Areas are administrative units in force since 1 July 2025: a filing or a key naming a
//! former province is refused with its successor named, and nothing is stored.

use crate::api_support;

use api_support::{Api, start};
use axum::http::{Method, StatusCode};
use lienthong_engine::store::SqliteStore;
use lienthong_tests::fixtures;
use serde_json::json;

async fn api() -> Api<SqliteStore> {
    start(SqliteStore::in_memory().await.expect("store")).await
}

#[tokio::test]
async fn a_filing_in_a_former_province_is_refused_naming_its_successor() {
    let api = api().await;
    let portal = api.cred("portal_c");
    let (p, _, form) = fixtures::forms().swap_remove(2);
    let cases = [
        (json!({"province": "02"}), "08 Tỉnh Tuyên Quang"),
        (json!({"province": "079"}), "79 Thành phố Hồ Chí Minh"),
        (json!({"province": "01", "commune": "99999"}), "commune"),
        (
            json!({"province": "79", "commune": "00004"}),
            "lies in province 01",
        ),
    ];
    for (i, (area, named)) in cases.iter().enumerate() {
        let mut body = json!({"procedure": p, "form": form});
        for (k, v) in area.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let a = api
            .request(
                Method::POST,
                "/api/v1/dossiers",
                portal,
                Some(body.to_string()),
                &[("idempotency-key", &format!("area-{i}"))],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{area}: {}",
            a.text
        );
        assert!(a.text.contains(named), "{area}: {}", a.text);
    }
    let mine = api
        .call(Method::GET, "/api/v1/dossiers", portal, None)
        .await;
    assert_eq!(mine.json()["items"], json!([]), "nothing was filed");
    // A unit in force is accepted.
    let mut body = json!({"procedure": p, "form": form});
    body["province"] = json!("01");
    body["commune"] = json!("00004");
    let ok = api
        .request(
            Method::POST,
            "/api/v1/dossiers",
            portal,
            Some(body.to_string()),
            &[("idempotency-key", "area-ok")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
}

#[tokio::test]
async fn a_key_for_a_former_province_is_refused_naming_its_successor() {
    let api = api().await;
    let admin = api.cred("admin");
    let refused = api
        .call(
            Method::POST,
            "/api/v1/keys",
            admin,
            Some(json!({"role": "portal", "province": "10", "label": "old Lào Cai"})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("province: province `10` (Lào Cai) no longer exists")
            && refused.text.contains("15 Tỉnh Lào Cai"),
        "{}",
        refused.text
    );
    let listed = api.call(Method::GET, "/api/v1/keys", admin, None).await;
    assert!(!listed.text.contains("old Lào Cai"), "nothing stored");
    let created = api
        .call(
            Method::POST,
            "/api/v1/keys",
            admin,
            Some(json!({"role": "portal", "province": "15", "label": "Lào Cai"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

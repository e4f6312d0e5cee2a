//! Administration within its scope, tried as an attacker would: an administrator scoped to
//! one province creates, lists and revokes only keys inside that province, never a wider
//! one, and cannot publish a procedure (a definition applies nationwide).

use crate::api_support;

use api_support::{T0, start};
use axum::http::{Method, StatusCode};
use lienthong_engine::store::{Accounts, SqliteStore};
use lienthong_server::http::admin::{NewKey, make_key};
use serde_json::json;

#[tokio::test]
async fn a_scoped_administrator_stays_inside_its_province() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let new = NewKey {
        role: "admin".into(),
        agency: None,
        province: Some("01".into()),
        commune: None,
        label: "Hà Nội administrator".into(),
    };
    let (scoped, record) = make_key(&new, T0).expect("key");
    api.rt
        .store()
        .insert_api_key(&record)
        .await
        .expect("insert");
    let key = |body: serde_json::Value| {
        let scoped = scoped.clone();
        let api = &api;
        async move {
            api.call(Method::POST, "/api/v1/keys", Some(&scoped), Some(body))
                .await
        }
    };
    // Wider than itself, or another province: refused, nothing created.
    let before = api.rt.store().api_keys().await.expect("keys").len();
    for body in [
        json!({"role": "admin", "label": "unscoped"}),
        json!({"role": "portal", "province": "79", "label": "other province"}),
        json!({"role": "manager", "label": "national manager"}),
    ] {
        let a = key(body.clone()).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{body}: {}", a.text);
        assert!(a.text.contains("area"), "{}", a.text);
    }
    assert_eq!(api.rt.store().api_keys().await.expect("keys").len(), before);
    // Inside its province: created.
    let a = key(json!({"role": "portal", "province": "01", "label": "Hà Nội portal"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a =
        key(json!({"role": "manager", "province": "01", "commune": "00004", "label": "a ward"}))
            .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // It lists only keys inside its province.
    let list = api
        .call(Method::GET, "/api/v1/keys", Some(&scoped), None)
        .await
        .json();
    let items = list["items"].as_array().expect("items");
    assert!(items.len() >= 3, "{list}");
    assert!(items.iter().all(|k| k["province"] == json!("01")), "{list}");
    // The national administrator's key (and a 79 key) cannot be revoked: as if missing.
    let all = api.rt.store().api_keys().await.expect("keys");
    for label in ["admin", "portal_a"] {
        let id = &all.iter().find(|k| k.label == label).expect(label).id;
        let a = api
            .call(
                Method::DELETE,
                &format!("/api/v1/keys/{id}"),
                Some(&scoped),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{label}: {}", a.text);
        let still = api.rt.store().api_keys().await.expect("keys");
        assert!(
            still.iter().any(|k| &k.id == id && k.revoked_at.is_none()),
            "{label} still works"
        );
    }
    // A key inside: revoked.
    let own = &all
        .iter()
        .find(|k| k.label == "portal_b")
        .expect("portal_b")
        .id;
    let a = api
        .call(
            Method::DELETE,
            &format!("/api/v1/keys/{own}"),
            Some(&scoped),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    // Publishing is nationwide: refused, while the national administrator may.
    let yaml = include_str!("../../examples/minimal-procedure.yaml").to_string();
    let a = api
        .request(
            Method::POST,
            "/api/v1/procedures",
            Some(&scoped),
            Some(yaml.clone()),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let a = api
        .request(
            Method::POST,
            "/api/v1/procedures",
            api.cred("admin"),
            Some(yaml),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}

//! What the server shows of itself: one trace per dossier (checked with the in-memory span
//! exporter, across steps and across a second node), Prometheus metrics scraped from
//! `/metrics`, and the hash-chained audit trail that `audit verify` checks — intact, then
//! with one row changed or deleted.

use crate::api_support;

use api_support::{Api, Instant, start, start_with};
use axum::http::{Method, StatusCode};
use lienthong_engine::adapter::Adapter;
use lienthong_engine::calendar::Calendar;
use lienthong_engine::machine::DossierId;
use lienthong_engine::runtime::{Config, RecordingNotifier, Runtime};
use lienthong_engine::store::SqliteStore;
use lienthong_server::http::Limits;
use lienthong_server::telemetry::{dossier_ids, dossier_spans};
use lienthong_tests::fixtures;
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;

fn dossier_of(s: &SpanData) -> Option<String> {
    s.attributes.iter().find_map(|KeyValue { key, value, .. }| {
        (key.as_str() == "dossier").then(|| match value {
            OtelValue::String(v) => v.to_string(),
            other => other.to_string(),
        })
    })
}

#[tokio::test]
async fn a_dossier_is_one_trace_across_steps_and_nodes() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let store = SqliteStore::in_memory().await.expect("store");
    let limits = Limits {
        rate_per_s: 1e9,
        burst: 1e9,
        ..Limits::default()
    };
    let api: Api<SqliteStore> = start_with(store.clone(), limits, dossier_spans()).await;
    let m = api.objects.m.clone();
    let civil = api.cred("civil_079");
    let base = format!("/api/v1/tasks/{m}/register_marriage");
    let claim = api
        .call(
            Method::POST,
            &format!("{base}/claim"),
            civil,
            Some(json!({})),
        )
        .await;
    assert_eq!(claim.status, StatusCode::OK, "{}", claim.text);
    // A second node (a restart, or another process) finishes the dossier.
    let adapters: Vec<Arc<dyn Adapter>> = vec![Arc::new(Instant("civil_status"))];
    let node2 = Runtime::new(
        store,
        Arc::new(Calendar::vietnam()),
        Arc::new(api.clock.clone()),
        adapters,
        Arc::new(RecordingNotifier::default()),
        Config {
            node: "api-2".into(),
            spans: dossier_spans(),
            ..Config::default()
        },
    );
    let id = api.id(&m).await;
    node2
        .complete_task(
            "civil_status",
            &id,
            "register_marriage",
            "key:not-the-claimant",
            &fixtures::outputs("register_marriage"),
        )
        .await
        .expect_err("only the claimant may complete");
    let claimant = claim.json()["claimed_by"]
        .as_str()
        .expect("claimant")
        .to_string();
    node2
        .complete_task(
            "civil_status",
            &id,
            "register_marriage",
            &claimant,
            &fixtures::outputs("register_marriage"),
        )
        .await
        .expect("completed on node 2");
    node2.tick().await.expect("tick");
    let _ = provider.force_flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let (trace, root) = dossier_ids(&id);
    let mine: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .collect();
    let names: Vec<&str> = mine.iter().map(|s| s.name.as_ref()).collect();
    for expected in ["submitted", "transition", "adapter_call", "agency_request"] {
        assert!(
            names.contains(&expected),
            "no `{expected}` span in {names:?}"
        );
    }
    // Every span about the dossier is in its trace: the top ones under its root…
    for s in spans
        .iter()
        .filter(|s| dossier_of(s).as_deref() == Some(id.0.as_str()))
    {
        assert_eq!(s.span_context.trace_id(), trace, "{}", s.name);
        assert_eq!(s.parent_span_id, root, "{}", s.name);
    }
    // …and the agency's answer inside the call that awaited it.
    let calls: Vec<SpanId> = mine
        .iter()
        .filter(|s| s.name == "adapter_call")
        .map(|s| s.span_context.span_id())
        .collect();
    let requests: Vec<&&SpanData> = mine.iter().filter(|s| s.name == "agency_request").collect();
    assert_eq!(requests.len(), 2, "two status checks were called");
    assert!(requests.iter().all(|r| calls.contains(&r.parent_span_id)));
    // The transitions of node 2 joined the same trace.
    let decided = mine.iter().filter(|s| s.name == "transition").count();
    assert!(decided >= 4, "{names:?}");
    // Nothing personal in any span: names, dossier ids, steps and agencies only.
    for s in &spans {
        for kv in &s.attributes {
            let v = kv.value.to_string();
            assert!(
                !api_support::has_personal_id(&v),
                "span {} carries {v}",
                s.name
            );
            assert!(!v.contains("Lê Văn"), "span {} carries {v}", s.name);
        }
    }
    // Another dossier is another trace.
    let other: DossierId = api.id(&api.objects.m2).await;
    assert_ne!(dossier_ids(&other).0, trace);
    assert!(
        spans
            .iter()
            .any(|s| s.span_context.trace_id() == dossier_ids(&other).0)
    );
}

#[tokio::test]
async fn metrics_are_scraped() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    let a = api.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    let text = a.text;
    for line in [
        "lienthong_transitions_total{event=\"submitted\"}",
        "lienthong_dossiers_submitted_total{procedure=\"marital-status-marriage\"} 2",
        "lienthong_dossiers{status=\"processing\"}",
        "lienthong_queue_depth{agency=\"civil_status\"} 2",
        "lienthong_queue_depth{agency=\"funeral_support\"} 1",
        "lienthong_adapter_errors_total{agency=\"social_insurance\",kind=\"permanent\"} 1",
        "lienthong_http_requests_total{route=\"/api/v1/dossiers\",method=\"POST\",status=\"201\"} 4",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    assert!(!text.contains("personal_id"));
}

#[tokio::test]
async fn audit_verify_passes_untouched_and_fails_on_any_change() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    // Denials are audited too.
    api.call(Method::GET, "/api/v1/keys", api.cred("portal_a"), None)
        .await;
    api.call(Method::GET, "/api/v1/keys", None, None).await;
    let store = api.rt.store().clone();
    let v = lienthong_server::audit::verify(&store)
        .await
        .expect("verify");
    assert!(v.ok(), "{:?}", v.problems);
    assert!(
        v.audit_rows >= 8 && v.dossiers == 4 && v.journal_rows > 10,
        "{v:?}"
    );
    let pool = store.pool();
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT outcome, actor FROM audit_log ORDER BY seq")
            .fetch_all(pool)
            .await
            .expect("rows");
    assert!(
        rows.contains(&(
            403,
            "key:".to_string() + &api.caller("portal_a").credential[3..15]
        )),
        "{rows:?}"
    );
    assert!(rows.contains(&(401, "anonymous".to_string())));

    let broken = |sql: &'static str| {
        let store = store.clone();
        async move {
            let pool = store.pool();
            sqlx::query("BEGIN").execute(pool).await.expect("begin");
            sqlx::query(sql).execute(pool).await.expect("tamper");
            let v = lienthong_server::audit::verify(&store)
                .await
                .expect("verify");
            sqlx::query("ROLLBACK")
                .execute(pool)
                .await
                .expect("rollback");
            v
        }
    };
    let changed = broken("UPDATE audit_log SET actor = 'key:someone' WHERE seq = 3").await;
    assert!(
        changed.problems.iter().any(|p| p.contains("audit row 3")),
        "{:?}",
        changed.problems
    );
    let deleted = broken("DELETE FROM audit_log WHERE seq = 2").await;
    assert!(
        deleted.problems.iter().any(|p| p.contains("missing")),
        "{:?}",
        deleted.problems
    );
    let journal = broken("UPDATE journal SET status = 'decided' WHERE version = 2").await;
    assert!(
        journal
            .problems
            .iter()
            .any(|p| p.contains("journal version 2")),
        "{:?}",
        journal.problems
    );
    let last =
        broken("DELETE FROM journal WHERE version = (SELECT MAX(version) FROM journal)").await;
    assert!(!last.ok(), "deleting a last journal row must be seen");
    let again = lienthong_server::audit::verify(&store)
        .await
        .expect("verify");
    assert!(again.ok(), "{:?}", again.problems);
}

#[tokio::test]
async fn concurrent_audit_rows_keep_one_chain_on_postgres() {
    let Some(db) = lienthong_tests::fresh_postgres().await else {
        return;
    };
    use lienthong_engine::store::{Accounts as _, AuditEntry, Store};
    db.store.migrate().await.expect("migrate");
    // Two pools, as two nodes would have.
    let other = lienthong_engine::store::PgStore::connect(&db.url, 4)
        .await
        .expect("second node");
    let mut writes = Vec::new();
    for i in 0..40_i64 {
        let store = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        writes.push(tokio::spawn(async move {
            let e = AuditEntry {
                at: i,
                actor: format!("key:{i}"),
                role: "portal".into(),
                action: "GET /api/v1/dossiers".into(),
                target: "/api/v1/dossiers".into(),
                source: "127.0.0.1".into(),
                outcome: 200,
            };
            store.append_audit(&e).await
        }));
    }
    let mut seqs = Vec::new();
    for w in writes {
        seqs.push(w.await.expect("task").expect("appended"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    let v = lienthong_server::audit::verify(&db.store)
        .await
        .expect("verify");
    assert!(v.ok() && v.audit_rows == 40, "{v:?}");
    other.pool().close().await;
    db.drop_now().await;
}

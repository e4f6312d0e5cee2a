//! A paused node must not commit what it held (reliability R3), and nodes drain on SIGTERM
//! (R14). Two engine processes share PostgreSQL and fake agencies over HTTP; node 1 is
//! frozen with SIGSTOP while its agency calls are in flight, for twice its lease; node 2
//! takes the work over; node 1 is resumed with SIGCONT. Node 1 then commits nothing on the
//! steps it held — its answers arrive, but its claims are fenced — and every step has one
//! effect. Finally both nodes get SIGTERM and must exit within 10 s.

use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::machine::Event;
use lienthong_engine::store::Procedures;
use lienthong_engine::store::Store;
use lienthong_tests::agency::{self, Agencies};
use lienthong_tests::{fixtures, fresh_postgres};
use sqlx::Row;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LEASE_MS: i64 = 1_500;
const DOSSIERS: usize = 120;

fn node(name: &str, url: &str, agencies: &str, submit: (usize, usize)) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chaos"))
        .arg("node")
        .args(["--name", name, "--postgres", url, "--agencies", agencies])
        .args(["--lease-ms", &LEASE_MS.to_string()])
        .args(["--submit", &submit.0.to_string(), &submit.1.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start a node")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_commits_nothing_it_held_and_nodes_drain_on_sigterm() {
    let Some(db) = fresh_postgres().await else {
        return;
    };
    let store = db.store.clone();
    store.migrate().await.expect("migrate");
    for p in fixtures::procedures() {
        store.publish(&p, SystemClock.now()).await.expect("publish");
    }
    // Slow agencies (0.4–0.8 s an answer): node 1 is sure to have calls in flight.
    let agencies = Agencies::new(3, 0).with_delay(800);
    let base = agency::serve(agencies.clone()).await.expect("agencies");
    let mut one = node("node-1", &db.url, &base, (0, DOSSIERS));
    let mut two = node("node-2", &db.url, &base, (0, 0));

    // Wait until node 1 holds agency calls, then freeze it and note what it holds.
    let held_query = "SELECT dossier_id, effect FROM outbox WHERE lease_owner = 'node-1' \
                      AND lease_until > $1 AND kind = 'call'";
    let started = Instant::now();
    let held = loop {
        let rows = sqlx::query(held_query)
            .bind(SystemClock.now())
            .fetch_all(store.pool())
            .await
            .expect("outbox");
        if rows.len() >= 3 {
            signal(&one, "-STOP");
            break sqlx::query(held_query)
                .bind(SystemClock.now())
                .fetch_all(store.pool())
                .await
                .expect("outbox");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "node 1 never held work"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stopped_at = SystemClock.now();
    let held: Vec<(String, String)> = held
        .iter()
        .map(|r| {
            let effect: serde_json::Value =
                serde_json::from_str(&r.get::<String, _>("effect")).expect("effect");
            (
                r.get("dossier_id"),
                effect["step"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(!held.is_empty(), "node 1 was frozen holding work");
    tokio::time::sleep(Duration::from_millis(2 * LEASE_MS as u64 + 500)).await;
    signal(&one, "-CONT");

    // Everything finishes (node 1 files the rest of its share after resuming).
    let started = Instant::now();
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM dossiers WHERE status = 'decided'")
                .fetch_one(store.pool())
                .await
                .expect("count");
        if done == DOSSIERS as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{done} of {DOSSIERS} decided"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // On each step node 1 held, what was committed after the freeze came from node 2.
    let mut taken_over = 0;
    for (dossier, step) in &held {
        let rows = sqlx::query(
            "SELECT node, at, event FROM journal WHERE dossier_id = $1 ORDER BY version",
        )
        .bind(dossier)
        .fetch_all(store.pool())
        .await
        .expect("journal");
        for r in rows {
            let event: Event = serde_json::from_str(&r.get::<String, _>("event")).expect("event");
            let (node, at): (String, i64) = (r.get("node"), r.get("at"));
            if event.step() == Some(step.as_str()) && at >= stopped_at {
                assert_ne!(
                    node,
                    "node-1",
                    "the frozen node committed {step} of {dossier}: {} at {at}, frozen at {stopped_at}",
                    event.name()
                );
                taken_over += 1;
            }
        }
    }
    assert!(taken_over > 0, "node 2 took the frozen node's work over");

    // Exactly one effect per (dossier, step) at the agencies.
    {
        let ledger = agencies.ledger.lock().expect("ledger");
        assert_eq!(ledger.duplicate_effects(), 0);
        let mut per_step: HashMap<(&str, &str), usize> = HashMap::new();
        for e in ledger.effects.values() {
            *per_step.entry((&e.dossier_code, &e.step)).or_default() += 1;
        }
        assert!(per_step.values().all(|n| *n == 1));
    }

    // Both nodes drain and exit within 10 s of SIGTERM.
    for child in [&mut one, &mut two] {
        let asked = Instant::now();
        signal(child, "-TERM");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "a node exits cleanly on SIGTERM: {status}"
                );
                break;
            }
            if asked.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("a node took more than 10 s to drain");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    db.drop_now().await;
}

//! A new agency needs no Rust change: a definition declares the role and its action, the
//! agencies file connects it through the generic HTTP adapter with a callback secret read
//! from the environment, and `lienthong serve` runs a dossier through it — the simulated
//! agency accepts the request, then answers later through a signed callback.

mod support;

use lienthong_adapters::auth::Secret;
use lienthong_adapters::simulator::CallbackTarget;
use lienthong_adapters::simulator::generic::{GenericAgency, GenericSpec};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const SECRET: &str = "a callback secret the land office was given";

fn lienthong(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(args)
        .output()
        .expect("runs")
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lienthong-declared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("workflows")).expect("dir");
    dir
}

/// Starts `serve` and returns it with the port it printed.
fn serve(dir: &Path, db: &str, agencies: &Path) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["serve", "--database-url", db, "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .env("LIENTHONG_AGENCIES", agencies)
        .env("LIENTHONG_WORKFLOWS", dir.join("workflows"))
        .env("LIENTHONG_LAND_CALLBACK", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let port = lines
        .find_map(|l| support::served_port(&l))
        .expect("the server prints its address");
    // Keep draining the server's log so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_agency_runs_end_to_end_and_answers_by_signed_callback() {
    let dir = temp_dir();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(
        repo.join("examples/declared-agency.yaml"),
        dir.join("workflows/declared-agency.yaml"),
    )
    .expect("copy the example");
    let land = GenericAgency::start(
        GenericSpec {
            role: "land_registry".into(),
            actions: BTreeMap::from([(
                "record_change".into(),
                json!({"record_number": "BD-0042"}),
            )]),
            callback_delay: Duration::from_millis(300),
        },
        0,
    )
    .await
    .expect("simulator");
    let agencies = dir.join("agencies.toml");
    std::fs::write(
        &agencies,
        format!(
            "allow = [\"{addr}\"]\n\n[[agency]]\nrole = \"land_registry\"\napi = \"generic\"\n\
             base_url = \"http://{addr}\"\ncallback = {{ secret_env = \"LIENTHONG_LAND_CALLBACK\" }}\n",
            addr = land.addr
        ),
    )
    .expect("agencies file");
    let db = format!("sqlite:{}", dir.join("t.db").display());
    let key = lienthong(&["key", "create", "--role", "portal", "--database-url", &db]);
    assert!(
        key.status.success(),
        "{}",
        String::from_utf8_lossy(&key.stderr)
    );
    let key = String::from_utf8_lossy(&key.stdout).trim().to_string();
    let (mut server, port) = serve(&dir, &db, &agencies);
    let base = format!("http://127.0.0.1:{port}");
    land.answer_later(CallbackTarget {
        url: format!("{base}/api/v1/callbacks"),
        secrets: BTreeMap::from([("land_registry".to_string(), Secret::new(SECRET))]),
    });

    let http = reqwest::Client::new();
    let form = json!({"procedure": "example-land-record", "form": {
        "parcel": {"sheet": "12", "number": "345"},
        "holder": {"full_name": "Nguyễn Thị Lan", "personal_id": "001190012345"}}});
    let created = http
        .post(format!("{base}/api/v1/dossiers"))
        .bearer_auth(&key)
        .header("Idempotency-Key", "land-1")
        .json(&form)
        .send()
        .await
        .expect("submit");
    assert_eq!(created.status().as_u16(), 201);
    let code = created.json::<Value>().await.expect("json")["code"]
        .as_str()
        .expect("a dossier code")
        .to_string();

    // A forged callback is refused before it reaches the dossier.
    let forged = http
        .post(format!("{base}/api/v1/callbacks/land_registry"))
        .header("x-lienthong-timestamp", "1")
        .header("x-lienthong-signature", "00")
        .json(&json!({"dossier_code": code, "idempotency_key": "x", "answer": {"outcome": "completed", "outputs": {}}}))
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status().as_u16(), 401);

    let mut last = Value::Null;
    for _ in 0..150 {
        let r = http
            .get(format!("{base}/api/v1/dossiers/{code}"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("read");
        last = r.json().await.expect("json");
        if last["status"] == "decided" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The simulator counts its callback once it has read the answer; the server may have
    // committed the answer (and the dossier been read as decided) a moment before.
    for _ in 0..50 {
        if land.faults().contains_key("callback_delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    land.stop();
    assert_eq!(last["status"], "decided", "{last:#}");
    assert_eq!(last["steps"][0]["step"], "record_change");
    assert_eq!(last["steps"][0]["agency"], "land_registry");
    assert_eq!(last["steps"][0]["status"], "done");
    let filed = land.filed();
    assert_eq!(filed.len(), 1, "filed once: {filed:?}");
    assert_eq!(filed[0].dossier_code, code);
    assert_eq!(land.faults().get("callback_delivered"), Some(&1));
    assert_eq!(land.faults().get("callback_refused"), None);
    let _ = std::fs::remove_dir_all(&dir);
}

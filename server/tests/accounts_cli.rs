//! Bootstrapping access and checking the trail from the command line: `key create`
//! (printed once, last), `user add` (password on standard input), `key list` / `revoke`,
//! then `serve` over real HTTP, and `audit verify` on the database it wrote — intact, then
//! with one audit row changed.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lienthong(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp_db(name: &str) -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("lienthong-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite:{}", dir.join("t.db").display());
    (dir, url)
}

/// One HTTP/1.1 request over a plain TCP connection: (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn keys_and_users_are_made_from_the_command_line() {
    let (_dir, db) = temp_db("accounts");
    let k = lienthong(
        &["key", "create", "--role", "admin", "--database-url", &db],
        "",
    );
    assert!(k.status.success(), "{}", text(&k.stderr));
    let key = text(&k.stdout).trim().to_string();
    assert!(key.starts_with("lt_") && key.len() > 70, "{key}");
    assert!(text(&k.stderr).contains("shown once"));
    let no_agency = lienthong(
        &[
            "key",
            "create",
            "--role",
            "agency_system",
            "--database-url",
            &db,
        ],
        "",
    );
    assert!(!no_agency.status.success());
    assert!(
        text(&no_agency.stderr).contains("agency"),
        "{}",
        text(&no_agency.stderr)
    );
    // Areas are the units in force: a former province is refused with its successor.
    let old = lienthong(
        &[
            "key",
            "create",
            "--role",
            "portal",
            "--province",
            "079",
            "--database-url",
            &db,
        ],
        "",
    );
    assert!(!old.status.success());
    assert!(
        text(&old.stderr).contains(
            "--province: `079` is the personal-ID code of the former province TP Hồ Chí Minh"
        ) && text(&old.stderr).contains("79 Thành phố Hồ Chí Minh"),
        "{}",
        text(&old.stderr)
    );
    let merged = lienthong(
        &[
            "user",
            "add",
            "ha",
            "--role",
            "manager",
            "--province",
            "02",
            "--database-url",
            &db,
        ],
        "một mật khẩu đủ dài\n",
    );
    assert!(!merged.status.success());
    assert!(
        text(&merged.stderr).contains("part of 08 Tỉnh Tuyên Quang"),
        "{}",
        text(&merged.stderr)
    );
    let list = lienthong(&["key", "list", "--database-url", &db], "");
    let listed = text(&list.stdout);
    assert_eq!(
        listed.lines().count(),
        1,
        "refused keys are not stored: {listed}"
    );
    let id = listed.split('\t').next().expect("id").to_string();
    assert!(key.contains(&id) && !listed.contains(&key), "{listed}");
    let short = lienthong(
        &[
            "user",
            "add",
            "an",
            "--role",
            "agency_officer",
            "--agency",
            "civil_status",
            "--database-url",
            &db,
        ],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("12 characters"));
    let args = [
        "user",
        "add",
        "an",
        "--role",
        "agency_officer",
        "--agency",
        "civil_status",
        "--database-url",
        &db,
    ];
    let ok = lienthong(&args, "một mật khẩu đủ dài\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let again = lienthong(&args, "một mật khẩu đủ dài\n");
    assert!(text(&again.stderr).contains("exists"));
    // A look-alike of `an` (Cyrillic а, full-width n) is refused; so is a name with a space.
    let mut like = args;
    like[2] = "аｎ";
    let refused = lienthong(&like, "một mật khẩu đủ dài\n");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("looks like the existing user `an`"),
        "{}",
        text(&refused.stderr)
    );
    like[2] = "a n";
    assert!(!lienthong(&like, "một mật khẩu đủ dài\n").status.success());
    // Disabled from the command line, once.
    let off = lienthong(&["user", "disable", "an", "--database-url", &db], "");
    assert!(off.status.success(), "{}", text(&off.stderr));
    let off_again = lienthong(&["user", "disable", "an", "--database-url", &db], "");
    assert!(!off_again.status.success());
    let revoke = lienthong(&["key", "revoke", &id, "--database-url", &db], "");
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    let twice = lienthong(&["key", "revoke", &id, "--database-url", &db], "");
    assert!(!twice.status.success());
}

#[test]
fn serve_then_audit_verify() {
    let (_dir, db) = temp_db("audit");
    let portal = text(
        &lienthong(
            &["key", "create", "--role", "portal", "--database-url", &db],
            "",
        )
        .stdout,
    )
    .trim()
    .to_string();
    let mut server = Command::new(env!("CARGO_BIN_EXE_lienthong"))
        .args(["serve", "--database-url", &db, "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stderr = server.stderr.take().expect("stderr");
    let port: u16 = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| support::served_port(&l))
        .expect("the server prints its address");
    let form = r#"{"procedure":"marital-status-marriage","form":{"partner_a":{"full_name":"Lê Văn Cường","personal_id":"079095012345","birth_date":"1995-03-02","sex":"male"},"partner_b":{"full_name":"Phạm Thị Dung","personal_id":"079197012345","birth_date":"1997-07-09","sex":"female"},"consent":{"partner_a":true,"partner_b":true}}}"#;
    let auth = format!("Bearer {portal}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Idempotency-Key", "cli-1"),
    ];
    let (status, body) = http(port, "POST", "/api/v1/dossiers", &headers, form);
    assert_eq!(status, 201, "{body}");
    let (status, _) = http(port, "GET", "/api/v1/keys", &headers, "");
    assert_eq!(status, 403);
    let (status, _) = http(port, "GET", "/readyz", &[], "");
    assert_eq!(status, 200);
    let _ = server.kill();
    let _ = server.wait();

    let v = lienthong(&["audit", "verify", "--database-url", &db], "");
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}{}",
        text(&v.stdout),
        text(&v.stderr)
    );
    assert!(text(&v.stdout).contains("intact"), "{}", text(&v.stdout));
    let path = db.trim_start_matches("sqlite:").to_string();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(async {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}"))
                .await
                .expect("open");
            sqlx::query("UPDATE audit_log SET outcome = 200 WHERE outcome = 403")
                .execute(&pool)
                .await
                .expect("tamper");
            pool.close().await;
        });
    let broken = lienthong(&["audit", "verify", "--database-url", &db], "");
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stdout).contains("audit row 2: content changed"),
        "{}",
        text(&broken.stdout)
    );
}

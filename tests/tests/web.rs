//! The web application in a real browser (headless Chromium through ChromeDriver), against
//! the server on a loopback port: an officer works a task through the generated form, an
//! officer of another agency cannot open it, a manager's chart and CSV equal the API's
//! figures, an administrator sees a definition's error on its line and publishes a good
//! one, a citizen finds a dossier's status. Every page is photographed into
//! `target/screenshots/` and checked with axe-core. The forms' CSRF defence and the
//! server-side sign-out are tested without the browser in `web_security.rs`.

use crate::api_support;
use crate::web_support;

use api_support::{Api, start};
use axum::http::{Method, StatusCode};
use lienthong_engine::machine::StepStatus;
use lienthong_engine::store::{Accounts, SqliteStore, User};
use lienthong_server::http::auth::hash_password;
use serde_json::{Value, json};
use web_support::Browser;

const PASSWORD: &str = "a long password for tests";

async fn user(api: &Api<SqliteStore>, name: &str, role: &str, agency: Option<&str>) {
    let u = User {
        name: name.into(),
        password_hash: hash_password(PASSWORD).expect("hash"),
        role: role.into(),
        agency: agency.map(str::to_string),
        province: None,
        commune: None,
        created_at: api_support::T0,
        disabled_at: None,
    };
    assert!(api.rt.store().insert_user(&u).await.expect("user"));
}

/// Serves the test server's router on a loopback port; its base URL.
async fn serve(api: &Api<SqliteStore>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = api.app.clone();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _keep = _stop;
        lienthong_server::http::serve(listener, app, stopped).await
    });
    format!("http://{addr}")
}

/// The fields of one CSV line (RFC 4180 quoting).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().expect("cell").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().expect("cell").push(c),
        }
    }
    cells
}

fn one_decimal(v: &Value) -> String {
    v.as_f64().map(|x| format!("{x:.1}")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_application_in_a_browser() {
    let api = start(SqliteStore::in_memory().await.expect("store")).await;
    user(
        &api,
        "officer_funeral",
        "agency_officer",
        Some("funeral_support"),
    )
    .await;
    user(&api, "admin_user", "admin", None).await;
    let base = serve(&api).await;
    let b = Browser::start(&base).await;
    let code = api.objects.m2.clone();
    let task = format!("/desk/{code}/register_marriage");

    // The citizen's status page needs no account.
    b.goto("/status").await;
    b.shot("status-form").await;
    b.check_page("status").await;
    let id = api.id(&code).await;
    let d = api.rt.load(&id).await.expect("load").expect("dossier");
    let filer = d.form["partner_a"]["personal_id"]
        .as_str()
        .expect("partner's ID")
        .to_string();
    b.fill("#s-code", &code).await;
    b.fill("#s-id", &filer).await;
    b.click("form.card button[type=submit]").await;
    let shown = b.text("#status-label").await;
    let view = api
        .call(
            Method::GET,
            &format!("/api/v1/dossiers/{code}"),
            api.cred("admin"),
            None,
        )
        .await
        .json();
    assert_eq!(shown, view["status_vi"].as_str().unwrap_or_default());
    b.shot("status-found").await;
    b.check_page("status found").await;
    // A wrong ID number shows nothing of the dossier.
    b.fill("#s-code", &code).await;
    b.fill("#s-id", "000000000000").await;
    b.click("form.card button[type=submit]").await;
    b.css("p.error[role=alert]").await;
    assert_eq!(
        b.run("return document.querySelectorAll('#result').length")
            .await,
        json!(0)
    );

    // A staff page sends a visitor to sign in, and back.
    b.goto("/desk").await;
    assert_eq!(b.at("/sign-in?next=%2Fdesk").await, "/sign-in?next=%2Fdesk");
    b.shot("sign-in").await;
    b.check_page("sign-in").await;
    b.fill("#name", "civil_officer_001").await;
    b.fill("#password", "wrong password").await;
    b.click("form.card button[type=submit]").await;
    b.css("#sign-in-error").await;
    b.fill("#password", PASSWORD).await;
    b.click("form.card button[type=submit]").await;
    assert_eq!(b.at("/desk").await, "/desk");
    let queue = b.text("#queue").await;
    assert!(queue.contains(&code), "the queue shows the task: {queue}");
    b.shot("desk").await;
    b.check_page("desk").await;

    // The task page; claim; the form's field error; then complete.
    b.click(&format!("a.button[href='{task}']")).await;
    assert_eq!(b.at(&task).await, task);
    // Claimed, given back, claimed again (the control sheet records each hand-off).
    b.click("#claim").await;
    b.css("#complete-form").await;
    b.click("#release").await;
    b.css("#claim").await;
    assert_eq!(
        api.step_status(&code, "register_marriage").await,
        StepStatus::Queued
    );
    b.click("#claim").await;
    b.css("#complete-form").await;
    b.shot("task-claimed").await;
    b.check_page("task").await;
    b.fill("#out-marriage_certificate_number", "15/2026").await;
    b.click("input[name='out.handover_deferred'][value='false']")
        .await;
    b.click("#complete-form button[type=submit]").await;
    let error = b.text("#out-registered_on-error").await;
    assert_eq!(error, "Bắt buộc nhập.");
    assert_eq!(
        b.css("#out-registered_on")
            .await
            .attr("aria-invalid")
            .await
            .expect("attr")
            .as_deref(),
        Some("true")
    );
    b.shot("task-field-error").await;
    b.check_page("task with an error").await;
    assert_eq!(
        api.step_status(&code, "register_marriage").await,
        StepStatus::Claimed,
        "nothing is stored from an invalid form"
    );
    b.run("document.getElementById('out-registered_on').value = '2026-11-23'")
        .await;
    b.click("#complete-form button[type=submit]").await;
    assert_eq!(
        b.at(&format!("/dossiers/{code}?done=1")).await,
        format!("/dossiers/{code}?done=1")
    );
    b.css("p.notice").await;
    b.shot("dossier-after-completion").await;
    b.check_page("dossier").await;
    api.settle().await;
    assert_eq!(
        api.step_status(&code, "register_marriage").await,
        StepStatus::Done
    );
    let d = api.rt.load(&id).await.expect("load").expect("dossier");
    assert_eq!(
        d.steps["register_marriage"]
            .outputs
            .as_ref()
            .map(|o| o["registered_on"].clone()),
        Some(json!("2026-11-23"))
    );

    // A page post without the form's token is refused, and changes nothing.
    let refused = b
        .run_async(&format!(
            "fetch('{task}/claim', {{method: 'POST', body: new URLSearchParams({{}})}})\
             .then(r => done(r.status))"
        ))
        .await;
    assert_eq!(refused, json!(403));

    // An officer of another agency: the task's URL answers like a missing page.
    b.click("header form button.link").await;
    assert_eq!(b.at("/sign-in").await, "/sign-in");
    b.sign_in("officer_funeral", PASSWORD).await;
    b.goto(&task).await;
    assert_eq!(b.text("h1").await, "Không tìm thấy trang");
    b.goto(&format!("/dossiers/{}", api.objects.m)).await;
    assert_eq!(b.text("h1").await, "Không tìm thấy trang");
    b.shot("other-agency-refused").await;

    // The manager: the chart, the table and the CSV carry the API's numbers.
    b.forget().await;
    b.sign_in("manager_officer", PASSWORD).await;
    assert_eq!(b.at("/dashboard").await, "/dashboard");
    b.shot("dashboard").await;
    b.check_page("dashboard").await;
    let figures = api
        .call(
            Method::GET,
            "/api/v1/figures",
            api.cred("manager_officer"),
            None,
        )
        .await
        .json();
    let groups = figures["groups"].as_array().expect("groups");
    let csv = b
        .run_async("fetch('/dashboard/export?format=csv').then(r => r.text()).then(done)")
        .await;
    let csv = csv.as_str().expect("csv").trim_start_matches('\u{feff}');
    let mut compared = 0;
    for g in groups {
        let id = g["procedure"].as_str().expect("id");
        let title = g["title_vi"].as_str().expect("title");
        let median = one_decimal(&g["median_working_days"]);
        let cell = b
            .text(&format!(
                "tr[data-procedure='{id}'] td[data-field='median']"
            ))
            .await;
        assert_eq!(cell, median, "{id}: table median");
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id} not in the CSV:\n{csv}"));
        let cells = csv_cells(line);
        assert_eq!(cells[2], g["dossiers"].to_string(), "{id}: CSV dossiers");
        assert_eq!(cells[3], g["decided"].to_string(), "{id}: CSV decided");
        assert_eq!(cells[4], median, "{id}: CSV median");
        if g["dossiers"].as_u64().unwrap_or(0) > 0 {
            let bar = b
                .run(&format!(
                    "return [...document.querySelectorAll('#chart-times g.bar')]\
                     .filter(g => g.dataset.group === {} && g.dataset.series === 'Trung vị hiện nay')\
                     .map(g => g.dataset.value)",
                    json!(title)
                ))
                .await;
            if median.is_empty() {
                assert_eq!(bar, json!([]), "{id}: no median, no bar");
            } else {
                assert_eq!(bar, json!([median.clone()]), "{id}: chart median");
                compared += 1;
            }
        }
    }
    assert!(compared >= 1, "medians compared: {compared}");
    // The Excel workbook: the same numbers, as numbers.
    let xlsx = api
        .call(
            Method::GET,
            "/dashboard/export?format=xlsx",
            api.cred("manager_officer"),
            None,
        )
        .await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.text);
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.bytes)).expect("a workbook");
    let sheet = calamine::Reader::worksheet_range(&mut book, "groups").expect("groups sheet");
    for g in groups {
        let id = g["procedure"].as_str().expect("id");
        let row = sheet
            .rows()
            .find(|r| r.first().and_then(calamine::DataType::get_string) == Some(id))
            .unwrap_or_else(|| panic!("{id} not in the workbook"));
        let number = |i: usize| calamine::DataType::get_float(&row[i]);
        assert_eq!(number(2), g["dossiers"].as_f64(), "{id}: XLSX dossiers");
        assert_eq!(number(3), g["decided"].as_f64(), "{id}: XLSX decided");
        assert_eq!(
            number(4),
            g["median_working_days"].as_f64(),
            "{id}: XLSX median"
        );
    }
    for name in [
        "agencies",
        "weeks",
        "months",
        "provinces",
        "communes",
        "late",
    ] {
        assert!(
            calamine::Reader::worksheet_range(&mut book, name).is_ok(),
            "sheet {name}"
        );
    }
    // The weekly trend counts every dossier once, by its week of receipt.
    let received = b
        .run(
            "return [...document.querySelectorAll('#weeks tbody tr')]\
             .map(r => Number(r.children[1].textContent)).reduce((a, b) => a + b, 0)",
        )
        .await;
    assert_eq!(received, figures["dossiers"], "weekly receipts add up");
    // The tables below the chart, to be looked at.
    b.run("document.getElementById('agencies').scrollIntoView(); return 0")
        .await;
    b.shot("dashboard-tables").await;

    // The administrator: a broken definition's error on its line, then a good one
    // published.
    b.forget().await;
    b.sign_in("admin_user", PASSWORD).await;
    assert_eq!(b.at("/admin").await, "/admin");
    let good = std::fs::read_to_string(web_support::root().join("examples/minimal-procedure.yaml"))
        .expect("example");
    let broken = good.replacen("after: [", "after: [no_such_step, ", 1);
    assert_ne!(broken, good, "the example has an `after:` to break");
    let bad_line = broken
        .lines()
        .position(|l| l.contains("no_such_step"))
        .expect("line")
        + 1;
    b.run(&format!(
        "document.getElementById('definition-source').value = {}",
        json!(broken)
    ))
    .await;
    b.click("#validate").await;
    let line = b.text(&format!("#line-{bad_line}")).await;
    assert!(
        line.contains("no_such_step") && line.contains("error"),
        "the error is on line {bad_line}: {line}"
    );
    assert!(
        b.css(&format!("#line-{bad_line}"))
            .await
            .attr("class")
            .await
            .expect("class")
            .is_some_and(|c| c.contains("bad"))
    );
    b.shot("admin-invalid").await;
    b.check_page("admin with errors").await;
    b.run(&format!(
        "document.getElementById('definition-source').value = {}",
        json!(good)
    ))
    .await;
    b.click("#publish").await;
    let published = b.text("#published").await;
    assert!(published.starts_with("Đã công bố"), "{published}");
    b.shot("admin-published").await;
    b.check_page("admin").await;
    let versions = api
        .call(Method::GET, "/api/v1/procedures", api.cred("admin"), None)
        .await
        .json();
    let id = published.split_whitespace().nth(3).expect("procedure id");
    assert!(
        versions["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|v| v["id"] == json!(id)),
        "{id} published: {versions}"
    );
    b.click(&format!("a[href='/admin/procedures/{id}']")).await;
    b.css("#graph").await;
    b.shot("admin-graph").await;
    b.check_page("procedure graph").await;

    // The calendar of a year, and a notice that is refused on its field.
    let version_before = api.rt.calendar().version();
    b.goto("/admin/calendar?year=2026").await;
    let days = b
        .run("return document.querySelectorAll('#days tbody tr').length")
        .await;
    assert!(
        days.as_u64().unwrap_or(0) >= 10,
        "2026's special days: {days}"
    );
    assert!(b.text("#days").await.contains("Tết"), "Tết is listed");
    b.shot("admin-calendar").await;
    b.check_page("calendar").await;
    b.fill("#notice-text", "year: 2026\ndays: not a list").await;
    b.click("form.card button[type=submit]").await;
    b.css("#notice-error").await;
    let version_after = api.rt.calendar().version();
    assert!(
        version_after == version_before
            && api.rt.store().notices().await.expect("notices").is_empty(),
        "nothing installed: {version_after}"
    );

    // Accounts: a look-alike name refused, an account created, another disabled (its
    // session stops at once).
    b.goto("/admin/accounts").await;
    b.shot("admin-accounts").await;
    b.check_page("accounts").await;
    let new_account = |name: &'static str| {
        let b = &b;
        async move {
            b.fill("#a-name", name).await;
            b.run("document.getElementById('a-role').value = 'agency_officer'")
                .await;
            b.fill("#a-agency", "civil_status").await;
            b.fill("#a-province", "01").await;
            b.fill("#a-password", PASSWORD).await;
            b.click("#create-account").await;
        }
    };
    new_account("сivil_officer_001").await; // a Cyrillic `с`
    assert!(
        b.text("#accounts-error")
            .await
            .contains("civil_officer_001"),
        "a look-alike of an existing name is refused"
    );
    new_account("officer_new").await;
    b.css("#account-created").await;
    let token = api.cred("civil_officer_001").expect("token").to_string();
    let before = api
        .call(Method::GET, "/api/v1/tasks", Some(&token), None)
        .await;
    assert_eq!(before.status, StatusCode::OK);
    let disable = "form[action='/admin/accounts/civil_officer_001/disable']";
    b.click(&format!("{disable} button")).await;
    // The page comes back without the button once the account is disabled.
    let mut gone = false;
    for _ in 0..50 {
        let left = b
            .run(&format!(
                "return document.querySelectorAll({}).length",
                json!(disable)
            ))
            .await;
        if left == json!(0) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the account shows as disabled");
    let after = api
        .call(Method::GET, "/api/v1/tasks", Some(&token), None)
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a disabled account's session"
    );

    // An incident skipped with a reason from the console.
    let birth = api.objects.b.clone();
    let bid = api.id(&birth).await;
    let stuck = api.rt.load(&bid).await.expect("load").expect("dossier");
    let step = stuck
        .steps
        .iter()
        .find(|(_, s)| s.status == StepStatus::Incident)
        .map(|(id, _)| id.to_string())
        .expect("the birth dossier has an incident");
    b.goto("/admin/incidents").await;
    b.shot("admin-incidents").await;
    b.check_page("incidents").await;
    let form = format!("form[action='/admin/incidents/{birth}/{step}/retry']");
    b.fill(
        &format!("{form} input[name=reason]"),
        "Cơ quan BHXH chưa kết nối; cấp thẻ tại quầy",
    )
    .await;
    b.click(&format!("{form} button[formaction]")).await;
    assert_eq!(
        b.at("/admin/incidents?done=1").await,
        "/admin/incidents?done=1"
    );
    assert_eq!(api.step_status(&birth, &step).await, StepStatus::Skipped);

    // English, one click away.
    b.click("a.lang").await;
    assert_eq!(
        b.run("return document.documentElement.lang").await,
        json!("en")
    );
    assert_eq!(b.text("h1").await, "Incidents");
    b.shot("admin-incidents-en").await;
    b.check_page("incidents in English").await;

    // A tablet.
    b.c.set_window_size(820, 1180).await.expect("resize");
    b.goto("/dashboard").await;
    let overflow = b
        .run("return document.documentElement.scrollWidth > document.documentElement.clientWidth")
        .await;
    assert_eq!(overflow, json!(false), "the dashboard fits a tablet");
    b.shot("dashboard-tablet").await;
}

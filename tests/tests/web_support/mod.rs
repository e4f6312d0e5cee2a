//! A real browser for the web application's tests: Debian's Chromium driven headless through
//! its ChromeDriver (WebDriver, by fantoccini), against the server listening on a loopback
//! port. Each page visited can be photographed into `target/screenshots/` and checked with
//! axe-core (from npm, `tests/axe`) in the same browser.

#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

/// A ChromeDriver process and a browser session on it; both end when dropped.
pub struct Browser {
    pub c: Client,
    driver: Child,
    pub base: String,
    /// The browser's own profile directory: it names the browser's processes, so that they
    /// end with the test even when it fails half-way.
    profile: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profile.as_os_str())
            .status();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium at 1366×768 for pages served at `base`.
    pub async fn start(base: &str) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(DRIVER).exists(),
            "the browser tests need Debian's chromium and chromium-driver \
             (apt-get install chromium chromium-driver; .ci/run installs them)"
        );
        let port = free_port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        // The driver listens first; then a session, each attempt with a profile of its own
        // (a browser that started too slowly keeps its profile locked).
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut last = None;
        for attempt in 0..3 {
            let profile = root().join(format!(
                "target/browser-profiles/{}-{port}-{attempt}",
                std::process::id()
            ));
            std::fs::create_dir_all(&profile).expect("profile dir");
            // ChromeDriver reads the browser's port from this directory: a plain path.
            let profile = std::fs::canonicalize(&profile).expect("profile path");
            let mut caps = serde_json::Map::new();
            caps.insert(
                "goog:chromeOptions".into(),
                json!({
                    "binary": CHROMIUM,
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        "--disable-dev-shm-usage", "--disable-quic", "--window-size=1366,768",
                        "--lang=vi", format!("--user-data-dir={}", profile.display())
                    ]
                }),
            );
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&url)
                .await
            {
                Ok(c) => {
                    return Browser {
                        c,
                        driver,
                        base: base.to_string(),
                        profile,
                    };
                }
                Err(e) => {
                    last = Some(e);
                    let _ = Command::new("pkill")
                        .arg("-f")
                        .arg(profile.as_os_str())
                        .status();
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let mut driver = driver;
        let _ = driver.kill();
        panic!("no WebDriver session: {last:?}");
    }

    pub async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigates");
    }

    pub async fn path(&self) -> String {
        let u = self.c.current_url().await.expect("url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Waits (up to 5 s) until the browser is at `path`; the path it ends at.
    pub async fn at(&self, path: &str) -> String {
        for _ in 0..50 {
            let now = self.path().await;
            if now == path {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.shot("failure").await;
        self.path().await
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(selector))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let at = self.path().await;
                self.shot("failure").await;
                panic!("no `{selector}` on {at}: {e}")
            }
        }
    }

    pub async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.expect("text")
    }

    pub async fn fill(&self, selector: &str, value: &str) {
        let e = self.css(selector).await;
        e.clear().await.expect("clear");
        e.send_keys(value).await.expect("types");
    }

    pub async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.expect("clicks");
    }

    /// Signs in through the page.
    pub async fn sign_in(&self, name: &str, password: &str) {
        self.goto("/sign-in").await;
        self.fill("#name", name).await;
        self.fill("#password", password).await;
        self.click("form.card button[type=submit]").await;
        for _ in 0..50 {
            if !self.path().await.starts_with("/sign-in") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} could not sign in");
    }

    /// Forgets every cookie (a new visitor).
    pub async fn forget(&self) {
        self.c.delete_all_cookies().await.expect("cookies");
    }

    pub async fn run(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.expect("script runs")
    }

    /// Runs an async script; it calls `done(value)` (the last argument).
    pub async fn run_async(&self, script: &str) -> Value {
        let wrapped = format!("const done = arguments[arguments.length - 1]; {script}");
        self.c
            .execute_async(&wrapped, vec![])
            .await
            .expect("script runs")
    }

    /// Writes the page as it looks now to `target/screenshots/<name>.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.c.screenshot().await.expect("screenshot");
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// The page's own checks: `lang` set, the language toggle present, every resource from
    /// this origin, and no serious or critical axe-core violation.
    pub async fn check_page(&self, name: &str) {
        let lang = self.run("return document.documentElement.lang").await;
        assert!(
            matches!(lang.as_str(), Some("vi" | "en")),
            "{name}: lang is {lang}"
        );
        let toggle = self
            .run("return document.querySelectorAll('a.lang[hreflang]').length")
            .await;
        assert_eq!(toggle, json!(1), "{name}: no language toggle");
        let foreign = self
            .run(
                "return performance.getEntriesByType('resource').map(e => e.name)\
                 .filter(n => !n.startsWith(location.origin) && !n.startsWith('data:'))",
            )
            .await;
        assert_eq!(foreign, json!([]), "{name}: resources from another origin");
        let axe =
            std::fs::read_to_string(root().join("tests/axe/node_modules/axe-core/axe.min.js"))
                .expect("axe-core is installed (npm ci --prefix tests/axe)");
        self.c.execute(&axe, vec![]).await.expect("axe loads");
        let result = self
            .run_async(
                "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))))\
                 .catch(e => done({error: String(e)}))",
            )
            .await;
        assert_eq!(result, json!([]), "{name}: accessibility violations");
    }
}

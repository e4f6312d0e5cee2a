//! Connecting agencies by configuration alone: a TOML file names the allow-list and, per
//! agency, its base URL, API (one of the built-in agency APIs, or the engine's generic
//! HTTP/JSON wire format for an agency lienthong has no table for), time-out, response cap
//! and authentication, and the secret the agency signs its late answers (callbacks) with.
//! Secrets are named by environment variable, never written in the file.
//!
//! ```toml
//! allow = ["127.0.0.1:7101", "hotich.example.gov.vn:443"]
//!
//! [[agency]]
//! role = "civil_status"
//! base_url = "https://hotich.example.gov.vn/api"
//! timeout_ms = 5000
//! auth = { kind = "hmac", key_id = "lienthong-1", secret_env = "LIENTHONG_HOTICH_SECRET" }
//! retry = { budget = 8, backoff_base_ms = 5000, backoff_max_ms = 900000 }
//! callback = { secret_env = "LIENTHONG_HOTICH_CALLBACK" }
//!
//! [[agency]]
//! role = "land_registry"
//! api = "generic"
//! base_url = "http://127.0.0.1:7101"
//! auth = { kind = "api_key", header = "X-API-Key", secret_env = "LIENTHONG_LAND_KEY" }
//! ```

use crate::agency::{AgencyAdapter, AgencySettings, ROLES};
use crate::allow::Allowlist;
use crate::auth::{Auth, Secret};
use crate::http::{HttpAdapter, HttpConfig};
use lienthong_engine::adapter::Adapter;
use lienthong_engine::machine::RetryPolicy;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    allow: Vec<String>,
    #[serde(default)]
    agency: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    role: String,
    base_url: String,
    #[serde(default)]
    api: Api,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_cap")]
    max_response_bytes: usize,
    #[serde(default)]
    auth: Option<AuthEntry>,
    #[serde(default)]
    retry: Option<RetryEntry>,
    #[serde(default)]
    callback: Option<CallbackEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackEntry {
    secret_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryEntry {
    budget: u32,
    backoff_base_ms: i64,
    backoff_max_ms: i64,
}

/// What a configuration file connects: the adapters, the retry policies of the agencies
/// that set one (for the engine's `Options::agencies`), and per agency role the secret its
/// callbacks are signed with (for the server's callback route).
#[derive(Debug, Default)]
pub struct Connected {
    pub adapters: Vec<Arc<dyn Adapter>>,
    pub retry: BTreeMap<String, RetryPolicy>,
    pub callback_secrets: BTreeMap<String, Secret>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Api {
    /// The agency's own API, as `agency::table` describes it.
    #[default]
    Agency,
    /// The engine's generic wire format (`crate::http`).
    Generic,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum AuthEntry {
    ApiKey {
        #[serde(default = "default_header")]
        header: String,
        secret_env: String,
    },
    Hmac {
        key_id: String,
        secret_env: String,
    },
}

fn default_timeout() -> u64 {
    5_000
}
fn default_cap() -> usize {
    1 << 20
}
fn default_header() -> String {
    "X-API-Key".into()
}

/// Builds the adapters a configuration file describes. `env` reads secrets (the process
/// environment in production). Errors name the entry and field.
pub fn adapters_from_toml(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    node: &str,
) -> Result<Connected, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("agency configuration: {e}"))?;
    let allow = Allowlist::new(&file.allow).map_err(|e| format!("allow: {e}"))?;
    let mut seen = HashSet::new();
    let mut out = Connected::default();
    for (i, e) in file.agency.iter().enumerate() {
        let at = format!("agency[{i}] ({})", e.role);
        if !seen.insert(e.role.clone()) {
            return Err(format!("{at}.role: `{}` is configured twice", e.role));
        }
        if !(100..=120_000).contains(&e.timeout_ms) {
            return Err(format!(
                "{at}.timeout_ms: {} is outside 100..=120000",
                e.timeout_ms
            ));
        }
        if !(1_024..=64 << 20).contains(&e.max_response_bytes) {
            return Err(format!(
                "{at}.max_response_bytes: {} is outside 1 KiB..=64 MiB",
                e.max_response_bytes
            ));
        }
        if let Some(r) = &e.retry {
            if !(1..=100).contains(&r.budget) {
                return Err(format!(
                    "{at}.retry.budget: {} is outside 1..=100",
                    r.budget
                ));
            }
            if r.backoff_base_ms < 1 || r.backoff_max_ms < r.backoff_base_ms {
                return Err(format!(
                    "{at}.retry: backoff_base_ms must be at least 1 and at most backoff_max_ms"
                ));
            }
            out.retry.insert(
                e.role.clone(),
                RetryPolicy {
                    retry_budget: r.budget,
                    backoff_base_ms: r.backoff_base_ms,
                    backoff_max_ms: r.backoff_max_ms,
                },
            );
        }
        let field = format!("{at}.auth.secret_env");
        let auth = match &e.auth {
            None => Auth::None,
            Some(AuthEntry::ApiKey { header, secret_env }) => Auth::ApiKey {
                header: header.clone(),
                key: secret(&field, secret_env, env)?,
            },
            Some(AuthEntry::Hmac { key_id, secret_env }) => Auth::Hmac {
                key_id: key_id.clone(),
                secret: secret(&field, secret_env, env)?,
            },
        };
        if let Some(c) = &e.callback {
            let field = format!("{at}.callback.secret_env");
            out.callback_secrets
                .insert(e.role.clone(), secret(&field, &c.secret_env, env)?);
        }
        let adapter: Arc<dyn Adapter> = match e.api {
            Api::Agency => {
                if !ROLES.contains(&e.role.as_str()) {
                    return Err(format!(
                        "{at}.role: no built-in API for `{}` (known: {}); set api = \"generic\"",
                        e.role,
                        ROLES.join(", ")
                    ));
                }
                let settings = AgencySettings {
                    timeout: Duration::from_millis(e.timeout_ms),
                    max_response_bytes: e.max_response_bytes,
                    node: node.to_string(),
                    auth,
                };
                Arc::new(
                    AgencyAdapter::new(&e.role, &e.base_url, &allow, &settings)
                        .map_err(|m| format!("{at}.base_url: {m}"))?,
                )
            }
            Api::Generic => {
                allow
                    .check(&e.base_url)
                    .map_err(|m| format!("{at}.base_url: {m}"))?;
                let mut config = HttpConfig::new(&e.role, &e.base_url);
                config.timeout = Duration::from_millis(e.timeout_ms);
                config.max_response_bytes = e.max_response_bytes;
                config.node = node.to_string();
                config.auth = auth;
                Arc::new(HttpAdapter::new(config).map_err(|m| format!("{at}: {m}"))?)
            }
        };
        out.adapters.push(adapter);
    }
    Ok(out)
}

fn secret(field: &str, var: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, String> {
    match env(var) {
        Some(v) if !v.is_empty() => Ok(Secret::new(v)),
        _ => Err(format!(
            "{field}: the environment variable `{var}` is not set"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SECRET").then(|| "s3cret".to_string())
    }

    #[test]
    fn a_valid_file_builds_every_adapter() {
        let text = r#"
allow = ["127.0.0.1:7101", "127.0.0.1:7102"]
[[agency]]
role = "civil_status"
base_url = "http://127.0.0.1:7101"
auth = { kind = "hmac", key_id = "k1", secret_env = "SECRET" }
retry = { budget = 3, backoff_base_ms = 100, backoff_max_ms = 1000 }
callback = { secret_env = "SECRET" }
[[agency]]
role = "land_registry"
api = "generic"
base_url = "http://127.0.0.1:7102"
auth = { kind = "api_key", secret_env = "SECRET" }
"#;
        let c = adapters_from_toml(text, &env, "n1").expect("valid");
        let roles: Vec<&str> = c.adapters.iter().map(|x| x.agency()).collect();
        assert_eq!(roles, ["civil_status", "land_registry"]);
        assert_eq!(c.retry["civil_status"].retry_budget, 3);
        assert!(!c.retry.contains_key("land_registry"));
        let secrets: Vec<&String> = c.callback_secrets.keys().collect();
        assert_eq!(secrets, ["civil_status"]);
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                "allow = []\n[[agency]]\nrole = \"x\"\nbase_url = \"http://a:1\"\ncolour = 1\n",
                "colour",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://localhost:1\"\n",
                "agency[0] (residence).base_url",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"tax\"\nbase_url = \"http://127.0.0.1:1\"\n",
                "agency[0] (tax).role",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\nauth = { kind = \"hmac\", key_id = \"k\", secret_env = \"MISSING\" }\n",
                "MISSING",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\ntimeout_ms = 5\n",
                "timeout_ms",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\nretry = { budget = 0, backoff_base_ms = 1, backoff_max_ms = 1 }\n",
                "retry.budget",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\n",
                "twice",
            ),
            (
                "allow = [\"127.0.0.1:1\"]\n[[agency]]\nrole = \"residence\"\nbase_url = \"http://127.0.0.1:1\"\ncallback = { secret_env = \"UNSET\" }\n",
                "agency[0] (residence).callback.secret_env: the environment variable `UNSET`",
            ),
        ];
        for (text, needle) in cases {
            let e = adapters_from_toml(text, &env, "n")
                .err()
                .unwrap_or_default();
            assert!(e.contains(needle), "expected `{needle}` in: {e}");
        }
    }
}

//! `lienthong serve` configuration: a TOML file (optional), then environment variables
//! `LIENTHONG_<KEY>` (nested keys with `__`, e.g. `LIENTHONG_LIMITS__RATE_PER_S=20`), then
//! command-line flags, each overriding the one before. Secrets are never read from the file:
//! the session secret comes from `LIENTHONG_SESSION_SECRET`.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Request limits (see `http::Limits`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub body_bytes: usize,
    pub request_timeout_s: u64,
    pub rate_per_s: f64,
    pub burst: f64,
    pub max_page: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = crate::http::Limits::default();
        LimitsConfig {
            body_bytes: d.body_bytes,
            request_timeout_s: d.request_timeout.as_secs(),
            rate_per_s: d.rate_per_s,
            burst: d.burst,
            max_page: d.max_page,
        }
    }
}

impl LimitsConfig {
    pub fn limits(&self) -> crate::http::Limits {
        crate::http::Limits {
            body_bytes: self.body_bytes,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_s.max(1)),
            rate_per_s: self.rate_per_s,
            burst: self.burst,
            max_page: self.max_page.clamp(1, 1_000),
        }
    }
}

/// The whole configuration, with its defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// `sqlite:PATH` (the embedded default) or `postgres://…` (several nodes).
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// This node's name (unique per node).
    pub node: String,
    /// The receiving agency's code, first part of dossier codes.
    pub agency_code: String,
    /// Agency connections (TOML, see `adapters::config`); none: automated steps wait as
    /// incidents until agencies are connected.
    pub agencies: Option<PathBuf>,
    /// Folder of extra procedure definitions to publish at start (the shipped ones always are).
    pub workflows: Option<PathBuf>,
    /// Lifetime of a staff session, seconds.
    pub session_ttl_s: i64,
    /// Mark session cookies `Secure` (turn off only behind plain HTTP on a trusted network).
    pub secure_cookies: bool,
    /// OTLP/HTTP endpoint for traces (e.g. `http://127.0.0.1:4318/v1/traces`).
    pub otlp_endpoint: Option<String>,
    /// Log filter when `RUST_LOG` is unset.
    pub log: String,
    pub limits: LimitsConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            database_url: "sqlite:lienthong.db".into(),
            bind: "127.0.0.1:8080".into(),
            node: "node-1".into(),
            agency_code: "G22.99.08".into(),
            agencies: None,
            workflows: None,
            session_ttl_s: 900,
            secure_cookies: true,
            otlp_endpoint: None,
            log: "info".into(),
            limits: LimitsConfig::default(),
        }
    }
}

/// Flags given on the command line (highest precedence).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

/// The configuration's top-level keys.
const KEYS: &[&str] = &[
    "database_url",
    "bind",
    "node",
    "agency_code",
    "agencies",
    "workflows",
    "session_ttl_s",
    "secure_cookies",
    "otlp_endpoint",
    "log",
    "limits",
];

/// Reads the configuration: defaults, then `file`, then `LIENTHONG_*`, then `flags`.
pub fn load(file: Option<&Path>, flags: &Overrides) -> Result<ServeConfig, String> {
    let mut f = Figment::from(Serialized::defaults(ServeConfig::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(format!("{}: no such configuration file", path.display()));
        }
        f = f.merge(Toml::file(path));
    }
    f = f
        .merge(Env::prefixed("LIENTHONG_").split("__").filter(|key| {
            // Only this file's keys: other LIENTHONG_* variables (secrets, test settings)
            // belong to others.
            let key = key.as_str().to_lowercase().replace("__", ".");
            let key = key.strip_prefix("lienthong_").unwrap_or(&key);
            KEYS.iter()
                .any(|k| key == *k || key.starts_with(&format!("{k}.")))
        }))
        .merge(Serialized::defaults(flags));
    f.extract::<ServeConfig>().map_err(|e| {
        e.into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags() {
        let dir = std::env::temp_dir().join(format!("lienthong-config-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("serve.toml");
        let _ = std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nnode = \"n7\"\n[limits]\nrate_per_s = 5.0\n",
        );
        let c = load(Some(&path), &Overrides::default()).expect("loads");
        assert_eq!((c.bind.as_str(), c.node.as_str()), ("127.0.0.1:9000", "n7"));
        assert_eq!(c.limits.rate_per_s, 5.0);
        let flags = Overrides {
            bind: Some("0.0.0.0:1".into()),
            ..Overrides::default()
        };
        assert_eq!(load(Some(&path), &flags).expect("loads").bind, "0.0.0.0:1");
        let _ = std::fs::write(&path, "bnid = \"x\"\n");
        let e = load(Some(&path), &Overrides::default()).expect_err("unknown key");
        assert!(e.contains("bnid"), "{e}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure returns its own error type
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("serve.toml", "bind = \"127.0.0.1:9000\"\n")?;
            jail.set_env("LIENTHONG_BIND", "127.0.0.1:9001");
            jail.set_env("LIENTHONG_LIMITS__RATE_PER_S", "1000");
            jail.set_env("LIENTHONG_SECURE_COOKIES", "false");
            // Other LIENTHONG_* variables are not configuration.
            jail.set_env("LIENTHONG_SESSION_SECRET", "not a key of the file");
            jail.set_env("LIENTHONG_TEST_DATABASE_URL", "postgres://x");
            let c = load(Some(Path::new("serve.toml")), &Overrides::default())
                .map_err(figment::Error::from)?;
            assert_eq!(c.bind, "127.0.0.1:9001");
            assert_eq!(c.limits.rate_per_s, 1000.0);
            assert!(!c.secure_cookies);
            Ok(())
        });
    }
}

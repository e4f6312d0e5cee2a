//! Opening the store a `--database-url` names, for the commands that work on any store:
//! `sqlite:PATH` (or a plain path) for the embedded default, `postgres://…` for PostgreSQL.

use anyhow::Context as _;
use lienthong_engine::store::{PgStore, SqliteStore};
use std::path::PathBuf;

/// Which store a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

pub fn target(url: &str) -> anyhow::Result<Target> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Target::Postgres(url.to_string()));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    anyhow::ensure!(
        !path.is_empty() && !path.contains("://"),
        "--database-url: expected sqlite:PATH or postgres://…, got `{url}`"
    );
    Ok(Target::Sqlite(PathBuf::from(path)))
}

/// Runs `$body` with `$store` bound to the opened, migrated store of `$url`.
macro_rules! with_store {
    ($url:expr, |$store:ident| $body:expr) => {{
        match crate::cli::store::target($url)? {
            crate::cli::store::Target::Sqlite(path) => {
                let $store = crate::cli::store::sqlite(&path).await?;
                $body
            }
            crate::cli::store::Target::Postgres(url) => {
                let $store = crate::cli::store::postgres(&url).await?;
                $body
            }
        }
    }};
}
pub(crate) use with_store;

pub async fn sqlite(path: &std::path::Path) -> anyhow::Result<SqliteStore> {
    use lienthong_engine::store::Store as _;
    let s = SqliteStore::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    s.migrate().await?;
    Ok(s)
}

pub async fn postgres(url: &str) -> anyhow::Result<PgStore> {
    use lienthong_engine::store::Store as _;
    let s = PgStore::connect(url, 16)
        .await
        .context("connecting to PostgreSQL")?;
    s.migrate().await?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            target("sqlite:a.db").ok(),
            Some(Target::Sqlite("a.db".into()))
        );
        assert_eq!(
            target("sqlite://a.db").ok(),
            Some(Target::Sqlite("a.db".into()))
        );
        assert_eq!(target("x/a.db").ok(), Some(Target::Sqlite("x/a.db".into())));
        assert!(matches!(target("postgres://h/db"), Ok(Target::Postgres(_))));
        assert!(target("mysql://h/db").is_err());
    }
}

//! Bootstrapping access, and checking the audit trail:
//! `lienthong user add NAME --role ROLE [--agency A] [--province P] [--commune C]` (the
//! password is read from standard input, never from the command line),
//! `lienthong key create --role ROLE [--agency A] …` (prints the new key last, once),
//! `lienthong key list`, `lienthong key revoke ID`, and `lienthong audit verify`.

use super::store::with_store;
use clap::{Args, Subcommand};
use lienthong_engine::clock::{Clock, SystemClock};
use lienthong_engine::ident::units::units;
use lienthong_engine::store::{Accounts as _, User};
use lienthong_server::http::admin::{NewKey, make_key};
use lienthong_server::http::auth::{Role, hash_password};
use lienthong_server::http::names;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct Where {
    /// The store: `sqlite:PATH` or `postgres://…`.
    #[arg(
        long,
        env = "LIENTHONG_DATABASE_URL",
        default_value = "sqlite:lienthong.db"
    )]
    database_url: String,
}

#[derive(Debug, Args)]
pub struct Scoped {
    /// portal, agency_system, agency_officer, admin or manager.
    #[arg(long)]
    role: String,
    /// The agency role (agency roles only).
    #[arg(long)]
    agency: Option<String>,
    #[arg(long)]
    province: Option<String>,
    #[arg(long)]
    commune: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a staff account; the password is read from standard input (one line).
    Add {
        name: String,
        #[command(flatten)]
        scoped: Scoped,
        #[command(flatten)]
        at: Where,
    },
    /// Disables an account: it can no longer sign in, and its sessions stop working at once.
    Disable {
        name: String,
        #[command(flatten)]
        at: Where,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Creates an API key for a system and prints it (once; only its hash is kept).
    Create {
        #[command(flatten)]
        scoped: Scoped,
        /// What the key is for.
        #[arg(long, default_value = "created by the command line")]
        label: String,
        #[command(flatten)]
        at: Where,
    },
    /// Lists keys (never the keys themselves).
    List {
        #[command(flatten)]
        at: Where,
    },
    /// Revokes a key at once.
    Revoke {
        id: String,
        #[command(flatten)]
        at: Where,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks the audit log's and every journal's hash chain; exit 1 on any break.
    Verify {
        #[command(flatten)]
        at: Where,
        #[arg(long, value_enum, default_value = "text")]
        format: super::Format,
    },
}

fn tokio() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn user(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let (name, scoped, at) = match cmd {
        UserCommand::Add { name, scoped, at } => (name, scoped, at),
        UserCommand::Disable { name, at } => return disable(&name, &at),
    };
    let name = names::normalise(&name).map_err(|e| anyhow::anyhow!("NAME: {e}"))?;
    let role = Role::parse(&scoped.role).ok_or_else(|| {
        anyhow::anyhow!("--role: one of portal, agency_system, agency_officer, admin, manager")
    })?;
    anyhow::ensure!(
        role.is_agency() == scoped.agency.is_some(),
        "--agency: required for agency roles, and only for them"
    );
    units()
        .check_area(scoped.province.as_deref(), scoped.commune.as_deref())
        .map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(
        password.chars().count() >= 12,
        "the password must have at least 12 characters"
    );
    let phc = hash_password(password).map_err(anyhow::Error::msg)?;
    let u = User {
        name: name.clone(),
        password_hash: phc,
        role: role.as_str().into(),
        agency: scoped.agency,
        province: scoped.province,
        commune: scoped.commune,
        created_at: SystemClock.now(),
        disabled_at: None,
    };
    tokio()?.block_on(async {
        with_store!(&at.database_url, |store| {
            let existing = store.users().await?;
            anyhow::ensure!(
                !existing.iter().any(|u| u.name == name),
                "user `{name}` exists"
            );
            if let Some(like) = names::confusable(&name, existing.iter().map(|u| u.name.as_str())) {
                anyhow::bail!(
                    "NAME: `{name}` looks like the existing user `{like}`; choose another"
                );
            }
            anyhow::ensure!(store.insert_user(&u).await?, "user `{name}` exists");
            out!("user {name} added ({})", role.as_str());
            Ok(ExitCode::SUCCESS)
        })
    })
}

fn disable(name: &str, at: &Where) -> anyhow::Result<ExitCode> {
    let name = names::normalise(name).map_err(|e| anyhow::anyhow!("NAME: {e}"))?;
    tokio()?.block_on(async {
        with_store!(&at.database_url, |store| {
            anyhow::ensure!(
                store.disable_user(&name, SystemClock.now()).await?,
                "NAME: no enabled user `{name}`"
            );
            out!("user {name} disabled; its sessions are refused from now on");
            Ok(ExitCode::SUCCESS)
        })
    })
}

pub fn key(cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    tokio()?.block_on(async {
        match cmd {
            KeyCommand::Create { scoped, label, at } => {
                let new = NewKey {
                    role: scoped.role,
                    agency: scoped.agency,
                    province: scoped.province,
                    commune: scoped.commune,
                    label,
                };
                let (key, record) =
                    make_key(&new, SystemClock.now()).map_err(|e| anyhow::anyhow!("--{e}"))?;
                with_store!(&at.database_url, |store| store
                    .insert_api_key(&record)
                    .await?);
                eprintln!(
                    "key {} created ({}); it is shown once, keep it now:",
                    record.id, record.role
                );
                out!("{key}");
            }
            KeyCommand::List { at } => {
                let keys = with_store!(&at.database_url, |store| store.api_keys().await?);
                for k in keys {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    out!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.role,
                        k.agency.unwrap_or_default(),
                        state,
                        k.label
                    );
                }
            }
            KeyCommand::Revoke { id, at } => {
                let done = with_store!(&at.database_url, |store| store
                    .revoke_api_key(&id, SystemClock.now())
                    .await?);
                anyhow::ensure!(done, "no live key `{id}`");
                out!("key {id} revoked");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn audit(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let AuditCommand::Verify { at, format } = cmd;
    tokio()?.block_on(async {
        let v = with_store!(&at.database_url, |store| lienthong_server::audit::verify(&store).await?);
        match format {
            super::Format::Json => out!("{}", serde_json::to_string_pretty(&v)?),
            super::Format::Text => {
                for p in &v.problems {
                    out!("{p}");
                }
                out!(
                    "{}: {} audit rows, {} dossiers, {} journal rows ({} written before chaining), {} problems",
                    if v.ok() { "intact / toàn vẹn" } else { "BROKEN / bị sửa đổi" },
                    v.audit_rows,
                    v.dossiers,
                    v.journal_rows,
                    v.unchained_rows,
                    v.problems.len()
                );
            }
        }
        Ok(if v.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
    })
}

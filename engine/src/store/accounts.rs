//! What the server keeps beside the dossiers: API keys of systems (only their SHA-256),
//! staff accounts (argon2 PHC strings), where each dossier came from (submitting system,
//! province, commune), the API audit log, and the hash chains that make the audit log and
//! the journal tamper-evident.
//!
//! Chains: every row carries `hash = SHA-256(prev ‖ fields)`, each field length-prefixed so
//! no two different rows hash alike. The API audit log is one chain over `seq` (1, 2, …); a
//! dossier's journal is one chain over its versions (1, 2, …). A changed row breaks its own
//! link; a deleted row leaves a gap in the numbering; the dossier's current version names
//! its last journal row, so even the last one cannot vanish unnoticed.

use super::Result;
use crate::clock::Millis;
use crate::machine::{Dossier, DossierId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first row of a chain.
pub const GENESIS: &str = "";

/// `SHA-256(prev ‖ fields)`, hex; every part length-prefixed.
pub fn link(prev: &str, fields: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in std::iter::once(prev).chain(fields.iter().copied()) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Where a dossier comes from. Agencies and managers scoped to a province or commune see
/// only the dossiers filed there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The submitting system (the portal's key id); its idempotency keys are its own.
    pub submitted_by: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
}

/// An area a caller is limited to (`None`: everywhere).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub province: Option<String>,
    pub commune: Option<String>,
}

impl Scope {
    /// Whether every dossier of `other` lies inside this scope (a scope contains itself;
    /// nationwide contains every scope; a commune contains no province).
    pub fn contains(&self, other: &Scope) -> bool {
        let within = |mine: &Option<String>, theirs: &Option<String>| match mine {
            None => true,
            Some(m) => theirs.as_deref() == Some(m.as_str()),
        };
        within(&self.province, &other.province) && within(&self.commune, &other.commune)
    }

    /// Nationwide: neither a province nor a commune.
    pub fn is_national(&self) -> bool {
        self.province.is_none() && self.commune.is_none()
    }

    /// Whether a dossier from `origin` lies inside this scope.
    pub fn covers(&self, origin: &Origin) -> bool {
        let within = |mine: &Option<String>, theirs: &Option<String>| match mine {
            None => true,
            Some(m) => theirs.as_deref() == Some(m.as_str()),
        };
        within(&self.province, &origin.province) && within(&self.commune, &origin.commune)
    }
}

/// A system's API key (the key itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Public part, printed in the key (`lt_<id>_<secret>`), used in logs and the audit.
    pub id: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    pub role: String,
    pub agency: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub label: String,
    pub created_at: Millis,
    pub revoked_at: Option<Millis>,
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// argon2id, PHC string.
    pub password_hash: String,
    pub role: String,
    pub agency: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub created_at: Millis,
    pub disabled_at: Option<Millis>,
}

/// One API action: who, what, on what, when, from where, and the HTTP status it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Millis,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub source: String,
    pub outcome: i64,
}

impl AuditEntry {
    /// The row's hash after `prev`, for row number `seq`.
    pub fn hash(&self, seq: i64, prev: &str) -> String {
        link(
            prev,
            &[
                &seq.to_string(),
                &self.at.to_string(),
                &self.actor,
                &self.role,
                &self.action,
                &self.target,
                &self.source,
                &self.outcome.to_string(),
            ],
        )
    }
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev: String,
    pub hash: String,
}

/// A stored journal row with its link (`hash` is `None` for rows written before chaining).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLink {
    pub version: i64,
    pub at: Millis,
    pub node: String,
    pub event: String,
    pub status: String,
    pub hash: Option<String>,
}

/// The journal row's hash after `prev`.
pub fn journal_hash(prev: &str, dossier: &str, row: &JournalLink) -> String {
    link(
        prev,
        &[
            dossier,
            &row.version.to_string(),
            &row.at.to_string(),
            &row.node,
            &row.event,
            &row.status,
        ],
    )
}

/// A published version of a procedure, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRow {
    pub id: String,
    pub version: i64,
    pub hash: String,
    pub effective_from: String,
    pub published_at: Millis,
}

/// A yearly calendar notice uploaded by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRow {
    pub year: i64,
    /// The notice as uploaded (YAML).
    pub notice: String,
    pub uploaded_by: String,
    pub uploaded_at: Millis,
}

/// The server's storage, beside [`super::Store`]; both stores implement it.
pub trait Accounts {
    /// Stores a new key; `Conflict` if its id or hash exists.
    fn insert_api_key(&self, key: &ApiKey) -> impl Future<Output = Result<()>> + Send;
    fn api_key_by_hash(&self, hash: &str) -> impl Future<Output = Result<Option<ApiKey>>> + Send;
    fn api_keys(&self) -> impl Future<Output = Result<Vec<ApiKey>>> + Send;
    /// Revokes a key; false if there is no such live key.
    fn revoke_api_key(&self, id: &str, at: Millis) -> impl Future<Output = Result<bool>> + Send;
    /// Adds an account; false if the name is taken.
    fn insert_user(&self, user: &User) -> impl Future<Output = Result<bool>> + Send;
    fn user(&self, name: &str) -> impl Future<Output = Result<Option<User>>> + Send;
    /// Every account, by name.
    fn users(&self) -> impl Future<Output = Result<Vec<User>>> + Send;
    /// Disables an account at `at` (its sessions stop working at once); false if there is
    /// no such account or it was disabled already.
    fn disable_user(&self, name: &str, at: Millis) -> impl Future<Output = Result<bool>> + Send;
    /// Ends a staff session before its expiry (`until`, in ms): its token is refused from
    /// now on. Rows of sessions that expired before `now` are cleared on the way.
    fn end_session(
        &self,
        id: &str,
        until: Millis,
        now: Millis,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Whether a session was ended.
    fn session_ended(&self, id: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Appends one row to the audit chain; its sequence number.
    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<i64>> + Send;
    /// Audit rows after `after`, in order.
    fn audit_rows(
        &self,
        after: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<AuditRow>>> + Send;
    /// A dossier's current version and its journal rows with their links.
    fn journal_links(
        &self,
        id: &DossierId,
    ) -> impl Future<Output = Result<Option<(i64, Vec<JournalLink>)>>> + Send;
    /// Dossier ids after `after`, in order (the audit check walks them all).
    fn dossier_ids(
        &self,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<DossierId>>> + Send;
    /// Where a dossier came from; `None` if there is no such dossier.
    fn origin(&self, id: &DossierId) -> impl Future<Output = Result<Option<Origin>>> + Send;
    /// Dossiers inside `scope` (of one procedure id if given), by id after `after`.
    fn scoped_dossiers(
        &self,
        scope: &Scope,
        procedure: Option<&str>,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Dossier>>> + Send;
    /// Published versions, of one procedure id or of all, by id then version.
    fn procedure_versions(
        &self,
        id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<VersionRow>>> + Send;
    /// Stores (or replaces) the uploaded notice of a year.
    fn put_notice(&self, n: &NoticeRow) -> impl Future<Output = Result<()>> + Send;
    /// Every uploaded notice, by year.
    fn notices(&self) -> impl Future<Output = Result<Vec<NoticeRow>>> + Send;
    /// Open tasks per agency (queued or claimed).
    fn queue_depths(&self) -> impl Future<Output = Result<Vec<(String, i64)>>> + Send;
    /// Open dossiers with a step in incident, inside `scope`, by id after `after`.
    fn incident_dossiers(
        &self,
        scope: &Scope,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Dossier>>> + Send;
}

impl ApiKey {
    /// The area the key acts in.
    pub fn scope(&self) -> Scope {
        Scope {
            province: self.province.clone(),
            commune: self.commune.clone(),
        }
    }
}

impl User {
    /// The area the account acts in.
    pub fn scope(&self) -> Scope {
        Scope {
            province: self.province.clone(),
            commune: self.commune.clone(),
        }
    }
}

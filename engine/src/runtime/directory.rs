//! The use cases of staff, systems and the audit trail — accounts, API keys, sessions,
//! audit rows — and the read-only lookups the server answers with (a dossier by code, its
//! origin and journal, versions, counts). The server reaches the store only through these
//! and the other use cases of the runtime; only start-up wiring opens a store.

use super::{Result, Runtime};
use crate::clock::Millis;
use crate::definition::Procedure;
use crate::machine::{Dossier, DossierId, JournalEntry};
use crate::store::{ApiKey, AuditEntry, Origin, Published, Scope, Store, User, VersionRow};
use chrono::NaiveDate;
use std::sync::Arc;

impl<S: Store> Runtime<S> {
    /// Stores a new API key (its hash, never the key) and returns the record stored.
    pub async fn create_api_key(&self, key: ApiKey) -> Result<ApiKey> {
        self.store.insert_api_key(&key).await?;
        Ok(key)
    }

    pub async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        Ok(self.store.api_key_by_hash(hash).await?)
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        Ok(self.store.api_keys().await?)
    }

    /// Revokes a key now; `false` when it does not exist or was revoked before.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool> {
        Ok(self.store.revoke_api_key(id, self.now()).await?)
    }

    /// Stores a new staff account and returns it; `None` when the name is taken.
    pub async fn create_user(&self, user: User) -> Result<Option<User>> {
        Ok(self.store.insert_user(&user).await?.then_some(user))
    }

    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        Ok(self.store.user(name).await?)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        Ok(self.store.users().await?)
    }

    /// Disables an account now; `false` when it does not exist or was disabled before.
    pub async fn disable_user(&self, name: &str) -> Result<bool> {
        Ok(self.store.disable_user(name, self.now()).await?)
    }

    /// Ends a session (its token id) until its own expiry, on every node.
    pub async fn end_session(&self, id: &str, until: Millis, now: Millis) -> Result<()> {
        Ok(self.store.end_session(id, until, now).await?)
    }

    pub async fn session_ended(&self, id: &str) -> Result<bool> {
        Ok(self.store.session_ended(id).await?)
    }

    /// Appends an audit row; returns its sequence number.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<i64> {
        Ok(self.store.append_audit(entry).await?)
    }

    /// Records an agency callback's signature; `false` when it was used before.
    pub async fn record_callback(&self, signature: &str, agency: &str, at: Millis) -> Result<bool> {
        Ok(self.store.record_callback(signature, agency, at).await?)
    }

    pub async fn dossier_by_code(&self, code: &str) -> Result<Option<DossierId>> {
        Ok(self.store.dossier_by_code(code).await?)
    }

    pub async fn load_many(&self, ids: &[DossierId]) -> Result<Vec<Dossier>> {
        Ok(self.store.load_many(ids).await?)
    }

    /// Who filed a dossier, and where.
    pub async fn origin(&self, id: &DossierId) -> Result<Option<Origin>> {
        Ok(self.store.origin(id).await?)
    }

    pub async fn journal(&self, id: &DossierId) -> Result<Vec<JournalEntry>> {
        Ok(self.store.journal(id).await?)
    }

    /// A page of the dossiers inside `scope` (of one procedure, if given), in id order.
    pub async fn scoped_dossiers(
        &self,
        scope: &Scope,
        procedure: Option<&str>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Dossier>> {
        Ok(self
            .store
            .scoped_dossiers(scope, procedure, after, limit)
            .await?)
    }

    /// Open dossiers with a step in incident, inside `scope`.
    pub async fn incident_dossiers(
        &self,
        scope: &Scope,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Dossier>> {
        Ok(self.store.incident_dossiers(scope, after, limit).await?)
    }

    /// Published versions, of one procedure id or of all, by id then version.
    pub async fn procedure_versions(&self, id: Option<&str>) -> Result<Vec<VersionRow>> {
        Ok(self.store.procedure_versions(id).await?)
    }

    /// The newest published version of a procedure id.
    pub async fn newest_procedure(&self, id: &str) -> Result<Option<Arc<Procedure>>> {
        Ok(self.newest_procedures(Some(id)).await?.remove(id))
    }

    /// The version of a procedure in force on `day`.
    pub async fn procedure_for(
        &self,
        id: &str,
        day: NaiveDate,
    ) -> Result<Option<(Published, Procedure)>> {
        Ok(self.store.procedure_for(id, day).await?)
    }

    /// Dossiers by status, across the store.
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.store.count_by_status().await?)
    }

    /// Open tasks per agency.
    pub async fn queue_depths(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.store.queue_depths().await?)
    }
}

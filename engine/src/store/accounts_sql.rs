//! The SQL of [`super::Accounts`], the same in both dialects.

use super::accounts::{Accounts, ApiKey, User};
use super::dialect::{Dialect, SqlBackend};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

type KeyRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

fn key_from(r: KeyRow) -> ApiKey {
    let (id, key_hash, role, agency, province, commune, label, created_at, revoked_at) = r;
    ApiKey {
        id,
        key_hash,
        role,
        agency,
        province,
        commune,
        label,
        created_at,
        revoked_at,
    }
}

type UserRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

fn user_from(r: UserRow) -> User {
    let (name, password_hash, role, agency, province, commune, created_at, disabled_at) = r;
    User {
        name,
        password_hash,
        role,
        agency,
        province,
        commune,
        created_at,
        disabled_at,
    }
}

/// `audit_log` columns, in order.
type AuditTuple = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
);

/// How many times an audit append is retried when another node took the same number.
const AUDIT_RETRIES: usize = 16;

impl<B: SqlBackend> Accounts for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> &'e str: Encode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> Option<String>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    for<'e> Option<i64>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn insert_api_key(&self, k: &super::ApiKey) -> super::Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, role, agency, province, commune, label, created_at, \
             revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&k.id)
        .bind(&k.key_hash)
        .bind(&k.role)
        .bind(&k.agency)
        .bind(&k.province)
        .bind(&k.commune)
        .bind(&k.label)
        .bind(k.created_at)
        .bind(k.revoked_at)
        .execute(self.sql_pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                super::Error::Conflict(format!("API key {} exists", k.id))
            }
            _ => super::Error::Database(e),
        })?;
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> super::Result<Option<super::ApiKey>> {
        let row = sqlx::query_as::<_, KeyRow>(
            "SELECT id, key_hash, role, agency, province, commune, label, created_at, revoked_at \
             FROM api_keys WHERE key_hash = $1",
        )
        .bind(hash)
        .fetch_optional(self.sql_pool())
        .await?;
        Ok(row.map(key_from))
    }

    async fn api_keys(&self) -> super::Result<Vec<super::ApiKey>> {
        let rows = sqlx::query_as::<_, KeyRow>(
            "SELECT id, key_hash, role, agency, province, commune, label, created_at, revoked_at \
             FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows.into_iter().map(key_from).collect())
    }

    async fn revoke_api_key(&self, id: &str, at: crate::clock::Millis) -> super::Result<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(at)
                .bind(id)
                .execute(self.sql_pool())
                .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn insert_user(&self, u: &super::User) -> super::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO users (name, password_hash, role, agency, province, commune, created_at, \
             disabled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(&u.agency)
        .bind(&u.province)
        .bind(&u.commune)
        .bind(u.created_at)
        .bind(u.disabled_at)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn user(&self, name: &str) -> super::Result<Option<super::User>> {
        let row = sqlx::query_as::<_, UserRow>(
            "SELECT name, password_hash, role, agency, province, commune, created_at, disabled_at \
             FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.sql_pool())
        .await?;
        Ok(row.map(user_from))
    }

    async fn users(&self) -> super::Result<Vec<super::User>> {
        let rows = sqlx::query_as::<_, UserRow>(
            "SELECT name, password_hash, role, agency, province, commune, created_at, disabled_at \
             FROM users ORDER BY name",
        )
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows.into_iter().map(user_from).collect())
    }

    async fn disable_user(&self, name: &str, at: crate::clock::Millis) -> super::Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET disabled_at = $1 WHERE name = $2 AND disabled_at IS NULL",
        )
        .bind(at)
        .bind(name)
        .execute(self.sql_pool())
        .await?;
        Ok(<B::Db as Dialect>::affected(&done) == 1)
    }

    async fn end_session(
        &self,
        id: &str,
        until: crate::clock::Millis,
        now: crate::clock::Millis,
    ) -> super::Result<()> {
        let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
        sqlx::query("DELETE FROM ended_sessions WHERE until < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO ended_sessions (id, until) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_ended(&self, id: &str) -> super::Result<bool> {
        let row = sqlx::query_as::<_, (i64,)>("SELECT until FROM ended_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(self.sql_pool())
            .await?;
        Ok(row.is_some())
    }

    async fn append_audit(&self, e: &super::AuditEntry) -> super::Result<i64> {
        let mut last_error = None;
        for _ in 0..AUDIT_RETRIES {
            let mut tx = self.sql_pool().begin_with(B::Db::BEGIN).await?;
            let head = sqlx::query_as::<_, (i64, String)>(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let (seq, prev) = match head {
                Some((s, h)) => (s + 1, h),
                None => (1, super::GENESIS.to_string()),
            };
            let hash = e.hash(seq, &prev);
            let inserted = sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, role, action, target, source, outcome, prev, \
                 hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(seq)
            .bind(e.at)
            .bind(&e.actor)
            .bind(&e.role)
            .bind(&e.action)
            .bind(&e.target)
            .bind(&e.source)
            .bind(e.outcome)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {
                    tx.commit().await?;
                    return Ok(seq);
                }
                // Another node took this number first: read the new head.
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    last_error = Some(d.to_string());
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(super::Error::Conflict(format!(
            "audit log kept moving: {}",
            last_error.unwrap_or_default()
        )))
    }

    async fn audit_rows(&self, after: i64, limit: i64) -> super::Result<Vec<super::AuditRow>> {
        let rows: Vec<AuditTuple> = sqlx::query_as(
            "SELECT seq, at, actor, role, action, target, source, outcome, prev, hash \
             FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(seq, at, actor, role, action, target, source, outcome, prev, hash)| {
                    super::AuditRow {
                        seq,
                        entry: super::AuditEntry {
                            at,
                            actor,
                            role,
                            action,
                            target,
                            source,
                            outcome,
                        },
                        prev,
                        hash,
                    }
                },
            )
            .collect())
    }

    async fn journal_links(
        &self,
        id: &crate::machine::DossierId,
    ) -> super::Result<Option<(i64, Vec<super::JournalLink>)>> {
        let Some((version,)) =
            sqlx::query_as::<_, (i64,)>("SELECT version FROM dossiers WHERE id = $1")
                .bind(&id.0)
                .fetch_optional(self.sql_pool())
                .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query_as::<_, (i64, i64, String, String, String, Option<String>)>(
            "SELECT version, at, node, event, status, hash FROM journal WHERE dossier_id = $1 \
             ORDER BY version",
        )
        .bind(&id.0)
        .fetch_all(self.sql_pool())
        .await?;
        let links = rows
            .into_iter()
            .map(
                |(version, at, node, event, status, hash)| super::JournalLink {
                    version,
                    at,
                    node,
                    event,
                    status,
                    hash,
                },
            )
            .collect();
        Ok(Some((version, links)))
    }

    async fn dossier_ids(
        &self,
        after: &str,
        limit: i64,
    ) -> super::Result<Vec<crate::machine::DossierId>> {
        let rows = sqlx::query_as::<_, (String,)>(
            "SELECT id FROM dossiers WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id,)| crate::machine::DossierId(id))
            .collect())
    }

    async fn origin(&self, id: &crate::machine::DossierId) -> super::Result<Option<super::Origin>> {
        let row = sqlx::query_as::<_, (Option<String>, Option<String>, Option<String>)>(
            "SELECT submitted_by, province, commune FROM dossiers WHERE id = $1",
        )
        .bind(&id.0)
        .fetch_optional(self.sql_pool())
        .await?;
        Ok(row.map(|(submitted_by, province, commune)| super::Origin {
            submitted_by,
            province,
            commune,
        }))
    }

    async fn scoped_dossiers(
        &self,
        scope: &super::Scope,
        procedure: Option<&str>,
        after: &str,
        limit: i64,
    ) -> super::Result<Vec<crate::machine::Dossier>> {
        let rows = sqlx::query_as::<_, (String,)>(
            "SELECT d.state FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE ($1 IS NULL OR d.province = $1) AND ($2 IS NULL OR d.commune = $2) \
             AND ($3 IS NULL OR p.id = $3) AND d.id > $4 ORDER BY d.id LIMIT $5",
        )
        .bind(&scope.province)
        .bind(&scope.commune)
        .bind(procedure.map(str::to_string))
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        super::dossiers::dossiers_from(rows)
    }

    async fn procedure_versions(&self, id: Option<&str>) -> super::Result<Vec<super::VersionRow>> {
        let rows = sqlx::query_as::<_, (String, i64, String, String, i64)>(
            "SELECT id, version, hash, effective_from, published_at FROM procedures \
             WHERE ($1 IS NULL OR id = $1) ORDER BY id, version",
        )
        .bind(id.map(str::to_string))
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, version, hash, effective_from, published_at)| super::VersionRow {
                    id,
                    version,
                    hash,
                    effective_from,
                    published_at,
                },
            )
            .collect())
    }

    async fn put_notice(&self, n: &super::NoticeRow) -> super::Result<()> {
        sqlx::query(
            "INSERT INTO calendar_notices (year, notice, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (year) DO UPDATE SET notice = excluded.notice, \
             uploaded_by = excluded.uploaded_by, \
             uploaded_at = excluded.uploaded_at",
        )
        .bind(n.year)
        .bind(&n.notice)
        .bind(&n.uploaded_by)
        .bind(n.uploaded_at)
        .execute(self.sql_pool())
        .await?;
        Ok(())
    }

    async fn notices(&self) -> super::Result<Vec<super::NoticeRow>> {
        let rows = sqlx::query_as::<_, (i64, String, String, i64)>(
            "SELECT year, notice, uploaded_by, uploaded_at FROM calendar_notices ORDER BY year",
        )
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(year, notice, uploaded_by, uploaded_at)| super::NoticeRow {
                    year,
                    notice,
                    uploaded_by,
                    uploaded_at,
                },
            )
            .collect())
    }

    async fn queue_depths(&self) -> super::Result<Vec<(String, i64)>> {
        let rows = sqlx::query_as::<_, (String, i64)>(
            "SELECT agency, COUNT(*) FROM tasks WHERE status IN ('queued', 'claimed') \
             GROUP BY agency ORDER BY agency",
        )
        .fetch_all(self.sql_pool())
        .await?;
        Ok(rows)
    }

    async fn incident_dossiers(
        &self,
        scope: &super::Scope,
        after: &str,
        limit: i64,
    ) -> super::Result<Vec<crate::machine::Dossier>> {
        // The state is compact JSON: a step in incident reads `"status":"incident"`;
        // the caller keeps only dossiers with such a step (the text is a pre-filter).
        let rows = sqlx::query_as::<_, (String,)>(
            "SELECT state FROM dossiers WHERE status IN ('processing', 'supplement_requested') \
             AND state LIKE '%\"status\":\"incident\"%' \
             AND ($1 IS NULL OR province = $1) AND ($2 IS NULL OR commune = $2) \
             AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(&scope.province)
        .bind(&scope.commune)
        .bind(after)
        .bind(limit)
        .fetch_all(self.sql_pool())
        .await?;
        super::dossiers::dossiers_from(rows)
    }
}

//! `lienthong audit verify`: walks the API audit chain and every dossier's journal chain and
//! reports each break — a row whose hash does not match its content, a row whose `prev` is
//! not the hash before it, a gap in the numbering (a deleted row), or a dossier whose
//! current version has no journal row (its last transition deleted).

use lienthong_engine::runtime::{GENESIS, journal_hash};
use lienthong_engine::store::Accounts;
use serde::Serialize;

/// What the check found.
#[derive(Debug, Default, Serialize)]
pub struct Verified {
    pub audit_rows: u64,
    pub dossiers: u64,
    pub journal_rows: u64,
    /// Journal rows written before chaining began (no hash): not verifiable.
    pub unchained_rows: u64,
    pub problems: Vec<String>,
}

impl Verified {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

const PAGE: i64 = 1_000;

/// Checks both chains of `store`.
pub async fn verify<S: Accounts>(store: &S) -> anyhow::Result<Verified> {
    let mut v = Verified::default();
    let (mut after, mut prev) = (0_i64, GENESIS.to_string());
    loop {
        let rows = store.audit_rows(after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        let last_seq = last.seq;
        for r in &rows {
            if r.seq != after + 1 {
                v.problems.push(format!(
                    "audit: rows {} to {} are missing",
                    after + 1,
                    r.seq - 1
                ));
            }
            if r.prev != prev {
                v.problems.push(format!(
                    "audit row {}: does not follow row {}",
                    r.seq,
                    r.seq - 1
                ));
            }
            if r.entry.hash(r.seq, &r.prev) != r.hash {
                v.problems
                    .push(format!("audit row {}: content changed", r.seq));
            }
            prev = r.hash.clone();
            after = r.seq;
            v.audit_rows += 1;
        }
        after = last_seq;
    }
    let mut after_id = String::new();
    loop {
        let ids = store.dossier_ids(&after_id, PAGE).await?;
        let Some(last) = ids.last() else { break };
        after_id = last.0.clone();
        for id in &ids {
            let Some((version, rows)) = store.journal_links(id).await? else {
                continue;
            };
            v.dossiers += 1;
            let mut prev = GENESIS.to_string();
            let mut expected = 1;
            for r in &rows {
                v.journal_rows += 1;
                if r.version != expected {
                    v.problems.push(format!(
                        "dossier {id}: journal versions {expected} to {} are missing",
                        r.version - 1
                    ));
                }
                expected = r.version + 1;
                let Some(hash) = &r.hash else {
                    v.unchained_rows += 1;
                    prev = String::new();
                    continue;
                };
                if &journal_hash(&prev, &id.0, r) != hash {
                    v.problems.push(format!(
                        "dossier {id}: journal version {} changed or out of chain",
                        r.version
                    ));
                }
                prev = hash.clone();
            }
            if rows.last().map(|r| r.version) != Some(version) {
                v.problems.push(format!(
                    "dossier {id}: at version {version} but its journal ends at {}",
                    rows.last().map_or(0, |r| r.version)
                ));
            }
        }
    }
    Ok(v)
}

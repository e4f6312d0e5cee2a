//! The tables of the reporting model (`crate::report`): stored tallies per receipt day,
//! procedure and area, and the watermark below which closed dossiers are in them. The SQL is
//! the same in both dialects.

use super::dialect::{Dialect, SqlBackend, turn};
use super::{Result, Scope};
use crate::clock::Millis;
use crate::report::rollup::{Located, RollupRow, merge_row, midnight, month_split};
use crate::report::{AreaCounts, Tally};
use chrono::NaiveDate;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use std::collections::BTreeMap;
use std::future::Future;

/// What a report reads.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery<'a> {
    pub scope: Scope,
    pub procedure: Option<&'a str>,
    /// Receipt days `[from, to)` (Vietnam time).
    pub days: Option<(NaiveDate, NaiveDate)>,
}

/// What a report read, in one snapshot of the store.
#[derive(Debug, Clone, Default)]
pub struct ReportRead {
    /// Closed dossiers before this instant are in `rows`; the others are in `live`.
    pub watermark: Millis,
    /// The stored tallies of the scope's own level.
    pub rows: Vec<RollupRow>,
    /// Per province of the scope, its communes' counts (from the province rows).
    pub areas: BTreeMap<String, BTreeMap<String, AreaCounts>>,
    /// Dossiers open, or closed since the watermark, in the scope and period, as stored
    /// (parsed by the caller, in parallel).
    pub live: Vec<LiveRow>,
    /// Per procedure, dossiers received before the period and open when it began.
    pub carried_over: BTreeMap<String, usize>,
    /// Whether `carried_over` was read (the report has a period).
    pub carried_over_known: bool,
}

/// A stored dossier a report works out live: its state (JSON), its definition's hash and
/// where it was filed.
#[derive(Debug, Clone, Default)]
pub struct LiveRow {
    pub state: String,
    pub hash: String,
    pub province: Option<String>,
    pub commune: Option<String>,
}

/// The reporting tables of a store.
pub trait Reports: Send + Sync {
    /// The watermark (0 before the first rollup).
    fn rollup_watermark(&self) -> impl Future<Output = Result<Millis>> + Send;
    /// A page of the dossiers closed in `[from, to)` with ids after `after`, in id order.
    fn closed_between(
        &self,
        from: Millis,
        to: Millis,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Located>>> + Send;
    /// Adds `rows` to the stored tallies and moves the watermark from `from` to `to`, in one
    /// transaction; `false` (nothing written) when the watermark is no longer `from`.
    fn apply_rollup(
        &self,
        from: Millis,
        to: Millis,
        rows: &[RollupRow],
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Everything a report over `q` reads, in one snapshot.
    fn report_read(&self, q: &ReportQuery<'_>) -> impl Future<Output = Result<ReportRead>> + Send;
}

/// Communes' counts as stored: `{"code": [dossiers, decided, on_time, late, overdue]}`.
fn encode_communes(m: &BTreeMap<String, AreaCounts>) -> Result<String> {
    let compact: BTreeMap<&str, [u64; 5]> = m
        .iter()
        .map(|(k, c)| {
            (
                k.as_str(),
                [c.dossiers, c.decided, c.on_time, c.late, c.overdue],
            )
        })
        .collect();
    Ok(serde_json::to_string(&compact)?)
}

fn decode_communes(s: &str) -> Result<BTreeMap<String, AreaCounts>> {
    let compact: BTreeMap<String, [u64; 5]> = serde_json::from_str(s)?;
    Ok(compact
        .into_iter()
        .map(|(k, [dossiers, decided, on_time, late, overdue])| {
            (
                k,
                AreaCounts {
                    dossiers,
                    decided,
                    on_time,
                    late,
                    overdue,
                },
            )
        })
        .collect())
}

const WATERMARK: &str = "SELECT closed_before FROM report_watermark WHERE singleton = 1";

/// The level and area of a scope's own rows.
fn level_of(scope: &Scope) -> (i64, String) {
    match (&scope.province, &scope.commune) {
        (_, Some(c)) => (2, c.clone()),
        (Some(p), None) => (1, p.clone()),
        (None, None) => (0, String::new()),
    }
}

fn located(rows: Vec<(String, Option<String>, Option<String>)>) -> Result<Vec<Located>> {
    rows.into_iter()
        .map(|(state, province, commune)| {
            Ok(Located {
                dossier: serde_json::from_str(&state)?,
                province,
                commune,
            })
        })
        .collect()
}

/// `[from, to)` receipt days as stored (`yyyy-mm-dd`), or every day.
fn day_bounds(q: &ReportQuery<'_>) -> (String, String) {
    q.days.map_or_else(
        || (String::new(), "9999-12-31".to_string()),
        |(a, b)| (a.to_string(), b.to_string()),
    )
}

impl<B: SqlBackend> Reports for B
where
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    for<'e> String: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> i64: Encode<'e, B::Db> + Decode<'e, B::Db> + Type<B::Db>,
    for<'e> Option<String>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    for<'e> Option<i64>: Encode<'e, B::Db> + Decode<'e, B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    <B::Db as Database>::Arguments: IntoArguments<B::Db>,
{
    async fn rollup_watermark(&self) -> Result<Millis> {
        let pool = self.sql_pool();
        let mut conn = pool.acquire().await?;
        let row: Option<(i64,)> = sqlx::query_as(WATERMARK).fetch_optional(&mut *conn).await?;
        Ok(row.map_or(0, |(w,)| w))
    }

    async fn closed_between(
        &self,
        from: Millis,
        to: Millis,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Located>> {
        let pool = self.sql_pool();
        let mut conn = pool.acquire().await?;
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT state, province, commune FROM dossiers \
         WHERE closed_at >= $1 AND closed_at < $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(from)
        .bind(to)
        .bind(after.to_string())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        located(rows)
    }

    async fn apply_rollup(&self, from: Millis, to: Millis, rows: &[RollupRow]) -> Result<bool> {
        // One rollup at a time in the write queue, where the store has one.
        let _turn = turn(self, "rollup").await;
        let pool = self.sql_pool();
        let mut tx = pool.begin().await?;
        // Claim the watermark first: a second job moving it from the same place waits here
        // and then finds it moved.
        if from == to {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO report_watermark (singleton, closed_before) VALUES (1, $2) \
         ON CONFLICT (singleton) DO UPDATE SET closed_before = excluded.closed_before \
         WHERE report_watermark.closed_before = $1",
        )
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
        let now: Option<(i64,)> = sqlx::query_as(WATERMARK).fetch_optional(&mut *tx).await?;
        if now.map(|(w,)| w) != Some(to) {
            tx.rollback().await?;
            return Ok(false);
        }
        for more in rows {
            let old: Option<(String, String)> = sqlx::query_as(
                "SELECT tally, communes FROM report_rollups \
             WHERE level = $1 AND area = $2 AND procedure_id = $3 AND day = $4",
            )
            .bind(more.level)
            .bind(more.area.clone())
            .bind(more.procedure.clone())
            .bind(more.day.clone())
            .fetch_optional(&mut *tx)
            .await?;
            let mut row = match old {
                Some((tally, communes)) => RollupRow {
                    tally: serde_json::from_str(&tally)?,
                    communes: decode_communes(&communes)?,
                    ..more.clone()
                },
                None => RollupRow {
                    tally: Tally::default(),
                    communes: BTreeMap::new(),
                    ..more.clone()
                },
            };
            merge_row(&mut row, more);
            sqlx::query(
                "INSERT INTO report_rollups (level, area, procedure_id, day, tally, communes) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (level, area, procedure_id, day) \
             DO UPDATE SET tally = excluded.tally, communes = excluded.communes",
            )
            .bind(row.level)
            .bind(row.area)
            .bind(row.procedure)
            .bind(row.day)
            .bind(serde_json::to_string(&row.tally)?)
            .bind(encode_communes(&row.communes)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn report_read(&self, q: &ReportQuery<'_>) -> Result<ReportRead> {
        let pool = self.sql_pool();
        let mut tx = pool.begin().await?;
        if let Some(sql) = <B::Db as Dialect>::SNAPSHOT {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        let mut out = ReportRead::default();
        let mark: Option<(i64,)> = sqlx::query_as(WATERMARK).fetch_optional(&mut *tx).await?;
        out.watermark = mark.map_or(0, |(w,)| w);
        let (level, area) = level_of(&q.scope);
        let (from, to) = day_bounds(q);
        let procedure = q.procedure.map(str::to_string);
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT procedure_id, day, tally, communes FROM report_rollups \
         WHERE level = $1 AND area = $2 AND ($3 IS NULL OR procedure_id = $3) \
         AND day >= $4 AND day < $5",
        )
        .bind(level)
        .bind(area.clone())
        .bind(procedure.clone())
        .bind(from.clone())
        .bind(to.clone())
        .fetch_all(&mut *tx)
        .await?;
        for (procedure, day, tally, communes) in rows {
            let communes = decode_communes(&communes)?;
            if level == 1 && !communes.is_empty() {
                let mine = out.areas.entry(area.clone()).or_default();
                for (c, n) in communes {
                    mine.entry(c).or_default().merge(&n);
                }
            }
            out.rows.push(RollupRow {
                level,
                area: area.clone(),
                procedure,
                day,
                tally: serde_json::from_str(&tally)?,
                communes: BTreeMap::new(),
            });
        }
        if level == 0 {
            // The breakdowns by province and commune: whole months from the month rows, the
            // days at the period's edges from the province rows.
            let (months, edges) = month_split(&from, &to);
            let mut spans: Vec<(i64, String, String)> =
                edges.into_iter().map(|(a, b)| (1, a, b)).collect();
            if let Some((a, b)) = months {
                // Over every procedure, one row per province and month.
                spans.push((if procedure.is_some() { 3 } else { 4 }, a, b));
            }
            for (level, a, b) in spans {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT area, communes FROM report_rollups \
                 WHERE level = $1 AND ($2 IS NULL OR procedure_id = $2) AND day >= $3 AND day < $4",
                )
                .bind(level)
                .bind(if level == 4 { None } else { procedure.clone() })
                .bind(a)
                .bind(b)
                .fetch_all(&mut *tx)
                .await?;
                for (province, communes) in rows {
                    let mine = out.areas.entry(province).or_default();
                    for (c, n) in decode_communes(&communes)? {
                        mine.entry(c).or_default().merge(&n);
                    }
                }
            }
        }
        let (start, end) = q
            .days
            .map_or((i64::MIN, i64::MAX), |(a, b)| (midnight(a), midnight(b)));
        let live: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT d.state, d.procedure_hash, d.province, d.commune FROM dossiers d \
         JOIN procedures p ON p.hash = d.procedure_hash \
         WHERE (d.closed_at IS NULL OR d.closed_at >= $1) \
         AND ($2 IS NULL OR d.province = $2) AND ($3 IS NULL OR d.commune = $3) \
         AND ($4 IS NULL OR p.id = $4) AND d.received_at >= $5 AND d.received_at < $6",
        )
        .bind(out.watermark)
        .bind(q.scope.province.clone())
        .bind(q.scope.commune.clone())
        .bind(procedure.clone())
        .bind(start)
        .bind(end)
        .fetch_all(&mut *tx)
        .await?;
        out.live = live
            .into_iter()
            .map(|(state, hash, province, commune)| LiveRow {
                state,
                hash,
                province,
                commune,
            })
            .collect();
        if let Some((start, _)) = q.days.map(|(a, b)| (midnight(a), midnight(b))) {
            let carried: Vec<(String, i64)> = sqlx::query_as(
            "SELECT p.id, COUNT(*) FROM dossiers d JOIN procedures p ON p.hash = d.procedure_hash \
             WHERE d.received_at < $1 AND (d.closed_at IS NULL OR d.closed_at >= $1) \
             AND ($2 IS NULL OR d.province = $2) AND ($3 IS NULL OR d.commune = $3) \
             AND ($4 IS NULL OR p.id = $4) GROUP BY p.id",
        )
        .bind(start)
        .bind(q.scope.province.clone())
        .bind(q.scope.commune.clone())
        .bind(procedure)
        .fetch_all(&mut *tx)
        .await?;
            out.carried_over_known = true;
            out.carried_over = carried
                .into_iter()
                .map(|(p, n)| (p, usize::try_from(n).unwrap_or(0)))
                .collect();
        }
        tx.commit().await?;
        Ok(out)
    }
}

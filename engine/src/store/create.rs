//! Filing several dossiers in one transaction (one fsync for all), the same SQL in both
//! dialects but for the rows' insert (`Dialect::insert_all`).
//!
//! Dossier codes stay gapless: each (agency, day) takes its numbers with one statement,
//! every submission is built with its number, and when some are refused by the machine
//! (an invalid form, say) the accepted ones are built again with the first numbers and the
//! sequence is set back to the last one used — so a refused submission never leaves a hole
//! in the day's numbering, as with one transaction per dossier.

use super::dialect::Dialect;
use super::{Created, Error, NewDossier, Result};
use crate::machine::{self, DossierId, Transition};
use chrono::NaiveDate;
use sqlx::{ColumnIndex, Decode, Encode, Executor, Type};
use std::collections::BTreeMap;

/// Builds a new dossier's first transition from its code; called once per code, and again
/// with another code when numbers are compacted (it must give the same result for a code).
pub type Build<'a> = &'a (dyn Fn(String) -> Result<Transition, machine::Error> + Send + Sync);

/// One submission to file.
#[derive(Clone, Copy)]
pub struct Filing<'a> {
    pub new: &'a NewDossier<'a>,
    pub build: Build<'a>,
}

impl std::fmt::Debug for Filing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filing").field("new", &self.new).finish()
    }
}

/// The code of the `seq`-th dossier an agency received on a day.
pub(crate) fn dossier_code(agency: &str, day: NaiveDate, seq: i64) -> String {
    format!("{agency}-{}-{seq:06}", day.format("%y%m%d"))
}

const TAKE: &str = "INSERT INTO code_sequences (agency_code, day, last) VALUES ($1, $2, $3) \
     ON CONFLICT (agency_code, day) DO UPDATE SET last = code_sequences.last + $3 RETURNING last";
const GIVE_BACK: &str =
    "UPDATE code_sequences SET last = $3 WHERE agency_code = $1 AND day = $2 AND last >= $3";
pub(crate) const BY_KEY: &str = "SELECT id FROM dossiers WHERE submission_key = $1";

/// Files `items` inside the caller's transaction. A submission key already used answers
/// [`Created::Existing`]; a unique violation (the same key filed meanwhile by another
/// transaction) fails the whole call, and the caller files each alone.
pub(crate) async fn file_all<DB: Dialect>(
    conn: &mut DB::Connection,
    items: &[Filing<'_>],
) -> Result<Vec<Result<Created, machine::Error>>>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let mut out: Vec<Option<Result<Created, machine::Error>>> =
        std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, item) in items.iter().enumerate() {
        if let Some(key) = item.new.submission_key {
            let found: Option<(String,)> = sqlx::query_as(BY_KEY)
                .bind(key.to_string())
                .fetch_optional(&mut *conn)
                .await?;
            if let Some((id,)) = found {
                out[i] = Some(Ok(Created::Existing(DossierId(id))));
            }
        }
    }
    // The submissions still to file, by (agency, day), in order.
    let mut by_day: BTreeMap<(&str, NaiveDate), Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if out[i].is_none() {
            by_day
                .entry((item.new.agency_code, item.new.day))
                .or_default()
                .push(i);
        }
    }
    let mut built: Vec<(usize, Transition)> = Vec::new();
    for ((agency, day), members) in by_day {
        let count = i64::try_from(members.len()).unwrap_or(i64::MAX);
        let (last,): (i64,) = sqlx::query_as(TAKE)
            .bind(agency.to_string())
            .bind(day.to_string())
            .bind(count)
            .fetch_one(&mut *conn)
            .await?;
        let first = last - count + 1;
        let mut accepted = Vec::new();
        let mut refused = false;
        for (n, &i) in (first..).zip(&members) {
            match (items[i].build)(dossier_code(agency, day, n)) {
                Ok(t) => accepted.push((i, t)),
                Err(e) => {
                    out[i] = Some(Err(e));
                    refused = true;
                }
            }
        }
        if refused {
            // Close the gaps: the accepted ones take the first numbers.
            let mut compact = Vec::with_capacity(accepted.len());
            let mut n = first;
            for (i, _) in accepted {
                match (items[i].build)(dossier_code(agency, day, n)) {
                    Ok(t) => {
                        compact.push((i, t));
                        n += 1;
                    }
                    Err(e) => out[i] = Some(Err(e)),
                }
            }
            let used = first + i64::try_from(compact.len()).unwrap_or(i64::MAX) - 1;
            sqlx::query(GIVE_BACK)
                .bind(agency.to_string())
                .bind(day.to_string())
                .bind(used)
                .execute(&mut *conn)
                .await?;
            accepted = compact;
        }
        built.extend(accepted);
    }
    let rows: Vec<(&NewDossier<'_>, &Transition)> =
        built.iter().map(|(i, t)| (items[*i].new, t)).collect();
    let dispatched = DB::insert_all(conn, &rows).await?;
    if dispatched.len() != built.len() {
        return Err(Error::Conflict(format!(
            "{} of {} new dossiers were stored",
            dispatched.len(),
            built.len()
        )));
    }
    for ((i, t), d) in built.into_iter().zip(dispatched) {
        out[i] = Some(Ok(Created::New(Box::new(t), d)));
    }
    out.into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Error::Conflict("a submission was left unfiled".into()))
}

//! Timer firings that changed nothing in their dossier (`Transition::notice`: a deadline
//! warning) are stored as notifications, not as versions: the timer is consumed at its epoch,
//! the notifications go to the outbox, and a row of `notifications` records the firing at the
//! dossier's version — the dossier, its journal and its task rows are not touched. The
//! journal therefore holds exactly the events that changed a state, and still replays to it.
//!
//! A notice is a member of a group's plan like a transition (`group.rs`, `bulk.rs`), under the
//! same checks: the dossier still at the version the firing was applied to
//! ([`Error::Conflict`] otherwise: it moved, and the firing is worked out again) and the timer
//! still held at its epoch ([`Error::LeaseLost`] otherwise).

use super::bulk::{Refused, write_bulk};
use super::dialect::Dialect;
use super::group::{CHUNK, NotificationRow, plan};
use super::{Commit, Consumed, Dispatched, Error, Result};
use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, QueryBuilder, Type};

/// Whether a commit is stored as a notice: a firing that changed nothing, consuming the
/// timer that fired (a firing applied without its claim, as tools do, stays a transition).
pub(crate) fn is_notice(c: &Commit<'_>) -> bool {
    c.transition.notice && matches!(c.consumed, Some(Consumed::Timer { .. }))
}

/// Whether every notice's dossier is still at the version its firing was applied to.
pub(crate) async fn notices_at_version<DB: Dialect>(
    tx: &mut DB::Connection,
    notices: &[NotificationRow],
) -> Result<bool>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    DB::Arguments: IntoArguments<DB>,
{
    for rows in notices.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("WITH v (d, n) AS (");
        q.push_values(rows, |mut b, n| {
            b.push_bind(n.dossier.as_str()).push_bind(n.version);
        });
        q.push(
            ") SELECT COUNT(*) FROM v \
             JOIN dossiers ON dossiers.id = v.d AND dossiers.version = v.n",
        );
        let (at_version,): (i64,) = q.build_query_as().fetch_one(&mut *tx).await?;
        if usize::try_from(at_version).ok() != Some(rows.len()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Records the notices in `notifications`.
pub(crate) async fn insert_notifications<DB: Dialect>(
    tx: &mut DB::Connection,
    notices: &[NotificationRow],
) -> Result<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    DB::Arguments: IntoArguments<DB>,
{
    for rows in notices.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new(
            "INSERT INTO notifications (dossier_id, version, at, node, event) ",
        );
        q.push_values(rows, |mut b, n| {
            b.push_bind(n.dossier.as_str())
                .push_bind(n.version)
                .push_bind(n.at)
                .push_bind(n.node.as_str())
                .push_bind(n.event.as_str());
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Writes one notice inside the caller's transaction, refusing it as a transition would be
/// refused: [`Error::Conflict`] for a dossier that moved, [`Error::LeaseLost`] for a timer no
/// longer held.
pub(crate) async fn write_notice<DB: Dialect>(
    tx: &mut DB::Connection,
    c: &Commit<'_>,
) -> Result<Dispatched>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'e> String: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'e> i64: Encode<'e, DB> + Decode<'e, DB> + Type<DB>,
    for<'e> Option<String>: Encode<'e, DB> + Decode<'e, DB>,
    for<'e> Option<i64>: Encode<'e, DB> + Decode<'e, DB>,
    usize: ColumnIndex<DB::Row>,
    DB::Arguments: IntoArguments<DB>,
{
    let id = &c.transition.state.id;
    let Some(p) = plan(std::slice::from_ref(c))? else {
        return Err(Error::Conflict(format!(
            "dossier {id}: the notice cannot be planned"
        )));
    };
    match write_bulk::<DB>(tx, &p).await? {
        Ok(mut by_dossier) => Ok(by_dossier.remove(&id.0).unwrap_or_default()),
        Err(Refused::Moved) => Err(Error::Conflict(format!(
            "dossier {id} is no longer at version {}",
            c.expected_version
        ))),
        Err(Refused::ClaimLost) => Err(Error::LeaseLost(format!(
            "dossier {id}: the timer that fired is no longer held"
        ))),
    }
}

//! The reporting use cases: a report over a scope and period (stored tallies plus live
//! facts), and the rollup that the daily job runs to store the tallies of the dossiers
//! closed before today.

use super::{Result, Runtime};
use crate::clock::Millis;
use crate::definition::Procedure;
use crate::report::rollup::{Rollup, day_of, midnight};
use crate::report::{Facts, Report, assemble, live_facts};
use crate::store::{ReportQuery, Scope, Store};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Dossiers read per page while rolling up.
const ROLLUP_PAGE: i64 = 2_000;

/// What one rollup stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RolledUp {
    /// Closed dossiers added to the stored tallies.
    pub dossiers: usize,
    /// The watermark after the rollup.
    pub until: Millis,
}

impl<S: Store> Runtime<S> {
    /// The report over the dossiers of `scope` (of one procedure, if given; received in the
    /// days `[from, to)`, if given), at this instant.
    pub async fn report(
        &self,
        scope: &Scope,
        procedure: Option<&str>,
        days: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Report> {
        let query = ReportQuery {
            scope: scope.clone(),
            procedure,
            days,
        };
        let read = self.store.report_read(&query).await?;
        let mut by_hash = BTreeMap::new();
        for l in &read.live {
            if !by_hash.contains_key(&l.hash) {
                by_hash.insert(l.hash.clone(), self.procedure(&l.hash).await?);
            }
        }
        let procedures = self.newest_procedures(procedure).await?;
        let (calendar, now) = (self.calendar(), self.now());
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // Parsing the open dossiers and working out their facts is the report's CPU work:
        // on the blocking pool, split over the cores.
        let (read, facts) = tokio::task::spawn_blocking(move || {
            let facts = live_facts(&read.live, &by_hash, &calendar, now, threads);
            (read, facts)
        })
        .await
        .map_err(|e| crate::store::Error::Conflict(format!("report worker: {e}")))?;
        Ok(assemble(read, facts, &procedures))
    }

    /// The newest published version of each procedure id (of `only`, if given).
    pub(crate) async fn newest_procedures(
        &self,
        only: Option<&str>,
    ) -> Result<BTreeMap<String, Arc<Procedure>>> {
        let mut newest: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for v in self.store.procedure_versions(only).await? {
            if newest.get(&v.id).is_none_or(|(n, _)| *n < v.version) {
                newest.insert(v.id, (v.version, v.hash));
            }
        }
        let mut out = BTreeMap::new();
        for (id, (_, hash)) in newest {
            out.insert(id, self.procedure(&hash).await?);
        }
        Ok(out)
    }

    /// Stores the tallies of the dossiers closed since the last rollup and before today
    /// (Vietnam time), and moves the watermark to today's midnight. Today's closings stay
    /// live. Another node's rollup of the same span makes this one store nothing.
    pub async fn roll_up(&self) -> Result<RolledUp> {
        let now = self.now();
        let from = self.store.rollup_watermark().await?;
        let until = day_of(now).map_or(now, midnight);
        if until <= from {
            return Ok(RolledUp {
                dossiers: 0,
                until: from,
            });
        }
        let calendar = self.calendar();
        let mut rollup = Rollup::default();
        let (mut after, mut dossiers) = (String::new(), 0);
        loop {
            let page = self
                .store
                .closed_between(from, until, &after, ROLLUP_PAGE)
                .await?;
            for l in &page {
                let p = self.procedure(&l.dossier.procedure.hash).await?;
                let f = Facts::of(&l.dossier, &p, &calendar, now);
                rollup.add(&f, l.province.as_deref(), l.commune.as_deref());
                dossiers += 1;
            }
            match page.last() {
                Some(last) if page.len() as i64 == ROLLUP_PAGE => {
                    after = last.dossier.id.0.clone();
                }
                _ => break,
            }
        }
        let stored = self
            .store
            .apply_rollup(from, until, &rollup.into_rows())
            .await?;
        Ok(RolledUp {
            dossiers: if stored { dossiers } else { 0 },
            until: if stored {
                until
            } else {
                self.store.rollup_watermark().await?
            },
        })
    }
}

//! The notifying jobs: the overdue sweep, deadline warnings, supplement reminders.
//!
//! Agencies get one digest each (an `Effect::Notify` to `Audience::Agency` with the
//! `DeadlineWarning` template, `data.digest` = `overdue` or `due_soon`, `data.agency`, the
//! count and the first steps, oldest deadline first). A digest concerns no single dossier:
//! it is handed to the notifier with an empty dossier id. Citizens get one reminder per
//! supplement window (the `SupplementRequested` template with `data.reminder` = true).
//! A notification the notifier refuses is counted in the summary (`failed`), not retried:
//! the next tick sends a fresh digest.

use crate::calendar::{OfficeHours, VIETNAM_OFFSET};
use crate::clock::Millis;
use crate::machine::{
    Audience, Dossier, DossierId, DossierStatus, Effect, StepState, StepStatus, Template,
};
use crate::runtime::{Result, Runtime};
use crate::store::{Store, status_name};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Dossiers read per page.
pub(super) const PAGE: i64 = 500;
/// Steps listed in one digest (the count covers them all).
const LISTED: usize = 100;

/// The local day in Việt Nam of an instant.
pub(crate) fn vn_day(at: Millis) -> NaiveDate {
    DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).date_naive())
        .unwrap_or_default()
}

pub(super) fn local_time(at: Millis) -> String {
    DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).to_rfc3339())
        .unwrap_or_else(|| at.to_string())
}

/// The deadline of a step whose agency holds it and whose clock runs (not paused for a
/// supplement, not finished).
fn running_deadline(st: &StepState) -> Option<DateTime<FixedOffset>> {
    if !st.status.is_active() || st.status == StepStatus::Supplement {
        return None;
    }
    st.clock.as_ref()?.deadline()
}

/// Steps listed per agency, each with its deadline for ordering.
type ByAgency = BTreeMap<String, Vec<(Millis, Value)>>;

fn listed(d: &Dossier, step: &str, st: &StepState, deadline: DateTime<FixedOffset>) -> Value {
    json!({
        "dossier": d.id,
        "code": d.code,
        "procedure": d.procedure.id,
        "step": step,
        "status": status_name(&st.status),
        "deadline": deadline.to_rfc3339(),
    })
}

impl<S: Store> Runtime<S> {
    /// Calls `f` on every open dossier (processing or waiting for a supplement) in scope, a
    /// page at a time; returns how many there were.
    pub(super) async fn each_open(
        &self,
        scope: Option<&str>,
        mut f: impl FnMut(&Dossier) + Send,
    ) -> Result<usize> {
        let (mut after, mut seen) = (String::new(), 0);
        loop {
            let page = self.store.open_dossiers(scope, &after, PAGE).await?;
            page.iter().for_each(&mut f);
            seen += page.len();
            match page.last() {
                Some(last) if i64::try_from(page.len()).is_ok_and(|n| n == PAGE) => {
                    after = last.id.0.clone();
                }
                _ => return Ok(seen),
            }
        }
    }

    /// Sends one digest per agency; returns (sent, agencies whose digest failed).
    fn digests(&self, by_agency: ByAgency, kind: &str, now: Millis) -> (usize, Vec<String>) {
        let (mut sent, mut failed) = (0, Vec::new());
        for (agency, mut items) in by_agency {
            items.sort_by_key(|(at, _)| *at);
            let count = items.len();
            let steps: Vec<Value> = items.into_iter().take(LISTED).map(|(_, v)| v).collect();
            let effect = Effect::Notify {
                audience: Audience::Agency,
                template: Template::DeadlineWarning,
                step: None,
                data: json!({
                    "digest": kind,
                    "agency": agency,
                    "overdue": kind == "overdue",
                    "count": count,
                    "steps": steps,
                    "as_of": local_time(now),
                }),
            };
            match self.notifier.send(&DossierId(String::new()), &effect) {
                Ok(()) => sent += 1,
                Err(_) => failed.push(agency),
            }
        }
        (sent, failed)
    }

    /// Steps past their deadline (one digest per agency), and dossiers past the group's.
    pub(super) async fn overdue_sweep(&self, scope: Option<&str>, now: Millis) -> Result<Value> {
        let today = vn_day(now);
        let calendar = self.calendar();
        let mut by_agency = ByAgency::new();
        let mut late_dossiers = 0;
        let scanned = self
            .each_open(scope, |d| {
                let group = d.clock.as_ref().and_then(|c| c.deadline());
                if d.status == DossierStatus::Processing
                    && group.is_some_and(|g| g.timestamp_millis() < now)
                {
                    late_dossiers += 1;
                }
                for (step, st) in &d.steps {
                    let Some(deadline) = running_deadline(st) else {
                        continue;
                    };
                    let at = deadline.timestamp_millis();
                    if at < now {
                        let mut item = listed(d, step, st, deadline);
                        item["working_days_late"] =
                            json!(calendar.working_days_between(deadline.date_naive(), today));
                        by_agency
                            .entry(st.agency.to_string())
                            .or_default()
                            .push((at, item));
                    }
                }
            })
            .await?;
        let per_agency: BTreeMap<&String, usize> =
            by_agency.iter().map(|(a, v)| (a, v.len())).collect();
        let per_agency = json!(per_agency);
        let steps: usize = by_agency.values().map(Vec::len).sum();
        let (notified, failed) = self.digests(by_agency, "overdue", now);
        Ok(json!({
            "scanned": scanned,
            "overdue_steps": steps,
            "overdue_dossiers": late_dossiers,
            "agencies": per_agency,
            "notified": notified,
            "failed": failed,
        }))
    }

    /// The end of the next working day after `now`'s day (close of office hours).
    fn next_working_day_end(&self, now: Millis) -> Millis {
        let next = self.calendar().next_working_day(vn_day(now));
        OfficeHours::default().closing_on(next).timestamp_millis()
    }

    /// Steps whose deadline falls between now and the end of the next working day.
    pub(super) async fn deadline_warnings(
        &self,
        scope: Option<&str>,
        now: Millis,
    ) -> Result<Value> {
        let until = self.next_working_day_end(now);
        let mut by_agency = ByAgency::new();
        let scanned = self
            .each_open(scope, |d| {
                for (step, st) in &d.steps {
                    let Some(deadline) = running_deadline(st) else {
                        continue;
                    };
                    let at = deadline.timestamp_millis();
                    if (now..=until).contains(&at) {
                        let item = listed(d, step, st, deadline);
                        by_agency
                            .entry(st.agency.to_string())
                            .or_default()
                            .push((at, item));
                    }
                }
            })
            .await?;
        let steps: usize = by_agency.values().map(Vec::len).sum();
        let (notified, failed) = self.digests(by_agency, "due_soon", now);
        Ok(json!({
            "scanned": scanned,
            "due_soon_steps": steps,
            "until": local_time(until),
            "notified": notified,
            "failed": failed,
        }))
    }

    /// Reminds citizens whose supplement window closes by the end of the next working day.
    pub(super) async fn supplement_reminders(
        &self,
        scope: Option<&str>,
        now: Millis,
    ) -> Result<Value> {
        let until = self.next_working_day_end(now);
        let windows = self.store.supplement_windows(scope, now, until).await?;
        let (mut reminded, mut failed) = (0, Vec::new());
        for w in &windows {
            let effect = Effect::Notify {
                audience: Audience::Citizen,
                template: Template::SupplementRequested,
                step: Some(w.step.clone().into()),
                data: json!({"code": w.code, "reminder": true, "until": local_time(w.until)}),
            };
            match self.notifier.send(&w.dossier, &effect) {
                Ok(()) => reminded += 1,
                Err(_) => failed.push(w.code.clone()),
            }
        }
        Ok(json!({
            "windows": windows.len(),
            "until": local_time(until),
            "reminded": reminded,
            "failed": failed,
        }))
    }
}

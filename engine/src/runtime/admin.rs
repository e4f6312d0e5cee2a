//! Administration use cases: a yearly calendar notice installed (checked, stored, in force for
//! new deadlines at once, on this node), and a step in incident retried or skipped by an
//! operator with a reason. The HTTP API and the web console both call these.

use super::{Error, Result, Runtime};
use crate::calendar::{Calendar, YearNotice, builtin_notices};
use crate::machine::{DossierId, Event, Resolution, StepStatus, Transition};
use crate::store::{NoticeRow, Store};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Why a notice was refused (the text names the field or line).
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// The calendar from the built-in notices and the uploaded ones (an uploaded notice wins
/// for its year).
pub fn calendar_with(uploaded: &[NoticeRow]) -> std::result::Result<Calendar, String> {
    let mut by_year: BTreeMap<i32, YearNotice> =
        builtin_notices().into_iter().map(|n| (n.year, n)).collect();
    for row in uploaded {
        let n = YearNotice::from_yaml(&row.notice, &format!("uploaded notice {}", row.year))
            .map_err(|e| e.to_string())?;
        by_year.insert(n.year, n);
    }
    Calendar::with_notices(by_year.into_values().collect()).map_err(|e| e.to_string())
}

impl<S: Store> Runtime<S> {
    /// Installs the notice of `year` (YAML, the format of `workflows/calendar/`) uploaded by
    /// `by`; the new calendar's version. A notice that does not parse, names another year or
    /// breaks the calendar is refused and nothing is stored.
    pub async fn install_notice(
        &self,
        year: i32,
        text: &str,
        by: &str,
    ) -> std::result::Result<String, NoticeError> {
        let n = YearNotice::from_yaml(text, &format!("notice {year}"))
            .map_err(|e| NoticeError::Invalid(e.to_string()))?;
        if n.year != year {
            return Err(NoticeError::Invalid(format!(
                "year: the notice is for {}, not {year}",
                n.year
            )));
        }
        let mut uploaded = self.store.notices().await?;
        let row = NoticeRow {
            year: i64::from(year),
            notice: text.to_string(),
            uploaded_by: by.to_string(),
            uploaded_at: self.now(),
        };
        uploaded.retain(|r| r.year != row.year);
        uploaded.push(row.clone());
        // Built before storing: a notice that breaks the calendar is never kept.
        let calendar = calendar_with(&uploaded).map_err(NoticeError::Invalid)?;
        self.store.put_notice(&row).await?;
        self.set_calendar(Arc::new(calendar));
        Ok(self.calendar().version())
    }

    /// Retries or skips `step` of `dossier`, in incident, for the operator `by`, with a
    /// reason (journaled on the event). A step not in incident is [`Error::NoIncident`].
    pub async fn resolve_incident(
        &self,
        dossier: &DossierId,
        step: &str,
        resolution: Resolution,
        by: &str,
        reason: &str,
    ) -> Result<Transition> {
        let event = Event::IncidentResolved {
            step: step.into(),
            resolution,
            by: by.to_string(),
            reason: reason.to_string(),
        };
        let missing = || Error::NoIncident {
            dossier: dossier.clone(),
            step: step.to_string(),
        };
        // Checked on the version the event is applied to.
        let t = self
            .apply_with(dossier, None, |d, _, _| {
                if d.steps
                    .get(step)
                    .is_none_or(|s| s.status != StepStatus::Incident)
                {
                    return Err(missing());
                }
                Ok(Some(event.clone()))
            })
            .await?;
        t.ok_or_else(missing)
    }
}

//! SLA clocks: a deadline that can be paused, extended and stopped, stored with its inputs.
//!
//! ```text
//!            pause(reason)             resume
//! Running ───────────────▶ Paused ───────────▶ Running (or Extended, if it was)
//!    │ extend(limit, legal basis)
//!    ▼
//! Extended ── pause / resume as above ──
//! Running | Extended | Paused ── stop ──▶ Stopped
//! ```
//!
//! - **Deadline**: `due(received, limit + paused working days)` (see [`super::deadline`]): the
//!   close of office hours on the (limit + k)-th working day after the start day, where k is
//!   the number of working days spent paused. An extension (verification, e.g. 2 → 5 working
//!   days for residence registration) replaces the limit.
//! - **Paused working days**: a pause from `p` to `r` takes `working_days_between(day(p),
//!   day(r))` working days, `day(t)` being the start-day rule applied to `t` (that day if it is
//!   a working day before the cut-off, else the next working day). Pausing for k working days
//!   therefore moves the deadline by exactly k working days; a pause within one day moves it
//!   by none. While paused the clock has no deadline; its remaining time is frozen.
//! - **Warning**: at `warn_fraction` of the working time allowed (from receipt, or the opening
//!   of the start day, to the unpaused deadline), counted back from the current deadline: the
//!   warning instant is the deadline minus `(1 - warn_fraction)` of that working time.
//! - **Storage**: the clock keeps its inputs (receipt instant, limit, pauses, extension, stop)
//!   and what was computed from them with the calendar's version. [`SlaClock::recompute`]
//!   recomputes from the inputs with a new calendar and reports any change.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::deadline::{rewind_working_time, start_day, working_hours_between};
use super::error::{Error, Result};
use super::office::OfficeHours;
use super::unit::DayUnit;

/// The state of an SLA clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Counting against the original limit.
    Running,
    /// Waiting for the applicant's supplement (yêu cầu bổ sung hồ sơ); not counting.
    Paused,
    /// Counting against an extended limit (verification, xác minh).
    Extended,
    /// Done: the step finished, was refused, or withdrawn.
    Stopped,
}

impl fmt::Display for ClockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Extended => "extended",
            Self::Stopped => "stopped",
        })
    }
}

/// A pause of the clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// When the clock was paused.
    pub from: DateTime<FixedOffset>,
    /// When it resumed; `None` while paused.
    pub until: Option<DateTime<FixedOffset>>,
    /// Why (e.g. "supplement requested: birth certificate unreadable").
    pub reason: String,
}

/// An extension of the limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// When the extension was decided.
    pub at: DateTime<FixedOffset>,
    /// The new limit, in working days.
    pub limit: u32,
    /// The legal basis (e.g. "Decree 63/2024, verification: 5 working days").
    pub legal_basis: String,
}

/// What was computed from the inputs, and with which calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Computed {
    /// [`Calendar::version`] of the calendar used.
    pub calendar_version: String,
    /// Start day of the count.
    pub start_day: NaiveDate,
    /// Working days spent in closed pauses.
    pub paused_days: u32,
    /// The deadline, counting closed pauses only.
    pub deadline: DateTime<FixedOffset>,
    /// When to warn.
    pub warn_at: DateTime<FixedOffset>,
}

/// A recomputation that moved a deadline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineChange {
    /// The deadline before.
    pub old_deadline: DateTime<FixedOffset>,
    /// The deadline after.
    pub new_deadline: DateTime<FixedOffset>,
    /// Calendar version before.
    pub old_version: String,
    /// Calendar version after.
    pub new_version: String,
    /// Why it moved.
    pub reason: String,
}

/// Remaining time of a clock at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remaining {
    /// Working days after the instant's day up to and including the deadline's day (negative
    /// once the deadline's day is past).
    pub working_days: i64,
    /// Office time until the deadline (negative when overdue).
    pub working_time: TimeDelta,
    /// True when the instant is after the deadline.
    pub overdue: bool,
}

/// An SLA clock (see the module documentation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaClock {
    received: DateTime<FixedOffset>,
    limit: u32,
    /// How the limit's days are counted (working days unless the law says calendar days).
    #[serde(default, skip_serializing_if = "DayUnit::is_working_days")]
    unit: DayUnit,
    warn_fraction: f64,
    #[serde(default)]
    pauses: Vec<Pause>,
    #[serde(default)]
    extension: Option<Extension>,
    #[serde(default)]
    stopped: Option<DateTime<FixedOffset>>,
    computed: Computed,
    /// Every recomputation that moved the deadline, oldest first: the old value, the new
    /// one, both calendar versions and the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<DeadlineChange>,
}

impl SlaClock {
    /// Starts a clock for a dossier received at `received`, with a limit of `limit` working
    /// days and a warning at `warn_fraction` (in (0, 1]) of the allowed working time.
    pub fn start(
        received: DateTime<FixedOffset>,
        limit: u32,
        warn_fraction: f64,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Result<Self> {
        Self::start_in(
            received,
            limit,
            DayUnit::WorkingDays,
            warn_fraction,
            calendar,
            office,
        )
    }

    /// [`SlaClock::start`] with a limit counted in `unit` (an extension counts in the same
    /// unit; pauses move the deadline by the days they took, in that unit).
    pub fn start_in(
        received: DateTime<FixedOffset>,
        limit: u32,
        unit: DayUnit,
        warn_fraction: f64,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Result<Self> {
        if !(warn_fraction > 0.0 && warn_fraction <= 1.0) {
            return Err(Error::WarnFraction(warn_fraction));
        }
        let computed = Computed {
            calendar_version: String::new(),
            start_day: received.date_naive(),
            paused_days: 0,
            deadline: received,
            warn_at: received,
        };
        let mut clock = Self {
            received,
            limit,
            unit,
            warn_fraction,
            pauses: Vec::new(),
            extension: None,
            stopped: None,
            computed,
            history: Vec::new(),
        };
        clock.computed = clock.compute(calendar, office);
        Ok(clock)
    }

    /// The clock's state.
    pub fn status(&self) -> ClockStatus {
        if self.stopped.is_some() {
            ClockStatus::Stopped
        } else if self.open_pause().is_some() {
            ClockStatus::Paused
        } else if self.extension.is_some() {
            ClockStatus::Extended
        } else {
            ClockStatus::Running
        }
    }

    /// The deadline; `None` while paused.
    pub fn deadline(&self) -> Option<DateTime<FixedOffset>> {
        (self.status() != ClockStatus::Paused).then_some(self.computed.deadline)
    }

    /// When to warn; `None` while paused or once stopped.
    pub fn warn_at(&self) -> Option<DateTime<FixedOffset>> {
        matches!(self.status(), ClockStatus::Running | ClockStatus::Extended)
            .then_some(self.computed.warn_at)
    }

    /// The limit in force, in working days (the extended one if extended).
    pub fn limit(&self) -> u32 {
        self.extension.as_ref().map_or(self.limit, |e| e.limit)
    }

    /// How the limit's days are counted.
    pub fn unit(&self) -> DayUnit {
        self.unit
    }

    /// The limit the clock started with.
    pub fn original_limit(&self) -> u32 {
        self.limit
    }

    /// The receipt instant.
    pub fn received(&self) -> DateTime<FixedOffset> {
        self.received
    }

    /// The pauses, in order.
    pub fn pauses(&self) -> &[Pause] {
        &self.pauses
    }

    /// The extension, if any.
    pub fn extension(&self) -> Option<&Extension> {
        self.extension.as_ref()
    }

    /// When the clock stopped, if it did.
    pub fn stopped_at(&self) -> Option<DateTime<FixedOffset>> {
        self.stopped
    }

    /// What was computed, and with which calendar version.
    pub fn computed(&self) -> &Computed {
        &self.computed
    }

    /// Pauses the clock (supplement requested).
    pub fn pause(
        &mut self,
        at: DateTime<FixedOffset>,
        reason: impl Into<String>,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Result<()> {
        self.check("pause", at, &[ClockStatus::Running, ClockStatus::Extended])?;
        self.pauses.push(Pause {
            from: at,
            until: None,
            reason: reason.into(),
        });
        self.computed = self.compute(calendar, office);
        Ok(())
    }

    /// Resumes a paused clock (supplement received); the deadline moves by the working days
    /// spent paused.
    pub fn resume(
        &mut self,
        at: DateTime<FixedOffset>,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Result<()> {
        self.check("resume", at, &[ClockStatus::Paused])?;
        if let Some(pause) = self.pauses.last_mut() {
            pause.until = Some(at);
        }
        self.computed = self.compute(calendar, office);
        Ok(())
    }

    /// Extends a running clock to `limit` working days, on `legal_basis`.
    pub fn extend(
        &mut self,
        at: DateTime<FixedOffset>,
        limit: u32,
        legal_basis: impl Into<String>,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Result<()> {
        self.check("extend", at, &[ClockStatus::Running])?;
        if limit <= self.limit {
            return Err(Error::InvalidExtension {
                current: self.limit,
                requested: limit,
            });
        }
        self.extension = Some(Extension {
            at,
            limit,
            legal_basis: legal_basis.into(),
        });
        self.computed = self.compute(calendar, office);
        Ok(())
    }

    /// Stops the clock (done, refused or withdrawn); an open pause ends at `at`.
    pub fn stop(&mut self, at: DateTime<FixedOffset>) -> Result<()> {
        let open = [
            ClockStatus::Running,
            ClockStatus::Extended,
            ClockStatus::Paused,
        ];
        self.check("stop", at, &open)?;
        if let Some(pause) = self.pauses.last_mut().filter(|p| p.until.is_none()) {
            pause.until = Some(at);
        }
        self.stopped = Some(at);
        Ok(())
    }

    /// Recomputes an open clock's deadline from its inputs with `calendar` (for instance after
    /// a new notice added a day off). Returns the change when the deadline moved; stopped
    /// clocks keep what they had.
    pub fn recompute(
        &mut self,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Option<DeadlineChange> {
        if self.status() == ClockStatus::Stopped {
            return None;
        }
        let fresh = self.compute(calendar, office);
        let old = std::mem::replace(&mut self.computed, fresh);
        let new = &self.computed;
        let change = (old.deadline != new.deadline).then(|| DeadlineChange {
            old_deadline: old.deadline,
            new_deadline: new.deadline,
            reason: format!(
                "calendar changed from {} to {}: deadline recomputed from receipt {}, limit {} \
                 {}, {} {} paused",
                old.calendar_version,
                new.calendar_version,
                self.received,
                self.limit(),
                self.unit.label_en(),
                new.paused_days,
                self.unit.label_en()
            ),
            old_version: old.calendar_version,
            new_version: new.calendar_version.clone(),
        });
        if let Some(c) = &change {
            self.history.push(c.clone());
        }
        change
    }

    /// The deadline changes made by [`SlaClock::recompute`], oldest first.
    pub fn history(&self) -> &[DeadlineChange] {
        &self.history
    }

    /// Remaining time at `at`; frozen at the pause instant while paused and at the stop
    /// instant once stopped.
    pub fn remaining(
        &self,
        at: DateTime<FixedOffset>,
        calendar: &Calendar,
        office: &OfficeHours,
    ) -> Remaining {
        let at = match (self.stopped, self.open_pause()) {
            (Some(stopped), _) => stopped,
            (None, Some(pause)) => pause.from,
            (None, None) => at,
        };
        let deadline = self.computed.deadline;
        let (today, due_day) = (office.local(at).date(), office.local(deadline).date());
        Remaining {
            working_days: calendar.working_days_between(today, due_day),
            working_time: working_hours_between(at, deadline, calendar, office),
            overdue: at > deadline,
        }
    }

    fn open_pause(&self) -> Option<&Pause> {
        self.pauses.last().filter(|p| p.until.is_none())
    }

    /// Checks that `action` is allowed now and that `at` is not before the last event.
    fn check(
        &self,
        action: &'static str,
        at: DateTime<FixedOffset>,
        from: &[ClockStatus],
    ) -> Result<()> {
        let state = self.status();
        if !from.contains(&state) {
            return Err(Error::InvalidTransition { action, state });
        }
        let previous = self
            .pauses
            .iter()
            .flat_map(|p| [Some(p.from), p.until])
            .chain([self.extension.as_ref().map(|e| e.at)])
            .flatten()
            .fold(self.received, DateTime::max);
        if at < previous {
            return Err(Error::OutOfOrder { at, previous });
        }
        Ok(())
    }

    fn compute(&self, calendar: &Calendar, office: &OfficeHours) -> Computed {
        let start = start_day(self.received, calendar, office);
        let day_of = |t: DateTime<FixedOffset>| start_day(t, calendar, office);
        let paused: i64 = self
            .pauses
            .iter()
            .filter_map(|p| {
                p.until
                    .map(|until| calendar.days_between(day_of(p.from), day_of(until), self.unit))
            })
            .sum();
        let paused_days = u32::try_from(paused).unwrap_or(0);
        let limit = self.limit();
        let deadline = office.closing_on(calendar.add_days(
            start,
            limit.saturating_add(paused_days),
            self.unit,
        ));
        let nominal = office.closing_on(calendar.add_days(start, limit, self.unit));
        let clock_start = if office.local(self.received).date() == start {
            self.received
        } else {
            office.at(start, office.opening())
        };
        let allowed = working_hours_between(clock_start, nominal, calendar, office);
        let margin_ms = (allowed.num_milliseconds() as f64 * (1.0 - self.warn_fraction)).round();
        let margin = TimeDelta::try_milliseconds(margin_ms as i64).unwrap_or_default();
        Computed {
            calendar_version: calendar.version(),
            start_day: start,
            paused_days,
            deadline,
            warn_at: rewind_working_time(deadline, margin, calendar, office),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::calendar::holidays::Holiday;
    use crate::calendar::notice::{NoticeDayOff, OffKind, builtin_notices};
    use crate::calendar::test_support::VIETNAM;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    fn office() -> OfficeHours {
        OfficeHours::default()
    }

    /// Received Mon 2 Mar 2026 10:00, 2 working days, warn at 75 %.
    fn clock() -> SlaClock {
        SlaClock::start(
            at("2026-03-02T10:00:00+07:00"),
            2,
            0.75,
            &VIETNAM,
            &office(),
        )
        .unwrap()
    }

    #[test]
    fn running_clock() {
        let clock = clock();
        assert_eq!(clock.status(), ClockStatus::Running);
        assert_eq!(clock.deadline(), Some(at("2026-03-04T17:00:00+07:00")));
        // Allowed: Mon 10–17 (6 h) + Tue 8 h + Wed 8 h = 22 h; 25 % = 5 h 30 before Wed 17:00.
        assert_eq!(clock.warn_at(), Some(at("2026-03-04T10:30:00+07:00")));
        assert_eq!(clock.computed().calendar_version, VIETNAM.version());
        let left = clock.remaining(at("2026-03-03T12:00:00+07:00"), &VIETNAM, &office());
        assert_eq!(
            left,
            Remaining {
                working_days: 1,
                working_time: TimeDelta::hours(12),
                overdue: false
            }
        );
        let late = clock.remaining(at("2026-03-05T09:00:00+07:00"), &VIETNAM, &office());
        assert_eq!(
            (late.working_days, late.working_time, late.overdue),
            (-1, TimeDelta::hours(-1), true)
        );
    }

    #[test]
    fn pause_moves_the_deadline_by_the_working_days_paused() {
        let mut clock = clock();
        clock
            .pause(
                at("2026-03-02T11:00:00+07:00"),
                "supplement requested",
                &VIETNAM,
                &office(),
            )
            .unwrap();
        assert_eq!(clock.status(), ClockStatus::Paused);
        assert_eq!((clock.deadline(), clock.warn_at()), (None, None));
        let frozen = clock.remaining(at("2026-03-20T09:00:00+07:00"), &VIETNAM, &office());
        assert_eq!(frozen.working_time, TimeDelta::hours(21));
        // Resumed Thu 5 Mar 09:00: Mon–Thu is 3 working days, so Wed 4 → Mon 9 Mar.
        clock
            .resume(at("2026-03-05T09:00:00+07:00"), &VIETNAM, &office())
            .unwrap();
        assert_eq!(clock.status(), ClockStatus::Running);
        assert_eq!(clock.computed().paused_days, 3);
        assert_eq!(clock.deadline(), Some(at("2026-03-09T17:00:00+07:00")));
        // A pause within one working day moves nothing.
        clock
            .pause(
                at("2026-03-05T10:00:00+07:00"),
                "question",
                &VIETNAM,
                &office(),
            )
            .unwrap();
        clock
            .resume(at("2026-03-05T14:00:00+07:00"), &VIETNAM, &office())
            .unwrap();
        assert_eq!(clock.deadline(), Some(at("2026-03-09T17:00:00+07:00")));
        assert_eq!(clock.pauses().len(), 2);
    }

    #[test]
    fn extension_for_verification() {
        let mut clock = clock();
        clock
            .extend(
                at("2026-03-03T09:00:00+07:00"),
                5,
                "Decree 63/2024: verification",
                &VIETNAM,
                &office(),
            )
            .unwrap();
        assert_eq!(clock.status(), ClockStatus::Extended);
        assert_eq!((clock.limit(), clock.original_limit()), (5, 2));
        assert_eq!(clock.deadline(), Some(at("2026-03-09T17:00:00+07:00")));
        clock
            .pause(
                at("2026-03-04T09:00:00+07:00"),
                "supplement",
                &VIETNAM,
                &office(),
            )
            .unwrap();
        clock
            .resume(at("2026-03-05T09:00:00+07:00"), &VIETNAM, &office())
            .unwrap();
        assert_eq!(clock.status(), ClockStatus::Extended);
        assert_eq!(clock.deadline(), Some(at("2026-03-10T17:00:00+07:00")));
        clock.stop(at("2026-03-06T09:00:00+07:00")).unwrap();
        assert_eq!(clock.status(), ClockStatus::Stopped);
        assert_eq!(clock.warn_at(), None);
        assert_eq!(clock.deadline(), Some(at("2026-03-10T17:00:00+07:00")));
    }

    #[test]
    fn invalid_transitions() {
        let (cal, office) = (&*VIETNAM, office());
        let mut clock = clock();
        let t = at("2026-03-03T09:00:00+07:00");
        let error = clock.resume(t, cal, &office).unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidTransition {
                action: "resume",
                state: ClockStatus::Running
            }
        ));
        assert_eq!(
            error.to_string(),
            "cannot resume an SLA clock that is running"
        );
        assert!(matches!(
            clock.extend(t, 2, "x", cal, &office),
            Err(Error::InvalidExtension {
                current: 2,
                requested: 2
            })
        ));
        let before = at("2026-03-02T09:00:00+07:00");
        assert!(matches!(
            clock.pause(before, "x", cal, &office),
            Err(Error::OutOfOrder { .. })
        ));
        clock.pause(t, "x", cal, &office).unwrap();
        assert!(matches!(
            clock.pause(t, "x", cal, &office),
            Err(Error::InvalidTransition {
                action: "pause",
                ..
            })
        ));
        assert!(matches!(
            clock.extend(t, 5, "x", cal, &office),
            Err(Error::InvalidTransition {
                action: "extend",
                ..
            })
        ));
        // Stopping a paused clock (refused after the supplement window) closes the pause.
        clock.stop(at("2026-03-12T09:00:00+07:00")).unwrap();
        assert_eq!(
            clock.pauses()[0].until,
            Some(at("2026-03-12T09:00:00+07:00"))
        );
        assert!(matches!(
            clock.stop(t),
            Err(Error::InvalidTransition {
                action: "stop",
                state: ClockStatus::Stopped
            })
        ));
        assert!(matches!(
            SlaClock::start(t, 2, 0.0, cal, &office),
            Err(Error::WarnFraction(_))
        ));
        assert!(matches!(
            SlaClock::start(t, 2, f64::NAN, cal, &office),
            Err(Error::WarnFraction(_))
        ));
    }

    #[test]
    fn serde_round_trip() {
        let mut clock = clock();
        clock
            .pause(
                at("2026-03-02T11:00:00+07:00"),
                "supplement",
                &VIETNAM,
                &office(),
            )
            .unwrap();
        let json = serde_json::to_string(&clock).unwrap();
        assert!(json.contains(r#""calendar_version":"vn-r1/"#), "{json}");
        let back: SlaClock = serde_json::from_str(&json).unwrap();
        assert_eq!(back, clock);
        assert!(serde_json::from_str::<SlaClock>(&json.replace("\"limit\"", "\"limt\"")).is_err());
    }

    /// The 2026 notice plus an extra day off announced later (Fri 4 Sep 2026).
    fn calendar_with_extra_day() -> Calendar {
        let mut notices = builtin_notices();
        let notice = notices.iter_mut().find(|n| n.year == 2026).unwrap();
        notice.days_off.push(NoticeDayOff {
            date: chrono::NaiveDate::from_ymd_opt(2026, 9, 4).unwrap(),
            holiday: Holiday::Other,
            kind: OffKind::Holiday,
            name_vi: "Ngày nghỉ bổ sung".into(),
            name_en: "Additional day off".into(),
        });
        Calendar::with_notices(notices).unwrap()
    }

    #[test]
    fn recompute_after_a_new_notice() {
        let office = office();
        // Fri 28 Aug 10:00 + 2: 31 Aug – 2 Sep are off, so Thu 3 and Fri 4 Sep.
        let received = at("2026-08-28T10:00:00+07:00");
        let mut open = SlaClock::start(received, 2, 0.75, &VIETNAM, &office).unwrap();
        let mut done = open.clone();
        done.stop(at("2026-08-28T16:00:00+07:00")).unwrap();
        assert_eq!(open.deadline(), Some(at("2026-09-04T17:00:00+07:00")));
        assert_eq!(
            open.recompute(&VIETNAM, &office),
            None,
            "same calendar, no change"
        );

        let newer = calendar_with_extra_day();
        let change = open.recompute(&newer, &office).unwrap();
        assert_eq!(change.old_deadline, at("2026-09-04T17:00:00+07:00"));
        assert_eq!(change.new_deadline, at("2026-09-07T17:00:00+07:00"));
        assert_eq!(
            (change.old_version, change.new_version),
            (VIETNAM.version(), newer.version())
        );
        assert!(
            change.reason.contains("calendar changed"),
            "{}",
            change.reason
        );
        assert_eq!(open.deadline(), Some(at("2026-09-07T17:00:00+07:00")));
        assert_eq!(open.computed().calendar_version, newer.version());
        // The clock keeps the old value and the reason.
        assert_eq!(open.history().len(), 1);
        assert_eq!(
            open.history()[0].old_deadline,
            at("2026-09-04T17:00:00+07:00")
        );
        assert!(open.history()[0].reason.contains("calendar changed"));
        assert_eq!(
            done.recompute(&newer, &office),
            None,
            "stopped clocks are history"
        );
        // Deterministic: recomputing again from the same inputs changes nothing.
        assert_eq!(open.clone().recompute(&newer, &office), None);
    }

    #[test]
    fn calendar_days_end_on_the_nth_day_or_the_next_working_day() {
        let (cal, office) = (&*VIETNAM, office());
        let due = |received: &str, n: u32| {
            SlaClock::start_in(at(received), n, DayUnit::CalendarDays, 0.75, cal, &office)
                .unwrap()
                .deadline()
                .unwrap()
        };
        // Friday + 3 days is a Monday, a working day.
        assert_eq!(
            due("2026-03-06T10:00:00+07:00", 3),
            at("2026-03-09T17:00:00+07:00")
        );
        // Monday + 5 days is a Saturday: the next working day, Monday 9 March.
        assert_eq!(
            due("2026-03-02T10:00:00+07:00", 5),
            at("2026-03-09T17:00:00+07:00")
        );
        // Friday 13 February 2026 + 3 days falls in Tết (14–22 February): Monday 23rd.
        assert_eq!(
            due("2026-02-13T10:00:00+07:00", 3),
            at("2026-02-23T17:00:00+07:00")
        );
        // After the 15:00 cut-off the count starts from the next working day.
        assert_eq!(
            due("2026-03-06T15:30:00+07:00", 3),
            at("2026-03-12T17:00:00+07:00")
        );
        // The same limit in working days ends later whenever a weekend is crossed.
        let working = SlaClock::start(at("2026-03-06T10:00:00+07:00"), 3, 0.75, cal, &office)
            .unwrap()
            .deadline();
        assert_eq!(working, Some(at("2026-03-11T17:00:00+07:00")));
    }

    #[test]
    fn a_calendar_day_clock_pauses_by_calendar_days() {
        let (cal, office) = (&*VIETNAM, office());
        let mut clock = SlaClock::start_in(
            at("2026-03-02T10:00:00+07:00"),
            10,
            DayUnit::CalendarDays,
            0.75,
            cal,
            &office,
        )
        .unwrap();
        assert_eq!(clock.deadline(), Some(at("2026-03-12T17:00:00+07:00")));
        clock
            .pause(at("2026-03-03T10:00:00+07:00"), "supplement", cal, &office)
            .unwrap();
        // Paused from Tuesday to Friday: three days.
        clock
            .resume(at("2026-03-06T10:00:00+07:00"), cal, &office)
            .unwrap();
        assert_eq!(clock.computed().paused_days, 3);
        // 12 March + 3 days is Sunday 15th: Monday 16th.
        assert_eq!(clock.deadline(), Some(at("2026-03-16T17:00:00+07:00")));
        assert_eq!(clock.unit(), DayUnit::CalendarDays);
        // Stored and read back, the unit stays.
        let json = serde_json::to_string(&clock).unwrap();
        assert!(json.contains("calendar_days"));
        let back: SlaClock = serde_json::from_str(&json).unwrap();
        assert_eq!(back, clock);
    }

    proptest! {
        #[test]
        fn pausing_k_working_days_moves_the_deadline_by_k(
            received_offset in 0i64..86_400 * 365 * 8,
            limit in 0u32..8,
            pause_after in 0u32..6,
            k in 0u32..15,
        ) {
            let (cal, office) = (&*VIETNAM, office());
            let received = at("2019-01-01T00:00:00+07:00") + TimeDelta::seconds(received_offset);
            let mut clock = SlaClock::start(received, limit, 0.75, cal, &office).unwrap();
            let before = office.local(clock.deadline().unwrap()).date();
            // Pause at 10:00 on a working day on or after the start day, resume k working days
            // later at 10:00.
            let pause_day = cal.add_working_days(clock.computed().start_day, pause_after);
            let ten = chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap();
            let pause_at = office.at(pause_day, ten).max(received);
            clock.pause(pause_at, "supplement", cal, &office).unwrap();
            let resume_day = cal.add_working_days(start_day(pause_at, cal, &office), k);
            clock.resume(office.at(resume_day, ten).max(pause_at), cal, &office).unwrap();
            let after = office.local(clock.deadline().unwrap()).date();
            prop_assert_eq!(after, cal.add_working_days(before, k));
            prop_assert_eq!(cal.working_days_between(before, after), i64::from(k));
            prop_assert!(clock.warn_at().unwrap() <= clock.deadline().unwrap());
        }
    }
}

//! Windows for the citizen in person (a step's `window:`): the step waits for the citizen
//! to appear — to sign the register, to collect a certificate — for at most its window,
//! and is refused with the window's reason when it closes first (e.g. a signed marriage
//! certificate not collected within 60 days is cancelled, Decree 123/2015).
//!
//! The window opens when the step starts and counts from that day (the day itself is not
//! counted); it closes at the end of office hours on its last day, moved to the next
//! working day when that one is off. An officer who records the appearance completes the
//! step as usual, and the closing timer then finds nothing to do.

use super::effect::Effect;
use super::event::TimerKind;
use super::flow;
use super::state::Dossier;
use super::transition::Move;
use super::{Cx, Result};
use crate::definition::Step;

/// Sets the closing timer of a window step that has just started.
pub(super) fn arm(cx: &mut Cx<'_>, step: &Step) -> Result<()> {
    let Some(w) = &step.window else {
        return Ok(());
    };
    let today = cx.office.local(cx.now()?).date();
    let last = cx.env.calendar.add_days(today, w.days, w.unit);
    cx.emit(Effect::SetTimer {
        id: flow::timer(TimerKind::WindowExpiry, &step.id),
        at: cx.office.closing_on(last).timestamp_millis(),
    });
    Ok(())
}

/// The window closed with the step still waiting: the step is refused with the window's
/// reason, and its procedure ends with it (never a sibling procedure).
pub(super) fn on_closed(cx: &mut Cx<'_>, d: &mut Dossier, step: &str) -> Result<()> {
    let Some(w) = cx.env.procedure.step(step).and_then(|s| s.window.as_ref()) else {
        return Ok(());
    };
    let reason = w.reason.vi.clone();
    flow::refuse(cx, d, step, &reason, Move::WindowClose)?;
    flow::advance(cx, d)
}

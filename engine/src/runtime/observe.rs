//! What a node tells the outside while it works: one span per piece of work on a dossier
//! (through a [`SpanHook`] the server fills to join them into one trace per dossier), and
//! metrics through the `metrics` facade (whatever recorder the process installed):
//!
//! - `lienthong_transitions_total{event}`: committed transitions by event;
//! - `lienthong_dossiers_submitted_total{procedure}`;
//! - `lienthong_sla_warnings_total{step}`, `lienthong_sla_breaches_total{step}` (a group
//!   breach counts under `step="(group)"`);
//! - `lienthong_adapter_errors_total{agency, kind}` (`retryable` or `permanent`), and
//!   `lienthong_adapter_retries_total{agency}` (calls made again after a failure);
//! - `lienthong_step_duration_seconds{agency}`: from a step's start to its end;
//! - `lienthong_store_write_seconds{op}`: how long each write transaction held the database's
//!   writer (`group`, `commit`, `commit_each`, `create`, `create_many`, `claim_timers`, `claim_outbox`,
//!   `finish_outbox_many`; recorded by the store, see `store::Held`).
//!
//! Nothing personal is ever a label: steps, agencies, procedures and event kinds only.

use crate::machine::{DossierId, Effect, Event, TimerKind, Transition};
use std::sync::Arc;

type Hook = dyn Fn(&DossierId, &'static str) -> tracing::Span + Send + Sync;

/// Makes the span of one piece of work on a dossier (`name`: `submitted`, `transition`,
/// `adapter_call`). The default is a plain `tracing` span; the server's joins every span of
/// a dossier into one trace, whichever node and whenever it runs.
#[derive(Clone, Default)]
pub struct SpanHook(Option<Arc<Hook>>);

impl std::fmt::Debug for SpanHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "SpanHook(custom)"
        } else {
            "SpanHook(default)"
        })
    }
}

impl SpanHook {
    pub fn new(
        f: impl Fn(&DossierId, &'static str) -> tracing::Span + Send + Sync + 'static,
    ) -> Self {
        SpanHook(Some(Arc::new(f)))
    }

    pub fn span(&self, dossier: &DossierId, name: &'static str) -> tracing::Span {
        match &self.0 {
            Some(f) => f(dossier, name),
            None => tracing::info_span!("dossier", op = name, dossier = %dossier),
        }
    }
}

/// Counts a committed transition.
pub(crate) fn record(t: &Transition) {
    let event = &t.journal.event;
    metrics::counter!("lienthong_transitions_total", "event" => event.name()).increment(1);
    let agency_of = |step: &str| {
        t.state
            .steps
            .get(step)
            .map(|s| s.agency.to_string())
            .unwrap_or_default()
    };
    match event {
        Event::Submitted { procedure, .. } => {
            metrics::counter!("lienthong_dossiers_submitted_total", "procedure" => procedure.id.clone())
                .increment(1);
        }
        Event::TimerFired { kind, step } => {
            let step = step.as_deref().unwrap_or("(group)").to_string();
            match kind {
                TimerKind::Warning => {
                    metrics::counter!("lienthong_sla_warnings_total", "step" => step).increment(1)
                }
                TimerKind::Breach | TimerKind::GroupBreach => {
                    metrics::counter!("lienthong_sla_breaches_total", "step" => step).increment(1)
                }
                _ => {}
            }
        }
        Event::AdapterFailed {
            step, retryable, ..
        } => {
            let kind = if *retryable { "retryable" } else { "permanent" };
            metrics::counter!("lienthong_adapter_errors_total", "agency" => agency_of(step.as_str()), "kind" => kind)
                .increment(1);
        }
        Event::StepCompleted { step, .. } | Event::StepRejected { step, .. } => {
            if let Some(s) = t.state.steps.get(step)
                && let (Some(a), Some(b)) = (s.started_at, s.finished_at)
            {
                metrics::histogram!("lienthong_step_duration_seconds", "agency" => s.agency.to_string())
                    .record((b - a).max(0) as f64 / 1_000.0);
            }
        }
        _ => {}
    }
    for e in &t.effects {
        if let Effect::CallAdapter {
            agency, attempt, ..
        } = e
            && *attempt > 1
        {
            metrics::counter!("lienthong_adapter_retries_total", "agency" => agency.to_string())
                .increment(1);
        }
    }
}

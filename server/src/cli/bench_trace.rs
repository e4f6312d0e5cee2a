//! `lienthong bench --trace`: where one dossier's time goes. A tracing layer records when
//! each of the engine's spans of a dossier (`submitted`, `adapter_call`, `transition`)
//! opens and closes; the latency phase then reports, step by step along the dossier's path,
//! the median instant each span opened (from the submission) and how long it lasted. The
//! gap between one span's close and the next one's open is waiting: hand-overs, claims,
//! wake-ups.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tracing::Subscriber;
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// One span of a dossier: its name, when it opened and closed.
#[derive(Debug, Clone)]
struct Mark {
    op: String,
    open: Instant,
    close: Option<Instant>,
}

/// The spans recorded since the last [`Trace::take`], in the order they opened.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace(Arc<Mutex<Vec<Mark>>>);

#[derive(Default)]
struct OpVisitor(Option<String>);

impl tracing::field::Visit for OpVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "op" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_string());
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "op" {
            self.0 = Some(value.to_string());
        }
    }
}

/// Index of the span's mark in the trace.
struct Slot(usize);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Trace {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut v = OpVisitor::default();
        attrs.record(&mut v);
        let Some(op) = v.0 else { return };
        let Ok(mut marks) = self.0.lock() else { return };
        marks.push(Mark {
            op,
            open: Instant::now(),
            close: None,
        });
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            ext.insert(Slot(marks.len() - 1));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let now = Instant::now();
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(Slot(i)) = ext.get::<Slot>() else {
            return;
        };
        if let Ok(mut marks) = self.0.lock()
            && let Some(m) = marks.get_mut(*i)
        {
            m.close = Some(now);
        }
    }
}

impl Trace {
    /// Forgets what was recorded (before a dossier is submitted).
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }

    /// The recorded spans as `(op, opened ms, lasted ms)` from `start`.
    pub(crate) fn take(&self, start: Instant) -> Path {
        let marks = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        marks
            .into_iter()
            .map(|m| {
                let open = m.open.saturating_duration_since(start).as_secs_f64() * 1e3;
                let lasted = m
                    .close
                    .map_or(0.0, |c| c.duration_since(m.open).as_secs_f64() * 1e3);
                (m.op, open, lasted)
            })
            .collect()
    }
}

/// One dossier's spans: `(span, opened ms, lasted ms)`.
pub(crate) type Path = Vec<(String, f64, f64)>;

/// Per position along the path (the n-th span of a dossier), the median opening instant and
/// duration over the dossiers whose paths have the same shape.
pub(crate) fn breakdown(paths: &[Path]) -> serde_json::Value {
    let mut shapes: HashMap<Vec<&str>, Vec<&Path>> = HashMap::new();
    for p in paths {
        shapes
            .entry(p.iter().map(|(op, ..)| op.as_str()).collect())
            .or_default()
            .push(p);
    }
    let Some((shape, members)) = shapes.into_iter().max_by_key(|(_, m)| m.len()) else {
        return serde_json::Value::Null;
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (super::bench::percentile(&v, 50.0) * 1000.0).round() / 1000.0
    };
    let steps: Vec<_> = shape
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let opened = median(members.iter().map(|p| p[i].1).collect());
            let lasted = median(members.iter().map(|p| p[i].2).collect());
            serde_json::json!({"span": op, "opened_ms": opened, "lasted_ms": lasted})
        })
        .collect();
    serde_json::json!({"dossiers": members.len(), "path": steps})
}

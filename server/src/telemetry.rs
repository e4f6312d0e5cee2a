//! Logs, traces and metrics of a server process.
//!
//! - Logs: JSON lines on standard output, every line masked (`mask.rs`) before it is written.
//! - Traces: OpenTelemetry through tracing-opentelemetry, exported by OTLP/HTTP when an
//!   endpoint is configured. Every span about a dossier hangs under one trace whose id is
//!   derived from the dossier id (`dossier_spans`), so a dossier is one trace across its
//!   steps, the nodes that carried them and the restarts in between — no stored context.
//! - Metrics: the `metrics` facade recorded by a Prometheus recorder, rendered at `/metrics`.

use lienthong_engine::machine::DossierId;
use lienthong_engine::runtime::SpanHook;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The trace id of a dossier's trace and the span id of its (virtual) root span.
pub fn dossier_ids(dossier: &DossierId) -> (TraceId, SpanId) {
    let h = Sha256::digest(format!("lienthong-trace:{}", dossier.0).as_bytes());
    let mut t = [0u8; 16];
    let mut s = [0u8; 8];
    t.copy_from_slice(&h[..16]);
    s.copy_from_slice(&h[16..24]);
    (TraceId::from_bytes(t), SpanId::from_bytes(s))
}

/// Spans about a dossier, each a child of the dossier's root: one trace per dossier.
pub fn dossier_spans() -> SpanHook {
    SpanHook::new(|dossier, op| {
        let span = tracing::info_span!("dossier", otel.name = op, dossier = %dossier);
        let (trace, root) = dossier_ids(dossier);
        let parent = SpanContext::new(
            trace,
            root,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let cx = opentelemetry::Context::new().with_remote_span_context(parent);
        let _ = span.set_parent(cx);
        span
    })
}

/// A writer that masks each complete line before passing it on.
#[derive(Clone)]
pub struct Masking {
    sink: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Masking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Masking")
    }
}

impl Masking {
    pub fn new(sink: impl Write + Send + 'static) -> Self {
        Masking {
            sink: Arc::new(Mutex::new(Box::new(sink))),
        }
    }
}

/// One event's line, masked and written when dropped.
#[derive(Debug)]
pub struct MaskedLine {
    buf: Vec<u8>,
    to: Masking,
}

impl Write for MaskedLine {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for MaskedLine {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = crate::mask::text(&String::from_utf8_lossy(&self.buf));
        if let Ok(mut sink) = self.to.sink.lock() {
            let _ = sink.write_all(text.as_bytes());
            let _ = sink.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for Masking {
    type Writer = MaskedLine;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedLine {
            buf: Vec::new(),
            to: self.clone(),
        }
    }
}

/// Keeps the trace exporter alive; flushes it on drop.
#[derive(Debug)]
pub struct Guard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

/// Installs the process's subscriber: masked JSON logs (filter from `RUST_LOG`, else
/// `filter`) and, with an OTLP endpoint, trace export.
pub fn init(filter: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<Guard> {
    let env = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))?;
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_writer(Masking::new(std::io::stdout()));
    let provider = match otlp_endpoint {
        Some(url) => {
            use opentelemetry_otlp::WithExportConfig as _;
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(url)
                .build()?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .build(),
            )
        }
        None => None,
    };
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("lienthong")));
    tracing_subscriber::registry()
        .with(env)
        .with(logs)
        .with(otel)
        .try_init()?;
    Ok(Guard { provider })
}

/// Installs the Prometheus recorder (once per process) and returns its handle.
pub fn metrics() -> anyhow::Result<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let h = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    Ok(HANDLE.get_or_init(|| h).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trace_per_dossier() {
        let a = DossierId("node-1-1-0".into());
        let b = DossierId("node-1-1-1".into());
        assert_eq!(dossier_ids(&a), dossier_ids(&a));
        assert_ne!(dossier_ids(&a).0, dossier_ids(&b).0);
    }

    #[test]
    fn log_lines_are_masked() {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let w = Masking::new(buf.clone());
        {
            let mut line = w.make_writer();
            let _ = line.write_all(b"{\"msg\":\"id 001204012345\",\"full_name\":\"Lan\"}\n");
        }
        let out = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(
            out,
            "{\"msg\":\"id 001******345\",\"full_name\":\"L***\"}\n"
        );
    }
}

//! The tokio driver: submissions and events are applied through the pure machine and stored
//! in one transaction; due timers and outbox rows are claimed under leases and carried out
//! after commit; adapter answers come back as events. Nothing holds a transaction across a
//! network call.

mod admin;
mod callbacks;
mod commit;
mod directory;
mod dispatch;
mod file;
mod fire;
mod observe;
mod report;
mod schedule;
mod tasks;
mod worker;

pub use crate::report::rollup::midnight;
/// The records the use cases take and return, and the store bound a runtime is built on:
/// callers name them from here, and reach the store only through the runtime.
pub use crate::store::{
    ApiKey, AuditEntry, AuditRow, Error as StoreError, GENESIS, JournalLink, Origin, Scope, Store,
    Task, User, VersionRow, journal_hash, status_name,
};
pub use admin::{NoticeError, calendar_with};
pub use callbacks::{Awaited, CallbackError};
pub use observe::SpanHook;
pub use report::RolledUp;
pub use schedule::{BUILTIN_ZONE, BUILTINS, ScheduleSpec, job_name};
pub use tasks::{TaskError, TaskQuery, TaskStatus, VerificationPreview};
pub use worker::Stats;

use crate::adapter::Adapter;
use crate::calendar::Calendar;
use crate::clock::{Clock, Millis};
use crate::definition::Procedure;
use crate::machine::{
    self, Dossier, DossierId, Effect, Env, Event, Options, ProcedureRef, Transition,
};
use crate::store::{self, Consumed, Created, Published};
use chrono::DateTime;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Machine(#[from] machine::Error),
    #[error("no published procedure `{0}` is in force on {1}")]
    NoProcedure(String, String),
    #[error("dossier {0} does not exist")]
    NoDossier(DossierId),
    #[error("the dossier kept changing under this event; try again")]
    Busy,
    /// The step is not in incident (nothing to retry or skip).
    #[error("step `{step}` of dossier {dossier} is not in incident")]
    NoIncident { dossier: DossierId, step: String },
    /// A refused agency-task operation (see `tasks`).
    #[error(transparent)]
    Task(#[from] TaskError),
    /// A refused agency callback (see `callbacks`).
    #[error(transparent)]
    Callback(#[from] CallbackError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Delivers notifications (the notification adapter stands behind this).
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// Sends one notification; an error leaves it in the outbox for a later attempt.
    fn send(&self, dossier: &DossierId, effect: &Effect) -> std::result::Result<(), String>;
}

/// A notifier that keeps what it was given (tests and the demo's report).
#[derive(Debug, Default)]
pub struct RecordingNotifier(pub Mutex<Vec<(DossierId, Effect)>>);

impl Notifier for RecordingNotifier {
    fn send(&self, dossier: &DossierId, effect: &Effect) -> std::result::Result<(), String> {
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .push((dossier.clone(), effect.clone()));
        Ok(())
    }
}

/// How a node runs, with documented defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// This node's name, recorded with every commit and claim.
    pub node: String,
    /// How long a claim is held before another node may take it over (default 5 s).
    pub lease_ms: Millis,
    /// Work items claimed per pass (default 256).
    pub batch: i64,
    /// Due timers claimed and fired together, in one read and one group commit (default
    /// 1,024).
    pub timer_batch: i64,
    /// Longest wait for one adapter call (default 10 s).
    pub adapter_timeout: Duration,
    /// The receiving agency's code, first part of dossier codes.
    pub agency_code: String,
    /// Claimed items carried out at once (adapter calls in flight; default 64).
    pub concurrency: usize,
    /// Idle nodes poll this often when no wake-up arrives (default 1 s): the fallback when
    /// a notification is lost.
    pub poll: Duration,
    /// On shutdown, how long in-flight work may take to finish before it is abandoned to
    /// its leases (default 8 s, inside the 10-s drain budget).
    pub drain_grace: Duration,
    /// How long an officer's claim on a human task lasts (default 30 min).
    pub claim_lease_ms: Millis,
    pub options: Options,
    /// Makes the span of each piece of work on a dossier (see [`SpanHook`]).
    pub spans: SpanHook,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node: "node-1".into(),
            lease_ms: 5_000,
            batch: 256,
            timer_batch: 1_024,
            adapter_timeout: Duration::from_secs(10),
            agency_code: "G22.99.08".into(),
            concurrency: 64,
            poll: Duration::from_secs(1),
            drain_grace: Duration::from_secs(8),
            claim_lease_ms: 30 * 60_000,
            options: Options::default(),
            spans: SpanHook::default(),
        }
    }
}

/// A submission from the portal.
#[derive(Debug, Clone)]
pub struct Submission {
    pub procedure: String,
    pub bundle: Option<String>,
    pub form: Value,
    /// The portal's idempotency key: the same key twice gives one dossier.
    pub key: Option<String>,
    /// Who filed it and where (province, commune).
    pub origin: store::Origin,
    /// How it reached the administration.
    pub channel: machine::Channel,
}

/// What filing committed.
#[derive(Debug, Clone)]
pub enum Filed {
    /// A new dossier, as stored.
    New(Box<Dossier>),
    /// The idempotency key filed this dossier before; nothing was written.
    Existing(DossierId),
}

/// One engine node.
#[derive(Debug)]
pub struct Runtime<S: Store> {
    pub(crate) store: S,
    /// The working-day calendar; replaced whole when an administrator uploads a notice.
    calendar: std::sync::RwLock<Arc<Calendar>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) adapters: HashMap<String, Arc<dyn Adapter>>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) config: Config,
    procedures: Mutex<HashMap<String, Arc<Procedure>>>,
    sequence: AtomicU64,
    /// Woken when this process (or, through the store, another node) commits new work.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// Set on shutdown: claimed work not yet started is handed back.
    pub(crate) draining: AtomicBool,
    /// The group committer's queue (started on first use).
    pub(crate) committer: std::sync::OnceLock<commit::Queue>,
    /// Same-turn dispatch: the rows this node's commits claimed for it (`dispatch.rs`).
    pub(crate) dispatch: dispatch::Dispatch,
    /// The group filer's queue (started on first use).
    pub(crate) filer: std::sync::OnceLock<file::Queue>,
}

/// Conflicting commits are retried this many times (each time on a fresh load).
const RETRIES: usize = 8;

impl<S: Store> Runtime<S> {
    pub fn new(
        store: S,
        calendar: Arc<Calendar>,
        clock: Arc<dyn Clock>,
        adapters: Vec<Arc<dyn Adapter>>,
        notifier: Arc<dyn Notifier>,
        config: Config,
    ) -> Self {
        let adapters = adapters
            .into_iter()
            .map(|a| (a.agency().to_string(), a))
            .collect();
        Runtime {
            store,
            calendar: std::sync::RwLock::new(calendar),
            clock,
            adapters,
            notifier,
            config,
            procedures: Mutex::new(HashMap::new()),
            sequence: AtomicU64::new(0),
            wake: Arc::new(tokio::sync::Notify::new()),
            draining: AtomicBool::new(false),
            committer: std::sync::OnceLock::new(),
            dispatch: dispatch::Dispatch::default(),
            filer: std::sync::OnceLock::new(),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Publishes a definition (idempotent by content hash).
    pub async fn publish(&self, p: &Procedure) -> Result<Published> {
        Ok(self.store.publish(p, self.now()).await?)
    }

    /// The definition a dossier runs on, by content hash (cached: versions never change).
    pub async fn procedure(&self, hash: &str) -> Result<Arc<Procedure>> {
        if let Some(p) = self
            .procedures
            .lock()
            .ok()
            .and_then(|m| m.get(hash).cloned())
        {
            return Ok(p);
        }
        let p = Arc::new(
            self.store
                .procedure_by_hash(hash)
                .await?
                .ok_or_else(|| Error::NoProcedure(hash.to_string(), "any day".into()))?,
        );
        if let Ok(mut m) = self.procedures.lock() {
            m.insert(hash.to_string(), p.clone());
        }
        Ok(p)
    }

    /// The calendar in force on this node.
    pub fn calendar(&self) -> Arc<Calendar> {
        match self.calendar.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the calendar (new deadlines use it; running clocks keep theirs).
    pub fn set_calendar(&self, calendar: Arc<Calendar>) {
        match self.calendar.write() {
            Ok(mut c) => *c = calendar,
            Err(poisoned) => *poisoned.into_inner() = calendar,
        }
    }

    fn env<'a>(&'a self, p: &'a Procedure, calendar: &'a Calendar, now: Millis) -> Env<'a> {
        Env {
            procedure: p,
            calendar,
            options: &self.config.options,
            now,
        }
    }

    /// Files a dossier on the version in force today; the same key gives the same dossier.
    pub async fn submit(&self, sub: Submission) -> Result<(DossierId, bool)> {
        Ok(match self.file(sub).await? {
            Filed::New(d) => (d.id, true),
            Filed::Existing(id) => (id, false),
        })
    }

    /// Files a dossier and returns what was committed: the new dossier, or — for a key
    /// used before — the id of the dossier that key filed.
    pub async fn file(&self, sub: Submission) -> Result<Filed> {
        use tracing::Instrument as _;
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        let id = DossierId(format!("{}-{:x}-{seq}", self.config.node, self.now()));
        let span = self.config.spans.span(&id, "submitted");
        self.submit_as(id, sub).instrument(span).await
    }

    async fn submit_as(&self, id: DossierId, sub: Submission) -> Result<Filed> {
        let now = self.now();
        let local = DateTime::from_timestamp_millis(now)
            .map(|t| {
                t.with_timezone(&crate::calendar::VIETNAM_OFFSET)
                    .date_naive()
            })
            .ok_or(machine::Error::Time(now))?;
        let published = self
            .store
            .published_for(&sub.procedure, local)
            .await?
            .ok_or_else(|| Error::NoProcedure(sub.procedure.clone(), local.to_string()))?;
        // The definition from this node's cache: versions never change.
        let p = self.procedure(&published.hash).await?;
        let procedure = ProcedureRef {
            id: p.id.clone(),
            version: p.version,
            hash: published.hash.clone(),
        };
        let calendar = self.calendar();
        let options = self.config.options.clone();
        let Submission {
            form,
            bundle,
            channel,
            key,
            origin,
            ..
        } = sub;
        let dossier = id.clone();
        let build = move |code: String| {
            let env = Env {
                procedure: &p,
                calendar: &calendar,
                options: &options,
                now,
            };
            machine::apply(
                env,
                None,
                &Event::Submitted {
                    channel: Some(channel),
                    id: dossier.clone(),
                    code,
                    procedure: procedure.clone(),
                    bundle: bundle.clone(),
                    form: form.clone(),
                    journal: machine::JOURNAL_FORMAT,
                },
            )
        };
        let created = self
            .file_grouped(file::ToFile {
                id,
                key,
                agency_code: self.config.agency_code.clone(),
                day: local,
                procedure_hash: published.hash,
                origin,
                dispatch: self.dispatch_until(),
                build: Box::new(build),
            })
            .await??;
        Ok(match created {
            Created::New(t, dispatched) => {
                self.committed(&t, dispatched);
                Filed::New(Box::new(t.state.clone()))
            }
            Created::Existing(id) => Filed::Existing(id),
        })
    }

    /// Applies one event to a dossier, retrying on concurrent changes. `consumed` is the claim
    /// the event settles (an outbox row or a timer), which must still be this node's.
    pub async fn handle(
        &self,
        id: &DossierId,
        event: &Event,
        consumed: Option<&Consumed>,
    ) -> Result<Transition> {
        self.apply_with(id, consumed, |_, _, _| Ok(Some(event.clone())))
            .await?
            .ok_or(Error::Busy)
    }

    /// The one retry loop behind every change to a dossier: load it, let `decide` choose the
    /// event from that version (or nothing), apply it and commit it (grouped) at that
    /// version; on a concurrent change, start again from a fresh load.
    pub(crate) async fn apply_with(
        &self,
        id: &DossierId,
        consumed: Option<&Consumed>,
        decide: impl Fn(&Dossier, &Procedure, Millis) -> Result<Option<Event>> + Send + Sync,
    ) -> Result<Option<Transition>> {
        use tracing::Instrument as _;
        let span = self.config.spans.span(id, "transition");
        self.apply_loop(id, consumed, decide).instrument(span).await
    }

    async fn apply_loop(
        &self,
        id: &DossierId,
        consumed: Option<&Consumed>,
        decide: impl Fn(&Dossier, &Procedure, Millis) -> Result<Option<Event>> + Send + Sync,
    ) -> Result<Option<Transition>> {
        for _ in 0..RETRIES {
            let (d, head): (Dossier, String) = self
                .store
                .load_head(id)
                .await?
                .ok_or_else(|| Error::NoDossier(id.clone()))?;
            let p = self.procedure(&d.procedure.hash).await?;
            let now = self.now();
            let Some(event) = decide(&d, &p, now)? else {
                return Ok(None);
            };
            let calendar = self.calendar();
            let t = Arc::new(machine::apply(
                self.env(&p, &calendar, now),
                Some(&d),
                &event,
            )?);
            match self
                .commit_grouped(d.version, t.clone(), consumed, Some(head))
                .await
            {
                Ok(dispatched) => {
                    self.committed(&t, dispatched);
                    return Ok(Some(
                        Arc::try_unwrap(t).unwrap_or_else(|shared| (*shared).clone()),
                    ));
                }
                Err(store::Error::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    /// What follows every stored transition on this node: metrics, the hand-over of the
    /// work it claimed for this node, and wake-ups.
    fn committed(&self, t: &Transition, dispatched: store::Dispatched) {
        observe::record(t);
        let handed = !dispatched.is_empty();
        self.hand_over(dispatched);
        self.note_work(t, handed);
    }

    pub async fn load(&self, id: &DossierId) -> Result<Option<Dossier>> {
        Ok(self.store.load(id).await?)
    }
}

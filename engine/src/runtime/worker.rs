//! One pass of a node's work: fire due timers, carry out the outbox.

use super::{Error, Result, Runtime};
use crate::adapter::{self, Request, Response};
use crate::definition::StepId;
use crate::machine::{self, Actor, Effect, Event};
use crate::store::{self, ClaimedEffect, ClaimedTimer, Consumed, Store};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub timers: usize,
    pub calls: usize,
    pub notifications: usize,
    /// Claims lost to another node or events the dossier no longer wanted.
    pub dropped: usize,
}

impl Stats {
    pub fn total(&self) -> usize {
        self.timers + self.calls + self.notifications + self.dropped
    }
}

/// The event of `agency`'s synchronous answer on `step`.
fn to_event(agency: &str, step: &str, answer: adapter::Result<Response>) -> Event {
    let step = StepId::from(step);
    let by = Some(Actor::System(agency.into()));
    match answer {
        Ok(Response::Completed { outputs }) => Event::StepCompleted { step, outputs, by },
        Ok(Response::Accepted) => Event::StepAccepted { step },
        Ok(Response::Rejected { reason }) => Event::StepRejected { step, reason, by },
        Ok(Response::SupplementRequested { reason }) => {
            Event::SupplementRequested { step, reason, by }
        }
        Err(e) => Event::AdapterFailed {
            step,
            retryable: e.is_retryable(),
            message: e.to_string(),
        },
    }
}

impl<S: Store> Runtime<S> {
    /// Applies an event that settles a claim; a refused event or a lost claim drops the work
    /// (the dossier moved on, or another node holds it now).
    async fn settle(
        &self,
        claim: &Consumed,
        dossier: &machine::DossierId,
        event: &Event,
    ) -> Result<bool> {
        match self.handle(dossier, event, Some(claim)).await {
            Ok(_) => Ok(true),
            Err(Error::Store(store::Error::LeaseLost(_))) => Ok(false),
            Err(Error::Machine(_)) => {
                // The event no longer applies (a duplicate answer, a stale timer): remove the
                // claimed work so it is not retried, if it is still ours.
                match claim {
                    Consumed::Outbox { id, epoch } => self.store.finish_outbox(*id, *epoch).await?,
                    Consumed::Timer { .. } => false,
                };
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Fires one claimed timer: true if its event was committed, false if the claim was lost
    /// or the dossier no longer wanted it.
    pub async fn fire(&self, t: &ClaimedTimer) -> Result<bool> {
        let claim = Consumed::Timer {
            kind: t.kind,
            step: t.step.clone(),
            epoch: t.epoch,
        };
        let event = Event::TimerFired {
            kind: t.kind,
            step: t.step.clone().map(StepId::from),
        };
        let fired = self.settle(&claim, &t.dossier, &event).await?;
        if !fired {
            self.store.finish_timer(t).await?;
        }
        Ok(fired)
    }

    async fn call(&self, c: &ClaimedEffect) -> Result<bool> {
        let Effect::CallAdapter {
            step,
            agency,
            action,
            idempotency_key,
            request,
            attempt,
        } = &c.effect
        else {
            return Ok(false);
        };
        // The request already carries the dossier code (see `machine::request_for`): no
        // second read of the dossier on this path.
        let code = request["dossier"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let req = Request {
            dossier_code: code,
            step: step.clone(),
            agency: agency.clone(),
            action: action.clone(),
            idempotency_key: idempotency_key.clone(),
            payload: request.clone(),
            attempt: *attempt,
        };
        let answer = match self.adapters.get(agency.as_str()) {
            None => Err(adapter::Error::Permanent {
                message: format!("no adapter is configured for agency `{agency}`"),
            }),
            Some(a) => {
                use tracing::Instrument as _;
                let span = self.config.spans.span(&c.dossier, "adapter_call");
                // The agency's answer is awaited in a child span of the call's span.
                let request = tracing::info_span!(
                    parent: &span,
                    "agency_request",
                    agency = %agency,
                    action = %action,
                    attempt = *attempt
                );
                let call = tokio::time::timeout(
                    self.config.adapter_timeout,
                    a.call(&req).instrument(request),
                );
                match call.instrument(span).await {
                    Ok(answer) => answer,
                    Err(_) => Err(adapter::Error::Retryable {
                        message: format!("no answer within {:?}", self.config.adapter_timeout),
                        retry_after: None,
                    }),
                }
            }
        };
        let claim = Consumed::Outbox {
            id: c.id,
            epoch: c.epoch,
        };
        self.settle(&claim, &c.dossier, &to_event(agency, step, answer))
            .await
    }

    async fn notify(&self, c: &ClaimedEffect) -> Result<bool> {
        match self.notifier.send(&c.dossier, &c.effect) {
            Ok(()) => Ok(self.store.finish_outbox(c.id, c.epoch).await?),
            Err(_) => {
                // A failed notification never blocks the dossier: it waits and is retried.
                let later = self.now() + self.config.lease_ms;
                self.store.release_outbox(c.id, c.epoch, later).await?;
                Ok(false)
            }
        }
    }

    /// Sends claimed notifications and removes the sent ones from the outbox in one
    /// statement; a failed one waits for a later attempt. While draining they are handed back.
    async fn notify_batch(&self, notes: &[ClaimedEffect]) -> Result<(usize, usize)> {
        let mut sent = Vec::with_capacity(notes.len());
        let mut back = 0;
        for c in notes {
            let draining = self.draining.load(Ordering::Relaxed);
            if !draining && self.notifier.send(&c.dossier, &c.effect).is_ok() {
                sent.push((c.id, c.epoch));
                continue;
            }
            let later = if draining {
                self.now()
            } else {
                self.now() + self.config.lease_ms
            };
            self.store.release_outbox(c.id, c.epoch, later).await?;
            back += 1;
        }
        let done = usize::try_from(self.store.finish_outbox_many(&sent).await?).unwrap_or(0);
        Ok((done, back + sent.len().saturating_sub(done)))
    }

    /// Carries out one claimed adapter call (notifications go through `notify_batch`); a
    /// call not yet started when the node began to drain is handed back at once.
    async fn carry_out(&self, c: &ClaimedEffect) -> Result<Outcome> {
        let _busy = self.busy();
        if self.draining.load(Ordering::Relaxed) {
            self.store.release_outbox(c.id, c.epoch, self.now()).await?;
            return Ok(Outcome::Released);
        }
        Ok(if self.call(c).await? {
            Outcome::Call
        } else {
            Outcome::Dropped
        })
    }

    /// Carries out one claimed outbox row (an adapter call whose answer is committed as an
    /// event, or a notification): true if done, false if the claim was lost or the answer no
    /// longer applied.
    pub async fn perform(&self, c: &ClaimedEffect) -> Result<bool> {
        match c.effect {
            Effect::CallAdapter { .. } => self.call(c).await,
            _ => self.notify(c).await,
        }
    }

    /// One pass: fire due timers (see `fire`) and carry out the available outbox rows (each
    /// claimed under this node's lease) and the rows handed over by this node's commits, up
    /// to `concurrency` calls at once.
    pub async fn tick(&self) -> Result<Stats> {
        self.pass(true).await
    }

    /// One pass, until nothing is in flight. Handed-over rows (see `dispatch.rs`) start at
    /// once; the database is claimed from (due timers fired, outbox rows claimed) at the
    /// start when `claim` is set, and again whenever a claim falls due while the pass runs,
    /// so that a node kept busy by its own hand-overs still fires its timers and takes over
    /// the work a stopped node left.
    async fn pass(&self, claim: bool) -> Result<Stats> {
        let mut stats = Stats::default();
        let width = self.config.concurrency.max(1);
        let half = width.div_ceil(2);
        let mut first_error = None;
        // A pipeline: up to `width` items in flight; more are claimed (in chunks, up to
        // `batch` a round) whenever half the slots are free, so one slow call does not hold
        // the next claims back. The claims and timer firings run among the in-flight work
        // (one set of futures), so the work keeps moving while they wait.
        let mut running: FuturesUnordered<BoxFuture<'_, Item>> = FuturesUnordered::new();
        let mut buffer: VecDeque<ClaimedEffect> = VecDeque::new();
        let (mut in_flight, mut claiming, mut firing) = (0usize, false, false);
        let mut claimed_total: i64 = 0;
        let mut exhausted = true;
        let mut claim_now = self.claim_due() || claim;
        loop {
            if claim_now || (exhausted && !claiming && !firing && self.claim_due()) {
                claim_now = false;
                exhausted = self.draining.load(Ordering::Relaxed);
                claimed_total = 0;
                // Never two firings at once: only the first turn or an idle firing gets here.
                firing = true;
                running.push(Box::pin(async move { Item::Fired(self.fire_due().await) }));
            }
            let wants_claim = !claiming && !exhausted && claimed_total < self.config.batch;
            // Rows this node's commits handed over go first — but while a claim waits for
            // half the slots, they do not take those: work in the database (another node's,
            // or one that stopped) is not starved by a node's own stream of hand-overs.
            let room = width.saturating_sub(in_flight + buffer.len());
            let room = if wants_claim {
                room.saturating_sub(half)
            } else {
                room
            };
            let (calls, notes) = self.take_ready(room);
            buffer.extend(calls);
            if !notes.is_empty() {
                running.push(Box::pin(async move {
                    Item::Notified(self.notify_batch(&notes).await)
                }));
            }
            let free = width.saturating_sub(in_flight + buffer.len());
            if wants_claim && free >= half {
                let limit = i64::try_from(free)
                    .unwrap_or(i64::MAX)
                    .min(self.config.batch - claimed_total);
                claiming = true;
                running.push(Box::pin(async move {
                    Item::Claimed(
                        self.store
                            .claim_outbox(
                                &self.config.node,
                                self.now(),
                                self.config.lease_ms,
                                limit,
                            )
                            .await,
                    )
                }));
            }
            while in_flight < width {
                let Some(c) = buffer.pop_front() else { break };
                in_flight += 1;
                running.push(Box::pin(
                    async move { Item::Done(self.carry_out(&c).await) },
                ));
            }
            // While calls are in flight, a hand-over wakes the loop to start its rows at
            // once rather than after the next call ends, and a wake-up from the database
            // makes a claim due.
            let next = if in_flight > 0 {
                tokio::select! {
                    next = running.next() => next,
                    () = self.wake.notified() => continue,
                    () = self.dispatch.external.notified() => {
                        self.mark_store_work();
                        continue;
                    }
                }
            } else {
                running.next().await
            };
            match next {
                Some(Item::Fired(r)) => {
                    firing = false;
                    match r {
                        Ok(f) => {
                            stats.timers += f.fired;
                            stats.dropped += f.dropped;
                        }
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                Some(Item::Claimed(Ok(more))) => {
                    claiming = false;
                    claimed_total += i64::try_from(more.len()).unwrap_or(i64::MAX);
                    exhausted = more.is_empty() || self.draining.load(Ordering::Relaxed);
                    // Notifications go out together, finished with one statement.
                    let (notes, calls): (Vec<_>, Vec<_>) = more
                        .into_iter()
                        .partition(|c| !matches!(c.effect, Effect::CallAdapter { .. }));
                    buffer.extend(calls);
                    if !notes.is_empty() {
                        running.push(Box::pin(async move {
                            Item::Notified(self.notify_batch(&notes).await)
                        }));
                    }
                }
                Some(Item::Notified(r)) => match r {
                    Ok((sent, dropped)) => {
                        stats.notifications += sent;
                        stats.dropped += dropped;
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                },
                Some(Item::Claimed(Err(e))) => {
                    claiming = false;
                    exhausted = true;
                    first_error.get_or_insert(e.into());
                }
                Some(Item::Done(r)) => {
                    in_flight -= 1;
                    match r {
                        Ok(Outcome::Call) => stats.calls += 1,
                        Ok(Outcome::Dropped | Outcome::Released) => stats.dropped += 1,
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                None => break,
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    /// Runs passes until `shutdown` turns true, then drains: claimed work not yet started is
    /// handed back, work in flight gets `drain_grace` to finish (after that it is abandoned
    /// to its leases, which another node takes over). Idle, the node sleeps until new work
    /// is committed (a wake-up from this process or, on PostgreSQL, LISTEN/NOTIFY), the next
    /// timer is due, or `poll` passes. A failing pass (the database away) is retried after
    /// `poll`; the node does not stop.
    pub async fn run(&self, shutdown: watch::Receiver<bool>) -> Result<()> {
        let working = self.working();
        let r = self.run_worker(shutdown).await;
        drop(working);
        self.release_ready().await;
        r
    }

    async fn run_worker(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        if let Err(e) = self.store.watch(self.dispatch.external.clone()).await {
            tracing::warn!(error = %e, "no wake-ups from the database; polling instead");
        }
        let poll = self.config.poll;
        let mut schedules_checked: Option<std::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            // Periodic jobs: checked at most once per poll interval (each tick is claimed
            // once across the cluster, so every node may look).
            if schedules_checked.is_none_or(|at| at.elapsed() >= poll) {
                schedules_checked = Some(std::time::Instant::now());
                if let Err(e) = self.run_schedules().await {
                    tracing::warn!(error = %e, "periodic jobs failed; retrying later");
                }
            }
            let pass = self.pass(false);
            tokio::pin!(pass);
            let outcome = tokio::select! {
                r = &mut pass => r,
                _ = shutdown.changed() => {
                    self.draining.store(true, Ordering::Relaxed);
                    // Whatever the pass still does, it does within the grace period.
                    let _ = tokio::time::timeout(self.config.drain_grace, &mut pass).await;
                    return Ok(());
                }
            };
            let wait = match outcome {
                Ok(stats) if stats.total() > 0 => continue,
                Ok(_) => match self.store.next_due().await {
                    Ok(Some(at)) => {
                        Duration::from_millis(u64::try_from(at - self.now()).unwrap_or(0)).min(poll)
                    }
                    Ok(None) => poll,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the next due instant");
                        poll
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, node = %self.config.node, "pass failed; retrying");
                    self.mark_store_work();
                    poll
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait.max(Duration::from_millis(1))) => self.mark_store_work(),
                _ = self.wake.notified() => {}
                _ = self.dispatch.external.notified() => self.mark_store_work(),
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// What one future of a pass produced.
enum Item {
    Fired(Result<super::fire::Fired>),
    Claimed(store::Result<Vec<ClaimedEffect>>),
    /// Notifications sent and finished, and those handed back or lost.
    Notified(Result<(usize, usize)>),
    Done(Result<Outcome>),
}

/// What became of one claimed adapter call.
enum Outcome {
    Call,
    /// The claim was lost or the event no longer applied.
    Dropped,
    /// Handed back unstarted while draining.
    Released,
}

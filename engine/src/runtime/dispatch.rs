//! Work handed over in the same turn. While a worker runs on this node, every outbox row a
//! commit of this node creates is stored already claimed by the node (`Commit::dispatch`)
//! and put on the node's in-memory `ready` queue: the worker carries it out at once, with no
//! claim transaction and no trip through the database's notifications. The claim path stays
//! for everything else — rows another node created, rows left by a node that died (its
//! lease ends), timers — and runs when there may be such work: on a wake-up from the
//! database, when a timer this node set falls due, after an idle wait, and at least once per
//! `poll` while the node is busy.

use super::Runtime;
use crate::clock::Millis;
use crate::machine::{DossierId, Effect, Transition};
use crate::store::{ClaimedEffect, Dispatched, Store};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// The node's side of same-turn dispatch.
#[derive(Debug)]
pub(crate) struct Dispatch {
    /// Outbox rows claimed by this node's own commits, not yet started.
    ready: Mutex<VecDeque<ClaimedEffect>>,
    /// Workers running on this runtime: rows are handed over only while one runs.
    workers: AtomicUsize,
    /// Handed-over or claimed adapter calls being carried out now.
    busy: AtomicUsize,
    /// Whether the database may hold work no hand-over carries: the next pass claims.
    store_work: AtomicBool,
    /// The earliest due instant of a timer this node set since its last claiming pass.
    next_timer: AtomicI64,
    /// When this node last claimed from the database.
    last_claim: Mutex<std::time::Instant>,
    /// Woken by the database (PostgreSQL LISTEN/NOTIFY) when another node commits work.
    pub(crate) external: Arc<Notify>,
    /// Callers waiting for a dossier to close (`Runtime::until_closed`).
    closings: Mutex<HashMap<DossierId, Vec<oneshot::Sender<()>>>>,
}

impl Default for Dispatch {
    fn default() -> Self {
        Dispatch {
            ready: Mutex::default(),
            workers: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            store_work: AtomicBool::new(true),
            next_timer: AtomicI64::new(Millis::MAX),
            last_claim: Mutex::new(std::time::Instant::now()),
            external: Arc::new(Notify::new()),
            closings: Mutex::default(),
        }
    }
}

/// Counts a running adapter call for as long as it lives.
pub(crate) struct Busy<'a>(&'a Dispatch);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a running worker for as long as it lives.
pub(crate) struct Working<'a>(&'a Dispatch);

impl Drop for Working<'_> {
    fn drop(&mut self) {
        self.0.workers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<S: Store> Runtime<S> {
    /// The lease end of rows handed over now, or `None` when no worker would start them at
    /// once (none runs, the node is draining, or as many calls as `concurrency` are running
    /// or waiting here): they are then left for any node to claim. A node never holds more
    /// than it can start, so a node that stops holds no more than another can take over.
    pub(crate) fn dispatch_until(&self) -> Option<Millis> {
        let d = &self.dispatch;
        let waiting = d.ready.lock().map_or(usize::MAX, |q| q.len());
        let held = waiting.saturating_add(d.busy.load(Ordering::SeqCst));
        (d.workers.load(Ordering::SeqCst) > 0
            && !self.draining.load(Ordering::Relaxed)
            && held < self.config.concurrency.max(1))
        .then(|| self.now() + self.config.lease_ms)
    }

    /// Counts an adapter call as running until the returned guard drops.
    pub(crate) fn busy(&self) -> Busy<'_> {
        self.dispatch.busy.fetch_add(1, Ordering::SeqCst);
        Busy(&self.dispatch)
    }

    /// Puts rows a commit claimed for this node on the ready queue and wakes a worker.
    pub(crate) fn hand_over(&self, rows: Dispatched) {
        if rows.is_empty() {
            return;
        }
        if let Ok(mut q) = self.dispatch.ready.lock() {
            q.extend(rows);
        }
        self.wake.notify_one();
    }

    /// Up to `n` handed-over adapter calls, oldest first, and every handed-over
    /// notification (sent together, finished with one statement, whatever their number).
    pub(crate) fn take_ready(&self, n: usize) -> (Vec<ClaimedEffect>, Vec<ClaimedEffect>) {
        let Ok(mut q) = self.dispatch.ready.lock() else {
            return (Vec::new(), Vec::new());
        };
        let (mut calls, mut notes) = (Vec::new(), Vec::new());
        let mut kept = VecDeque::new();
        for c in q.drain(..) {
            if !matches!(c.effect, Effect::CallAdapter { .. }) {
                notes.push(c);
            } else if calls.len() < n {
                calls.push(c);
            } else {
                kept.push_back(c);
            }
        }
        *q = kept;
        (calls, notes)
    }

    /// Notes what a stored transition means for the claim path (`handed`: whether its
    /// outbox rows were handed over), answers those waiting for its dossier to close, and
    /// wakes a worker when it set work only the claim path finds.
    pub(crate) fn note_work(&self, t: &Transition, handed: bool) {
        let d = &self.dispatch;
        let now = self.now();
        let mut claim_soon = false;
        for e in &t.effects {
            match e {
                Effect::SetTimer { at, .. } if *at <= now => claim_soon = true,
                Effect::SetTimer { at, .. } => {
                    d.next_timer.fetch_min(*at, Ordering::SeqCst);
                    // An idle worker sleeps up to `poll`: one due sooner re-times its sleep.
                    let poll =
                        Millis::try_from(self.config.poll.as_millis()).unwrap_or(Millis::MAX);
                    if *at - now < poll {
                        self.wake.notify_one();
                    }
                }
                // Not handed over (no worker ran, or the node was full): only a claim finds it.
                Effect::CallAdapter { .. } | Effect::Notify { .. } if !handed => claim_soon = true,
                _ => {}
            }
        }
        if claim_soon {
            d.store_work.store(true, Ordering::SeqCst);
            self.wake.notify_one();
        }
        if t.state.closed_at.is_some() {
            self.closed(&t.state.id);
        }
    }

    fn closed(&self, id: &DossierId) {
        let waiting = match self.dispatch.closings.lock() {
            Ok(mut w) => w.remove(id),
            Err(_) => None,
        };
        for tx in waiting.into_iter().flatten() {
            let _ = tx.send(());
        }
    }

    /// Whether a claim from the database is due now — work may wait there (a wake-up, a
    /// row no hand-over carried), a timer this node set fell due, or `poll` passed since the
    /// last claim — and, if so, resets the marks as the claim starts.
    pub(crate) fn claim_due(&self) -> bool {
        let d = &self.dispatch;
        let timer_due = d.next_timer.load(Ordering::SeqCst) <= self.now();
        let Ok(mut last) = d.last_claim.lock() else {
            return true;
        };
        let due = d.store_work.swap(false, Ordering::SeqCst)
            || timer_due
            || last.elapsed() >= self.config.poll;
        if due {
            d.next_timer.store(Millis::MAX, Ordering::SeqCst);
            *last = std::time::Instant::now();
        }
        due
    }

    /// Marks that the database may hold work for this node (a wake-up from it, an idle
    /// wait that ended, a failed pass).
    pub(crate) fn mark_store_work(&self) {
        self.dispatch.store_work.store(true, Ordering::SeqCst);
    }

    /// Registers a running worker until the returned guard drops.
    pub(crate) fn working(&self) -> Working<'_> {
        self.dispatch.workers.fetch_add(1, Ordering::SeqCst);
        Working(&self.dispatch)
    }

    /// Hands back rows that were handed over but not started (at shutdown, once no worker
    /// runs), so another node takes them at once instead of after their lease.
    pub(crate) async fn release_ready(&self) {
        if self.dispatch.workers.load(Ordering::SeqCst) > 0 {
            return;
        }
        let now = self.now();
        let (calls, notes) = self.take_ready(usize::MAX);
        for c in calls.into_iter().chain(notes) {
            if let Err(e) = self.store.release_outbox(c.id, c.epoch, now).await {
                tracing::warn!(error = %e, "an unstarted row stays leased until its lease ends");
            }
        }
    }

    /// Waits until the dossier is closed (decided, refused, withdrawn…) or `timeout`
    /// passes, and returns whether it closed. Closings this node commits answer at once;
    /// those of other nodes are seen by a re-read every `poll`.
    pub async fn until_closed(&self, id: &DossierId, timeout: Duration) -> super::Result<bool> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let (tx, rx) = oneshot::channel();
            if let Ok(mut waiting) = self.dispatch.closings.lock() {
                waiting.entry(id.clone()).or_default().push(tx);
            }
            // Registered first, read second: a closing in between still answers.
            if self
                .store
                .load(id)
                .await?
                .is_some_and(|d| d.closed_at.is_some())
            {
                self.closed(id);
                return Ok(true);
            }
            let wait = self.config.poll.min(deadline - tokio::time::Instant::now());
            if tokio::time::timeout(wait, rx)
                .await
                .is_ok_and(|r| r.is_ok())
            {
                return Ok(true);
            }
            self.forget_waiter(id);
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
        }
    }

    /// Drops the waiters of `id` whose receiver is gone.
    fn forget_waiter(&self, id: &DossierId) {
        if let Ok(mut waiting) = self.dispatch.closings.lock()
            && let Some(list) = waiting.get_mut(id)
        {
            list.retain(|tx| !tx.is_closed());
            if list.is_empty() {
                waiting.remove(id);
            }
        }
    }
}

//! One pass of a node's work: fire due timers, carry out the outbox.

use super::{Error, Result, Runtime};
use crate::adapter::{self, Request, Response};
use crate::machine::{self, Effect, Event};
use crate::store::{self, ClaimedEffect, ClaimedTimer, Consumed, Store};
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

fn to_event(step: &str, answer: adapter::Result<Response>) -> Event {
    let step = step.to_string();
    match answer {
        Ok(Response::Completed { outputs }) => Event::StepCompleted { step, outputs },
        Ok(Response::Accepted) => Event::StepAccepted { step },
        Ok(Response::Rejected { reason }) => Event::StepRejected { step, reason },
        Ok(Response::SupplementRequested { reason }) => Event::SupplementRequested { step, reason },
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

    async fn fire(&self, t: &ClaimedTimer) -> Result<bool> {
        let claim = Consumed::Timer {
            kind: t.kind,
            step: t.step.clone(),
            epoch: t.epoch,
        };
        let event = Event::TimerFired {
            kind: t.kind,
            step: t.step.clone(),
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
        let answer = match self.adapters.get(agency) {
            None => Err(adapter::Error::Permanent {
                message: format!("no adapter is configured for agency `{agency}`"),
            }),
            Some(a) => {
                match tokio::time::timeout(self.config.adapter_timeout, a.call(&req)).await {
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
        self.settle(&claim, &c.dossier, &to_event(step, answer))
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

    /// One pass: fire every due timer and carry out every available outbox row (each claimed
    /// under this node's lease).
    pub async fn tick(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        let now = self.now();
        for t in self
            .store
            .claim_timers(
                &self.config.node,
                now,
                self.config.lease_ms,
                self.config.batch,
            )
            .await?
        {
            if self.fire(&t).await? {
                stats.timers += 1;
            } else {
                stats.dropped += 1;
            }
        }
        let claimed = self
            .store
            .claim_outbox(
                &self.config.node,
                now,
                self.config.lease_ms,
                self.config.batch,
            )
            .await?;
        for c in &claimed {
            let done = match c.effect {
                Effect::CallAdapter { .. } => self.call(c).await?,
                _ => self.notify(c).await?,
            };
            match (done, &c.effect) {
                (true, Effect::CallAdapter { .. }) => stats.calls += 1,
                (true, _) => stats.notifications += 1,
                (false, _) => stats.dropped += 1,
            }
        }
        Ok(stats)
    }

    /// Runs passes until `shutdown` turns true; the pass under way finishes first (drain).
    /// Idle, the node sleeps until the next due work or `poll`, whichever is sooner.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>, poll: Duration) -> Result<()> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let stats = self.tick().await?;
            if stats.total() > 0 {
                continue;
            }
            let wait = match self.store.next_due().await? {
                Some(at) => {
                    Duration::from_millis(u64::try_from(at - self.now()).unwrap_or(0)).min(poll)
                }
                None => poll,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait.max(Duration::from_millis(1))) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

//! Group commit: transitions from every task of a node go through one committer, which
//! stores whatever has queued up meanwhile in one transaction (one fsync for the group).
//! Each transition keeps its own version check and claim fencing; a stale one is refused
//! alone and its caller retries on a fresh load. A lone transition is committed at once —
//! grouping only happens when commits arrive faster than the disk syncs.

use super::Runtime;
use crate::machine::Transition;
use crate::store::{self, Commit, Consumed, Dispatched, Store, Transitions};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most transitions stored in one transaction.
const MAX_GROUP: usize = 512;

/// A transition waiting to be stored.
#[derive(Debug)]
pub(crate) struct Pending {
    expected_version: u64,
    transition: Arc<Transition>,
    consumed: Option<Consumed>,
    dispatch: Option<crate::clock::Millis>,
    head: Option<String>,
    reply: oneshot::Sender<store::Result<Dispatched>>,
}

pub(crate) type Queue = mpsc::UnboundedSender<Pending>;

impl<S: Store> Runtime<S> {
    /// Stores a transition through this node's committer (started on first use).
    pub(crate) async fn commit_grouped(
        &self,
        expected_version: u64,
        transition: Arc<Transition>,
        consumed: Option<&Consumed>,
        head: Option<String>,
    ) -> store::Result<Dispatched> {
        let queue = self.committer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(committer(self.store.clone(), self.config.node.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            expected_version,
            transition: transition.clone(),
            consumed: consumed.cloned(),
            dispatch: self.dispatch_until(),
            head,
            reply,
        };
        if queue.send(pending).is_err() {
            // The committer is gone (its tokio runtime ended): commit directly.
            return self
                .commit_alone(expected_version, &transition, consumed, None)
                .await;
        }
        match answer.await {
            Ok(r) => r,
            Err(_) => Err(store::Error::Conflict(
                "the committer stopped before answering; the transition may not be stored".into(),
            )),
        }
    }

    async fn commit_alone(
        &self,
        expected_version: u64,
        transition: &Transition,
        consumed: Option<&Consumed>,
        head: Option<&str>,
    ) -> store::Result<Dispatched> {
        self.store
            .commit(Commit {
                expected_version,
                transition,
                consumed,
                node: &self.config.node,
                dispatch: self.dispatch_until(),
                head,
            })
            .await
    }
}

/// Stores transitions in one transaction (`Store::commit_many`); when that fails as a whole
/// (the database away, say), each alone, so that every member gets its own true answer.
pub(crate) async fn commit_all<S: Transitions>(
    store: &S,
    commits: Vec<Commit<'_>>,
) -> Vec<store::Result<Dispatched>> {
    match store.commit_many(&commits).await {
        Ok(results) => results,
        Err(_) => {
            let mut each = Vec::with_capacity(commits.len());
            for c in commits {
                each.push(store.commit(c).await);
            }
            each
        }
    }
}

/// Takes what has queued, stores it in one transaction, answers each caller.
async fn committer<S: Transitions>(
    store: S,
    node: String,
    mut rx: mpsc::UnboundedReceiver<Pending>,
) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(p) => group.push(p),
                Err(_) => break,
            }
        }
        let results = {
            let commits: Vec<Commit<'_>> = group
                .iter()
                .map(|p| Commit {
                    expected_version: p.expected_version,
                    transition: &p.transition,
                    consumed: p.consumed.as_ref(),
                    node: &node,
                    dispatch: p.dispatch,
                    head: p.head.as_deref(),
                })
                .collect();
            commit_all(&store, commits).await
        };
        for (p, r) in group.into_iter().zip(results) {
            let Pending {
                transition, reply, ..
            } = p;
            // Released before answering, so the caller gets its transition back unshared.
            drop(transition);
            let _ = reply.send(r);
        }
    }
}

//! Group filing: submissions from every task of a node go through one filer, which files
//! whatever has queued up meanwhile in one transaction (`Store::create_many`: one fsync for
//! the group, codes still gapless). A lone submission is filed at once — grouping only
//! happens when submissions arrive faster than the disk syncs. Two submissions with the same
//! idempotency key never share a group: the second waits for the next one, where it finds
//! the dossier the first filed.

use super::Runtime;
use crate::clock::Millis;
use crate::machine::{self, DossierId, Transition};
use crate::store::{self, Created, Filing, NewDossier, Origin, Store, Transitions};
use chrono::NaiveDate;
use std::collections::{HashSet, VecDeque};
use tokio::sync::{mpsc, oneshot};

/// The most submissions filed in one transaction.
const MAX_GROUP: usize = 256;

type Built = Box<dyn Fn(String) -> Result<Transition, machine::Error> + Send + Sync>;
type Answer = store::Result<Result<Created, machine::Error>>;

/// What filing a dossier needs, owned (see [`NewDossier`]).
pub(crate) struct ToFile {
    pub id: DossierId,
    pub key: Option<String>,
    pub agency_code: String,
    pub day: NaiveDate,
    pub procedure_hash: String,
    pub origin: Origin,
    pub dispatch: Option<Millis>,
    pub build: Built,
}

pub(crate) struct Queued {
    file: ToFile,
    reply: oneshot::Sender<Answer>,
}

pub(crate) type Queue = mpsc::UnboundedSender<Queued>;

impl<S: Store> Runtime<S> {
    /// Files a dossier through this node's filer (started on first use).
    pub(crate) async fn file_grouped(&self, file: ToFile) -> Answer {
        let queue = self.filer.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(filer(self.store.clone(), self.config.node.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(q)) = queue.send(Queued { file, reply }) {
            // The filer is gone (its tokio runtime ended): file directly.
            let f = &q.file;
            let new = new_dossier(f, &self.config.node);
            return self.store.create(new, |code| (f.build)(code)).await;
        }
        answer.await.unwrap_or_else(|_| {
            Err(store::Error::Conflict(
                "the filer stopped before answering; the dossier may not be stored".into(),
            ))
        })
    }
}

fn new_dossier<'a>(f: &'a ToFile, node: &'a str) -> NewDossier<'a> {
    NewDossier {
        id: &f.id,
        submission_key: f.key.as_deref(),
        agency_code: &f.agency_code,
        day: f.day,
        procedure_hash: &f.procedure_hash,
        node,
        origin: &f.origin,
        dispatch: f.dispatch,
    }
}

/// Takes what has queued (a key at most once per group), files it in one transaction,
/// answers each caller.
async fn filer<S: Transitions>(store: S, node: String, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let mut later: VecDeque<Queued> = VecDeque::new();
    loop {
        let first = match later.pop_front() {
            Some(q) => q,
            None => match rx.recv().await {
                Some(q) => q,
                None => return,
            },
        };
        let mut group = vec![first];
        let mut keys: HashSet<String> = group[0].file.key.iter().cloned().collect();
        let mut deferred = VecDeque::new();
        while group.len() < MAX_GROUP {
            let Some(q) = later.pop_front().or_else(|| rx.try_recv().ok()) else {
                break;
            };
            match &q.file.key {
                Some(k) if !keys.insert(k.clone()) => deferred.push_back(q),
                _ => group.push(q),
            }
        }
        later.extend(deferred);
        let answers = file_all(&store, &node, &group).await;
        for (q, a) in group.into_iter().zip(answers) {
            let _ = q.reply.send(a);
        }
    }
}

/// Files a group together; when that fails as a whole (the database away, say), each alone,
/// so that every member gets its own true answer.
async fn file_all<S: Transitions>(store: &S, node: &str, group: &[Queued]) -> Vec<Answer> {
    let news: Vec<NewDossier<'_>> = group.iter().map(|q| new_dossier(&q.file, node)).collect();
    let items: Vec<Filing<'_>> = news
        .iter()
        .zip(group)
        .map(|(new, q)| Filing {
            new,
            build: &*q.file.build,
        })
        .collect();
    match store.create_many(&items).await {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(_) => {
            let mut each = Vec::with_capacity(items.len());
            for item in &items {
                each.push(
                    store
                        .create(item.new.clone(), |code| (item.build)(code))
                        .await,
                );
            }
            each
        }
    }
}

//! Keeps every chat's taste model up to date with its ratings: `retrain` one chat from the
//! store (its ratings as they are now), and `Learner`, the service's background retrainer,
//! woken by each rating and at start-up (models behind their ratings are marked in the store,
//! so a crash between a rating and its retrain only delays the retrain). `import` reads a
//! reader's library into ratings.

pub mod import;

use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::compose::taste::{Learnt, learn};
use crate::store::{Store, StoreError};

/// Learns `chat`'s model from its ratings now and stores it (removing it when nothing is
/// rated any more). `None` when the chat has no rating.
pub fn retrain(store: &Store, chat: &str) -> Result<Option<Learnt>, StoreError> {
    let mark = store
        .taste_dirty()?
        .into_iter()
        .find(|(c, _)| c == chat)
        .map(|(_, at)| at);
    retrain_marked(store, chat, mark)
}

fn retrain_marked(
    store: &Store,
    chat: &str,
    mark: Option<i64>,
) -> Result<Option<Learnt>, StoreError> {
    match learn(store, chat)? {
        Some((taste, learnt)) => {
            store.put_taste(chat, &taste, mark)?;
            Ok(Some(learnt))
        }
        None => {
            store.drop_taste(chat, mark)?;
            Ok(None)
        }
    }
}

/// Retrains every chat whose model is behind its ratings; returns how many.
pub fn retrain_marked_chats(store: &Store) -> Result<usize, StoreError> {
    let marked = store.taste_dirty()?;
    for (chat, mark) in &marked {
        retrain_marked(store, chat, Some(*mark))?;
    }
    Ok(marked.len())
}

/// Wakes the learner after a rating.
#[derive(Clone, Default)]
pub struct LearnWake(Arc<Notify>);

impl LearnWake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The service's retrainer: one pass at a time on a blocking thread, at start-up and after
/// every wake; ratings that arrive during a pass are folded into the next.
pub struct Learner {
    pub store: Arc<Store>,
    pub wake: LearnWake,
}

impl Learner {
    pub async fn run(self, shutdown: CancellationToken) {
        let mut start = true;
        loop {
            let store = self.store.clone();
            match tokio::task::spawn_blocking(move || retrain_marked_chats(&store)).await {
                // At start-up: ratings a crash or a stop left unlearnt.
                Ok(Ok(n)) if n > 0 && start => {
                    tracing::info!(chats = n, "taste models retrained at start-up")
                }
                Ok(Ok(n)) if n > 0 => tracing::debug!(chats = n, "taste models retrained"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "taste models could not be retrained"),
                Err(e) => tracing::error!(error = %e, "taste retraining panicked"),
            }
            start = false;
            tokio::select! {
                _ = self.wake.0.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

//! Keeps the search index caught up with the store in the service: one catch-up at a time on
//! a blocking thread, run at start-up and whenever a fetch has stored papers, so a fetch never
//! waits for indexing and requests that arrive during a catch-up are folded into the next one.
//! After each catch-up, the papers' similar lists follow the index (`neighbours`) on a thread
//! in the idle class, waiting while pages are being made; their backfill steps aside whenever
//! new papers await the index.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::neighbours::{self, Progress, Worked};
use super::{SearchError, SearchIndex};
use crate::store::Store;

/// Wakes the follower: after a fetch (or its enrichment) stored papers.
#[derive(Clone, Default)]
pub struct IndexWake(Arc<Notify>);

impl IndexWake {
    pub fn new() -> IndexWake {
        IndexWake::default()
    }

    /// Asks for a catch-up; several asks before it starts make one.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The service's search index and what it follows.
pub struct IndexFollower {
    pub index: Arc<SearchIndex>,
    pub store: Arc<Store>,
    pub wake: IndexWake,
}

impl IndexFollower {
    /// Catches the index up now, then after every `wake`, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            catch_up(self.index.clone(), self.store.clone(), shutdown.clone()).await;
            let progress =
                similar_lists(self.index.clone(), self.store.clone(), shutdown.clone()).await;
            // Yielded to new papers: back to the index soon, woken or not (a fetch wakes it).
            let soon = async {
                match progress {
                    Some(Progress::Yielded) => tokio::time::sleep(Duration::from_secs(1)).await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.wake.0.notified() => {}
                _ = soon => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

/// Brings the search index up to the store on a blocking thread, until `stop`; a failure is
/// logged (search serves what it has, and the next catch-up retries from the store's log).
pub async fn catch_up(index: Arc<SearchIndex>, store: Arc<Store>, stop: CancellationToken) {
    match tokio::task::spawn_blocking(move || index.catch_up_until(&store, &stop)).await {
        Ok(Ok(c)) if c.rebuilt.is_some() || c.updated > 0 => {
            tracing::info!(updated = c.updated, rebuilt = ?c.rebuilt, "search index caught up");
        }
        Ok(Ok(_)) => {}
        Ok(Err(SearchError::Stopped)) => {
            tracing::info!("search index catch-up stopped by shutdown");
        }
        Ok(Err(e)) => tracing::error!(error = %e, "search index could not catch up"),
        Err(e) => tracing::error!(error = %e, "search index catch-up panicked"),
    }
}

/// Works out the similar lists the index allows (`neighbours::catch_up`) on a thread that runs
/// when the cores are idle; `None` when it failed (logged: the next run goes on from the kept place).
pub async fn similar_lists(
    index: Arc<SearchIndex>,
    store: Arc<Store>,
    stop: CancellationToken,
) -> Option<Progress> {
    let run = crate::low_priority::when_idle("paperbell-similar", move || {
        let mut worked = Worked::default();
        let pace = || crate::low_priority::wait_for_quiet(crate::low_priority::QUIET, &stop);
        let result = neighbours::catch_up(&index, &store, &stop, &pace, &mut worked);
        (result, worked)
    });
    let (result, worked) = run.await?;
    if worked != Worked::default() {
        tracing::info!(
            changed = worked.changed,
            backfilled = worked.backfilled,
            "similar papers worked out"
        );
    }
    match result {
        Ok(p) => Some(p),
        Err(SearchError::Stopped) => None,
        Err(e) => {
            tracing::error!(error = %e, "similar papers could not be worked out");
            None
        }
    }
}

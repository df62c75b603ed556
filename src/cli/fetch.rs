//! `paperbell fetch`: local files and/or arXiv into the store, then enrichment when the
//! network was used; what happens is said as it happens (`Said`), for `main` to print.

use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::scheduler::{self, FetchError, Source};
use crate::sources::fetch::{self as arxiv, ArxivClient};
use crate::store::{Store, StoreError};
use crate::summary::enrich::{EnrichError, Enricher};
use crate::topics::{Topic, TopicSet};

/// A line of what `fetch` did: for stdout, or a warning or error for stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Out(String),
    Warning(String),
    Error(String),
}

/// Why `fetch` stopped before it was done.
#[derive(Debug, thiserror::Error)]
pub enum FetchCommandError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Client(#[from] arxiv::FetchError),
    #[error(transparent)]
    Enrich(#[from] EnrichError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Ingests `files`, then, when `online` names topics and a source, fetches what they need and
/// enriches the newest day (local files alone touch no network). Returns whether any part
/// failed (the rest was still stored).
pub async fn fetch(
    config: &Config,
    store: Arc<Store>,
    topics: &TopicSet,
    files: &[PathBuf],
    online: Option<(Vec<Topic>, Source)>,
    clock: Clock,
    say: &mut dyn FnMut(Said),
) -> Result<bool, FetchCommandError> {
    let mut failed = false;
    let mut days = std::collections::BTreeSet::new();
    for f in files {
        match scheduler::ingest_file(&store, topics, f) {
            Ok(r) => {
                say(Said::Out(format!("{}: {}", f.display(), r.summary())));
                days.extend(r.days);
            }
            Err(e) => {
                say(Said::Error(e.to_string()));
                failed = true;
            }
        }
    }
    // Once for every file's days: each ingest changes what the topics' backgrounds are made of.
    crate::compose::day_keywords::keep(&store, topics, &days)?;
    let Some((selected, source)) = online else {
        store.flush()?;
        catch_up_search(config, &store, say);
        return Ok(failed);
    };
    let client = Arc::new(ArxivClient::new(&config.arxiv)?);
    let report = scheduler::fetch_topics(
        &client,
        &store,
        topics,
        &selected,
        source,
        config.arxiv.query_days,
        clock.now(),
    )
    .await?;
    for e in &report.errors {
        say(Said::Warning(e.clone()));
    }
    say(Said::Out(format!("arXiv: {}", report.summary())));
    failed |= !report.errors.is_empty();
    let enricher = Enricher::from_config(
        config,
        store.clone(),
        Arc::new(topics.clone()),
        clock,
        client.clone(),
    )?;
    if let Some(e) = enricher {
        let r = e.run(Default::default()).await;
        for err in &r.errors {
            say(Said::Warning(err.clone()));
        }
        say(Said::Out(format!("enrichment: {}", r.summary())));
    }
    store.flush()?;
    catch_up_search(config, &store, say);
    Ok(failed)
}

/// Brings the search index up to what was stored (unless search is off); a failure is a
/// warning (the papers are stored, and the next search or fetch catches up from the store's
/// change log).
fn catch_up_search(config: &Config, store: &Store, say: &mut dyn FnMut(Said)) {
    if !config.search.enabled {
        return;
    }
    match super::search::open_index(store, &config.store.path) {
        Ok((_, c)) => {
            if let Some(n) = c.rebuilt {
                say(Said::Out(format!(
                    "search index: rebuilt with {n} paper(s)"
                )));
            } else if c.updated > 0 {
                say(Said::Out(format!(
                    "search index: {} paper(s) indexed",
                    c.updated
                )));
            }
        }
        Err(e) => say(Said::Warning(format!("search index: {e}"))),
    }
}

//! An import: a reader's library (BibTeX, or lines of arXiv ids and URLs) matched to arXiv
//! papers, the ones the store lacks fetched from arXiv, and every matched paper recorded as
//! liked by the chat. Titles without an id are looked up through the arXiv API, one request at
//! a time (the client's polite pace), at most `MAX_TITLE_LOOKUPS` per import (fewer from a
//! chat).

use std::collections::BTreeSet;

use crate::model::paper::PaperId;
use crate::sources::fetch::{ArxivClient, FetchError};
use crate::sources::library::{LibraryEntry, LibraryError, parse_library, title_key};
use crate::store::{Store, StoreError};
use crate::topics::TopicSet;

/// Titles looked up through the arXiv API per import from the command line: each is a request
/// at arXiv's pace (100 take five minutes).
pub const MAX_TITLE_LOOKUPS: usize = 100;
/// The same from a chat, where someone waits for the answer (a minute at arXiv's pace).
pub const CHAT_TITLE_LOOKUPS: usize = 20;
/// Ids asked of arXiv per request.
const IDS_PER_REQUEST: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did, for its reply.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Entries in the file.
    pub found: usize,
    /// Entries matched to an arXiv paper that is now stored and counted as liked.
    pub matched: usize,
    /// Of those, papers fetched from arXiv for this import.
    pub fetched: usize,
    /// Entries not matched, by their label (citation key or line).
    pub not_matched: Vec<String>,
    /// Titles left unlooked-up over the import's limit (`lookup_limit`).
    pub over_limit: usize,
    /// Titles this import could look up.
    pub lookup_limit: usize,
    /// Why arXiv could not be asked, when it could not (what was stored already still counts).
    pub arxiv_failed: Option<String>,
}

/// Reads `bytes` as a library and imports it into `chat`'s taste at `now`, looking up at most
/// `lookups` titles. A file that does not read changes nothing.
pub async fn import(
    store: &Store,
    topics: &TopicSet,
    client: Option<&ArxivClient>,
    chat: &str,
    bytes: &[u8],
    now: i64,
    lookups_allowed: usize,
) -> Result<Imported, ImportError> {
    let entries = parse_library(bytes)?;
    let mut done = Imported {
        found: entries.len(),
        lookup_limit: lookups_allowed,
        ..Imported::default()
    };
    // Each entry's id once it is known: from the file, or from its title.
    let mut ids: Vec<Option<PaperId>> = entries.iter().map(|e| e.id.clone()).collect();
    let mut lookups = 0;
    let mut looked_up = Vec::new();
    for (entry, id) in entries.iter().zip(ids.iter_mut()) {
        let (None, Some(title)) = (&id, &entry.title) else {
            continue;
        };
        let Some(client) = client else { continue };
        if lookups >= lookups_allowed {
            done.over_limit += 1;
            continue;
        }
        lookups += 1;
        match by_title(client, title).await {
            Ok(Some(paper)) => {
                *id = Some(paper.id.clone());
                looked_up.push(paper);
            }
            Ok(None) => {}
            Err(e) => {
                done.arxiv_failed.get_or_insert_with(|| e.to_string());
            }
        }
    }
    // What the store lacks: asked for by id (a title's paper came with its answer).
    let mut missing: Vec<PaperId> = Vec::new();
    for id in ids.iter().flatten() {
        if store.paper(id)?.is_none() && !missing.contains(id) {
            missing.push(id.clone());
        }
    }
    let mut fetched: Vec<crate::model::paper::Paper> = Vec::new();
    fetched.extend(looked_up.into_iter().filter(|p| missing.contains(&p.id)));
    if let Some(client) = client {
        let by_id: Vec<PaperId> = missing
            .iter()
            .filter(|id| !fetched.iter().any(|p| &p.id == *id))
            .cloned()
            .collect();
        for chunk in by_id.chunks(IDS_PER_REQUEST) {
            match client.by_ids(chunk).await {
                Ok(parsed) => fetched.extend(parsed.papers),
                Err(e) => {
                    done.arxiv_failed.get_or_insert_with(|| e.to_string());
                    break;
                }
            }
        }
    }
    store.ingest(&fetched, topics)?;
    let mut liked = BTreeSet::new();
    for (entry, id) in entries.iter().zip(&ids) {
        match id {
            Some(id) if store.paper(id)?.is_some() => {
                done.matched += 1;
                if liked.insert(id.to_string()) && missing.contains(id) {
                    done.fetched += 1;
                }
            }
            _ => done.not_matched.push(label(entry)),
        }
    }
    let liked: Vec<String> = liked.into_iter().collect();
    if !liked.is_empty() {
        store.import_ratings(chat, &liked, now)?;
    }
    Ok(done)
}

impl Imported {
    /// Two imports' results as one (a chat's typed ids and its file).
    pub fn add(&mut self, other: Imported) {
        self.found += other.found;
        self.matched += other.matched;
        self.fetched += other.fetched;
        self.not_matched.extend(other.not_matched);
        self.over_limit += other.over_limit;
        self.lookup_limit = self.lookup_limit.max(other.lookup_limit);
        if self.arxiv_failed.is_none() {
            self.arxiv_failed = other.arxiv_failed;
        }
    }
}

fn label(e: &LibraryEntry) -> String {
    match &e.title {
        Some(t) => format!("{} ({t})", e.label),
        None => e.label.clone(),
    }
}

/// The arXiv paper with exactly this title (letters and digits compared).
async fn by_title(
    client: &ArxivClient,
    title: &str,
) -> Result<Option<crate::model::paper::Paper>, FetchError> {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(str::to_string)
        .collect();
    if words.is_empty() {
        return Ok(None);
    }
    let want = title_key(title);
    let mut found = None;
    client
        .query(&format!("ti:\"{}\"", words.join(" ")), Some(5), |page| {
            if found.is_none() {
                found = page
                    .papers
                    .into_iter()
                    .find(|p| title_key(&p.title) == want);
            }
            Ok(())
        })
        .await?;
    Ok(found)
}

//! Ranked full-text search over everything stored: the query language (`query`, pure) and the
//! tantivy index beside the store (`index`), derived from it and caught up from its change log
//! (in the service by `follow`, in the background).
//! Topic matching stays with `topics`; the index is for search and similar papers.

mod analysis;
pub mod follow;
pub mod index;
pub mod query;

pub use analysis::for_each_word;
pub use follow::{IndexFollower, IndexWake};
pub use index::{CatchUp, Hit, SearchError, SearchIndex, Snippet, Sort};
pub use query::{QueryError, SearchQuery, parse};

use crate::model::paper::{PaperId, StoredPaper};
use crate::store::{Store, StoreError};
use crate::topics::{Term, Topic};

/// Where there is no index: a topic matching papers that have every word of `words` in their
/// title or abstract (words too short to search are ignored), for a scan of the newest papers.
/// `None` when no word is left.
pub fn scan_topic(words: &str) -> Option<Topic> {
    let terms: Vec<Vec<Term>> = words
        .split_whitespace()
        .filter_map(|w| Term::new(w.trim_matches(|c: char| !c.is_alphanumeric())).ok())
        .map(|term| vec![term])
        .collect();
    (!terms.is_empty()).then(|| Topic {
        id: "search".into(),
        name: words.into(),
        keywords: terms,
        include_replace: true,
        ..Topic::default()
    })
}

/// The stored papers of `hits`, in order. The index is derived: an id it still lists but the
/// store does not have is left out, so a search never shows a paper the store lacks.
pub fn stored(
    store: &Store,
    hits: impl IntoIterator<Item = Hit>,
) -> Result<Vec<(StoredPaper, Hit)>, StoreError> {
    let mut out = Vec::new();
    for h in hits {
        let paper = PaperId::parse(&h.id)
            .map(|id| store.paper(&id))
            .transpose()?;
        if let Some(sp) = paper.flatten() {
            out.push((sp, h));
        }
    }
    Ok(out)
}

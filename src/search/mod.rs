//! Ranked full-text search over everything stored: the tantivy index beside the store
//! (`index`), derived from it and caught up from its change log (in the service by `follow`,
//! in the background). Queries are the query language's (`crate::query`): the index selects
//! what the topic matcher would, ranked. Each paper's similar papers are kept in the store
//! (`neighbours`), worked out from the index in the background.

mod analysis;
pub mod follow;
pub mod index;
pub mod neighbours;
pub mod rerank;

#[cfg(test)]
pub(crate) mod agreement;

pub use crate::query::{Expr, QueryError, Snippet, parse};
pub use analysis::for_each_word;
pub use follow::{IndexFollower, IndexWake};
pub use index::{CatchUp, Hit, SearchError, SearchIndex, Sort};

use crate::model::paper::{PaperId, StoredPaper};
use crate::store::{Store, StoreError};

/// Longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 180;

/// Where `q`'s words are in each of `abstracts` (none when no word of the query is there,
/// e.g. a match in the title only).
pub fn snippets(q: &Expr, abstracts: &[&str]) -> Vec<Option<Snippet>> {
    abstracts
        .iter()
        .map(|a| crate::query::snippet(q, a, SNIPPET_CHARS))
        .collect()
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

//! Ranked full-text search over everything stored: the query language (`query`, pure) and the
//! tantivy index beside the store (`index`), derived from it and caught up from its change log.
//! Topic matching stays with `topics`; the index is for search and similar papers.

pub mod index;
pub mod query;

pub use index::{CatchUp, Hit, SearchError, SearchIndex, Sort};
pub use query::{QueryError, SearchQuery, parse};

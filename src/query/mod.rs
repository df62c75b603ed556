//! The query language, pure and in one place: what people type to follow papers
//! (`/subscribe`, a topic's `query =`), to list them (`recent`) and to search (`/search`,
//! `paperbell search`, the web's search). One parser (`parse`) and one set of limits, one tree
//! (`Expr`), one meaning (`Expr::matches`, which the search index must agree with), and the
//! forms it is written in: canonical text (`Display`, a topic's id) and arXiv's API query
//! (`arxiv`). `words` says what a word is for all of them; `snippet` marks where a query's
//! words are in a text.
//!
//! Meaning: clauses combine with AND unless `OR` joins them (OR binds tighter); `-x` excludes;
//! a word or phrase is looked for in the title and the abstract as whole words in a row, the
//! last also in its plural (`transformer` finds "Transformers"), `segment*` as a prefix;
//! `ti:`/`abs:` look in one of them; `au:"Name"` is the name's words in a row within one
//! author's name; `cat:` any of the paper's categories; `after:`/`before:` its announcement day.

mod arxiv;
mod eval;
mod parse;
mod snippet;
mod term;
mod tree;
mod words;

#[cfg(test)]
mod tests;

pub use arxiv::search_query;
pub use eval::{MatchText, Why};
pub use parse::parse;
pub use snippet::{Snippet, snippet};
pub use term::Term;
pub use tree::{Expr, Place};
pub use words::{MAX_WORD_BYTES, Word, Words, word_list, words};

/// Longest query accepted, in characters (chat arguments, config, the web).
pub const MAX_QUERY_CHARS: usize = 300;
/// Most words, phrases and author names in one query.
pub const MAX_TERMS: usize = 20;
/// Deepest nesting of parentheses.
pub const MAX_DEPTH: usize = 4;

/// Words too common to look for on their own: a query leaves them out when they stand alone
/// (inside a quoted phrase they count).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "its", "of",
    "on", "or", "our", "that", "the", "this", "to", "we", "with",
];

/// Why a query was refused, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "the query is empty: give words to look for, e.g. gaussian splatting relighting, \"diffusion\" AND video -survey, ti:nerf, au:\"Kaiming He\", cat:cs.CV, after:2025-06-01"
    )]
    Empty,
    #[error("the query is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the query has more than {MAX_TERMS} words, phrases and names")]
    TooManyTerms,
    #[error("every word of the query is too common to search for (the, of, and ...)")]
    OnlyStopwords,
    #[error("`{0}` is not a date like 2025-06-01")]
    BadDate(String),
    #[error("{0}")]
    Syntax(String),
}

//! `paperbell search` and `paperbell similar`: ranked full-text search and similar papers over
//! everything stored, through the index beside the store (caught up first).

use std::path::Path;

use serde_json::Value;

use super::export::paper_json;
use crate::model::paper::{PaperId, StoredPaper};
use crate::search::{
    self, CatchUp, Expr, Hit, QueryError, SearchError, SearchIndex, Snippet, Sort, stored,
};
use crate::store::{Store, StoreError};

/// Why a search could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SearchCommandError {
    #[error("{0}")]
    Query(#[from] QueryError),
    #[error("`{0}` is not an arXiv id (e.g. 2407.11422 or https://arxiv.org/abs/2407.11422)")]
    NotAnId(String),
    #[error("{0} is not in the store (`paperbell fetch` or `paperbell paper {0}` stores it)")]
    NotStored(PaperId),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The index of the store in `data`, caught up with it, and what the catch-up did.
pub fn open_index(store: &Store, data: &Path) -> Result<(SearchIndex, CatchUp), SearchError> {
    let index = SearchIndex::open(&SearchIndex::dir_for(data))?;
    let caught = index.catch_up(store)?;
    Ok((index, caught))
}

/// The best `n` stored papers for `query` (the words of the command line, joined), and the
/// query as parsed (for the snippets).
pub fn search(
    store: &Store,
    index: &SearchIndex,
    query: &str,
    n: usize,
    sort: Sort,
) -> Result<(Expr, Vec<(StoredPaper, Hit)>), SearchCommandError> {
    let q = search::parse(query)?;
    let found = stored(store, index.search(&q, sort, 0, n)?)?;
    Ok((q, found))
}

/// Where `q`'s words are in a paper's abstract, read as people read it (TeX as text).
pub fn snippet(q: &Expr, sp: &StoredPaper) -> Option<Snippet> {
    let text = paperbell_chat::tex::plain(&sp.paper.abstract_text);
    search::snippets(q, &[text.as_str()]).pop().flatten()
}

/// Results as text: each paper as `recent` lists it, then (for a search) where the query's
/// words are in its abstract, each matched word between `mark.0` and `mark.1`.
pub fn text(results: &[(StoredPaper, Hit)], q: Option<&Expr>, mark: (&str, &str)) -> String {
    let mut out = String::new();
    for (sp, _) in results {
        out.push_str(&crate::digest::render_list(std::slice::from_ref(sp)));
        if let Some(s) = q.and_then(|q| snippet(q, sp)) {
            let mut line = String::new();
            let mut at = 0;
            for m in &s.marks {
                line.push_str(&s.text[at..m.start]);
                line.push_str(mark.0);
                line.push_str(&s.text[m.clone()]);
                line.push_str(mark.1);
                at = m.end;
            }
            line.push_str(&s.text[at..]);
            out.push_str(&format!("            “{line}”\n"));
        }
    }
    out
}

/// The `n` stored papers most like the paper `id` (an id or URL), itself left out.
pub fn similar(
    store: &Store,
    index: &SearchIndex,
    id: &str,
    n: usize,
) -> Result<Vec<(StoredPaper, Hit)>, SearchCommandError> {
    let pid = PaperId::parse(id).ok_or_else(|| SearchCommandError::NotAnId(id.to_string()))?;
    let paper = store
        .paper(&pid)?
        .ok_or(SearchCommandError::NotStored(pid))?;
    Ok(stored(
        store,
        crate::search::neighbours::similar(index, store, &paper, 0, n)?,
    )?)
}

/// Results as `--json` prints them: the keys of `recent --json`, plus `score` (higher is
/// better; `null` when sorted by date) and, for a search, `snippet` (`text` and the byte
/// ranges of the matched words in it as `marks`, or `null` when none is in the abstract).
pub fn json(
    store: &Store,
    results: &[(StoredPaper, Hit)],
    q: Option<&Expr>,
) -> Result<Value, StoreError> {
    let mut out = Vec::with_capacity(results.len());
    for (sp, hit) in results {
        let mut v = paper_json(store, sp)?;
        if let Value::Object(m) = &mut v {
            if let Some(q) = q {
                let s = snippet(q, sp).map(|s| {
                    serde_json::json!({
                        "text": s.text,
                        "marks": s.marks.iter().map(|r| [r.start, r.end]).collect::<Vec<_>>(),
                    })
                });
                m.insert("snippet".into(), s.unwrap_or(Value::Null));
            }
            m.insert(
                "score".into(),
                hit.score
                    .and_then(|s| serde_json::Number::from_f64(f64::from(s)))
                    .map_or(Value::Null, Value::Number),
            );
        }
        out.push(v);
    }
    Ok(Value::Array(out))
}

//! A query as arXiv's API `search_query` (`cat:`, `ti:`/`abs:`, `au:`, `ANDNOT`). arXiv cannot
//! say everything the language can (a `-` inside `OR`, dates): such parts are left out, so the
//! API returns more than the query, never less, and ingest's matching keeps what matches.

use super::tree::{Expr, Place};

/// The `search_query` for `e`, or `None` when nothing of it can be said to arXiv. Only the
/// value: callers pass it as one URL parameter (percent-encoded), so no text here can add
/// other parameters.
pub fn search_query(e: &Expr) -> Option<String> {
    render(e)
}

fn render(e: &Expr) -> Option<String> {
    match e {
        Expr::And(v) => {
            let pos: Vec<String> = v
                .iter()
                .filter(|e| !matches!(e, Expr::Not(_)))
                .filter_map(render)
                .collect();
            if pos.is_empty() {
                return None;
            }
            let mut q = pos.join(" AND ");
            for n in v.iter().filter_map(|e| match e {
                Expr::Not(inner) => render(inner),
                _ => None,
            }) {
                let n = if n.starts_with('(') || !n.contains(' ') {
                    n
                } else {
                    format!("({n})")
                };
                q = format!("{q} ANDNOT {n}");
            }
            Some(q)
        }
        Expr::Or(_) | Expr::Words(_, Place::Anywhere) => {
            let parts = disjuncts(e)?;
            Some(if parts.len() == 1 {
                parts.into_iter().next()?
            } else {
                format!("({})", parts.join(" OR "))
            })
        }
        Expr::Not(_) | Expr::After(_) | Expr::Before(_) => None,
        Expr::Words(t, Place::Title) => Some(format!("ti:{}", t.arxiv_text())),
        Expr::Words(t, Place::Abstract) => Some(format!("abs:{}", t.arxiv_text())),
        Expr::Author { name, .. } => Some(format!("au:\"{}\"", name.replace('"', ""))),
        Expr::Category(c) => Some(format!("cat:{c}")),
    }
}

/// The alternatives of an `OR` (a word anywhere is its title and its abstract), flattened.
fn disjuncts(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Or(v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(disjuncts(c)?);
            }
            (!out.is_empty()).then_some(out)
        }
        Expr::Words(t, Place::Anywhere) => Some(vec![
            format!("ti:{}", t.arxiv_text()),
            format!("abs:{}", t.arxiv_text()),
        ]),
        e => render(e).map(|s| vec![s]),
    }
}

//! A topic as arXiv's API `search_query` (`cat:`, `ti:`/`abs:` terms, `au:`, `ANDNOT`).

use super::Topic;

impl Topic {
    /// The arXiv API `search_query` for this topic. Only the value: callers pass it as one
    /// URL parameter (percent-encoded by reqwest), so no text here can add other parameters.
    pub fn search_query(&self) -> String {
        let or = |parts: Vec<String>| -> String {
            if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                format!("({})", parts.join(" OR "))
            }
        };
        let mut and_parts = Vec::new();
        if !self.categories.is_empty() {
            and_parts.push(or(self
                .categories
                .iter()
                .map(|c| format!("cat:{c}"))
                .collect()));
        }
        for group in &self.keywords {
            and_parts.push(or(group
                .iter()
                .flat_map(|t| {
                    [
                        format!("ti:{}", t.query_text()),
                        format!("abs:{}", t.query_text()),
                    ]
                })
                .collect()));
        }
        let mut q = and_parts.join(" AND ");
        if !self.authors.is_empty() {
            let au = or(self
                .authors
                .iter()
                .map(|a| format!("au:\"{}\"", a.replace('"', "")))
                .collect());
            q = if q.is_empty() {
                au
            } else {
                format!("(({q}) OR {au})")
            };
        }
        for t in &self.exclude {
            q = format!("{q} ANDNOT (ti:{0} OR abs:{0})", t.query_text());
        }
        q
    }
}

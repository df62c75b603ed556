//! The search query language, pure: the topic query syntax people already know
//! (`"diffusion" AND video -survey`, `nerf OR "gaussian splatting"`, `cat:cs.CV`,
//! `au:"Kaiming He"`, `segment*`), plus `ti:` and `abs:` for one field and `after:` / `before:`
//! for announcement days. Bounded: a query that is empty, too long, has too many terms or only
//! stopwords is refused with a reason before it reaches the index.

use chrono::NaiveDate;

use crate::topics::{Term, parse_query};

/// Longest query accepted (as chat arguments).
pub const MAX_QUERY_CHARS: usize = 300;
/// Most words and phrases in one query.
pub const MAX_TERMS: usize = 20;

/// Where a word must be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Title, abstract or comment (a title match weighs most).
    Anywhere,
    Title,
    Abstract,
}

/// A word or quoted phrase, folded as topics fold it (lower case, hyphens as spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// `segment*`: any word starting with the text.
    pub prefix: bool,
    pub place: Place,
}

/// A parsed query: every group must match (by any of its words), no excluded word may.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub all: Vec<Vec<Word>>,
    pub none: Vec<Word>,
    /// In any of these categories (canonical spelling).
    pub categories: Vec<String>,
    /// By any of these authors.
    pub authors: Vec<String>,
    /// Announced on or after this day.
    pub after: Option<NaiveDate>,
    /// Announced before this day.
    pub before: Option<NaiveDate>,
}

impl SearchQuery {
    /// Whether the query has words to rank by (else it only filters, and results come newest
    /// first).
    pub fn ranks(&self) -> bool {
        !self.all.is_empty()
    }
}

/// Why a query was refused, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "give words to look for, e.g. gaussian splatting relighting, \"diffusion\" AND video -survey, ti:nerf, au:\"Kaiming He\", cat:cs.CV, after:2025-06-01"
    )]
    Empty,
    #[error("the query is longer than {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the query has more than {MAX_TERMS} words and phrases")]
    TooManyTerms,
    #[error("every word of the query is too common to search for (the, of, and ...)")]
    OnlyStopwords,
    #[error("`{0}` is not a date like 2025-06-01")]
    BadDate(String),
    #[error("{0}")]
    Syntax(String),
}

/// Words too common to search for on their own; the index leaves them out too.
pub(super) const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "its", "of",
    "on", "or", "our", "that", "the", "this", "to", "we", "with",
];

/// Parses a query. `ti:`, `abs:`, `after:` and `before:` clauses are taken out first (each
/// `ti:`/`abs:` clause is required on its own); the rest is the topic query syntax.
pub fn parse(input: &str) -> Result<SearchQuery, QueryError> {
    let input = input.trim();
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let mut q = SearchQuery::default();
    let mut rest = Vec::new();
    for chunk in chunks(input) {
        let lower = chunk.to_ascii_lowercase();
        let field = |name: &str| lower.starts_with(name).then(|| &chunk[name.len()..]);
        if let Some(v) = field("ti:") {
            q.all.push(vec![word(v, Place::Title)?]);
        } else if let Some(v) = field("abs:") {
            q.all.push(vec![word(v, Place::Abstract)?]);
        } else if let Some(v) = field("after:") {
            q.after = Some(date(v)?);
        } else if let Some(v) = field("before:") {
            q.before = Some(date(v)?);
        } else {
            rest.push(chunk);
        }
    }
    if !rest.is_empty() {
        let topic = parse_query(&rest.join(" ")).map_err(|e| QueryError::Syntax(e.0))?;
        let anywhere = |t: &Term| Word {
            text: t.text.clone(),
            prefix: t.prefix,
            place: Place::Anywhere,
        };
        q.all.extend(
            topic
                .keywords
                .iter()
                .map(|g| g.iter().map(anywhere).collect()),
        );
        q.none.extend(topic.exclude.iter().map(anywhere));
        q.categories = topic.categories.iter().map(|c| c.0.clone()).collect();
        q.authors = topic.authors;
    }
    let words = q.all.iter().map(Vec::len).sum::<usize>() + q.none.len();
    if words > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    let filters = !q.categories.is_empty()
        || !q.authors.is_empty()
        || q.after.is_some()
        || q.before.is_some();
    if q.all.is_empty() && !filters {
        return Err(QueryError::Empty);
    }
    let common = |w: &Word| !w.prefix && w.text.split(' ').all(|part| STOPWORDS.contains(&part));
    // A group of nothing but stopwords would match nearly every paper: it is left out, and a
    // query of nothing else is refused.
    let before = q.all.len();
    q.all.retain(|g| !g.iter().all(common));
    if q.all.is_empty() && before > 0 && !filters {
        return Err(QueryError::OnlyStopwords);
    }
    Ok(q)
}

/// The query split at white space outside double quotes, quotes kept.
fn chunks(input: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (None, false);
    for (i, c) in input.char_indices() {
        if c == '"' || c == '“' || c == '”' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if let Some(s) = start.take() {
                out.push(&input[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&input[s..]);
    }
    out
}

fn word(raw: &str, place: Place) -> Result<Word, QueryError> {
    let unquoted = raw.trim_matches(|c| c == '"' || c == '“' || c == '”');
    if unquoted.trim().is_empty() {
        return Err(QueryError::Syntax(format!(
            "`{raw}`: give a word or \"a phrase\" after the field"
        )));
    }
    let term = Term::new(unquoted).map_err(|e| QueryError::Syntax(e.0))?;
    Ok(Word {
        text: term.text,
        prefix: term.prefix,
        place,
    })
}

fn date(raw: &str) -> Result<NaiveDate, QueryError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| QueryError::BadDate(raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, place: Place) -> Word {
        Word {
            text: text.into(),
            prefix: false,
            place,
        }
    }

    #[test]
    fn fields_dates_and_the_topic_syntax_combine() {
        let q = parse(
            "ti:\"gaussian splatting\" relighting -survey abs:segment* cat:cs.CV after:2025-06-01 before:2026-01-01",
        )
        .unwrap();
        assert_eq!(
            q.all,
            vec![
                vec![w("gaussian splatting", Place::Title)],
                vec![Word {
                    text: "segment".into(),
                    prefix: true,
                    place: Place::Abstract
                }],
                vec![w("relighting", Place::Anywhere)],
            ]
        );
        assert_eq!(q.none, vec![w("survey", Place::Anywhere)]);
        assert_eq!(q.categories, vec!["cs.CV".to_string()]);
        assert_eq!(q.after, NaiveDate::from_ymd_opt(2025, 6, 1));
        assert_eq!(q.before, NaiveDate::from_ymd_opt(2026, 1, 1));
        let or = parse("nerf OR \"gaussian splatting\" au:\"Kaiming He\"").unwrap();
        assert_eq!(or.all[0].len(), 2, "{or:?}");
        assert_eq!(or.authors, vec!["Kaiming He".to_string()]);
        assert!(
            parse("cat:cs.CV").is_ok_and(|q| !q.ranks()),
            "a filter alone is a query"
        );
    }

    #[test]
    fn odd_queries_are_refused_with_a_reason() {
        assert_eq!(parse("  "), Err(QueryError::Empty));
        assert_eq!(parse("the of and"), Err(QueryError::OnlyStopwords));
        let kept = parse("splatting with relighting").unwrap();
        assert_eq!(
            kept.all.len(),
            2,
            "a stopword among words is left out: {kept:?}"
        );
        assert_eq!(parse(&"x".repeat(301)), Err(QueryError::TooLong));
        let many = (0..21)
            .map(|i| format!("ti:word{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(parse(&many), Err(QueryError::TooManyTerms));
        assert_eq!(
            parse("after:yesterday nerf"),
            Err(QueryError::BadDate("yesterday".into()))
        );
        assert!(matches!(parse("ti:"), Err(QueryError::Syntax(_))));
        assert!(matches!(parse("nerf OR"), Err(QueryError::Syntax(_))));
        assert!(matches!(parse("\"unclosed"), Err(QueryError::Syntax(_))));
        for odd in ["%%%", "((", "ti:\"\"", "💥 💥", "-", "*", "a*"] {
            assert!(parse(odd).is_err(), "{odd}");
        }
    }
}

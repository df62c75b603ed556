//! Where papers come from. `parse(&[u8])` is pure and detects the format from the document
//! (arXiv API Atom, the RSS 2.0 announcement feed, or its Atom variant); `fetch` is the thin,
//! polite HTTP edge that feeds it.

pub mod arxiv_api;
pub mod arxiv_feed;
pub mod arxiv_html;
pub mod fetch;
pub mod huggingface;
pub mod library;
pub mod retry;
pub mod xml;

use chrono::{DateTime, Utc};

use crate::model::paper::{Paper, normalize_ws};

/// Which arXiv document a parse found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `export.arxiv.org/api/query` (Atom 1.0 with opensearch and arxiv extensions).
    Api,
    /// `rss.arxiv.org/rss/<cats>` (RSS 2.0).
    Rss,
    /// `rss.arxiv.org/atom/<cats>` (Atom 1.0, entries with `oai:arXiv.org:` ids).
    AtomFeed,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not XML, not an arXiv document, or cut short.
    #[error("line {line}, column {column}: {reason}")]
    Invalid {
        line: usize,
        column: usize,
        reason: String,
    },
    /// The API answered with its error feed (one entry whose id contains `/api/errors`).
    #[error("arXiv API error: {message}")]
    Api { message: String },
}

/// Why an entry of a document is not a paper: it is skipped with a warning, the rest stored.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Skip {
    #[error("entry has no id (not a paper)")]
    NoId,
    #[error("`{0}` is not an arXiv id")]
    NotArxivId(String),
    #[error("no arXiv id in guid, id, description or link")]
    NoFeedId,
}

/// The papers of one document, plus what the document said about paging.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub format: Option<Format>,
    pub papers: Vec<Paper>,
    /// Entries that were skipped, with the reason (no id, an id that is not arXiv's, ...).
    pub warnings: Vec<String>,
    /// Number of `<entry>`/`<item>` elements seen, papers or not.
    pub entries: usize,
    pub total_results: Option<u64>,
    pub start_index: Option<u64>,
    pub items_per_page: Option<u64>,
}

/// Parses one arXiv document of any supported format. Pure: no I/O, no clock.
pub fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = xml::line_col(valid, valid.len());
            return Err(ParseError::Invalid {
                line,
                column,
                reason: "invalid UTF-8".into(),
            });
        }
    };
    let raw = xml::walk(doc)?;
    let mut out = Parsed {
        entries: raw.entries.len(),
        total_results: raw
            .total_results
            .as_deref()
            .and_then(|s| s.trim().parse().ok()),
        start_index: raw
            .start_index
            .as_deref()
            .and_then(|s| s.trim().parse().ok()),
        items_per_page: raw
            .items_per_page
            .as_deref()
            .and_then(|s| s.trim().parse().ok()),
        ..Parsed::default()
    };
    let root = raw.root.expect("walk returns a root");
    let is_atom_feed = root == xml::Root::Atom
        && raw.entries.iter().any(|e| {
            e.id.as_deref()
                .is_some_and(|id| id.trim().starts_with("oai:"))
        });
    out.format = Some(match root {
        xml::Root::Rss => Format::Rss,
        xml::Root::Atom if is_atom_feed => Format::AtomFeed,
        xml::Root::Atom => Format::Api,
    });
    for entry in &raw.entries {
        let converted = match out.format {
            Some(Format::Api) => arxiv_api::convert(entry)?,
            _ => arxiv_feed::convert(entry, raw.channel_pub_date.as_ref()),
        };
        match converted {
            Ok(p) => out.papers.push(p),
            Err(why) => out
                .warnings
                .push(format!("line {}: entry skipped: {why}", entry.line)),
        }
    }
    dedupe_keep_newest(&mut out.papers);
    Ok(out)
}

/// A feed can list a paper twice (and keep serving yesterday's batch): keep one per id, the
/// highest version, in first-seen order.
fn dedupe_keep_newest(papers: &mut Vec<Paper>) {
    let mut first: std::collections::HashMap<crate::model::paper::PaperId, usize> =
        Default::default();
    let mut keep = vec![true; papers.len()];
    for i in 0..papers.len() {
        match first.get(&papers[i].id) {
            Some(&j) => {
                if papers[i].version > papers[j].version {
                    // The newer version takes the first one's place.
                    papers.swap(i, j);
                }
                keep[i] = false;
            }
            None => {
                first.insert(papers[i].id.clone(), i);
            }
        }
    }
    let mut i = 0;
    papers.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Normalised text or `None` when empty.
pub(crate) fn clean(s: Option<&String>) -> Option<String> {
    s.map(|s| normalize_ws(s)).filter(|s| !s.is_empty())
}

pub(crate) fn parse_rfc3339(s: Option<&String>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// RFC 2822 dates as feeds write them; a weekday name that does not match the date (a common
/// feed bug) is ignored rather than losing the date.
pub(crate) fn parse_rfc2822(s: Option<&String>) -> Option<DateTime<Utc>> {
    let s = s?.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|e| match s.split_once(',') {
            Some((_, rest)) => DateTime::parse_from_rfc2822(rest.trim()),
            None => Err(e),
        })
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Splits the feeds' single `dc:creator` string into names: commas (and a final " and ")
/// outside parentheses separate names; a trailing "(affiliation, ...)" is dropped; empty
/// pieces (arXiv writes a one-word name as ",  Name") disappear.
pub fn split_creators(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = (depth - 1).max(0),
            b',' if depth == 0 => {
                push_name(&mut names, &s[start..i]);
                start = i + 1;
            }
            b' ' if depth == 0 && s[i..].starts_with(" and ") => {
                push_name(&mut names, &s[start..i]);
                i += " and".len();
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    push_name(&mut names, &s[start..]);
    names
}

fn push_name(names: &mut Vec<String>, piece: &str) {
    let mut name = piece.trim();
    // Drop trailing parenthesised affiliations, possibly several: "A (X) (Y)".
    while name.ends_with(')') {
        let mut depth = 0;
        let mut open_at = None;
        for (i, c) in name.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        open_at = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        match open_at {
            Some(i) => name = name[..i].trim_end(),
            None => break,
        }
    }
    let name = normalize_ws(name);
    if !name.is_empty() {
        names.push(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2822_dates_tolerate_a_wrong_weekday() {
        let d = |s: &str| parse_rfc2822(Some(&s.to_string())).map(|d| d.to_rfc3339());
        assert_eq!(
            d("Tue, 19 Nov 2024 00:00:00 -0500").as_deref(),
            Some("2024-11-19T05:00:00+00:00")
        );
        assert_eq!(
            d("Mon, 19 Nov 2024 00:00:00 -0500").as_deref(),
            Some("2024-11-19T05:00:00+00:00")
        );
        assert_eq!(
            d("19 Nov 2024 00:00:00 EST").as_deref(),
            Some("2024-11-19T05:00:00+00:00")
        );
        assert_eq!(d("yesterday"), None);
    }

    #[test]
    fn creators_split_outside_parentheses() {
        assert_eq!(
            split_creators(
                "Ada Lovelace (Analytical Engine Inc., London), Alan Turing, Grace Hopper (Navy)"
            ),
            ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
        );
        assert_eq!(
            split_creators(",  Plato, Aristotle"),
            ["Plato", "Aristotle"]
        );
        assert_eq!(
            split_creators("A. Author and B. Author"),
            ["A. Author", "B. Author"]
        );
        assert_eq!(
            split_creators("Zoë Müller, 王小明"),
            ["Zoë Müller", "王小明"]
        );
        assert_eq!(split_creators("  "), Vec::<String>::new());
        assert_eq!(split_creators("Sandra (MIT (CSAIL), USA)"), ["Sandra"]);
    }
}

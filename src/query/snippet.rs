//! Where a query's words are in a text, for showing a hit: the fragment of the text with the
//! most of them and their byte ranges in it. Read with the same words and the same rules as
//! matching, so what is marked is what matched (prefixes and plurals included).

use std::ops::Range;

use super::term::Term;
use super::tree::{Expr, Place};
use super::words::{Word, words};

/// A fragment of a text and the byte ranges (within the fragment) of the matched words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    pub marks: Vec<Range<usize>>,
}

/// Characters shown before the first mark of a fragment.
const LEAD_CHARS: usize = 40;

/// The fragment of at most `max_chars` characters of `text` (an abstract) holding the most
/// words of `e` that may match an abstract; `None` when it holds none.
pub fn snippet(e: &Expr, text: &str, max_chars: usize) -> Option<Snippet> {
    let mut terms = Vec::new();
    collect(e, &mut terms);
    let ws: Vec<Word<'_>> = words(text).collect();
    let mut marks: Vec<Range<usize>> = Vec::new();
    for t in terms {
        let n = t.words.len();
        for i in 0..ws.len().saturating_sub(n - 1) {
            let hit = t.words[..n - 1]
                .iter()
                .zip(&ws[i..])
                .all(|(a, b)| *a == b.text)
                && t.last_matches(&ws[i + n - 1].text);
            if hit {
                marks.push(ws[i].at.start..ws[i + n - 1].at.end);
            }
        }
    }
    if marks.is_empty() {
        return None;
    }
    marks.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    // Overlapping marks (a phrase and one of its words) are one.
    let mut merged: Vec<Range<usize>> = Vec::new();
    for m in marks {
        match merged.last_mut() {
            Some(last) if m.start < last.end => last.end = last.end.max(m.end),
            _ => merged.push(m),
        }
    }
    let window = |first: &Range<usize>| {
        let lead = text[..first.start]
            .char_indices()
            .rev()
            .nth(LEAD_CHARS.saturating_sub(1))
            .map_or(0, |(i, _)| i);
        // Start at a word: after the white space nearest the lead's start.
        let start = if lead == 0 {
            0
        } else {
            text[lead..first.start]
                .find(char::is_whitespace)
                .map_or(first.start, |k| lead + k + 1)
        };
        let end = text[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| start + i);
        // End at a word too, unless the text ends first.
        let end = if end == text.len() {
            end
        } else {
            text[start..end]
                .rfind(char::is_whitespace)
                .map_or(end, |k| start + k)
        };
        (start, end)
    };
    let (start, end) = merged.iter().map(window).max_by_key(|&(s, e)| {
        let inside = merged.iter().filter(|m| m.start >= s && m.end <= e).count();
        (inside, std::cmp::Reverse(s))
    })?;
    let kept: Vec<Range<usize>> = merged
        .iter()
        .filter(|m| m.start >= start && m.end <= end)
        .map(|m| m.start - start..m.end - start)
        .collect();
    (!kept.is_empty()).then(|| Snippet {
        text: text[start..end].trim_end().to_string(),
        marks: kept,
    })
}

/// The terms of `e` that can match an abstract, outside any `-`.
fn collect<'a>(e: &'a Expr, out: &mut Vec<&'a Term>) {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter().for_each(|c| collect(c, out)),
        Expr::Words(t, Place::Anywhere | Place::Abstract) => out.push(t),
        _ => {}
    }
}

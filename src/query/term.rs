//! A word or phrase of a query: its words as `words` reads them, found in a text's words in a
//! row, the last one also in its plural (`transformer` ~ `transformers`, `box` ~ `boxes`), or
//! as a prefix (`segment*`).

use std::fmt;
use std::hash::{Hash, Hasher};

use memchr::memmem::Finder;

use super::QueryError;
use super::words::word_list;

/// A word or phrase to look for.
#[derive(Clone)]
pub struct Term {
    /// The words, lower-cased, at least one.
    pub words: Vec<String>,
    /// `segment*`: the (single) word starts a word of the text.
    pub prefix: bool,
    /// The first word's searcher, built once: a term is looked for in every paper ingested.
    first: std::sync::Arc<Finder<'static>>,
}

impl PartialEq for Term {
    fn eq(&self, o: &Term) -> bool {
        self.words == o.words && self.prefix == o.prefix
    }
}

impl Eq for Term {}

impl Hash for Term {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.words.hash(h);
        self.prefix.hash(h);
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Term({self})")
    }
}

impl Term {
    /// A term from what a person typed (`"gaussian splatting"` without its quotes, `nerf`,
    /// `segment*`).
    pub fn new(raw: &str) -> Result<Term, QueryError> {
        let raw = raw.trim();
        let (body, prefix) = match raw.strip_suffix('*') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        let words = word_list(body);
        let letters: usize = words.iter().map(|w| w.chars().count()).sum();
        if letters < 2 {
            return Err(QueryError::Syntax(format!(
                "`{raw}` is too short to search for (2 letters at least)"
            )));
        }
        if prefix && (words.len() > 1 || body.ends_with(|c: char| !c.is_alphanumeric())) {
            return Err(QueryError::Syntax(format!(
                "`{raw}`: a prefix search (word*) works on a single word"
            )));
        }
        let first = std::sync::Arc::new(Finder::new(words[0].as_bytes()).into_owned());
        Ok(Term {
            words,
            prefix,
            first,
        })
    }

    /// Where the first word's bytes are in `hay`.
    pub(super) fn first_at<'h>(&'h self, hay: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        self.first.find_iter(hay)
    }

    /// The words joined by spaces.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }

    /// Whether `word` may stand for the term's last word.
    pub fn last_matches(&self, word: &str) -> bool {
        word.strip_prefix(self.last())
            .is_some_and(|rest| self.prefix || rest.is_empty() || rest == "s" || rest == "es")
    }

    /// The last word (the one a plural or a prefix applies to).
    pub fn last(&self) -> &str {
        self.words.last().map_or("", String::as_str)
    }

    /// The order terms are written in, so that equivalent queries read the same.
    pub fn key(&self) -> (String, bool) {
        (self.text(), self.prefix)
    }

    /// As arXiv's API reads a term: `"a phrase"` or `prefix*`.
    pub fn arxiv_text(&self) -> String {
        if self.prefix {
            format!("{}*", self.text())
        } else {
            format!("\"{}\"", self.text())
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix {
            write!(f, "{}*", self.text())
        } else if self.words.len() > 1 || super::STOPWORDS.contains(&self.words[0].as_str()) {
            // A common word alone is left out unless quoted: keep the quotes it was given.
            write!(f, "\"{}\"", self.text())
        } else {
            f.write_str(&self.text())
        }
    }
}

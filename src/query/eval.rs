//! The query's meaning, evaluated on one paper: the topic matcher and the reference the search
//! index must agree with (a property test holds them to it). A paper's text is prepared once
//! (`MatchText`) and then matched against every topic.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::term::Term;
use super::tree::{Expr, Place};
use super::words::{MAX_WORD_BYTES, word_list, words};
use crate::model::paper::{Paper, StoredPaper};

/// A text's words, in order and sorted for look-ups (borrowed from the text where already
/// lower case, as most are): how a term is found where the fast path below cannot be sure.
struct Tokens<'a> {
    words: Vec<Cow<'a, str>>,
    /// Indices into `words`, by word.
    sorted: Vec<u32>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        let words: Vec<Cow<'a, str>> = words(text).map(|w| w.text).collect();
        let mut sorted: Vec<u32> = (0..words.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| words[a as usize].cmp(&words[b as usize]));
        Tokens { words, sorted }
    }

    /// Whether `term` is in the text: its last word (or a plural of it, or a word it starts,
    /// for a prefix) preceded by its other words.
    fn has(&self, term: &Term) -> bool {
        let last = term.last();
        let n = term.words.len();
        let from = self
            .sorted
            .partition_point(|&i| &*self.words[i as usize] < last);
        self.sorted[from..]
            .iter()
            .map(|&i| i as usize)
            .take_while(|&i| self.words[i].starts_with(last))
            .any(|i| {
                term.last_matches(&self.words[i])
                    && i + 1 >= n
                    && self.words[i + 1 - n..i]
                        .iter()
                        .zip(&term.words)
                        .all(|(a, b)| **a == **b)
            })
    }
}

/// A title or abstract, read for terms. Ingest matches every paper against every topic, so a
/// term of ASCII words is looked for as bytes in the text lower-cased as ASCII (one vectorised
/// search; most terms are in no paper) and checked where found against the rules of `words`;
/// only texts with the two characters whose lower case is ASCII (`İ`, the Kelvin sign) and
/// terms with other letters are read into words.
struct Field<'a> {
    text: &'a str,
    lower: Vec<u8>,
    /// Holds `İ` or `K` (Kelvin): its bytes do not say where its words are.
    exotic: bool,
    tokens: std::cell::OnceCell<Tokens<'a>>,
}

impl<'a> Field<'a> {
    fn new(text: &'a str) -> Field<'a> {
        Field {
            text,
            lower: text.as_bytes().to_ascii_lowercase(),
            exotic: !text.is_ascii() && text.contains(['\u{130}', '\u{212A}']),
            tokens: std::cell::OnceCell::new(),
        }
    }

    fn has(&self, term: &Term) -> bool {
        if self.exotic || !term.words.iter().all(|w| w.is_ascii()) {
            return self.tokens.get_or_init(|| Tokens::new(self.text)).has(term);
        }
        term.first_at(&self.lower).any(|at| self.term_at(at, term))
    }

    /// Whether `term` starts at byte `at` (where its first word's bytes are).
    fn term_at(&self, at: usize, term: &Term) -> bool {
        let text = self.text;
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
        {
            return false;
        }
        let mut pos = at;
        for (i, w) in term.words.iter().enumerate() {
            let end = word_end(text, pos);
            if end - pos > MAX_WORD_BYTES {
                return false;
            }
            let word = &self.lower[pos..end];
            if i + 1 == term.words.len() {
                // Non-ASCII bytes stay as they are: a word holding any is longer than `w`.
                return word.strip_prefix(w.as_bytes()).is_some_and(|rest| {
                    term.prefix || rest.is_empty() || rest == b"s" || rest == b"es"
                });
            }
            if word != w.as_bytes() {
                return false;
            }
            // The next word, over what separates them and any run too long to be a word.
            pos = end;
            loop {
                let Some(start) = text[pos..].find(char::is_alphanumeric) else {
                    return false;
                };
                pos += start;
                let e = word_end(text, pos);
                if e - pos <= MAX_WORD_BYTES {
                    break;
                }
                pos = e;
            }
        }
        false
    }
}

/// Where the word starting at `pos` ends.
fn word_end(text: &str, pos: usize) -> usize {
    text[pos..]
        .find(|c: char| !c.is_alphanumeric())
        .map_or(text.len(), |k| pos + k)
}

/// A paper as the query language reads it: the words of its title, its abstract and each
/// author's name, its categories and its announcement day.
pub struct MatchText<'a> {
    title: Field<'a>,
    body: Field<'a>,
    /// Read when a query names an author.
    authors: std::cell::OnceCell<Vec<Vec<String>>>,
    paper: &'a Paper,
    day: Option<NaiveDate>,
}

impl<'a> MatchText<'a> {
    /// `p` announced on `day` (the day ingest gives it).
    pub fn new(p: &'a Paper, day: Option<NaiveDate>) -> Self {
        MatchText {
            title: Field::new(&p.title),
            body: Field::new(&p.abstract_text),
            authors: std::cell::OnceCell::new(),
            paper: p,
            day,
        }
    }

    /// A stored paper, on the day it was first announced (what the index holds too).
    pub fn of_stored(sp: &'a StoredPaper) -> Self {
        MatchText::new(
            &sp.paper,
            sp.first_announced.or_else(|| sp.paper.announce_day()),
        )
    }
}

/// Why a paper matched: for ranking and display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Why {
    /// A word or phrase of the query was found in the title.
    pub in_title: bool,
    /// An `au:` clause matched.
    pub by_author: bool,
}

impl Why {
    fn and(self, o: Why) -> Why {
        Why {
            in_title: self.in_title || o.in_title,
            by_author: self.by_author || o.by_author,
        }
    }
}

impl Expr {
    /// Whether the paper matches, and why.
    pub fn matches(&self, t: &MatchText<'_>) -> Option<Why> {
        match self {
            Expr::And(v) => v
                .iter()
                .try_fold(Why::default(), |why, e| Some(why.and(e.matches(t)?))),
            Expr::Or(v) => v.iter().filter_map(|e| e.matches(t)).reduce(Why::and),
            Expr::Not(e) => e.matches(t).is_none().then_some(Why::default()),
            Expr::Words(term, place) => {
                let in_title = *place != Place::Abstract && t.title.has(term);
                let found = in_title || (*place != Place::Title && t.body.has(term));
                found.then_some(Why {
                    in_title,
                    by_author: false,
                })
            }
            Expr::Author { words, .. } => t
                .authors
                .get_or_init(|| t.paper.authors.iter().map(|a| word_list(a)).collect())
                .iter()
                .any(|a| a.windows(words.len()).any(|w| w == words.as_slice()))
                .then_some(Why {
                    in_title: false,
                    by_author: true,
                }),
            Expr::Category(c) => t
                .paper
                .categories
                .iter()
                .any(|p| p.0 == *c)
                .then_some(Why::default()),
            Expr::After(d) => t.day.is_some_and(|day| day >= *d).then_some(Why::default()),
            Expr::Before(d) => t.day.is_some_and(|day| day < *d).then_some(Why::default()),
        }
    }
}

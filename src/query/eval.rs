//! The query's meaning, evaluated on one paper: the topic matcher and the reference the search
//! index must agree with (a property test holds them to it). A paper's text is read into words
//! once (`MatchText`) and then matched against every topic.

use chrono::NaiveDate;

use super::term::Term;
use super::tree::{Expr, Place};
use super::words::word_list;
use crate::model::paper::{Paper, StoredPaper};

/// A text's words, in order and sorted for look-ups.
struct Field {
    words: Vec<String>,
    /// Indices into `words`, by word.
    sorted: Vec<u32>,
}

impl Field {
    fn new(text: &str) -> Field {
        let words = word_list(text);
        let mut sorted: Vec<u32> = (0..words.len() as u32).collect();
        sorted.sort_unstable_by(|&a, &b| words[a as usize].cmp(&words[b as usize]));
        Field { words, sorted }
    }

    /// Whether `term` is in the text: its last word (or a plural of it, or a word it starts,
    /// for a prefix) preceded by its other words.
    fn has(&self, term: &Term) -> bool {
        let last = term.last();
        let n = term.words.len();
        let from = self
            .sorted
            .partition_point(|&i| self.words[i as usize].as_str() < last);
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
                        .all(|(a, b)| a == b)
            })
    }
}

/// A paper as the query language reads it: the words of its title, its abstract and each
/// author's name, its categories and its announcement day.
pub struct MatchText {
    title: Field,
    body: Field,
    authors: Vec<Vec<String>>,
    categories: Vec<String>,
    day: Option<NaiveDate>,
}

impl MatchText {
    /// `p` announced on `day` (the day ingest gives it).
    pub fn new(p: &Paper, day: Option<NaiveDate>) -> Self {
        MatchText {
            title: Field::new(&p.title),
            body: Field::new(&p.abstract_text),
            authors: p.authors.iter().map(|a| word_list(a)).collect(),
            categories: p.categories.iter().map(|c| c.0.clone()).collect(),
            day,
        }
    }

    /// A stored paper, on the day it was first announced (what the index holds too).
    pub fn of_stored(sp: &StoredPaper) -> Self {
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
    pub fn matches(&self, t: &MatchText) -> Option<Why> {
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
                .iter()
                .any(|a| a.windows(words.len()).any(|w| w == words.as_slice()))
                .then_some(Why {
                    in_title: false,
                    by_author: true,
                }),
            Expr::Category(c) => t.categories.contains(c).then_some(Why::default()),
            Expr::After(d) => t.day.is_some_and(|day| day >= *d).then_some(Why::default()),
            Expr::Before(d) => t.day.is_some_and(|day| day < *d).then_some(Why::default()),
        }
    }
}

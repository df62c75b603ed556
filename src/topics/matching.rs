//! The pure matcher: whether a paper belongs to a topic, and why (title, author, cross-list).

use memchr::memmem;

use super::term::{fold, word_match};
use super::{Hit, Topic};
use crate::model::paper::{AnnounceType, Paper};

/// A paper's text prepared once for matching against many topics.
pub struct MatchText {
    title: String,
    body: String,
    authors: Vec<String>,
}

impl MatchText {
    pub fn new(p: &Paper) -> Self {
        MatchText {
            title: fold(&p.title),
            body: fold(&p.abstract_text),
            authors: p.authors.iter().map(|a| fold(a)).collect(),
        }
    }
}

impl Topic {
    pub fn matches(&self, p: &Paper, text: &MatchText) -> Option<Hit> {
        if p.announce_type.is_some_and(AnnounceType::is_replacement) && !self.include_replace {
            return None;
        }
        if self
            .exclude
            .iter()
            .any(|t| t.find_in(&text.title) || t.find_in(&text.body))
        {
            return None;
        }
        let by_author = !self.authors.is_empty()
            && self.authors.iter().any(|want| {
                let want = fold(want);
                let finder = memmem::Finder::new(want.as_bytes());
                text.authors
                    .iter()
                    .any(|a| a == &want || word_match(&finder, want.len(), a))
            });
        let cross = if self.categories.is_empty() {
            p.announce_type.is_some_and(AnnounceType::is_cross)
        } else {
            p.is_cross_list_for(&self.categories)
        };
        if by_author {
            return Some(Hit {
                cross,
                in_title: false,
                by_author,
            });
        }
        if self.categories.is_empty() && self.keywords.is_empty() {
            return None;
        }
        if !self.categories.is_empty() && !p.categories.iter().any(|c| self.categories.contains(c))
        {
            return None;
        }
        if cross && !self.include_cross {
            return None;
        }
        let mut in_title = false;
        for group in &self.keywords {
            let mut ok = false;
            for t in group {
                if t.find_in(&text.title) {
                    in_title = true;
                    ok = true;
                    break;
                }
                if t.find_in(&text.body) {
                    ok = true;
                    break;
                }
            }
            if !ok {
                return None;
            }
        }
        Some(Hit {
            cross,
            in_title,
            by_author,
        })
    }
}

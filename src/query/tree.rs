//! A parsed query: the syntax tree every reader of queries shares (the topic matcher, the
//! search index, the arXiv API query), put in one canonical order so that equivalent queries
//! are one topic, and written back as text.

use std::fmt;

use chrono::NaiveDate;

use super::term::Term;

/// Where a word or phrase must be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// The title or the abstract (a title match weighs more in ranking).
    Anywhere,
    /// `ti:`
    Title,
    /// `abs:`
    Abstract,
}

/// A query, as a tree. `And` and `Or` of nothing are true and false.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Words(Term, Place),
    /// `au:"Kaiming He"`: the name's words in a row within one author's name. `name` is as
    /// typed (spaces normalised), for showing; `words` are what is matched.
    Author {
        name: String,
        words: Vec<String>,
    },
    /// `cat:cs.CV`: one of the paper's categories (canonical spelling).
    Category(String),
    /// `after:2025-06-01`: announced on or after the day.
    After(NaiveDate),
    /// `before:2026-01-01`: announced before the day.
    Before(NaiveDate),
}

impl Expr {
    /// Matches nothing (a topic fed by another source).
    pub fn nothing() -> Expr {
        Expr::Or(Vec::new())
    }

    pub fn is_nothing(&self) -> bool {
        matches!(self, Expr::Or(v) if v.is_empty())
    }

    /// Flattened (an `And` in an `And` is one `And`), duplicates dropped, children in the
    /// canonical order, single children unwrapped.
    pub fn canonical(self) -> Expr {
        match self {
            Expr::And(v) => join(v, true),
            Expr::Or(v) => join(v, false),
            Expr::Not(e) => match e.canonical() {
                Expr::Not(inner) => *inner,
                e => Expr::Not(Box::new(e)),
            },
            e => e,
        }
    }

    /// Every term, author and category counted: what the limits count.
    pub fn size(&self) -> usize {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().map(Expr::size).sum(),
            Expr::Not(e) => e.size(),
            Expr::Words(..) | Expr::Author { .. } => 1,
            Expr::Category(_) | Expr::After(_) | Expr::Before(_) => 0,
        }
    }

    /// Whether the query has words to rank by (not under a `-`); else it only filters.
    pub fn ranks(&self) -> bool {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().any(Expr::ranks),
            Expr::Not(_) => false,
            Expr::Words(..) => true,
            _ => false,
        }
    }

    /// Whether the query names something papers are about (a word, an author or a category)
    /// outside any `-`: a query of days alone follows every paper.
    pub fn names_content(&self) -> bool {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().any(Expr::names_content),
            Expr::Not(_) | Expr::After(_) | Expr::Before(_) => false,
            Expr::Words(..) | Expr::Author { .. } | Expr::Category(_) => true,
        }
    }

    /// Whether every child of the top level is a `-` clause (such a query would match nearly
    /// everything).
    pub fn only_excludes(&self) -> bool {
        match self {
            Expr::And(v) => !v.is_empty() && v.iter().all(|e| matches!(e, Expr::Not(_))),
            Expr::Not(_) => true,
            _ => false,
        }
    }

    /// The categories named outside any `-` (where a topic's papers are listed: the feeds it
    /// is fetched from, what counts as a cross-list for it).
    pub fn categories(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_categories(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect_categories(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.collect_categories(out)),
            Expr::Category(c) => out.push(c.clone()),
            _ => {}
        }
    }

    /// The one category this query is, when it is nothing else.
    pub fn only_category(&self) -> Option<&str> {
        match self {
            Expr::Category(c) => Some(c),
            _ => None,
        }
    }

    /// Where the expression sorts among its siblings: categories, authors, words and groups,
    /// then exclusions (the order queries have always been written back in, so topic ids of
    /// existing subscriptions stay as they were).
    fn sort_key(&self) -> (u8, Vec<(String, bool)>, String) {
        let words_key = |e: &Expr| match e {
            Expr::Words(t, Place::Anywhere) => Some(t.key()),
            _ => None,
        };
        match self {
            Expr::Category(c) => (0, vec![], c.clone()),
            Expr::Or(v) if v.iter().all(|e| matches!(e, Expr::Category(_))) => {
                (0, vec![], self.to_string())
            }
            Expr::Author { name, .. } => (1, vec![], name.clone()),
            Expr::Words(t, Place::Anywhere) => (2, vec![t.key()], String::new()),
            Expr::Or(v) if v.iter().all(|e| words_key(e).is_some()) => {
                (2, v.iter().filter_map(words_key).collect(), String::new())
            }
            Expr::Not(e) => {
                let (_, k, s) = e.sort_key();
                (4, k, s)
            }
            Expr::After(_) | Expr::Before(_) => (5, vec![], self.to_string()),
            e => (3, vec![], e.to_string()),
        }
    }
}

fn join(children: Vec<Expr>, and: bool) -> Expr {
    let mut out: Vec<Expr> = Vec::new();
    for c in children.into_iter().map(Expr::canonical) {
        match c {
            Expr::And(v) if and => out.extend(v),
            Expr::Or(v) if !and => out.extend(v),
            c => out.push(c),
        }
    }
    out.sort_by_cached_key(Expr::sort_key);
    out.dedup();
    if out.len() == 1 {
        return out.remove(0);
    }
    if and { Expr::And(out) } else { Expr::Or(out) }
}

impl fmt::Display for Expr {
    /// The query as text, in the syntax it was parsed from: parsing it again gives the same
    /// tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::And(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Expr::Or(v) => {
                f.write_str("(")?;
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    match e {
                        Expr::And(_) => write!(f, "({e})")?,
                        e => write!(f, "{e}")?,
                    }
                }
                f.write_str(")")
            }
            Expr::Not(e) => match &**e {
                Expr::And(_) => write!(f, "-({e})"),
                e => write!(f, "-{e}"),
            },
            Expr::Words(t, Place::Anywhere) => write!(f, "{t}"),
            Expr::Words(t, Place::Title) => write!(f, "ti:{t}"),
            Expr::Words(t, Place::Abstract) => write!(f, "abs:{t}"),
            Expr::Author { name, .. } => write!(f, "au:\"{name}\""),
            Expr::Category(c) => write!(f, "cat:{c}"),
            Expr::After(d) => write!(f, "after:{d}"),
            Expr::Before(d) => write!(f, "before:{d}"),
        }
    }
}

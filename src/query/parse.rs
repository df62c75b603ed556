//! The one parser of the query language, with its limits: text in, a canonical `Expr` or a
//! reason worded for the person who typed it.
//!
//! ```text
//! query   := clause ( ["AND"] clause )*          clauses must all match
//! clause  := unary ( "OR" unary )*               OR binds tighter than AND
//! unary   := "-" atom | atom                     - excludes
//! atom    := "(" query ")" | term | FIELD term | "au:" name | "cat:" CATEGORY
//!          | "after:" DATE | "before:" DATE
//! term    := word | word* | "quoted phrase"
//! FIELD   := "ti:" | "abs:"
//! ```
//! Common words (`the`, `of`, ...) standing alone are left out.

use chrono::NaiveDate;

use super::term::Term;
use super::tree::{Expr, Place};
use super::words::word_list;
use super::{MAX_DEPTH, MAX_QUERY_CHARS, MAX_TERMS, QueryError, STOPWORDS};
use crate::model::categories;

/// Parses a query into its canonical tree.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(QueryError::Empty);
    }
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong);
    }
    let tokens = tokenize(input)?;
    let mut p = Parser {
        tokens,
        at: 0,
        dropped: false,
    };
    let clauses = p.sequence(0)?;
    let expr = Expr::And(clauses).canonical();
    if expr.size() > MAX_TERMS {
        return Err(QueryError::TooManyTerms);
    }
    if matches!(&expr, Expr::And(v) if v.is_empty()) {
        return Err(if p.dropped {
            QueryError::OnlyStopwords
        } else {
            QueryError::Empty
        });
    }
    if expr.only_excludes() {
        return Err(QueryError::Syntax(
            "the query only excludes: add something to look for".into(),
        ));
    }
    Ok(expr)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Phrase(String),
    Minus,
    And,
    Or,
    Open,
    Close,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '“' | '”')
}

fn tokenize(s: &str) -> Result<Vec<Tok>, QueryError> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if c.is_whitespace() {
            rest = after;
        } else if c == '(' {
            out.push(Tok::Open);
            rest = after;
        } else if c == ')' {
            out.push(Tok::Close);
            rest = after;
        } else if is_quote(c) {
            let Some(end) = after.find(is_quote) else {
                return Err(QueryError::Syntax(
                    "a quoted phrase is missing its closing `\"`".into(),
                ));
            };
            out.push(Tok::Phrase(after[..end].to_string()));
            let close = after[end..].chars().next().map_or(0, char::len_utf8);
            rest = &after[end + close..];
        } else if c == '-' {
            if after.is_empty() || after.starts_with(|c: char| c.is_whitespace() || c == ')') {
                return Err(QueryError::Syntax(
                    "`-` must be followed by the word to exclude, e.g. -survey".into(),
                ));
            }
            out.push(Tok::Minus);
            rest = after;
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '(' || c == ')' || is_quote(c))
                .unwrap_or(rest.len());
            let w = &rest[..end];
            out.push(match w {
                "AND" | "&&" => Tok::And,
                "OR" | "||" => Tok::Or,
                _ => Tok::Word(w.to_string()),
            });
            rest = &rest[end..];
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
    /// A common word was left out (a query of nothing else is refused as such).
    dropped: bool,
}

fn err<T>(m: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError::Syntax(m.into()))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// Clauses up to the end (depth 0) or the `)` closing a group.
    fn sequence(&mut self, depth: usize) -> Result<Vec<Expr>, QueryError> {
        let mut clauses = Vec::new();
        let mut after_and = false;
        let mut any = false;
        loop {
            match self.peek() {
                None if depth > 0 => return err("`(` without a matching `)`"),
                None => break,
                Some(Tok::Close) if depth == 0 => return err("`)` without a matching `(`"),
                Some(Tok::Close) => {
                    self.at += 1;
                    break;
                }
                Some(Tok::And) => {
                    if !any || after_and {
                        return err("`AND` needs a term on each side");
                    }
                    self.at += 1;
                    after_and = true;
                }
                Some(Tok::Or) => return err("`OR` needs a term on each side"),
                Some(_) => {
                    if let Some(c) = self.clause(depth)? {
                        clauses.push(c);
                    }
                    any = true;
                    after_and = false;
                }
            }
        }
        if after_and {
            return err("`AND` needs a term on each side");
        }
        if depth > 0 && !any {
            return err("`()` holds nothing: put terms inside, e.g. (nerf OR splatting)");
        }
        Ok(clauses)
    }

    fn clause(&mut self, depth: usize) -> Result<Option<Expr>, QueryError> {
        let mut any = vec![self.unary(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            match self.peek() {
                None | Some(Tok::Or | Tok::And | Tok::Close) => {
                    return err("`OR` needs a term on each side");
                }
                _ => any.push(self.unary(depth)?),
            }
        }
        // Common words left out: a group of nothing else goes with them.
        let any: Vec<Expr> = any.into_iter().flatten().collect();
        Ok(match any.len() {
            0 => None,
            1 => any.into_iter().next(),
            _ => Some(Expr::Or(any)),
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Option<Expr>, QueryError> {
        if self.peek() == Some(&Tok::Minus) {
            self.at += 1;
            return Ok(self.atom(depth)?.map(|e| Expr::Not(Box::new(e))));
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Option<Expr>, QueryError> {
        match self.next() {
            Some(Tok::Open) => {
                if depth >= MAX_DEPTH {
                    return err(format!("parentheses nest {MAX_DEPTH} deep at most"));
                }
                let inner = self.sequence(depth + 1)?;
                Ok((!inner.is_empty()).then_some(Expr::And(inner)))
            }
            Some(Tok::Phrase(p)) => Ok(Some(Expr::Words(Term::new(&p)?, Place::Anywhere))),
            Some(Tok::Word(w)) => self.word(&w),
            Some(Tok::Minus) => err("`-` must be followed by the word to exclude, e.g. -survey"),
            Some(Tok::Close) => err("`)` without a matching `(`"),
            Some(Tok::And) => err("`AND` needs a term on each side"),
            Some(Tok::Or) | None => err("`OR` needs a term on each side"),
        }
    }

    /// The value of a `field:` chunk: the rest of the chunk, else the quoted phrase after it.
    fn value(&mut self, rest: &str, field: &str, example: &str) -> Result<String, QueryError> {
        if !rest.is_empty() {
            return Ok(rest.to_string());
        }
        match self.peek() {
            Some(Tok::Phrase(p)) => {
                let p = p.clone();
                self.at += 1;
                Ok(p)
            }
            _ => err(format!("`{field}` needs a value, e.g. {example}")),
        }
    }

    fn word(&mut self, w: &str) -> Result<Option<Expr>, QueryError> {
        let field = |name: &str| {
            w.get(..name.len())
                .filter(|p| p.eq_ignore_ascii_case(name))
                .map(|_| &w[name.len()..])
        };
        if let Some(rest) = field("cat:") {
            let c = self.value(rest, "cat:", "cat:cs.CV")?;
            return Ok(Some(Expr::Category(category(&c)?)));
        }
        if let Some(rest) = field("au:") {
            let name = self.value(rest, "au:", "au:\"Kaiming He\"")?;
            let words = word_list(&name);
            if words.is_empty() {
                return err("`au:` needs a name, e.g. au:\"Kaiming He\"");
            }
            let name = crate::model::paper::normalize_ws(&name.replace('"', ""));
            return Ok(Some(Expr::Author { name, words }));
        }
        for (name, place) in [("ti:", Place::Title), ("abs:", Place::Abstract)] {
            if let Some(rest) = field(name) {
                let v = self.value(rest, name, &format!("{name}nerf or {name}\"a phrase\""))?;
                return Ok(Some(Expr::Words(Term::new(&v)?, place)));
            }
        }
        for (name, after) in [("after:", true), ("before:", false)] {
            if let Some(rest) = field(name) {
                let v = self.value(rest, name, &format!("{name}2025-06-01"))?;
                let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .map_err(|_| QueryError::BadDate(v.clone()))?;
                return Ok(Some(if after {
                    Expr::After(d)
                } else {
                    Expr::Before(d)
                }));
            }
        }
        let lower = w.to_lowercase();
        if STOPWORDS.contains(&lower.as_str()) {
            self.dropped = true;
            return Ok(None);
        }
        Ok(Some(Expr::Words(Term::new(w)?, Place::Anywhere)))
    }
}

fn category(raw: &str) -> Result<String, QueryError> {
    match categories::canonical(raw) {
        Some(c) => Ok(c.to_string()),
        None => {
            let near = categories::closest(raw, categories::CATEGORIES.iter().copied(), 1);
            err(match near.first() {
                Some(n) => format!("`{raw}` is not an arXiv category; did you mean {n}?"),
                None => format!("`{raw}` is not an arXiv category"),
            })
        }
    }
}

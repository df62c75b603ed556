//! The ad-hoc query syntax chats type (`"diffusion" AND video -survey`), parsed into a `Topic`
//! and rendered back canonically, so that equivalent queries are one topic.

use super::term::Term;
use super::{Topic, TopicError};
use crate::model::categories;
use crate::model::paper::Category;

/// An ad-hoc topic from a chat: the query syntax, parsed into a `Topic`.
///
/// ```text
/// query  := clause ( ["AND"] clause )*
/// clause := "-" term | "cat:" CATEGORY | "au:" (word | "phrase") | group
/// group  := term ("OR" term)* | "(" term ("OR" term)* ")"
/// term   := word | word* | "quoted phrase"
/// ```
/// Clauses are all required; `cat:` clauses together mean "in any of these categories".
pub fn parse_query(input: &str) -> Result<Topic, TopicError> {
    const MAX_LEN: usize = 300;
    const MAX_TERMS: usize = 20;
    let input = input.trim();
    if input.is_empty() {
        return Err(TopicError(
            "the query is empty: try `\"diffusion\" AND video -survey`".into(),
        ));
    }
    if input.chars().count() > MAX_LEN {
        return Err(TopicError(format!(
            "the query is longer than {MAX_LEN} characters"
        )));
    }
    let tokens = tokenize(input)?;
    let mut topic = Topic::default();
    let mut i = 0;
    let mut terms = 0;
    let mut expect_clause = true;
    while i < tokens.len() {
        match &tokens[i] {
            Tok::And => {
                if expect_clause {
                    return Err(TopicError("`AND` needs a term on each side".into()));
                }
                expect_clause = true;
                i += 1;
                continue;
            }
            Tok::Or => return Err(TopicError("`OR` needs a term on each side".into())),
            Tok::Close => return Err(TopicError("`)` without a matching `(`".into())),
            Tok::Not(t) => {
                topic.exclude.push(Term::new(t)?);
                i += 1;
            }
            Tok::Word(w)
                if w.len() > 4 && w.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("cat:")) =>
            {
                let c = categories::canonical(&w[4..]).ok_or_else(|| {
                    let near =
                        categories::closest(&w[4..], categories::CATEGORIES.iter().copied(), 1);
                    TopicError(match near.first() {
                        Some(n) => {
                            format!("`{}` is not an arXiv category; did you mean {n}?", &w[4..])
                        }
                        None => format!("`{}` is not an arXiv category", &w[4..]),
                    })
                })?;
                topic.categories.push(Category(c.to_string()));
                i += 1;
            }
            Tok::Word(w) if w.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("au:")) => {
                let name = if w.len() == 3 {
                    match tokens.get(i + 1) {
                        Some(Tok::Phrase(p)) => {
                            i += 1;
                            p.clone()
                        }
                        _ => {
                            return Err(TopicError(
                                "`au:` needs a name, e.g. au:\"Kaiming He\"".into(),
                            ));
                        }
                    }
                } else {
                    w[3..].to_string()
                };
                topic.authors.push(crate::model::paper::normalize_ws(&name));
                i += 1;
            }
            Tok::Open => {
                let close = tokens[i..]
                    .iter()
                    .position(|t| *t == Tok::Close)
                    .map(|p| p + i);
                let Some(close) = close else {
                    return Err(TopicError("`(` without a matching `)`".into()));
                };
                if tokens[i + 1..close].contains(&Tok::Open) {
                    return Err(TopicError("nested parentheses are not supported".into()));
                }
                let group = parse_group(&tokens[i + 1..close])?;
                terms += group.len();
                topic.keywords.push(group);
                i = close + 1;
            }
            Tok::Word(_) | Tok::Phrase(_) => {
                let mut end = i + 1;
                while end + 1 < tokens.len() && tokens[end] == Tok::Or && is_term(&tokens[end + 1])
                {
                    end += 2;
                }
                if tokens.get(end) == Some(&Tok::Or) {
                    return Err(TopicError("`OR` needs a term on each side".into()));
                }
                let group = parse_group(&tokens[i..end])?;
                terms += group.len();
                topic.keywords.push(group);
                i = end;
            }
        }
        expect_clause = false;
    }
    if expect_clause {
        return Err(TopicError("`AND` needs a term on each side".into()));
    }
    if terms + topic.exclude.len() > MAX_TERMS {
        return Err(TopicError(format!(
            "the query has more than {MAX_TERMS} terms"
        )));
    }
    if topic.keywords.is_empty() && topic.categories.is_empty() && topic.authors.is_empty() {
        return Err(TopicError(
            "the query only excludes: add something to look for".into(),
        ));
    }
    // Canonical order, so that equivalent queries are the same topic (same id).
    let key = |t: &Term| (t.text.clone(), t.prefix);
    for g in &mut topic.keywords {
        g.sort_by_key(key);
        g.dedup();
    }
    topic
        .keywords
        .sort_by_key(|g| g.iter().map(key).collect::<Vec<_>>());
    topic.keywords.dedup();
    topic.exclude.sort_by_key(key);
    topic.exclude.dedup();
    topic.categories.sort();
    topic.categories.dedup();
    topic.authors.sort();
    topic.authors.dedup();
    topic.name = render_query(&topic);
    topic.id = format!("q:{}", topic.name);
    Ok(topic)
}

fn is_term(t: &Tok) -> bool {
    matches!(t, Tok::Word(_) | Tok::Phrase(_))
}

fn is_filter(w: &str) -> bool {
    ["cat:", "au:"]
        .iter()
        .any(|f| w.get(..f.len()).is_some_and(|p| p.eq_ignore_ascii_case(f)))
}

fn parse_group(tokens: &[Tok]) -> Result<Vec<Term>, TopicError> {
    let mut out = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        match (k % 2, t) {
            (0, Tok::Word(w)) if is_filter(w) => {
                return Err(TopicError(format!(
                    "`{w}`: cat: and au: filters cannot be part of an OR group; write them on their own"
                )));
            }
            (0, Tok::Word(w)) | (0, Tok::Phrase(w)) => out.push(Term::new(w)?),
            (1, Tok::Or) => {}
            _ => {
                return Err(TopicError(
                    "inside a group, write terms joined by OR: (a OR b)".into(),
                ));
            }
        }
    }
    if out.is_empty() || tokens.len().is_multiple_of(2) {
        return Err(TopicError("`OR` needs a term on each side".into()));
    }
    Ok(out)
}

/// The canonical text of a query topic: the same topic always renders the same way.
fn render_query(t: &Topic) -> String {
    let mut parts: Vec<String> = t.categories.iter().map(|c| format!("cat:{c}")).collect();
    parts.extend(t.authors.iter().map(|a| format!("au:\"{a}\"")));
    for g in &t.keywords {
        let inner: Vec<String> = g.iter().map(|t| t.to_string()).collect();
        parts.push(if inner.len() > 1 {
            format!("({})", inner.join(" OR "))
        } else {
            inner.join("")
        });
    }
    parts.extend(t.exclude.iter().map(|e| format!("-{e}")));
    parts.join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Phrase(String),
    Not(String),
    And,
    Or,
    Open,
    Close,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, TopicError> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '"' || c == '“' || c == '”' {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == '"' || c == '”' || c == '“');
            let Some(end) = end else {
                return Err(TopicError(
                    "a quoted phrase is missing its closing `\"`".into(),
                ));
            };
            out.push(Tok::Phrase(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c == '-' {
            let rest = &chars[i + 1..];
            if rest.first() == Some(&'"') {
                let end = rest[1..].iter().position(|&c| c == '"');
                let Some(end) = end else {
                    return Err(TopicError(
                        "a quoted phrase is missing its closing `\"`".into(),
                    ));
                };
                out.push(Tok::Not(rest[1..1 + end].iter().collect()));
                i += end + 3;
            } else {
                let end = rest
                    .iter()
                    .position(|c| c.is_whitespace() || *c == '(' || *c == ')')
                    .unwrap_or(rest.len());
                if end == 0 {
                    return Err(TopicError(
                        "`-` must be followed by the word to exclude, e.g. -survey".into(),
                    ));
                }
                out.push(Tok::Not(rest[..end].iter().collect()));
                i += end + 1;
            }
        } else {
            let end = chars[i..]
                .iter()
                .position(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '“' | '”'))
                .map_or(chars.len(), |p| p + i);
            let w: String = chars[i..end].iter().collect();
            out.push(match w.as_str() {
                "AND" | "&&" => Tok::And,
                "OR" | "||" => Tok::Or,
                _ => Tok::Word(w),
            });
            i = end;
        }
    }
    Ok(out)
}

//! Topics: what a chat follows. A `Topic` (categories, keyword groups, exclusions, authors,
//! cross-list / replacement policy) compiles to a pure matcher over `Paper`s and renders to an
//! arXiv API `search_query`. Also the ad-hoc syntax chats type (`"diffusion" AND video -survey`).
//!
//! Matching rules: text is the title and abstract, lower-cased, with hyphens read as spaces;
//! a term matches at word boundaries and also in its plural (`transformer` ~ `transformers`);
//! `segment*` matches any word starting with `segment`; quoted phrases match as a whole.

use std::fmt;

use memchr::memmem;
use serde::Serialize;

use crate::categories;
use crate::paper::{AnnounceType, Category, Paper};

/// A keyword or phrase, stored lower-cased with hyphens as spaces.
#[derive(Clone, Serialize)]
pub struct Term {
    pub text: String,
    /// `segment*`: match words that start with the text.
    pub prefix: bool,
    /// Built once: matching runs for every paper against every topic.
    #[serde(skip)]
    finder: memmem::Finder<'static>,
}

impl PartialEq for Term {
    fn eq(&self, o: &Term) -> bool {
        self.text == o.text && self.prefix == o.prefix
    }
}

impl Eq for Term {}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Term({self})")
    }
}

impl Term {
    pub fn new(raw: &str) -> Result<Term, TopicError> {
        let raw = raw.trim();
        let (body, prefix) = match raw.strip_suffix('*') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        let text = fold(body);
        if text.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return Err(TopicError(format!(
                "`{raw}` is too short to search for (2 letters at least)"
            )));
        }
        if text.contains(['"', '“', '”', '*', '(', ')']) {
            return Err(TopicError(format!(
                "`{raw}` contains a character that cannot be searched"
            )));
        }
        if prefix && text.contains(' ') {
            return Err(TopicError(format!(
                "`{raw}`: a prefix search (word*) works on a single word"
            )));
        }
        let finder = memmem::Finder::new(text.as_bytes()).into_owned();
        Ok(Term {
            text,
            prefix,
            finder,
        })
    }

    fn find_in(&self, hay: &str) -> bool {
        let h = hay.as_bytes();
        let n = self.text.len();
        self.finder.find_iter(h).any(|at| {
            let before_ok = at == 0 || !is_word_byte(h[at - 1]);
            if !before_ok {
                return false;
            }
            if self.prefix {
                return true;
            }
            let rest = &h[at + n..];
            let end_ok = |k: usize| rest.len() == k || !is_word_byte(rest[k]);
            end_ok(0)
                || (rest.first() == Some(&b's') && end_ok(1))
                || (rest.starts_with(b"es") && end_ok(2))
        })
    }

    fn query_text(&self) -> String {
        if self.prefix {
            format!("{}*", self.text)
        } else {
            format!("\"{}\"", self.text)
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix {
            write!(f, "{}*", self.text)
        } else if self.text.contains(' ') {
            write!(f, "\"{}\"", self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

/// `needle` occurs in `hay` as whole words.
fn word_match(finder: &memmem::Finder<'_>, n: usize, hay: &str) -> bool {
    let h = hay.as_bytes();
    finder.find_iter(h).any(|at| {
        (at == 0 || !is_word_byte(h[at - 1])) && h.get(at + n).is_none_or(|b| !is_word_byte(*b))
    })
}

fn is_word_byte(b: u8) -> bool {
    // Non-ASCII bytes belong to letters here (UTF-8 continuation and lead bytes).
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Lower-case, hyphens and other separators to spaces, whitespace collapsed.
fn fold(s: &str) -> String {
    if s.is_ascii() {
        // The common case, byte by byte: several times faster than the char path.
        let mut out = Vec::with_capacity(s.len());
        let mut space = true;
        for &b in s.as_bytes() {
            let b = if matches!(b, b'-' | b'_' | b'/') || b.is_ascii_whitespace() {
                b' '
            } else {
                b.to_ascii_lowercase()
            };
            if b == b' ' {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            } else {
                out.push(b);
                space = false;
            }
        }
        if out.last() == Some(&b' ') {
            out.pop();
        }
        return String::from_utf8(out).expect("ASCII in, ASCII out");
    }
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars() {
        let c = if c == '-' || c == '_' || c == '/' || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            for l in c.to_lowercase() {
                out.push(l);
            }
            space = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A mistake in a topic definition or query, worded for the person who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TopicError(pub String);

/// What a topic follows. A paper matches when it is not excluded and either one of `authors`
/// wrote it, or it is in one of `categories` (if any) and satisfies every keyword group (each
/// group is satisfied by any one of its terms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: String,
    pub name: String,
    pub categories: Vec<Category>,
    pub keywords: Vec<Vec<Term>>,
    pub exclude: Vec<Term>,
    pub authors: Vec<String>,
    pub include_cross: bool,
    pub include_replace: bool,
    /// Fed by a source of its own (`hf-daily`), not by matching: arXiv is never asked for it.
    pub external: bool,
}

/// The built-in topic of Hugging Face Daily Papers.
pub const HF_DAILY: &str = "hf-daily";

/// Why a paper matched, for ranking and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The paper's primary category is outside the topic's categories (or the feed said cross).
    pub cross: bool,
    /// A keyword matched in the title (stronger than an abstract-only match).
    pub in_title: bool,
    pub by_author: bool,
}

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

impl Default for Topic {
    /// Follows nothing yet; cross-lists count, replacements do not (the documented defaults).
    fn default() -> Self {
        Topic {
            id: String::new(),
            name: String::new(),
            categories: vec![],
            keywords: vec![],
            exclude: vec![],
            authors: vec![],
            include_cross: true,
            include_replace: false,
            external: false,
        }
    }
}

impl Topic {
    /// Any arXiv category as a topic: everything listed in it, cross-lists included.
    pub fn for_category(cat: &str) -> Option<Topic> {
        let c = categories::canonical(cat)?;
        Some(Topic {
            id: c.to_string(),
            name: c.to_string(),
            categories: vec![Category(c.to_string())],
            ..Topic::default()
        })
    }

    pub fn validate(&self) -> Result<(), TopicError> {
        if self.categories.is_empty() && self.keywords.is_empty() && self.authors.is_empty() {
            return Err(TopicError(format!(
                "topic `{}` follows nothing: give it categories, keywords or authors",
                self.id
            )));
        }
        if self.keywords.iter().any(Vec::is_empty) {
            return Err(TopicError(format!(
                "topic `{}` has an empty keyword group",
                self.id
            )));
        }
        Ok(())
    }

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

    /// The arXiv API `search_query` for this topic. Only the value: callers pass it as one
    /// URL parameter (percent-encoded by reqwest), so no text here can add other parameters.
    pub fn search_query(&self) -> String {
        let or = |parts: Vec<String>| -> String {
            if parts.len() == 1 {
                parts.into_iter().next().unwrap_or_default()
            } else {
                format!("({})", parts.join(" OR "))
            }
        };
        let mut and_parts = Vec::new();
        if !self.categories.is_empty() {
            and_parts.push(or(self
                .categories
                .iter()
                .map(|c| format!("cat:{c}"))
                .collect()));
        }
        for group in &self.keywords {
            and_parts.push(or(group
                .iter()
                .flat_map(|t| {
                    [
                        format!("ti:{}", t.query_text()),
                        format!("abs:{}", t.query_text()),
                    ]
                })
                .collect()));
        }
        let mut q = and_parts.join(" AND ");
        if !self.authors.is_empty() {
            let au = or(self
                .authors
                .iter()
                .map(|a| format!("au:\"{}\"", a.replace('"', "")))
                .collect());
            q = if q.is_empty() {
                au
            } else {
                format!("(({q}) OR {au})")
            };
        }
        for t in &self.exclude {
            q = format!("{q} ANDNOT (ti:{0} OR abs:{0})", t.query_text());
        }
        q
    }
}

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
                topic.authors.push(crate::paper::normalize_ws(&name));
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

/// All configured topics, compiled once for ingest.
#[derive(Debug, Clone, Default)]
pub struct TopicSet {
    pub topics: Vec<Topic>,
}

impl TopicSet {
    pub fn new(topics: Vec<Topic>) -> Self {
        TopicSet { topics }
    }

    /// Ids of every topic the paper matches, in configuration order.
    pub fn matching<'a>(&'a self, p: &'a Paper) -> impl Iterator<Item = (&'a Topic, Hit)> + 'a {
        let text = MatchText::new(p);
        self.topics
            .iter()
            .filter_map(move |t| t.matches(p, &text).map(|h| (t, h)))
    }

    /// Finds a topic as a person names it: configured id or name (any case), else an arXiv
    /// category, else the ad-hoc query syntax.
    pub fn resolve(&self, s: &str) -> Result<Topic, TopicError> {
        let s = s.trim();
        if let Some(t) = self
            .topics
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(s) || t.name.eq_ignore_ascii_case(s))
        {
            return Ok(t.clone());
        }
        if let Some(t) = Topic::for_category(s) {
            return Ok(t);
        }
        let looks_like_query = s.contains(['"', '(', ':', ' ']) || s.starts_with('-');
        match parse_query(s) {
            Ok(t) if looks_like_query => Ok(t),
            Ok(t) => {
                // A single bare word: probably a mistyped topic id rather than a keyword search.
                let near = categories::closest(s, self.topics.iter().map(|t| t.id.as_str()), 1);
                match near.first() {
                    Some(n) => Err(TopicError(format!(
                        "no topic `{s}`; did you mean `{n}`? (to search the word itself, write \"{s}\")"
                    ))),
                    None => Ok(t),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::PaperId;

    fn paper(title: &str, abs: &str, cats: &[&str]) -> Paper {
        Paper {
            id: PaperId::parse("2401.00001").unwrap(),
            version: 1,
            title: title.into(),
            authors: vec!["Ben Mildenhall".into(), "Zoë Müller".into()],
            primary_category: cats.first().map(|c| Category(c.to_string())),
            categories: cats.iter().map(|c| Category(c.to_string())).collect(),
            published: None,
            updated: None,
            abstract_text: abs.into(),
            comment: None,
            doi: None,
            journal_ref: None,
            pdf_url: None,
            announce_type: Some(AnnounceType::New),
        }
    }

    fn topic(q: &str) -> Topic {
        parse_query(q).unwrap()
    }

    fn hit(t: &Topic, p: &Paper) -> Option<Hit> {
        t.matches(p, &MatchText::new(p))
    }

    #[test]
    fn terms_match_at_word_boundaries_and_plurals() {
        let p = paper(
            "Fast NeRFs for Self-Supervised Transformers",
            "We vitalise things.",
            &["cs.CV"],
        );
        assert!(hit(&topic("nerf"), &p).is_some());
        assert!(hit(&topic("transformer"), &p).is_some());
        assert!(
            hit(&topic("\"self supervised\""), &p).is_some(),
            "hyphen reads as space"
        );
        assert!(
            hit(&topic("vit"), &p).is_none(),
            "vit must not match vitalise"
        );
        assert!(hit(&topic("vital*"), &p).is_some());
        assert!(hit(&topic("ne"), &p).is_none());
    }

    #[test]
    fn groups_exclusions_and_categories() {
        let p = paper(
            "Video diffusion survey",
            "A survey of diffusion for video.",
            &["cs.CV", "cs.LG"],
        );
        assert!(hit(&topic("\"diffusion\" AND video"), &p).is_some());
        assert!(hit(&topic("\"diffusion\" AND video -survey"), &p).is_none());
        assert!(hit(&topic("audio OR video"), &p).is_some());
        assert!(hit(&topic("(audio OR speech) diffusion"), &p).is_none());
        assert!(hit(&topic("cat:cs.CL diffusion"), &p).is_none());
        let h = hit(&topic("cat:cs.LG diffusion"), &p).unwrap();
        assert!(h.cross, "primary cs.CV is outside cs.LG");
        assert!(h.in_title);
    }

    #[test]
    fn replacements_and_cross_lists_follow_the_policy() {
        let mut p = paper("NeRF", "x", &["cs.GR", "cs.CV"]);
        let mut t = Topic::for_category("cs.CV").unwrap();
        assert!(hit(&t, &p).unwrap().cross);
        t.include_cross = false;
        assert!(hit(&t, &p).is_none());
        p.categories.reverse();
        p.primary_category = Some(Category("cs.CV".into()));
        assert!(hit(&t, &p).is_some());
        p.announce_type = Some(AnnounceType::Replace);
        assert!(hit(&t, &p).is_none());
        t.include_replace = true;
        assert!(hit(&t, &p).is_some());
    }

    #[test]
    fn authors_match_case_and_accent_exactly() {
        let p = paper("Unrelated", "Nothing", &["math.AG"]);
        assert!(hit(&topic("au:\"ben mildenhall\""), &p).unwrap().by_author);
        assert!(hit(&topic("au:Müller"), &p).is_some());
        assert!(hit(&topic("au:Mildenhal"), &p).is_none());
    }

    #[test]
    fn query_errors_are_clear() {
        for (q, want) in [
            ("", "empty"),
            ("\"open", "closing"),
            ("a OR", "OR"),
            ("AND video", "AND"),
            ("(a OR b", "matching"),
            ("-survey", "only excludes"),
            ("cat:cs.CW x", "did you mean cs.CV"),
            ("((a))", "nested"),
            ("x", "too short"),
            ("self-super*", "single word"),
            ("( cat:cs.CV )", "OR group"),
            ("nerf OR au:smith", "OR group"),
        ] {
            let err = parse_query(q).unwrap_err().0;
            assert!(err.contains(want), "{q:?}: {err}");
        }
    }

    #[test]
    fn queries_render_canonically() {
        let t = topic("\"Diffusion\"   AND Video -survey");
        assert_eq!(t.name, "diffusion video -survey");
        assert_eq!(
            parse_query(&t.name).unwrap(),
            t,
            "rendering re-parses to the same topic"
        );
        assert_eq!(
            topic("(a1 OR \"b c\") cat:cs.cv").name,
            "cat:cs.CV (a1 OR \"b c\")"
        );
    }

    #[test]
    fn equivalent_queries_are_the_same_topic() {
        let a = topic("mamba OR \"state space\" -survey video");
        let b = topic("video AND (\"state space\" OR mamba) -survey");
        assert_eq!(a, b);
        assert_eq!(a.id, "q:(mamba OR \"state space\") video -survey");
    }

    #[test]
    fn search_query_uses_fields_and_quotes() {
        let t = topic("cat:cs.CV (nerf OR \"gaussian splatting\") -survey");
        assert_eq!(
            t.search_query(),
            "cat:cs.CV AND (ti:\"gaussian splatting\" OR abs:\"gaussian splatting\" OR ti:\"nerf\" OR abs:\"nerf\") \
             ANDNOT (ti:\"survey\" OR abs:\"survey\")"
        );
    }

    #[test]
    fn resolve_prefers_configured_then_category_then_query() {
        let set = TopicSet::new(vec![Topic {
            id: "nerf".into(),
            name: "NeRF".into(),
            ..topic("nerf")
        }]);
        assert_eq!(set.resolve("NERF").unwrap().id, "nerf");
        assert_eq!(set.resolve("cs.cv").unwrap().id, "cs.CV");
        assert!(
            set.resolve("\"video\" diffusion")
                .unwrap()
                .id
                .starts_with("q:")
        );
        assert!(
            set.resolve("nref")
                .unwrap_err()
                .0
                .contains("did you mean `nerf`")
        );
    }
}

//! A keyword or phrase as topics match it: folded once (lower case, hyphens as spaces), found
//! at word boundaries and in its plural, with `word*` as a prefix.

use std::fmt;

use memchr::memmem;
use serde::Serialize;

use super::TopicError;

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

    pub(super) fn find_in(&self, hay: &str) -> bool {
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

    pub(super) fn query_text(&self) -> String {
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
pub(super) fn word_match(finder: &memmem::Finder<'_>, n: usize, hay: &str) -> bool {
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
pub(super) fn fold(s: &str) -> String {
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

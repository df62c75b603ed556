//! What a word is, once for everyone who reads text for queries: the topic matcher, the search
//! index (its tokenizer is this), snippets and the query parser. A word is a run of Unicode
//! letters and digits, lower-cased character by character; everything else separates words, so
//! `self-supervised` is two words and `model's` is `model` and `s`.

use std::borrow::Cow;
use std::ops::Range;

/// Longer runs of letters are not words (base64, hashes, DNA): no query asks for them, and a
/// bound keeps every word a term the index can hold.
pub const MAX_WORD_BYTES: usize = 64;

/// One word of a text: lower-cased, and where it stands in the text (bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: Cow<'a, str>,
    pub at: Range<usize>,
}

/// The words of `text` in order.
pub fn words(text: &str) -> Words<'_> {
    Words { text, pos: 0 }
}

/// The words of `text`, lower-cased, as owned strings.
pub fn word_list(text: &str) -> Vec<String> {
    words(text).map(|w| w.text.into_owned()).collect()
}

pub struct Words<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = Word<'a>;

    fn next(&mut self) -> Option<Word<'a>> {
        loop {
            let rest = &self.text[self.pos..];
            let start = self.pos + rest.find(char::is_alphanumeric)?;
            let len = self.text[start..]
                .find(|c: char| !c.is_alphanumeric())
                .unwrap_or(self.text.len() - start);
            let end = start + len;
            self.pos = end;
            if len > MAX_WORD_BYTES {
                continue;
            }
            let raw = &self.text[start..end];
            return Some(Word {
                text: lower(raw),
                at: start..end,
            });
        }
    }
}

/// Lower case, one character at a time (`str::to_lowercase` reads a final sigma by its
/// context, which a word alone does not have: the query and the text must fold alike).
fn lower(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        if raw.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(raw.to_ascii_lowercase());
        }
        return Cow::Borrowed(raw);
    }
    if !raw.chars().any(char::is_uppercase) {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(raw.chars().flat_map(char::to_lowercase).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(
            word_list("Self-Supervised NeRFs: 3D-aware ΣΑΣ model's x_y/z"),
            [
                "self",
                "supervised",
                "nerfs",
                "3d",
                "aware",
                "σασ",
                "model",
                "s",
                "x",
                "y",
                "z"
            ]
        );
        assert_eq!(
            word_list("Zoë Müller, İlker"),
            ["zoë", "müller", "i\u{307}lker"]
        );
        assert_eq!(word_list("x ∈ ℝ^n — “quoted”"), ["x", "ℝ", "n", "quoted"]);
        let long = "a".repeat(MAX_WORD_BYTES + 1);
        assert_eq!(word_list(&format!("{long} kept")), ["kept"]);
        let w: Vec<_> = words("Hi, there").collect();
        assert_eq!(w[1].at, 4..9);
        assert!(matches!(w[1].text, Cow::Borrowed(_)));
    }
}

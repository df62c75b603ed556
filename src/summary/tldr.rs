//! Extractive TL;DR, pure and deterministic: the abstract's sentence that states the
//! contribution (what the paper proposes or shows), plus its main result when there is room;
//! at most 280 characters; LaTeX kept exactly as written (never cut inside `$...$`); never empty.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// Longest TL;DR, in characters.
pub const MAX_CHARS: usize = 280;

/// Phrases that state what a paper contributes, with weights.
const CONTRIBUTION: &[(&str, i32)] = &[
    ("we propose", 6),
    ("we present", 6),
    ("we introduce", 6),
    ("we develop", 5),
    ("we design", 4),
    ("this paper", 4),
    ("in this paper", 2),
    ("in this work", 4),
    ("here we", 4),
    ("we show", 5),
    ("we prove", 5),
    ("we demonstrate", 4),
    ("we establish", 4),
    ("we derive", 4),
    ("we report", 4),
    ("we find", 4),
    ("we study", 3),
    ("we investigate", 3),
    ("we construct", 4),
    ("our method", 3),
    ("our approach", 3),
    ("we release", 1),
    ("novel", 2),
];

/// Phrases of a main result.
const RESULT: &[&str] = &[
    "outperform",
    "state-of-the-art",
    "state of the art",
    "achieves",
    "improves",
    "improvement",
    "reduces",
    "speedup",
    "faster",
    "accuracy",
    "we show that",
    "results show",
    "significantly",
    "%",
];

/// Phrases of background, which rarely make a good TL;DR.
const BACKGROUND: &[(&str, i32)] = &[
    ("recent", 2),
    ("has been", 2),
    ("have been", 2),
    ("however", 2),
    ("remains", 2),
    ("is a fundamental", 3),
    ("are widely", 2),
    ("plays a", 2),
    ("has attracted", 3),
    ("have attracted", 3),
    ("in recent years", 3),
    ("code is available", 6),
    ("code and", 4),
    ("available at", 5),
    ("http", 6),
];

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g.", "i.e.", "et al.", "etc.", "fig.", "figs.", "eq.", "eqs.", "vs.", "cf.", "resp.",
    "approx.", "sec.", "no.", "ref.", "refs.", "dr.", "prof.",
];

/// Splits an abstract into sentences: at `.`, `!` or `?` followed by a space and an upper-case
/// letter, a digit or `$`, but never inside `$...$` maths, after an abbreviation, or in `1.5`.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut in_math = false;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1, // an escaped character, e.g. \$
            b'$' => in_math = !in_math,
            b'.' | b'!' | b'?' if !in_math => {
                let next = text[i + 1..].chars().next();
                let after = text[i + 1..].trim_start().chars().next();
                let ends = next.is_none_or(char::is_whitespace)
                    && after.is_none_or(|c| {
                        c.is_uppercase() || c.is_ascii_digit() || c == '$' || c == '('
                    });
                let word_start = text[..i]
                    .rfind(char::is_whitespace)
                    .map_or(start, |p| p + 1)
                    .max(start);
                let word = text[word_start..=i].to_lowercase();
                if ends && !ABBREVIATIONS.contains(&word.as_str()) {
                    let s = text[start..=i].trim();
                    if !s.is_empty() {
                        out.push(s);
                    }
                    start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// The contribution and background phrases with their weights (background negative), found
/// in one pass over a sentence: a search per phrase was a tenth of a topic page's first render.
static CUES: LazyLock<(AhoCorasick, Vec<i32>)> = LazyLock::new(|| {
    let cues = CONTRIBUTION
        .iter()
        .copied()
        .chain(BACKGROUND.iter().map(|&(p, w)| (p, -w)));
    let (phrases, weights): (Vec<&str>, Vec<i32>) = cues.unzip();
    assert!(phrases.len() <= 64, "one bit per phrase");
    let found = AhoCorasick::new(phrases).expect("the cue phrases make an automaton");
    (found, weights)
});

/// The phrases of a main result, found in one pass.
static RESULTS: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(RESULT).expect("the result phrases make an automaton"));

fn score(sentence: &str, index: usize) -> i32 {
    let l = sentence.to_lowercase();
    let (cues, weights) = &*CUES;
    // Each phrase counts once however often it occurs.
    let mut seen = 0u64;
    for m in cues.find_overlapping_iter(&l) {
        seen |= 1 << m.pattern().as_usize();
    }
    let mut s: i32 = weights
        .iter()
        .enumerate()
        .filter(|(i, _)| seen & (1 << i) != 0)
        .map(|(_, w)| w)
        .sum();
    // The opening sentence is usually motivation.
    if index == 0 {
        s -= 1;
    }
    let n = sentence.chars().count();
    if n < 40 {
        s -= 2;
    }
    s
}

fn is_result(sentence: &str) -> bool {
    let l = sentence.to_lowercase();
    RESULTS.is_match(&l) && !l.contains("http")
}

/// The TL;DR of a paper. Falls back to the title when the abstract has nothing to offer.
pub fn tldr(title: &str, abstract_text: &str) -> String {
    let sents = sentences(abstract_text);
    let Some((best, _)) = sents
        .iter()
        .enumerate()
        .map(|(i, s)| (i, score(s, i)))
        // Highest score; the earliest wins a tie (max_by_key keeps the last, so compare -index).
        .max_by_key(|&(i, sc)| (sc, -(i as i64)))
    else {
        return shorten(title.trim());
    };
    let mut out = sents[best].to_string();
    // Add the main result when the contribution sentence leaves room for it.
    if let Some(result) = sents.iter().skip(best + 1).find(|s| is_result(s))
        && out.chars().count() + 1 + result.chars().count() <= MAX_CHARS
    {
        out.push(' ');
        out.push_str(result);
    }
    let out = shorten(&out);
    if out.is_empty() {
        shorten(title.trim())
    } else {
        out
    }
}

/// At most `MAX_CHARS` characters: cut at a word boundary, never inside `$...$`, with `…`.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        return s.to_string();
    }
    // Candidate cut points: spaces outside maths, within the first MAX_CHARS - 1 characters.
    let mut in_math = false;
    let mut best = None;
    let mut prev_backslash = false;
    for (n, (i, c)) in s.char_indices().enumerate() {
        if n >= MAX_CHARS - 1 {
            break;
        }
        if c == '$' && !prev_backslash {
            in_math = !in_math;
        }
        if c == ' ' && !in_math {
            best = Some(i);
        }
        prev_backslash = c == '\\' && !prev_backslash;
    }
    let end = best.unwrap_or_else(|| {
        s.char_indices()
            .nth(MAX_CHARS - 1)
            .map_or(s.len(), |(i, _)| i)
    });
    let mut out = s[..end].trim_end_matches([',', ';', ':', ' ']).to_string();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_respect_maths_abbreviations_and_decimals() {
        let s = sentences(
            "We use $x. Y$ here, e.g. Fig. 2 shows 1.5 dB gains. Next sentence! $N$ grows.",
        );
        assert_eq!(
            s,
            [
                "We use $x. Y$ here, e.g. Fig. 2 shows 1.5 dB gains.",
                "Next sentence!",
                "$N$ grows."
            ]
        );
    }

    #[test]
    fn shorten_never_splits_maths() {
        let long = format!(
            "{} $\\mathbb{{R}}^{{n}} \\to \\mathbb{{R}}$ tail",
            "word ".repeat(54)
        );
        let s = shorten(&long);
        assert!(s.chars().count() <= MAX_CHARS);
        assert_eq!(s.matches('$').count() % 2, 0, "{s}");
        assert!(s.ends_with('…'));
    }
}

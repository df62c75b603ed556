//! Finds code repositories and project pages in free text (abstracts, arXiv comments), pure.
//! Papers with Code is gone (2025), so this and Hugging Face are where code links come from.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// Hosts whose URLs are code (or model/dataset repositories), not pages about the paper.
const CODE_HOSTS: &[&str] = &[
    "github.com",
    "gitlab.com",
    "huggingface.co",
    "bitbucket.org",
    "codeberg.org",
    "sourceforge.net",
];
/// Hosts that are neither code nor a project page.
const IGNORED_HOSTS: &[&str] = &[
    "arxiv.org",
    "doi.org",
    "dx.doi.org",
    "creativecommons.org",
    "orcid.org",
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Links {
    pub code: Vec<String>,
    pub pages: Vec<String>,
}

/// Every URL in `texts`, normalised (no trailing punctuation, no `.git`), split into code
/// repositories and project pages, without duplicates, in order of appearance.
pub fn find(texts: &[&str]) -> Links {
    let mut links = Links::default();
    for text in texts {
        let mut rest = *text;
        while let Some(start) = next_url_start(rest) {
            let tail = &rest[start..];
            let end = tail
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, '<' | '>' | '"' | '{' | '}' | '\\' | '`')
                })
                .unwrap_or(tail.len());
            let url = normalise(&tail[..end]);
            rest = &tail[end..];
            let Some(url) = url else { continue };
            let host = host_of(&url);
            if IGNORED_HOSTS
                .iter()
                .any(|h| host == *h || host.ends_with(&format!(".{h}")))
            {
                continue;
            }
            let list = if CODE_HOSTS
                .iter()
                .any(|h| host == *h || host == format!("www.{h}"))
            {
                &mut links.code
            } else {
                &mut links.pages
            };
            if !list.contains(&url) {
                list.push(url);
            }
        }
    }
    links
}

/// Where a link may start: a scheme, or a code host's name written bare (the first two are
/// schemes). One pass over the text finds them all: five searches were 7 % of a topic page's
/// first render. None of them can start inside another, so leftmost matches miss none.
static URL_STARTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build([
            "http://",
            "https://",
            "github.com/",
            "gitlab.com/",
            "huggingface.co/",
        ])
        .expect("the link starts make an automaton")
});

fn next_url_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    URL_STARTS
        .find_iter(s)
        .find(|m| {
            let i = m.start();
            // A bare host counts when it does not continue a word, path or name.
            m.pattern().as_usize() < 2
                || i == 0
                || !b[i - 1].is_ascii_alphanumeric() && b[i - 1] != b'/' && b[i - 1] != b'.'
        })
        .map(|m| m.start())
}

fn normalise(raw: &str) -> Option<String> {
    let mut u = raw;
    loop {
        let before = u.len();
        u = u.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '*']);
        // A closing bracket belongs to the URL only if the URL opened one.
        for (open, close) in [('(', ')'), ('[', ']')] {
            if u.ends_with(close) && u.matches(open).count() < u.matches(close).count() {
                u = &u[..u.len() - 1];
            }
        }
        if u.len() == before {
            break;
        }
    }
    let u = u.strip_suffix(".git").unwrap_or(u);
    let u = u.trim_end_matches('/');
    let with_scheme = if u.starts_with("http://") || u.starts_with("https://") {
        u.to_string()
    } else {
        format!("https://{u}")
    };
    let host = host_of(&with_scheme);
    if host.is_empty() || !host.contains('.') {
        return None;
    }
    // A bare host is no link to code: "github.com" alone says nothing.
    if CODE_HOSTS.contains(&host) && with_scheme.split('/').filter(|s| !s.is_empty()).count() < 3 {
        return None;
    }
    Some(with_scheme)
}

fn host_of(url: &str) -> &str {
    let after = url.split_once("://").map_or(url, |(_, r)| r);
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    after[..end]
        .rsplit('@')
        .next()
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_normalises_code_and_pages() {
        let l = find(&[
            "We release code at https://github.com/org/repo.git. See (https://org.github.io/proj/).",
            "Code: github.com/org/repo; models: https://huggingface.co/org/model, doi https://doi.org/10.1/x",
        ]);
        assert_eq!(
            l.code,
            [
                "https://github.com/org/repo",
                "https://huggingface.co/org/model"
            ]
        );
        assert_eq!(l.pages, ["https://org.github.io/proj"]);
    }

    #[test]
    fn keeps_balanced_parentheses_and_skips_bare_hosts() {
        let l = find(&["see https://en.wikipedia.org/wiki/Foo_(bar)) and github.com."]);
        assert_eq!(l.pages, ["https://en.wikipedia.org/wiki/Foo_(bar)"]);
        assert!(l.code.is_empty());
    }
}

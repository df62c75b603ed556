//! The paper model: `Paper`, `PaperId` (always without version), `Category`, `AnnounceType`, and
//! the pure calendar rule that maps a submission time to its arXiv announcement day.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::America::New_York;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An arXiv identifier without version: `2407.11422` (new style, since 2007) or
/// `astro-ph/0601001`, `math.GT/0309136` (old style, with a slash).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaperId(String);

impl PaperId {
    /// Parses an id as people and feeds write it: with or without `arXiv:`, an abs/pdf URL,
    /// a trailing `.pdf`, or a version suffix. Returns the bare id and the version if one was given.
    pub fn parse_with_version(input: &str) -> Option<(PaperId, Option<u32>)> {
        let mut s = input.trim();
        for prefix in ["oai:arXiv.org:", "oai:arxiv.org:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        if let Some(pos) = s.find("arxiv.org/") {
            s = &s[pos + "arxiv.org/".len()..];
            for p in ["abs/", "pdf/", "html/"] {
                if let Some(rest) = s.strip_prefix(p) {
                    s = rest;
                    break;
                }
            }
        }
        if s.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("arxiv:")) {
            s = &s[6..];
        }
        s = s.trim_end_matches('/');
        s = s.strip_suffix(".pdf").unwrap_or(s);
        if let Some(q) = s.find(['?', '#']) {
            s = &s[..q];
        }
        let (base, version) = split_version(s);
        if is_new_style(base) || is_old_style(base) {
            Some((PaperId(base.to_string()), version))
        } else {
            None
        }
    }

    pub fn parse(input: &str) -> Option<PaperId> {
        Self::parse_with_version(input).map(|(id, _)| id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn abs_url(&self) -> String {
        format!("https://arxiv.org/abs/{}", self.0)
    }

    /// The version's page in arXiv's HTML edition, as readers open it.
    pub fn html_url(&self, version: u32) -> String {
        format!("https://arxiv.org/html/{}v{version}", self.0)
    }

    /// The PDF of one version, as arXiv serves it (feeds carry no PDF link; derive it).
    pub fn pdf_url(&self, version: u32) -> String {
        format!("https://arxiv.org/pdf/{}v{}", self.0, version)
    }
}

impl fmt::Display for PaperId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn split_version(s: &str) -> (&str, Option<u32>) {
    if let Some(v) = s.rfind('v') {
        let digits = &s[v + 1..];
        if !digits.is_empty()
            && digits.len() <= 4
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = digits.parse::<u32>()
            && n > 0
        {
            return (&s[..v], Some(n));
        }
    }
    (s, None)
}

fn is_new_style(s: &str) -> bool {
    // YYMM.NNNN (2007-2014) or YYMM.NNNNN (since 2015).
    let b = s.as_bytes();
    let Some(dot) = s.find('.') else { return false };
    dot == 4
        && b[..4].iter().all(u8::is_ascii_digit)
        && matches!(b.len() - 5, 4 | 5)
        && b[5..].iter().all(u8::is_ascii_digit)
        && (1..=12).contains(&((b[2] - b'0') * 10 + (b[3] - b'0')))
}

fn is_old_style(s: &str) -> bool {
    // archive(.SC)?/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
    let Some((archive, num)) = s.split_once('/') else {
        return false;
    };
    let (arch, sub) = match archive.split_once('.') {
        Some((a, sc)) => (a, Some(sc)),
        None => (archive, None),
    };
    !arch.is_empty()
        && arch.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && sub.is_none_or(|sc| !sc.is_empty() && sc.bytes().all(|b| b.is_ascii_alphabetic()))
        && num.len() == 7
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// An arXiv category such as `cs.CV` or `hep-th`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Category(pub String);

impl Category {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a paper appeared in a daily announcement (feeds only; the API does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnnounceType {
    New,
    Cross,
    Replace,
    ReplaceCross,
}

impl AnnounceType {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "new" => Some(Self::New),
            "cross" => Some(Self::Cross),
            "replace" => Some(Self::Replace),
            "replace-cross" => Some(Self::ReplaceCross),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Cross => "cross",
            Self::Replace => "replace",
            Self::ReplaceCross => "replace-cross",
        }
    }

    pub fn is_replacement(self) -> bool {
        matches!(self, Self::Replace | Self::ReplaceCross)
    }

    pub fn is_cross(self) -> bool {
        matches!(self, Self::Cross | Self::ReplaceCross)
    }
}

/// One version of one paper, normalised: texts have whitespace collapsed, times are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paper {
    pub id: PaperId,
    pub version: u32,
    pub title: String,
    pub authors: Vec<String>,
    pub primary_category: Option<Category>,
    pub categories: Vec<Category>,
    /// API: submission of v1. Feeds: the announcement day (midnight US Eastern).
    pub published: Option<DateTime<Utc>>,
    /// API: submission of this version. Atom feed: as the feed says. RSS 2.0: none.
    pub updated: Option<DateTime<Utc>>,
    pub abstract_text: String,
    pub comment: Option<String>,
    pub doi: Option<String>,
    pub journal_ref: Option<String>,
    pub pdf_url: Option<String>,
    pub announce_type: Option<AnnounceType>,
}

/// A paper as stored, with what the store knows beyond the source document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPaper {
    pub paper: Paper,
    /// The first announcement day seen; a replacement never moves it.
    pub first_announced: Option<NaiveDate>,
    /// Topics this paper was indexed under, and on which day: a paper enters a topic once.
    pub topics: Vec<(String, NaiveDate)>,
}

impl crate::model::weigh::Weigh for StoredPaper {
    fn weigh(&self) -> usize {
        let p = &self.paper;
        let texts = [&p.comment, &p.doi, &p.journal_ref, &p.pdf_url]
            .into_iter()
            .flatten()
            .chain([&p.title, &p.abstract_text])
            .chain(&p.authors)
            .map(|s| s.capacity() + size_of::<String>())
            .sum::<usize>();
        size_of::<StoredPaper>()
            + texts
            + p.categories.capacity() * size_of::<Category>()
            + p.categories.iter().map(|c| c.0.capacity()).sum::<usize>()
            + self
                .topics
                .iter()
                .map(|(t, _)| t.capacity() + size_of::<(String, NaiveDate)>())
                .sum::<usize>()
    }
}

impl Paper {
    /// The arXiv listing day this version belongs to. Feeds state it (their `published` is the
    /// announcement day at midnight US Eastern); for API records it is estimated from the v1
    /// submission time with [`listing_day_for_submission`].
    pub fn announce_day(&self) -> Option<NaiveDate> {
        let published = self.published?;
        if self.announce_type.is_some() {
            Some(published.with_timezone(&New_York).date_naive())
        } else {
            Some(listing_day_for_submission(published))
        }
    }

    /// Whether the paper's primary category is outside `cats` while another category is in it.
    pub fn is_cross_list_for(&self, cats: &[Category]) -> bool {
        match &self.primary_category {
            Some(p) => !cats.contains(p) && self.categories.iter().any(|c| cats.contains(c)),
            None => false,
        }
    }
}

/// arXiv's daily cycle: submissions received before 14:00 US Eastern on a weekday are announced
/// at 20:00 that evening (Friday's at 20:00 Sunday), and that mailing is listed under the next
/// weekday. Holidays shift real listings by a day; this estimate ignores them, which is fine for
/// ordering and windowing API results (feeds carry the exact day).
pub fn listing_day_for_submission(submitted: DateTime<Utc>) -> NaiveDate {
    let local = submitted.with_timezone(&New_York);
    let cutoff = NaiveTime::from_hms_opt(14, 0, 0).expect("valid time");
    let mut day = local.date_naive();
    if is_weekend(day) || local.time() >= cutoff {
        day = next_weekday(day);
    }
    next_weekday(day)
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_weekday(d: NaiveDate) -> NaiveDate {
    let mut n = d + Duration::days(1);
    while is_weekend(n) {
        n += Duration::days(1);
    }
    n
}

/// Collapses every run of whitespace to one space and trims; idempotent by construction.
pub fn normalize_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_parse_in_every_spelling() {
        let cases = [
            ("2407.11422", "2407.11422", None),
            ("2407.11422v3", "2407.11422", Some(3)),
            ("arXiv:2407.11422v2", "2407.11422", Some(2)),
            ("https://arxiv.org/abs/2407.11422v1", "2407.11422", Some(1)),
            (
                "http://arxiv.org/pdf/2407.11422v1.pdf",
                "2407.11422",
                Some(1),
            ),
            ("oai:arXiv.org:2407.11422v5", "2407.11422", Some(5)),
            ("0704.0001", "0704.0001", None),
            ("astro-ph/0601001v1", "astro-ph/0601001", Some(1)),
            (
                "http://arxiv.org/abs/math.GT/0309136v2",
                "math.GT/0309136",
                Some(2),
            ),
            ("hep-th/9901001", "hep-th/9901001", None),
        ];
        for (input, id, v) in cases {
            let (got, ver) =
                PaperId::parse_with_version(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!((got.as_str(), ver), (id, v), "{input}");
        }
        // Found by fuzzing: a multi-byte character where "arXiv:" would end.
        assert!(PaperId::parse("astroԏh/0601001v1").is_none());
        for bad in [
            "",
            "2407",
            "2413.00001",
            "24071.1422",
            "nerf",
            "cs.CV",
            "hep-th/99",
            "2407.114",
        ] {
            assert!(PaperId::parse(bad).is_none(), "{bad} should not parse");
        }
    }

    #[test]
    fn pdf_url_carries_the_version() {
        let id = PaperId::parse("astro-ph/0601001").unwrap();
        assert_eq!(id.pdf_url(2), "https://arxiv.org/pdf/astro-ph/0601001v2");
    }

    #[test]
    fn listing_day_follows_the_14_00_eastern_cutoff() {
        let et = |y, m, d, h| {
            New_York
                .with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        // 2024-11-18 is a Monday. (submitted: day, hour Eastern) -> listed on.
        let cases = [
            ((18, 13), 19), // Monday before the 14:00 cutoff: Tuesday
            ((18, 15), 20), // Monday after it: Wednesday
            ((21, 15), 25), // Thursday after the cutoff: Monday
            ((22, 10), 25), // Friday before it: Monday
            ((22, 15), 26), // Friday after it: Tuesday
            ((24, 23), 26), // Sunday: Tuesday
        ];
        for ((d, h), listed) in cases {
            assert_eq!(
                listing_day_for_submission(et(2024, 11, d, h)),
                day(2024, 11, listed),
                "{d} {h}h"
            );
        }
    }

    #[test]
    fn normalize_ws_collapses_and_trims() {
        assert_eq!(normalize_ws("  a \n\t b  c\u{a0}d "), "a b c d");
        assert_eq!(normalize_ws(""), "");
    }
}

//! On-disk encoding of store records: one version byte, then postcard. A record whose version
//! byte this build does not know is an error, never silently misread, so the format can migrate.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::StoreError;
use crate::paper::{AnnounceType, Category, Paper, PaperId};

pub const PAPER_V1: u8 = 1;
pub const CHAT_V1: u8 = 1;
pub const SUB_V1: u8 = 1;

pub fn encode<T: Serialize>(version: u8, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![version];
    out.extend(postcard::to_stdvec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(expected: u8, what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&v, rest)) if v == expected => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
        }
        Some((&v, _)) => Err(StoreError::UnknownRecordVersion { what: what.to_string(), version: v }),
        None => Err(StoreError::Corrupt(format!("{what}: empty record"))),
    }
}

/// Day as `yyyymmdd`, big-endian in keys so that byte order is date order.
pub fn day_key(d: NaiveDate) -> [u8; 4] {
    use chrono::Datelike;
    (d.year() as u32 * 10000 + d.month() * 100 + d.day()).to_be_bytes()
}

pub fn day_from_key(b: &[u8]) -> Option<NaiveDate> {
    let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    NaiveDate::from_ymd_opt((n / 10000) as i32, (n / 100) % 100, n % 100)
}

fn days(d: Option<NaiveDate>) -> Option<i32> {
    d.map(|d| (d - NaiveDate::default()).num_days() as i32)
}

fn from_days(n: Option<i32>) -> Option<NaiveDate> {
    n.map(|n| NaiveDate::default() + chrono::Duration::days(n as i64))
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

#[derive(Serialize, Deserialize)]
pub struct PaperRecordV1 {
    id: String,
    version: u32,
    title: String,
    authors: Vec<String>,
    primary_category: Option<String>,
    categories: Vec<String>,
    published: Option<i64>,
    updated: Option<i64>,
    abstract_text: String,
    comment: Option<String>,
    doi: Option<String>,
    journal_ref: Option<String>,
    /// Only stored when it differs from the derived `https://arxiv.org/pdf/<id>v<N>`.
    pdf_url: Option<String>,
    announce_type: Option<u8>,
    first_announced: Option<i32>,
    topics: Vec<(String, i32)>,
}

fn ts(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

fn from_ts(n: Option<i64>) -> Option<DateTime<Utc>> {
    n.and_then(|n| DateTime::from_timestamp(n, 0))
}

const TYPES: [AnnounceType; 4] =
    [AnnounceType::New, AnnounceType::Cross, AnnounceType::Replace, AnnounceType::ReplaceCross];

impl From<&StoredPaper> for PaperRecordV1 {
    fn from(s: &StoredPaper) -> Self {
        let p = &s.paper;
        let derived = p.id.pdf_url(p.version);
        PaperRecordV1 {
            id: p.id.as_str().to_string(),
            version: p.version,
            title: p.title.clone(),
            authors: p.authors.clone(),
            primary_category: p.primary_category.as_ref().map(|c| c.0.clone()),
            categories: p.categories.iter().map(|c| c.0.clone()).collect(),
            published: ts(p.published),
            updated: ts(p.updated),
            abstract_text: p.abstract_text.clone(),
            comment: p.comment.clone(),
            doi: p.doi.clone(),
            journal_ref: p.journal_ref.clone(),
            pdf_url: match &p.pdf_url {
                Some(u) if *u == derived => Some(String::new()),
                other => other.clone(),
            },
            announce_type: p.announce_type.and_then(|a| TYPES.iter().position(|t| *t == a).map(|i| i as u8)),
            first_announced: days(s.first_announced),
            topics: s.topics.iter().map(|(t, d)| (t.clone(), days(Some(*d)).unwrap_or(0))).collect(),
        }
    }
}

impl TryFrom<PaperRecordV1> for StoredPaper {
    type Error = StoreError;
    fn try_from(r: PaperRecordV1) -> Result<Self, StoreError> {
        let id = PaperId::parse(&r.id).ok_or_else(|| StoreError::Corrupt(format!("bad id {}", r.id)))?;
        let pdf_url = match r.pdf_url {
            Some(u) if u.is_empty() => Some(id.pdf_url(r.version)),
            other => other,
        };
        Ok(StoredPaper {
            paper: Paper {
                id,
                version: r.version,
                title: r.title,
                authors: r.authors,
                primary_category: r.primary_category.map(Category),
                categories: r.categories.into_iter().map(Category).collect(),
                published: from_ts(r.published),
                updated: from_ts(r.updated),
                abstract_text: r.abstract_text,
                comment: r.comment,
                doi: r.doi,
                journal_ref: r.journal_ref,
                pdf_url,
                announce_type: r.announce_type.and_then(|i| TYPES.get(i as usize).copied()),
            },
            first_announced: from_days(r.first_announced),
            topics: r.topics.into_iter().map(|(t, d)| (t, from_days(Some(d)).unwrap_or_default())).collect(),
        })
    }
}

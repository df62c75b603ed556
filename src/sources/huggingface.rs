//! Hugging Face Daily Papers: the day's list (`/api/daily_papers?date=`) and one paper
//! (`/api/papers/<id>`), parsed purely (`parse_daily`, `parse_paper`) and fetched politely (a
//! minimum interval between requests, a timeout). No key is needed. Every failure is an
//! `Err` for the caller to log: enrichment never blocks a digest.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::clock::Clock;
use crate::config::HuggingFaceConfig;
use crate::model::enrichment::HfInfo;
use crate::model::paper::{Paper, PaperId, normalize_ws};

/// Why a Hugging Face answer could not be had or used.
/// Hugging Face's requests are retried through a passing failure (a 429, a 5xx, a timeout),
/// briefly: enrichment goes on without a paper's facts rather than wait long.
const RETRY: paperbell_chat::retry::RetryPolicy = paperbell_chat::retry::RetryPolicy {
    base: Duration::from_millis(500),
    cap: Duration::from_secs(60),
    retries: 3,
    budget: Duration::from_secs(120),
};

#[derive(Debug, thiserror::Error)]
pub enum HfError {
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("huggingface.api_url `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: StatusCode },
    #[error("not a {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("`{0}` is not an arXiv id")]
    NotArxiv(String),
    #[error("{0}: no title")]
    NoTitle(PaperId),
}

/// A paper as Hugging Face lists it: the paper, and what Hugging Face adds to it.
#[derive(Debug, Clone, PartialEq)]
pub struct HfPaper {
    pub paper: Paper,
    pub info: HfInfo,
}

#[derive(Deserialize)]
struct RawItem {
    paper: RawPaper,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawPaper {
    id: String,
    title: String,
    summary: String,
    authors: Vec<RawAuthor>,
    published_at: Option<String>,
    upvotes: Option<u32>,
    github_repo: Option<String>,
    github_stars: Option<u32>,
    project_page: Option<String>,
    #[serde(rename = "ai_summary")]
    ai_summary: Option<String>,
    #[serde(rename = "ai_keywords")]
    ai_keywords: Vec<String>,
    /// Images and videos the authors put on the paper's page.
    media_urls: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuthor {
    name: String,
}

fn convert(r: RawPaper, now: i64) -> Result<HfPaper, HfError> {
    let (id, version) =
        PaperId::parse_with_version(&r.id).ok_or_else(|| HfError::NotArxiv(r.id.clone()))?;
    let title = normalize_ws(&r.title);
    if title.is_empty() {
        return Err(HfError::NoTitle(id));
    }
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(HfPaper {
        paper: Paper {
            id,
            version: version.unwrap_or(1),
            title,
            authors: r
                .authors
                .iter()
                .map(|a| normalize_ws(&a.name))
                .filter(|a| !a.is_empty())
                .collect(),
            primary_category: None,
            categories: Vec::new(),
            published: r
                .published_at
                .as_deref()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc)),
            updated: None,
            abstract_text: normalize_ws(&r.summary),
            comment: None,
            doi: None,
            journal_ref: None,
            pdf_url: None,
            announce_type: None,
        },
        info: HfInfo {
            found: true,
            upvotes: r.upvotes,
            github_repo: nonempty(r.github_repo),
            github_stars: r.github_stars,
            project_page: nonempty(r.project_page),
            ai_summary: nonempty(r.ai_summary),
            ai_keywords: r.ai_keywords,
            fetched_at: now,
            media: r.media_urls.into_iter().find(|u| is_image(u)),
        },
    })
}

/// An http(s) address of an image chat apps and browsers show (not a video).
fn is_image(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    (path.starts_with("https://") || path.starts_with("http://"))
        && [".png", ".jpg", ".jpeg", ".gif", ".webp"]
            .iter()
            .any(|e| path.ends_with(e))
}

/// The papers of a `/api/daily_papers` answer, most upvoted first; items that are not arXiv
/// papers are skipped.
pub fn parse_daily(bytes: &[u8], now: i64) -> Result<Vec<HfPaper>, HfError> {
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|source| HfError::Json {
            what: "daily-papers list",
            source,
        })?;
    let mut out: Vec<HfPaper> = items
        .into_iter()
        .filter_map(|v| serde_json::from_value::<RawItem>(v).ok())
        .filter_map(|i| convert(i.paper, now).ok())
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.info.upvotes.unwrap_or(0)));
    Ok(out)
}

/// One `/api/papers/<id>` answer.
pub fn parse_paper(bytes: &[u8], now: i64) -> Result<HfPaper, HfError> {
    let raw: RawPaper = serde_json::from_slice(bytes).map_err(|source| HfError::Json {
        what: "paper object",
        source,
    })?;
    convert(raw, now)
}

pub struct HfClient {
    http: reqwest::Client,
    base: Url,
    min_interval: Duration,
    /// Held for the whole request: one request at a time, spaced by `min_interval`.
    last: Mutex<Option<Instant>>,
    /// When an answer came (`HfInfo::fetched_at`).
    clock: Clock,
}

impl HfClient {
    pub fn new(
        cfg: &HuggingFaceConfig,
        user_agent: &str,
        clock: Clock,
    ) -> Result<HfClient, HfError> {
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(Duration::from_secs_f64(cfg.timeout_secs))
            .build()
            .map_err(HfError::Client)?;
        let base = Url::parse(cfg.api_url.trim_end_matches('/')).map_err(|e| HfError::BadUrl {
            url: cfg.api_url.to_string(),
            reason: e.to_string(),
        })?;
        Ok(HfClient {
            http,
            base,
            min_interval: Duration::from_secs_f64(cfg.min_interval_secs),
            last: Mutex::new(None),
            clock,
        })
    }

    /// A GET, retried through passing failures (`RETRY`): `None` for a 404.
    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Option<Vec<u8>>, HfError> {
        let mut last = self.last.lock().await;
        if let Some(t) = *last {
            tokio::time::sleep(self.min_interval.saturating_sub(t.elapsed())).await;
        }
        let mut url = self.base.clone();
        url.set_path(&format!("{}{path}", self.base.path().trim_end_matches('/')));
        let result = super::retry::send(RETRY, &self.clock, "Hugging Face", || {
            self.http.get(url.clone()).query(query)
        })
        .await;
        *last = Some(Instant::now());
        let http = |source| HfError::Http {
            url: url.to_string(),
            source,
        };
        let resp = result.map_err(http)?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(resp.bytes().await.map_err(http)?.to_vec())),
            status => Err(HfError::Status {
                url: url.to_string(),
                status,
            }),
        }
    }

    /// The Daily Papers of one date, most upvoted first.
    pub async fn daily(&self, date: NaiveDate) -> Result<Vec<HfPaper>, HfError> {
        let body = self
            .get(
                "/api/daily_papers",
                &[("date", date.to_string()), ("limit", "100".into())],
            )
            .await?;
        match body {
            Some(b) => parse_daily(&b, self.clock.now().timestamp()),
            None => Ok(Vec::new()),
        }
    }

    /// What Hugging Face knows of one paper; `found: false` when it does not know it.
    pub async fn paper(&self, id: &PaperId) -> Result<HfInfo, HfError> {
        let now = self.clock.now().timestamp();
        match self
            .get(&format!("/api/papers/{}", id.as_str()), &[])
            .await?
        {
            Some(b) => Ok(parse_paper(&b, now)?.info),
            None => Ok(HfInfo {
                found: false,
                fetched_at: now,
                ..HfInfo::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_list_parses_and_orders_by_upvotes() {
        let body = br#"[
          {"paper": {"id": "2411.00002", "title": "B  paper", "summary": "Two.", "authors": [{"name": "X Y"}],
                     "publishedAt": "2024-11-18T10:00:00.000Z", "upvotes": 3}, "title": "B"},
          {"paper": {"id": "2411.00001", "title": "A", "summary": "One.", "authors": [],
                     "upvotes": 40, "githubRepo": "https://github.com/a/b", "githubStars": 12,
                     "projectPage": "https://a.github.io/b", "ai_summary": "Short.", "ai_keywords": ["x"],
                     "mediaUrls": ["https://cdn.example/demo.mp4", "https://cdn.example/teaser.PNG"]}},
          {"paper": {"id": "not-an-id", "title": "C"}},
          {"nothing": 1}
        ]"#;
        let v = parse_daily(body, 7).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].paper.id.as_str(), "2411.00001");
        assert_eq!(v[0].info.github_stars, Some(12));
        assert_eq!(v[0].info.ai_keywords, ["x"]);
        // The first image, not the video before it.
        assert_eq!(
            v[0].info.media.as_deref(),
            Some("https://cdn.example/teaser.PNG")
        );
        assert_eq!(v[1].info.media, None);
        assert_eq!(v[1].paper.title, "B paper");
        assert_eq!(v[1].paper.authors, ["X Y"]);
        assert!(v[1].paper.published.is_some());
        assert!(parse_daily(b"{\"error\": 1}", 0).is_err());
    }
}

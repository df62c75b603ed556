//! Polite HTTP to arXiv: one request at a time, a minimum interval between requests (arXiv's
//! terms: one every 3 s, one connection, API and feeds together), a descriptive User-Agent,
//! retries with exponential backoff and jitter, and `Retry-After` honoured. A response only
//! counts when it parses completely: blank bodies, `Rate exceeded.`, truncated documents and
//! empty pages in the middle of a result set are retried, never returned as data.

use std::time::{Duration, Instant};

use paperbell_chat::retry::RetryPolicy;
use reqwest::{StatusCode, Url};
use tokio::sync::Mutex;

use super::{ParseError, Parsed, arxiv_html, parse};
use crate::config::ArxivConfig;
use crate::model::enrichment::Figure;
use crate::model::paper::{Category, PaperId};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// arXiv's API answered with its error feed: the request itself is wrong; not retried.
    #[error("arXiv API error: {0}")]
    Api(String),
    #[error("giving up on {url} after {attempts} attempts: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{0}")]
    Setup(String),
    /// The page handler refused a page (e.g. the store failed); paging stopped there.
    #[error("stopped: {0}")]
    Handler(String),
}

/// One attempt's failure, and whether trying again can help.
enum Attempt {
    Retry {
        why: String,
        after: Option<Duration>,
    },
    Fatal(FetchError),
}

pub struct ArxivClient {
    http: reqwest::Client,
    api_url: Url,
    feed_url: Url,
    html_url: Url,
    min_interval: Duration,
    /// `[arxiv] max_retries` and `backoff_base_ms` in the one retry policy.
    retry: RetryPolicy,
    page_size: u32,
    max_results: u32,
    /// Held for the whole request: this is what makes requests one at a time.
    last_request: Mutex<Option<Instant>>,
}

/// A page is parsed for its first figure once this much of it has come, then each time it
/// has doubled (so all the parsing costs at most twice one parse of what was read). The real
/// pages' first figures end 7 to 57 KB into pages of 167 to 299 KB.
const FIRST_LOOK_BYTES: usize = 16 * 1024;
/// The longest wait between two tries (arXiv's `Retry-After` included).
const MAX_WAIT: Duration = Duration::from_secs(300);
/// Most of an HTML edition read: a figure not found by then counts as none.
const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;

/// What arXiv's HTML edition answered for one paper version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edition {
    /// The page exists; its first figure, and how many bytes of it were read.
    Page { figure: Option<Figure>, bytes: u64 },
    /// No HTML edition (404).
    Missing,
}

/// What a paged API query did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QueryStats {
    pub pages: u32,
    pub papers: usize,
    pub total_results: Option<u64>,
}

impl ArxivClient {
    pub fn new(cfg: &ArxivConfig) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .timeout(Duration::from_secs_f64(cfg.timeout_secs))
            .connect_timeout(Duration::from_secs_f64(cfg.timeout_secs.min(30.0)))
            // One connection at a time: never keep a pool of several.
            .pool_max_idle_per_host(1)
            .build()
            .map_err(|e| FetchError::Setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(ArxivClient {
            http,
            api_url: cfg.api_url.url().clone(),
            feed_url: cfg.feed_url.url().clone(),
            // A base without its trailing slash would lose its last segment when joined.
            html_url: Url::parse(&format!("{}/", cfg.html_url.trim_end_matches('/')))
                .map_err(|e| FetchError::Setup(format!("arxiv.html_url: {e}")))?,
            min_interval: Duration::from_secs_f64(cfg.min_interval_secs),
            retry: RetryPolicy {
                base: Duration::from_millis(cfg.backoff_base_ms),
                cap: MAX_WAIT,
                retries: cfg.max_retries,
                budget: MAX_WAIT * cfg.max_retries.max(1),
            },
            page_size: cfg.page_size.clamp(1, 2000),
            max_results: cfg.max_results.clamp(1, 30000),
            last_request: Mutex::new(None),
        })
    }

    /// The day's announcements for some categories, from the RSS feed (`cat1+cat2`).
    pub async fn feed(&self, categories: &[Category]) -> Result<Parsed, FetchError> {
        let cats: Vec<&str> = categories.iter().map(Category::as_str).collect();
        let mut url = self.feed_url.clone();
        let path = format!(
            "{}/rss/{}",
            url.path().trim_end_matches('/'),
            cats.join("+")
        );
        url.set_path(&path);
        self.get(url, |_| None).await
    }

    /// Papers by id (`id_list`), up to one page.
    pub async fn by_ids(&self, ids: &[PaperId]) -> Result<Parsed, FetchError> {
        let list: Vec<&str> = ids.iter().map(PaperId::as_str).collect();
        let mut url = self.api_url.clone();
        url.query_pairs_mut()
            .append_pair("id_list", &list.join(","))
            .append_pair("max_results", &ids.len().to_string());
        self.get(url, |_| None).await
    }

    /// Runs an API `search_query`, newest submissions first, page by page. Each page is handed
    /// to `on_page` only once it parsed completely, so a failure never delivers half a page.
    pub async fn query<F>(
        &self,
        search_query: &str,
        limit: Option<u32>,
        mut on_page: F,
    ) -> Result<QueryStats, FetchError>
    where
        F: FnMut(Parsed) -> Result<(), FetchError>,
    {
        let limit = limit.unwrap_or(self.max_results).min(self.max_results) as u64;
        let mut stats = QueryStats::default();
        let mut start = 0u64;
        while start < limit {
            let want = (self.page_size as u64).min(limit - start);
            let mut url = self.api_url.clone();
            url.query_pairs_mut()
                .append_pair("search_query", search_query)
                .append_pair("start", &start.to_string())
                .append_pair("max_results", &want.to_string())
                .append_pair("sortBy", "submittedDate")
                .append_pair("sortOrder", "descending");
            let page_start = start;
            let page = self
                .get(url, move |p| {
                    // arXiv intermittently answers a page inside the result set with no entries.
                    match p.total_results {
                        Some(total) if p.entries == 0 && page_start < total => Some(format!(
                            "empty page at start={page_start} of {total} results"
                        )),
                        _ => None,
                    }
                })
                .await?;
            let got = page.entries as u64;
            stats.pages += 1;
            stats.papers += page.papers.len();
            stats.total_results = page.total_results.or(stats.total_results);
            let total = page.total_results;
            on_page(page)?;
            start += got;
            if got < want || got == 0 || total.is_some_and(|t| start >= t) {
                break;
            }
        }
        Ok(stats)
    }

    async fn get(
        &self,
        url: Url,
        // `Some(why)`: the page is unusable and is asked for again.
        check: impl Fn(&Parsed) -> Option<String>,
    ) -> Result<Parsed, FetchError> {
        self.retrying(&url, || self.attempt(&url, &check)).await
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent, waiting
    /// between tries as arXiv asked (`Retry-After`) or with backoff.
    async fn retrying<T, F, Fut>(&self, url: &Url, mut attempt: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Attempt>>,
    {
        let mut tries = self.retry.start();
        loop {
            let (why, after) = match attempt().await {
                Ok(v) => return Ok(v),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry { why, after }) => (why, after),
            };
            // arXiv asking for more than the cap is waited out up to the cap, then asked
            // again: the fetch job has nothing better to do, and gives up by the budget.
            let after = after.map(|a| a.min(MAX_WAIT));
            let Some(delay) = tries.next(after, rand::random()) else {
                return Err(FetchError::GaveUp {
                    url: url.to_string(),
                    attempts: tries.attempts(),
                    last: why,
                });
            };
            tracing::warn!(%url, attempt = tries.attempts(), ?delay, "arXiv request failed, retrying: {why}");
            tokio::time::sleep(delay).await;
        }
    }

    /// A paper version's first figure from its HTML edition (`{html_url}{id}v{version}`). The
    /// page is read only as far as its first complete figure (most of a page is text after it).
    /// `patient`: retried like every other request (the fetch job); else asked once, for
    /// someone waiting on an answer (`/paper`), who gets it without a figure if arXiv stalls.
    pub async fn figure(
        &self,
        id: &PaperId,
        version: u32,
        patient: bool,
    ) -> Result<Edition, FetchError> {
        let url = self
            .html_url
            .join(&format!("{}v{version}", id.as_str()))
            .map_err(|e| FetchError::Setup(format!("arxiv.html_url: {e}")))?;
        if patient {
            return self.retrying(&url, || self.edition_attempt(&url)).await;
        }
        match self.edition_attempt(&url).await {
            Ok(e) => Ok(e),
            Err(Attempt::Fatal(e)) => Err(e),
            Err(Attempt::Retry { why, .. }) => Err(FetchError::GaveUp {
                url: url.to_string(),
                attempts: 1,
                last: why,
            }),
        }
    }

    async fn edition_attempt(&self, url: &Url) -> Result<Edition, Attempt> {
        let (mut last, mut response) = self.send(url).await?;
        let status = response.status();
        let retry_after = retry_after(&response);
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            *last = Some(Instant::now());
            return Ok(Edition::Missing);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            *last = Some(Instant::now());
            return Err(Attempt::Retry {
                why: format!("HTTP {status}"),
                after: retry_after,
            });
        }
        if !status.is_success() {
            *last = Some(Instant::now());
            return Err(Attempt::Fatal(FetchError::GaveUp {
                url: url.to_string(),
                attempts: 1,
                last: format!("HTTP {status}"),
            }));
        }
        // Redirects followed: relative images resolve against where the page really is.
        let page = response.url().clone();
        let mut body = Vec::new();
        let mut next_look = FIRST_LOOK_BYTES;
        let outcome = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    body.extend_from_slice(&chunk);
                    if body.len() >= next_look {
                        next_look = body.len().saturating_mul(2);
                        if let Some(found) = look(&body, &page, false).await {
                            break Ok(found);
                        }
                    }
                    if body.len() >= MAX_PAGE_BYTES {
                        break Ok(look(&body, &page, true).await.flatten());
                    }
                }
                Ok(None) => break Ok(look(&body, &page, true).await.flatten()),
                Err(e) => {
                    break Err(Attempt::Retry {
                        why: describe(&e),
                        after: None,
                    });
                }
            }
        };
        *last = Some(Instant::now());
        drop(last);
        outcome.map(|figure| Edition::Page {
            figure,
            bytes: body.len() as u64,
        })
    }

    /// Takes the one connection, waits out arXiv's interval and sends `GET url`; the guard is
    /// held until the caller has read the answer (and notes when it did).
    async fn send(
        &self,
        url: &Url,
    ) -> Result<
        (
            tokio::sync::MutexGuard<'_, Option<Instant>>,
            reqwest::Response,
        ),
        Attempt,
    > {
        let mut last = self.last_request.lock().await;
        self.pace(*last).await;
        match self.http.get(url.clone()).send().await {
            Ok(r) => Ok((last, r)),
            Err(e) => {
                *last = Some(Instant::now());
                Err(Attempt::Retry {
                    why: describe(&e),
                    after: None,
                })
            }
        }
    }

    /// Waits out the rest of the minimum interval since the previous request.
    async fn pace(&self, last: Option<Instant>) {
        if let Some(prev) = last {
            let wait = self.min_interval.saturating_sub(prev.elapsed());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        check: &impl Fn(&Parsed) -> Option<String>,
    ) -> Result<Parsed, Attempt> {
        let (mut last, response) = self.send(url).await?;
        let status = response.status();
        let retry_after = retry_after(&response);
        let body = response.bytes().await;
        *last = Some(Instant::now());
        drop(last);
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                return Err(Attempt::Retry {
                    why: describe(&e),
                    after: None,
                });
            }
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Attempt::Retry {
                why: format!("HTTP {status}"),
                after: retry_after,
            });
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(64)]);
        if text.trim_start().starts_with("Rate exceeded") {
            return Err(Attempt::Retry {
                why: "arXiv said `Rate exceeded.`".into(),
                after: retry_after,
            });
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Attempt::Retry {
                why: format!("HTTP {status} with a blank body"),
                after: retry_after,
            });
        }
        match parse(&body) {
            Err(ParseError::Api { message }) => Err(Attempt::Fatal(FetchError::Api(message))),
            Err(e) if status.is_success() => Err(Attempt::Retry {
                why: format!("unusable document: {e}"),
                after: None,
            }),
            Err(e) => Err(Attempt::Fatal(FetchError::GaveUp {
                url: url.to_string(),
                attempts: 1,
                last: format!("HTTP {status}: {e}"),
            })),
            Ok(_) if !status.is_success() => Err(Attempt::Fatal(FetchError::GaveUp {
                url: url.to_string(),
                attempts: 1,
                last: format!("HTTP {status}"),
            })),
            Ok(parsed) => match check(&parsed) {
                None => Ok(parsed),
                Some(why) => Err(Attempt::Retry { why, after: None }),
            },
        }
    }
}

/// Pages read so far larger than this are parsed on the blocking pool, not the runtime's
/// worker (a few MB of HTML take tens of milliseconds).
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// `arxiv_html::read_prefix` on what came of a page so far.
async fn look(body: &[u8], page: &Url, complete: bool) -> Option<Option<Figure>> {
    if body.len() <= PARSE_INLINE_BYTES {
        return arxiv_html::read_prefix(&String::from_utf8_lossy(body), page, complete);
    }
    let (body, page) = (body.to_vec(), page.clone());
    tokio::task::spawn_blocking(move || {
        arxiv_html::read_prefix(&String::from_utf8_lossy(&body), &page, complete)
    })
    .await
    .unwrap_or(Some(None))
}

/// arXiv's `Retry-After` (seconds, or a date against the response's own `Date`).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    super::retry::asked_wait(response, None)
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display includes the URL, which is ours and safe; the source says what happened.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(s) => format!("{kind}: {s}"),
        None => kind.to_string(),
    }
}

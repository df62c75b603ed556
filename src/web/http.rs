//! The archive's routes on the service's HTTP listener: the pages (read-only, `GET` only),
//! `/healthz` and `/metrics`; the language from `?lang=` or `Accept-Language`; `ETag`s made
//! from what the store shows, so an unchanged page answers `304 Not Modified` unrendered.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use paperbell_chat::Lang;

use super::health::{self, Platforms};
use super::links::Links;
use super::site::{Made, Place, Site, SiteError};
use crate::clock::Clock;
use crate::metrics::{self, Exporter};

/// What the routes share.
pub struct Web {
    /// The pages; `None` when `[web] enabled = false` (health and metrics stay).
    pub site: Option<Site>,
    pub store: Arc<crate::store::Store>,
    pub platforms: Platforms,
    pub exporter: Exporter,
    pub clock: Clock,
    pub stale_after: chrono::Duration,
    /// When the service started (`/healthz` forgives no fetch until `stale_after` since).
    pub started: chrono::DateTime<chrono::Utc>,
    /// The search index, for `/healthz` (the pages search through `site`).
    pub search: Option<Arc<crate::search::SearchIndex>>,
    /// Differs per process: the store's change counter starts again at each start.
    pub nonce: u64,
    /// Pages made, by ETag (which changes with anything they show).
    pub made: PageCache,
    /// Where papers' figures come from (the origin of `[arxiv] html_url`): the one place
    /// pages may load images from besides themselves.
    pub figure_origin: Option<String>,
    /// The threads that make pages, below the bot's priority.
    pub makers: super::makers::Makers,
}

/// Pages already made, by their ETag, within a budget of bytes: when full, the pages least
/// likely to be asked again go (a page of a changed store has a new ETag, so an old entry is
/// never served, only evicted in its turn).
pub struct PageCache {
    pages: quick_cache::sync::Cache<String, CachedPage, PageWeight>,
    budget: u64,
}

/// A made page: its content type and body.
type CachedPage = (&'static str, axum::body::Bytes);

/// A page weighs its body and its key.
#[derive(Clone)]
struct PageWeight;

impl quick_cache::Weighter<String, CachedPage> for PageWeight {
    fn weight(&self, etag: &String, page: &CachedPage) -> u64 {
        (etag.len() + page.1.len()) as u64
    }
}

/// The cache's budget unless `[memory] budget_mb` says otherwise.
pub const DEFAULT_PAGE_CACHE_BYTES: u64 = 36 << 20;

impl Default for PageCache {
    fn default() -> Self {
        PageCache::with_budget(DEFAULT_PAGE_CACHE_BYTES)
    }
}

impl PageCache {
    /// A cache of at most `budget` bytes of pages.
    pub fn with_budget(budget: u64) -> PageCache {
        // About 40 KB a page (topic days are larger, papers smaller).
        let pages = (budget / 40_000).max(16) as usize;
        PageCache {
            pages: quick_cache::sync::Cache::with_weighter(pages, budget.max(1), PageWeight),
            budget,
        }
    }

    fn get(&self, etag: &str) -> Option<CachedPage> {
        self.pages.get(etag)
    }

    /// Keeps a made page and returns it to serve. Held at exactly its length: a rendered
    /// page's `String` grew by doubling, and the capacity the weight does not count was half
    /// of what the cache really held (60 MB in a 32 MB cache after 459 topic days).
    fn put(&self, etag: String, content_type: &'static str, body: String) -> axum::body::Bytes {
        let body = axum::body::Bytes::from(body.into_bytes().into_boxed_slice());
        // A page over a sixteenth of the budget would push out many others.
        if body.len() as u64 <= self.budget / 16 {
            self.pages.insert(etag, (content_type, body.clone()));
        }
        body
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        self.pages.weight()
    }
}

/// The longest query string a page takes; longer requests are refused before any work.
const MAX_QUERY_BYTES: usize = 2048;

/// `/healthz`, `/metrics` and, when the pages are on, the pages.
pub fn router(web: Arc<Web>) -> Router {
    // A topic's newest page, feed or chart: the address after the topic, and what it asks.
    let part = |suffix: &'static str, want: fn(String) -> Want| {
        move |s: State<Arc<Web>>, p: Path<String>, q: RawQuery, h: HeaderMap| {
            topic_part(s, p, q, h, suffix, want)
        }
    };
    let mut r = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text));
    if web.site.is_some() {
        r = r
            .route("/", get(home))
            .route("/index.html", get(home))
            .route("/topics/{id}", get(part("", |id| Want::Topic(id, None))))
            .route(
                "/topics/{id}/feed.atom",
                get(part("/feed.atom", Want::Feed)),
            )
            .route(
                "/topics/{id}/chart.svg",
                get(part("/chart.svg", Want::Chart)),
            )
            .route("/topics/{id}/{day}", get(topic_day))
            .route("/papers/{*id}", get(paper))
            .route("/search", get(search))
            .fallback(get(nowhere));
    }
    r.with_state(web)
}

async fn healthz(State(web): State<Arc<Web>>) -> Response {
    let w = web.clone();
    let (ok, body) = match tokio::task::spawn_blocking(move || {
        let seen = health::Seen {
            platforms: &w.platforms,
            search: w.search.as_deref(),
            now: w.clock.now(),
            started: w.started,
            stale_after: w.stale_after,
        };
        health::report(&w.store, &seen)
    })
    .await
    {
        Ok(r) => r,
        Err(_) => (
            false,
            serde_json::json!({"status": "unhealthy", "problems": ["health check panicked"]}),
        ),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, body.to_string()).into_response();
    set(&mut resp, header::CONTENT_TYPE, "application/json");
    set(&mut resp, header::CACHE_CONTROL, "no-store");
    resp
}

async fn metrics_text(State(web): State<Arc<Web>>) -> Response {
    metrics::cache_bytes("pages", web.made.bytes());
    let w = web.clone();
    match tokio::task::spawn_blocking(move || w.exporter.render(&w.store)).await {
        Ok(Ok(text)) => {
            let mut resp = text.into_response();
            set(
                &mut resp,
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            );
            set(&mut resp, header::CACHE_CONTROL, "no-store");
            resp
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "metrics: the store fails");
            (StatusCode::SERVICE_UNAVAILABLE, "the store fails\n").into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The page's language: `?lang=` (kept on its links) or the browser's `Accept-Language`.
fn language(query: &[(String, String)], headers: &HeaderMap) -> (Lang, bool) {
    if let Some(l) = param(query, "lang").and_then(Lang::from_code) {
        return (l, true);
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (preferred(accept), false)
}

/// The language of `Accept-Language` (`zh-CN,zh;q=0.9,en;q=0.8`) this archive speaks with
/// the highest weight; English when none.
fn preferred(accept: &str) -> Lang {
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',').take(16) {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        if let Some(l) = Lang::from_code(tag)
            && q > 0.0
            && best.is_none_or(|(b, _)| q > b)
        {
            best = Some((q, l));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

/// The query string's pairs, decoded as forms encode them (`+` is a space, bad escapes stay as
/// they are); `None` when it is too long to take.
fn parse_query(raw: Option<&str>) -> Option<Vec<(String, String)>> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_BYTES {
        return None;
    }
    Some(
        form_urlencoded::parse(raw.as_bytes())
            .into_owned()
            .collect(),
    )
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// What a page route asks to be made.
enum Want {
    Home,
    Topic(String, Option<NaiveDate>),
    Paper(String),
    Search(String, u32),
    Feed(String),
    Chart(String),
}

impl Want {
    fn kind(&self) -> &'static str {
        match self {
            Want::Home => "home",
            Want::Topic(..) => "topic",
            Want::Paper(_) => "paper",
            Want::Search(..) => "search",
            Want::Feed(_) => "feed",
            Want::Chart(_) => "chart",
        }
    }
}

async fn home(State(web): State<Arc<Web>>, q: RawQuery, h: HeaderMap) -> Response {
    serve(web, q, h, "/".into(), |_| Some(Want::Home)).await
}

/// A topic's page, feed or chart: `suffix` after `/topics/<id>`, `want` what it asks.
async fn topic_part(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    q: RawQuery,
    h: HeaderMap,
    suffix: &'static str,
    want: fn(String) -> Want,
) -> Response {
    let path = format!("/topics/{}{suffix}", super::links::segment(&id));
    serve(web, q, h, path, move |_| Some(want(id))).await
}

async fn topic_day(
    State(web): State<Arc<Web>>,
    Path((id, day)): Path<(String, String)>,
    q: RawQuery,
    h: HeaderMap,
) -> Response {
    let path = format!(
        "/topics/{}/{}",
        super::links::segment(&id),
        super::links::segment(&day)
    );
    serve(web, q, h, path, move |_| {
        let day = day.strip_suffix(".html").unwrap_or(&day).parse().ok()?;
        Some(Want::Topic(id, Some(day)))
    })
    .await
}

async fn paper(
    State(web): State<Arc<Web>>,
    Path(id): Path<String>,
    q: RawQuery,
    h: HeaderMap,
) -> Response {
    let id = id.strip_suffix(".html").unwrap_or(&id).to_string();
    let path = format!("/papers/{}", super::links::segment(&id).replace("%2F", "/"));
    serve(web, q, h, path, move |_| Some(Want::Paper(id))).await
}

async fn nowhere(State(web): State<Arc<Web>>, q: RawQuery, h: HeaderMap) -> Response {
    serve(web, q, h, "/".into(), |_| None).await
}

async fn search(State(web): State<Arc<Web>>, q: RawQuery, h: HeaderMap) -> Response {
    serve(web, q, h, "/search".into(), |query| {
        let words = param(query, "q").unwrap_or("").to_string();
        let page = param(query, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Some(Want::Search(words, page))
    })
    .await
}

/// Makes a page on a blocking thread (the store and the index are synchronous), unless the
/// reader's copy is still current (`If-None-Match`).
async fn serve(
    web: Arc<Web>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    path: String,
    want: impl FnOnce(&[(String, String)]) -> Option<Want> + Send + 'static,
) -> Response {
    let Some(query) = parse_query(raw.as_deref()) else {
        metrics::web_response("refused", 414);
        return (StatusCode::URI_TOO_LONG, "That address is too long.\n").into_response();
    };
    let (lang, lang_param) = language(&query, &headers);
    let Some(site) = web.site.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = etag(&web, site, &path, raw.as_deref(), lang);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        set_etag(&mut r, &etag);
        return finish(r, "not-modified", &web);
    }
    if let Some((content_type, body)) = web.made.get(&etag) {
        let mut r = Response::new(Body::from(body));
        set(&mut r, header::CONTENT_TYPE, content_type);
        set_etag(&mut r, &etag);
        return finish(r, "cached", &web);
    }
    let w = web.clone();
    let made = web
        .makers
        .run(move || {
            let site = w.site.as_ref().expect("pages are on");
            let links = Links::served(lang_param.then_some(lang));
            let at = Place {
                links: &links,
                path: &path,
                lang,
                lang_param,
            };
            let Some(want) = want(&query) else {
                return (
                    "missing",
                    site.missing(&at, "There is no such page.")
                        .map(Made::Missing),
                    "text/html; charset=utf-8",
                );
            };
            let kind = want.kind();
            let html = "text/html; charset=utf-8";
            let made = match want {
                Want::Home => (site.home(&at).map(Made::Page), html),
                Want::Topic(id, day) => (site.topic(&at, &id, day), html),
                Want::Paper(id) => (site.paper(&at, &id), html),
                Want::Search(q, page) => (site.search(&at, &q, page).map(Made::Page), html),
                Want::Feed(id) => (
                    site.feed(&id, &Links::served(None)),
                    "application/atom+xml; charset=utf-8",
                ),
                Want::Chart(id) => (site.chart(&id), "image/svg+xml"),
            };
            (kind, made.0, made.1)
        })
        .await;
    let (kind, made, content_type) = match made {
        Ok(m) => m,
        Err(super::makers::Panicked) => {
            tracing::error!("a page panicked");
            metrics::web_response("error", 500);
            return error_page();
        }
    };
    let resp = match made {
        Ok(Made::Page(body)) => {
            let body = web.made.put(etag.clone(), content_type, body);
            let mut r = Response::new(Body::from(body));
            set(&mut r, header::CONTENT_TYPE, content_type);
            set_etag(&mut r, &etag);
            r
        }
        Ok(Made::Missing(body)) => {
            let mut r = (StatusCode::NOT_FOUND, body).into_response();
            let text = if content_type.starts_with("text/html") {
                content_type
            } else {
                "text/plain; charset=utf-8"
            };
            set(&mut r, header::CONTENT_TYPE, text);
            r
        }
        Err(e) => {
            log_failure(&e);
            metrics::web_response(kind, 500);
            return error_page();
        }
    };
    finish(resp, kind, &web)
}

fn finish(mut resp: Response, kind: &'static str, web: &Web) -> Response {
    metrics::web_response(kind, resp.status().as_u16());
    // Revalidate each time: the ETag makes that a 304 while nothing changed.
    set(&mut resp, header::CACHE_CONTROL, "no-cache");
    set(&mut resp, header::VARY, "Accept-Language");
    security_headers(&mut resp, web.figure_origin.as_deref());
    resp
}

fn log_failure(e: &SiteError) {
    tracing::error!(error = %e, "a page could not be made");
}

fn error_page() -> Response {
    let mut r = (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on the server; please try again in a minute.\n",
    )
        .into_response();
    security_headers(&mut r, None);
    r
}

/// The pages run no script and embed nothing from elsewhere but papers' figures, from
/// `figure_origin` (arXiv's HTML edition).
fn security_headers(r: &mut Response, figure_origin: Option<&str>) {
    set(r, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:{}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        figure_origin.map(|o| format!(" {o}")).unwrap_or_default()
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    set(r, header::REFERRER_POLICY, "no-referrer");
}

/// The ETag of a page: this process, what the store shows (and what the index holds, for
/// similar papers and search), the address and the language.
fn etag(web: &Web, site: &Site, path: &str, query: Option<&str>, lang: Lang) -> String {
    let mut h = rustc_hash::FxHasher::default();
    path.hash(&mut h);
    query.hash(&mut h);
    lang.code().hash(&mut h);
    let index = site.archive.search.as_ref().map_or(0, |i| i.len());
    format!(
        "\"{:x}-{:x}-{:x}-{:x}\"",
        web.nonce,
        web.store.shown_generation(),
        index,
        h.finish()
    )
}

fn set_etag(r: &mut Response, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
}

fn set(r: &mut Response, name: header::HeaderName, value: &'static str) {
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_with_the_highest_weight_wins() {
        assert_eq!(preferred("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(preferred("fr-FR,en;q=0.5,zh;q=0.4"), Lang::En);
        assert_eq!(preferred("de"), Lang::En);
        assert_eq!(preferred("en;q=0.2, zh-Hans;q=0.7"), Lang::Zh);
        assert_eq!(preferred("zh;q=0"), Lang::En);
    }

    #[test]
    fn query_strings_decode_and_bad_escapes_stay() {
        let q = parse_query(Some("q=gaussian+splatting%21&lang=zh&x=%zz%4")).unwrap();
        assert_eq!(param(&q, "q"), Some("gaussian splatting!"));
        assert_eq!(param(&q, "lang"), Some("zh"));
        assert_eq!(param(&q, "x"), Some("%zz%4"));
        assert!(parse_query(Some(&"a".repeat(MAX_QUERY_BYTES + 1))).is_none());
    }
}

#[cfg(test)]
mod page_cache_tests {
    use super::*;

    #[test]
    fn the_page_cache_keeps_within_its_budget_and_evicts_instead_of_starting_over() {
        let cache = PageCache::with_budget(200_000);
        for i in 0..100 {
            let mut page = String::with_capacity(20_000);
            page.push_str(&"x".repeat(10_000));
            let served = cache.put(format!("etag-{i}"), "text/html", page);
            assert_eq!(served.len(), 10_000);
            // One page asked again and again stays.
            assert!(cache.get("etag-0").is_some(), "after {i} pages");
        }
        assert!(cache.bytes() <= 200_000, "{} bytes", cache.bytes());
        // Full, yet holding pages: nothing started over.
        assert!(cache.bytes() > 150_000, "{} bytes", cache.bytes());
        assert!(cache.get("etag-99").is_some(), "the newest page is kept");
        // A page over a sixteenth of the budget is not kept.
        cache.put("huge".into(), "text/html", "x".repeat(20_000));
        assert!(cache.get("huge").is_none());
    }
}

//! A fake arXiv (the API with paging and query echo, RSS 2.0 and Atom announcement feeds, the
//! HTML edition with its images) over real HTTP on 127.0.0.1 with scripted faults, and
//! generators of realistic arXiv documents.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// What the fake does to the next request instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    Status {
        code: u16,
        retry_after: Option<&'static str>,
    },
    RateExceeded,
    BlankOk,
    Truncated,
    Slow(Duration),
    /// An API page with no entries although the result set has more.
    EmptyPage,
}

#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub user_agent: String,
    pub at: Instant,
    pub done: Instant,
}

#[derive(Default)]
pub struct FakeState {
    /// API entries (Atom `<entry>` snippets), newest first, served in pages.
    pub api_entries: Vec<String>,
    /// RSS documents by the category path (`cs.CV+cs.LG`); a missing one is an empty channel.
    pub rss: HashMap<String, String>,
    pub atom: HashMap<String, String>,
    /// Served for any RSS category path not in `rss`.
    pub default_rss: Option<String>,
    /// The HTML edition by path under `/html/` (`2401.00001v2`, or an image's
    /// `2401.00001v2/x1.png`): content type and bytes. A missing page is a 404, as arXiv answers
    /// for a paper without an HTML edition.
    pub html: HashMap<String, (&'static str, Vec<u8>)>,
    pub faults: VecDeque<Fault>,
    pub seen: Vec<Seen>,
}

pub struct FakeArxiv {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
    pub max_in_flight: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<FakeState>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl FakeArxiv {
    pub async fn start() -> FakeArxiv {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared = Shared {
            state: state.clone(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/api/query", get(api))
            .route("/rss/{cats}", get(rss))
            .route("/atom/{cats}", get(atom))
            .route("/html/{*path}", get(html))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeArxiv {
            addr,
            state,
            max_in_flight: shared.max_in_flight,
        }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api/query", self.addr)
    }

    pub fn feed_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The HTML edition's base (`[arxiv] html_url`).
    pub fn html_url(&self) -> String {
        format!("http://{}/html/", self.addr)
    }

    /// Serves `page` as the HTML edition of `id` `v`ersion.
    pub fn html_page(&self, id_version: &str, page: &str) {
        self.state.lock().unwrap().html.insert(
            id_version.to_string(),
            ("text/html; charset=utf-8", page.as_bytes().to_vec()),
        );
    }

    /// Serves a file (an image) at `/html/{path}`.
    pub fn html_file(&self, path: &str, content_type: &'static str, bytes: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .html
            .insert(path.to_string(), (content_type, bytes));
    }

    pub fn fault(&self, f: Fault) {
        self.state.lock().unwrap().faults.push_back(f);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn enter(s: &Shared) -> InFlight {
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    InFlight(s.in_flight.clone())
}

fn record(
    s: &Shared,
    path: String,
    query: Vec<(String, String)>,
    headers: &HeaderMap,
    at: Instant,
) -> Option<Fault> {
    let mut st = s.state.lock().unwrap();
    st.seen.push(Seen {
        path,
        query,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        at,
        done: at,
    });
    st.faults.pop_front()
}

fn finish(s: &Shared) {
    if let Some(last) = s.state.lock().unwrap().seen.last_mut() {
        last.done = Instant::now();
    }
}

async fn apply(fault: Option<Fault>, body: String) -> Response {
    let xml = [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")];
    match fault {
        None => (StatusCode::OK, xml, body).into_response(),
        Some(Fault::Status { code, retry_after }) => status_fault(code, retry_after),
        Some(Fault::RateExceeded) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            "Rate exceeded.",
        )
            .into_response(),
        Some(Fault::BlankOk) => (StatusCode::OK, xml, "\n  \n").into_response(),
        Some(Fault::Truncated) => {
            let cut = body.len() * 2 / 3;
            let cut = (0..=cut)
                .rev()
                .find(|i| body.is_char_boundary(*i))
                .unwrap_or(0);
            (StatusCode::OK, xml, body[..cut].to_string()).into_response()
        }
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, xml, body).into_response()
        }
        Some(Fault::EmptyPage) => (StatusCode::OK, xml, body).into_response(),
    }
}

/// A scripted error status, with `Retry-After` when given.
fn status_fault(code: u16, retry_after: Option<&'static str>) -> Response {
    let mut r = (StatusCode::from_u16(code).unwrap(), "Service Unavailable").into_response();
    if let Some(ra) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, ra.parse().unwrap());
    }
    r
}

async fn html(State(s): State<Shared>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let _guard = enter(&s);
    let fault = record(
        &s,
        format!("/html/{path}"),
        vec![],
        &headers,
        Instant::now(),
    );
    let found = s.state.lock().unwrap().html.get(&path).cloned();
    let r = match (fault, found) {
        (Some(Fault::Status { code, retry_after }), _) => status_fault(code, retry_after),
        (Some(Fault::Slow(d)), found) => {
            tokio::time::sleep(d).await;
            html_response(found)
        }
        (_, found) => html_response(found),
    };
    finish(&s);
    r
}

fn html_response(found: Option<(&'static str, Vec<u8>)>) -> Response {
    match found {
        Some((ct, bytes)) => (StatusCode::OK, [(header::CONTENT_TYPE, ct)], bytes).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><body><h1>No HTML for this paper</h1></body></html>",
        )
            .into_response(),
    }
}

async fn api(
    State(s): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let _guard = enter(&s);
    let at = Instant::now();
    let fault = record(&s, "/api/query".into(), q.clone(), &headers, at);
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let start: usize = get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let max: usize = get("max_results")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let search = get("search_query").unwrap_or_default();
    if search.contains("BADQUERY") {
        finish(&s);
        return (StatusCode::BAD_REQUEST, api_error_feed("malformed query")).into_response();
    }
    let (entries, total) = {
        let st = s.state.lock().unwrap();
        if let Some(ids) = get("id_list") {
            let wanted: Vec<&str> = ids.split(',').collect();
            let found: Vec<String> = st
                .api_entries
                .iter()
                .filter(|e| wanted.iter().any(|w| e.contains(&format!("/abs/{w}v"))))
                .cloned()
                .collect();
            let n = found.len();
            (found, n)
        } else {
            let total = st.api_entries.len();
            let page: Vec<String> = st
                .api_entries
                .iter()
                .skip(start)
                .take(max)
                .cloned()
                .collect();
            (page, total)
        }
    };
    let entries = if matches!(fault, Some(Fault::EmptyPage)) {
        vec![]
    } else {
        entries
    };
    let body = api_feed(&search, total, start, &entries);
    let r = apply(fault, body).await;
    finish(&s);
    r
}

async fn rss(State(s): State<Shared>, Path(cats): Path<String>, headers: HeaderMap) -> Response {
    let _guard = enter(&s);
    let fault = record(&s, format!("/rss/{cats}"), vec![], &headers, Instant::now());
    let body = {
        let st = s.state.lock().unwrap();
        st.rss
            .get(&cats)
            .or(st.default_rss.as_ref())
            .cloned()
            .unwrap_or_else(|| rss_feed(&cats, "Thu, 26 Dec 2024 00:00:00 -0500", &[]))
    };
    let r = apply(fault, body).await;
    finish(&s);
    r
}

async fn atom(State(s): State<Shared>, Path(cats): Path<String>, headers: HeaderMap) -> Response {
    let _guard = enter(&s);
    let fault = record(
        &s,
        format!("/atom/{cats}"),
        vec![],
        &headers,
        Instant::now(),
    );
    let body = s
        .state
        .lock()
        .unwrap()
        .atom
        .get(&cats)
        .cloned()
        .unwrap_or_default();
    let r = apply(fault, body).await;
    finish(&s);
    r
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An API response: the search query is echoed in the title, as arXiv does.
pub fn api_feed(search: &str, total: usize, start: usize, entries: &[String]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/fake</id>
  <title>arXiv Query: search_query={}&amp;id_list=&amp;start={start}&amp;max_results={}</title>
  <updated>2024-11-19T00:00:00-05:00</updated>
  <opensearch:itemsPerPage>{}</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>{start}</opensearch:startIndex>
{}
</feed>
"#,
        esc(search),
        entries.len(),
        entries.len(),
        entries.join("\n")
    )
}

pub fn api_error_feed(message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>http://arxiv.org/api/err</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#{0}</id>
    <title>Error</title>
    <summary>{0}</summary>
  </entry>
</feed>
"#,
        esc(message)
    )
}

/// Abstract sentences that look like real ones, by theme: a paper draws from its own theme
/// (as real papers match one or two topics, not all of them) plus neutral sentences.
const THEMES: &[&[&str]] = &[
    &[
        "We propose a novel framework for neural radiance fields that renders novel views in real time.",
        "Our method combines 3D Gaussian splatting with a learned density prior, improving PSNR by 1.2 dB.",
    ],
    &[
        "Large language models exhibit emergent reasoning when prompted with chain of thought exemplars.",
        "We study instruction tuning of open models and its effect on factuality.",
    ],
    &[
        "We introduce a diffusion model for text-to-video generation that is temporally consistent.",
        "Our sampler reduces the number of denoising steps by a factor of four.",
    ],
    &[
        "Extensive experiments on COCO and ADE20K show state-of-the-art semantic segmentation results.",
        "The detector handles open-vocabulary categories at no extra cost.",
    ],
    &[
        "We prove that the estimator is consistent and achieves the minimax rate $O(n^{-1/2})$ under mild assumptions.",
        "Simulations confirm the theory for moderate sample sizes $n \\ge 50$.",
    ],
    &[
        "We study 6DoF object pose estimation from a single RGB image using keypoint voting.",
        "The approach is robust to occlusion and symmetric objects.",
    ],
    &[
        "A vision transformer with linear attention scales to high-resolution images with modest memory.",
        "We analyse which heads matter for downstream accuracy.",
    ],
];

const NEUTRAL: &[&str] = &[
    "Experiments on several benchmarks demonstrate the effectiveness of the approach.",
    "We further provide an ablation study of each component.",
    "Our analysis reveals limitations of existing evaluation protocols.",
    "Code and models are available at https://github.com/example/project.",
    "The results hold across a wide range of settings and hyperparameters.",
];

pub fn abstract_for(i: usize) -> String {
    let theme = THEMES[i % THEMES.len()];
    let mut parts: Vec<&str> = theme.to_vec();
    parts.extend((0..5).map(|k| NEUTRAL[(i + k * 2) % NEUTRAL.len()]));
    parts.join(" ")
}

const TITLES: &[&str] = &[
    "Real-Time NeRF Rendering with Sparse Voxels",
    "Scaling Laws for Instruction-Tuned LLMs",
    "Video Diffusion Models with Temporal Attention",
    "Open-Vocabulary Segmentation via Multimodal Pretraining",
    "On the Minimax Rate of Kernel Estimators",
    "Category-Level 6D Object Pose from RGB",
    "Efficient Vision Transformers for Detection",
];

const CATS: &[&[&str]] = &[
    &["cs.CV", "cs.GR"],
    &["cs.CL", "cs.LG"],
    &["cs.CV", "cs.LG"],
    &["cs.CV"],
    &["math.ST", "stat.TH"],
    &["cs.CV", "cs.RO"],
    &["cs.LG", "cs.CV"],
];

/// New-style id number `i` (2411.00000 + i).
pub fn id_of(i: usize) -> String {
    format!("24{:02}.{:05}", 1 + (i / 100_000) % 12, i % 100_000)
}

pub fn api_entry(i: usize) -> String {
    let id = id_of(i);
    let cats = CATS[i % CATS.len()];
    let categories: String = cats
        .iter()
        .map(|c| format!("    <category term=\"{c}\" scheme=\"http://arxiv.org/schemas/atom\"/>\n"))
        .collect();
    format!(
        r#"  <entry>
    <id>http://arxiv.org/abs/{id}v1</id>
    <updated>2024-11-18T1{h}:00:00Z</updated>
    <published>2024-11-18T1{h}:00:00Z</published>
    <title>{title} ({i})</title>
    <summary>{abs}</summary>
    <author>
      <name>Author {i} One</name>
    </author>
    <author>
      <name>Jürgen Zweite</name>
    </author>
    <arxiv:comment>12 pages, 5 figures</arxiv:comment>
    <link href="http://arxiv.org/abs/{id}v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{id}v1" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="{primary}" scheme="http://arxiv.org/schemas/atom"/>
{categories}  </entry>"#,
        h = i % 10,
        title = TITLES[i % TITLES.len()],
        abs = esc(&abstract_for(i)),
        primary = cats[0],
    )
}

pub fn rss_item(i: usize, announce: &str, pub_date: &str) -> String {
    rss_item_of(
        &id_of(i),
        &format!("{} ({i})", TITLES[i % TITLES.len()]),
        &abstract_for(i),
        CATS[i % CATS.len()],
        announce,
        pub_date,
        &format!("Author {i} One (Some University, City), Jürgen Zweite,  Plato"),
    )
}

/// One announcement item: a new paper `id` (v1) with this title, abstract (TeX as authors
/// write it), categories and authors (one comma-joined string, as the feed has them).
pub fn rss_item_of(
    id: &str,
    title: &str,
    abs: &str,
    cats: &[&str],
    announce: &str,
    pub_date: &str,
    creators: &str,
) -> String {
    let categories: String = cats
        .iter()
        .map(|c| format!("      <category>{c}</category>\n"))
        .collect();
    format!(
        r#"    <item>
      <title>{title}</title>
      <link>https://arxiv.org/abs/{id}</link>
      <description>arXiv:{id}v1 Announce Type: {announce} 
Abstract: {abs}</description>
      <guid isPermaLink="false">oai:arXiv.org:{id}v1</guid>
{categories}      <pubDate>{pub_date}</pubDate>
      <arxiv:announce_type>{announce}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>{creators}</dc:creator>
    </item>"#,
        title = esc(title),
        abs = esc(abs),
        creators = esc(creators),
    )
}

pub fn rss_feed(cats: &str, pub_date: &str, items: &[String]) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
  <channel>
    <title>{cats} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{cats}</link>
    <description>{cats} updates on the arXiv.org e-print archive.</description>
    <language>en-us</language>
    <pubDate>{pub_date}</pubDate>
    <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
{}
  </channel>
</rss>
"#,
        items.join("\n")
    )
}

/// A ready RSS document with `n` new items announced on Tuesday 2024-11-19.
pub fn rss_doc(n: usize) -> String {
    let date = "Tue, 19 Nov 2024 00:00:00 -0500";
    let items: Vec<String> = (0..n).map(|i| rss_item(i, "new", date)).collect();
    rss_feed("cs.CV", date, &items)
}

/// A ready API document with `n` entries.
pub fn api_doc(n: usize) -> String {
    let entries: Vec<String> = (0..n).map(api_entry).collect();
    api_feed("cat:cs.CV", n, 0, &entries)
}

/// An RSS announcement feed of generated papers `ids` (generator numbers) announced on `day`
/// (cs.CV, cs.LG, ... mixed; number 0 mod 7 is a NeRF paper in cs.CV).
pub fn day_feed(day: chrono::NaiveDate, ids: std::ops::Range<usize>) -> String {
    let date = day.and_hms_opt(12, 0, 0).unwrap().and_utc().to_rfc2822();
    let items: Vec<String> = ids.map(|i| rss_item(i, "new", &date)).collect();
    rss_feed("cs.CV", &date, &items)
}

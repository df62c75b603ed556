//! The archive end to end over real HTTP on 127.0.0.1: a store of generated days, the
//! router as the service mounts it, and a client that follows every link; the static export
//! read back from disk.

use std::collections::{BTreeSet, VecDeque};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::clock::Clock;
use crate::store::Store;

/// A paper whose title, authors and abstract carry markup, as arXiv titles sometimes do.
const NASTY_TITLE: &str = "Bounds <script>alert(1)</script> for x < y & \"z\"";

/// The clock of the served pages (only `/healthz` reads it).
fn noon() -> DateTime<Utc> {
    "2026-11-29T12:00:00Z".parse().unwrap()
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, n).unwrap()
}

/// Three announcement days of generated papers (every seventh a NeRF paper), one of them
/// with a title full of markup.
fn stored(dir: &Path) -> Arc<Store> {
    let store = Store::open(dir).unwrap();
    let topics = crate::config::Config::shipped().topic_set().unwrap();
    for (d, ids) in [(18, 0..60), (19, 60..120), (20, 120..200)] {
        let mut doc = paperbell_testkit::arxiv::day_feed(day(d), ids.clone());
        if d == 20 {
            // Paper 126 (0 mod 7: a NeRF paper) gets the nasty title.
            let at = doc.find("(126)</title>").unwrap();
            let start = doc[..at].rfind("<title>").unwrap() + "<title>".len();
            doc.replace_range(
                start..at + "(126)".len(),
                &paperbell_testkit::arxiv::esc(&format!("{NASTY_TITLE} NeRF")),
            );
        }
        let parsed = crate::sources::parse(doc.as_bytes()).unwrap();
        store.ingest(&parsed.papers, &topics).unwrap();
    }
    Arc::new(store)
}

fn archive(store: Arc<Store>) -> Archive {
    Archive {
        store,
        topics: Arc::new(crate::config::Config::shipped().topic_set().unwrap()),
        search: None,
    }
}

struct Served {
    base: String,
    http: reqwest::Client,
    store: Arc<Store>,
}

async fn serve(store: Arc<Store>, now: DateTime<Utc>, pages: bool) -> Served {
    let web = Arc::new(Web {
        site: pages.then(|| Site::new(archive(store.clone()))),
        store: store.clone(),
        platforms: Platforms::default(),
        exporter: crate::metrics::Exporter::install(),
        clock: Clock::simulated(now),
        stale_after: chrono::Duration::hours(80),
        // Long enough ago that a missing fetch is a fault.
        started: now - chrono::Duration::days(30),
        search: None,
        nonce: 7,
        made: Default::default(),
        figure_origin: Some("https://arxiv.org".into()),
        makers: crate::web::makers::Makers::with_threads(1),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(web)).await.unwrap() });
    Served {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        store,
    }
}

impl Served {
    /// `GET path` with one more header.
    async fn get_with(&self, path: &str, name: &str, value: &str) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        self.http.get(url).header(name, value).send().await.unwrap()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The `href` and `src` values of a page, entities decoded.
fn links_of(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(
                rest[..end]
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'"),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_of_the_served_pages_resolves_and_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(stored(dir.path()), noon(), true).await;
    let mut queue = VecDeque::from(["/".to_string()]);
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 400 {
            continue;
        }
        let (status, body) = s.get(&path).await;
        assert_eq!(status, 200, "{path} is linked but answers {status}");
        assert!(!body.contains("<script>"), "{path} lets markup through");
        if path.ends_with(".svg") || path.ends_with(".atom") {
            continue;
        }
        for link in links_of(&body) {
            if link.starts_with('/') {
                queue.push_back(link);
            } else {
                assert!(link.starts_with("https://"), "{path}: odd link {link}");
            }
        }
    }
    assert!(seen.len() > 100, "only {} pages reached", seen.len());
    // Every kind of page was reached from the home page.
    for kind in [
        "/topics/nerf",
        "/topics/nerf/2024-11-19",
        "/papers/",
        "/feed.atom",
        "/chart.svg",
    ] {
        assert!(
            seen.iter().any(|p| p.contains(kind)),
            "no link reaches {kind}: {seen:?}"
        );
    }
    // The title with markup is shown as text on its topic's page and its own.
    let (_, nerf) = s.get("/topics/nerf/2024-11-20").await;
    let escaped = "Bounds &lt;script&gt;alert(1)&lt;/script&gt; for x &lt; y &amp; &quot;z&quot;";
    assert!(
        nerf.contains(escaped),
        "the title is not escaped on the topic page"
    );
    let (_, found) = s.get("/search?q=%3Cscript%3Ealert").await;
    assert!(!found.contains("<script>") && found.contains("&lt;script&gt;alert"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_pages_by_day_and_its_feed_is_valid_atom() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(stored(dir.path()), noon(), true).await;
    let (status, newest) = s.get("/topics/nerf").await;
    assert_eq!(status, 200);
    assert!(newest.contains("NeRF · 2024-11-20"));
    // Newest day: an older day to go to, no newer one.
    assert!(newest.contains("href=\"/topics/nerf/2024-11-19\""));
    assert!(!newest.contains("rel=\"prev\""));
    let (_, middle) = s.get("/topics/nerf/2024-11-19").await;
    assert!(middle.contains("rel=\"prev\" href=\"/topics/nerf/2024-11-20\""));
    assert!(middle.contains("rel=\"next\" href=\"/topics/nerf/2024-11-18\""));
    let (_, oldest) = s.get("/topics/nerf/2024-11-18").await;
    assert!(!oldest.contains("rel=\"next\""));
    // A day without papers, an unknown topic and a bad date are 404s with a page.
    for missing in [
        "/topics/nerf/2024-11-17",
        "/topics/nope",
        "/topics/nerf/yesterday",
        "/nothing/here",
    ] {
        let (status, body) = s.get(missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(body.contains("Not here"), "{missing}: {body}");
    }
    let (status, xml) = s.get("/topics/nerf/feed.atom").await;
    assert_eq!(status, 200);
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("valid Atom");
    let nerf_papers = s.store.recent_by_topic("nerf", 100).unwrap();
    assert_eq!(
        feed.entries.len(),
        nerf_papers.len().min(pages::FEED_PAPERS)
    );
    let first = &feed.entries[0];
    assert!(first.title.as_ref().unwrap().content.contains("NeRF"));
    assert!(
        first
            .links
            .iter()
            .any(|l| l.href.starts_with("https://arxiv.org/abs/"))
    );
    assert!(
        feed.entries
            .iter()
            .any(|e| e.title.as_ref().unwrap().content.starts_with(NASTY_TITLE))
    );
    let (status, svg) = s.get("/topics/nerf/chart.svg").await;
    assert_eq!(status, 200);
    assert!(
        svg.starts_with("<svg") && svg.contains("<title>NeRF: papers per announcement day</title>")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_answer_304_until_the_store_changes_and_speak_the_readers_language() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(stored(dir.path()), noon(), true).await;
    let first = s
        .http
        .get(format!("{}/topics/nerf", s.base))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(first.headers()["x-content-type-options"], "nosniff");
    let again = s.get_with("/topics/nerf", "If-None-Match", &etag).await;
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.text().await.unwrap().is_empty());
    // New papers: the page is made again, with a new tag.
    let topics = crate::config::Config::shipped().topic_set().unwrap();
    let doc = paperbell_testkit::arxiv::day_feed(day(21), 200..230);
    s.store
        .ingest(
            &crate::sources::parse(doc.as_bytes()).unwrap().papers,
            &topics,
        )
        .unwrap();
    let changed = s.get_with("/topics/nerf", "If-None-Match", &etag).await;
    assert_eq!(changed.status().as_u16(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    assert!(changed.text().await.unwrap().contains("2024-11-21"));
    // Language by query (kept on links) or by the browser.
    let (_, zh) = s.get("/topics/nerf?lang=zh").await;
    assert!(zh.contains("<html lang=\"zh\">") && zh.contains("篇论文"));
    // The table's texts come from a macro: it speaks the page's language too.
    assert!(zh.contains("<th>日期</th>"), "{zh}");
    assert!(zh.contains("href=\"/topics/nerf/2024-11-20?lang=zh\""));
    let by_browser = s
        .get_with("/", "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
        .await
        .text()
        .await
        .unwrap();
    assert!(by_browser.contains("按主题的新论文"));
    // Odd requests are refused politely, and nothing leaves the pages.
    let (status, body) = s.get(&format!("/search?q={}", "a".repeat(400))).await;
    assert_eq!(status, 200);
    assert!(body.contains("too long"));
    let (status, _) = s.get(&format!("/search?q={}", "a".repeat(3000))).await;
    assert_eq!(status, 414);
    for path in [
        "/papers/../../etc/passwd",
        "/topics/..%2F..%2Fetc/passwd",
        "/papers/%2E%2E/x",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("root:"), "{path}");
    }
    let post = s
        .http
        .post(format!("{}/topics/nerf", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 405, "the pages are read-only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_says_503_until_a_recent_fetch_and_metrics_are_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let now: DateTime<Utc> = "2026-11-29T12:00:00Z".parse().unwrap();
    let store = stored(dir.path());
    // A chat with a subscription: its id must not show anywhere.
    let chat = paperbell_chat::ChatRef {
        platform: paperbell_chat::Platform::Telegram,
        id: "-1009876543210".into(),
    };
    let sub = crate::model::chat::Subscription {
        topic_id: "nerf".into(),
        topic_name: "NeRF".into(),
        query: None,
        since: None,
    };
    store.subscribe(&chat, &sub).unwrap();
    let with_pages = serve(store.clone(), now, true).await;
    for path in [
        "/",
        "/topics/nerf",
        "/topics/nerf/feed.atom",
        "/healthz",
        "/metrics",
    ] {
        let (_, body) = with_pages.get(path).await;
        assert!(!body.contains("9876543210"), "{path} shows a chat id");
    }
    let s = serve(store, now, false).await;
    let (status, body) = s.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "unhealthy");
    assert_eq!(v["newest_day"], "2024-11-20");
    s.store
        .set_meta("last_fetch_ok", "2026-11-29T10:00:00+00:00")
        .unwrap();
    let (status, body) = s.get("/healthz").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["last_fetch"]["age_secs"], 7200);
    assert_eq!(v["store"]["ok"], true);
    // Pages off: health and metrics stay, the pages are gone.
    assert_eq!(s.get("/").await.0, 404);
    let r = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            assert!(
                rest.starts_with("HELP paperbell_") || rest.starts_with("TYPE paperbell_"),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        samples.insert(series.to_string(), value.to_string());
    }
    let stored = s.store.paper_count().to_string();
    assert_eq!(samples.get("paperbell_papers_stored"), Some(&stored));
    for series in [
        "paperbell_digest_messages_total{platform=\"telegram\",state=\"sent\"}",
        "paperbell_outbox_queued{platform=\"discord\"}",
        "paperbell_fetches_total{result=\"failed\"}",
        "paperbell_llm_tokens_total",
        "paperbell_cache_bytes{cache=\"pages\"}",
        "paperbell_cache_bytes{cache=\"memos\"}",
    ] {
        assert!(
            samples.contains_key(series),
            "{series} missing from\n{text}"
        );
    }
    // What `paperbell status` prints, /metrics says too.
    let status_text = crate::delivery::status(&s.store).unwrap();
    let c = s
        .store
        .counters(paperbell_chat::Platform::Telegram)
        .unwrap();
    assert!(status_text.contains(&format!("sent:          {}", c.sent)));
    assert_eq!(
        samples["paperbell_digest_messages_total{platform=\"telegram\",state=\"sent\"}"],
        c.sent.to_string()
    );
}

#[test]
fn the_export_is_a_site_whose_links_all_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::new(archive(stored(&dir.path().join("data"))));
    let out = dir.path().join("site");
    let done = export::export_site(&site, &out, 2).unwrap();
    assert!(done.papers > 0 && done.pages > 3, "{done:?}");
    let mut files = Vec::new();
    let mut dirs = vec![out.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    assert_eq!(files.len(), done.files);
    let mut checked = 0;
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
    {
        let html = std::fs::read_to_string(f).unwrap();
        assert!(!html.contains("<script>"));
        for link in links_of(&html) {
            if link.starts_with("https://") {
                continue;
            }
            assert!(
                !link.starts_with('/'),
                "{}: absolute link {link}",
                f.display()
            );
            let target = f.parent().unwrap().join(&link);
            assert!(target.exists(), "{}: {link} does not resolve", f.display());
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} links");
    // Two days exported: the oldest day has no page, and nothing links to it.
    assert!(out.join("topics/nerf/2024-11-19.html").exists());
    assert!(!out.join("topics/nerf/2024-11-18.html").exists());
    let feed = std::fs::read(out.join("topics/nerf/feed.atom")).unwrap();
    assert!(
        !feed_rs::parser::parse(feed.as_slice())
            .unwrap()
            .entries
            .is_empty()
    );
}

/// A NeRF paper whose title and abstract hold TeX, announced on the 21st, with its figure in the
/// store as the HTML edition gave it.
fn with_math_paper(store: &Store) -> (&'static str, &'static str) {
    let id = "2411.99001";
    let figure = "https://arxiv.org/html/2411.99001v1/x1.png";
    let date = day(21)
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc2822();
    let item = paperbell_testkit::arxiv::rss_item_of(
        id,
        r"NeRF$^{2}$: Radiance Fields on $\mathbb{R}^3$ with $\frac{1}{2}$ the Samples",
        r"We fit NeRF with noise from $\mathcal{N}(0, \sigma^2)$ using $\sqrt{n}$ rays and \textbf{no} masks.",
        &["cs.CV"],
        "new",
        &date,
        "Ada Lovelace",
    );
    let doc = paperbell_testkit::arxiv::rss_feed("cs.CV", &date, &[item]);
    let topics = crate::config::Config::shipped().topic_set().unwrap();
    store
        .ingest(
            &crate::sources::parse(doc.as_bytes()).unwrap().papers,
            &topics,
        )
        .unwrap();
    let lookup = crate::model::enrichment::FigureLookup::Found(crate::model::enrichment::Figure {
        url: figure.into(),
        caption: "Rays & samples: 𝒩(0, σ²) <noise>".into(),
        width: Some(476),
        height: Some(357),
    });
    store.put_figure(id, 1, &lookup).unwrap();
    (id, figure)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_figures_and_math_as_mathml() {
    let dir = tempfile::tempdir().unwrap();
    let store = stored(dir.path());
    let (id, figure) = with_math_paper(&store);
    let s = serve(store, noon(), true).await;
    let (status, page) = s.get(&format!("/papers/{id}")).await;
    assert_eq!(status, 200);
    // The figure: lazy, its size set, its caption escaped.
    assert!(page.contains("<figure class=\"paper-figure\">"), "{page}");
    assert!(
        page.contains(&format!(
            "<img src=\"{figure}\" alt=\"Rays &amp; samples: 𝒩(0, σ²) &lt;noise&gt;\" loading=\"lazy\" width=\"476\" height=\"357\">"
        )),
        "{page}"
    );
    assert!(page.contains("<figcaption>Rays &amp; samples: 𝒩(0, σ²) &lt;noise&gt;</figcaption>"));
    // The math: MathML with its TeX annotated; the page's <title> is plain text.
    assert!(page.contains("<h1>NeRF<math"), "{page}");
    assert!(
        page.contains("<mfrac><mrow><mn>1</mn></mrow><mrow><mn>2</mn></mrow></mfrac>"),
        "{page}"
    );
    assert!(page.contains(r#"<annotation encoding="application/x-tex">\frac{1}{2}</annotation>"#));
    assert!(page.contains("<msqrt>"), "{page}");
    assert!(page.contains("<b>no</b>"), "{page}");
    assert!(
        page.contains(
            "<title>NeRF²: Radiance Fields on ℝ³ with 1/2 the Samples · paperbell</title>"
        ),
        "{page}"
    );
    assert!(
        !page.contains("\\mathbb{R}^3$") && !page.contains("$\\frac"),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"https://arxiv.org/html/{id}v1\">HTML</a>")));
    // Figures load from arXiv's HTML edition and nowhere else.
    let r = s
        .get_with(&format!("/papers/{id}"), "accept", "text/html")
        .await;
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("img-src 'self' data: https://arxiv.org;"),
        "{csp}"
    );
    // The topic's day: a thumbnail column, scaled to the figure's shape.
    let (_, day_page) = s.get("/topics/nerf/2024-11-21").await;
    assert!(
        day_page.contains(&format!("<img src=\"{figure}\" alt=\"Rays &amp; samples: 𝒩(0, σ²) &lt;noise&gt;\" loading=\"lazy\" width=\"128\" height=\"96\">")),
        "{day_page}"
    );
    // The feed: the title read as text, the figure as an enclosure and in the body.
    let (_, xml) = s.get("/topics/nerf/feed.atom").await;
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("valid Atom");
    let entry = feed
        .entries
        .iter()
        .find(|e| e.id.contains(id))
        .expect("the paper's entry");
    assert_eq!(
        entry.title.as_ref().unwrap().content,
        "NeRF²: Radiance Fields on ℝ³ with 1/2 the Samples"
    );
    assert!(
        entry
            .links
            .iter()
            .any(|l| l.href == figure && l.rel.as_deref() == Some("enclosure"))
    );
    assert!(
        entry
            .content
            .as_ref()
            .unwrap()
            .body
            .as_deref()
            .unwrap()
            .contains(figure)
    );
}

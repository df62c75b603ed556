//! Test support over the testkit's fakes: the shipped topics, the paperbell binary and service
//! commands with a clean environment, a seeded store, sample digests.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use paperbell_testkit::arxiv::*;
#[allow(unused_imports)]
pub use paperbell_testkit::process::{eventually, sigterm_and_wait};

/// Client settings for the fake arXiv: no interval, short timeout, fast backoff.
pub fn arxiv_config(fake: &FakeArxiv) -> paperbell::config::ArxivConfig {
    paperbell::config::ArxivConfig {
        api_url: paperbell::config::HttpUrl::known(&fake.api_url()),
        feed_url: paperbell::config::HttpUrl::known(&fake.feed_url()),
        html_url: paperbell::config::HttpUrl::known(&fake.html_url()),
        min_interval_secs: 0.0,
        timeout_secs: 0.5,
        max_retries: 3,
        backoff_base_ms: 1,
        page_size: 2000,
        ..Default::default()
    }
}

/// The seven topics of the shipped config.
pub fn shipped_topics() -> paperbell::topics::TopicSet {
    paperbell::config::Config::shipped().topic_set().unwrap()
}

/// What a chat can subscribe to in a store of `ingest_day` announcements: the shipped arXiv
/// topics (Hugging Face's daily list is not an arXiv announcement, so nothing of it is
/// stored), then `categories` as topics, as (id, name).
pub fn arxiv_choices(categories: &[&str]) -> Vec<(String, String)> {
    let mut choices: Vec<(String, String)> = shipped_topics()
        .topics
        .iter()
        .filter(|t| !t.external)
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    choices.extend(categories.iter().map(|c| (c.to_string(), c.to_string())));
    choices
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A digest of `n` long papers whose texts carry HTML and Markdown specials, `+5 more`, and
/// the Unsubscribe topic `nerf`.
pub fn sample_digest(n: usize, compact: bool) -> paperbell_chat::DigestMessage {
    let papers = (0..n)
        .map(|i| paperbell_chat::PaperItem {
            id: format!("2411.{i:05}"),
            title: format!(
                "Paper {i}: radiance fields, $a<b$ & <i>sparse</i> *voxels*_and `code` "
            )
            .repeat(6),
            authors: (0..12).map(|a| format!("Author {a}")).collect(),
            categories: vec!["cs.CV".into(), "cs.GR".into()],
            abs_url: format!("https://arxiv.org/abs/2411.{i:05}"),
            pdf_url: Some(format!("https://arxiv.org/pdf/2411.{i:05}v1")),
            code_urls: vec!["https://github.com/a/b?x=1&y=2".into()],
            tldr: Some("We propose a method that does things. ".repeat(40)),
            tldr_source: paperbell_chat::TldrSource::Llm,
            // A translated LLM summary at its longest: every field over its cap.
            takeaways: (0..7)
                .map(|k| format!("Takeaway {k}: <b>*bold*</b> & _more_ ").repeat(20))
                .collect(),
            title_translated: Some("辐射场与稀疏体素 <i>&</i> *星* ".repeat(40)),
            tldr_translated: Some("我们提出一种方法，$a<b$ 并且 `代码`。".repeat(60)),
            project_url: Some("https://example.org/p?a=1&b=<2>".into()),
            upvotes: Some(120),
            stars: Some(4500),
            topics: vec!["NeRF".into(), "3DGS".into()],
            matched: None,
            // A reason at its longest, with markup in the liked paper's title.
            relevance: Some(paperbell_chat::Relevance {
                mark: "●●○".into(),
                why: Some(format!(
                    "like “{}”",
                    "<b>Radiance</b> & *fields* ".repeat(20)
                )),
            }),
            rated: paperbell_chat::Rated {
                up: 3,
                down: 1,
                saved: 2,
            },
            figure: Some(paperbell_chat::FigureItem {
                url: format!("https://arxiv.org/html/2411.{i:05}v1/x1.png"),
                caption: "Overview of the method: <b>radiance</b> & *fields* ".repeat(40),
                width: Some(476),
                height: Some(357),
            }),
            html_url: Some(format!("https://arxiv.org/html/2411.{i:05}v1")),
        })
        .collect();
    paperbell_chat::DigestMessage {
        title: "NeRF".into(),
        day: "2024-11-19".into(),
        overview: Some("40 papers, 3 cross-lists".into()),
        papers,
        more: 5,
        unsubscribe_topic: Some("nerf".into()),
        lang: paperbell_chat::Lang::En,
        compact,
    }
}

/// The paperbell binary with nothing of the caller's environment (no PAPERBELL_ variable, no
/// RUST_LOG) and Hugging Face, on by default, pointed at a closed local port: no test reaches
/// the internet.
pub fn paperbell() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_paperbell"));
    for (k, _) in std::env::vars() {
        if k.starts_with("PAPERBELL_") {
            c.env_remove(k);
        }
    }
    c.env_remove("RUST_LOG")
        .env("PAPERBELL_HUGGINGFACE_API_URL", "http://127.0.0.1:9")
        // No test asks arXiv's real HTML edition for figures: tests that want figures point
        // this at the fake arXiv.
        .env("PAPERBELL_ARXIV_HTML_URL", "http://127.0.0.1:9/html/")
        // Tests run services side by side: each on a port of its own, not the default 8080.
        .env("PAPERBELL_HTTP_LISTEN", "127.0.0.1:0");
    c
}

/// A store in `dir` holding the `rss.xml` fixture and 30 generated papers, indexed under the
/// shipped topics (dropped at once when only the files are wanted).
/// The search index of `store` (whose directory is `dir`), where the service keeps it, caught up.
#[allow(dead_code)]
pub fn search_index(
    store: &paperbell::store::Store,
    dir: &std::path::Path,
) -> std::sync::Arc<paperbell::search::SearchIndex> {
    let index = paperbell::search::SearchIndex::open(&paperbell::search::SearchIndex::dir_for(dir))
        .unwrap();
    index.catch_up(store).unwrap();
    std::sync::Arc::new(index)
}

pub fn stored_papers(dir: &std::path::Path) -> paperbell::store::Store {
    let store = paperbell::store::Store::open(dir).unwrap();
    let topics = shipped_topics();
    for doc in [fixture("rss.xml"), rss_doc(30).into_bytes()] {
        store
            .ingest(&paperbell::sources::parse(&doc).unwrap().papers, &topics)
            .unwrap();
    }
    store
}

/// `paperbell run` with the shipped config on `data`, its output going to the file `log` (a
/// file, not a pipe: debug logs could fill a pipe nobody reads until exit and stall it), debug
/// logging, no PAPERBELL_ variable of the caller's, no fetch at start and an unreachable arXiv.
/// Callers add the platform's variables.
pub fn service(data: &std::path::Path, log: &std::path::Path) -> std::process::Command {
    let out = std::fs::File::create(log).unwrap();
    let mut c = paperbell();
    c.env("RUST_LOG", "debug")
        .env("PAPERBELL_SCHEDULE_FETCH_ON_START", "false")
        .env("PAPERBELL_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
        .env("PAPERBELL_ARXIV_FEED_URL", "http://127.0.0.1:9")
        .env("PAPERBELL_ARXIV_HTML_URL", "http://127.0.0.1:9/html/")
        .arg("--config")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/paperbell.toml"))
        .arg("--data")
        .arg(data)
        .arg("run")
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    c
}

/// Stops a bot started on `task` with `stop`, failing if it does not stop within 15 s.
pub async fn stop_bot(
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
) {
    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(15), task)
        .await
        .expect("the bot stops on shutdown")
        .unwrap();
}

/// Ids of the topics `chat` is subscribed to.
pub fn topic_ids(store: &paperbell::store::Store, chat: &paperbell_chat::ChatRef) -> Vec<String> {
    store
        .subscriptions(chat)
        .unwrap()
        .into_iter()
        .map(|s| s.topic_id)
        .collect()
}

/// Stores papers `ids` (generator numbers) as announced on `day` (`arxiv::day_feed`).
pub fn ingest_day(
    store: &paperbell::store::Store,
    day: chrono::NaiveDate,
    ids: std::ops::Range<usize>,
) {
    let parsed = paperbell::sources::parse(day_feed(day, ids).as_bytes()).unwrap();
    store.ingest(&parsed.papers, &shipped_topics()).unwrap();
}

/// A page of arXiv's HTML edition from `tests/fixtures/arxiv-html` (its README says which).
pub fn html_fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/arxiv-html/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A paper whose title and abstract hold TeX as arXiv has it (`MATH_PAPER`), announced on
/// `day`.
pub fn ingest_math_paper(store: &paperbell::store::Store, day: chrono::NaiveDate) {
    let date = day.and_hms_opt(12, 0, 0).unwrap().and_utc().to_rfc2822();
    let item = rss_item_of(
        MATH_PAPER,
        MATH_TITLE,
        MATH_ABSTRACT,
        &["cs.CV", "cs.LG"],
        "new",
        &date,
        "Ada Lovelace, Kurt G\u{f6}del",
    );
    let doc = rss_feed("cs.CV", &date, &[item]);
    let parsed = paperbell::sources::parse(doc.as_bytes()).unwrap();
    store.ingest(&parsed.papers, &shipped_topics()).unwrap();
}

pub const MATH_PAPER: &str = "2501.00001";
pub const MATH_TITLE: &str = "GSBAK$^K$: $top$-$K$ Geometric Score-based Black-box Attack";
pub const MATH_ABSTRACT: &str = r"We attack with \textbf{few} queries drawn from $\mathcal{N}(0, \sigma^2)$ and close $\frac{1}{2}$ of the gap on $\mathbb{R}^d$ in $O(n \log n)$ time. Code: https://github.com/gsbak/gsbak";
/// How the title reads once its TeX is read.
pub const MATH_TITLE_READ: &str = "GSBAKᴷ: top-K Geometric Score-based Black-box Attack";

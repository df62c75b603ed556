//! Summaries and enrichment against the fake OpenAI-compatible server and the fake Hugging Face
//! API over real HTTP on 127.0.0.1: the LLM cache, its fallback on every kind of fault, the
//! daily token budget, `hf-daily` and Hugging Face facts, and translated digests rendered for
//! both platforms within their limits.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use paperbell::clock::Clock;
use paperbell::compose::{PaperCache, digest_message};
use paperbell::config::{Config, DEFAULT_CONFIG};
use paperbell::model::chat::{ChatRecord, Subscription};
use paperbell::model::delivery::{OutboxItem, PlannedMessage};
use paperbell::sources::fetch::ArxivClient;
use paperbell::store::Store;
use paperbell::summary::enrich::Enricher;
use paperbell::summary::llm::Llm;
use paperbell::topics::TopicSet;
use paperbell_chat::{ChatRef, Lang, Platform, TldrSource};
use paperbell_testkit::huggingface::{self as hf, FakeHuggingFace};
use paperbell_testkit::llm::{FakeLlm, Fault};

const DAY: (i32, u32, u32) = (2024, 11, 19);

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(DAY.0, DAY.1, DAY.2).unwrap()
}

fn config(env: &[(&str, &str)]) -> Config {
    // Figures have tests of their own, against the fake arXiv's HTML edition.
    let env = [("PAPERBELL_FIGURES_ENABLED", "false")]
        .iter()
        .chain(env)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_parts("test", DEFAULT_CONFIG, &env, |_| unreachable!()).unwrap()
}

fn chat(id: &str) -> ChatRef {
    ChatRef {
        platform: Platform::Telegram,
        id: id.into(),
    }
}

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    topics: Arc<TopicSet>,
}

/// A store with one announcement day (70 papers; 10 of them NeRF) and NeRF subscribed by an
/// English and a Chinese chat.
fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    common::ingest_day(&store, day() - chrono::Duration::days(1), 100..170);
    common::ingest_day(&store, day(), 0..70);
    for (id, lang) in [("1", None), ("2", Some("zh"))] {
        let mut rec = ChatRecord::new(&chat(id));
        rec.settings.lang = lang.and_then(paperbell_chat::Lang::from_code);
        store.put_chat(&rec).unwrap();
        store
            .subscribe(
                &chat(id),
                &Subscription {
                    topic_id: "nerf".into(),
                    topic_name: "NeRF".into(),
                    query: None,
                    since: None,
                },
            )
            .unwrap();
    }
    Env {
        _dir: dir,
        store,
        topics: Arc::new(common::shipped_topics()),
    }
}

fn nerf_ids(store: &Store) -> Vec<String> {
    store
        .topic_day("nerf", day())
        .unwrap()
        .iter()
        .map(|p| p.paper.id.to_string())
        .collect()
}

fn enricher(e: &Env, c: &Config) -> Enricher {
    let arxiv = Arc::new(ArxivClient::new(&c.arxiv).unwrap());
    Enricher::from_config(c, e.store.clone(), e.topics.clone(), Clock::System, arxiv)
        .unwrap()
        .unwrap()
}

fn llm_env(fake: &FakeLlm, extra: &[(&'static str, &'static str)]) -> Config {
    let url: &'static str = Box::leak(fake.url.clone().into_boxed_str());
    let mut env = vec![
        ("PAPERBELL_HUGGINGFACE_ENABLED", "false"),
        ("PAPERBELL_LLM_BASE_URL", url),
        ("PAPERBELL_LLM_MODEL", "fake-model"),
        ("PAPERBELL_LLM_TIMEOUT_SECS", "1"),
    ];
    env.extend_from_slice(extra);
    config(&env)
}

/// The digest a chat would be sent for NeRF today, rendered from the store.
fn digest_for(store: &Store, lang: &str) -> paperbell_chat::DigestMessage {
    let item = OutboxItem {
        chat: "telegram:1".into(),
        local_day: day(),
        message: PlannedMessage {
            title: "NeRF".into(),
            day: day().to_string(),
            papers: nerf_ids(store)
                .into_iter()
                .map(|id| (id, vec!["NeRF".into()]))
                .collect(),
            more: 0,
            unsubscribe_topic: Some("nerf".into()),
            lang: lang.into(),
            compact: false,
            overview: Some("10 papers".into()),
        },
        parts_done: 0,
        attempts: 0,
        planned_at: 0,
    };
    digest_message(store, &item, &Mutex::new(PaperCache::default())).unwrap()
}

#[tokio::test]
async fn llm_summaries_are_asked_once_per_paper_and_language_and_cached() {
    let e = env();
    let fake = FakeLlm::start().await;
    let c = llm_env(&fake, &[]);
    let n = nerf_ids(&e.store).len();
    assert_eq!(n, 10);
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.llm_asked, 2 * n, "{r:?}");
    assert_eq!(r.overviews, 2, "one overview per language");
    assert_eq!(fake.request_count(), 2 * n + 2);
    for req in fake.requests() {
        assert_eq!(req["model"], "fake-model");
        assert_eq!(req["response_format"]["type"], "json_schema");
    }
    // A second run (the next fetch, a restart) asks nothing again.
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!((r.llm_asked, r.llm_cached), (0, 2 * n), "{r:?}");
    assert_eq!(fake.request_count(), 2 * n + 2);

    let en = digest_for(&e.store, "en");
    assert!(en.papers.iter().all(|p| p.tldr_source == TldrSource::Llm));
    assert!(en.papers.iter().all(|p| p.title_translated.is_none()));
    assert!(
        en.papers[0]
            .tldr
            .as_ref()
            .unwrap()
            .starts_with("LLM summary of")
    );
    assert_eq!(en.papers[0].takeaways.len(), 2);
    let o = en.overview.unwrap();
    assert!(
        o.starts_with("Today's papers") && o.ends_with("10 papers"),
        "{o}"
    );
    let zh = digest_for(&e.store, "zh");
    assert!(
        zh.papers
            .iter()
            .all(|p| p.title_translated.as_deref().unwrap().starts_with("译："))
    );
    assert!(
        zh.papers[0]
            .tldr_translated
            .as_ref()
            .unwrap()
            .starts_with("中文摘要")
    );
}

/// Answers that cannot be read fall back to the extractive summary at once; passing failures
/// (a 429, a 5xx, a timeout) are asked again under the retry policy, and only a failure that
/// outlasts its retries falls back.
#[tokio::test]
async fn every_llm_fault_falls_back_to_the_extractive_summary() {
    let e = env();
    let fake = FakeLlm::start().await;
    // Only the English chat: one request per paper, in a known order.
    e.store.set_active(&chat("2"), false).unwrap();
    let c = llm_env(&fake, &[("PAPERBELL_LLM_MAX_CONCURRENCY", "1")]);
    for f in [
        // Five papers, one request each unless retried: an unreadable answer; the wrong
        // shape; a 500 that outlasts both retries; a 429, a timeout and a 429 again (the
        // retries spent); a 429, a timeout, then a good answer (the LLM's summary).
        Fault::Malformed,
        Fault::WrongShape,
        Fault::ServerError,
        Fault::ServerError,
        Fault::ServerError,
        Fault::TooMany,
        Fault::Slow(Duration::from_millis(1500)),
        Fault::TooMany,
        Fault::TooMany,
        Fault::Slow(Duration::from_millis(1500)),
    ] {
        fake.fail_next(f);
    }
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.llm_failed, 4, "{r:?}");
    // The five papers and the day's overview.
    assert_eq!(r.llm_asked, 6, "{r:?}");
    let d = digest_for(&e.store, "en");
    assert_eq!(d.papers.len(), 10, "nothing dropped");
    let extractive: Vec<_> = d
        .papers
        .iter()
        .filter(|p| p.tldr_source == TldrSource::Extractive)
        .collect();
    assert_eq!(extractive.len(), 4);
    assert!(
        extractive
            .iter()
            .all(|p| !p.tldr.as_ref().unwrap().is_empty())
    );
    // The next run asks again for exactly the four that failed.
    let before = fake.request_count();
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(
        (r.llm_asked, r.llm_cached, r.llm_failed),
        (4, 6, 0),
        "{r:?}"
    );
    assert_eq!(fake.request_count(), before + 4);
    let d = digest_for(&e.store, "en");
    assert!(d.papers.iter().all(|p| p.tldr_source == TldrSource::Llm));
}

#[tokio::test]
async fn the_daily_token_budget_stops_requests() {
    let e = env();
    e.store.set_active(&chat("2"), false).unwrap();
    let fake = FakeLlm::start().await;
    fake.set_tokens(100);
    let c = llm_env(
        &fake,
        &[
            ("PAPERBELL_LLM_MAX_CONCURRENCY", "1"),
            ("PAPERBELL_LLM_DAILY_TOKEN_BUDGET", "250"),
        ],
    );
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(fake.request_count(), 3, "100 + 100 + 100 crosses 250");
    assert_eq!(r.llm_asked, 3);
    assert_eq!(r.llm_failed, 7 + 1, "seven papers and the overview");
    let d = digest_for(&e.store, "en");
    let llm = d
        .papers
        .iter()
        .filter(|p| p.tldr_source == TldrSource::Llm)
        .count();
    assert_eq!(llm, 3);
    assert_eq!(
        e.store.llm_tokens(chrono::Utc::now().date_naive()).unwrap(),
        300
    );
}

#[tokio::test]
async fn the_api_key_is_sent_from_the_variable_the_config_names() {
    let e = env();
    e.store.set_active(&chat("2"), false).unwrap();
    let fake = FakeLlm::start().await;
    fake.require_key("sk-test");
    let c = llm_env(&fake, &[("PAPERBELL_LLM_API_KEY", "sk-test")]);
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!((r.llm_asked, r.llm_failed), (10, 0), "{r:?}");
    let c = llm_env(&fake, &[]);
    let llm = Llm::new(&c.llm, Clock::System).unwrap().unwrap();
    let sp = e.store.topic_day("nerf", day()).unwrap().remove(0);
    let err = llm.summarise(&e.store, &sp, "ja").await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn hugging_face_feeds_hf_daily_and_enriches_papers() {
    let e = env();
    let fake = FakeHuggingFace::start().await;
    let nerf = nerf_ids(&e.store);
    // The day before the announcement day: two stored papers and one arXiv never sent us.
    fake.set_daily(
        "2024-11-18",
        vec![
            hf::paper(
                &nerf[0],
                "Known paper",
                5,
                Some("https://github.com/org/known.git"),
            ),
            hf::paper("2411.99999", "Only on Hugging Face", 50, None),
            hf::paper(&nerf[1], "Also known", 20, None),
        ],
    );
    fake.add_paper(hf::paper(
        &nerf[2],
        "Looked up",
        7,
        Some("https://github.com/org/looked"),
    ));
    // A 500 that outlasts the retries (one request and three more).
    for _ in 0..4 {
        fake.fail_next(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    let c = config(&[
        ("PAPERBELL_HUGGINGFACE_API_URL", &fake.url),
        ("PAPERBELL_HUGGINGFACE_MIN_INTERVAL_SECS", "0"),
    ]);
    let r = enricher(&e, &c).run(Default::default()).await;
    // It hit the only date's list: nothing filed, and the lookups went on regardless.
    assert_eq!(r.hf_daily, 0);
    assert!(r.errors.iter().any(|e| e.contains("500")), "{r:?}");
    assert_eq!(r.hf_lookups, 10, "every NeRF paper of the day, once");
    // A passing 429 is asked again: the list is filed.
    fake.fail_next(axum::http::StatusCode::TOO_MANY_REQUESTS);
    let r = enricher(&e, &c).run(Default::default()).await;
    assert!(r.errors.is_empty(), "{r:?}");
    assert_eq!(r.hf_daily, 3, "{r:?}");
    assert_eq!(r.hf_lookups, 0, "answers, found or not, are kept: {r:?}");
    let daily: Vec<String> = e
        .store
        .topic_day("hf-daily", day())
        .unwrap()
        .iter()
        .map(|p| p.paper.id.to_string())
        .collect();
    assert_eq!(daily, ["2411.99999", nerf[1].as_str(), nerf[0].as_str()]);
    let only = e
        .store
        .paper(&paperbell::model::paper::PaperId::parse("2411.99999").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(only.first_announced, None, "in no arXiv day index");
    let lookups = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("/api/papers/"))
        .count();
    assert_eq!(lookups, 10);
    let known = e.store.hf(&nerf[0]).unwrap().unwrap();
    assert_eq!((known.upvotes, known.github_stars), (Some(5), Some(321)));
    assert!(!e.store.hf(&nerf[3]).unwrap().unwrap().found);
    let d = digest_for(&e.store, "en");
    let p0 = d.papers.iter().find(|p| p.id == nerf[0]).unwrap();
    assert!(
        p0.code_urls
            .contains(&"https://github.com/org/known".to_string())
    );
    assert_eq!(p0.stars, Some(321));
    let p2 = d.papers.iter().find(|p| p.id == nerf[2]).unwrap();
    assert!(
        p2.code_urls
            .contains(&"https://github.com/org/looked".to_string())
    );
    assert!(p2.project_url.is_some());
}

#[tokio::test]
async fn translated_digests_fit_both_platforms() {
    let e = env();
    let fake = FakeLlm::start().await;
    let c = llm_env(&fake, &[]);
    enricher(&e, &c).run(Default::default()).await;
    let mut d = digest_for(&e.store, "zh");
    d.lang = Lang::Zh;
    for m in paperbell_telegram::render::digest(&d) {
        let visible = paperbell_testkit::telegram::parse_html(&m).unwrap();
        assert!(visible.encode_utf16().count() <= 4096);
        assert!(
            visible.contains("译：") && visible.contains("摘要（AI）"),
            "{visible}"
        );
    }
    let ms = paperbell_discord::render::digest(&d);
    for m in &ms {
        paperbell_discord::render::check(m).unwrap();
    }
    let all: String = ms
        .iter()
        .flat_map(|m| m.embeds.iter().map(|e| e.description.clone()))
        .collect();
    assert!(all.contains("译：") && all.contains("中文摘要"), "{all}");
}

fn paperbell(data: &std::path::Path) -> std::process::Command {
    let mut c = common::paperbell();
    c.env("PAPERBELL_HUGGINGFACE_ENABLED", "false")
        .arg("--config")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/paperbell.toml"
        ))
        .arg("--data")
        .arg(data);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_command_asks_the_llm_once_and_caches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let feed = dir.path().join("feed.xml");
    std::fs::write(&feed, common::rss_doc(3)).unwrap();
    let out = paperbell(&data)
        .args(["fetch", "--from-file"])
        .arg(&feed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = common::id_of(0);

    // No LLM: extractive, and the JSON says so.
    let out = paperbell(&data)
        .args(["paper", &id, "--json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["tldr_source"], "extractive");
    assert!(v["tldr"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(v["code_urls"].is_array());
    assert!(v.get("takeaways").is_none() && v.get("title_translated").is_none());

    let fake = FakeLlm::start().await;
    fake.require_key("sk-cli");
    let with_llm = |lang: &str| {
        let mut c = paperbell(&data);
        c.env("PAPERBELL_LLM_BASE_URL", &fake.url)
            .env("PAPERBELL_LLM_MODEL", "fake-model")
            .env("PAPERBELL_LLM_API_KEY_ENV", "MY_LLM_KEY")
            .env("MY_LLM_KEY", "sk-cli")
            .args(["paper", &id, "--json", "--lang", lang]);
        c.output().unwrap()
    };
    let out = with_llm("zh");
    let v = json_of(&out);
    assert_eq!(v["tldr_source"], "llm");
    assert!(v["title_translated"].as_str().unwrap().starts_with("译："));
    assert!(
        v["tldr_translated"]
            .as_str()
            .unwrap()
            .starts_with("中文摘要")
    );
    assert_eq!(v["takeaways"].as_array().unwrap().len(), 2);
    assert_eq!(fake.request_count(), 1);
    let again = with_llm("zh");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&again.stdout).unwrap(),
        v
    );
    assert_eq!(fake.request_count(), 1, "cached: no second request");

    // A failing LLM (a 500 outlasting both retries): a warning, and the extractive summary.
    for _ in 0..3 {
        fake.fail_next(Fault::ServerError);
    }
    let out = with_llm("ja");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tldr_source"], "extractive");
    assert!(String::from_utf8_lossy(&out.stderr).contains("500"));

    let out = paperbell(&data)
        .args(["paper", &id, "--lang", "klingon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A successful command's JSON output.
fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_embedding_model_taste_models_weigh_embeddings_beside_words() {
    let fake = FakeLlm::start().await;
    let e = env();
    let c = llm_env(&fake, &[("PAPERBELL_LLM_EMBEDDING_MODEL", "fake-embed")]);
    // A rated paper of an older day is embedded too (it is what a model learns from).
    let old = common::id_of(107);
    e.store
        .rate(
            "telegram:1",
            &old,
            "1",
            paperbell::model::rating::RatingChange::Save,
            1,
            false,
        )
        .unwrap();
    let report = enricher(&e, &c).run(Default::default()).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.embedded, 71, "the day's 70 papers and the rated one");
    assert_eq!(report.retrain, 1, "the chat that rated it learns again");
    assert!(
        e.store
            .taste_dirty()
            .unwrap()
            .iter()
            .any(|(c, _)| c == "telegram:1")
    );
    let embeds: Vec<serde_json::Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r["input"].is_array())
        .collect();
    assert_eq!(embeds.len(), 3, "32 papers a request");
    assert!(embeds.iter().all(|r| r["model"] == "fake-embed"));
    let store = &e.store;
    let vectors = store.embeddings().unwrap().expect("embeddings in use");
    for id in [common::id_of(0), common::id_of(69), old.clone()] {
        let v = vectors.get(&id).unwrap().expect("embedded");
        assert_eq!(v.len(), paperbell_testkit::llm::EMBEDDING_DIMS);
    }
    // Nothing new to embed the second time.
    let again = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(again.embedded, 0);
    // A model learnt now weighs embedding dimensions with the words.
    for i in [0, 7, 14, 21] {
        store
            .rate(
                "telegram:1",
                &common::id_of(i),
                "1",
                paperbell::model::rating::RatingChange::Up,
                2,
                false,
            )
            .unwrap();
    }
    let (taste, learnt) = paperbell::compose::taste::learn(store, "telegram:1")
        .unwrap()
        .unwrap();
    assert_eq!(learnt.liked, 5);
    let dims = taste
        .weights
        .iter()
        .filter(|(id, _)| paperbell::taste::is_embedding_term(*id))
        .count();
    assert!(dims > 0, "no embedding dimension among the model's weights");
    // And it still puts papers like the liked ones first.
    let papers = store.papers_between(day(), day()).unwrap();
    let order = paperbell::compose::taste::personal(store, &taste, &papers, 5).unwrap();
    let first: Vec<&str> = order[..3]
        .iter()
        .map(|p| papers[p.index].paper.title.as_str())
        .collect();
    assert!(first.iter().all(|t| t.contains("NeRF")), "{first:?}");
    assert!(
        order[..3]
            .iter()
            .all(|p| !matches!(p.reason, paperbell::taste::Reason::None)),
        "reasons are words or liked papers, never a dimension"
    );
}

/// Figures on, asking the fake arXiv's HTML edition, at most `max` pages a day.
fn figures_config(arxiv: &common::FakeArxiv, max: &'static str) -> Config {
    let url: &'static str = Box::leak(arxiv.html_url().into_boxed_str());
    config(&[
        ("PAPERBELL_HUGGINGFACE_ENABLED", "false"),
        ("PAPERBELL_FIGURES_ENABLED", "true"),
        ("PAPERBELL_FIGURES_MAX_PER_DAY", max),
        ("PAPERBELL_ARXIV_HTML_URL", url),
        ("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0"),
        ("PAPERBELL_ARXIV_BACKOFF_BASE_MS", "1"),
    ])
}

/// The NeRF papers of the day in the order digests show them.
fn nerf_ranked(store: &Store) -> Vec<paperbell::model::paper::StoredPaper> {
    let topics = common::shipped_topics();
    let sub = Subscription {
        topic_id: "nerf".into(),
        topic_name: "NeRF".into(),
        query: None,
        since: None,
    };
    let topic = paperbell::compose::topic_of(&topics, &sub);
    paperbell::compose::ranked_day(store, &topics, &sub, topic.as_ref(), day())
        .unwrap()
        .papers
        .clone()
}

#[tokio::test]
async fn figures_of_what_digests_show_come_from_the_html_edition_once_within_the_budget() {
    let e = env();
    let arxiv = common::FakeArxiv::start().await;
    let ranked = nerf_ranked(&e.store);
    assert_eq!(ranked.len(), 10);
    let page = |i: usize| format!("{}v{}", ranked[i].paper.id, ranked[i].paper.version);
    // The best three: a real page (relative images), the same under a `<base>`, and a page whose
    // figures have no image; a 503 before the second answers. The others have no edition (404).
    arxiv.html_page(&page(0), &common::html_fixture("2507.00150v1.html"));
    arxiv.html_page(&page(1), &common::html_fixture("2507.00150v1-base.html"));
    arxiv.html_page(
        &page(2),
        &common::html_fixture("2503.20783v2-no-images.html"),
    );
    let c = figures_config(&arxiv, "4");
    let r = enricher(&e, &c).run(Default::default()).await;
    assert!(r.errors.is_empty(), "{r:?}");
    // The budget: the digests' first four papers, best first.
    assert_eq!(r.figures.asked, 4, "{r:?}");
    assert_eq!(
        (r.figures.found, r.figures.no_figure, r.figures.no_edition),
        (2, 1, 1)
    );
    let asked: Vec<String> = arxiv.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        asked,
        (0..4)
            .map(|i| format!("/html/{}", page(i)))
            .collect::<Vec<_>>()
    );
    // Only the first part of a page is read: its first figure is near the top.
    assert!(r.figures.bytes < 2 * 298_684, "{r:?}");

    let digest = digest_for(&e.store, "en");
    let by_id = |i: usize| {
        digest
            .papers
            .iter()
            .find(|p| p.id == ranked[i].paper.id.as_str())
            .unwrap()
            .clone()
    };
    let first = by_id(0).figure.expect("the first paper's figure");
    // The page writes `2507.00150v1/NAME.png`, relative to the page's own address.
    assert_eq!(
        first.url,
        format!(
            "{}2507.00150v1/plot1_distributions_600.png",
            arxiv.html_url()
        )
    );
    assert!(
        first.caption.starts_with("v_T distribution"),
        "{}",
        first.caption
    );
    assert_eq!((first.width, first.height), (Some(476), Some(357)));
    assert_eq!(
        by_id(1).figure.unwrap().url,
        format!("{}2507.00150v1/x1.png", arxiv.html_url()),
        "resolved against <base href>"
    );
    assert_eq!(by_id(2).figure, None);
    assert!(by_id(2).html_url.is_some(), "the edition exists");
    assert_eq!(by_id(3).html_url, None, "no edition: no HTML link");

    // Telegram shows the first paper's figure as the digest's link preview; Discord each
    // paper's figure as its embed's image.
    let outs = paperbell_telegram::render::digest_out(&digest);
    assert_eq!(outs[0].preview.as_deref(), Some(first.url.as_str()));
    let messages = paperbell_discord::render::digest(&digest);
    let images: Vec<_> = messages
        .iter()
        .flat_map(|m| &m.embeds)
        .filter_map(|e| e.image.clone())
        .collect();
    assert_eq!(images.len(), 2);
    assert!(images.contains(&first.url));

    // A second fetch of the day asks only for what the budget has left, never again for a page.
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.figures.asked, 0, "{r:?}");
    let c = figures_config(&arxiv, "10");
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.figures.asked, 6, "{r:?}");
    let again = arxiv.seen().len();
    assert_eq!(again, 10);
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!((r.figures.asked, arxiv.seen().len()), (0, 10));
}

/// Where the HTML edition has no figure (here: no edition), the first image the authors put on
/// the paper's Hugging Face page stands in.
#[tokio::test]
async fn hugging_faces_image_stands_in_for_a_paper_without_an_html_figure() {
    let e = env();
    let arxiv = common::FakeArxiv::start().await;
    let hf_fake = FakeHuggingFace::start().await;
    let ranked = nerf_ranked(&e.store);
    let first = ranked[0].paper.id.to_string();
    let mut p = hf::paper(&first, "Known paper", 7, None);
    p["mediaUrls"] = serde_json::json!([
        "https://cdn.example/demo.mp4",
        "https://cdn.example/teaser.png"
    ]);
    hf_fake.add_paper(p);
    let url: &'static str = Box::leak(arxiv.html_url().into_boxed_str());
    let hf_url: &'static str = Box::leak(hf_fake.url.clone().into_boxed_str());
    let c = config(&[
        ("PAPERBELL_HUGGINGFACE_API_URL", hf_url),
        ("PAPERBELL_HUGGINGFACE_MIN_INTERVAL_SECS", "0"),
        ("PAPERBELL_FIGURES_ENABLED", "true"),
        ("PAPERBELL_ARXIV_HTML_URL", url),
        ("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0"),
    ]);
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.figures.no_edition, r.figures.asked, "{r:?}");
    let digest = digest_for(&e.store, "en");
    let shown = digest.papers.iter().find(|p| p.id == first).unwrap();
    let figure = shown.figure.as_ref().expect("Hugging Face's image");
    assert_eq!(figure.url, "https://cdn.example/teaser.png");
    assert_eq!(figure.caption, "");
    assert!(
        digest
            .papers
            .iter()
            .filter(|p| p.id != first)
            .all(|p| p.figure.is_none())
    );
}

#[tokio::test]
async fn an_html_edition_that_fails_is_asked_again_later_not_remembered_as_missing() {
    let e = env();
    let arxiv = common::FakeArxiv::start().await;
    let ranked = nerf_ranked(&e.store);
    let first = format!("{}v{}", ranked[0].paper.id, ranked[0].paper.version);
    arxiv.html_page(&first, &common::html_fixture("1706.03762.html"));
    // Every attempt of the first run (the client's five retries) fails.
    for _ in 0..6 {
        arxiv.fault(common::Fault::Status {
            code: 503,
            retry_after: Some("0"),
        });
    }
    let c = figures_config(&arxiv, "10");
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.figures.asked, 0, "{r:?}");
    assert!(r.errors.iter().any(|e| e.contains("503")), "{r:?}");
    assert_eq!(
        e.store
            .figure(ranked[0].paper.id.as_str(), ranked[0].paper.version)
            .unwrap(),
        None
    );
    // arXiv is back: the figure comes with the next fetch (ar5iv's absolute paths).
    let r = enricher(&e, &c).run(Default::default()).await;
    assert_eq!(r.figures.found, 1, "{r:?}");
    let digest = digest_for(&e.store, "en");
    let f = digest.papers.iter().find_map(|p| p.figure.clone()).unwrap();
    assert_eq!(
        f.url,
        format!(
            "http://{}/html/1706.03762/assets/Figures/ModalNet-21.png",
            arxiv.addr
        )
    );
    assert_eq!(f.caption, "The Transformer - model architecture.");
}

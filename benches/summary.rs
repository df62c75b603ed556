//! Extractive TL;DR and code-link extraction over 100k papers on one thread: papers/s
//! (target >= 20k/s on one core). The LLM pipeline: 2000 papers through the fake
//! OpenAI-compatible server answering in 500 ms, against `2000 * 0.5 / max_concurrency * 1.1` s.
//! Run: `cargo bench --bench summary [-- extractive|llm] [--concurrency N]`.

mod support;

use std::time::Instant;

use paperbell::sources::parse;
use paperbell::summary::{code_links, tldr};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        println!("summary_throughput: bench\nllm_pipeline: bench");
        return;
    }
    let only = |w: &str| {
        !args.iter().any(|a| a == "extractive" || a == "llm") || args.iter().any(|a| a == w)
    };
    if only("extractive") {
        extractive();
    }
    if only("llm") {
        let concurrency = args
            .iter()
            .position(|a| a == "--concurrency")
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(64usize);
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(llm(concurrency));
    }
}

async fn llm(concurrency: usize) {
    use std::collections::BTreeSet;
    use std::sync::Arc;
    const PAPERS: usize = 2000;
    const ANSWER: f64 = 0.5;
    let fake = paperbell_testkit::llm::FakeLlm::start().await;
    fake.set_delay(std::time::Duration::from_secs_f64(ANSWER));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(paperbell::store::Store::open(dir.path()).unwrap());
    let items: Vec<String> = (0..PAPERS)
        .map(|i| support::rss_item(i, "new", "Tue, 19 Nov 2024 00:00:00 -0500"))
        .collect();
    let parsed = parse(support::rss_feed("cs.CV", "x", &items).as_bytes()).unwrap();
    store
        .ingest(&parsed.papers, &support::shipped_topics())
        .unwrap();
    let mut wanted = paperbell::summary::enrich::Wanted::default();
    for p in &parsed.papers {
        let sp = store.paper(&p.id).unwrap().unwrap();
        wanted.papers.insert(
            p.id.to_string(),
            (Arc::new(sp), BTreeSet::from(["en".to_string()])),
        );
    }
    let mut cfg = paperbell::config::LlmConfig {
        base_url: paperbell::config::HttpUrl::parse(&fake.url),
        model: "fake".into(),
        max_concurrency: concurrency,
        ..Default::default()
    };
    cfg.daily_token_budget = u64::MAX;
    let llm = Arc::new(
        paperbell::summary::llm::Llm::new(&cfg, paperbell::clock::Clock::System)
            .unwrap()
            .unwrap(),
    );
    let mut report = paperbell::summary::enrich::EnrichReport::default();
    let start = Instant::now();
    paperbell::summary::enrich::summarise(&llm, &store, &wanted, &mut report).await;
    let took = start.elapsed().as_secs_f64();
    let target = PAPERS as f64 * ANSWER / concurrency as f64 * 1.1;
    assert_eq!(report.llm_asked, PAPERS, "{report:?}");
    println!(
        "LLM pipeline: {PAPERS} papers, answers after {ANSWER} s, max_concurrency {concurrency}: {took:.2} s (target < {target:.2} s = {PAPERS} * {ANSWER} / {concurrency} * 1.1; ideal {:.2} s); most in flight at once: {}",
        PAPERS as f64 * ANSWER / concurrency as f64,
        fake.max_in_flight()
    );
}

fn extractive() {
    // Real parsed papers; comments carry code links as arXiv comments do.
    let mut papers = Vec::new();
    for page in 0..50 {
        let items: Vec<String> = (page * 2000..(page + 1) * 2000)
            .map(|i| support::rss_item(i, "new", "Tue, 19 Nov 2024 00:00:00 -0500"))
            .collect();
        papers.extend(
            parse(support::rss_feed("cs.CV", "x", &items).as_bytes())
                .unwrap()
                .papers,
        );
    }
    let bytes: usize = papers
        .iter()
        .map(|p| p.abstract_text.len() + p.title.len())
        .sum();
    let mut best = f64::MAX;
    let mut sink = 0usize;
    for _ in 0..3 {
        let start = Instant::now();
        for p in &papers {
            let t = tldr::tldr(&p.title, &p.abstract_text);
            let l = code_links::find(&[&p.abstract_text, p.comment.as_deref().unwrap_or("")]);
            sink += t.len() + l.code.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(sink);
    println!(
        "tl;dr + code links for {} papers ({:.1} MB of text), one thread, best of 3: {:.2} s = {:.0} papers/s (target >= 20000)",
        papers.len(),
        bytes as f64 / 1e6,
        best,
        papers.len() as f64 / best
    );
}

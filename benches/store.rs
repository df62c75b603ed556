//! Store benchmarks (a bench command, not criterion: it reports throughput and latency
//! percentiles, which criterion does not):
//! - ingest 100k papers with topic, category and day indexes (target >= 50k papers/s);
//! - `recent` on a store of 1M papers: p50/p99 over 20k queries (target p99 < 5 ms), and
//!   store bytes per paper.
//!
//! Run: `cargo bench --bench store` (PAPERBELL_BENCH_PAPERS overrides the 1M store size).

mod support;

use std::time::{Duration, Instant};

use paperbell::model::paper::Paper;
use paperbell::sources::parse;
use paperbell::store::Store;
use paperbell::topics::TopicSet;

fn papers(from: usize, n: usize) -> Vec<Paper> {
    // Realistic papers via the real parser: 2000-item RSS pages spread over announcement days.
    let mut out = Vec::with_capacity(n);
    let mut i = from;
    while i < from + n {
        let k = 2000.min(from + n - i);
        // One announcement day per page, counting weekdays back from 2024-11-29.
        let day = chrono::NaiveDate::from_ymd_opt(2024, 11, 29).unwrap()
            - chrono::Duration::days((i / 2000) as i64 % 300);
        let date = day.and_hms_opt(0, 0, 0).unwrap().and_utc().to_rfc2822();
        let items: Vec<String> = (i..i + k)
            .map(|j| support::rss_item(j, "new", &date))
            .collect();
        out.extend(
            parse(support::rss_feed("cs.CV", &date, &items).as_bytes())
                .unwrap()
                .papers,
        );
        i += k;
    }
    out
}

/// Ingests in pages of 2000 (one atomic batch each, as a fetch does); returns the time and the
/// number of topic-index entries written.
fn ingest_all(store: &Store, all: &[Paper], t: &TopicSet) -> (Duration, usize) {
    let start = Instant::now();
    let mut hits = 0;
    for page in all.chunks(2000) {
        hits += store
            .ingest(page, t)
            .unwrap()
            .topic_hits
            .values()
            .sum::<usize>();
    }
    store.flush().unwrap();
    (start.elapsed(), hits)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if support::flag("--list") {
        println!("store_ingest: bench\nstore_recent: bench");
        return;
    }
    let t = support::shipped_topics();
    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );

    // 1. Ingest 100k.
    let n = 100_000;
    let all = papers(0, n);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let cats = all.iter().map(|p| p.categories.len()).sum::<usize>() as f64 / n as f64;
    let (took, hits) = ingest_all(&store, &all, &t);
    let rate = n as f64 / took.as_secs_f64();
    println!(
        "ingest {n} papers (7 topics, pages of 2000, flushed): {took:.2?} = {rate:.0} papers/s (target >= 50000); \
         per paper: {:.2} topic + {cats:.2} category + 1 day index entries",
        hits as f64 / n as f64
    );
    drop(store);
    drop(all);

    // 2. recent on a store of 1M papers.
    let total: usize = std::env::var("PAPERBELL_BENCH_PAPERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let build = Instant::now();
    let mut i = 0;
    while i < total {
        let k = 100_000.min(total - i);
        let chunk = papers(i, k);
        for page in chunk.chunks(2000) {
            store.ingest(page, &t).unwrap();
        }
        i += k;
    }
    store.flush().unwrap();
    println!("built a store of {total} papers in {:.1?}", build.elapsed());
    let bytes = store.size_on_disk().unwrap();
    println!(
        "store size on disk: {:.1} MiB = {:.0} bytes/paper",
        bytes as f64 / 1048576.0,
        bytes as f64 / total as f64
    );

    // Topics the generated papers fill (hf-daily has its own source: none of them).
    let names: Vec<&str> = t
        .topics
        .iter()
        .map(|x| x.id.as_str())
        .filter(|id| !store.recent_by_topic(id, 1).unwrap().is_empty())
        .collect();
    assert!(!names.is_empty(), "the generated papers match no topic");
    let mut lat = Vec::with_capacity(20_000);
    for q in 0..20_000 {
        let topic = names[q % names.len()];
        let start = Instant::now();
        let got = store.recent_by_topic(topic, 10).unwrap();
        lat.push(start.elapsed());
        assert!(!got.is_empty());
    }
    lat.sort();
    println!(
        "recent(topic, 10) over {total} papers, 20000 queries: p50 {:.1?}, p99 {:.1?}, max {:.1?} (target p99 < 5 ms)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().unwrap()
    );
}

//! Search benchmark (a bench command, not criterion): on the real arXiv metadata in
//! `../shared/data` (69k papers, one RSS feed per announcement day made by its `to_rss.py`):
//! ingest with and without the index, the index's own rate, query latency over 1,000
//! known-item queries (three or four of a title's rarest words), and their quality: how often
//! the paper is in the top 3, and the mean reciprocal rank, for the index and for the scan
//! `/search` used before it (newest first, every word required, 50,000 papers at most). The
//! peer, SQLite FTS5 with bm25 (`benches/search_fts5.py`), runs on the same papers and queries
//! in the same run.
//!
//! `cargo bench --bench search [-- --days N]`

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use paperbell::model::paper::StoredPaper;
use paperbell::search::{SearchIndex, Sort};
use paperbell::store::Store;
use paperbell::topics::{Term, Topic};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// One feed per announcement day of the shared data, made once into `out`.
fn feeds(out: &Path, days: Option<usize>) -> Option<Vec<PathBuf>> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    let papers = data.join("arxiv-papers.jsonl.gz");
    if !papers.exists() {
        return None;
    }
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(data.join("to_rss.py")).arg(&papers).arg(out);
    if let Some(d) = days {
        cmd.arg("--days").arg(d.to_string());
    }
    assert!(cmd.status().unwrap().success(), "to_rss.py failed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    Some(files)
}

/// Ingests every feed; with `index`, catches the index up after each day as the service does.
fn ingest(
    dir: &Path,
    files: &[PathBuf],
    index: bool,
) -> (Store, Option<SearchIndex>, Duration, usize) {
    let store = Store::open(&dir.join("data")).unwrap();
    let search =
        index.then(|| SearchIndex::open(&SearchIndex::dir_for(&dir.join("data"))).unwrap());
    let topics = support::shipped_topics();
    let docs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let mut n = 0;
    let t = Instant::now();
    for doc in &docs {
        let parsed = paperbell::sources::parse(doc).unwrap();
        n += parsed.papers.len();
        store.ingest(&parsed.papers, &topics).unwrap();
        if let Some(s) = &search {
            s.catch_up(&store).unwrap();
        }
    }
    store.flush().unwrap();
    (store, search, t.elapsed(), n)
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_alphabetic()))
        .map(str::to_lowercase)
        .collect()
}

fn main() {
    let days = support::arg("--days").and_then(|d| d.parse().ok());
    let dir = tempfile::tempdir().unwrap();
    let Some(files) = feeds(&dir.path().join("feeds"), days) else {
        println!("search: ../shared/data/arxiv-papers.jsonl.gz is not here; nothing to measure");
        return;
    };
    let (plain, _, t_plain, n) = ingest(&dir.path().join("plain"), &files, false);
    drop(plain);
    let (store, index, t_indexed, _) = ingest(&dir.path().join("indexed"), &files, true);
    let index = index.unwrap();
    println!(
        "ingest of {n} papers in {} days: {:.0} papers/s without the index, {:.0} with it ({:.0}% of the rate)",
        files.len(),
        n as f64 / t_plain.as_secs_f64(),
        n as f64 / t_indexed.as_secs_f64(),
        100.0 * t_plain.as_secs_f64() / t_indexed.as_secs_f64()
    );
    // The index alone: a rebuild from the store.
    let rebuild_dir = dir.path().join("rebuild");
    let fresh = SearchIndex::open(&rebuild_dir).unwrap();
    let t = Instant::now();
    let rebuilt = fresh.catch_up(&store).unwrap().rebuilt.unwrap_or(0);
    let t_rebuild = t.elapsed();
    println!(
        "rebuild of the index from the store: {rebuilt} papers in {:.2} s = {:.0} papers/s; index {:.1} MB, store {:.1} MB",
        t_rebuild.as_secs_f64(),
        rebuilt as f64 / t_rebuild.as_secs_f64(),
        dir_size(&rebuild_dir) as f64 / 1e6,
        store.size_on_disk().unwrap() as f64 / 1e6
    );

    // Known items: 1,000 stored papers, each asked for by 3-4 of its title's rarest words.
    let mut all: Vec<StoredPaper> = Vec::new();
    store
        .for_each_paper(|sp| {
            all.push(sp);
            Ok::<_, paperbell::store::StoreError>(())
        })
        .unwrap();
    let mut df: HashMap<String, usize> = HashMap::new();
    for sp in &all {
        let mut seen = words(&sp.paper.title);
        seen.sort();
        seen.dedup();
        for w in seen {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261129);
    all.shuffle(&mut rng);
    let mut cases = Vec::new();
    for sp in &all {
        let mut ws = words(&sp.paper.title);
        ws.sort();
        ws.dedup();
        if ws.len() < 3 {
            continue;
        }
        ws.sort_by_key(|w| df[w]);
        ws.truncate(rng.random_range(3..=4));
        cases.push((sp.paper.id.to_string(), ws.join(" ")));
        if cases.len() == 1000 {
            break;
        }
    }
    let mut latencies = Vec::with_capacity(cases.len());
    let (mut top3, mut rr) = (0usize, 0f64);
    let (mut scan_top3, mut scan_rr, mut scan_time) = (0usize, 0f64, Duration::ZERO);
    // The old scan reads up to 50,000 papers a query: it is asked the first 100 only.
    const SCANNED: usize = 100;
    for (i, (id, q)) in cases.iter().enumerate() {
        let t = Instant::now();
        let parsed = paperbell::search::parse(q).unwrap();
        let hits = index.search(&parsed, Sort::Relevance, 0, 10).unwrap();
        latencies.push(t.elapsed());
        if let Some(r) = hits.iter().position(|h| &h.id == id) {
            rr += 1.0 / (r + 1) as f64;
            top3 += usize::from(r < 3);
        }
        if i >= SCANNED {
            continue;
        }
        // The scan /search used before: every word required, newest first.
        let topic = Topic {
            id: "search".into(),
            name: q.clone(),
            keywords: q.split(' ').map(|w| vec![Term::new(w).unwrap()]).collect(),
            include_replace: true,
            ..Topic::default()
        };
        let t = Instant::now();
        let found = store.recent(&topic, false, 10, 50_000).unwrap();
        scan_time += t.elapsed();
        if let Some(r) = found.iter().position(|sp| sp.paper.id.as_str() == id) {
            scan_rr += 1.0 / (r + 1) as f64;
            scan_top3 += usize::from(r < 3);
        }
    }
    latencies.sort();
    let k = cases.len() as f64;
    println!(
        "known-item search, {} queries of 3-4 title words: index top-3 {:.1}%, MRR {:.3}; old scan (first {SCANNED}) top-3 {:.1}%, MRR {:.3}",
        cases.len(),
        100.0 * top3 as f64 / k,
        rr / k,
        100.0 * scan_top3 as f64 / SCANNED as f64,
        scan_rr / SCANNED as f64
    );
    println!(
        "query latency (index): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; old scan mean {:.2} ms",
        support::percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        support::percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        scan_time.as_secs_f64() * 1e3 / SCANNED as f64
    );
    // The peer, in the same run: SQLite FTS5 on the same papers and queries.
    let cases_file = dir.path().join("cases.jsonl");
    let lines: Vec<String> = cases
        .iter()
        .map(|(id, q)| serde_json::json!({"id": id, "query": q}).to_string())
        .collect();
    std::fs::write(&cases_file, lines.join("\n") + "\n").unwrap();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/arxiv-papers.jsonl.gz");
    let mut peer = std::process::Command::new("python3");
    peer.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/search_fts5.py"))
        .arg(&shared)
        .arg(&cases_file)
        .arg(dir.path().join("fts5.db"));
    if let Some(d) = days {
        peer.arg("--days").arg(d.to_string());
    }
    if !peer.status().is_ok_and(|s| s.success()) {
        println!("fts5: the peer did not run (python3 with sqlite3's FTS5 is needed)");
    }
    let mut sim = Vec::new();
    for sp in all.iter().take(1000) {
        let t = Instant::now();
        index.similar(sp, 0, 10).unwrap();
        sim.push(t.elapsed());
    }
    sim.sort();
    println!(
        "similar, 1000 papers: p50 {:.2} ms, p99 {:.2} ms",
        support::percentile(&sim, 0.5).as_secs_f64() * 1e3,
        support::percentile(&sim, 0.99).as_secs_f64() * 1e3
    );
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let m = e.metadata().unwrap();
                    if m.is_dir() {
                        dir_size(&e.path())
                    } else {
                        m.len()
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

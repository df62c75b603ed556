//! Search benchmark (a bench command, not criterion): on the real arXiv metadata in
//! `../shared/data` (69k papers, one RSS feed per announcement day made by its `to_rss.py`):
//! ingest with and without the index, the index's own rate, query latency over 1,000
//! known-item queries (three or four of a title's rarest words), and their quality: how often
//! the paper is in the top 3, and the mean reciprocal rank, for the index and for the scan
//! `/search` used before it (newest first, every word required, 50,000 papers at most). The
//! peer, SQLite FTS5 with bm25 (`benches/search_fts5.py`), runs on the same papers and queries
//! in the same run.
//!
//! With `--papers N` (say 1000000) the archive is grown to N papers first: the real papers,
//! then re-worded copies of them (each copy maps every word to another word of about the same
//! frequency, a fixed random permutation within bands of 64 frequency ranks, and moves the
//! papers back in time by whole weeks with new ids), so the large store keeps real lengths,
//! word statistics and co-occurrence without duplicate titles. The peer indexes the same
//! file. That run also measures the service: `paperbell run` on the store with the fake
//! Telegram, its memory with search on and off, and `/search` round trips through it.
//!
//! With `--embeddings PREFIX` (vectors of the shared data's papers from a real embedding model,
//! written by `benches/embed_papers.py`), similar papers are also measured with embeddings.
//!
//! `cargo bench --bench search [-- --days N] [-- --papers N] [-- --repeat R] [-- --embeddings PREFIX]`

mod support;

use support::archive::{feeds, grown_archive, shared_data};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use paperbell::model::paper::StoredPaper;
use paperbell::search::{SearchIndex, Sort};
use paperbell::store::Store;
use paperbell::topics::Topic;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// How the index is kept up during an ingest of many days.
#[derive(Clone, Copy, PartialEq)]
enum Indexing {
    None,
    /// As the service does: a follower thread catches up whenever woken, the ingest never
    /// waits for it; the clock stops when both are done.
    Follower,
    /// Each day's catch-up right after its ingest, on the same thread.
    AfterEachDay,
}

/// Ingests every feed, the index kept up as `indexing` says; returns the store, the index,
/// the time, the papers and the catch-ups that ran.
fn ingest(
    dir: &Path,
    files: &[PathBuf],
    indexing: Indexing,
) -> (Arc<Store>, Option<Arc<SearchIndex>>, Duration, usize, usize) {
    let store = Arc::new(Store::open(&dir.join("data")).unwrap());
    let search = (indexing != Indexing::None)
        .then(|| Arc::new(SearchIndex::open(&SearchIndex::dir_for(&dir.join("data"))).unwrap()));
    let topics = support::shipped_topics();
    let docs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let mut n = 0;
    let mut catch_ups = 0;
    let cpu = support::cpu_ticks(std::process::id());
    let t = Instant::now();
    let (wake, woken) = std::sync::mpsc::channel::<bool>();
    let follower = (indexing == Indexing::Follower).then(|| {
        let (index, store) = (search.clone().unwrap(), store.clone());
        std::thread::spawn(move || {
            let mut runs = 0;
            // `false` is the last wake: catch up once more and stop.
            while let Ok(mut more) = woken.recv() {
                while let Ok(m) = woken.try_recv() {
                    more &= m;
                }
                index.catch_up(&store).unwrap();
                runs += 1;
                if !more {
                    break;
                }
            }
            runs
        })
    });
    for doc in &docs {
        let parsed = paperbell::sources::parse(doc).unwrap();
        n += parsed.papers.len();
        store.ingest(&parsed.papers, &topics).unwrap();
        match indexing {
            Indexing::None => {}
            Indexing::Follower => wake.send(true).unwrap(),
            Indexing::AfterEachDay => {
                search.as_ref().unwrap().catch_up(&store).unwrap();
                catch_ups += 1;
            }
        }
    }
    if let Some(f) = follower {
        wake.send(false).unwrap();
        catch_ups = f.join().unwrap();
    }
    store.flush().unwrap();
    let cpu = support::cpu_ticks(std::process::id()) - cpu;
    println!(
        "  ({}: {:.2} s, {:.2} CPU s)",
        indexing_name(indexing),
        t.elapsed().as_secs_f64(),
        cpu as f64 / 100.0
    );
    (store, search, t.elapsed(), n, catch_ups)
}

fn indexing_name(i: Indexing) -> &'static str {
    match i {
        Indexing::None => "no index",
        Indexing::Follower => "follower",
        Indexing::AfterEachDay => "after each day",
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_alphabetic()))
        .map(str::to_lowercase)
        .collect()
}

/// Judges similar papers on a sample: the share of results that share a category with the
/// paper, and that share an author.
struct Judge<'a> {
    sample: Vec<&'a StoredPaper>,
    by_id: HashMap<&'a str, &'a StoredPaper>,
}

impl<'a> Judge<'a> {
    fn new(all: &'a [StoredPaper]) -> Judge<'a> {
        Judge {
            sample: all.iter().take(1000).collect(),
            by_id: all.iter().map(|sp| (sp.paper.id.as_str(), sp)).collect(),
        }
    }

    fn shares(&self, p: &StoredPaper, ids: &[String]) -> (usize, usize, usize) {
        let (mut cat, mut au, mut n) = (0, 0, 0);
        for id in ids {
            let Some(o) = self.by_id.get(id.as_str()) else {
                continue;
            };
            n += 1;
            cat += usize::from(
                o.paper
                    .categories
                    .iter()
                    .any(|c| p.paper.categories.contains(c)),
            );
            au += usize::from(o.paper.authors.iter().any(|a| p.paper.authors.contains(a)));
        }
        (cat, au, n)
    }

    fn report(&self, name: &str, results: &[Vec<String>], lat: Option<&mut Vec<Duration>>) {
        let (mut cat, mut au, mut n) = (0, 0, 0);
        for (p, ids) in self.sample.iter().zip(results) {
            let (c, a, k) = self.shares(p, ids);
            cat += c;
            au += a;
            n += k;
        }
        let timing = lat.map_or(String::new(), |l| {
            l.sort();
            format!(
                "; p50 {:.2} ms, p99 {:.2} ms",
                support::percentile(l, 0.5).as_secs_f64() * 1e3,
                support::percentile(l, 0.99).as_secs_f64() * 1e3
            )
        });
        println!(
            "similar ({name}), {} papers x 10: share a category {:.1} %, share an author {:.1} %{timing}",
            self.sample.len(),
            100.0 * cat as f64 / n.max(1) as f64,
            100.0 * au as f64 / n.max(1) as f64
        );
    }
}

/// Similar papers, side by side on the same 1,000 papers: today's method (weighted words),
/// the one before (tantivy's MoreLikeThis) and, where the archive is small enough to hold in
/// memory, plain TF-IDF cosine on title and abstract by brute force.
fn similar_papers(index: &SearchIndex, store: &paperbell::store::Store, all: &[StoredPaper]) {
    let judge = Judge::new(all);
    let sample = &judge.sample;
    for (name, mlt) in [
        ("weighted words, today", false),
        ("MoreLikeThis, before", true),
    ] {
        let mut lat = Vec::new();
        let mut results = Vec::new();
        for sp in sample {
            let t = Instant::now();
            let hits = if mlt {
                index.similar_more_like_this(sp, 0, 10)
            } else {
                index.similar(sp, 0, 10)
            }
            .unwrap();
            lat.push(t.elapsed());
            results.push(hits.into_iter().map(|h| h.id).collect::<Vec<_>>());
        }
        judge.report(name, &results, Some(&mut lat));
    }
    // As `/similar` and the pages serve them: each paper's list as the service keeps it (the
    // first ask worked it out and kept it, as the background job would have).
    let mut lat = Vec::new();
    let mut results = Vec::new();
    for sp in sample {
        paperbell::search::neighbours::similar(index, store, sp, 0, 10).unwrap();
        let t = Instant::now();
        let hits = paperbell::search::neighbours::similar(index, store, sp, 0, 10).unwrap();
        lat.push(t.elapsed());
        results.push(hits.into_iter().map(|h| h.id).collect::<Vec<_>>());
    }
    judge.report("kept lists, as served", &results, Some(&mut lat));
    if all.len() > 200_000 {
        println!(
            "similar (TF-IDF cosine): not run above 200,000 papers (its vectors are held in memory)"
        );
        return;
    }
    // TF-IDF cosine: 1 + ln(tf) times ln(N / df) over title and abstract, unit length.
    let telling = |w: &str| {
        w.chars().count() >= 3
            && !w.bytes().all(|b| b.is_ascii_digit())
            && !paperbell::query::STOPWORDS.contains(&w)
    };
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let docs: Vec<Vec<(u32, f32)>> = all
        .iter()
        .map(|sp| {
            let mut tf: HashMap<u32, f32> = HashMap::new();
            let text = format!("{} {}", sp.paper.title, sp.paper.abstract_text);
            for w in paperbell::query::word_list(&text) {
                if telling(&w) {
                    let next = vocab.len() as u32;
                    *tf.entry(*vocab.entry(w).or_insert(next)).or_default() += 1.0;
                }
            }
            tf.into_iter().collect()
        })
        .collect();
    let mut df = vec![0u32; vocab.len()];
    for d in &docs {
        for (w, _) in d {
            df[*w as usize] += 1;
        }
    }
    let n = docs.len() as f32;
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); vocab.len()];
    let vectors: Vec<Vec<(u32, f32)>> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut v: Vec<(u32, f32)> = d
                .iter()
                .map(|&(w, tf)| (w, (1.0 + tf.ln()) * (n / df[w as usize] as f32).ln()))
                .collect();
            let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt().max(1e-9);
            for (w, x) in &mut v {
                *x /= norm;
                postings[*w as usize].push((i as u32, *x));
            }
            v
        })
        .collect();
    let position: HashMap<&str, usize> = all
        .iter()
        .enumerate()
        .map(|(i, sp)| (sp.paper.id.as_str(), i))
        .collect();
    let mut results = Vec::new();
    let mut scores = vec![0f32; all.len()];
    for sp in sample {
        let me = position[sp.paper.id.as_str()];
        let mut touched = Vec::new();
        for &(w, x) in &vectors[me] {
            for &(d, y) in &postings[w as usize] {
                if scores[d as usize] == 0.0 {
                    touched.push(d);
                }
                scores[d as usize] += x * y;
            }
        }
        let mut best: Vec<(f32, u32)> = touched
            .iter()
            .filter(|&&d| d as usize != me)
            .map(|&d| (scores[d as usize], d))
            .collect();
        best.sort_by(|a, b| b.0.total_cmp(&a.0));
        results.push(
            best.iter()
                .take(10)
                .map(|&(_, d)| all[d as usize].paper.id.to_string())
                .collect::<Vec<_>>(),
        );
        for d in touched {
            scores[d as usize] = 0.0;
        }
    }
    judge.report("TF-IDF cosine, brute force", &results, None);
}

/// What embeddings add to similar papers (`--embeddings PREFIX`: a real model's vectors of the
/// real papers, from `benches/embed_papers.py`), on the same 1,000 papers: the service's blend
/// of word scores and embedding cosine at several weights (from the same 100 word candidates),
/// the lists as the service keeps and serves them, and embeddings alone (brute-force cosine
/// over every paper, the most embeddings could do by themselves).
fn similar_with_embeddings(
    index: &SearchIndex,
    store: &paperbell::store::Store,
    all: &[StoredPaper],
    prefix: &Path,
) {
    use paperbell::search::rerank;
    let ids = std::fs::read_to_string(prefix.with_extension("ids")).expect("PREFIX.ids");
    let ids: Vec<&str> = ids.lines().collect();
    let raw = std::fs::read(prefix.with_extension("f32")).expect("PREFIX.f32");
    let dim = raw.len() / 4 / ids.len().max(1);
    let floats: Vec<f32> = raw
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let given: HashMap<&str, &[f32]> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, &floats[i * dim..(i + 1) * dim]))
        .collect();
    // Into the store as the embedding job keeps them (a byte a dimension).
    let model = "all-MiniLM-L6-v2";
    store.set_embedding_model(model).unwrap();
    let known: Vec<(&str, &[f32])> = all
        .iter()
        .filter_map(|sp| {
            let id = sp.paper.id.as_str();
            given.get(id).map(|v| (id, *v))
        })
        .collect();
    for chunk in known.chunks(1000) {
        store.put_embeddings(model, chunk).unwrap();
    }
    println!(
        "embeddings ({model}, {dim} dimensions): {} of {} papers",
        known.len(),
        all.len()
    );
    let embeddings = store.embeddings().unwrap().unwrap();
    let judge = Judge::new(all);
    let mut candidates = Vec::new();
    let mut lat = Vec::new();
    for sp in &judge.sample {
        let t = Instant::now();
        let own = embeddings.get(sp.paper.id.as_str()).unwrap();
        let words = index.similar(sp, 0, rerank::CANDIDATES).unwrap();
        let theirs: Vec<Option<Vec<f32>>> = words
            .iter()
            .map(|h| embeddings.get(&h.id).unwrap())
            .collect();
        lat.push(t.elapsed());
        candidates.push((own, words, theirs));
    }
    lat.sort();
    println!(
        "similar with embeddings: words' {} candidates and their embeddings p50 {:.2} ms, p99 {:.2} ms",
        rerank::CANDIDATES,
        support::percentile(&lat, 0.5).as_secs_f64() * 1e3,
        support::percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    for weight in [1.0, 0.7, 0.5, 0.3, 0.0] {
        let results: Vec<Vec<String>> = candidates
            .iter()
            .map(|(own, words, theirs)| {
                let hits = match own {
                    Some(own) => rerank::blend(words.clone(), own, theirs, weight),
                    None => words.clone(),
                };
                hits.into_iter().take(10).map(|h| h.id).collect()
            })
            .collect();
        judge.report(
            &format!("words' 100 best re-scored, word weight {weight}"),
            &results,
            None,
        );
    }
    // As the service keeps and serves them (`rerank::WORD_WEIGHT`).
    let mut results = Vec::new();
    let mut first = Vec::new();
    let mut lat = Vec::new();
    for sp in &judge.sample {
        let t = Instant::now();
        paperbell::search::neighbours::similar(index, store, sp, 0, 10).unwrap();
        first.push(t.elapsed());
        let t = Instant::now();
        let hits = paperbell::search::neighbours::similar(index, store, sp, 0, 10).unwrap();
        lat.push(t.elapsed());
        results.push(hits.into_iter().map(|h| h.id).collect::<Vec<_>>());
    }
    first.sort();
    judge.report(
        &format!(
            "kept lists with embeddings, as served; worked out p99 {:.2} ms",
            support::percentile(&first, 0.99).as_secs_f64() * 1e3
        ),
        &results,
        Some(&mut lat),
    );
    // Embeddings alone, over every paper (the store's quantised vectors, as the service has them).
    let stored: Vec<(&str, Vec<f32>)> = all
        .iter()
        .filter_map(|sp| {
            let id = sp.paper.id.as_str();
            embeddings.get(id).unwrap().map(|v| (id, v))
        })
        .collect();
    let mut results = Vec::new();
    let mut within = 0;
    for (sp, (_, words, _)) in judge.sample.iter().zip(&candidates) {
        let id = sp.paper.id.as_str();
        let Some(own) = embeddings.get(id).unwrap() else {
            results.push(Vec::new());
            continue;
        };
        let mut best: Vec<(f32, &str)> = stored
            .iter()
            .filter(|(other, _)| *other != id)
            .filter_map(|(other, v)| rerank::cosine(&own, v).map(|c| (c, *other)))
            .collect();
        best.sort_by(|a, b| b.0.total_cmp(&a.0));
        best.truncate(10);
        within += best
            .iter()
            .filter(|(_, o)| words.iter().any(|h| h.id == *o))
            .count();
        results.push(best.into_iter().map(|(_, o)| o.to_string()).collect());
    }
    judge.report("embeddings alone, brute force", &results, None);
    println!(
        "embeddings alone: {:.1} % of their 10 best are among the words' {} candidates",
        100.0 * within as f64 / (10 * judge.sample.len()).max(1) as f64,
        rerank::CANDIDATES
    );
}

fn main() {
    let days = support::arg("--days").and_then(|d| d.parse().ok());
    let grow: Option<usize> = support::arg("--papers").and_then(|d| d.parse().ok());
    let repeat: usize = support::arg("--repeat")
        .and_then(|d| d.parse().ok())
        .unwrap_or(if grow.is_some() { 1 } else { 3 });
    let dir = tempfile::tempdir_in(std::env::var("BENCH_TMP").unwrap_or("/tmp".into())).unwrap();
    let shared = shared_data().join("arxiv-papers.jsonl.gz");
    if !shared.exists() {
        println!(
            "search: {} is not here; nothing to measure",
            shared.display()
        );
        return;
    }
    let papers_file = match grow {
        Some(n) => {
            let t = Instant::now();
            let out = dir.path().join("papers.jsonl");
            grown_archive(&shared, &out, n);
            println!(
                "archive of {n} papers written in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            out
        }
        None => shared.clone(),
    };
    let files = feeds(&papers_file, &dir.path().join("feeds"), days);
    // Without and with the index, alternately `repeat` times (the machine is noisy): the
    // ratio of each pair, the median reported.
    let mut ratios = Vec::new();
    let mut last = None;
    let mut n = 0;
    for round in 0..repeat {
        let (plain, _, t_plain, papers, _) = ingest(
            &dir.path().join(format!("plain{round}")),
            &files,
            Indexing::None,
        );
        drop(plain);
        // Best effort: merges of a dropped writer may still be finishing.
        let _ = std::fs::remove_dir_all(dir.path().join(format!("plain{round}")));
        n = papers;
        let (store, index, t_indexed, _, runs) = ingest(
            &dir.path().join(format!("indexed{round}")),
            &files,
            Indexing::Follower,
        );
        let rate = |t: Duration| n as f64 / t.as_secs_f64();
        println!(
            "ingest of {n} papers in {} days: {:.0} papers/s without the index, {:.0} with the service's follower ({:.0}% of the rate, {runs} catch-ups)",
            files.len(),
            rate(t_plain),
            rate(t_indexed),
            100.0 * t_plain.as_secs_f64() / t_indexed.as_secs_f64(),
        );
        ratios.push(t_plain.as_secs_f64() / t_indexed.as_secs_f64());
        if let Some((_, _, round)) = last.replace((store, index.unwrap(), round)) {
            // Best effort: merges of a dropped writer may still be finishing.
            let _ = std::fs::remove_dir_all(dir.path().join(format!("indexed{round}")));
        }
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "ingest with the index: median {:.0}% of the rate without it over {repeat} pair(s) (each: {})",
        100.0 * ratios[ratios.len() / 2],
        ratios
            .iter()
            .map(|r| format!("{:.0}%", 100.0 * r))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if grow.is_none() {
        let (each, _, t_each, _, day_runs) =
            ingest(&dir.path().join("each"), &files, Indexing::AfterEachDay);
        drop(each);
        // Best effort: merges of a dropped writer may still be finishing.
        let _ = std::fs::remove_dir_all(dir.path().join("each"));
        println!(
            "each day's catch-up in the ingest's own time instead: {:.0} papers/s, {:.1} ms a catch-up of {:.0} papers",
            n as f64 / t_each.as_secs_f64(),
            t_each.as_secs_f64() * 1e3 / day_runs as f64,
            n as f64 / day_runs as f64,
        );
    }
    let (store, index, indexed_round) = last.unwrap();
    let data_dir = dir.path().join(format!("indexed{indexed_round}/data"));
    // The index alone: a rebuild from the store.
    let rebuild_dir = dir.path().join("rebuild");
    let fresh = SearchIndex::open(&rebuild_dir).unwrap();
    let cpu = support::cpu_ticks(std::process::id());
    let t = Instant::now();
    let rebuilt = fresh.catch_up(&store).unwrap().rebuilt.unwrap_or(0);
    let t_rebuild = t.elapsed();
    let cpu = (support::cpu_ticks(std::process::id()) - cpu) as f64 / 100.0;
    drop(fresh);
    println!(
        "rebuild of the index from the store: {rebuilt} papers in {:.2} s ({cpu:.1} CPU s) = {:.0} papers/s; index {:.1} MB (as kept up during ingest: {:.1} MB), store {:.1} MB",
        t_rebuild.as_secs_f64(),
        rebuilt as f64 / t_rebuild.as_secs_f64(),
        dir_size(&rebuild_dir) as f64 / 1e6,
        dir_size(&SearchIndex::dir_for(&data_dir)) as f64 / 1e6,
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
        // The scan /search does without an index: the same query, newest first.
        let topic = Topic::for_search(q, parsed.clone());
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
    let mut peer = std::process::Command::new("python3");
    peer.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/search_fts5.py"))
        .arg(&papers_file)
        .arg(&cases_file)
        .arg(dir.path().join("fts5.db"));
    if let Some(d) = days {
        peer.arg("--days").arg(d.to_string());
    }
    if !peer.status().is_ok_and(|s| s.success()) {
        println!("fts5: the peer did not run (python3 with sqlite3's FTS5 is needed)");
    }
    similar_papers(&index, &store, &all);
    if let Some(prefix) = support::arg("--embeddings") {
        similar_with_embeddings(&index, &store, &all, Path::new(&prefix));
    }
    // Broad queries, as when exploring a subject: 2-4 of a random title's words (any, not the
    // rarest), which match many papers and cost the index most.
    let mut broad = Vec::new();
    for sp in all.iter().skip(1000).take(1000) {
        let mut ws = words(&sp.paper.title);
        ws.dedup();
        if ws.len() < 2 {
            continue;
        }
        ws.shuffle(&mut rng);
        ws.truncate(rng.random_range(2..=4));
        // Words like "with" or "from" alone are refused as stopwords: not a search.
        if paperbell::search::parse(&ws.join(" ")).is_ok() {
            broad.push(ws.join(" "));
        }
    }
    let mut lat = Vec::new();
    let mut matched = 0;
    for q in &broad {
        let t = Instant::now();
        let parsed = paperbell::search::parse(q).unwrap();
        matched += index.search(&parsed, Sort::Relevance, 0, 5).unwrap().len();
        lat.push(t.elapsed());
    }
    lat.sort();
    println!(
        "broad queries, {} of 2-4 title words (first page of 5; {matched} hits): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        broad.len(),
        support::percentile(&lat, 0.5).as_secs_f64() * 1e3,
        support::percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
    drop((index, store, all));
    let queries: Vec<String> = broad
        .into_iter()
        .chain(cases.into_iter().map(|c| c.1))
        .collect();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(service_memory(&data_dir, &queries));
}

/// The service on the store at `data` with the fake Telegram: its memory once started and
/// after `/search` commands, with search on (every query) and off (the scan: 20 queries),
/// and the round trips of `/search` through it.
async fn service_memory(data: &Path, queries: &[String]) {
    use paperbell_testkit::telegram::{self as tg, FakeTelegram};
    for on in [true, false] {
        let fake = FakeTelegram::start().await;
        let mut child = support::service(data)
            .env("PAPERBELL_TELEGRAM_TOKEN", tg::TOKEN)
            .env("PAPERBELL_TELEGRAM_API_URL", &fake.url)
            .env("PAPERBELL_SEARCH_ENABLED", on.to_string())
            .spawn()
            .unwrap();
        let pid = child.id();
        fake.wait_calls("setMyCommands", 2).await;
        let mb = |key: &str| support::status_kb(pid, key) as f64 / 1024.0;
        let started = (mb("VmRSS:"), mb("RssAnon:"));
        let asked = if on { queries.len() } else { 20 };
        let mut trips = Vec::new();
        // Each query from its own person: a private chat's replies are held to Telegram's
        // pace for one chat, which is not what is measured here.
        for (person, q) in (1000..).zip(&queries[..asked]) {
            let t = Instant::now();
            fake.private_text(person, &format!("/search {q}"), None)
                .await;
            let reply = fake.take(person, 1).await;
            trips.push(t.elapsed());
            assert!(!reply[0].visible.is_empty());
        }
        trips.sort();
        println!(
            "service, search {}: RSS {:.1} MB (anonymous {:.1}) once started, {:.1} MB (anonymous {:.1}) after {asked} /search; round trip p50 {:.1} ms, p99 {:.1} ms",
            if on { "on " } else { "off" },
            started.0,
            started.1,
            mb("VmRSS:"),
            mb("RssAnon:"),
            support::percentile(&trips, 0.5).as_secs_f64() * 1e3,
            support::percentile(&trips, 0.99).as_secs_f64() * 1e3,
        );
        support::sigterm_and_wait(&mut child, Duration::from_secs(30));
    }
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

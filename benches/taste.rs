//! For you: how well a chat's taste model ranks a day's papers for simulated readers, side by
//! side in one run with today's ranking, random order, and arxiv-sanity's TF-IDF + linear SVM
//! (scikit-learn, `benches/taste/svm.py`) trained on the same ratings; and the model's size.
//!
//! Data: the real papers of `../shared/data` (the last `DAYS` announcement days), stored as a
//! fetch stores them. Readers: one per research theme below, each interested in the papers of
//! one category whose title or abstract names the theme (hidden from every method). A reader
//! imports 20 papers of interest from the first days (their library), then rates every paper
//! their first three digests show (today's ranking, top 10: 👍 if of interest, else 👎); every
//! method learns from exactly these. The next days are the test: each method ranks the day's
//! papers in the reader's category, scored by precision and NDCG at 10 (days with a paper of
//! interest). paperbell's ranking is computed inside paperbell (`compose::for_you`).
//!
//! `cargo bench --bench taste` (needs python3; installs scikit-learn into target/ when missing).

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use paperbell::compose::for_you::for_you;
use paperbell::compose::taste::learn;
use paperbell::model::paper::{Category, StoredPaper};
use paperbell::model::rating::RatingChange;
use paperbell::store::Store;

/// Announcement days used: the library comes from the first `LIBRARY_DAYS`, ratings from the
/// next `RATING_DAYS`, and the rest are test days.
const DAYS: usize = 30;
const LIBRARY_DAYS: usize = 17;
const RATING_DAYS: usize = 3;
const IMPORTED: usize = 20;
const SHOWN: usize = 10;

/// A reader's hidden interest: a category and the phrases that make a paper interesting.
const THEMES: &[(&str, &[&str])] = &[
    ("cs.CV", &["gaussian splatting", "3dgs"]),
    ("cs.CV", &["diffusion model", "diffusion-based"]),
    ("cs.CV", &["segmentation"]),
    ("cs.CV", &["video generation", "text-to-video"]),
    ("cs.CV", &["autonomous driving", "driving scene"]),
    ("cs.CV", &["medical image", "mri", "ct scan"]),
    ("cs.CV", &["point cloud", "lidar"]),
    ("cs.CV", &["pose estimation"]),
    ("cs.CV", &["remote sensing", "satellite"]),
    ("cs.CV", &["anomaly detection"]),
    ("cs.CL", &["retrieval-augmented", "rag "]),
    ("cs.CL", &["machine translation"]),
    ("cs.CL", &["hallucination"]),
    ("cs.CL", &["speech", "asr"]),
    ("cs.CL", &["code generation"]),
    ("cs.CL", &["agent"]),
    ("cs.CL", &["multilingual", "low-resource"]),
    ("cs.CL", &["reinforcement learning", "rlhf", "grpo"]),
    ("cs.LG", &["federated"]),
    ("cs.LG", &["graph neural", "gnn"]),
    ("cs.LG", &["time series"]),
    ("cs.AI", &["planning", "planner"]),
];

fn interesting(sp: &StoredPaper, theme: &(&str, &[&str])) -> bool {
    let text = format!("{} {}", sp.paper.title, sp.paper.abstract_text).to_lowercase();
    sp.paper.categories.iter().any(|c| c.as_str() == theme.0)
        && theme.1.iter().any(|p| text.contains(p))
}

/// Precision and NDCG at 10 of `order` (ids) against the `relevant` ones.
fn metrics(order: &[String], relevant: &HashSet<String>) -> (f64, f64) {
    let gains: Vec<f64> = order
        .iter()
        .take(10)
        .map(|id| if relevant.contains(id) { 1.0 } else { 0.0 })
        .collect();
    let p = gains.iter().sum::<f64>() / 10.0;
    let dcg: f64 = gains
        .iter()
        .enumerate()
        .map(|(i, g)| g / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(10))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    (p, if ideal > 0.0 { dcg / ideal } else { 0.0 })
}

#[derive(Default)]
struct Score {
    p: f64,
    n: f64,
    days: usize,
}

impl Score {
    fn add(&mut self, (p, n): (f64, f64)) {
        self.p += p;
        self.n += n;
        self.days += 1;
    }
    fn mean(&self) -> (f64, f64) {
        let d = self.days.max(1) as f64;
        (self.p / d, self.n / d)
    }
}

/// python3 with scikit-learn: the system's, else a virtual environment in target/.
fn python() -> PathBuf {
    support::python_with("sklearn", "scikit-learn", "taste-eval-venv")
}

fn main() {
    let shared = support::archive::shared_data().join("arxiv-papers.jsonl.gz");
    let all = support::archive::load_papers(&shared);
    let mut days: Vec<String> = all
        .iter()
        .map(|p| p["date"].as_str().unwrap().to_string())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    days.sort();
    let days: Vec<NaiveDate> = days[days.len() - DAYS..]
        .iter()
        .map(|d| d.parse().unwrap())
        .collect();
    let first = days[0].to_string();
    let window: Vec<&Value> = all
        .iter()
        .filter(|p| p["date"].as_str().unwrap() >= first.as_str())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("window.jsonl");
    std::fs::write(
        &lines,
        window
            .iter()
            .map(|p| p.to_string() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let feeds_dir = dir.path().join("feeds");
    std::fs::create_dir_all(&feeds_dir).unwrap();
    let feeds = support::archive::feeds(&lines, &feeds_dir, None);
    let store = Store::open(&dir.path().join("data")).unwrap();
    let topics = support::shipped_topics();
    // Days arrive as they would: readers rate and models learn before the test days exist.
    let ingest = |files: &[PathBuf]| {
        for f in files {
            let parsed = paperbell::sources::parse(&std::fs::read(f).unwrap()).unwrap();
            store.ingest(&parsed.papers, &topics).unwrap();
        }
    };
    assert_eq!(feeds.len(), DAYS, "one feed per day");
    let learnt_by = LIBRARY_DAYS + RATING_DAYS;
    ingest(&feeds[..learnt_by]);
    println!(
        "store: {} papers over {} announcement days ({} to {}); test days {} to {} come later",
        store.paper_count(),
        learnt_by,
        days[0],
        days[learnt_by - 1],
        days[learnt_by],
        days[DAYS - 1]
    );

    let day_papers: HashMap<NaiveDate, Vec<StoredPaper>> = days[..learnt_by]
        .iter()
        .map(|d| (*d, store.papers_between(*d, *d).unwrap()))
        .collect();
    let mut largest_model = 0;
    let mut learn_time = std::time::Duration::ZERO;
    // Each reader: (theme index, chat, model, liked ids, rated ids).
    let mut learnt = Vec::new();
    for (r, theme) in THEMES.iter().enumerate() {
        let cats = vec![Category(theme.0.to_string())];
        let chat = format!("bench-reader-{r}");
        let mut rng = rand::rngs::StdRng::seed_from_u64(r as u64);
        // The library: papers of interest from the first days.
        let mut library: Vec<&StoredPaper> = days[..LIBRARY_DAYS]
            .iter()
            .flat_map(|d| &day_papers[d])
            .filter(|sp| interesting(sp, theme))
            .collect();
        if library.len() < IMPORTED {
            println!(
                "reader {r} ({:?}): only {} papers of interest, left out",
                theme.1,
                library.len()
            );
            continue;
        }
        library.shuffle(&mut rng);
        let imported: Vec<String> = library[..IMPORTED]
            .iter()
            .map(|sp| sp.paper.id.to_string())
            .collect();
        store.import_ratings(&chat, &imported, 1).unwrap();
        let mut liked: Vec<String> = imported.clone();
        let mut rated: HashSet<String> = imported.iter().cloned().collect();
        // The first digests, in today's order; every paper shown is rated.
        for (k, d) in days[LIBRARY_DAYS..LIBRARY_DAYS + RATING_DAYS]
            .iter()
            .enumerate()
        {
            for f in for_you(&store, None, *d, &cats, SHOWN).unwrap() {
                let id = f.paper.paper.id.to_string();
                let change = if interesting(&f.paper, theme) {
                    liked.push(id.clone());
                    RatingChange::Up
                } else {
                    RatingChange::Down
                };
                store
                    .rate(&chat, &id, "reader", change, 2 + k as i64, false)
                    .unwrap();
                rated.insert(id);
            }
        }
        let t = Instant::now();
        let (taste, _) = learn(&store, &chat).unwrap().unwrap();
        learn_time += t.elapsed();
        store.put_taste(&chat, &taste, None).unwrap();
        largest_model = largest_model.max(store.taste_bytes(&chat).unwrap().unwrap());
        learnt.push((r, taste, liked, rated));
    }
    ingest(&feeds[learnt_by..]);
    let mut today = Score::default();
    let mut random = Score::default();
    let mut ours = Score::default();
    let mut readers_json = Vec::new();
    let readers = learnt.len();
    for (r, taste, liked, rated) in learnt {
        let theme = &THEMES[r];
        let cats = vec![Category(theme.0.to_string())];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1000 + r as u64);
        let mut test_days = Vec::new();
        for d in &days[learnt_by..] {
            let base = for_you(&store, None, *d, &cats, usize::MAX).unwrap();
            let relevant: HashSet<String> = base
                .iter()
                .filter(|f| interesting(&f.paper, theme))
                .map(|f| f.paper.paper.id.to_string())
                .collect();
            if relevant.is_empty() {
                continue;
            }
            let ids = |list: &[paperbell::compose::for_you::ForYou]| -> Vec<String> {
                list.iter().map(|f| f.paper.paper.id.to_string()).collect()
            };
            let base_ids = ids(&base);
            today.add(metrics(&base_ids, &relevant));
            let mut shuffled = base_ids.clone();
            shuffled.shuffle(&mut rng);
            random.add(metrics(&shuffled, &relevant));
            let mine = for_you(&store, Some(&taste), *d, &cats, usize::MAX).unwrap();
            ours.add(metrics(&ids(&mine), &relevant));
            test_days.push(json!({"candidates": base_ids, "relevant": relevant}));
        }
        // arxiv-sanity trains on every paper before the test days: liked ones positive.
        let train: Vec<String> = days[..learnt_by]
            .iter()
            .flat_map(|d| &day_papers[d])
            .map(|sp| sp.paper.id.to_string())
            .chain(rated.iter().cloned())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        readers_json.push(json!({"liked": liked, "train": train, "test": test_days}));
    }
    let scenario = dir.path().join("scenario.json");
    let window_ids: Vec<&str> = window.iter().map(|p| p["id"].as_str().unwrap()).collect();
    std::fs::write(
        &scenario,
        json!({"window": window_ids, "readers": readers_json}).to_string(),
    )
    .unwrap();
    let py = python();
    let t = Instant::now();
    let out = std::process::Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/taste/svm.py"))
        .arg(&shared)
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svm: Value = serde_json::from_slice(&out.stdout).unwrap();
    let svm_secs = t.elapsed().as_secs_f64();
    println!(
        "\n{readers} readers, {} reader-days scored (a day counts when it has a paper of interest)",
        ours.days
    );
    println!("| ranking | P@10 | NDCG@10 |");
    println!("|---|---|---|");
    for (name, s) in [
        ("today's ranking (no model)", today.mean()),
        ("random order", random.mean()),
        ("paperbell's taste model", ours.mean()),
    ] {
        println!("| {name} | {:.3} | {:.3} |", s.0, s.1);
    }
    println!(
        "| arxiv-sanity: TF-IDF + LinearSVC (scikit-learn), {} reader-days | {:.3} | {:.3} |",
        svm["days"],
        svm["p10"].as_f64().unwrap(),
        svm["ndcg10"].as_f64().unwrap()
    );
    println!(
        "\nlargest model stored: {largest_model} bytes (limit 16,384); learning a model took {:.1} ms on average; the SVM script took {svm_secs:.1} s for all readers",
        learn_time.as_secs_f64() * 1000.0 / readers.max(1) as f64
    );
}

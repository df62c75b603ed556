//! The real arXiv metadata of `../shared/data` as the benches use it: one RSS feed per
//! announcement day (its `to_rss.py`), and an archive grown to any size by re-worded copies
//! (see `benches/search.rs`'s module comment).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;

/// The shared data's folder.
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// One feed per announcement day of `papers` (lines as the shared data's), made into `out`.
pub fn feeds(papers: &Path, out: &Path, days: Option<usize>) -> Vec<PathBuf> {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(shared_data().join("to_rss.py"))
        .arg(papers)
        .arg(out);
    if let Some(d) = days {
        cmd.arg("--days").arg(d.to_string());
    }
    assert!(cmd.status().unwrap().success(), "to_rss.py failed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Every paper of a JSON-lines file, gzipped or not (the shared data's form).
pub fn load_papers(path: &Path) -> Vec<serde_json::Value> {
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "gzip -dc {}", path.display());
        out.stdout
    } else {
        std::fs::read(path).unwrap()
    };
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

/// Writes `n` papers to `out` (JSON lines as the shared data's): the real ones, then re-worded
/// copies moved back in time (see the module's comment).
pub fn grown_archive(shared: &Path, out: &Path, n: usize) {
    use serde_json::Value;
    use std::io::Write;
    let papers = load_papers(shared);
    let text_of = |p: &Value, key: &str| p[key].as_str().unwrap_or("").to_string();
    let mut count: HashMap<String, usize> = HashMap::new();
    for p in &papers {
        for key in ["title", "abstract"] {
            for w in text_of(p, key).split(|c: char| !c.is_ascii_alphabetic()) {
                if !w.is_empty() {
                    *count.entry(w.to_ascii_lowercase()).or_default() += 1;
                }
            }
        }
    }
    let mut vocab: Vec<(String, usize)> = count.into_iter().collect();
    vocab.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let vocab: Vec<String> = vocab.into_iter().map(|(w, _)| w).collect();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let mut ids_per_month: HashMap<String, usize> = HashMap::new();
    let mut written = 0;
    for copy in 0.. {
        let mut rng = rand::rngs::StdRng::seed_from_u64(copy as u64);
        let mut map: HashMap<&str, &str> = HashMap::new();
        if copy > 0 {
            for band in vocab.chunks(64) {
                let mut to: Vec<&String> = band.iter().collect();
                to.shuffle(&mut rng);
                for (w, t) in band.iter().zip(to) {
                    map.insert(w, t);
                }
            }
        }
        let reword = |text: &str| -> String {
            if copy == 0 {
                return text.to_string();
            }
            let mut out = String::with_capacity(text.len());
            let mut word = String::new();
            let flush = |word: &mut String, out: &mut String| {
                if word.is_empty() {
                    return;
                }
                let lower = word.to_ascii_lowercase();
                let to = map.get(lower.as_str()).copied().unwrap_or(lower.as_str());
                if word.chars().all(|c| c.is_ascii_uppercase()) && word.len() > 1 {
                    out.push_str(&to.to_ascii_uppercase());
                } else if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                    let mut cs = to.chars();
                    out.extend(cs.next().map(|c| c.to_ascii_uppercase()));
                    out.extend(cs);
                } else {
                    out.push_str(to);
                }
                word.clear();
            };
            for c in text.chars() {
                if c.is_ascii_alphabetic() {
                    word.push(c);
                } else {
                    flush(&mut word, &mut out);
                    out.push(c);
                }
            }
            flush(&mut word, &mut out);
            out
        };
        for p in &papers {
            if written == n {
                file.flush().unwrap();
                return;
            }
            let mut q = p.clone();
            if copy > 0 {
                // 63 weeks a copy: the real data spans about 61, and weekdays stay weekdays.
                let day =
                    chrono::NaiveDate::parse_from_str(p["date"].as_str().unwrap(), "%Y-%m-%d")
                        .unwrap()
                        - chrono::Duration::weeks(63 * copy);
                let month = day.format("%y%m").to_string();
                let seq = ids_per_month.entry(month.clone()).or_insert(50_000);
                *seq += 1;
                q["id"] = Value::from(format!("{month}.{seq:05}"));
                q["version"] = Value::from(1);
                q["date"] = Value::from(day.format("%Y-%m-%d").to_string());
                for key in ["title", "abstract", "comment"] {
                    if let Some(t) = p[key].as_str() {
                        q[key] = Value::from(reword(t));
                    }
                }
            }
            serde_json::to_writer(&mut file, &q).unwrap();
            file.write_all(b"\n").unwrap();
            written += 1;
        }
    }
}

/// The feeds of the shared data's papers (or of an archive grown from them to `grow`
/// papers), made in `dir`; `None` when the shared data is not here.
pub fn archive_feeds(dir: &Path, grow: Option<usize>, days: Option<usize>) -> Option<Vec<PathBuf>> {
    let shared = shared_data().join("arxiv-papers.jsonl.gz");
    if !shared.exists() {
        println!("{} is not here; nothing to measure", shared.display());
        return None;
    }
    let papers_file = match grow {
        Some(n) => {
            let out = dir.join("papers.jsonl");
            grown_archive(&shared, &out, n);
            out
        }
        None => shared,
    };
    Some(feeds(&papers_file, &dir.join("feeds"), days))
}

/// A store in `data` of every paper in `files` (one feed per day), stored as `paperbell fetch
/// --from-file` stores days, with their topic days' keywords and the search index; the
/// number of papers stored.
pub fn archive_store(data: &Path, files: &[PathBuf]) -> usize {
    let store = paperbell::store::Store::open(data).unwrap();
    let topics = super::shipped_topics();
    let mut n = 0;
    let mut days = std::collections::BTreeSet::new();
    for f in files {
        let r = paperbell::scheduler::ingest_file(&store, &topics, f).unwrap();
        n += r.papers;
        days.extend(r.days);
    }
    paperbell::compose::day_keywords::keep(&store, &topics, &days).unwrap();
    let index =
        paperbell::search::SearchIndex::open(&paperbell::search::SearchIndex::dir_for(data))
            .unwrap();
    index.catch_up(&store).unwrap();
    store.flush().unwrap();
    n
}

//! Parser throughput, side by side with Python's feedparser and the `arxiv` package in one run
//! on the same files: a 2000-entry API page and a 2000-item RSS feed (arXiv's page maximum).
//! Targets: >= 100 MB/s, and >= 20x feedparser.
//!
//! Run: `cargo bench --bench parse`. The Python peers are installed on first use into
//! `target/bench-venv` (PyPI: feedparser, arxiv); set PAPERBELL_BENCH_NO_PYTHON=1 to skip them.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use paperbell::sources::parse;

/// Median seconds per parse over at least `min` of repeated runs.
fn time_parse(bytes: &[u8], min: Duration) -> (f64, usize) {
    let entries = parse(bytes).unwrap().papers.len();
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed() < min || samples.len() < 10 {
        let t = Instant::now();
        let p = parse(std::hint::black_box(bytes)).unwrap();
        samples.push(t.elapsed().as_secs_f64());
        std::hint::black_box(p);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (samples[samples.len() / 2], entries)
}

fn python_peers(dir: &Path, api: &Path, rss: &Path) -> Option<serde_json::Value> {
    if std::env::var_os("PAPERBELL_BENCH_NO_PYTHON").is_some() {
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/bench-venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        eprintln!("installing feedparser and arxiv into {}", venv.display());
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "feedparser==6.0.*", "arxiv==4.0.*"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("could not install the Python peers; comparing nothing");
            return None;
        }
    }
    let out = Command::new(py)
        .arg(root.join("benches/compare_parsers.py"))
        .arg(api)
        .arg(rss)
        .arg("3")
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "python peers failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn main() {
    if support::flag("--list") {
        println!("parse_throughput: bench");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let api_path = dir.join("api_2000.xml");
    let rss_path = dir.join("rss_2000.xml");
    std::fs::write(&api_path, support::api_doc(2000)).unwrap();
    std::fs::write(&rss_path, support::rss_doc(2000)).unwrap();
    let api = std::fs::read(&api_path).unwrap();
    let rss = std::fs::read(&rss_path).unwrap();

    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    let mut ours = Vec::new();
    for (name, bytes) in [("api", &api), ("rss", &rss)] {
        let (secs, n) = time_parse(bytes, Duration::from_secs(3));
        let mbs = bytes.len() as f64 / secs / 1e6;
        println!(
            "paperbell/{name}: {:.2} MB, {n} entries: {:.2} ms/parse = {mbs:.0} MB/s, {:.0} entries/s (target >= 100 MB/s)",
            bytes.len() as f64 / 1e6,
            secs * 1e3,
            n as f64 / secs
        );
        ours.push((name, secs, bytes.len(), n));
    }
    let Some(peers) = python_peers(&dir, &api_path, &rss_path) else {
        return;
    };
    println!("peers: {}", peers["versions"]);
    for (name, secs, len, _) in &ours {
        for tool in ["feedparser", "arxiv"] {
            let Some(p) = peers.get(format!("{tool}/{name}")) else {
                continue;
            };
            let ps = p["seconds"].as_f64().unwrap();
            println!(
                "{tool}/{name}: {:.1} ms/parse = {:.1} MB/s, {} entries; paperbell is {:.0}x faster{}",
                ps * 1e3,
                *len as f64 / ps / 1e6,
                p["entries"],
                ps / secs,
                if tool == "feedparser" {
                    " (target >= 20x)"
                } else {
                    ""
                }
            );
        }
    }
}

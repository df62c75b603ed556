//! Extractive TL;DR and code-link extraction over 100k papers on one thread: papers/s
//! (target >= 20k/s on one core). Run: `cargo bench --bench summary`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use paperbell::sources::parse;
use paperbell::summary::{code_links, tldr};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("summary_throughput: bench");
        return;
    }
    // Real parsed papers; comments carry code links as arXiv comments do.
    let mut papers = Vec::new();
    for page in 0..50 {
        let items: Vec<String> = (page * 2000..(page + 1) * 2000)
            .map(|i| common::rss_item(i, "new", "Tue, 19 Nov 2024 00:00:00 -0500"))
            .collect();
        papers.extend(
            parse(common::rss_feed("cs.CV", "x", &items).as_bytes())
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

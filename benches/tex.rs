//! TeX reading on real papers (a bench command, not criterion): every title, extractive TL;DR
//! and abstract of `../shared/data` read as chats show them (`tex::plain`) and as pages show
//! them (`tex::html`, MathML):
//! - what is left that still reads as TeX (`$`, a `\command`, `^{`, `_{`, braces), as a share of
//!   titles and TL;DRs, with the worst cases;
//! - the titles holding TeX read side by side with pylatexenc's latex2text (the reference
//!   reader; installed into `target/tex-eval-venv` when missing): the share that read alike;
//! - the cost per paper, Unicode and MathML, p50 / p99 / max;
//! - figures: how many HTML pages a real announcement day asks for when every shipped topic
//!   and a for-you list are followed (against `[figures] max_per_day`), and how many bytes of
//!   the real HTML pages the client reads to find the first figure (the fake arXiv serves them).
//!
//! `cargo bench --bench tex`

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use paperbell_chat::tex;
use serde_json::Value;

/// Whether a reading still shows TeX to a reader.
fn residue(s: &str) -> bool {
    let b = s.as_bytes();
    s.contains('$')
        || s.contains("^{")
        || s.contains("_{")
        || s.contains('{')
        || s.contains('}')
        || b.windows(2)
            .any(|w| w[0] == b'\\' && w[1].is_ascii_alphabetic())
}

/// python3 with pylatexenc: the system's, else a virtual environment in target/.
fn python() -> PathBuf {
    support::python_with("pylatexenc", "pylatexenc==2.10", "tex-eval-venv")
}

struct Share {
    name: &'static str,
    texts: usize,
    with_tex: usize,
    left: Vec<(String, String)>,
}

impl Share {
    fn new(name: &'static str) -> Share {
        Share {
            name,
            texts: 0,
            with_tex: 0,
            left: Vec::new(),
        }
    }

    fn add(&mut self, source: &str, read: &str) {
        self.texts += 1;
        if residue(source) {
            self.with_tex += 1;
        }
        if residue(read) {
            self.left.push((source.to_string(), read.to_string()));
        }
    }

    fn print(&self) {
        println!(
            "{}: {} texts, {} ({:.2} %) hold TeX as written; after reading, {} ({:.3} % of all, {:.2} % of those with TeX) still show some",
            self.name,
            self.texts,
            self.with_tex,
            100.0 * self.with_tex as f64 / self.texts as f64,
            self.left.len(),
            100.0 * self.left.len() as f64 / self.texts as f64,
            100.0 * self.left.len() as f64 / self.with_tex.max(1) as f64,
        );
        for (src, read) in self.left.iter().take(8) {
            println!("    {src}\n      -> {read}");
        }
    }
}

fn percentiles(name: &str, mut d: Vec<Duration>) {
    d.sort();
    println!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs over {} papers",
        support::percentile(&d, 0.5).as_secs_f64() * 1e6,
        support::percentile(&d, 0.99).as_secs_f64() * 1e6,
        d.last().unwrap().as_secs_f64() * 1e6,
        d.len()
    );
}

/// Requests per announcement day for figures, and bytes read per figure found.
fn figures(shared_file: &Path) {
    use paperbell::model::chat::{ChatRecord, Subscription};
    use paperbell_chat::{ChatRef, Platform};
    let dir = tempfile::tempdir().unwrap();
    let files = support::archive::feeds(shared_file, &dir.path().join("feeds"), Some(20));
    let store = paperbell::store::Store::open(&dir.path().join("data")).unwrap();
    let topics = support::shipped_topics();
    for f in &files {
        let parsed = paperbell::sources::parse(&std::fs::read(f).unwrap()).unwrap();
        store.ingest(&parsed.papers, &topics).unwrap();
    }
    // One chat follows every shipped topic (a digest of 10 each), another for-you in cs.CV.
    let chat = |id: &str| ChatRef {
        platform: Platform::Telegram,
        id: id.into(),
    };
    for (c, subs) in [
        (
            "1",
            topics
                .topics
                .iter()
                .map(|t| t.id.clone())
                .collect::<Vec<_>>(),
        ),
        ("2", vec!["for-you".to_string()]),
    ] {
        let mut rec = ChatRecord::new(&chat(c));
        if c == "2" {
            rec.settings.set("cats", "cs.CV").unwrap();
        }
        store.put_chat(&rec).unwrap();
        for s in subs {
            let sub = Subscription {
                topic_name: s.clone(),
                topic_id: s,
                query: None,
                since: None,
            };
            store.subscribe(&chat(c), &sub).unwrap();
        }
    }
    let mut asked = Vec::new();
    let mut day = store.latest_day().unwrap();
    while let Some(d) = day {
        let n = paperbell::compose::figures::wanted(&store, &topics, d, usize::MAX)
            .unwrap()
            .len();
        let papers = store.papers_between(d, d).unwrap().len();
        asked.push((d, n, papers));
        day = store.day_before(d).unwrap();
    }
    asked.reverse();
    let per_day: Vec<usize> = asked.iter().map(|a| a.1).collect();
    println!(
        "figures: {} real announcement days, every shipped topic and a for-you list followed: {} to {} HTML pages a day (mean {:.0}; the days hold {} to {} papers), against max_per_day 300",
        asked.len(),
        per_day.iter().min().unwrap(),
        per_day.iter().max().unwrap(),
        per_day.iter().sum::<usize>() as f64 / per_day.len() as f64,
        asked.iter().map(|a| a.2).min().unwrap(),
        asked.iter().map(|a| a.2).max().unwrap(),
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let arxiv = support::FakeArxiv::start().await;
        let client = paperbell::sources::fetch::ArxivClient::new(&paperbell::config::ArxivConfig {
            api_url: paperbell::config::HttpUrl::known(&arxiv.api_url()),
            feed_url: paperbell::config::HttpUrl::known(&arxiv.feed_url()),
            html_url: paperbell::config::HttpUrl::known(&arxiv.html_url()),
            min_interval_secs: 0.0,
            ..Default::default()
        })
        .unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arxiv-html");
        let (mut read, mut whole) = (0u64, 0u64);
        for (i, name) in ["1706.03762.html", "2503.20783v2.html", "2507.00150v1.html"]
            .iter()
            .enumerate()
        {
            let page = std::fs::read_to_string(fixtures.join(name)).unwrap();
            let id = format!("2401.{:05}", i + 1);
            arxiv.html_page(&format!("{id}v1"), &page);
            let pid = paperbell::model::paper::PaperId::parse(&id).unwrap();
            let t = Instant::now();
            let e = client.figure(&pid, 1, true).await.unwrap();
            let took = t.elapsed();
            let paperbell::sources::fetch::Edition::Page { figure, bytes } = e else {
                panic!("{name}: no page")
            };
            assert!(figure.is_some(), "{name}: no figure");
            println!(
                "  {name}: {bytes} of {} bytes read to find its figure, {:.1} ms (on 127.0.0.1)",
                page.len(),
                took.as_secs_f64() * 1e3
            );
            read += bytes;
            whole += page.len() as u64;
        }
        println!(
            "figures: {:.0} KB read per figure found on the real pages ({:.0} % of the pages)",
            read as f64 / 3.0 / 1024.0,
            100.0 * read as f64 / whole as f64
        );
    });
}

fn main() {
    let shared = support::archive::shared_data().join("arxiv-papers.jsonl.gz");
    if !shared.exists() {
        println!("tex: {} is not here; nothing to measure", shared.display());
        return;
    }
    figures(&shared);
    let papers = support::archive::load_papers(&shared);
    let text = |p: &Value, k: &str| p[k].as_str().unwrap_or_default().to_string();
    let mut titles = Share::new("titles");
    let mut tldrs = Share::new("TL;DRs");
    let mut abstracts = Share::new("abstracts");
    let mut digest = Vec::with_capacity(papers.len());
    let mut unicode = Vec::with_capacity(papers.len());
    let mut mathml = Vec::with_capacity(papers.len());
    let mut reference = Vec::new();
    for p in &papers {
        let (title, abs) = (text(p, "title"), text(p, "abstract"));
        let tldr = paperbell::summary::tldr::tldr(&title, &abs);
        let t = Instant::now();
        let read_title = tex::plain(&title);
        let read_tldr = tex::plain(&tldr);
        digest.push(t.elapsed());
        let read_abs = tex::plain(&abs);
        unicode.push(t.elapsed());
        let t = Instant::now();
        let pages = [tex::html(&title), tex::html(&tldr), tex::html(&abs)];
        mathml.push(t.elapsed());
        std::hint::black_box(pages);
        titles.add(&title, &read_title);
        tldrs.add(&tldr, &read_tldr);
        abstracts.add(&abs, &read_abs);
        if residue(&title) {
            reference.push(serde_json::json!({"tex": title, "ours": read_title}));
        }
    }
    println!("{} real papers (../shared/data)", papers.len());
    titles.print();
    tldrs.print();
    abstracts.print();
    percentiles("Unicode, title and TL;DR (a digest's paper)", digest);
    percentiles("Unicode (title, TL;DR and abstract)", unicode);
    percentiles("MathML (title, TL;DR and abstract)", mathml);

    let py = python();
    let mut child = std::process::Command::new(py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/tex_reference.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for r in &reference {
            writeln!(stdin, "{r}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the reference reader failed");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (total, alike) = (v["total"].as_u64().unwrap(), v["alike"].as_u64().unwrap());
    println!(
        "titles with TeX read alike by paperbell and pylatexenc's latex2text: {alike} of {total} ({:.1} %)",
        100.0 * alike as f64 / total.max(1) as f64
    );
    for d in v["differ"].as_array().unwrap().iter().take(15) {
        println!(
            "    {}\n      paperbell:  {}\n      pylatexenc: {}",
            d["tex"].as_str().unwrap(),
            d["ours"].as_str().unwrap(),
            d["pylatexenc"].as_str().unwrap()
        );
    }
}

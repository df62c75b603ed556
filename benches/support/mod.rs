//! Helpers shared by the benches: the testkit's fake arXiv and document generators, the
//! shipped topics, percentiles, the service's memory and CPU from /proc, and a store of
//! announcement days.

#![allow(dead_code)]

pub mod archive;
pub mod pages;

#[allow(unused_imports)]
pub use paperbell_testkit::arxiv::*;
#[allow(unused_imports)]
pub use paperbell_testkit::process::sigterm_and_wait;

use std::time::Duration;

use paperbell::sources::parse;
use paperbell::store::Store;

/// The value after `name` on the bench's command line (`-- --store DIR`).
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// Whether `name` (`--real`) is on the bench's command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

pub fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// CPU ticks of `pid`'s threads whose name starts with `prefix` (Linux keeps 15 characters of
/// a thread's name), as `cpu_ticks`; a thread that ended meanwhile is not counted.
pub fn thread_cpu_ticks(pid: u32, prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    let mut ticks = 0;
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
    }
    ticks
}

/// A store at `data` with `days` announcement days of 2000 cs.CV papers each.
pub fn store_of_days(data: &std::path::Path, days: i64) {
    let store = Store::open(data).unwrap();
    let topics = shipped_topics();
    for day in 0..days {
        let date = (chrono::NaiveDate::from_ymd_opt(2024, 11, 29).unwrap()
            - chrono::Duration::days(day))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .to_rfc2822();
        let items: Vec<String> = (0..2000)
            .map(|i| rss_item(day as usize * 2000 + i, "new", &date))
            .collect();
        let doc = rss_feed("cs.CV", &date, &items);
        store
            .ingest(&parse(doc.as_bytes()).unwrap().papers, &topics)
            .unwrap();
    }
    println!(
        "store: {} papers, {:.1} MB on disk",
        store.paper_count(),
        store.size_on_disk().unwrap() as f64 / 1e6
    );
}

/// The release `paperbell run` on `data` with the shipped config, no fetch at start and only
/// warnings logged; callers add the platform's variables.
pub fn service(data: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_paperbell"));
    c.env("PAPERBELL_SCHEDULE_FETCH_ON_START", "false")
        // `BENCH_LOG=info` shows the service's log (planning, delivery counters).
        .env(
            "PAPERBELL_LOG_LEVEL",
            std::env::var("BENCH_LOG").unwrap_or("warn".into()),
        )
        .env("PAPERBELL_HUGGINGFACE_ENABLED", "false")
        // arXiv is not reachable: `/paper` would wait out its pace asking for each figure.
        .env("PAPERBELL_FIGURES_ENABLED", "false")
        // Benches that want the archive set their own address.
        .env("PAPERBELL_HTTP_LISTEN", "off")
        .arg("--config")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/paperbell.toml"
        ))
        .arg("--data")
        .arg(data)
        .arg("run");
    c
}

/// The topics of the shipped config.
pub fn shipped_topics() -> paperbell::topics::TopicSet {
    paperbell::config::Config::shipped().topic_set().unwrap()
}

/// Stores generated papers `ids` as announced on `day` (`arxiv::day_feed`).
pub fn ingest_day(store: &Store, day: chrono::NaiveDate, ids: std::ops::Range<usize>) {
    let parsed = parse(day_feed(day, ids).as_bytes()).unwrap();
    store.ingest(&parsed.papers, &shipped_topics()).unwrap();
}

/// What a chat can subscribe to in a store of `ingest_day` days: the shipped arXiv topics,
/// then `categories`, as (id, name).
pub fn arxiv_choices(categories: &[&str]) -> Vec<(String, String)> {
    let topics = shipped_topics();
    let arxiv = topics.topics.iter().filter(|t| !t.external);
    arxiv
        .map(|t| (t.id.clone(), t.name.clone()))
        .chain(categories.iter().map(|c| (c.to_string(), c.to_string())))
        .collect()
}

/// python3 that can `import module`: the system's, else a virtual environment in
/// `target/<venv>` with `package` installed into it (made on first use).
pub fn python_with(module: &str, package: &str, venv: &str) -> std::path::PathBuf {
    use std::path::{Path, PathBuf};
    let ok = |py: &Path| {
        std::process::Command::new(py)
            .args(["-c", &format!("import {module}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    let system = PathBuf::from("python3");
    if ok(&system) {
        return system;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(venv);
    let py = venv.join("bin/python3");
    if !ok(&py) {
        println!("installing {package} into {}", venv.display());
        let made = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv {} failed", venv.display());
        let pip = std::process::Command::new(&py)
            .args(["-m", "pip", "install", "-q", package])
            .status()
            .unwrap();
        assert!(pip.success(), "pip install {package} failed");
    }
    py
}

//! Web archive benchmark (a bench command, not criterion): `paperbell run` serves the archive
//! of a store of real arXiv papers (`../shared/data`, or with `--papers N` an archive grown to
//! N papers as `benches/search.rs` grows it), with its search index, and a client on the same
//! machine asks over keep-alive connections. The papers asked are of the newest days (12,000),
//! whose similar papers the service's own job works out before the service starts; the job
//! then goes on with the older days during the measurements, as in a real service.
//! The client asks:
//! - latency, one request at a time: topic days and papers picked at random, each asked for
//!   the first time, so made (p50 / p99 of 300 each), and the home page 100 times (made by the
//!   first, then from the page cache);
//! - throughput: 32 connections for 10 s asking a mix of 400 of those pages again and again
//!   (home 10%, topic days 45%, papers 45%: made once, then from the page cache), then paper
//!   pages and topic days each asked once (every one made), apart, pages/s; each with the
//!   service's CPU and its similar-papers job's share of it;
//! - conditional requests: the share of `If-None-Match` answered 304, and their latency;
//! - the service's memory before and after.
//!
//! `cargo bench --bench web [-- --papers 1000000] [-- --days N]`

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::seq::{IndexedRandom, SliceRandom};

use paperbell::store::Store;

fn main() {
    let days = support::arg("--days").and_then(|d| d.parse().ok());
    let grow: Option<usize> = support::arg("--papers").and_then(|d| d.parse().ok());
    let dir = tempfile::tempdir_in(std::env::var("BENCH_TMP").unwrap_or("/tmp".into())).unwrap();
    let Some(files) = support::archive::archive_feeds(dir.path(), grow, days) else {
        return;
    };
    let data = dir.path().join("data");
    let t = Instant::now();
    let n = support::archive::archive_store(&data, &files);
    let _ = std::fs::remove_dir_all(dir.path().join("feeds"));
    let _ = std::fs::remove_file(dir.path().join("papers.jsonl"));
    println!(
        "store of {n} papers in {} announcement days, with its search index, made in {:.0} s",
        files.len(),
        t.elapsed().as_secs_f64()
    );
    // The pages to ask for: every topic's announcement days, and papers of those days.
    let (topic_days, papers) = {
        let store = Store::open(&data).unwrap();
        let topics = support::shipped_topics();
        let mut topic_days = Vec::new();
        for t in topics.topics.iter().filter(|t| !t.external) {
            let first = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
            for (d, _) in store.topic_day_counts(&t.id, first).unwrap() {
                topic_days.push(format!("/topics/{}/{d}", t.id));
            }
        }
        // Papers of the newest days: those the service's similar-papers job reaches first.
        let mut papers = Vec::new();
        let mut day = store.latest_day().unwrap();
        let mut oldest = day;
        while let Some(d) = day.filter(|_| papers.len() < PAPERS_ASKED) {
            for sp in store.papers_between(d, d).unwrap() {
                papers.push(format!("/papers/{}", sp.paper.id.as_str()));
            }
            oldest = Some(d);
            day = store.day_before(d).unwrap();
        }
        let t = Instant::now();
        let worked = similar_lists_down_to(&store, &data, oldest.unwrap());
        println!(
            "similar papers of the newest days, down to {}: {worked} lists worked out by the service's job in {:.0} s ({:.1} ms each)",
            oldest.unwrap(),
            t.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64() * 1e3 / worked.max(1) as f64
        );
        (topic_days, papers)
    };
    println!(
        "{} topic days, {} papers to ask for",
        topic_days.len(),
        papers.len()
    );
    let port = support::pages::free_port();
    let mut child = support::service(&data)
        .env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
                let _ = r.text().await;
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "service did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Let the index follower finish its start-up check.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let pid = child.id();
        // Work the service still does after start-up (a store's upgrade, the index) would be
        // measured with the pages: say how busy it is before they start.
        let idle0 = support::cpu_ticks(pid);
        let job0 = support::thread_cpu_ticks(pid, "paperbell-simil");
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!(
            "service CPU in the second before the pages: {:.0}% of the 2 cores (the similar-papers job {:.0}%)",
            (support::cpu_ticks(pid) - idle0) as f64 / 2.0,
            (support::thread_cpu_ticks(pid, "paperbell-simil").saturating_sub(job0)) as f64 / 2.0
        );
        let rss0 = support::status_kb(pid, "VmRSS:");
        let anon0 = support::status_kb(pid, "RssAnon:");
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let time = |path: String| {
            let http = http.clone();
            let url = format!("{base}{path}");
            async move {
                let t = Instant::now();
                let r = http.get(&url).send().await.unwrap();
                let status = r.status().as_u16();
                let etag = r.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
                let len = r.bytes().await.unwrap().len();
                assert_eq!(status, 200, "{url}");
                (t.elapsed(), len, etag)
            }
        };
        let report = |name: &str, mut ts: Vec<Duration>, bytes: usize| {
            ts.sort();
            println!(
                "{name:<28} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  ({} pages, {:.0} KB each)",
                support::percentile(&ts, 0.50).as_secs_f64() * 1e3,
                support::percentile(&ts, 0.99).as_secs_f64() * 1e3,
                ts.last().unwrap().as_secs_f64() * 1e3,
                ts.len(),
                bytes as f64 / ts.len() as f64 / 1024.0
            );
        };
        // The home page: the first request makes it (and works out the topics' ranked newest
        // days, kept in the store's memo for digests too); later ones come from the page cache.
        let mut home = Vec::new();
        let mut bytes = 0;
        for _ in 0..100 {
            let (t, len, _) = time("/".into()).await;
            home.push(t);
            bytes += len;
        }
        println!("/ first request: {:.1} ms", home[0].as_secs_f64() * 1e3);
        report("/ (made once, then cached)", home, bytes);
        // Each page is asked in one phase only, so "new each" and "each asked once" are.
        let (mut topic_days, mut papers) = (topic_days, papers);
        topic_days.shuffle(&mut rng);
        papers.shuffle(&mut rng);
        let picks = |list: &mut Vec<String>, k: usize| {
            let k = k.min(list.len());
            list.drain(..k).collect::<Vec<_>>()
        };
        for (name, list) in [("topic day (new each)", &mut topic_days), ("paper (new each)", &mut papers)] {
            let mut ts = Vec::new();
            let mut bytes = 0;
            for p in picks(list, 300) {
                let (t, len, _) = time(p).await;
                ts.push(t);
                bytes += len;
            }
            report(name, ts, bytes);
        }
        // Conditional requests.
        let mut ts = Vec::new();
        let mut not_modified = 0;
        let some_pages = picks(&mut topic_days, 100);
        for p in &some_pages {
            let url = format!("{base}{p}");
            let etag = http.get(&url).send().await.unwrap().headers()["etag"].clone();
            let t = Instant::now();
            let r = http.get(&url).header("If-None-Match", etag).send().await.unwrap();
            if r.status().as_u16() == 304 {
                not_modified += 1;
            }
            let _ = r.bytes().await;
            ts.push(t.elapsed());
        }
        ts.sort();
        println!(
            "If-None-Match: {not_modified}/{} answered 304, p50 {:.2} ms, p99 {:.2} ms",
            some_pages.len(),
            support::percentile(&ts, 0.50).as_secs_f64() * 1e3,
            support::percentile(&ts, 0.99).as_secs_f64() * 1e3
        );
        // Throughput: 32 connections for 10 s, over a mix of 400 pages asked again and again
        // (made once, then from the page cache), and over pages each asked once (all made).
        let mix: Vec<String> = {
            let mut m = vec!["/".to_string(); 40];
            m.extend(picks(&mut topic_days, 180));
            m.extend(picks(&mut papers, 180));
            m
        };
        for (name, urls, repeat) in [
            ("a mix of 400 pages", mix, true),
            ("paper pages each asked once", papers, false),
            ("topic days each asked once", topic_days, false),
        ] {
            let urls = Arc::new(urls);
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let cpu0 = support::cpu_ticks(pid);
            let job0 = support::thread_cpu_ticks(pid, "paperbell-simil");
            let t = Instant::now();
            let until = t + Duration::from_secs(10);
            let mut tasks = Vec::new();
            for worker in 0..32u64 {
                let (http, base, urls, next) = (http.clone(), base.clone(), urls.clone(), next.clone());
                tasks.push(tokio::spawn(async move {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(100 + worker);
                    let mut lat = Vec::new();
                    while Instant::now() < until {
                        let p = if repeat {
                            urls.choose(&mut rng).unwrap()
                        } else {
                            match urls.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                                Some(p) => p,
                                None => break,
                            }
                        };
                        let t = Instant::now();
                        let r = http.get(format!("{base}{p}")).send().await.unwrap();
                        assert_eq!(r.status().as_u16(), 200);
                        let _ = r.bytes().await.unwrap();
                        lat.push(t.elapsed());
                    }
                    lat
                }));
            }
            let mut lat = Vec::new();
            for task in tasks {
                lat.extend(task.await.unwrap());
            }
            let secs = t.elapsed().as_secs_f64();
            let cpu = (support::cpu_ticks(pid) - cpu0) as f64 / 100.0;
            let job = support::thread_cpu_ticks(pid, "paperbell-simil").saturating_sub(job0) as f64 / 100.0;
            let cached = cached_pages(&http, &base).await;
            lat.sort();
            println!(
                "throughput, 32 keep-alive connections, {name}: {:.0} pages/s ({} in {secs:.1} s; p50 {:.1} ms, p99 {:.1} ms under load; service CPU {:.1} s = {:.0}% of the 2 cores, of which the similar-papers job {job:.1} s)",
                lat.len() as f64 / secs,
                lat.len(),
                support::percentile(&lat, 0.50).as_secs_f64() * 1e3,
                support::percentile(&lat, 0.99).as_secs_f64() * 1e3,
                cpu,
                100.0 * cpu / secs / 2.0
            );
            println!("  answered from the page cache so far: {cached}");
        }
        let rss1 = support::status_kb(pid, "VmRSS:");
        let anon1 = support::status_kb(pid, "RssAnon:");
        println!(
            "service memory: RSS {} -> {} MB, anonymous {} -> {} MB (before -> after the pages)",
            rss0 / 1024,
            rss1 / 1024,
            anon0 / 1024,
            anon1 / 1024
        );
    });
    let _ = support::sigterm_and_wait(&mut child, Duration::from_secs(30));
}

/// Paper pages asked for: the newest days' papers up to this many.
const PAPERS_ASKED: usize = 12_000;

/// Runs the service's similar-papers job on the store in `data` until its backfill has passed
/// `oldest` (at a million papers all of it takes hours of one core); how many lists it made.
fn similar_lists_down_to(
    store: &Store,
    data: &std::path::Path,
    oldest: chrono::NaiveDate,
) -> usize {
    use paperbell::search::neighbours::{self, Worked};
    use paperbell::store::Backfill;
    let index =
        paperbell::search::SearchIndex::open(&paperbell::search::SearchIndex::dir_for(data))
            .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let worked = std::thread::scope(|s| {
        let job = s.spawn(|| {
            let mut worked = Worked::default();
            let _ = neighbours::catch_up(&index, store, &stop, &|| {}, &mut worked);
            worked
        });
        loop {
            match store.similar_backfill().unwrap() {
                Backfill::Done => break,
                Backfill::From(d) if d <= oldest => break,
                _ if job.is_finished() => break,
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        stop.cancel();
        job.join().unwrap()
    });
    store.flush().unwrap();
    worked.changed + worked.backfilled
}

/// How many pages the service answered from its page cache so far (its `/metrics`).
async fn cached_pages(http: &reqwest::Client, base: &str) -> u64 {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("paperbell_web_responses_total") && l.contains("page=\"cached\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

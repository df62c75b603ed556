//! Delivery benchmarks (a bench command, not criterion: each is one long run).
//!
//! * plan: digests for 100k chats with 5 topics each over one announcement day of 2000 papers,
//!   planned into the durable outbox (targets: under 1 s, under 200 MB).
//! * fanout: the release `paperbell run` delivers one digest day to 100k chats of the Telegram
//!   fake, which enforces 5000 messages/s overall and 1/s per chat (targets: at least 95% of the
//!   limit, no 429 caused by the bot, nothing lost; CPU per message reported).
//!
//! `--pages` (fanout) asks the web for pages never asked before throughout the fan-out.
//!
//! `cargo bench --bench delivery [--features mimalloc] [-- plan|fanout] [-- --chats N]
//! [-- --store DIR [-- --cache-mb N]] [-- --models N] [-- --embeddings D]`; `BENCH_LOG=info` prints the
//! service's log and the fan-out's progress. `--models N` gives the first N chats a taste
//! model (learnt from ratings of the day's papers), so their lists are put in their own order
//! (target: 100k chats of which 20k have a model under 2 s); `--embeddings D` first gives every
//! paper a D-dimensional embedding, which the models then weigh beside words.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Planning runs in this process: the allocator the service is built with (src/main.rs).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{NaiveDate, TimeZone, Utc};
use paperbell::config::ScheduleConfig;
use paperbell::delivery::Planner;
use paperbell::model::chat::{ChatRecord, Subscription};
use paperbell::store::Store;
use paperbell_chat::{ChatRef, Platform};
use paperbell_testkit::telegram::{self as tg, FakeTelegram};

fn rss_kb() -> u64 {
    support::status_kb(std::process::id(), "VmRSS:")
}

fn hwm_kb() -> u64 {
    support::status_kb(std::process::id(), "VmHWM:")
}

/// A store with yesterday's day (what subscriptions start after), `chats` chats subscribed to
/// `topics`, and today's announcement of 2000 papers.
fn setup(data: &std::path::Path, chats: usize, topics_per_chat: usize) -> Store {
    let store = Store::open(data).unwrap();
    let d = |n| NaiveDate::from_ymd_opt(2024, 11, n).unwrap();
    support::ingest_day(&store, d(18), 0..2000);
    // 7 configured arXiv topics and 3 categories to pick 5 from.
    let choices = support::arxiv_choices(&["cs.CV", "cs.LG", "cs.CL"]);
    let since = store.latest_day().unwrap();
    for i in 0..chats {
        let chat = ChatRef {
            platform: Platform::Telegram,
            id: (1_000_000 + i).to_string(),
        };
        let mut rec = ChatRecord::new(&chat);
        rec.settings.set("time", "00:00").unwrap();
        store.put_chat(&rec).unwrap();
        for k in 0..topics_per_chat {
            let (id, name) = &choices[(i + k * 3) % choices.len()];
            store
                .subscribe(
                    &chat,
                    &Subscription {
                        topic_id: id.clone(),
                        topic_name: name.clone(),
                        query: None,
                        since,
                    },
                )
                .unwrap();
        }
    }
    support::ingest_day(&store, d(19), 100_000..102_000);
    store.flush().unwrap();
    store
}

/// Stores a `dims`-dimensional embedding for every paper of the store's last week (as the fake
/// LLM makes them: words hashed into the dimensions).
fn add_embeddings(store: &Store, dims: usize) {
    let latest = store.latest_day().unwrap().unwrap();
    let papers = store
        .papers_between(latest - chrono::Duration::days(7), latest)
        .unwrap();
    let vectors: Vec<Vec<f32>> = papers
        .iter()
        .map(|sp| {
            let text = format!("{} {}", sp.paper.title, sp.paper.abstract_text);
            paperbell_testkit::llm::embedding_in(&text, dims)
        })
        .collect();
    let embedded: Vec<(&str, &[f32])> = papers
        .iter()
        .zip(&vectors)
        .map(|(sp, v)| (sp.paper.id.as_str(), v.as_slice()))
        .collect();
    store.put_embeddings("bench-embed", &embedded).unwrap();
    store.set_embedding_model("bench-embed").unwrap();
    store.flush().unwrap();
}

/// Gives the first `n` chats a taste model: eight readers' models (each liking one theme of
/// the generated papers and disliking another), stored for every chat in turn.
fn add_models(store: &Store, n: usize) {
    let day = store.latest_day().unwrap().unwrap();
    let papers = store.papers_between(day, day).unwrap();
    let mut tastes = Vec::new();
    for reader in 0..8 {
        let chat = format!("bench-reader-{reader}");
        for (i, sp) in papers.iter().enumerate().take(200) {
            let change = match i % 8 {
                k if k == reader => paperbell::model::rating::RatingChange::Up,
                k if k == (reader + 3) % 8 => paperbell::model::rating::RatingChange::Down,
                _ => continue,
            };
            store
                .rate(&chat, sp.paper.id.as_str(), "bench", change, 1, false)
                .unwrap();
        }
        let (taste, _) = paperbell::compose::taste::learn(store, &chat)
            .unwrap()
            .unwrap();
        store.forget(&chat).unwrap();
        tastes.push(taste);
    }
    for i in 0..n {
        let chat = ChatRef {
            platform: Platform::Telegram,
            id: (1_000_000 + i).to_string(),
        };
        store
            .put_taste(&chat.to_string(), &tastes[i % tastes.len()], None)
            .unwrap();
    }
    store.flush().unwrap();
}

fn plan(chats: usize) {
    let dir = tempfile::tempdir().unwrap();
    // `--store DIR` keeps the built store in DIR (or plans on a copy made from it earlier),
    // so planning can be measured or profiled again without building 100k chats each time.
    let data = match support::arg("--store") {
        Some(keep) => {
            let keep = std::path::PathBuf::from(keep);
            if !keep.exists() {
                drop(setup(&keep, chats, 5));
            }
            let copy = dir.path().join("data");
            let status = std::process::Command::new("cp")
                .arg("-r")
                .arg(&keep)
                .arg(&copy)
                .status()
                .unwrap();
            assert!(status.success());
            copy
        }
        None => dir.path().join("data"),
    };
    let t = Instant::now();
    // `--cache-mb N`: sled's cache capacity for a store opened from `--store` (default 32).
    let cache_mb = support::arg("--cache-mb")
        .map_or(paperbell::store::DEFAULT_CACHE_MB, |n| n.parse().unwrap());
    let store = Arc::new(if data.exists() {
        Store::open_with_cache(&data, cache_mb).unwrap()
    } else {
        setup(&data, chats, 5)
    });
    println!(
        "plan: {chats} chats x 5 topics ready (built, or opened from --store) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    // The copy (or the build) leaves most of a gigabyte of dirty pages; writing them back while
    // planning runs made the timing swing by half a second between identical runs.
    // `--embeddings D`: every paper gets a D-dimensional embedding first (words hashed into D
    // buckets, as the fake LLM makes them), so models weigh embeddings beside words.
    if let Some(dims) = support::arg("--embeddings").map(|d| d.parse::<usize>().unwrap()) {
        let t = Instant::now();
        add_embeddings(&store, dims);
        println!(
            "plan: every paper embedded ({dims} dimensions) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let models: usize = support::arg("--models").map_or(0, |n| n.parse().unwrap());
    if models > 0 {
        let t = Instant::now();
        add_models(&store, models.min(chats));
        println!(
            "plan: {} chats given a taste model in {:.1} s",
            models.min(chats),
            t.elapsed().as_secs_f64()
        );
    }
    let _ = std::process::Command::new("sync").status();
    // Peak memory from here on: the set-up's own allocations are not planning's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss0 = rss_kb();
    let planner = Planner::new(
        store.clone(),
        Arc::new(support::shipped_topics()),
        ScheduleConfig::default(),
        vec![Platform::Telegram],
    );
    let now = Utc.with_ymd_and_hms(2024, 11, 20, 9, 0, 0).unwrap();
    let t = Instant::now();
    let run = planner.plan_due(now).unwrap();
    let took = t.elapsed();
    let hwm = hwm_kb();
    println!(
        "plan: {} chats, {} messages planned and flushed in {:.3} s (target < 1 s); \
         RSS {:.0} MB before, peak {:.0} MB during (+{:.0} MB; target < 200 MB)",
        run.planned_chats,
        run.items.len(),
        took.as_secs_f64(),
        rss0 as f64 / 1024.0,
        hwm as f64 / 1024.0,
        (hwm.saturating_sub(rss0)) as f64 / 1024.0
    );
    assert_eq!(run.planned_chats, chats, "every chat had something new");
}

async fn fanout(chats: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fake = FakeTelegram::start().await;
    {
        let t = Instant::now();
        let _store = setup(&data, chats, 1);
        println!(
            "fanout: set up {chats} chats in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    for i in 0..chats {
        fake.register_private_chat(1_000_000 + i as i64);
    }
    let rate = 5000.0;
    fake.enforce_limits(rate, 1.0);
    // `--pages`: the web is asked for pages never asked before throughout the fan-out.
    let pages = support::flag("--pages");
    let paths = if pages {
        support::pages::first_views(&data, 20_000)
    } else {
        Vec::new()
    };
    let port = support::pages::free_port();
    let mut service = support::service(&data);
    service
        .env("PAPERBELL_TELEGRAM_TOKEN", tg::TOKEN)
        .env("PAPERBELL_TELEGRAM_API_URL", &fake.url)
        .env("PAPERBELL_DELIVERY_TELEGRAM_PER_SEC", rate.to_string())
        .env("PAPERBELL_DELIVERY_TICK_SECS", "1")
        .env("PAPERBELL_DELIVERY_CONCURRENCY", "64");
    if pages {
        service.env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"));
    }
    let mut child = service.spawn().unwrap();
    let pid = child.id();
    // From the first message to the last.
    while fake.sent_count() == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let load =
        pages.then(|| support::pages::PageLoad::start(format!("http://127.0.0.1:{port}"), paths));
    let t0 = Instant::now();
    let cpu0 = support::cpu_ticks(pid);
    let deadline = t0 + Duration::from_secs(chats as u64 / 100 + 60);
    let mut samples = Vec::new();
    while fake.sent_count() < chats && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(support::status_kb(pid, "VmRSS:"));
        if std::env::var("BENCH_LOG").is_ok() {
            eprintln!("sent {}", fake.sent_count());
        }
    }
    let took = t0.elapsed();
    let ticks = support::cpu_ticks(pid) - cpu0;
    if let Some(load) = load {
        println!("fanout: {}", load.stop());
    }
    let sent = fake.sent_count();
    let tick_hz = 100.0;
    let achieved = (sent - 1) as f64 / took.as_secs_f64();
    println!(
        "fanout: {sent} of {chats} digests in {:.2} s = {:.0} msg/s of {rate:.0} configured ({:.1}%, target >= 95%); \
         429s caused by the bot: {}; CPU {:.1} us per message ({:.2} s in all); RSS peak {:.0} MB",
        took.as_secs_f64(),
        achieved,
        achieved * 100.0 / rate,
        fake.throttled(),
        ticks as f64 / tick_hz * 1e6 / sent as f64,
        ticks as f64 / tick_hz,
        samples.iter().max().copied().unwrap_or(0) as f64 / 1024.0
    );
    support::sigterm_and_wait(&mut child, Duration::from_secs(30));
    let store = Store::open(&data).unwrap();
    println!(
        "fanout: outbox left {}, counters {:?}",
        store.outbox_len(Platform::Telegram),
        store.counters(Platform::Telegram).unwrap()
    );
}

fn main() {
    let which = std::env::args().find(|a| a == "plan" || a == "fanout");
    let chats: usize = support::arg("--chats")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    if which.as_deref() != Some("fanout") {
        plan(chats);
    }
    if which.as_deref() != Some("plan") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(fanout(chats));
    }
}

//! Telegram benchmark (a bench command, not criterion): the real `paperbell run` binary
//! against the fake Bot API on 127.0.0.1, with a store of 20k papers.
//! - 10k private chats each subscribe (throughput of commands through the whole path);
//! - command round trip, update in to reply out, p50/p99 per command over 2000 sequential
//!   commands (the long poll is already waiting, so no polling wait is included;
//!   target p99 < 20 ms);
//! - resident memory of the service with those 10k subscribed chats (target < 50 MB), and
//!   again after the ratings below;
//! - a rating's round trip: a tap on 👍 under a paper to its acknowledgement (the rating is
//!   durable before it) and to the updated buttons, p50/p99 over 1000 sequential taps
//!   (target p99 < 20 ms).
//!
//! Run: `cargo bench --bench telegram [-- --real] [-- --pages]`; with `--real`, the store holds
//! the 69k real papers of `../shared/data` instead (built first, a minute or two); with
//! `--pages`, the command round trips are measured again while 32 connections ask the web for
//! pages never asked before, side by side.

mod support;

use std::time::{Duration, Instant};

use paperbell_testkit::telegram::{self as tg, FakeTelegram};

const CHATS: i64 = 10_000;
const ROUND_TRIPS: usize = 2000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    if support::flag("--real") {
        let Some(files) = support::archive::archive_feeds(dir.path(), None, None) else {
            return;
        };
        let n = support::archive::archive_store(&data, &files);
        println!("store: {n} real papers");
    } else {
        support::store_of_days(&data, 10);
    }
    let pages = support::flag("--pages");
    let (paths, port) = if pages {
        let paths = support::pages::first_views(&data, 20_000);
        (paths, support::pages::free_port())
    } else {
        (Vec::new(), 0)
    };
    let fake = FakeTelegram::start().await;
    let mut service = support::service(&data);
    service
        .env("PAPERBELL_TELEGRAM_TOKEN", tg::TOKEN)
        .env("PAPERBELL_TELEGRAM_API_URL", &fake.url);
    if pages {
        service.env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"));
    }
    let mut child = service.spawn().unwrap();
    let pid = child.id();
    fake.wait_calls("setMyCommands", 2).await;
    println!(
        "service started: RSS {:.1} MB",
        support::status_kb(pid, "VmRSS:") as f64 / 1024.0
    );

    // 10k chats subscribe, 200 in flight at a time.
    let t0 = Instant::now();
    let cpu0 = support::cpu_ticks(pid);
    let topics = ["nerf", "llm", "cs.CV", "generative", "pose"];
    let mut next = 1;
    while next <= CHATS {
        let batch: Vec<i64> = (next..(next + 200).min(CHATS + 1)).collect();
        for &c in &batch {
            fake.private_text(c, &format!("/subscribe {}", topics[c as usize % 5]), None)
                .await;
        }
        for &c in &batch {
            let r = &fake.take(c, 1).await[0];
            assert!(r.visible.starts_with("Subscribed"), "{}", r.visible);
        }
        next += 200;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "after subscribing: RSS {:.1} MB",
        support::status_kb(pid, "VmRSS:") as f64 / 1024.0
    );
    let ticks = support::cpu_ticks(pid) - cpu0;
    let hz = 100.0; // USER_HZ on Linux
    println!(
        "subscribe: {CHATS} chats in {secs:.2} s = {:.0} commands/s; service CPU {:.0} µs/command",
        CHATS as f64 / secs,
        ticks as f64 / hz * 1e6 / CHATS as f64
    );

    round_trips(&fake, "").await;
    if pages {
        let load = support::pages::PageLoad::start(format!("http://127.0.0.1:{port}"), paths);
        // The first pages in flight before the first command.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cpu0 = support::cpu_ticks(pid);
        round_trips(&fake, " under page load").await;
        let cpu = (support::cpu_ticks(pid) - cpu0) as f64 / 100.0;
        println!("  {} (service CPU {cpu:.1} s)", load.stop());
    }

    // The memory target is for the subscribed chats: measured before any chat rates (the taste
    // models and what they are learnt against come on top, reported after the ratings).
    // After the page load the page cache and sled's nodes of the pages come on top: no target.
    println!(
        "memory with {CHATS} subscribed chats{}: RSS {:.1} MB (anonymous {:.1} MB, files {:.1} MB), peak RSS {:.1} MB{}",
        if pages { " (after the page load)" } else { "" },
        support::status_kb(pid, "VmRSS:") as f64 / 1024.0,
        support::status_kb(pid, "RssAnon:") as f64 / 1024.0,
        support::status_kb(pid, "RssFile:") as f64 / 1024.0,
        support::status_kb(pid, "VmHWM:") as f64 / 1024.0,
        if pages { "" } else { " (target < 50 MB)" }
    );

    // Ratings: a /recent list in 50 chats, then taps on its papers' 👍 (a second tap takes it
    // back, so the taps alternate between rating and unrating).
    let mut lists = Vec::new();
    for c in 1..=50i64 {
        fake.private_text(c, "/recent nerf 5", None).await;
        let r = fake.take(c, 1).await.remove(0);
        let ids: Vec<String> = r
            .buttons()
            .into_iter()
            .filter_map(|(_, d)| d.strip_prefix("v:o:").map(str::to_string))
            .collect();
        assert!(!ids.is_empty(), "rating buttons under /recent");
        lists.push((c, r.message_id, ids));
    }
    let (mut acked, mut shown) = (Vec::new(), Vec::new());
    let mut answers = fake.calls("answerCallbackQuery").len();
    let mut edits = fake.calls("editMessageReplyMarkup").len();
    for i in 0..1000 {
        let (chat, message, ids) = &lists[i % lists.len()];
        let id = &ids[(i / lists.len()) % ids.len()];
        let start = Instant::now();
        fake.press(*chat, *chat, *message, &format!("v:u:{id}"))
            .await;
        answers += 1;
        fake.wait_calls("answerCallbackQuery", answers).await;
        acked.push(start.elapsed());
        edits += 1;
        fake.wait_calls("editMessageReplyMarkup", edits).await;
        shown.push(start.elapsed());
    }
    acked.sort();
    shown.sort();
    println!(
        "rating round trip, 1000 taps: acknowledged p50 {:.2} ms, p99 {:.2} ms; buttons updated p50 {:.2} ms, p99 {:.2} ms (target p99 < 20 ms)",
        support::percentile(&acked, 0.5).as_secs_f64() * 1e3,
        support::percentile(&acked, 0.99).as_secs_f64() * 1e3,
        support::percentile(&shown, 0.5).as_secs_f64() * 1e3,
        support::percentile(&shown, 0.99).as_secs_f64() * 1e3,
    );
    println!(
        "memory after the ratings (50 chats' models, the vocabulary and background they learn against): RSS {:.1} MB (anonymous {:.1} MB), peak RSS {:.1} MB",
        support::status_kb(pid, "VmRSS:") as f64 / 1024.0,
        support::status_kb(pid, "RssAnon:") as f64 / 1024.0,
        support::status_kb(pid, "VmHWM:") as f64 / 1024.0
    );
    let rejected = fake.rejected();
    println!("requests the fake refused: {}", rejected.len());
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().unwrap();
    println!("service exit: {status}");
}

/// Sequential round trips, one command at a time, from chats that are all subscribed; prints
/// their latencies, overall and per command.
async fn round_trips(fake: &FakeTelegram, label: &str) {
    let commands = [
        "/recent nerf 5",
        "/paper 2401.00007",
        "/list",
        "/search radiance fields",
        "/digest",
        "/subscribe transformer",
        "/unsubscribe transformer",
        "/help",
    ];
    let mut by_cmd: Vec<Vec<Duration>> = vec![Vec::new(); commands.len()];
    let mut all = Vec::new();
    for i in 0..ROUND_TRIPS {
        let chat = 1 + (i as i64 * 7919) % CHATS;
        let k = i % commands.len();
        let start = Instant::now();
        fake.private_text(chat, commands[k], None).await;
        let replies = fake.take(chat, 1).await;
        let d = replies[0].at.saturating_duration_since(start);
        by_cmd[k].push(d);
        all.push(d);
        if commands[k] == "/digest" {
            // A digest may span several messages; let the rest arrive before the next one.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let extra = fake.untaken(chat).len();
            if extra > 0 {
                fake.take(chat, extra).await;
            }
        }
    }
    all.sort();
    println!(
        "round trip (update in -> first reply out){label}, {ROUND_TRIPS} commands: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        support::percentile(&all, 0.5).as_secs_f64() * 1e3,
        support::percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );
    for (k, mut v) in by_cmd.into_iter().enumerate() {
        v.sort();
        println!(
            "  {:<28} p50 {:>6.2} ms  p99 {:>6.2} ms",
            commands[k],
            support::percentile(&v, 0.5).as_secs_f64() * 1e3,
            support::percentile(&v, 0.99).as_secs_f64() * 1e3
        );
    }
}

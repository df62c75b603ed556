//! The crash tests: the real `paperbell run` fans a digest day out to a few hundred chats of
//! the Telegram fake and is killed with SIGKILL at random points, then restarted, until the
//! outbox is empty. Every chat must get every digest; the only duplicates allowed are sends
//! that had reached the platform when the process died. The duplicate rate is printed. And
//! `paperbell fetch` is killed while it stores and indexes papers: search and store must agree.
//! A backup is taken while the bot fans out and members rate, and restored as a lost
//! machine's would be; and `paperbell backup` is killed mid-way.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use paperbell::model::chat::{ChatRecord, Subscription};
use paperbell::store::Store;
use paperbell_chat::{ChatRef, Platform};
use paperbell_testkit::telegram::{self as tg, FakeTelegram};
use rand::Rng;

const CHATS: i64 = 300;
const KILLS: usize = 5;

fn paperbell(data: &std::path::Path, log: &std::path::Path, api: &str) -> std::process::Command {
    let mut c = common::service(data, log);
    c.env("PAPERBELL_TELEGRAM_TOKEN", tg::TOKEN)
        .env("PAPERBELL_TELEGRAM_API_URL", api)
        .env("RUST_LOG", "info")
        // 600 messages in about 4 s: long enough to be killed in the middle, several times.
        .env("PAPERBELL_DELIVERY_TELEGRAM_PER_SEC", "150")
        .env("PAPERBELL_DELIVERY_TICK_SECS", "1");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_fan_out_every_digest_arrives_and_none_twice_but_in_flight() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fan_out_day(&data, &fake);
    let expected = CHATS as usize * 2;
    let mut rng = rand::rng();
    let mut kills = 0;
    for round in 0.. {
        let log = dir.path().join(format!("run{round}.log"));
        let mut child = paperbell(&data, &log, &fake.url).spawn().unwrap();
        let before = fake.sent().len();
        let deadline = Instant::now() + Duration::from_secs(60);
        if kills < KILLS {
            // Kill at a random point once this run has sent something.
            while fake.sent().len() == before && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            tokio::time::sleep(Duration::from_millis(rng.random_range(0..600))).await;
            child.kill().unwrap();
            child.wait().unwrap();
            kills += 1;
            if unique(&fake) >= expected {
                break;
            }
            continue;
        }
        while unique(&fake) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let it settle: anything sent twice after the last kill would show now.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
        assert!(
            status.success(),
            "{}",
            std::fs::read_to_string(&log).unwrap()
        );
        break;
    }
    let counts = per_chat(&fake);
    let mut missing = Vec::new();
    let mut duplicates = 0;
    for i in 0..CHATS {
        for title in ["NeRF", "cs.CL"] {
            match counts.get(&(5000 + i, title)).copied().unwrap_or(0) {
                0 => missing.push((5000 + i, title)),
                n => duplicates += n - 1,
            }
        }
    }
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    println!(
        "crash test: {expected} digests to {CHATS} chats, {kills} SIGKILLs, {} messages sent, {duplicates} duplicate(s) ({:.2}%)",
        fake.sent().len(),
        duplicates as f64 * 100.0 / expected as f64
    );
    // At most what can be in flight (32 sends) plus what was accepted in the moment before the
    // flush that records it, per kill.
    assert!(
        duplicates <= kills * 40,
        "{duplicates} duplicates after {kills} kills"
    );
    let store = Store::open(&data).unwrap();
    assert_eq!(store.outbox_len(Platform::Telegram), 0);
    let c = store.counters(Platform::Telegram).unwrap();
    assert_eq!(
        c.planned, expected as u64,
        "planned once, whatever the kills"
    );
}

/// A store in `data` whose `CHATS` chats (each a private chat of the fake, due at once) follow
/// NeRF and cs.CL, with a new announcement day waiting to go out: `CHATS * 2` digests.
fn fan_out_day(data: &std::path::Path, fake: &FakeTelegram) {
    let store = Store::open(data).unwrap();
    let d = |n| NaiveDate::from_ymd_opt(2024, 11, n).unwrap();
    common::ingest_day(&store, d(18), 0..70);
    let topics = common::shipped_topics();
    for i in 0..CHATS {
        let id = 5000 + i;
        fake.register_private_chat(id);
        let chat = ChatRef {
            platform: Platform::Telegram,
            id: id.to_string(),
        };
        let mut rec = ChatRecord::new(&chat);
        // Due at once, whatever the time of day the test runs.
        rec.settings.set("time", "00:00").unwrap();
        store.put_chat(&rec).unwrap();
        for t in ["nerf", "cs.CL"] {
            let t = topics.resolve(t).unwrap();
            store
                .subscribe(
                    &chat,
                    &Subscription {
                        topic_id: t.id.clone(),
                        topic_name: t.name.clone(),
                        query: None,
                        since: store.latest_day().unwrap(),
                    },
                )
                .unwrap();
        }
    }
    // The new announcement: 10 NeRF and 10 cs.CL papers.
    common::ingest_day(&store, d(19), 700..770);
    store.flush().unwrap();
}

/// A group's `/recent cs.CV 5` list (its message) and the papers whose buttons it shows.
async fn recent_list(fake: &FakeTelegram, group: i64) -> (tg::Sent, Vec<String>) {
    fake.group_text(group, true, 1, "/recent cs.CV 5").await;
    let list = fake.take(group, 1).await.remove(0);
    let papers = list
        .buttons()
        .into_iter()
        .filter_map(|(_, data)| data.strip_prefix("v:o:").map(String::from))
        .collect();
    (list, papers)
}

/// Messages per (chat, digest title).
fn per_chat(fake: &FakeTelegram) -> HashMap<(i64, &'static str), usize> {
    let mut out = HashMap::new();
    for s in fake.sent() {
        for title in ["NeRF", "cs.CL"] {
            // A digest's first line carries its topic's name.
            if s.visible.lines().next().is_some_and(|l| l.contains(title)) {
                *out.entry((s.chat_id, title)).or_default() += 1;
            }
        }
    }
    out
}

fn unique(fake: &FakeTelegram) -> usize {
    per_chat(fake).len()
}

/// `paperbell fetch` from files killed with SIGKILL at random points while it stores papers
/// and indexes them; after each kill, a search (which catches the index up first) must find
/// exactly the stored papers: none lost, none that the store does not have.
#[test]
fn killed_while_indexing_search_and_store_agree() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files: Vec<std::path::PathBuf> = (0..8)
        .map(|day| {
            let d = NaiveDate::from_ymd_opt(2024, 11, 11 + day).unwrap();
            let path = dir.path().join(format!("day{day}.xml"));
            let ids = day as usize * 3000..day as usize * 3000 + 3000;
            std::fs::write(&path, common::day_feed(d, ids)).unwrap();
            path
        })
        .collect();
    let cmd = |args: &[&str]| {
        let mut c = command(&data);
        c.args(args);
        c
    };
    let count = |args: &[&str]| -> usize {
        let out = cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
            .unwrap()
            .len()
    };
    let agree = |after: &str| {
        let searched = count(&["search", "cat:cs.CV", "-n", "10000", "--json"]);
        let stored = count(&["recent", "cs.CV", "-n", "10000", "--json"]);
        assert_eq!(searched, stored, "after {after}");
    };
    // The first file whole: how long storing and indexing a file takes.
    let t = Instant::now();
    assert!(
        cmd(&["fetch", "--from-file", files[0].to_str().unwrap()])
            .output()
            .unwrap()
            .status
            .success()
    );
    let whole = t.elapsed();
    agree("a whole fetch");
    let mut rng = rand::rng();
    let (mut killed, mut while_indexing) = (0, 0);
    for file in &files[1..] {
        let log = dir.path().join("fetch.out");
        let mut child = cmd(&["fetch", "--from-file", file.to_str().unwrap()])
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole.mul_f64(rng.random_range(0.05..1.0)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
        let said = std::fs::read_to_string(&log).unwrap();
        // Stored (the file's line printed), not yet indexed (no index line).
        if said.contains("paper(s)") && !said.contains("search index") {
            while_indexing += 1;
        }
        agree(&format!("{file:?}"));
    }
    println!(
        "fetches killed: {killed} of {}, {while_indexing} of them while indexing (a whole fetch: {whole:?})",
        files.len() - 1
    );
    // Every file fetched again: everything stored, everything found.
    for file in &files {
        assert!(
            cmd(&["fetch", "--from-file", file.to_str().unwrap()])
                .output()
                .unwrap()
                .status
                .success()
        );
    }
    agree("fetching every file again");
    assert!(count(&["recent", "cs.CV", "-n", "10000", "--json"]) > 1000);
}

/// `paperbell run` is killed with SIGKILL while a group's members rate papers through the
/// Telegram fake: every rating whose tap was answered is in the store afterwards (a rating is
/// flushed before its answer), none appears that nobody made, and the next start learns the
/// chat's model from them (the retrain mark survived the crash). Taps Telegram hands the
/// restarted bot again count once (a rating keeps the tap that made it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_members_rate_every_answered_rating_is_kept_and_learnt() {
    const MEMBERS: i64 = 120;
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("paperbell.log");
    drop(common::stored_papers(&data));
    let group = -100_123_456;
    fake.register_chat(tg::group_chat(group, true));
    let mut child = paperbell(&data, &log, &fake.url).spawn().unwrap();
    fake.wait_calls("setMyCommands", 2).await;
    let (list, papers) = recent_list(&fake, group).await;
    assert_eq!(papers.len(), 5, "{:?}", list.buttons());
    // Every member taps 👍 (or ⭐ for every third) on one paper; the kill comes once a share
    // of the taps has been answered, with the rest in flight.
    let mut pressed: HashMap<String, (String, char)> = HashMap::new();
    for m in 0..MEMBERS {
        let paper = &papers[m as usize % papers.len()];
        let kind = if m % 3 == 0 { 's' } else { 'u' };
        let id = fake
            .press(
                group,
                2000 + m,
                list.message_id,
                &format!("v:{kind}:{paper}"),
            )
            .await;
        pressed.insert(id, (paper.clone(), kind));
    }
    let t0 = Instant::now();
    while fake.calls("answerCallbackQuery").len() < MEMBERS as usize / 4 {
        assert!(t0.elapsed() < Duration::from_secs(30), "no taps answered");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let answered: Vec<String> = fake
        .calls("answerCallbackQuery")
        .iter()
        .filter_map(|c| c["callback_query_id"].as_str().map(String::from))
        .collect();
    println!(
        "rating crash test: {} taps, {} answered before SIGKILL",
        pressed.len(),
        answered.len()
    );
    let chat = format!("telegram:{group}");
    let check = |store: &Store| {
        let tallies: HashMap<String, paperbell::model::rating::Tally> =
            store.chat_ratings(&chat).unwrap().into_iter().collect();
        for paper in &papers {
            let acked = |k: char| {
                answered
                    .iter()
                    .filter(|id| {
                        pressed
                            .get(*id)
                            .is_some_and(|(p, kind)| p == paper && *kind == k)
                    })
                    .count() as u32
            };
            let made = |k: char| {
                pressed
                    .values()
                    .filter(|(p, kind)| p == paper && *kind == k)
                    .count() as u32
            };
            let t = tallies.get(paper).cloned().unwrap_or_default();
            assert!(
                (acked('u')..=made('u')).contains(&t.up),
                "{paper}: {} 👍 stored, {} answered, {} made",
                t.up,
                acked('u'),
                made('u')
            );
            assert!(
                (acked('s')..=made('s')).contains(&t.saved),
                "{paper}: {} ⭐ stored, {} answered, {} made",
                t.saved,
                acked('s'),
                made('s')
            );
        }
    };
    check(&Store::open(&data).unwrap());
    // The next start retrains the chat (its mark survived), with the taps it stored.
    let child = paperbell(&data, &log, &fake.url).spawn().unwrap();
    fake.wait_calls("setMyCommands", 4).await;
    let t0 = Instant::now();
    loop {
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        if log_text.contains("taste models retrained at start-up")
            || t0.elapsed() > Duration::from_secs(10)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut child = child;
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}\n{output}");
    assert!(
        output.contains("taste models retrained at start-up"),
        "the ratings left unlearnt by the crash were learnt at start-up:\n{output}"
    );
    let store = Store::open(&data).unwrap();
    assert!(
        store.taste(&chat).unwrap().is_some_and(|t| t.is_trained()),
        "the chat's model was learnt"
    );
    // Whatever the restarted bot was handed again counted once: still within the bounds.
    check(&store);
}

/// `paperbell` on `data` with the shipped config, for a one-shot command.
fn command(data: &std::path::Path) -> std::process::Command {
    let mut c = common::paperbell();
    c.arg("--config")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/paperbell.toml"))
        .arg("--data")
        .arg(data);
    c
}

/// A backup asked of `paperbell run` (through its socket) while it fans a digest day out to
/// 300 chats and a group's members rate papers; then the machine is lost (SIGKILL) and the
/// backup restored and run in a new directory. Every chat gets every digest; none that had
/// reached Telegram before the backup was asked for arrives again; every rating answered
/// before it is in the restored store, with the group's model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_mid_fan_out_restores_with_no_digest_twice_and_no_rating_lost() {
    const MEMBERS: i64 = 60;
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fan_out_day(&data, &fake);
    let group = -100_777;
    fake.register_chat(tg::group_chat(group, true));
    let log = dir.path().join("run.log");
    let mut child = paperbell(&data, &log, &fake.url)
        // Slower than the crash test: the fan-out is still going when the backup is taken.
        .env("PAPERBELL_DELIVERY_TELEGRAM_PER_SEC", "60")
        .spawn()
        .unwrap();
    fake.wait_calls("setMyCommands", 2).await;
    let (list, papers) = recent_list(&fake, group).await;
    let mut pressed = HashMap::new();
    for m in 0..MEMBERS {
        let paper = papers[m as usize % papers.len()].clone();
        let id = fake
            .press(group, 3000 + m, list.message_id, &format!("v:u:{paper}"))
            .await;
        pressed.insert(id, paper);
    }
    let t0 = Instant::now();
    while fake.sent().len() < 150 || fake.calls("answerCallbackQuery").len() < MEMBERS as usize / 2
    {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the fan-out did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // What had reached Telegram and been answered, given a moment to be recorded.
    let delivered_before = per_chat(&fake);
    let answered_before: Vec<String> = fake
        .calls("answerCallbackQuery")
        .iter()
        .filter_map(|c| c["callback_query_id"].as_str().map(String::from))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let file = dir.path().join("mid-fan-out.pbbackup");
    let mut asked = command(&data);
    asked.arg("backup").arg("--out").arg(&file);
    let out = tokio::task::block_in_place(|| asked.output().unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent_at_backup = fake.sent().len();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        sent_at_backup < CHATS as usize * 2,
        "the backup was taken mid-fan-out ({sent_at_backup} sent)"
    );
    let restored = dir.path().join("restored");
    let out = command(&restored)
        .arg("restore")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chat = format!("telegram:{group}");
    {
        let store = Store::open(&restored).unwrap();
        let tallies: HashMap<String, paperbell::model::rating::Tally> =
            store.chat_ratings(&chat).unwrap().into_iter().collect();
        for paper in &papers {
            let acked = answered_before
                .iter()
                .filter(|id| pressed.get(*id) == Some(paper))
                .count() as u32;
            let up = tallies.get(paper).map_or(0, |t| t.up);
            assert!(
                up >= acked,
                "{paper}: {up} 👍 restored, {acked} answered before the backup"
            );
        }
    }
    let log2 = dir.path().join("restored.log");
    let mut child = paperbell(&restored, &log2, &fake.url).spawn().unwrap();
    let expected = CHATS as usize * 2;
    let t0 = Instant::now();
    while unique(&fake) < expected && t0.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let it settle: anything sent twice would show now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
    let logs = std::fs::read_to_string(&log2).unwrap();
    assert!(status.success(), "{logs}");
    let counts = per_chat(&fake);
    let mut missing = Vec::new();
    for i in 0..CHATS {
        for title in ["NeRF", "cs.CL"] {
            if !counts.contains_key(&(5000 + i, title)) {
                missing.push((5000 + i, title));
            }
        }
    }
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    let twice: Vec<_> = delivered_before.keys().filter(|k| counts[*k] > 1).collect();
    assert!(
        twice.is_empty(),
        "delivered before the backup, and again after: {twice:?}"
    );
    let after_backup: usize = counts.values().map(|n| n - 1).sum();
    println!(
        "backup mid-fan-out: {} digests delivered before it was asked, {} by the lost bot after the snapshot and again by the restored one",
        delivered_before.len(),
        after_backup
    );
    // The group's model: in the backup, or learnt by the restored bot from the ratings (their
    // retrain mark came with them).
    let store = Store::open(&restored).unwrap();
    assert!(
        store.taste(&chat).unwrap().is_some_and(|t| t.is_trained()),
        "the restored store has the group's model:\n{logs}"
    );
}

/// `paperbell backup` killed with SIGKILL while it writes: nothing at the path it was asked
/// to write, and what it left under its temporary name is cleared by the next backup there.
#[test]
fn killed_mid_backup_leaves_nothing_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = Store::open(&data).unwrap();
        let d = |n| NaiveDate::from_ymd_opt(2024, 11, n).unwrap();
        for day in 0..6 {
            common::ingest_day(
                &store,
                d(11 + day),
                day as usize * 4000..day as usize * 4000 + 4000,
            );
        }
        store.flush().unwrap();
    }
    let backups = dir.path().join("backups");
    let target = backups.join("paperbell-20261206T000000Z.pbbackup");
    let mut killed_mid_way = 0;
    for attempt in 0..5 {
        let mut child = command(&data)
            .arg("backup")
            .arg("--out")
            .arg(&target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Killed as soon as it writes under its temporary name, a little later each attempt.
        let t0 = Instant::now();
        let partial = loop {
            let found = std::fs::read_dir(&backups).ok().and_then(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .find(|n| n.contains(".partial-"))
            });
            if found.is_some() || child.try_wait().unwrap().is_some() {
                break found;
            }
            assert!(t0.elapsed() < Duration::from_secs(30));
            std::thread::sleep(Duration::from_micros(200));
        };
        std::thread::sleep(Duration::from_millis(attempt * 20));
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();
        if finished || partial.is_none() {
            let _ = std::fs::remove_file(&target);
            continue;
        }
        killed_mid_way += 1;
        assert!(!target.exists(), "a killed backup left a file at its path");
    }
    assert!(
        killed_mid_way > 0,
        "no kill landed while the backup was written"
    );
    // The next backup into the directory clears what the killed ones left.
    let out = command(&data).arg("backup").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.iter()
            .all(|n| !n.contains(".partial-") && !n.contains("snapshot")),
        "{left:?}"
    );
    println!("backup killed mid-way {killed_mid_way} time(s) of 5");
}

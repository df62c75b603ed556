//! The sled store through its typed API: upsert by version, every index, subscriptions, and
//! consistency after the real binary is killed with SIGKILL in the middle of ingesting.

mod common;

use chrono::NaiveDate;
use paperbell::config::Config;
use paperbell::model::chat::Subscription;
use paperbell::model::paper::PaperId;
use paperbell::sources::parse;
use paperbell::store::Store;
use paperbell::topics::TopicSet;
use paperbell_chat::{ChatRef, Platform};

/// `nerf` matches only paper numbers divisible by 7 (their title says "Sparse Voxels").
fn topics() -> TopicSet {
    let text = r#"
[[topics]]
id = "nerf"
categories = ["cs.CV"]
keywords_any = ["sparse voxels"]
[[topics]]
id = "llm"
categories = ["cs.CL"]
keywords_any = ["LLM"]
"#;
    Config::from_parts("test", text, &Default::default(), |_| unreachable!())
        .unwrap()
        .topic_set()
        .unwrap()
}

#[test]
fn the_shipped_topics_index_a_realistic_feed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let shipped = common::shipped_topics();
    let s = store
        .ingest(
            &parse(common::rss_doc(50).as_bytes()).unwrap().papers,
            &shipped,
        )
        .unwrap();
    assert_eq!(s.new, 50);
    for t in [
        "nerf",
        "llm",
        "generative",
        "perception",
        "transformer",
        "multimodal",
        "pose",
    ] {
        assert!(
            s.topic_hits.get(t).copied().unwrap_or(0) > 0,
            "{t}: {:?}",
            s.topic_hits
        );
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn rss(items: &[(usize, &str, u32, &str)]) -> Vec<paperbell::model::paper::Paper> {
    // (paper number, announce type, version, pubDate)
    let docs: Vec<String> = items
        .iter()
        .map(|(i, kind, v, date)| common::rss_item(*i, kind, date).replace("v1", &format!("v{v}")))
        .collect();
    parse(common::rss_feed("cs.CV", "x", &docs).as_bytes())
        .unwrap()
        .papers
}

const TUE: &str = "Tue, 19 Nov 2024 00:00:00 -0500";
const WED: &str = "Wed, 20 Nov 2024 00:00:00 -0500";
const MON: &str = "Mon, 25 Nov 2024 00:00:00 -0500";

#[test]
fn newer_versions_replace_older_and_keep_the_first_announced_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = topics();
    // Paper 0 is "Real-Time NeRF Rendering ...": a NeRF topic hit.
    let s = store.ingest(&rss(&[(0, "new", 1, TUE)]), &t).unwrap();
    assert_eq!((s.new, s.updated), (1, 0));
    assert_eq!(s.topic_hits.get("nerf"), Some(&1));
    let id = PaperId::parse(&common::id_of(0)).unwrap();

    let s = store.ingest(&rss(&[(0, "replace", 3, MON)]), &t).unwrap();
    assert_eq!((s.new, s.updated), (0, 1));
    assert!(
        s.topic_hits.is_empty(),
        "a replacement does not re-enter topics"
    );
    let sp = store.paper(&id).unwrap().unwrap();
    assert_eq!(sp.paper.version, 3);
    assert_eq!(sp.first_announced, Some(day(2024, 11, 19)));
    assert_eq!(
        sp.paper.pdf_url.as_deref(),
        Some(format!("https://arxiv.org/pdf/{id}v3").as_str())
    );

    // An older version arriving late (a stale feed) changes nothing.
    let s = store.ingest(&rss(&[(0, "new", 1, TUE)]), &t).unwrap();
    assert_eq!((s.new, s.updated, s.unchanged), (0, 0, 1));
    assert_eq!(store.paper(&id).unwrap().unwrap().paper.version, 3);
    assert_eq!(
        store.recent_by_topic("nerf", 10).unwrap().len(),
        1,
        "indexed once"
    );
    assert!(store.check_consistency().unwrap().is_empty());
}

#[test]
fn the_paper_count_is_counted_once_then_kept_by_every_write_that_adds_papers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = topics();
    store
        .ingest(&rss(&[(0, "new", 1, TUE), (1, "new", 1, TUE)]), &t)
        .unwrap();
    assert_eq!(store.paper_count(), 2);
    // New, replaced, repeated within a page and stale papers: only the new ones count.
    let page = rss(&[
        (2, "new", 1, WED),
        (2, "new", 1, WED),
        (0, "replace", 2, WED),
        (1, "new", 1, TUE),
    ]);
    store.ingest(&page, &t).unwrap();
    assert_eq!(store.paper_count(), 3);
    // Hugging Face's own papers that the store lacked count too; one it has does not.
    let mut hf = rss(&[(7, "new", 1, MON), (2, "new", 1, WED)]);
    hf[0].id = PaperId::parse("2411.99999").unwrap();
    store
        .index_external("hf-daily", day(2024, 11, 25), &hf)
        .unwrap();
    assert_eq!(store.paper_count(), 4);
    store.flush().unwrap();
    drop(store);
    // Counted afresh from the records after a restart.
    assert_eq!(Store::open(dir.path()).unwrap().paper_count(), 4);
}

#[test]
fn the_same_version_from_the_api_fills_in_what_the_feed_lacked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = topics();
    store.ingest(&rss(&[(3, "new", 1, TUE)]), &t).unwrap();
    let api = parse(common::api_feed("x", 1, 0, &[common::api_entry(3)]).as_bytes())
        .unwrap()
        .papers;
    store.ingest(&api, &t).unwrap();
    let sp = store.paper(&api[0].id).unwrap().unwrap();
    assert_eq!(sp.paper.comment.as_deref(), Some("12 pages, 5 figures"));
    assert_eq!(
        sp.first_announced,
        Some(day(2024, 11, 19)),
        "the feed's day stays"
    );
}

#[test]
fn indexes_by_topic_category_and_day_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = topics();
    // Papers 0 and 7 are NeRF titles (7 % 7 == 0); 0 on Tuesday, 7 on Wednesday.
    store
        .ingest(
            &rss(&[(0, "new", 1, TUE), (1, "new", 1, TUE), (3, "new", 1, TUE)]),
            &t,
        )
        .unwrap();
    store
        .ingest(&rss(&[(7, "new", 1, WED), (8, "new", 1, WED)]), &t)
        .unwrap();

    let nerf: Vec<String> = store
        .recent_by_topic("nerf", 10)
        .unwrap()
        .iter()
        .map(|p| p.paper.id.to_string())
        .collect();
    assert_eq!(nerf, [common::id_of(7), common::id_of(0)]);
    assert_eq!(store.recent_by_topic("nerf", 1).unwrap().len(), 1);
    assert_eq!(store.topic_day("nerf", day(2024, 11, 19)).unwrap().len(), 1);
    assert_eq!(
        store.topic_since("nerf", day(2024, 11, 20)).unwrap().len(),
        1
    );
    assert_eq!(store.latest_day().unwrap(), Some(day(2024, 11, 20)));
    // Category index: cs.CL holds paper 1 and paper 8.
    let cl: Vec<String> = store
        .recent_by_category("cs.CL", 10)
        .unwrap()
        .iter()
        .map(|p| p.paper.id.to_string())
        .collect();
    assert_eq!(cl, [common::id_of(8), common::id_of(1)]);
    assert_eq!(
        store
            .papers_between(day(2024, 11, 19), day(2024, 11, 19))
            .unwrap()
            .len(),
        3
    );
    // A query topic scans by day and matches as it goes.
    let q = t.resolve("\"chain of thought\" -survey").unwrap();
    let hits: Vec<String> = store
        .recent(&q, false, 10, 1000)
        .unwrap()
        .iter()
        .map(|p| p.paper.id.to_string())
        .collect();
    assert_eq!(
        hits,
        [common::id_of(8), common::id_of(1)],
        "the LLM-themed papers, newest first"
    );
    // The scan looks at no more than `scan_limit` papers, newest first (8, 7, 3, ...).
    let limited = store.recent(&q, false, 10, 2).unwrap();
    assert_eq!(limited.len(), 1, "only paper 8 lies within the 2 newest");
    assert!(store.check_consistency().unwrap().is_empty());
}

#[test]
fn a_topic_added_later_picks_up_papers_seen_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let none = TopicSet::default();
    store.ingest(&rss(&[(0, "new", 1, TUE)]), &none).unwrap();
    assert!(store.recent_by_topic("nerf", 5).unwrap().is_empty());
    let s = store
        .ingest(&rss(&[(0, "new", 1, TUE)]), &topics())
        .unwrap();
    assert_eq!(s.topic_hits.get("nerf"), Some(&1));
    // And `reindex` reaches papers that are not seen again.
    store.ingest(&rss(&[(7, "new", 1, WED)]), &none).unwrap();
    let s = store.reindex(&topics()).unwrap();
    assert_eq!(
        s.topic_hits.get("nerf"),
        Some(&1),
        "only paper 7 was missing"
    );
    assert_eq!(s.unchanged, 2);
    assert_eq!(store.recent_by_topic("nerf", 5).unwrap().len(), 2);
    assert_eq!(store.topic_day("nerf", day(2024, 11, 19)).unwrap().len(), 1);
    assert!(store.check_consistency().unwrap().is_empty());
}

#[test]
fn a_cross_list_on_a_later_day_does_not_enter_a_topic_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = topics();
    store.ingest(&rss(&[(0, "new", 1, TUE)]), &t).unwrap();
    let s = store.ingest(&rss(&[(0, "cross", 1, WED)]), &t).unwrap();
    assert_eq!(s.topic_hits.get("nerf"), None);
    assert_eq!(store.topic_day("nerf", day(2024, 11, 20)).unwrap().len(), 0);
}

#[test]
fn subscriptions_are_idempotent_and_reverse_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let chat = ChatRef {
        platform: Platform::Telegram,
        id: "-100123".into(),
    };
    let sub = Subscription {
        topic_id: "nerf".into(),
        topic_name: "NeRF".into(),
        query: None,
        since: Some(day(2024, 11, 19)),
    };
    assert!(store.subscribe(&chat, &sub).unwrap());
    assert!(
        !store.subscribe(&chat, &sub).unwrap(),
        "second subscribe reports it already was"
    );
    assert_eq!(
        store.subscriptions(&chat).unwrap(),
        std::slice::from_ref(&sub)
    );
    assert_eq!(
        store.subscribers("nerf").unwrap(),
        std::slice::from_ref(&chat)
    );
    assert!(store.chat(&chat).unwrap().unwrap().active);
    assert!(store.unsubscribe(&chat, "nerf").unwrap());
    assert!(!store.unsubscribe(&chat, "nerf").unwrap());
    assert!(store.subscribers("nerf").unwrap().is_empty());
}

#[test]
fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .ingest(&rss(&[(0, "new", 1, TUE)]), &topics())
            .unwrap();
        store.flush().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.recent_by_topic("nerf", 5).unwrap().len(), 1);
}

/// Kills `paperbell fetch --from-file` with SIGKILL at several points while it ingests, then
/// checks that the store opens, is consistent, and holds each file's page whole or not at all.
#[cfg(unix)]
#[test]
fn killing_the_process_mid_ingest_leaves_a_consistent_store() {
    use std::process::{Command, Stdio};

    let files_dir = tempfile::tempdir().unwrap();
    const FILES: usize = 6;
    const PER_FILE: usize = 3000;
    let mut files = Vec::new();
    for f in 0..FILES {
        let date = "Tue, 19 Nov 2024 00:00:00 -0500";
        let items: Vec<String> = (f * PER_FILE..(f + 1) * PER_FILE)
            .map(|i| common::rss_item(i, "new", date))
            .collect();
        let path = files_dir.path().join(format!("page{f}.xml"));
        std::fs::write(&path, common::rss_feed("cs.CV", date, &items)).unwrap();
        files.push(path);
    }
    let config = format!("{}/config/paperbell.toml", env!("CARGO_MANIFEST_DIR"));
    let fetch = |data: &std::path::Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_paperbell"));
        cmd.env("PAPERBELL_HUGGINGFACE_ENABLED", "false")
            .arg("--config")
            .arg(&config)
            .arg("fetch")
            .arg("--data")
            .arg(data);
        for f in &files {
            cmd.arg("--from-file").arg(f);
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd
    };
    let started = std::time::Instant::now();
    let data = tempfile::tempdir().unwrap();
    assert!(fetch(data.path()).status().unwrap().success());
    let full_run = started.elapsed();
    eprintln!(
        "full ingest of {} papers took {full_run:?}",
        FILES * PER_FILE
    );
    assert_eq!(
        Store::open(data.path()).unwrap().paper_count(),
        FILES * PER_FILE
    );

    // Kill at fractions of a full run, so that some kills land between pages and some inside.
    let mut partial_rounds = 0;
    for (round, fraction) in [0.15f64, 0.35, 0.55, 0.75, 0.9].into_iter().enumerate() {
        let data = tempfile::tempdir().unwrap();
        let mut child = fetch(data.path()).spawn().unwrap();
        std::thread::sleep(full_run.mul_f64(fraction));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let store = Store::open(data.path())
            .unwrap_or_else(|e| panic!("round {round}: store does not open: {e}"));
        let problems = store.check_consistency().unwrap();
        assert!(problems.is_empty(), "round {round}: {problems:?}");
        let count = store.paper_count();
        assert_eq!(
            count % PER_FILE,
            0,
            "round {round}: {count} papers is not a whole number of pages"
        );
        if count > 0 && count < FILES * PER_FILE {
            partial_rounds += 1;
        }
        if round == 4 {
            // Finishing the job afterwards completes the store.
            drop(store);
            assert!(fetch(data.path()).status().unwrap().success());
            let store = Store::open(data.path()).unwrap();
            assert_eq!(store.paper_count(), FILES * PER_FILE);
            assert!(store.check_consistency().unwrap().is_empty());
        }
    }
    assert!(
        partial_rounds > 0,
        "no kill landed mid-ingest (full run took {full_run:?}); the test proved nothing"
    );
}

/// A rating is durable when `rate` returns (before the tap is answered); a crash before the
/// chat's model is retrained leaves the retrain mark, and the next start retrains it. Ratings
/// of papers the store no longer has are kept and left out of learning.
#[test]
fn a_rating_survives_a_crash_before_its_retrain_and_the_next_start_learns_it() {
    use paperbell::model::rating::RatingChange;
    let dir = tempfile::tempdir().unwrap();
    let chat = "telegram:42";
    {
        let store = Store::open(dir.path()).unwrap();
        let papers: Vec<(usize, &str, u32, &str)> = (0..40).map(|i| (i, "new", 1, TUE)).collect();
        store.ingest(&rss(&papers), &topics()).unwrap();
        store.flush().unwrap();
        for i in [0, 7, 14] {
            let id = common::id_of(i);
            store
                .rate(chat, &id, "7", RatingChange::Up, 10, true)
                .unwrap();
        }
        store
            .rate(chat, &common::id_of(1), "8", RatingChange::Down, 11, true)
            .unwrap();
        // A paper the store does not have.
        store
            .rate(chat, "2401.99999", "7", RatingChange::Save, 12, true)
            .unwrap();
        // The process dies here: no retrain, no flush beyond what `rate` did.
        std::mem::forget(store);
    }
    // sled's lock belongs to the dead handle's file descriptor: copy the files as a crash
    // leaves them and reopen the copy.
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(dir.path().join("."))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let store = Store::open(copy.path()).unwrap();
    let ratings = store.chat_ratings(chat).unwrap();
    assert_eq!(ratings.len(), 5, "every acknowledged rating is there");
    assert_eq!(
        store.taste(chat).unwrap(),
        None,
        "not retrained before the crash"
    );
    assert_eq!(store.taste_dirty().unwrap().len(), 1, "the mark says so");
    // What the service's learner does at start-up.
    assert_eq!(paperbell::learn::retrain_marked_chats(&store).unwrap(), 1);
    let taste = store.taste(chat).unwrap().expect("learnt at start-up");
    assert!(taste.is_trained());
    assert_eq!(
        (taste.positives, taste.negatives),
        (3, 1),
        "the stored paper's ratings"
    );
    assert!(store.taste_dirty().unwrap().is_empty());
    assert!(store.taste_bytes(chat).unwrap().unwrap() <= paperbell::taste::MAX_BYTES);
    // /forget leaves nothing behind.
    let gone = store.forget(chat).unwrap();
    assert_eq!(gone.ratings, 5);
    assert!(store.chat_ratings(chat).unwrap().is_empty());
    assert_eq!(store.taste(chat).unwrap(), None);
}

/// Every record of a store, in key order, read as one instant's state.
fn records(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut all = Vec::new();
    store
        .snapshot(|k, v| -> Result<(), paperbell::store::StoreError> {
            all.push((k.to_vec(), v.to_vec()));
            Ok(())
        })
        .unwrap();
    all
}

/// A store with a record of every kind: papers and their lists, chats, subscriptions, planned
/// digests (delivery states, ledger, outbox), ratings, a taste model, Hugging Face facts, LLM
/// summaries and an overview, embeddings, a figure, a day's keywords.
fn store_of_every_kind(dir: &std::path::Path) -> std::sync::Arc<Store> {
    use paperbell::model::enrichment::{Figure, FigureLookup, HfInfo, LlmSummary};
    use paperbell::model::rating::RatingChange;
    let store = std::sync::Arc::new(Store::open(dir).unwrap());
    let d = |n| NaiveDate::from_ymd_opt(2024, 11, n).unwrap();
    common::ingest_day(&store, d(18), 0..70);
    let topics = common::shipped_topics();
    for id in ["11", "12", "13"] {
        let chat = ChatRef {
            platform: Platform::Telegram,
            id: id.into(),
        };
        let mut rec = paperbell::model::chat::ChatRecord::new(&chat);
        rec.settings.set("time", "00:00").unwrap();
        store.put_chat(&rec).unwrap();
        for t in ["nerf", "cs.CL"] {
            let t = topics.resolve(t).unwrap();
            let sub = Subscription {
                topic_id: t.id.clone(),
                topic_name: t.name.clone(),
                query: None,
                since: store.latest_day().unwrap(),
            };
            store.subscribe(&chat, &sub).unwrap();
        }
    }
    common::ingest_day(&store, d(19), 700..770);
    let planner = paperbell::delivery::Planner::new(
        store.clone(),
        std::sync::Arc::new(topics),
        paperbell::config::ScheduleConfig::default(),
        vec![Platform::Telegram],
    );
    let at = chrono::DateTime::parse_from_rfc3339("2024-11-20T09:00:00Z")
        .unwrap()
        .to_utc();
    assert!(planner.plan_due(at).unwrap().planned_chats > 0);
    let papers: Vec<String> = store
        .recent_by_category("cs.CV", 12)
        .unwrap()
        .into_iter()
        .map(|sp| sp.paper.id.to_string())
        .collect();
    for (i, p) in papers.iter().enumerate() {
        let change = if i % 3 == 0 {
            RatingChange::Down
        } else {
            RatingChange::Up
        };
        store
            .rate(
                "telegram:11",
                p,
                "7",
                change,
                1_732_000_000 + i as i64,
                false,
            )
            .unwrap();
    }
    paperbell::learn::retrain(&store, "telegram:11").unwrap();
    let hf = HfInfo {
        found: true,
        upvotes: Some(12),
        ..HfInfo::default()
    };
    store.put_hf(&papers[0], &hf).unwrap();
    let summary = LlmSummary {
        model: "m".into(),
        tldr: "A short summary.".into(),
        ..LlmSummary::default()
    };
    store.put_summary(&papers[0], 1, "en", &summary).unwrap();
    store
        .put_overview("nerf", d(19), "en", "m", "An overview.")
        .unwrap();
    store.add_llm_tokens(d(19), 1234).unwrap();
    store.set_embedding_model("e").unwrap();
    store
        .put_embeddings("e", &[(papers[1].as_str(), &[0.25f32, -0.5, 1.0][..])])
        .unwrap();
    let figure = Figure {
        url: "https://arxiv.org/html/x/fig1.png".into(),
        caption: "A figure.".into(),
        width: Some(640),
        height: Some(480),
    };
    store
        .put_figure(&papers[2], 1, &FigureLookup::Found(figure))
        .unwrap();
    store
        .put_day_keywords("nerf", d(19), 10, &["voxels".to_string()])
        .unwrap();
    store.flush().unwrap();
    store
}

/// A backup restored into a new directory holds every record the original held, byte for
/// byte, and answers `for-you` (the same scores), `search` and `recent` as the original does.
#[test]
fn a_restored_backup_holds_every_record_and_answers_as_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_of_every_kind(&dir.path().join("data"));
    let file = dir.path().join("b.pbbackup");
    let now = chrono::Utc::now();
    let taken = paperbell::backup::take(&store, &file, now).unwrap();
    // How `tests/fixtures/backup-v1.pbbackup` was made (its README): this store's backup.
    if let Ok(to) = std::env::var("PAPERBELL_WRITE_BACKUP_FIXTURE") {
        std::fs::copy(&file, to).unwrap();
    }
    let families = &taken.trailer.families;
    for f in [
        "papers",
        "topic lists",
        "category lists",
        "day lists",
        "chats",
        "subscriptions",
        "subscribers",
        "meta",
        "delivery states",
        "ledger",
        "outbox batches",
        "hugging face facts",
        "llm summaries",
        "llm overviews",
        "change log",
        "ratings",
        "taste models",
        "embeddings",
        "figures",
        "day keywords",
    ] {
        assert!(
            families.get(f).is_some_and(|n| *n > 0),
            "no {f} in {families:?}"
        );
    }
    assert!(taken.report().contains(&file.display().to_string()));
    let restored_dir = dir.path().join("restored");
    let restored = paperbell::backup::restore(&file, &restored_dir, 8).unwrap();
    assert_eq!(restored.indexed, store.paper_count() as u64);
    let copy = Store::open(&restored_dir).unwrap();
    // The rebuilt index took the restored change log (as the service's does): so does the
    // original's, before the two are compared.
    let index = common::search_index(&store, &dir.path().join("data"));
    let (a, b) = (records(&store), records(&copy));
    let keys = |r: &[(Vec<u8>, Vec<u8>)]| {
        r.iter()
            .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (ka, kb) = (keys(&a), keys(&b));
    assert_eq!(
        ka.difference(&kb).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert_eq!(
        kb.difference(&ka).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "record {:?} differs", String::from_utf8_lossy(&x.0));
    }
    // Ids go on above the original's: a restored outbox keeps its order.
    let next = |s: &Store| {
        s.snapshot(|_, _| -> Result<(), paperbell::store::StoreError> { Ok(()) })
            .unwrap()
            .next_id
    };
    assert!(next(&copy) >= next(&store));
    // The same answers.
    let day = NaiveDate::from_ymd_opt(2024, 11, 19).unwrap();
    let cats = [paperbell::model::paper::Category("cs.CV".into())];
    let for_you = |s: &Store| {
        let taste = s.taste("telegram:11").unwrap();
        assert!(taste.is_some());
        paperbell::compose::for_you::for_you(s, taste.as_ref(), day, &cats, 20)
            .unwrap()
            .into_iter()
            .map(|f| (f.paper.paper.id.to_string(), f.score))
            .collect::<Vec<_>>()
    };
    assert_eq!(for_you(&store), for_you(&copy));
    assert!(for_you(&copy).iter().all(|(_, s)| s.is_some()));
    let search = |s: &Store, i: &paperbell::search::SearchIndex| {
        let q = paperbell::search::parse("neural OR language").unwrap();
        // Every match: the order of equal scores is decided within a page.
        let hits = i
            .search(&q, paperbell::search::Sort::Relevance, 0, 1000)
            .unwrap();
        paperbell::search::stored(s, hits)
            .unwrap()
            .into_iter()
            .map(|(sp, h)| (sp.paper.id.to_string(), h.score))
            .collect::<Vec<_>>()
    };
    let copy_index = paperbell::search::SearchIndex::open(
        &paperbell::search::SearchIndex::dir_for(&restored_dir),
    )
    .unwrap();
    let found = search(&store, &index);
    assert!(!found.is_empty());
    assert_eq!(found, search(&copy, &copy_index));
    let recent = |s: &Store| {
        s.recent_by_topic("nerf", 30)
            .unwrap()
            .into_iter()
            .map(|sp| sp.paper.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(recent(&store), recent(&copy));
    assert_eq!(
        store.outbox(Platform::Telegram).unwrap().len(),
        copy.outbox(Platform::Telegram).unwrap().len()
    );
}

/// The backup this format's first version wrote (`tests/fixtures/backup-v1.pbbackup`, of
/// `store_of_every_kind`) restores in every later version, with every kind of record read.
#[test]
fn the_first_backup_format_still_restores() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/backup-v1.pbbackup");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let restored = paperbell::backup::restore(&fixture, &data, 8).unwrap();
    assert_eq!(restored.header.paperbell, "0.1.0");
    let store = Store::open(&data).unwrap();
    assert_eq!(store.paper_count(), 140);
    assert_eq!(restored.indexed, 140);
    let chat = ChatRef {
        platform: Platform::Telegram,
        id: "11".into(),
    };
    assert_eq!(common::topic_ids(&store, &chat).len(), 2);
    assert!(!store.outbox(Platform::Telegram).unwrap().is_empty());
    let rated = store.chat_ratings("telegram:11").unwrap();
    assert_eq!(rated.len(), 12);
    assert_eq!(rated.iter().map(|(_, t)| t.down).sum::<u32>(), 4);
    assert!(
        store
            .taste("telegram:11")
            .unwrap()
            .is_some_and(|t| t.is_trained())
    );
    let paper = &store.recent_by_category("cs.CV", 12).unwrap()[0]
        .paper
        .id
        .to_string();
    assert_eq!(store.hf(paper).unwrap().unwrap().upvotes, Some(12));
    assert_eq!(
        store
            .summary(paper, 1, "en", Some("m"))
            .unwrap()
            .unwrap()
            .tldr,
        "A short summary."
    );
    let day = NaiveDate::from_ymd_opt(2024, 11, 19).unwrap();
    assert_eq!(
        store.day_keywords("nerf", day).unwrap().unwrap().1,
        ["voxels"]
    );
    let papers = store.recent_by_category("cs.CV", 12).unwrap();
    let embedded = store
        .embeddings()
        .unwrap()
        .unwrap()
        .get(&papers[1].paper.id.to_string());
    let embedded = embedded.unwrap().unwrap();
    assert!((embedded[1] + 0.5).abs() < 0.01, "{embedded:?}");
    // It answers: search through the rebuilt index, planning goes on from its ledger.
    let index =
        paperbell::search::SearchIndex::open(&paperbell::search::SearchIndex::dir_for(&data))
            .unwrap();
    let q = paperbell::search::parse("cat:cs.CV").unwrap();
    assert!(
        !index
            .search(&q, paperbell::search::Sort::Newest, 0, 5)
            .unwrap()
            .is_empty()
    );
}

/// The paper count is a record the batches that add papers keep (a scan would leave every
/// paper's node in sled's memory); a store older than the record is counted once and then
/// keeps it too.
#[test]
fn the_paper_count_is_kept_by_the_writes_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let n = {
        let store = common::stored_papers(dir.path());
        let n = store.paper_count();
        assert!(n > 20);
        assert_eq!(store.meta("paper_count").unwrap(), Some(n.to_string()));
        // An older store, without a readable record.
        store.set_meta("paper_count", "unknown").unwrap();
        store.flush().unwrap();
        n
    };
    // sled lets go of its lock a moment after the last handle is dropped.
    let store = (0..100)
        .find_map(|_| {
            Store::open(dir.path()).ok().or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            })
        })
        .unwrap();
    assert_eq!(store.paper_count(), n);
    assert_eq!(store.meta("paper_count").unwrap(), Some(n.to_string()));
    common::ingest_day(
        &store,
        NaiveDate::from_ymd_opt(2024, 12, 2).unwrap(),
        5000..5010,
    );
    assert_eq!(store.paper_count(), n + 10);
    assert_eq!(
        store.meta("paper_count").unwrap(),
        Some((n + 10).to_string())
    );
}

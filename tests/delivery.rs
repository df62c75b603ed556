//! Scheduling and durable delivery on simulated time: the real planner, sender and sled store,
//! with a fault-injecting `ChatPlatform` that records what arrived and when (wall time of the
//! simulated clock). Days, time zones, DST, downtime, 429/403/migrate/5xx, rate limits.

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paperbell::clock::Clock;
use paperbell::config::{DeliveryConfig, ScheduleConfig};
use paperbell::delivery::{self, PlanJob, Planner, Sender};
use paperbell::model::chat::{ChatRecord, Subscription};
use paperbell::store::Store;
use paperbell_chat::{ChatPlatform, ChatRef, DigestMessage, Platform, SendError, Sent};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
#[allow(dead_code)]
struct Arrived {
    chat: String,
    title: String,
    day: String,
    part: usize,
    parts: usize,
    ids: Vec<String>,
    topics: Vec<Vec<String>>,
    overview: Option<String>,
    at: DateTime<Utc>,
}

/// A platform that records every part it accepts and fails on request.
struct FakePlatform {
    clock: Clock,
    arrived: Mutex<Vec<Arrived>>,
    faults: Mutex<HashMap<String, VecDeque<SendError>>>,
    /// Chats that fail every send like this.
    always: Mutex<HashMap<String, SendError>>,
    attempts: Mutex<Vec<(String, DateTime<Utc>)>>,
}

type Part = Arrived;

impl FakePlatform {
    fn new(clock: Clock) -> Arc<FakePlatform> {
        Arc::new(FakePlatform {
            clock,
            arrived: Mutex::default(),
            faults: Mutex::default(),
            always: Mutex::default(),
            attempts: Mutex::default(),
        })
    }

    fn fail_next(&self, chat: &str, e: SendError) {
        self.faults
            .lock()
            .unwrap()
            .entry(chat.into())
            .or_default()
            .push_back(e);
    }

    fn arrived(&self) -> Vec<Arrived> {
        self.arrived.lock().unwrap().clone()
    }

    fn to(&self, chat: &str) -> Vec<Arrived> {
        self.arrived()
            .into_iter()
            .filter(|a| a.chat == chat)
            .collect()
    }
}

impl ChatPlatform for FakePlatform {
    type Part = Part;

    fn platform(&self) -> Platform {
        Platform::Telegram
    }

    /// Three papers per part, so long digests take several.
    fn render(&self, m: &DigestMessage) -> Vec<Part> {
        let chunks: Vec<_> = m.papers.chunks(3).collect();
        let n = chunks.len().max(1);
        (0..n)
            .map(|i| Arrived {
                chat: String::new(),
                title: m.title.clone(),
                day: m.day.clone(),
                part: i,
                parts: n,
                ids: chunks
                    .get(i)
                    .map(|c| c.iter().map(|p| p.id.clone()).collect())
                    .unwrap_or_default(),
                topics: chunks
                    .get(i)
                    .map(|c| c.iter().map(|p| p.topics.clone()).collect())
                    .unwrap_or_default(),
                overview: m.overview.clone(),
                at: Utc::now(),
            })
            .collect()
    }

    async fn send_part(&self, chat: &ChatRef, part: &Part) -> Result<Sent, SendError> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let key = chat.to_string();
        self.attempts
            .lock()
            .unwrap()
            .push((key.clone(), self.clock.now()));
        if let Some(e) = self.always.lock().unwrap().get(&key) {
            return Err(e.clone());
        }
        if let Some(e) = self
            .faults
            .lock()
            .unwrap()
            .get_mut(&key)
            .and_then(VecDeque::pop_front)
        {
            return Err(e);
        }
        let mut a = part.clone();
        a.chat = key;
        a.at = self.clock.now();
        self.arrived.lock().unwrap().push(a);
        Ok(Sent::default())
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

fn tg(id: &str) -> ChatRef {
    ChatRef {
        platform: Platform::Telegram,
        id: id.into(),
    }
}

fn cfg() -> DeliveryConfig {
    DeliveryConfig {
        tick_secs: 60.0,
        ..DeliveryConfig::default()
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    clock: Clock,
    platform: Arc<FakePlatform>,
    fetched: Arc<Notify>,
}

impl World {
    fn new(start: DateTime<Utc>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let clock = Clock::simulated(start);
        World {
            _dir: dir,
            store,
            platform: FakePlatform::new(clock.clone()),
            clock,
            fetched: Arc::new(Notify::new()),
        }
    }

    /// Subscribes a chat as `/subscribe` does (digests start after the latest stored day).
    fn subscribe(&self, chat: &str, topic: &str, time: &str, tz: &str) {
        let c = tg(chat);
        self.set(chat, &[("time", time), ("tz", tz)]);
        let t = common::shipped_topics().resolve(topic).unwrap();
        self.store
            .subscribe(
                &c,
                &Subscription {
                    topic_id: t.id.clone(),
                    topic_name: t.name.clone(),
                    query: None,
                    since: self.store.latest_day().unwrap(),
                },
            )
            .unwrap();
    }

    /// Subscribes a chat to `for-you` as `/subscribe for-you` does, with `/settings` given as
    /// (key, value) pairs.
    fn subscribe_for_you(&self, chat: &str, settings: &[(&str, &str)]) {
        let c = tg(chat);
        self.set(chat, settings);
        let sub = Subscription {
            topic_id: "for-you".into(),
            topic_name: "for-you".into(),
            query: None,
            since: self.store.latest_day().unwrap(),
        };
        self.store.subscribe(&c, &sub).unwrap();
    }

    /// Changes a chat's settings as `/settings key value` does, creating its record if new.
    fn set(&self, chat: &str, settings: &[(&str, &str)]) {
        let c = tg(chat);
        let mut rec = self
            .store
            .chat(&c)
            .unwrap()
            .unwrap_or_else(|| ChatRecord::new(&c));
        for (k, v) in settings {
            rec.settings.set(k, v).unwrap();
        }
        self.store.put_chat(&rec).unwrap();
    }

    /// Starts planning and sending; returns the token that stops them.
    fn start(
        &self,
        config: DeliveryConfig,
    ) -> (CancellationToken, Vec<tokio::task::JoinHandle<()>>) {
        let stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sender = Sender {
            platform: self.platform.clone(),
            store: self.store.clone(),
            settings: delivery::sender_settings(&config, Platform::Telegram),
            clock: self.clock.clone(),
            incoming: rx,
        };
        let job = PlanJob {
            planner: Arc::new(Planner::new(
                self.store.clone(),
                Arc::new(common::shipped_topics()),
                ScheduleConfig::default(),
                vec![Platform::Telegram],
            )),
            clock: self.clock.clone(),
            tick: Duration::from_secs_f64(config.tick_secs),
            ledger_days: config.ledger_days,
            fetched: self.fetched.clone(),
            senders: vec![(Platform::Telegram, tx)],
        };
        let (s1, s2) = (stop.clone(), stop.clone());
        let handles = vec![
            tokio::spawn(async move { sender.run(s1).await.unwrap() }),
            tokio::spawn(async move { job.run(s2).await.unwrap() }),
        ];
        (stop, handles)
    }

    async fn stop(&self, (stop, handles): (CancellationToken, Vec<tokio::task::JoinHandle<()>>)) {
        stop.cancel();
        for h in handles {
            h.await.unwrap();
        }
    }

    /// Runs simulated time forward to `t`.
    async fn until(&self, t: DateTime<Utc>) {
        let wait = (t - self.clock.now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
    }

    /// A new announcement day arrives (as a fetch would store it).
    fn announce(&self, d: NaiveDate, ids: std::ops::Range<usize>) {
        common::ingest_day(&self.store, d, ids);
        self.fetched.notify_one();
    }
}

fn utc(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, m, d, h, min, 0).unwrap()
}

/// Whole digests (all parts) per chat: (day label, paper ids).
fn digests(arrived: &[Arrived]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in arrived {
        if a.part == 0 {
            out.push((a.day.clone(), Vec::new()));
        }
        out.last_mut().unwrap().1.extend(a.ids.clone());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn each_chat_gets_each_day_once_at_its_own_local_time() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..70);
    w.subscribe("1", "cs.CV", "08:00", "Asia/Shanghai");
    w.subscribe("2", "cs.CV", "07:30", "America/New_York");
    w.subscribe("3", "nerf", "02:30", "Europe/Berlin");
    let run = w.start(cfg());
    // Subscribing does not flood: nothing is sent for the day already stored.
    w.until(utc(11, 19, 12, 0)).await;
    assert!(
        w.platform.arrived().is_empty(),
        "{:?}",
        w.platform.arrived()
    );
    // The next announcements (fetched 01:30 UTC on the 20th and 21st).
    w.until(utc(11, 20, 1, 30)).await;
    w.announce(day(11, 19), 100..170);
    w.until(utc(11, 21, 1, 30)).await;
    w.announce(day(11, 20), 200..270);
    w.until(utc(11, 22, 0, 0)).await;
    w.stop(run).await;

    // New York 07:30 = 12:30 UTC; Berlin 02:30 = 01:30 UTC, as the announcement is fetched.
    // Shanghai 08:00 = 00:00 UTC comes 90 minutes before the fetch: within the grace, so the
    // day's digest goes out when it arrives rather than a day later.
    for (chat, first, second) in [
        ("telegram:1", utc(11, 20, 1, 30), utc(11, 21, 1, 30)),
        ("telegram:2", utc(11, 20, 12, 30), utc(11, 21, 12, 30)),
        ("telegram:3", utc(11, 20, 1, 30), utc(11, 21, 1, 30)),
    ] {
        let got = w.platform.to(chat);
        let d = digests(&got);
        let starts: Vec<DateTime<Utc>> = got.iter().filter(|a| a.part == 0).map(|a| a.at).collect();
        assert!(
            (starts[0] - first).num_seconds().abs() < 61,
            "{chat}: first digest at {} instead of {first}",
            starts[0]
        );
        assert_eq!(d[0].0, "2024-11-19", "{chat}: {d:?}");
        assert_eq!(d.len(), 2, "{chat}: {d:?}");
        assert!(
            (starts[1] - second).num_seconds().abs() < 61,
            "{chat} {}",
            starts[1]
        );
        assert_eq!(d[1].0, "2024-11-20");
        // Every paper once.
        let mut ids: Vec<&String> = d.iter().flat_map(|(_, i)| i).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "{chat}: a paper came twice");
    }
    // cs.CV: 5 of every 7 papers, at most `max` (10) shown; NeRF: 1 in 7.
    let d = digests(&w.platform.to("telegram:1"));
    assert_eq!(d[0].1.len(), 10);
    let d = digests(&w.platform.to("telegram:3"));
    assert_eq!(d[0].1.len(), 10, "{d:?}");
}

#[tokio::test(start_paused = true)]
async fn after_downtime_a_chat_catches_up_once() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..10);
    w.subscribe("1", "cs.CV", "09:00", "UTC");
    let run = w.start(cfg());
    w.announce(day(11, 19), 10..20);
    w.until(utc(11, 19, 10, 0)).await;
    w.stop(run).await;
    assert_eq!(digests(&w.platform.arrived()).len(), 1);
    // Down from the 19th to the 23rd at 15:00 while three days were announced.
    w.announce(day(11, 20), 20..30);
    w.announce(day(11, 21), 30..40);
    w.announce(day(11, 22), 40..50);
    w.until(utc(11, 23, 15, 0)).await;
    let run = w.start(cfg());
    w.until(utc(11, 24, 8, 0)).await;
    w.stop(run).await;
    let d = digests(&w.platform.arrived());
    assert_eq!(d.len(), 2, "one catch-up digest, not one per day: {d:?}");
    assert_eq!(d[1].0, "2024-11-20 – 2024-11-22");
    let late: Vec<_> = w.platform.arrived().into_iter().skip(1).collect();
    assert!(
        late[0].at < utc(11, 23, 15, 2),
        "caught up at start, at {}",
        late[0].at
    );
}

#[tokio::test(start_paused = true)]
async fn dst_changes_neither_skip_nor_double_a_day() {
    // New York falls back on 3 November 2024: 01:30 happens twice.
    let w = World::new(utc(10, 31, 12, 0));
    w.announce(day(10, 31), 0..7);
    w.subscribe("1", "cs.CV", "01:30", "America/New_York");
    let run = w.start(cfg());
    for (i, d) in (1..=6).enumerate() {
        // Each day's announcement arrives at 00:00 New York time (04:00/05:00 UTC).
        w.until(utc(11, d, 3, 0)).await;
        w.announce(day(11, d), 100 * (i + 1)..100 * (i + 1) + 7);
    }
    w.until(utc(11, 7, 12, 0)).await;
    w.stop(run).await;
    let got = w.platform.arrived();
    let local: Vec<NaiveDate> = got
        .iter()
        .filter(|a| a.part == 0)
        .map(|a| {
            a.at.with_timezone(&chrono_tz::America::New_York)
                .date_naive()
        })
        .collect();
    assert_eq!(
        local,
        (1..=6).map(|d| day(11, d)).collect::<Vec<_>>(),
        "one digest per local day: {got:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_paper_in_two_topics_is_sent_once_naming_both() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..7);
    w.subscribe("1", "nerf", "09:00", "UTC");
    w.subscribe("1", "cs.CV", "09:00", "UTC");
    let run = w.start(cfg());
    w.announce(day(11, 19), 700..714);
    w.until(utc(11, 19, 10, 0)).await;
    // The same papers again (a feed still serving yesterday's batch): nothing new.
    w.announce(day(11, 19), 700..714);
    w.until(utc(11, 20, 10, 0)).await;
    w.stop(run).await;
    let got = w.platform.arrived();
    let all: Vec<&String> = got.iter().flat_map(|a| &a.ids).collect();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), unique.len(), "{got:?}");
    // 700 and 707 are NeRF papers in cs.CV: shown once, under the first topic, naming both.
    let shown: Vec<(&String, &Vec<String>)> = got
        .iter()
        .flat_map(|a| a.ids.iter().zip(&a.topics))
        .collect();
    for id in ["2401.00700", "2401.00707"] {
        let named: Vec<_> = shown.iter().filter(|(i, _)| *i == id).collect();
        assert_eq!(named.len(), 1, "{id}: {got:?}");
        let mut names = named[0].1.clone();
        names.sort();
        assert_eq!(names, ["NeRF", "cs.CV"], "{id}");
    }
    assert_eq!(shown.len(), 10, "the 10 cs.CV papers of 14: {got:?}");
    assert_eq!(
        digests(&got).len(),
        1,
        "one message: NeRF had nothing of its own"
    );
    // Planned digests carry the overview line of what they show.
    let o = got[0].overview.as_deref().unwrap_or("");
    assert!(
        o.starts_with("10 papers · ") && o.contains(" with code"),
        "{o}"
    );
}

#[tokio::test(start_paused = true)]
async fn faults_are_handled_per_chat_and_limits_hold() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..7);
    for c in ["1", "2", "3", "-4", "5", "6", "7"] {
        w.subscribe(c, "cs.CV", "09:00", "UTC");
    }
    // 1: 429 for 30 s; 2: blocked; 3: transient twice; -4: a group that became a supergroup;
    // 5: fails for good (transient): dropped at the maximum age; 6, 7: fine.
    w.platform
        .fail_next("telegram:1", SendError::RetryAfter(Duration::from_secs(30)));
    w.platform.always.lock().unwrap().insert(
        "telegram:2".into(),
        SendError::Permanent("bot was blocked by the user".into()),
    );
    for _ in 0..2 {
        w.platform
            .fail_next("telegram:3", SendError::Transient("502 Bad Gateway".into()));
    }
    w.platform
        .fail_next("telegram:-4", SendError::Migrated("-1004".into()));
    w.platform.always.lock().unwrap().insert(
        "telegram:5".into(),
        SendError::Transient("connection reset".into()),
    );
    let config = DeliveryConfig {
        max_age_hours: 1.0,
        retry_base_secs: 10.0,
        retry_max_secs: 900.0,
        ..cfg()
    };
    let run = w.start(config);
    w.until(utc(11, 19, 1, 30)).await;
    w.announce(day(11, 19), 100..120);
    w.until(utc(11, 19, 11, 0)).await;
    w.stop(run).await;

    // 14 cs.CV papers of 20: 10 shown, in 4 parts of at most 3.
    let whole = |chat: &str| {
        let d = digests(&w.platform.to(chat));
        assert_eq!(d.len(), 1, "{chat}: {d:?}");
        assert_eq!(d[0].1.len(), 10, "{chat}: {d:?}");
    };
    for c in [
        "telegram:1",
        "telegram:3",
        "telegram:6",
        "telegram:7",
        "telegram:-1004",
    ] {
        whole(c);
    }
    assert!(w.platform.to("telegram:-4").is_empty());
    let first_1 = w.platform.to("telegram:1")[0].at;
    assert!(
        first_1 >= utc(11, 19, 9, 0) + chrono::Duration::seconds(30),
        "{first_1}"
    );
    // The blocked chat: one attempt, marked inactive, nothing queued for it.
    let attempts = w.platform.attempts.lock().unwrap().clone();
    assert_eq!(
        attempts.iter().filter(|(c, _)| c == "telegram:2").count(),
        1
    );
    assert!(!w.store.chat(&tg("2")).unwrap().unwrap().active);
    // The migrated group: subscriptions moved with it.
    assert!(w.store.subscriptions(&tg("-4")).unwrap().is_empty());
    assert_eq!(w.store.subscriptions(&tg("-1004")).unwrap().len(), 1);
    // Backoff: the transient chat's retries came after growing waits.
    let t3: Vec<DateTime<Utc>> = attempts
        .iter()
        .filter(|(c, _)| c == "telegram:3")
        .map(|(_, t)| *t)
        .collect();
    assert!(t3[1] - t3[0] >= chrono::Duration::seconds(5), "{t3:?}");
    assert!(t3[2] - t3[1] >= chrono::Duration::seconds(10), "{t3:?}");
    // The chat that never works: retried with growing waits, then dropped within the hour.
    let t5: Vec<DateTime<Utc>> = attempts
        .iter()
        .filter(|(c, _)| c == "telegram:5")
        .map(|(_, t)| *t)
        .collect();
    assert!((6..=14).contains(&t5.len()), "{t5:?}");
    assert!(*t5.last().unwrap() <= utc(11, 19, 10, 0), "{t5:?}");
    // Per chat: at least a second between messages.
    for c in ["telegram:1", "telegram:6", "telegram:-1004"] {
        let at: Vec<DateTime<Utc>> = w.platform.to(c).iter().map(|a| a.at).collect();
        for p in at.windows(2) {
            assert!(
                p[1] - p[0] >= chrono::Duration::milliseconds(990),
                "{c}: {at:?}"
            );
        }
    }
    let c = w.store.counters(Platform::Telegram).unwrap();
    assert_eq!(c.planned, 7);
    assert_eq!(c.sent, 5);
    assert_eq!(c.deactivated, 1);
    assert_eq!(
        c.dropped, 2,
        "the blocked chat's and the failing chat's: {c:?}"
    );
    assert!(c.retried >= 5, "{c:?}");
    assert_eq!(w.store.outbox_len(Platform::Telegram), 0);
    let status = delivery::status(&w.store).unwrap();
    assert!(status.contains("sent:          5"), "{status}");
}

#[tokio::test(start_paused = true)]
async fn a_large_fan_out_is_spread_within_the_overall_limit() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..7);
    for c in 0..300 {
        w.subscribe(&c.to_string(), "nerf", "09:00", "UTC");
    }
    let run = w.start(DeliveryConfig {
        telegram_per_sec: 25.0,
        ..cfg()
    });
    w.announce(day(11, 19), 700..707);
    w.until(utc(11, 19, 9, 1)).await;
    w.stop(run).await;
    let mut at: Vec<DateTime<Utc>> = w.platform.arrived().iter().map(|a| a.at).collect();
    assert_eq!(at.len(), 300, "one single-part digest per chat");
    at.sort();
    for (i, t) in at.iter().enumerate() {
        let in_second = at[i..]
            .iter()
            .take_while(|u| **u < *t + chrono::Duration::seconds(1))
            .count();
        assert!(
            in_second <= 28,
            "{in_second} messages in the second from {t}"
        );
    }
    let took = (at[299] - at[0]).num_milliseconds();
    assert!(
        (11_000..=12_500).contains(&took),
        "300 at 25/s took {took} ms"
    );
}

/// Between delivery times a planning tick finds nothing and reads no chat, yet it never misses
/// a chat's next delivery time, a new announcement, or a change a chat makes meanwhile.
#[tokio::test(start_paused = true)]
async fn planning_rests_until_a_chat_can_be_due_or_something_changes() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..70);
    w.subscribe("1", "cs.CV", "08:00", "UTC");
    w.subscribe("2", "cs.CV", "09:00", "UTC");
    let planner = Planner::new(
        w.store.clone(),
        Arc::new(common::shipped_topics()),
        ScheduleConfig::default(),
        vec![Platform::Telegram],
    );
    let planned = |at| planner.plan_due(at).unwrap().planned_chats;
    let examined = |at| planner.plan_due(at).unwrap().examined;
    assert_eq!(planned(utc(11, 18, 12, 0)), 0, "nothing new yet");
    assert_eq!(
        examined(utc(11, 18, 12, 1)),
        0,
        "nothing changed, no chat due: at rest"
    );
    w.announce(day(11, 19), 100..170);
    assert_eq!(
        examined(utc(11, 19, 1, 30)),
        2,
        "a new announcement is looked at"
    );
    assert_eq!(examined(utc(11, 19, 7, 0)), 0);
    assert_eq!(planned(utc(11, 19, 7, 59)), 0);
    assert_eq!(planned(utc(11, 19, 8, 0)), 1, "due at its time");
    assert_eq!(planned(utc(11, 19, 8, 1)), 0, "once a day");
    // A chat that moves its time earlier meanwhile is planned at the new time.
    let c = tg("2");
    let mut rec = w.store.chat(&c).unwrap().unwrap();
    rec.settings.set("time", "08:30").unwrap();
    w.store.put_chat(&rec).unwrap();
    assert_eq!(
        examined(utc(11, 19, 8, 10)),
        2,
        "a chat's change is looked at"
    );
    assert_eq!(planned(utc(11, 19, 8, 29)), 0);
    assert_eq!(planned(utc(11, 19, 8, 30)), 1, "at its new time");
    assert_eq!(planned(utc(11, 19, 9, 0)), 0, "not again at the old one");
    // The next day, with nothing changed since the announcement was seen.
    w.announce(day(11, 20), 200..270);
    assert_eq!(planned(utc(11, 20, 1, 30)), 0);
    assert_eq!(planned(utc(11, 20, 7, 59)), 0);
    assert_eq!(planned(utc(11, 20, 8, 0)), 1);
    assert_eq!(planned(utc(11, 20, 8, 30)), 1);
    let outbox = w.store.outbox(Platform::Telegram).unwrap();
    assert_eq!(outbox.len(), 4, "{outbox:?}");
}

/// A run large enough to plan on two threads and to be committed in parts plans exactly what
/// one thread and one batch plan: the same messages for every chat, each once, and the same
/// states and counters.
#[test]
fn a_large_run_on_two_threads_plans_what_one_thread_plans() {
    let choices = common::arxiv_choices(&["cs.CV"]);
    // Enough chats for two threads (2,048) and for a commit in three parts (8,192 each).
    let chats = 3 * 8192 + 17;
    let run = |split: usize| {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        common::ingest_day(&store, day(11, 18), 0..40);
        let since = store.latest_day().unwrap();
        for i in 0..chats {
            let chat = tg(&(5000 + i).to_string());
            let mut rec = ChatRecord::new(&chat);
            // Two local days: 23:00 UTC has not come yet on the 20th.
            rec.settings
                .set("time", if i % 97 == 0 { "23:00" } else { "08:00" })
                .unwrap();
            rec.settings.lang = (i % 5 == 0).then_some(paperbell_chat::Lang::Zh);
            rec.settings.max = (i % 7 == 0).then_some(2);
            rec.settings.format =
                (i % 11 == 0).then_some(paperbell::model::chat::DigestFormat::Combined);
            rec.active = i % 101 != 0;
            store.put_chat(&rec).unwrap();
            for k in 0..(1 + i % 3) {
                let (id, name) = &choices[(i + k * 2) % choices.len()];
                let sub = Subscription {
                    topic_id: id.clone(),
                    topic_name: name.clone(),
                    query: None,
                    since,
                };
                store.subscribe(&chat, &sub).unwrap();
            }
            if i % 101 == 0 {
                store.set_active(&chat, false).unwrap();
            }
        }
        common::ingest_day(&store, day(11, 19), 100..400);
        // The first 600 chats rated papers (they sit together, as the oldest chats would):
        // their lists go in their own order, and the two threads split the run by work.
        for i in (100..400).step_by(7) {
            let change = paperbell::model::rating::RatingChange::Up;
            store
                .rate("reader", &common::id_of(i), "r", change, 1, false)
                .unwrap();
        }
        let (taste, _) = paperbell::compose::taste::learn(&store, "reader")
            .unwrap()
            .unwrap();
        for i in 0..600 {
            store
                .put_taste(&tg(&(5000 + i).to_string()).to_string(), &taste, None)
                .unwrap();
        }
        let planner = Planner::new(
            store.clone(),
            Arc::new(common::shipped_topics()),
            ScheduleConfig::default(),
            vec![Platform::Telegram],
        )
        .with_split(split);
        let r = planner.plan_due(utc(11, 20, 9, 0)).unwrap();
        assert!(r.failed.is_none());
        let mut outbox: Vec<_> = store
            .outbox(Platform::Telegram)
            .unwrap()
            .into_iter()
            .map(|(_, item)| (item.chat, item.local_day, item.message))
            .collect();
        outbox.sort_by(|a, b| a.0.cmp(&b.0));
        let states = store.delivery_states().unwrap();
        let planned = store.counters(Platform::Telegram).unwrap().planned;
        (r.planned_chats, r.items.len(), outbox, states, planned)
    };
    let one = run(usize::MAX);
    let two = run(2048);
    // Every active chat: the 23:00 ones for yesterday's local day (their first digest).
    let inactive = chats.div_ceil(101);
    assert_eq!(one.0, chats - inactive, "every active chat planned");
    assert!(one.2.iter().any(|(_, d, _)| *d == day(11, 19)));
    assert_eq!(two.0, one.0);
    assert_eq!(two.1, one.1);
    assert_eq!(two.1, two.2.len());
    assert_eq!(two.4, two.1 as u64, "planned counter");
    // Each chat's messages, in order: the same on both sides.
    assert!(two.2 == one.2, "the two runs planned different messages");
    assert_eq!(two.3, one.3, "delivery states");
    assert!(
        one.2
            .iter()
            .any(|(_, _, m)| m.lang == "zh" && m.overview.is_some()),
        "the chats differ in their settings"
    );
}

/// Generated paper `i`'s id and categories (`testkit::arxiv::day_feed`: cs.CV/cs.GR, cs.CL/cs.LG,
/// cs.CV/cs.LG, cs.CV, math.ST/stat.TH, cs.CV/cs.RO, cs.LG/cs.CV by `i % 7`).
fn id(i: usize) -> String {
    paperbell_testkit::arxiv::id_of(i)
}

#[tokio::test(start_paused = true)]
async fn for_you_brings_the_best_of_the_chats_categories_after_its_topics() {
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..7);
    // 1: NeRF and for-you (its scope: NeRF's categories, cs.CV cs.GR cs.LG); 2: for-you in
    // math.ST only;
    // 3: for-you alone, no categories: every paper of the day.
    w.subscribe("1", "nerf", "09:00", "UTC");
    w.subscribe_for_you("1", &[]);
    w.subscribe_for_you("2", &[("cats", "math.ST"), ("time", "09:00")]);
    w.subscribe_for_you("3", &[("time", "09:00"), ("max", "50")]);
    let run = w.start(cfg());
    w.announce(day(11, 19), 700..728);
    w.until(utc(11, 19, 10, 0)).await;
    w.stop(run).await;

    let titles = |chat: &str| -> Vec<String> {
        let mut t: Vec<String> = w
            .platform
            .to(chat)
            .iter()
            .filter(|a| a.part == 0)
            .map(|a| a.title.clone())
            .collect();
        t.dedup();
        t
    };
    let ids = |chat: &str, title: &str| -> Vec<String> {
        w.platform
            .to(chat)
            .into_iter()
            .filter(|a| a.title == title)
            .flat_map(|a| a.ids)
            .collect()
    };
    // Chat 2: the four math.ST papers of the 28, nothing else.
    assert_eq!(titles("telegram:2"), ["for-you"]);
    let mut got = ids("telegram:2", "for-you");
    got.sort();
    assert_eq!(got, [704, 711, 718, 725].map(id));
    // Chat 3: all 28, once each.
    let mut got = ids("telegram:3", "for-you");
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 28);
    // Chat 1: NeRF's digest first; for-you adds papers of NeRF's categories that NeRF did not
    // bring, at most `max`.
    assert_eq!(titles("telegram:1"), ["NeRF", "for-you"]);
    let nerf = ids("telegram:1", "NeRF");
    let mine = ids("telegram:1", "for-you");
    assert_eq!(mine.len(), 10, "{mine:?}");
    assert!(mine.iter().all(|i| !nerf.contains(i)), "{nerf:?} {mine:?}");
    // NeRF's categories are cs.CV, cs.GR and cs.LG: the math.ST/stat.TH papers are out.
    let stat = [704, 711, 718, 725].map(id);
    assert!(
        mine.iter().all(|i| !stat.contains(i)),
        "only papers in NeRF's categories: {mine:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_weekly_chat_gets_one_digest_a_week_with_the_weeks_best() {
    // Monday 18 November 2024.
    let w = World::new(utc(11, 18, 12, 0));
    w.announce(day(11, 18), 0..7);
    w.subscribe("1", "cs.CV", "09:00", "UTC");
    w.set("1", &[("every", "mon")]);
    w.subscribe("2", "cs.CV", "09:00", "UTC");
    let run = w.start(cfg());
    // The week's best: Monday's cs.CV papers have code and upvotes (Hugging Face's facts).
    let best: Vec<usize> = (500..514).filter(|i| i % 7 != 1 && i % 7 != 4).collect();
    for i in &best {
        let info = paperbell::model::enrichment::HfInfo {
            found: true,
            upvotes: Some(40),
            github_repo: Some(format!("https://github.com/lab/p{i}")),
            ..Default::default()
        };
        w.store.put_hf(&id(*i), &info).unwrap();
    }
    for (i, d) in [19, 20, 21, 22, 25].into_iter().enumerate() {
        w.until(utc(11, d, 1, 30)).await;
        w.announce(day(11, d), 100 * (i + 1)..100 * (i + 1) + 14);
    }
    w.until(utc(12, 2, 8, 0)).await;
    w.stop(run).await;

    let weekly = w.platform.to("telegram:1");
    let starts: Vec<DateTime<Utc>> = weekly
        .iter()
        .filter(|a| a.part == 0)
        .map(|a| a.at)
        .collect();
    assert_eq!(starts.len(), 1, "one digest in the week: {weekly:?}");
    assert!(
        (starts[0] - utc(11, 25, 9, 0)).num_seconds().abs() < 61,
        "on Monday at 09:00: {}",
        starts[0]
    );
    let d = digests(&weekly);
    assert_eq!(d[0].0, "2024-11-19 – 2024-11-25", "the week's days");
    assert_eq!(d[0].1.len(), 10, "the chat's max");
    // The week's best, not its first days'.
    let mut got = d[0].1.clone();
    got.sort();
    assert_eq!(got, best.iter().map(|i| id(*i)).collect::<Vec<_>>());
    // The daily chat beside it got a digest on each of the five days.
    assert_eq!(digests(&w.platform.to("telegram:2")).len(), 5);
}

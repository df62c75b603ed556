//! Planning: when a chat's local delivery time comes, what it has not received yet becomes
//! outbox items, written with its ledger entry and new delivery state in one atomic batch.
//!
//! Planning rests between delivery times: after a run it remembers the store's generation and
//! the earliest instant any chat could be due, and a tick before then with nothing changed
//! reads nothing. A run of 2,048 chats or more plans each half of its chats on a scoped thread
//! of its own; what chats share (topic lists, backgrounds, at-risk sets, plans per combination
//! of topics, windows and settings, overview lines) is worked out once per run by whichever
//! thread asks first (`Slots`), and each thread borrows it through its own map (`Memo`). Only
//! papers that could have reached a chat before are looked up in the ledger.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use paperbell_chat::{ChatRef, Platform};

use super::times::{delivery_instant, due_day, next_delivery};
use crate::compose::for_you::{self, is_for_you};
use crate::compose::{self, background, rank, topic_of};
use crate::config::ScheduleConfig;
use crate::digest::{PlannedTopic, Ranked, fresh, messages};
use crate::model::chat::{ChatDefaults, ChatRecord, ChatSettings, Effective, Subscription};
use crate::model::delivery::{ChatPlan, DeliveryState, PlannedMessage};
use crate::store::{NewItem, Store, StoreError, SubscriptionScan, write_chat_key};
use crate::summary::overview::Background;
use crate::taste::{Features, ListIndex, Taste};
use crate::topics::TopicSet;
use rustc_hash::FxHashMap;

/// However long a chat was away (inactive, or the service down), a digest looks back at most
/// this many announcement days: catching up is one digest, not a flood.
pub const CATCH_UP_DAYS: i64 = 14;
/// An announcement that arrives this long after a chat's delivery time still goes out that
/// local day (arXiv is sometimes late); after it, a day with nothing new is over for the chat.
pub const LATE_GRACE: chrono::Duration = chrono::Duration::hours(2);

/// Chats from which a run plans each half of its chats on a thread of its own (the default of
/// `Planner::with_split`); a smaller run stays on the caller's thread.
const SPLIT_CHATS: usize = 2048;

/// A value per key that a run works out once, by whichever of its threads asks first: the
/// other waits for it rather than doing the same work again.
struct Slots<V> {
    slots: Mutex<HashMap<Vec<u8>, Slot<V>>>,
}

/// Empty until worked out; locked while it is.
type Slot<V> = Arc<Mutex<Option<V>>>;

impl<V> Default for Slots<V> {
    fn default() -> Self {
        Slots {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

/// One thread's view of `Slots`: its own map first, so a lock is taken once per key and
/// thread, not once per chat. Values are handed out by index and borrowed: cloning an `Arc`
/// that the other thread clones too, for every chat, made the two cores fight over its count.
struct Memo<'s, V> {
    mine: FxHashMap<Vec<u8>, usize>,
    values: Vec<V>,
    shared: &'s Slots<V>,
}

impl<'s, V: Clone> Memo<'s, V> {
    fn new(shared: &'s Slots<V>) -> Self {
        Memo {
            mine: FxHashMap::default(),
            values: Vec::new(),
            shared,
        }
    }

    fn value(&self, i: usize) -> &V {
        &self.values[i]
    }

    /// The value under `key`, worked out with `init` if nobody has yet. `None` (only without
    /// `wait`) when another thread is working it out right now.
    fn get<E>(
        &mut self,
        key: &[u8],
        wait: bool,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<Option<usize>, E> {
        if let Some(i) = self.mine.get(key) {
            return Ok(Some(*i));
        }
        let slot = lock(&self.shared.slots)
            .entry(key.to_vec())
            .or_default()
            .clone();
        let mut slot = if wait {
            lock(&slot)
        } else {
            match slot.try_lock() {
                Ok(s) => s,
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Poisoned(e)) => e.into_inner(),
            }
        };
        let v = match &*slot {
            Some(v) => v.clone(),
            None => {
                // A failure leaves the slot empty: the next asker tries again.
                let v = init()?;
                *slot = Some(v.clone());
                v
            }
        };
        drop(slot);
        self.values.push(v);
        self.mine.insert(key.to_vec(), self.values.len() - 1);
        Ok(Some(self.values.len() - 1))
    }

    /// `get` that waits, of a value that cannot fail.
    fn wait_for(&mut self, key: &[u8], init: impl FnOnce() -> V) -> usize {
        match self.get(key, true, || Ok::<V, Infallible>(init())) {
            Ok(i) => i.expect("a waiting get gives a value"),
            Err(e) => match e {},
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What every chat planned in one run shares. Chats with the same topics, windows and settings
/// get the same digest unless the ledger says otherwise, so one run works each combination out
/// once: papers per topic, the papers that need a ledger check, and the planned messages.
#[derive(Default)]
struct Shared {
    /// A topic's ranked papers after an exclusive lower day, oldest day first.
    lists: Slots<Arc<Ranked>>,
    /// Each topic's background for overview keywords (the store's memo, looked up once per
    /// topic per run rather than once per chat).
    backgrounds: Slots<Arc<Background>>,
    /// By subscriptions and windows.
    risky: Slots<Arc<Vec<(String, NaiveDate)>>>,
    /// By subscriptions, windows and settings; one `Arc` per distinct message, so that the
    /// outbox and the ledger store each once.
    plans: Slots<Vec<Arc<PlannedMessage>>>,
    /// Overview lines by list (topic and window), language and the papers they speak of.
    overviews: Slots<String>,
    /// A list's papers as taste models weigh them (topic and window), for chats with a model.
    features: Slots<Arc<ListIndex>>,
    /// Every new paper per topic before a chat's `max`, by subscriptions and windows.
    fresh: Slots<Arc<Vec<PlannedTopic>>>,
}

/// One planning thread's side of `Shared`, with the buffers its keys are built in.
struct Cache<'s> {
    lists: Memo<'s, Arc<Ranked>>,
    backgrounds: Memo<'s, Arc<Background>>,
    risky: Memo<'s, Arc<Vec<(String, NaiveDate)>>>,
    plans: Memo<'s, Vec<Arc<PlannedMessage>>>,
    overviews: Memo<'s, String>,
    features: Memo<'s, Arc<ListIndex>>,
    fresh: Memo<'s, Arc<Vec<PlannedTopic>>>,
    key: Vec<u8>,
    overview_key: Vec<u8>,
}

impl<'s> Cache<'s> {
    fn new(shared: &'s Shared) -> Self {
        Cache {
            lists: Memo::new(&shared.lists),
            backgrounds: Memo::new(&shared.backgrounds),
            risky: Memo::new(&shared.risky),
            plans: Memo::new(&shared.plans),
            overviews: Memo::new(&shared.overviews),
            features: Memo::new(&shared.features),
            fresh: Memo::new(&shared.fresh),
            key: Vec::with_capacity(256),
            overview_key: Vec::with_capacity(64),
        }
    }
}

/// Appends `s` to a cache key, length first, so that no two sequences of parts make one key.
fn put_str(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

/// A `for-you` subscription's categories (its list differs by them), nothing for a topic's.
fn put_scope(key: &mut Vec<u8>, s: &Subscription) {
    if is_for_you(s) {
        put_str(key, s.query.as_deref().unwrap_or_default());
    }
}

fn put_day(key: &mut Vec<u8>, d: NaiveDate) {
    key.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
}

/// A chat's settings as they apply, and when its digest comes: the same for every chat with
/// the same settings (and last digest day), so worked out once per run for each.
struct Timing {
    eff: Effective,
    /// The next delivery time after the run's `now`.
    next: DateTime<Utc>,
    /// By the chat's last digest day: the local day due now, if any, and the end of its grace.
    due: HashMap<Option<NaiveDate>, Option<(NaiveDate, DateTime<Utc>)>>,
}

/// A chat whose digest is due in this run.
struct Due<'t> {
    chat: ChatRef,
    state: DeliveryState,
    /// The local day the digest is for.
    local_day: NaiveDate,
    /// Past the day's grace: with nothing new, the day is done for the chat.
    day_over: bool,
    /// The chat's taste model, when it rated papers: its lists go in its own order.
    taste: Option<&'t Taste>,
}

/// What a run read of every chat: delivery states and taste models, by chat key.
struct ChatState {
    states: HashMap<String, DeliveryState>,
    tastes: HashMap<String, Taste>,
}

/// What planning one share of the chats found.
struct Part {
    plans: Vec<ChatPlan>,
    planned_chats: usize,
    examined: usize,
    wake: DateTime<Utc>,
}

impl Part {
    /// Files a due chat's plan: its messages, and the newest announcement day it covers.
    fn add(&mut self, due: Due, covered: Option<NaiveDate>, messages: Vec<Arc<PlannedMessage>>) {
        let mut state = DeliveryState {
            last_day: if messages.is_empty() {
                due.state.last_day
            } else {
                Some(due.local_day)
            },
            covered,
        };
        if messages.is_empty() {
            if due.day_over {
                // Nothing new by the end of the grace: this day is done for the chat.
                state.last_day = Some(due.local_day);
            } else if state == due.state {
                return;
            }
        } else {
            self.planned_chats += 1;
        }
        self.plans.push(ChatPlan {
            chat: due.chat,
            state,
            local_day: due.local_day,
            messages,
        });
    }
}

pub struct Planner {
    store: Arc<Store>,
    topics: Arc<TopicSet>,
    defaults: ChatDefaults,
    /// Platforms that run: chats of the others wait (nothing is planned for them).
    platforms: Vec<Platform>,
    /// Chats from which a run plans on two threads.
    split_chats: usize,
    /// After a run: the store's generation then, and the first instant any chat could be due.
    /// Until either moves, a run would find nothing to do, so it is skipped: a tick does not
    /// read every chat of a 100k-chat store (and does not take CPU from a fan-out).
    idle: Mutex<Option<(u64, DateTime<Utc>)>>,
}

/// What one planning run did.
#[derive(Debug, Default)]
pub struct PlanRun {
    /// Chats that got a digest planned.
    pub planned_chats: usize,
    /// The new outbox items: platform, sequence number, chat.
    pub items: Vec<NewItem>,
    /// Chats looked at: none when the run found that nothing could be due.
    pub examined: usize,
    /// Why the run's commit stopped part-way, if it did: `items` were written and go out,
    /// the other chats are planned again by the next run.
    pub failed: Option<StoreError>,
}

impl Planner {
    pub fn new(
        store: Arc<Store>,
        topics: Arc<TopicSet>,
        schedule: ScheduleConfig,
        platforms: Vec<Platform>,
    ) -> Planner {
        Planner {
            store,
            topics,
            defaults: schedule.chat_defaults(),
            platforms,
            split_chats: SPLIT_CHATS,
            idle: Mutex::new(None),
        }
    }

    /// Plans runs of `chats` chats or more on two threads (default 2,048); `usize::MAX` keeps
    /// every run on one.
    pub fn with_split(mut self, chats: usize) -> Planner {
        self.split_chats = chats.max(2);
        self
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Plans every chat whose digest is due at `now`, and makes the result durable.
    pub fn plan_due(&self, now: DateTime<Utc>) -> Result<PlanRun, StoreError> {
        let generation = self.store.generation();
        let idle = *self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.is_some_and(|(g, wake)| g == generation && now < wake) {
            return Ok(PlanRun::default());
        }
        let mut wake = far_future(now);
        let run = self.plan_all(now, &mut wake)?;
        // `generation` was read before the run: a change made while it ran makes the next
        // tick run again. So does a failed commit.
        if run.failed.is_none() {
            *self.idle.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, wake));
        }
        Ok(run)
    }

    /// `plan_due` without the shortcut; lowers `wake` to the first instant a chat could be due.
    fn plan_all(
        &self,
        now: DateTime<Utc>,
        wake: &mut DateTime<Utc>,
    ) -> Result<PlanRun, StoreError> {
        let mut run = PlanRun::default();
        let Some(latest) = self.store.latest_day()? else {
            return Ok(run);
        };
        // The three reads are independent: the subscriptions are read beside the rest.
        let (subscriptions, (chats, states)) = crate::join(
            || self.store.subscription_scan(),
            || (self.store.chats(), self.store.delivery_states()),
        );
        let (mut first, states, mut subscriptions) = (chats?, states?, subscriptions?);
        // Chats that rated papers get their lists in their own order.
        let tastes: HashMap<String, Taste> = self
            .store
            .tastes()?
            .into_iter()
            .filter(|(_, t)| t.is_trained())
            .collect();
        let known = ChatState { states, tastes };
        let shared = Shared::default();
        let part = |chats, subscriptions| {
            self.plan_part(chats, subscriptions, &known, latest, now, &shared)
        };
        // The second half starts at a chat of a known platform, keyed as the loop keys it,
        // where half of the run's work is done (chats with a model weigh more).
        let split = (first.len() >= self.split_chats)
            .then(|| {
                let middle = work_middle(&first, &known.tastes);
                (middle..first.len()).find_map(|i| Some((i, record_key(&first[i])?)))
            })
            .flatten();
        let parts = match split {
            Some((i, key)) => {
                let second = first.split_off(i);
                let rest = subscriptions.split_off(&key);
                let (b, a) = crate::join(
                    || part(second, rest),
                    || part(std::mem::take(&mut first), subscriptions),
                );
                vec![a?, b?]
            }
            None => vec![part(first, subscriptions)?],
        };
        for p in &parts {
            run.examined += p.examined;
            run.planned_chats += p.planned_chats;
            *wake = (*wake).min(p.wake);
        }
        if parts.iter().all(|p| p.plans.is_empty()) {
            return Ok(run);
        }
        let plans = parts.iter().flat_map(|p| &p.plans);
        let (items, committed) = self.store.commit_plans(plans, now.timestamp());
        run.items = items;
        // Durable before any of it is sent: a send of an unflushed plan could be planned and
        // sent again after a crash.
        self.store.flush()?;
        run.failed = committed.err();
        // A large run's plans, chats and shared lists take tens of milliseconds to free: done
        // on a thread of their own, the new items go to the senders that much sooner.
        let garbage = (parts, known, shared);
        if run.examined >= self.split_chats {
            let _ = std::thread::Builder::new()
                .name("plan-free".into())
                .spawn(move || drop(garbage));
        }
        Ok(run)
    }

    /// Plans the due ones of `chats` (in key order, with their share of the subscriptions).
    fn plan_part(
        &self,
        chats: Vec<ChatRecord>,
        mut subscriptions: SubscriptionScan,
        known: &ChatState,
        latest: NaiveDate,
        now: DateTime<Utc>,
        shared: &Shared,
    ) -> Result<Part, StoreError> {
        let mut part = Part {
            plans: Vec::with_capacity(chats.len()),
            planned_chats: 0,
            examined: 0,
            wake: far_future(now),
        };
        let mut cache = Cache::new(shared);
        let mut timings: HashMap<ChatSettings, Timing> = HashMap::new();
        let mut deferred = Vec::new();
        let mut key = String::with_capacity(64);
        for rec in chats {
            part.examined += 1;
            let Some(platform) = Platform::parse(&rec.platform) else {
                continue;
            };
            if !rec.active || !self.platforms.contains(&platform) {
                continue;
            }
            let timing = timings.entry(rec.settings).or_insert_with(|| {
                let eff = rec.settings.effective(&self.defaults, None);
                Timing {
                    next: next_delivery(eff.every, eff.time, eff.tz, now).0,
                    eff,
                    due: HashMap::new(),
                }
            });
            let chat = ChatRef {
                platform,
                id: rec.id,
            };
            key.clear();
            write_chat_key(&chat, &mut key);
            let state = known.states.get(&key).copied().unwrap_or_default();
            // Its next delivery time: the earliest it could be due again. Waking early is
            // harmless (the run finds nothing); waking late would delay a digest.
            part.wake = part.wake.min(timing.next);
            let (every, time, tz) = (timing.eff.every, timing.eff.time, timing.eff.tz);
            let due = *timing.due.entry(state.last_day).or_insert_with(|| {
                due_day(every, time, tz, now, state.last_day)
                    .map(|d| (d, delivery_instant(time, tz, d) + LATE_GRACE))
            });
            let Some((local_day, grace_end)) = due else {
                continue;
            };
            let day_over = now >= grace_end;
            if !day_over {
                // Still waiting for the day's announcement: look again when the grace ends
                // (a new announcement wakes planning sooner, through the store's generation).
                part.wake = part.wake.min(grace_end);
            }
            let due = Due {
                chat,
                state,
                local_day,
                day_over,
                taste: known.tastes.get(&key),
            };
            if state.covered.is_some_and(|c| c >= latest) {
                part.add(due, state.covered, Vec::new());
                continue;
            }
            let mut subs = subscriptions.of(&key)?;
            let eff = &timing.eff;
            if let Some(scoped) = for_you::scoped(&self.topics, eff.cats, &subs) {
                subs = scoped.into();
            }
            match self.plan_chat(&due, &subs, eff, latest, &mut cache, false)? {
                Some(messages) => part.add(due, Some(latest), messages),
                // The other thread is working out what this chat needs: come back to it.
                None => deferred.push((due, subs, *eff)),
            }
        }
        for (due, subs, eff) in deferred {
            let messages = self
                .plan_chat(&due, &subs, &eff, latest, &mut cache, true)?
                .expect("a planning that waits gives messages");
            part.add(due, Some(latest), messages);
        }
        Ok(part)
    }

    /// A due chat's messages. With `wait` false, `None` when another thread is working out
    /// something the chat needs (the caller comes back later, with `wait`): until then this
    /// thread works out what nobody is working on yet, instead of waiting.
    fn plan_chat(
        &self,
        due: &Due,
        subs: &[Subscription],
        eff: &Effective,
        latest: NaiveDate,
        cache: &mut Cache,
        wait: bool,
    ) -> Result<Option<Vec<Arc<PlannedMessage>>>, StoreError> {
        let floor = latest - chrono::Duration::days(CATCH_UP_DAYS);
        let mut lists = Vec::with_capacity(subs.len());
        let mut backgrounds = Vec::with_capacity(subs.len());
        let mut lowers = Vec::with_capacity(subs.len());
        for s in subs {
            let lower = [due.state.covered, s.since, Some(floor)]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(floor);
            let topic = || topic_of(&self.topics, s);
            cache.key.clear();
            put_str(&mut cache.key, &s.topic_id);
            backgrounds.push(cache.backgrounds.get(&cache.key, wait, || {
                background(&self.store, topic().as_ref())
            })?);
            put_scope(&mut cache.key, s);
            put_day(&mut cache.key, lower);
            lists.push(cache.lists.get(&cache.key, wait, || {
                let from = lower + chrono::Duration::days(1);
                let papers = compose::papers_between(&self.store, &self.topics, s, from, latest)?;
                let list = rank(&self.store, topic().as_ref(), papers)?;
                // Here rather than in the first overview line: this can be left to wait for.
                list.terms();
                Ok::<_, StoreError>(Arc::new(list))
            })?);
            lowers.push(lower);
        }
        let (Some(lists), Some(backgrounds)) = (
            lists.into_iter().collect::<Option<Vec<_>>>(),
            backgrounds.into_iter().collect::<Option<Vec<_>>>(),
        ) else {
            return Ok(None);
        };
        let lists: Vec<&Ranked> = lists.iter().map(|i| &**cache.lists.value(*i)).collect();
        // A chat with a model: each list in its order (the lists' features shared by the run).
        let scores = match due.taste {
            Some(taste) => match self.scores(
                taste,
                (subs, &lists, &lowers),
                (&mut cache.key, &mut cache.features),
                wait,
            )? {
                Some(scores) => Some(scores),
                None => return Ok(None),
            },
            None => None,
        };
        let backgrounds: Vec<&Background> = backgrounds
            .iter()
            .map(|i| &**cache.backgrounds.value(*i))
            .collect();
        cache.key.clear();
        for (s, lower) in subs.iter().zip(&lowers) {
            put_str(&mut cache.key, &s.topic_id);
            put_scope(&mut cache.key, s);
            put_str(&mut cache.key, &s.topic_name);
            put_day(&mut cache.key, *lower);
        }
        let risky = cache.risky.wait_for(&cache.key, || {
            Arc::new(
                at_risk(subs, &lists, &lowers)
                    .into_iter()
                    .map(|(id, d)| (id.to_string(), d))
                    .collect(),
            )
        });
        let risky = &**cache.risky.value(risky);
        let first = lowers
            .iter()
            .min()
            .map_or(latest, |d| *d + chrono::Duration::days(1));
        // Only when messages are built: most chats reuse a plan.
        let day = || {
            if first >= latest {
                latest.to_string()
            } else {
                format!("{first} – {latest}")
            }
        };
        let (overviews, overview_key) = (&mut cache.overviews, &mut cache.overview_key);
        let mut overview = |t: usize, about: &[usize]| -> String {
            overview_key.clear();
            put_str(overview_key, &subs[t].topic_id);
            put_scope(overview_key, &subs[t]);
            put_day(overview_key, lowers[t]);
            put_str(overview_key, eff.lang.code());
            for i in about {
                overview_key.extend_from_slice(&(*i as u32).to_le_bytes());
            }
            let i = overviews.wait_for(overview_key, || {
                lists[t].overview(about, backgrounds[t], eff.lang)
            });
            overviews.value(i).clone()
        };
        // The chat's messages from what its topics have new, in its order when it has a model.
        let mut build = |fresh: &[PlannedTopic], scores: Option<&[Vec<f32>]>| {
            messages(subs, &lists, fresh, scores, &mut overview, eff, &day())
                .into_iter()
                .map(Arc::new)
                .collect::<Vec<_>>()
        };
        let Some(oldest) = risky.iter().map(|(_, d)| *d).min() else {
            // What the topics have new is the same for every chat with these topics and
            // windows; only a chat with a model cuts it its own way.
            let shared_fresh = cache
                .fresh
                .wait_for(&cache.key, || Arc::new(fresh(subs, &lists, |_| false)));
            let shared_fresh = cache.fresh.value(shared_fresh).clone();
            if let Some(scores) = &scores {
                return Ok(Some(build(&shared_fresh, Some(scores))));
            }
            cache.key.extend_from_slice(&eff.max.to_le_bytes());
            put_str(&mut cache.key, eff.format.as_str());
            put_str(&mut cache.key, eff.lang.code());
            let built = cache.plans.get(&cache.key, wait, || {
                Ok::<_, Infallible>(build(&shared_fresh, None))
            });
            return Ok(match built {
                Ok(i) => i.map(|i| cache.plans.value(i).clone()),
                Err(e) => match e {},
            });
        };
        let ids: HashSet<&str> = risky.iter().map(|(id, _)| id.as_str()).collect();
        // Ledger days are the chat's local days, which may run a day ahead of or behind
        // announcement days.
        let delivered =
            self.store
                .ledger_contains(&due.chat, oldest - chrono::Duration::days(2), &ids)?;
        let own_fresh = fresh(subs, &lists, |id| delivered.contains(id));
        Ok(Some(build(&own_fresh, scores.as_deref())))
    }

    /// Each of `lists` scored by `taste` (its features made once per run and shared), or
    /// `None` when another thread is still making one and `wait` is false.
    fn scores(
        &self,
        taste: &Taste,
        (subs, lists, lowers): (&[Subscription], &[&Ranked], &[NaiveDate]),
        (key, features): (&mut Vec<u8>, &mut Memo<'_, Arc<ListIndex>>),
        wait: bool,
    ) -> Result<Option<Vec<Vec<f32>>>, StoreError> {
        let mut scores = Vec::with_capacity(lists.len());
        for (t, s) in subs.iter().enumerate() {
            key.clear();
            put_str(key, &s.topic_id);
            put_scope(key, s);
            put_day(key, lowers[t]);
            let store = &self.store;
            let list = lists[t];
            let Some(i) = features.get(key, wait, || {
                let features = compose::taste::featurizer(store)?.all(&list.papers)?;
                let refs: Vec<&Features> = features.iter().collect();
                Ok::<_, StoreError>(Arc::new(ListIndex::new(&refs)))
            })?
            else {
                return Ok(None);
            };
            scores.push(features.value(i).scores(taste));
        }
        Ok(Some(scores))
    }
}

/// The key the store and the planning loop know a chat record by; `None` for a platform this
/// build does not know (planning skips those).
fn record_key(rec: &ChatRecord) -> Option<String> {
    let chat = ChatRef {
        platform: Platform::parse(&rec.platform)?,
        id: rec.id.clone(),
    };
    let mut key = String::new();
    write_chat_key(&chat, &mut key);
    Some(key)
}

/// How much more planning a chat with a model costs than one without (it scores its lists and
/// builds messages of its own, where the others share theirs): 68 µs against 2.6 µs in the
/// planning bench.
const MODEL_WORK: usize = 24;

/// The index of `chats` where half of their planning work is done: chats with a model weigh
/// `MODEL_WORK`, others one, so that a run whose rating chats sit together (one platform, or
/// the oldest chats) still keeps both threads busy to the end.
fn work_middle(chats: &[ChatRecord], tastes: &HashMap<String, Taste>) -> usize {
    if tastes.is_empty() {
        return chats.len() / 2;
    }
    let weights: Vec<usize> = chats
        .iter()
        .map(|rec| match record_key(rec) {
            Some(k) if tastes.contains_key(&k) => MODEL_WORK,
            _ => 1,
        })
        .collect();
    let half = weights.iter().sum::<usize>() / 2;
    let mut done = 0;
    for (i, w) in weights.iter().enumerate() {
        done += w;
        if done >= half {
            return (i + 1).min(chats.len() - 1);
        }
    }
    chats.len() / 2
}

/// No chat to wake for: run again in a day anyway.
fn far_future(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::days(1)
}

/// Candidate papers that may have reached the chat before, with the oldest day they could
/// have: a paper first announced before this chat's window (a replacement, or an old paper
/// that newly matches), or one that entered another of the chat's topics earlier. Only these
/// are looked up in the ledger; a normal day's new papers cost no read.
fn at_risk<'a>(
    subs: &[Subscription],
    lists: &[&'a Ranked],
    lowers: &[NaiveDate],
) -> Vec<(&'a str, NaiveDate)> {
    let mut out = Vec::new();
    for (list, lower) in lists.iter().zip(lowers) {
        for sp in &list.papers {
            let old = sp.first_announced.filter(|d| d <= lower);
            let earlier = sp
                .topics
                .iter()
                .filter(|(t, d)| d <= lower && subs.iter().any(|s| &s.topic_id == t))
                .map(|(_, d)| *d)
                .min();
            if let Some(d) = old.into_iter().chain(earlier).min() {
                out.push((sp.paper.id.as_str(), d));
            }
        }
    }
    out
}

//! Planning: when a chat's local delivery time comes, what it has not received yet becomes
//! outbox items, written with its ledger entry and new delivery state in one atomic batch.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use paperbell_chat::{ChatRef, Lang, Platform};

use crate::commands::{Commands, Effective};
use crate::config::ScheduleConfig;
use crate::digest::{self, Ranked};
use crate::i18n::t;
use crate::scheduler::{delivery_instant, due_day, next_delivery};
use crate::store::{
    ChatPlan, DeliveryState, PlannedMessage, Store, StoreError, StoredPaper, Subscription,
};
use crate::summary::overview::Background;
use crate::topics::{MatchText, TopicSet};

/// However long a chat was away (inactive, or the service down), a digest looks back at most
/// this many announcement days: catching up is one digest, not a flood.
pub const CATCH_UP_DAYS: i64 = 14;
/// An announcement that arrives this long after a chat's delivery time still goes out that
/// local day (arXiv is sometimes late); after it, a day with nothing new is over for the chat.
pub const LATE_GRACE: chrono::Duration = chrono::Duration::hours(2);

/// What every chat planned in one run shares. Chats with the same topics, windows and settings
/// get the same digest unless the ledger says otherwise, so one run works each combination out
/// once: papers per topic, the papers that need a ledger check, and the planned messages.
#[derive(Default)]
struct Cache {
    /// A topic's ranked papers after an exclusive lower day, oldest day first: by topic, then
    /// day (looked up without allocating, once per chat and topic).
    lists: HashMap<String, HashMap<NaiveDate, Arc<Ranked>>>,
    /// Each topic's background for overview keywords (the store's memo, looked up once per
    /// topic per run rather than once per chat).
    backgrounds: HashMap<String, Arc<Background>>,
    risky: HashMap<String, Arc<Vec<(String, NaiveDate)>>>,
    plans: HashMap<String, Vec<Arc<PlannedMessage>>>,
    /// Overview lines by list (topic and window), language and the papers they speak of.
    overviews: HashMap<(String, NaiveDate, Lang, Vec<usize>), String>,
}

pub struct Planner {
    store: Arc<Store>,
    topics: Arc<TopicSet>,
    schedule: ScheduleConfig,
    /// Platforms that run: chats of the others wait (nothing is planned for them).
    platforms: Vec<Platform>,
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
    pub items: Vec<(Platform, u64, String)>,
    /// Chats looked at: none when the run found that nothing could be due.
    pub examined: usize,
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
            schedule,
            platforms,
            idle: Mutex::new(None),
        }
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
        // tick run again.
        *self.idle.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, wake));
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
        let commands = Commands {
            store: &self.store,
            topics: &self.topics,
            schedule: &self.schedule,
        };
        let mut planned: HashMap<Platform, u64> = HashMap::new();
        for p in &self.platforms {
            planned.insert(*p, self.store.counters(*p)?.planned);
        }
        let mut cache = Cache::default();
        // The three reads are independent: the subscriptions are read beside the rest.
        let (subscriptions, (chats, states)) = crate::join(
            || self.store.subscription_scan(),
            || (self.store.chats(), self.store.delivery_states()),
        );
        let (chats, states, mut subscriptions) = (chats?, states?, subscriptions?);
        let mut plans = Vec::new();
        for rec in chats {
            run.examined += 1;
            let Some(platform) = Platform::parse(&rec.platform) else {
                continue;
            };
            if !rec.active || !self.platforms.contains(&platform) {
                continue;
            }
            let chat = ChatRef {
                platform,
                id: rec.id.clone(),
            };
            let eff = commands.effective(&rec.settings, None);
            let key = chat.to_string();
            let state = states.get(&key).copied().unwrap_or_default();
            let (time, tz) = (time_of(&eff), zone_of(&eff));
            // Its next delivery time: the earliest it could be due again. Waking early is
            // harmless (the run finds nothing); waking late would delay a digest.
            *wake = (*wake).min(next_delivery(time, tz, now).0);
            let Some(local_day) = due_day(time, tz, now, state.last_day) else {
                continue;
            };
            let grace_end = delivery_instant(time, tz, local_day) + LATE_GRACE;
            let day_over = now >= grace_end;
            if !day_over {
                // Still waiting for the day's announcement: look again when the grace ends
                // (a new announcement wakes planning sooner, through the store's generation).
                *wake = (*wake).min(grace_end);
            }
            let mut plan = if state.covered.is_some_and(|c| c >= latest) {
                ChatPlan {
                    chat,
                    state,
                    local_day,
                    messages: Vec::new(),
                }
            } else {
                let subs = subscriptions.of(&key)?;
                self.plan_chat(&chat, subs, &eff, state, local_day, latest, &mut cache)?
            };
            if plan.messages.is_empty() {
                if day_over {
                    // Nothing new by the end of the grace: this day is done for the chat.
                    plan.state.last_day = Some(local_day);
                } else if plan.state == state {
                    continue;
                }
            } else {
                run.planned_chats += 1;
                *planned.entry(platform).or_default() += plan.messages.len() as u64;
            }
            plans.push(plan);
        }
        if plans.is_empty() {
            return Ok(run);
        }
        // The whole run in one atomic batch: records are per bucket of chats, so splitting
        // the run would write each bucket again per part.
        let totals: Vec<(Platform, u64)> = planned.into_iter().collect();
        run.items = self.store.commit_plans(&plans, now.timestamp(), &totals)?;
        // Durable before any of it is sent: a send of an unflushed plan could be planned and
        // sent again after a crash.
        self.store.flush()?;
        Ok(run)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_chat(
        &self,
        chat: &ChatRef,
        subs: Vec<Subscription>,
        eff: &Effective,
        state: DeliveryState,
        local_day: NaiveDate,
        latest: NaiveDate,
        cache: &mut Cache,
    ) -> Result<ChatPlan, StoreError> {
        let floor = latest - chrono::Duration::days(CATCH_UP_DAYS);
        let mut lists = Vec::with_capacity(subs.len());
        let mut lowers = Vec::with_capacity(subs.len());
        for s in &subs {
            let lower = [state.covered, s.since, Some(floor)]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(floor);
            let cached = cache
                .lists
                .get(s.topic_id.as_str())
                .and_then(|m| m.get(&lower));
            let list = match cached {
                Some(l) => l.clone(),
                None => {
                    let topic = crate::commands::topic_of(&self.topics, s);
                    let papers = self.papers_after(s, lower, latest)?;
                    let l = Arc::new(crate::commands::rank(&self.store, topic.as_ref(), papers)?);
                    if !cache.backgrounds.contains_key(&s.topic_id) {
                        let b = crate::commands::background(&self.store, topic.as_ref())?;
                        cache.backgrounds.insert(s.topic_id.clone(), b);
                    }
                    cache
                        .lists
                        .entry(s.topic_id.clone())
                        .or_default()
                        .insert(lower, l.clone());
                    l
                }
            };
            lists.push(list);
            lowers.push(lower);
        }
        let mut key = String::with_capacity(128);
        for (s, lower) in subs.iter().zip(&lowers) {
            let lower = (*lower - NaiveDate::default()).num_days();
            let _ = write!(key, "{}\0{}\0{lower}\0", s.topic_id, s.topic_name);
        }
        let risky = match cache.risky.get(&key) {
            Some(r) => r.clone(),
            None => {
                let r: Vec<(String, NaiveDate)> = at_risk(&subs, &lists, &lowers)
                    .into_iter()
                    .map(|(id, d)| (id.to_string(), d))
                    .collect();
                let r = Arc::new(r);
                cache.risky.insert(key.clone(), r.clone());
                r
            }
        };
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
        let (overviews, backgrounds) = (&mut cache.overviews, &cache.backgrounds);
        let mut overview = |t: usize, about: &[usize]| -> String {
            let key = (
                subs[t].topic_id.clone(),
                lowers[t],
                eff.lang,
                about.to_vec(),
            );
            overviews
                .entry(key)
                .or_insert_with(|| {
                    let none = Background::default();
                    let background = backgrounds.get(&subs[t].topic_id);
                    lists[t].overview(about, background.map_or(&none, |b| b), eff.lang)
                })
                .clone()
        };
        let messages = match risky.iter().map(|(_, d)| *d).min() {
            Some(oldest) => {
                let ids: HashSet<&str> = risky.iter().map(|(id, _)| id.as_str()).collect();
                // Ledger days are the chat's local days, which may run a day ahead of or
                // behind announcement days.
                let delivered =
                    self.store
                        .ledger_contains(chat, oldest - chrono::Duration::days(2), &ids)?;
                messages(
                    &subs,
                    &lists,
                    |id| delivered.contains(id),
                    &mut overview,
                    eff,
                    &day(),
                )
                .into_iter()
                .map(Arc::new)
                .collect()
            }
            None => {
                let _ = write!(key, "{}\0{}\0{}", eff.max, eff.format, eff.lang.code());
                match cache.plans.get(&key) {
                    Some(m) => m.clone(),
                    None => {
                        let m: Vec<Arc<PlannedMessage>> =
                            messages(&subs, &lists, |_| false, &mut overview, eff, &day())
                                .into_iter()
                                .map(Arc::new)
                                .collect();
                        cache.plans.insert(key, m.clone());
                        m
                    }
                }
            }
        };
        Ok(ChatPlan {
            chat: chat.clone(),
            state: DeliveryState {
                last_day: if messages.is_empty() {
                    state.last_day
                } else {
                    Some(local_day)
                },
                covered: Some(latest),
            },
            local_day,
            messages,
        })
    }

    /// A subscription's papers entered after `lower` up to `latest`, oldest day first.
    fn papers_after(
        &self,
        s: &Subscription,
        lower: NaiveDate,
        latest: NaiveDate,
    ) -> Result<Vec<StoredPaper>, StoreError> {
        let from = lower + chrono::Duration::days(1);
        if from > latest {
            return Ok(Vec::new());
        }
        if self.topics.topics.iter().any(|c| c.id == s.topic_id) {
            // Newest day first, newest first within a day: reversed, the order they came in.
            let mut papers = self.store.topic_since(&s.topic_id, from)?;
            papers.reverse();
            return Ok(papers);
        }
        let source = s.query.as_deref().unwrap_or(&s.topic_id);
        let Ok(topic) = self.topics.resolve(source) else {
            // A configured topic that was removed from the config since.
            return Ok(Vec::new());
        };
        let mut papers = self.store.papers_between(from, latest)?;
        papers.retain(|sp| {
            topic
                .matches(&sp.paper, &MatchText::new(&sp.paper))
                .is_some()
        });
        Ok(papers)
    }
}

/// No chat to wake for: run again in a day anyway.
fn far_future(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::days(1)
}

fn time_of(eff: &Effective) -> NaiveTime {
    NaiveTime::parse_from_str(&eff.time, "%H:%M")
        .unwrap_or(NaiveTime::from_hms_opt(8, 0, 0).expect("valid"))
}

fn zone_of(eff: &Effective) -> Tz {
    eff.tz.parse().unwrap_or(Tz::UTC)
}

/// Candidate papers that may have reached the chat before, with the oldest day they could
/// have: a paper first announced before this chat's window (a replacement, or an old paper
/// that newly matches), or one that entered another of the chat's topics earlier. Only these
/// are looked up in the ledger; a normal day's new papers cost no read.
fn at_risk<'a>(
    subs: &[Subscription],
    lists: &'a [Arc<Ranked>],
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

/// The chat's digest messages, pure: one per topic with something new (each paper once, under
/// the first topic it matched, naming all), or one combined message when the format asks.
/// `overview` gives a topic's overview line for the papers (indexes into its list) its message
/// speaks of.
pub fn messages(
    subs: &[Subscription],
    lists: &[Arc<Ranked>],
    delivered: impl Fn(&str) -> bool,
    overview: &mut dyn FnMut(usize, &[usize]) -> String,
    eff: &Effective,
    day: &str,
) -> Vec<PlannedMessage> {
    let per_topic: Vec<(&str, &[StoredPaper])> = subs
        .iter()
        .zip(lists)
        .map(|(s, l)| (s.topic_name.as_str(), l.papers.as_slice()))
        .collect();
    let combined = eff.format == "combined";
    let max = if combined {
        usize::MAX
    } else {
        eff.max as usize
    };
    let planned = digest::plan(&per_topic, delivered, max);
    let ids = |t: &digest::PlannedTopic| -> Vec<(String, Vec<String>)> {
        t.papers
            .iter()
            .map(|(i, names)| {
                (
                    lists[t.topic].papers[*i].paper.id.to_string(),
                    names.clone(),
                )
            })
            .collect()
    };
    let message = |title: String, papers, more, unsubscribe, overview| PlannedMessage {
        title,
        day: day.to_string(),
        papers,
        more,
        unsubscribe_topic: unsubscribe,
        lang: eff.lang.code().to_string(),
        compact: eff.format == "compact",
        overview,
    };
    if combined {
        if planned.is_empty() {
            return Vec::new();
        }
        let mut papers: Vec<(String, Vec<String>)> = planned.iter().flat_map(ids).collect();
        let cap = eff.max as usize * subs.len().max(1);
        let more = papers.len().saturating_sub(cap) as u32;
        papers.truncate(cap);
        return vec![message(
            t(eff.lang, "Your papers", "你的论文").to_string(),
            papers,
            more,
            None,
            None,
        )];
    }
    planned
        .iter()
        .map(|p| {
            message(
                subs[p.topic].topic_name.clone(),
                ids(p),
                p.more as u32,
                Some(subs[p.topic].topic_id.clone()),
                Some(overview(p.topic, &p.about())),
            )
        })
        .collect()
}

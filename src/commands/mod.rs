//! Chat commands, shared by every platform: a parsed `chat::Command` from a `chat::Caller`
//! becomes a store change and a `chat::Reply`. Mistakes a person can fix are
//! `Reply::UserError` with an actionable text; only internal failures (the store) are errors.
//! No platform knowledge here: adapters parse their syntax into `Command` and render `Reply`.

use chrono::{NaiveDate, NaiveTime};
use std::sync::Arc;

use paperbell_chat::{
    Answer, Caller, ChatRef, Command, DigestMessage, Handler, PaperItem, Platform, Reply, TopicItem,
};

use crate::categories::CATEGORIES;
use crate::config::ScheduleConfig;
use crate::digest;
use crate::i18n::{Lang, t};
use crate::paper::PaperId;
use crate::store::{ChatRecord, ChatSettings, Store, StoreError, StoredPaper, Subscription};
use crate::summary::overview::Background;
use crate::topics::{Term, Topic, TopicSet};

/// Longest argument accepted; longer input is refused, never truncated silently.
pub const MAX_ARG_CHARS: usize = 300;
/// Topics per page of `/topics`.
pub const TOPICS_PER_PAGE: usize = 8;
const DEFAULT_RECENT: u32 = 5;
const MAX_RECENT: u32 = 20;
const DEFAULT_MAX_PER_TOPIC: u32 = 10;
/// Papers a query over the whole store looks at before giving up (newest first).
const SCAN_LIMIT: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A chat's settings with the configured defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub time: String,
    pub tz: String,
    pub lang: Lang,
    pub max: u32,
    pub format: String,
}

pub struct Commands<'a> {
    pub store: &'a Store,
    pub topics: &'a TopicSet,
    pub schedule: &'a ScheduleConfig,
}

impl Commands<'_> {
    pub fn handle(&self, caller: &Caller, cmd: Command) -> Result<Reply, CommandError> {
        let record = self.store.chat(&caller.chat)?;
        if let Some(mut r) = record.clone().filter(|r| !r.active) {
            // Any command from a chat marked inactive (blocked, kicked) brings it back.
            r.active = true;
            self.store.put_chat(&r)?;
        }
        let settings = record
            .as_ref()
            .map(|r| r.settings.clone())
            .unwrap_or_default();
        let eff = self.effective(&settings, caller.locale.as_deref());
        let lang = eff.lang;
        if let Some(arg) = argument(&cmd)
            && arg.chars().count() > MAX_ARG_CHARS
        {
            return Ok(user(format!(
                "{} ({MAX_ARG_CHARS})",
                t(
                    lang,
                    "That is too long to be a topic, id or search",
                    "输入过长"
                )
            )));
        }
        if cmd.changes_chat() && !caller.can_manage {
            return Ok(user(match caller.chat.platform {
                Platform::Discord => t(
                    lang,
                    "Only members with the Manage Channels permission can change this channel's subscriptions and settings; everyone can use /recent, /paper and /search.",
                    "只有拥有“管理频道”权限的成员可以修改本频道的订阅和设置；所有人都可以使用 /recent、/paper 和 /search。",
                ),
                Platform::Telegram => t(
                    lang,
                    "Only chat administrators can change subscriptions and settings here; everyone can use /recent, /paper and /search.",
                    "只有管理员可以在此修改订阅和设置；所有人都可以使用 /recent、/paper 和 /search。",
                ),
            }));
        }
        match cmd {
            Command::Help => Ok(Reply::Text(help(lang))),
            Command::Subscribe { topic } => self.subscribe(caller, lang, &topic),
            Command::Unsubscribe { topic } => self.unsubscribe(caller, lang, &topic),
            Command::List => self.list(caller, &eff),
            Command::Topics { page } => self.topic_page(caller, lang, page),
            Command::Recent { topic, count, page } => self.recent(lang, &topic, count, page),
            Command::Paper { id } => self.paper(lang, &id),
            Command::Search { words } => self.search(lang, &words),
            Command::Digest => self.digest(caller, &eff),
            Command::Settings { change: None } => Ok(Reply::Text(show_settings(&eff))),
            Command::Settings {
                change: Some((key, value)),
            } => self.change_setting(caller, record, lang, &key, &value),
        }
    }

    /// Settings as they apply: the chat's own, else the client language, else the defaults.
    pub fn effective(&self, s: &ChatSettings, locale: Option<&str>) -> Effective {
        Effective {
            time: s
                .time
                .clone()
                .unwrap_or_else(|| self.schedule.delivery_time.clone()),
            tz: s
                .tz
                .clone()
                .unwrap_or_else(|| self.schedule.delivery_timezone.clone()),
            lang: s
                .lang
                .as_deref()
                .and_then(Lang::from_code)
                .or_else(|| locale.and_then(Lang::from_code))
                .unwrap_or(Lang::En),
            max: s.max.unwrap_or(DEFAULT_MAX_PER_TOPIC),
            format: s.format.clone().unwrap_or_else(|| "full".into()),
        }
    }

    fn resolve(&self, lang: Lang, name: &str) -> Result<Topic, Reply> {
        if name.trim().is_empty() {
            return Err(user(t(
                lang,
                "Name a topic: a topic id (see /topics), an arXiv category such as cs.CV, or a query such as \"diffusion\" AND video -survey.",
                "请给出主题：主题 id（见 /topics）、arXiv 分类（如 cs.CV），或查询（如 \"diffusion\" AND video -survey）。",
            )));
        }
        self.topics.resolve(name).map_err(|e| Reply::UserError(e.0))
    }

    fn subscribe(&self, caller: &Caller, lang: Lang, name: &str) -> Result<Reply, CommandError> {
        let topic = match self.resolve(lang, name) {
            Ok(t) => t,
            Err(r) => return Ok(r),
        };
        let sub = Subscription {
            topic_id: topic.id.clone(),
            topic_name: topic.name.clone(),
            query: topic.id.starts_with("q:").then(|| topic.name.clone()),
            // Digests start after what is already announced: subscribing never floods.
            since: self.store.latest_day()?,
        };
        let fresh = self.store.subscribe(&caller.chat, &sub)?;
        let text = if fresh {
            format!(
                "{} {}. {}",
                t(lang, "Subscribed to", "已订阅"),
                topic.name,
                t(
                    lang,
                    "Digests start with the next announcement; /digest shows the latest now.",
                    "摘要将从下一次公告开始；/digest 可立即查看最新内容。"
                )
            )
        } else {
            format!(
                "{} {}.",
                t(lang, "This chat is already subscribed to", "本聊天已订阅"),
                topic.name
            )
        };
        Ok(Reply::Text(text))
    }

    fn unsubscribe(&self, caller: &Caller, lang: Lang, name: &str) -> Result<Reply, CommandError> {
        let subs = self.store.subscriptions(&caller.chat)?;
        let wanted = name.trim();
        let by_name = subs.iter().find(|s| {
            s.topic_id.eq_ignore_ascii_case(wanted) || s.topic_name.eq_ignore_ascii_case(wanted)
        });
        let by_resolve = || {
            let id = self.topics.resolve(wanted).ok()?.id;
            subs.iter().find(|s| s.topic_id == id)
        };
        match by_name.or_else(by_resolve) {
            Some(s) => {
                self.store.unsubscribe(&caller.chat, &s.topic_id)?;
                Ok(Reply::Text(format!(
                    "{} {}.",
                    t(lang, "Unsubscribed from", "已取消订阅"),
                    s.topic_name
                )))
            }
            None if subs.is_empty() => Ok(user(t(
                lang,
                "This chat has no subscriptions. Subscribe with /subscribe <topic>.",
                "本聊天没有订阅。使用 /subscribe <主题> 订阅。",
            ))),
            None => {
                let names: Vec<&str> = subs.iter().map(|s| s.topic_name.as_str()).collect();
                Ok(Reply::UserError(format!(
                    "{} `{wanted}`. {} {}",
                    t(lang, "This chat is not subscribed to", "本聊天未订阅"),
                    t(lang, "Its subscriptions:", "当前订阅："),
                    names.join(", ")
                )))
            }
        }
    }

    fn list(&self, caller: &Caller, eff: &Effective) -> Result<Reply, CommandError> {
        let lang = eff.lang;
        let subs = self.store.subscriptions(&caller.chat)?;
        if subs.is_empty() {
            return Ok(Reply::Text(
                t(
                    lang,
                    "No subscriptions yet. Try /topics, or /subscribe nerf, /subscribe cs.CV.",
                    "还没有订阅。试试 /topics，或 /subscribe nerf、/subscribe cs.CV。",
                )
                .into(),
            ));
        }
        let mut out = format!("{}\n", t(lang, "Subscriptions:", "订阅："));
        for s in &subs {
            out.push_str(&format!("• {} ({})\n", s.topic_name, s.topic_id));
        }
        out.push('\n');
        out.push_str(&show_settings(eff));
        Ok(Reply::Text(out))
    }

    fn topic_page(&self, caller: &Caller, lang: Lang, page: u32) -> Result<Reply, CommandError> {
        let subscribed: Vec<String> = self
            .store
            .subscriptions(&caller.chat)?
            .into_iter()
            .map(|s| s.topic_id)
            .collect();
        let all = &self.topics.topics;
        let pages = all.len().div_ceil(TOPICS_PER_PAGE).max(1) as u32;
        let page = page.min(pages - 1);
        let topics = all
            .iter()
            .skip(page as usize * TOPICS_PER_PAGE)
            .take(TOPICS_PER_PAGE)
            .map(|tp| TopicItem {
                id: tp.id.clone(),
                name: tp.name.clone(),
                subscribed: subscribed.contains(&tp.id),
            })
            .collect();
        Ok(Reply::Topics {
            heading: t(
                lang,
                "Topics (any arXiv category such as cs.CV, or a query, works too):",
                "主题（任何 arXiv 分类如 cs.CV，或查询，也可以）：",
            )
            .into(),
            topics,
            page,
            pages,
        })
    }

    fn recent(
        &self,
        lang: Lang,
        name: &str,
        count: Option<u32>,
        page: u32,
    ) -> Result<Reply, CommandError> {
        let topic = match self.resolve(lang, name) {
            Ok(t) => t,
            Err(r) => return Ok(r),
        };
        let count = count.unwrap_or(DEFAULT_RECENT).clamp(1, MAX_RECENT) as usize;
        let configured = self.topics.topics.iter().any(|c| c.id == topic.id);
        let want = count * (page as usize + 1);
        let found = self
            .store
            .recent(&topic, configured, want + 1, SCAN_LIMIT)?;
        let has_more = found.len() > want;
        let papers: Vec<PaperItem> = found
            .iter()
            .skip(count * page as usize)
            .take(count)
            .map(|sp| item(self.store, sp, &[], lang))
            .collect::<Result<_, _>>()?;
        if papers.is_empty() {
            return Ok(Reply::Text(format!(
                "{} {}.",
                t(lang, "No stored papers yet for", "暂无已存储的论文："),
                topic.name
            )));
        }
        Ok(Reply::Papers {
            heading: format!("{} {}", t(lang, "Newest in", "最新论文："), topic.name),
            papers,
            more: has_more.then(|| Command::Recent {
                topic: name.to_string(),
                count: Some(count as u32),
                page: page + 1,
            }),
        })
    }

    fn paper(&self, lang: Lang, id: &str) -> Result<Reply, CommandError> {
        let Some(pid) = PaperId::parse(id) else {
            return Ok(user(t(
                lang,
                "That is not an arXiv id. Try /paper 2407.11422 or /paper https://arxiv.org/abs/2407.11422",
                "这不是 arXiv id。试试 /paper 2407.11422 或 /paper https://arxiv.org/abs/2407.11422",
            )));
        };
        match self.store.paper(&pid)? {
            Some(sp) => Ok(Reply::Papers {
                heading: format!("arXiv:{pid}"),
                papers: vec![item(self.store, &sp, &[], lang)?],
                more: None,
            }),
            None => Ok(user(t(
                lang,
                "That paper is not in this bot's store (it keeps what its topics fetched).",
                "该论文不在本机器人的存储中（仅保存其主题抓取到的论文）。",
            ))),
        }
    }

    fn search(&self, lang: Lang, words: &str) -> Result<Reply, CommandError> {
        // Every word must appear in the title or abstract; words too short to search are ignored.
        let terms: Vec<Vec<Term>> = words
            .split_whitespace()
            .filter_map(|w| Term::new(w.trim_matches(|c: char| !c.is_alphanumeric())).ok())
            .map(|term| vec![term])
            .collect();
        if terms.is_empty() {
            return Ok(user(t(
                lang,
                "Give me words to look for, e.g. /search gaussian splatting",
                "请给出要搜索的词，例如 /search gaussian splatting",
            )));
        }
        let topic = Topic {
            id: "search".into(),
            name: words.into(),
            keywords: terms,
            include_replace: true,
            ..Topic::default()
        };
        let found = self.store.recent(&topic, false, 10, SCAN_LIMIT)?;
        if found.is_empty() {
            return Ok(Reply::Text(format!(
                "{} “{words}”.",
                t(lang, "No stored paper mentions", "没有已存储的论文包含")
            )));
        }
        Ok(Reply::Papers {
            heading: format!(
                "{} “{words}”",
                t(lang, "Newest papers mentioning", "包含以下内容的最新论文：")
            ),
            papers: found
                .iter()
                .map(|sp| item(self.store, sp, &[], lang))
                .collect::<Result<_, _>>()?,
            more: None,
        })
    }

    /// This chat's digest now: for each subscription, its papers of the newest announcement day.
    fn digest(&self, caller: &Caller, eff: &Effective) -> Result<Reply, CommandError> {
        let lang = eff.lang;
        let subs = self.store.subscriptions(&caller.chat)?;
        if subs.is_empty() {
            return Ok(user(t(
                lang,
                "Subscribe to a topic first: /subscribe nerf",
                "请先订阅主题：/subscribe nerf",
            )));
        }
        let Some(day) = self.store.latest_day()? else {
            return Ok(Reply::Text(
                t(lang, "Nothing has been fetched yet.", "尚未抓取任何内容。").into(),
            ));
        };
        let mut lists = Vec::new();
        let mut topics = Vec::new();
        for s in &subs {
            let topic = topic_of(self.topics, s);
            lists.push(rank(self.store, topic.as_ref(), self.day_papers(s, day)?)?);
            topics.push(topic);
        }
        let per_topic: Vec<(&str, &[StoredPaper])> = subs
            .iter()
            .zip(&lists)
            .map(|(s, l)| (s.topic_name.as_str(), l.papers.as_slice()))
            .collect();
        // On request nothing counts as delivered; a paper in several topics still shows once.
        let mut messages: Vec<DigestMessage> = Vec::new();
        for t in digest::plan(&per_topic, |_| false, eff.max as usize) {
            let list = &lists[t.topic];
            let topic_id = &subs[t.topic].topic_id;
            let background = background(self.store, topics[t.topic].as_ref())?;
            let line = list.overview(&t.about(), &background, lang);
            messages.push(DigestMessage {
                title: subs[t.topic].topic_name.clone(),
                day: day.to_string(),
                overview: overview_with_llm(self.store, topic_id, day, lang, Some(line))?,
                more: t.more,
                papers: t
                    .papers
                    .iter()
                    .map(|(i, names)| item(self.store, &list.papers[*i], names, lang))
                    .collect::<Result<_, _>>()?,
                unsubscribe_topic: Some(topic_id.clone()),
                lang,
                compact: eff.format == "compact",
            });
        }
        if messages.is_empty() {
            return Ok(Reply::Text(format!(
                "{} {day}.",
                t(
                    lang,
                    "None of this chat's topics has papers on",
                    "本聊天的主题在该日没有论文："
                )
            )));
        }
        Ok(Reply::Digests(messages))
    }

    fn day_papers(
        &self,
        s: &Subscription,
        day: NaiveDate,
    ) -> Result<Vec<StoredPaper>, CommandError> {
        if self.topics.topics.iter().any(|c| c.id == s.topic_id) {
            return Ok(self.store.topic_day(&s.topic_id, day)?);
        }
        let source = s.query.as_deref().unwrap_or(&s.topic_id);
        let Ok(topic) = self.topics.resolve(source) else {
            // A configured topic that was removed from the config since.
            return Ok(vec![]);
        };
        let mut papers = self.store.papers_between(day, day)?;
        papers.retain(|sp| {
            topic
                .matches(&sp.paper, &crate::topics::MatchText::new(&sp.paper))
                .is_some()
        });
        Ok(papers)
    }

    fn change_setting(
        &self,
        caller: &Caller,
        record: Option<ChatRecord>,
        lang: Lang,
        key: &str,
        value: &str,
    ) -> Result<Reply, CommandError> {
        let mut rec = record.unwrap_or_else(|| ChatRecord::new(&caller.chat));
        let v = value.trim();
        let s = &mut rec.settings;
        match key.trim().to_ascii_lowercase().as_str() {
            "time" => match NaiveTime::parse_from_str(v, "%H:%M") {
                Ok(time) => s.time = Some(time.format("%H:%M").to_string()),
                Err(_) => {
                    return Ok(user(t(
                        lang,
                        "Give the time as HH:MM, e.g. time 08:30",
                        "时间格式为 HH:MM，例如 time 08:30",
                    )));
                }
            },
            "tz" => match v.parse::<chrono_tz::Tz>() {
                Ok(tz) => s.tz = Some(tz.name().to_string()),
                Err(_) => {
                    return Ok(user(t(
                        lang,
                        "That is not an IANA time zone; try tz Europe/Berlin or tz Asia/Shanghai",
                        "这不是 IANA 时区；试试 tz Europe/Berlin 或 tz Asia/Shanghai",
                    )));
                }
            },
            "lang" => match Lang::from_code(v) {
                Some(l) => s.lang = Some(l.code().into()),
                None => {
                    return Ok(user(t(
                        lang,
                        "Languages: lang en or lang zh",
                        "可选语言：lang en 或 lang zh",
                    )));
                }
            },
            "max" => match v.parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => s.max = Some(n),
                _ => {
                    return Ok(user(t(
                        lang,
                        "max takes a number from 1 to 50",
                        "max 取 1 到 50 之间的数字",
                    )));
                }
            },
            "format" => match v {
                "compact" | "full" | "combined" => s.format = Some(v.into()),
                _ => {
                    return Ok(user(t(
                        lang,
                        "format is full (a message per topic), compact (titles and links) or combined (one message for all topics)",
                        "format 为 full（每个主题一条）、compact（仅标题和链接）或 combined（所有主题合为一条）",
                    )));
                }
            },
            _ => {
                return Ok(user(t(
                    lang,
                    "Settings: time HH:MM, tz <zone>, lang en|zh, max <1-50>, format full|compact|combined",
                    "设置项：time HH:MM、tz <时区>、lang en|zh、max <1-50>、format full|compact|combined",
                )));
            }
        }
        self.store.put_chat(&rec)?;
        let eff = self.effective(&rec.settings, caller.locale.as_deref());
        Ok(Reply::Text(format!(
            "{}\n{}",
            t(eff.lang, "Saved.", "已保存。"),
            show_settings(&eff)
        )))
    }
}

/// The command layer as adapters see it (`paperbell_chat::Handler`): owns what `Commands`
/// borrows, turns internal failures into a polite reply and a log line, and keeps the chat
/// bookkeeping (inactive, moved) that platform errors report.
pub struct ChatCore {
    pub store: Arc<Store>,
    pub topics: Arc<TopicSet>,
    pub schedule: ScheduleConfig,
}

impl ChatCore {
    pub fn commands(&self) -> Commands<'_> {
        Commands {
            store: &self.store,
            topics: &self.topics,
            schedule: &self.schedule,
        }
    }
}

impl Handler for ChatCore {
    fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        match self.commands().handle(caller, cmd) {
            // The language after the command: `/settings lang zh` answers in Chinese.
            Ok(reply) => Answer {
                lang: self.lang(caller),
                reply,
            },
            Err(e) => {
                tracing::error!(chat = %caller.chat, error = %e, "command failed");
                let lang = self.lang(caller);
                Answer {
                    lang,
                    reply: Reply::Text(
                        t(
                            lang,
                            "Something went wrong on the bot's side; please try again in a minute.",
                            "机器人内部出错；请稍后再试。",
                        )
                        .into(),
                    ),
                }
            }
        }
    }

    fn lang(&self, caller: &Caller) -> Lang {
        let settings = match self.store.chat(&caller.chat) {
            Ok(Some(r)) => r.settings,
            _ => ChatSettings::default(),
        };
        self.commands()
            .effective(&settings, caller.locale.as_deref())
            .lang
    }

    fn chat_gone(&self, chat: &ChatRef, why: &str) {
        match self.store.set_active(chat, false) {
            Ok(_) => tracing::warn!(%chat, why, "chat refuses the bot; marked inactive"),
            Err(e) => tracing::error!(%chat, error = %e, "could not mark chat inactive"),
        }
    }

    fn chat_moved(&self, from: &ChatRef, to: &ChatRef) {
        match self.store.migrate_chat(from, to) {
            Ok(moved) => tracing::info!(%from, %to, moved, "chat migrated"),
            Err(e) => tracing::error!(%from, %to, error = %e, "could not migrate chat"),
        }
    }

    fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem> {
        let subs = self.store.subscriptions(chat).unwrap_or_else(|e| {
            tracing::warn!(%chat, error = %e, "could not read subscriptions for suggestions");
            Vec::new()
        });
        suggest_topics(&self.topics, &subs, typed, SUGGESTIONS)
    }
}

/// Suggestions a person sees while typing a topic.
const SUGGESTIONS: usize = 25;

/// Topics matching what a person has typed so far, best first: names or ids starting with it,
/// then containing it; this chat's subscriptions before configured topics before arXiv
/// categories. With nothing typed: the subscriptions, then the configured topics. Pure.
pub fn suggest_topics(
    topics: &TopicSet,
    subs: &[Subscription],
    typed: &str,
    limit: usize,
) -> Vec<TopicItem> {
    let needle = typed.trim().to_lowercase();
    let subscribed = |id: &str| subs.iter().any(|s| s.topic_id == id);
    let candidates = subs
        .iter()
        .map(|s| (s.topic_id.as_str(), s.topic_name.as_str()))
        .chain(
            topics
                .topics
                .iter()
                .map(|t| (t.id.as_str(), t.name.as_str())),
        )
        .chain(
            CATEGORIES
                .iter()
                .filter(|_| !needle.is_empty())
                .map(|c| (*c, *c)),
        );
    let mut scored: Vec<(u8, usize, TopicItem)> = Vec::new();
    for (order, (id, name)) in candidates.enumerate() {
        let (lid, lname) = (id.to_lowercase(), name.to_lowercase());
        let score = if lid.starts_with(&needle) || lname.starts_with(&needle) {
            0
        } else if lid.contains(&needle) || lname.contains(&needle) {
            1
        } else {
            continue;
        };
        if scored.iter().any(|(_, _, it)| it.id == id) {
            continue;
        }
        scored.push((
            score,
            order,
            TopicItem {
                id: id.to_string(),
                name: name.to_string(),
                subscribed: subscribed(id),
            },
        ));
    }
    scored.sort_by_key(|(score, order, _)| (*score, *order));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, it)| it)
        .collect()
}

fn user(text: impl Into<String>) -> Reply {
    Reply::UserError(text.into())
}

fn argument(cmd: &Command) -> Option<&str> {
    match cmd {
        Command::Subscribe { topic }
        | Command::Unsubscribe { topic }
        | Command::Recent { topic, .. } => Some(topic),
        Command::Paper { id } => Some(id),
        Command::Search { words } => Some(words),
        Command::Settings {
            change: Some((_, v)),
        } => Some(v),
        _ => None,
    }
}

/// The topic a subscription follows: configured, or rebuilt from its query; `None` when it
/// was removed from the config since.
pub fn topic_of(topics: &TopicSet, s: &Subscription) -> Option<Topic> {
    if let Some(t) = topics.topics.iter().find(|c| c.id == s.topic_id) {
        return Some(t.clone());
    }
    topics
        .resolve(s.query.as_deref().unwrap_or(&s.topic_id))
        .ok()
}

/// A topic's papers best first (`digest::rank_order`): match strength and cross-listing from
/// `topic`'s matcher, code links and upvotes with what Hugging Face told the store. The facts
/// are kept with the papers, for the overview line.
pub fn rank(
    store: &Store,
    topic: Option<&Topic>,
    papers: Vec<StoredPaper>,
) -> Result<digest::Ranked, crate::store::StoreError> {
    let mut facts = Vec::with_capacity(papers.len());
    for sp in &papers {
        let hf = store.hf(sp.paper.id.as_str())?;
        let hit =
            topic.and_then(|t| t.matches(&sp.paper, &crate::topics::MatchText::new(&sp.paper)));
        facts.push(digest::RankFacts {
            strong: hit.is_some_and(|h| h.in_title || h.by_author),
            has_code: !crate::summary::links(sp, hf.as_ref()).code.is_empty(),
            upvotes: hf.and_then(|h| h.upvotes).unwrap_or(0),
            cross: hit.is_some_and(|h| h.cross),
        });
    }
    Ok(digest::Ranked::new(
        papers,
        facts,
        topic.is_some_and(|t| t.external),
    ))
}

/// What an overview line's keywords are weighed against: the texts of the topic's most recent
/// papers in the store (none for a topic that is not configured).
pub fn background(
    store: &Store,
    topic: Option<&Topic>,
) -> Result<Arc<Background>, crate::store::StoreError> {
    let Some(t) = topic else {
        return Ok(Arc::new(Background::default()));
    };
    // Kept until papers change: `/digest` and every planning run would otherwise read and
    // tokenise the same 300 papers again.
    store.memo(&format!("background\0{}", t.id), || {
        let docs: Vec<String> = store
            .recent_by_topic(&t.id, OVERVIEW_BACKGROUND)?
            .iter()
            .map(|sp| format!("{}. {}", sp.paper.title, sp.paper.abstract_text))
            .collect();
        Ok(Background::new(&docs))
    })
}

/// Recent papers of a topic that the overview's keywords are weighed against.
const OVERVIEW_BACKGROUND: usize = 300;

/// A digest's overview: the LLM's overview of the topic's newest day when the store has one in
/// `lang`, above the counts-and-keywords `line`.
pub fn overview_with_llm(
    store: &Store,
    topic_id: &str,
    day: chrono::NaiveDate,
    lang: Lang,
    line: Option<String>,
) -> Result<Option<String>, crate::store::StoreError> {
    let llm = store.overview(topic_id, day, lang.code(), None)?;
    Ok(match (llm, line) {
        (Some(o), Some(line)) => Some(format!("{o}\n{line}")),
        (o, line) => o.or(line),
    })
}

/// A stored paper as chats show it, with what Hugging Face and the LLM said about it (for
/// `lang`, by whichever model the cache holds).
pub fn item(
    store: &Store,
    sp: &StoredPaper,
    topics: &[String],
    lang: Lang,
) -> Result<PaperItem, crate::store::StoreError> {
    let id = sp.paper.id.as_str();
    let hf = store.hf(id)?;
    let llm = store.summary(id, sp.paper.version, lang.code(), None)?;
    Ok(crate::summary::item(sp, hf.as_ref(), llm.as_ref(), topics))
}

fn show_settings(e: &Effective) -> String {
    let l = e.lang;
    format!(
        "{}\n• time {} ({})\n• tz {}\n• lang {}\n• max {}\n• format {}",
        t(l, "Settings:", "设置："),
        e.time,
        t(l, "daily digest", "每日摘要"),
        e.tz,
        e.lang.code(),
        e.max,
        e.format
    )
}

/// `/start` and `/help`.
pub fn help(lang: Lang) -> String {
    t(
        lang,
        "paperbell rings when new arXiv papers land: one digest per topic, at this chat's time.\n\n\
/subscribe <topic> — follow a topic\n\
/unsubscribe <topic> — stop\n\
/list — this chat's topics and settings\n\
/topics — topics to pick from\n\
/recent <topic> [n] — newest stored papers\n\
/paper <arXiv id or URL> — one paper\n\
/search <words> — stored papers mentioning them\n\
/digest — this chat's digest now\n\
/settings [time 08:30 | tz Asia/Shanghai | lang en|zh | max 10 | format full|compact|combined]\n\n\
A topic is a topic id (nerf, llm), an arXiv category (cs.CV), or a query:\n\
\"diffusion\" AND video -survey   ·   nerf OR \"gaussian splatting\"   ·   au:\"Kaiming He\" cat:cs.CV",
        "paperbell 在新的 arXiv 论文发布时提醒你：每个主题一份摘要，按本聊天的时间发送。\n\n\
/subscribe <主题> — 订阅主题\n\
/unsubscribe <主题> — 取消订阅\n\
/list — 本聊天的主题和设置\n\
/topics — 可选主题\n\
/recent <主题> [n] — 最新已存储论文\n\
/paper <arXiv id 或链接> — 查看一篇论文\n\
/search <词> — 搜索已存储论文\n\
/digest — 立即查看本聊天的摘要\n\
/settings [time 08:30 | tz Asia/Shanghai | lang en|zh | max 10 | format full|compact|combined]\n\n\
主题可以是主题 id（nerf、llm）、arXiv 分类（cs.CV）或查询：\n\
\"diffusion\" AND video -survey   ·   nerf OR \"gaussian splatting\"   ·   au:\"Kaiming He\" cat:cs.CV",
    )
    .to_string()
}

//! The command layer as adapters see it: `ChatCore` implements the contract's `Handler`.

use std::sync::Arc;

use paperbell_chat::{
    Answer, Caller, ChatRef, Command, Handler, NotRated, PaperItem, Rate, Rated, Reply, TopicItem,
};

use super::Commands;
use super::suggest::{SUGGESTIONS, suggest_topics};
use crate::clock::Clock;
use crate::i18n::{Lang, t};
use crate::learn::LearnWake;
use crate::model::chat::{ChatDefaults, ChatSettings};
use crate::model::paper::PaperId;
use crate::model::rating::RatingChange;
use crate::search::SearchIndex;
use crate::sources::fetch::ArxivClient;
use crate::store::Store;
use crate::topics::TopicSet;

/// The command layer as adapters see it (`paperbell_chat::Handler`): owns what `Commands`
/// borrows, turns internal failures into a polite reply and a log line, and keeps the chat
/// bookkeeping (inactive, moved) that platform errors report.
pub struct ChatCore {
    pub store: Arc<Store>,
    pub topics: Arc<TopicSet>,
    /// Delivery time and zone of chats that set none.
    pub defaults: ChatDefaults,
    /// Ranked search (`None`: `/search` scans the newest stored papers).
    pub search: Option<Arc<SearchIndex>>,
    /// When ratings are made.
    pub clock: Clock,
    /// Tells the retrainer a chat rated a paper.
    pub learn: LearnWake,
    /// Where `/import` asks arXiv (shared with the fetch job, so the polite pace holds for both).
    pub arxiv: Option<Arc<ArxivClient>>,
    /// `/paper` asks arXiv's HTML edition for a figure not known yet (`[figures] enabled`).
    pub figures: bool,
}

/// Who rated when the platform did not say (a channel post's reader is always known; this is
/// a fallback, not a shared identity).
const UNKNOWN_MEMBER: &str = "someone";

impl ChatCore {
    pub fn commands(&self) -> Commands<'_> {
        Commands {
            store: &self.store,
            topics: &self.topics,
            defaults: self.defaults,
            search: self.search.as_deref(),
            arxiv: self.arxiv.as_deref(),
            figures: self.figures,
            now: self.clock.now().timestamp(),
        }
    }
}

impl ChatCore {
    /// Each paper's button shows what the chat said of it so far.
    fn with_ratings(&self, chat: &ChatRef, papers: &mut [PaperItem]) {
        let key = chat.to_string();
        for p in papers {
            match self.store.tally(&key, &p.id) {
                Ok(t) => p.rated = t.into(),
                Err(e) => tracing::warn!(%chat, error = %e, "could not read a paper's ratings"),
            }
        }
    }

    fn answer(&self, caller: &Caller, cmd: Command) -> Answer {
        let answer = self.answer_plain(caller, cmd);
        let Answer { lang, mut reply } = answer;
        match &mut reply {
            Reply::Papers { papers, .. } => self.with_ratings(&caller.chat, papers),
            Reply::Digests(ds) => {
                for d in ds {
                    self.with_ratings(&caller.chat, &mut d.papers);
                }
            }
            _ => {}
        }
        Answer { lang, reply }
    }

    fn answer_plain(&self, caller: &Caller, cmd: Command) -> Answer {
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
}

impl Handler for ChatCore {
    fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        let started = std::time::Instant::now();
        let name = cmd.name();
        let answer = self.answer(caller, cmd);
        crate::metrics::command(caller.chat.platform, name, started.elapsed());
        answer
    }

    fn lang(&self, caller: &Caller) -> Lang {
        let settings = match self.store.chat(&caller.chat) {
            Ok(Some(r)) => r.settings,
            _ => ChatSettings::default(),
        };
        settings
            .effective(&self.defaults, caller.locale.as_deref())
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

    fn rate(&self, caller: &Caller, paper: &str, rate: Rate, tap: &str) -> Result<Rated, NotRated> {
        let lang = self.lang(caller);
        let Some(id) = PaperId::parse(paper) else {
            return Err(NotRated(
                t(lang, "That is not a paper.", "这不是一篇论文。").into(),
            ));
        };
        let change = match rate {
            Rate::Up => RatingChange::Up,
            Rate::Down => RatingChange::Down,
            Rate::Save => RatingChange::Save,
        };
        let member = caller.member.as_deref().unwrap_or(UNKNOWN_MEMBER);
        let at = self.clock.now().timestamp();
        let started = std::time::Instant::now();
        let result = self.store.rate_tap(
            &caller.chat.to_string(),
            id.as_str(),
            member,
            change,
            at,
            tap,
        );
        crate::metrics::command(caller.chat.platform, "rate", started.elapsed());
        match result {
            Ok(tally) => {
                self.learn.wake();
                Ok(tally.into())
            }
            Err(e) => {
                tracing::error!(chat = %caller.chat, error = %e, "a rating could not be stored");
                Err(NotRated(
                    t(
                        lang,
                        "The rating could not be saved; please try again in a minute.",
                        "评分未能保存；请稍后再试。",
                    )
                    .into(),
                ))
            }
        }
    }

    fn rated(&self, chat: &ChatRef, papers: &[String]) -> Vec<Rated> {
        let key = chat.to_string();
        papers
            .iter()
            .map(|p| match self.store.tally(&key, p) {
                Ok(t) => t.into(),
                Err(e) => {
                    tracing::warn!(%chat, error = %e, "could not read a paper's ratings");
                    Rated::default()
                }
            })
            .collect()
    }

    fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem> {
        let subs = self.store.subscriptions(chat).unwrap_or_else(|e| {
            tracing::warn!(%chat, error = %e, "could not read subscriptions for suggestions");
            Vec::new()
        });
        suggest_topics(&self.topics, &subs, typed, SUGGESTIONS)
    }
}

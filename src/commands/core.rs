//! The command layer as adapters see it: `ChatCore` implements the contract's `Handler`.

use std::sync::Arc;

use paperbell_chat::{Answer, Caller, ChatRef, Command, Handler, Reply, TopicItem};

use super::Commands;
use super::suggest::{SUGGESTIONS, suggest_topics};
use crate::i18n::{Lang, t};
use crate::model::chat::{ChatDefaults, ChatSettings};
use crate::search::SearchIndex;
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
}

impl ChatCore {
    pub fn commands(&self) -> Commands<'_> {
        Commands {
            store: &self.store,
            topics: &self.topics,
            defaults: self.defaults,
            search: self.search.as_deref(),
        }
    }
}

impl ChatCore {
    fn answer(&self, caller: &Caller, cmd: Command) -> Answer {
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

    fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem> {
        let subs = self.store.subscriptions(chat).unwrap_or_else(|e| {
            tracing::warn!(%chat, error = %e, "could not read subscriptions for suggestions");
            Vec::new()
        });
        suggest_topics(&self.topics, &subs, typed, SUGGESTIONS)
    }
}

//! Chat commands, shared by every platform: a parsed `chat::Command` from a `chat::Caller`
//! becomes a store change and a `chat::Reply`. Mistakes a person can fix are
//! `Reply::UserError` with an actionable text; only internal failures (the store) are errors.
//! No platform knowledge here: adapters parse their syntax into `Command` and render `Reply`.
//!
//! One file per command family: `subscriptions` (/subscribe, /unsubscribe, /list, /topics),
//! `papers` (/recent, /paper, /search), `digest` (/digest), `settings` (/settings), `taste`
//! (/saved, /import, /forget), `help`;
//! `core` is the adapters' `Handler`, `suggest` the topic suggestions while typing. Digests
//! are composed in `compose`, which this module uses and nothing else reaches through here.

mod core;
mod digest;
mod help;
mod papers;
mod settings;
mod subscriptions;
mod suggest;
mod taste;

use paperbell_chat::{Caller, Command, Platform, Reply};

use crate::i18n::{Lang, t};
use crate::model::chat::ChatDefaults;
use crate::search::SearchIndex;
use crate::sources::fetch::ArxivClient;
use crate::store::{Store, StoreError};
use crate::topics::{Topic, TopicSet};

pub use core::ChatCore;
pub use help::help;
pub use suggest::suggest_topics;

/// Longest argument accepted; longer input is refused, never truncated silently.
pub const MAX_ARG_CHARS: usize = 300;
/// Topics per page of `/topics`.
pub const TOPICS_PER_PAGE: usize = 8;
const DEFAULT_RECENT: u32 = 5;
const MAX_RECENT: u32 = 20;
/// Papers a query over the whole store looks at before giving up (newest first).
const SCAN_LIMIT: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
}

/// The command layer over the store, for one command at a time.
pub struct Commands<'a> {
    pub store: &'a Store,
    pub topics: &'a TopicSet,
    /// Delivery time and zone of chats that set none.
    pub defaults: ChatDefaults,
    /// Ranked search; without it `/search` scans the newest stored papers.
    pub search: Option<&'a SearchIndex>,
    /// Where `/import` fetches papers the store lacks and looks titles up (`None`: only
    /// papers already stored match).
    pub arxiv: Option<&'a ArxivClient>,
    /// `/paper` asks `arxiv`'s HTML edition for a figure not known yet.
    pub figures: bool,
    /// Unix seconds now, for the ratings an import records.
    pub now: i64,
}

impl Commands<'_> {
    pub fn handle(&self, caller: &Caller, cmd: Command) -> Result<Reply, CommandError> {
        let record = self.store.chat(&caller.chat)?;
        if let Some(mut r) = record.clone().filter(|r| !r.active) {
            // Any command from a chat marked inactive (blocked, kicked) brings it back.
            r.active = true;
            self.store.put_chat(&r)?;
        }
        let settings = record.as_ref().map(|r| r.settings).unwrap_or_default();
        let eff = settings.effective(&self.defaults, caller.locale.as_deref());
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
            Command::Help => Ok(Reply::Text(help::help(lang))),
            Command::Subscribe { topic } => self.subscribe(caller, lang, &topic),
            Command::Unsubscribe { topic } => self.unsubscribe(caller, lang, &topic),
            Command::List => self.list(caller, &eff),
            Command::Topics { page } => self.topic_page(caller, lang, page),
            Command::Recent { topic, count, page } => self.recent(lang, &topic, count, page),
            Command::Paper { id } => self.paper(lang, &id),
            Command::Search { words, page } => self.search(lang, &words, page),
            Command::Similar { id, page } => self.similar(lang, &id, page),
            Command::Digest => self.digest(caller, &eff),
            Command::Saved { page, bibtex } => self.saved(caller, lang, page, bibtex),
            Command::Import { text, file } => self.import(caller, lang, &text, file),
            Command::Forget => self.forget(caller, lang),
            Command::Settings { change: None } => Ok(Reply::Text(settings::show(&eff))),
            Command::Settings {
                change: Some((key, value)),
            } => self.change_setting(caller, record, lang, &key, &value),
        }
    }

    pub(super) fn resolve(&self, lang: Lang, name: &str) -> Result<Topic, Reply> {
        if name.trim().is_empty() {
            return Err(user(t(
                lang,
                "Name a topic: a topic id (see /topics), an arXiv category such as cs.CV, or a query such as \"diffusion\" AND video -survey.",
                "请给出主题：主题 id（见 /topics）、arXiv 分类（如 cs.CV），或查询（如 \"diffusion\" AND video -survey）。",
            )));
        }
        self.topics.resolve(name).map_err(|e| Reply::UserError(e.0))
    }
}

pub(crate) fn user(text: impl Into<String>) -> Reply {
    Reply::UserError(text.into())
}

fn argument(cmd: &Command) -> Option<&str> {
    match cmd {
        Command::Subscribe { topic }
        | Command::Unsubscribe { topic }
        | Command::Recent { topic, .. } => Some(topic),
        Command::Paper { id } | Command::Similar { id, .. } => Some(id),
        Command::Search { words, .. } => Some(words),
        Command::Settings {
            change: Some((_, v)),
        } => Some(v),
        _ => None,
    }
}

/// Runs requests to arXiv (an import's, `/paper`'s figure) from the command's (blocking) thread on the service's
/// runtime, or on a runtime of its own where there is none.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| h.block_on(f))
        }
        Ok(h) => h.block_on(f),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for an import")
            .block_on(f),
    }
}

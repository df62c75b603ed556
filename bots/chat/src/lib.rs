//! The platform contract between paperbell's core and its chat adapters: plain values and the
//! traits, no I/O (`offload` only moves the core's calls onto tokio's blocking pool). Adapters
//! (`paperbell-telegram`, `paperbell-discord`) depend on this crate and never on the core, so
//! the compiler keeps them away from the store and the scheduler.

use std::fmt;
use std::future::Future;
use std::time::Duration;

pub mod buttons;
pub mod catalogue;
pub mod flood;
pub mod i18n;
pub mod offload;
pub mod retry;
pub mod tex;
pub mod text;

pub use i18n::{Lang, t};

/// Which chat platform a chat lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Telegram,
    Discord,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "telegram" => Some(Platform::Telegram),
            "discord" => Some(Platform::Discord),
            _ => None,
        }
    }
}

/// A chat on one platform: a Telegram chat id or a Discord channel id, kept as text so that
/// both fit without loss.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatRef {
    pub platform: Platform,
    pub id: String,
}

impl fmt::Display for ChatRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform.as_str(), self.id)
    }
}

/// A command a person typed, already parsed by an adapter from its platform's syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Subscribe {
        topic: String,
    },
    Unsubscribe {
        topic: String,
    },
    List,
    Topics {
        page: u32,
    },
    Recent {
        topic: String,
        count: Option<u32>,
        page: u32,
    },
    Paper {
        id: String,
    },
    /// Ranked search; `page` counts from 0 (the More button asks for the next).
    Search {
        words: String,
        page: u32,
    },
    /// The stored papers most like one; `page` as for `Search`.
    Similar {
        id: String,
        page: u32,
    },
    Digest,
    Settings {
        change: Option<(String, String)>,
    },
    /// The chat's saved papers (⭐), newest first; `page` counts from 0. With `bibtex`, all of
    /// them as a BibTeX file instead.
    Saved {
        page: u32,
        bibtex: bool,
    },
    /// Seeds the chat's taste: arXiv ids or URLs typed after the command, and a library file
    /// (BibTeX, or one id per line) sent with it.
    Import {
        text: String,
        file: Option<Upload>,
    },
    /// Deletes the chat's ratings, imports and taste model.
    Forget,
}

impl Command {
    /// The command's name as the catalogue spells it (`subscribe`, `search`, ...): a fixed set,
    /// never what a person typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::Subscribe { .. } => "subscribe",
            Command::Unsubscribe { .. } => "unsubscribe",
            Command::List => "list",
            Command::Topics { .. } => "topics",
            Command::Recent { .. } => "recent",
            Command::Paper { .. } => "paper",
            Command::Search { .. } => "search",
            Command::Similar { .. } => "similar",
            Command::Digest => "digest",
            Command::Settings { .. } => "settings",
            Command::Saved { .. } => "saved",
            Command::Import { .. } => "import",
            Command::Forget => "forget",
        }
    }

    /// Changes the chat's subscriptions or settings: needs a chat administrator outside
    /// private chats. Everything else is a query anyone may run.
    pub fn changes_chat(&self) -> bool {
        matches!(
            self,
            Command::Subscribe { .. }
                | Command::Unsubscribe { .. }
                | Command::Settings { change: Some(_) }
                | Command::Import { .. }
                | Command::Forget
        )
    }
}

/// The largest file `/import` takes: adapters do not download a bigger one.
pub const MAX_UPLOAD_BYTES: u64 = 2 * 1024 * 1024;

/// A file a person sent with a command, as the adapter got it from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    File {
        name: String,
        bytes: Vec<u8>,
    },
    /// Over `MAX_UPLOAD_BYTES` (the platform said its size): not downloaded.
    TooLarge {
        name: String,
        size: u64,
    },
    /// The platform would not hand it over.
    Failed {
        name: String,
    },
}

impl Upload {
    /// A file as downloaded: `TooLarge` when it came bigger than an import reads, whatever
    /// size the platform said it had.
    pub fn downloaded(name: String, bytes: Vec<u8>) -> Upload {
        match bytes.len() as u64 {
            size if size > MAX_UPLOAD_BYTES => Upload::TooLarge { name, size },
            _ => Upload::File { name, bytes },
        }
    }
}

/// Who wrote a paper's TL;DR: digests say which kind they show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TldrSource {
    /// Sentences picked from the abstract (no external service).
    #[default]
    Extractive,
    /// Written by the configured LLM.
    Llm,
}

impl TldrSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TldrSource::Extractive => "extractive",
            TldrSource::Llm => "llm",
        }
    }

    /// The label in front of a TL;DR, in the chat's language.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            TldrSource::Extractive => t(lang, "TL;DR (from the abstract):", "摘要（摘自原文）："),
            TldrSource::Llm => t(lang, "TL;DR (AI):", "摘要（AI）："),
        }
    }
}

/// One paper as a chat shows it: every text is plain (adapters escape for their markup) and
/// holds TeX as arXiv has it (adapters read it with `tex`: Unicode math, bold where they can).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaperItem {
    pub id: String,
    pub title: String,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub abs_url: String,
    pub pdf_url: Option<String>,
    pub code_urls: Vec<String>,
    pub tldr: Option<String>,
    pub tldr_source: TldrSource,
    /// Up to five key takeaways (LLM only).
    pub takeaways: Vec<String>,
    /// Title and TL;DR in the chat's language, when that is not the paper's (LLM only).
    pub title_translated: Option<String>,
    pub tldr_translated: Option<String>,
    /// The project page (from the abstract, the comment or Hugging Face).
    pub project_url: Option<String>,
    /// Hugging Face upvotes and GitHub stars, when known.
    pub upvotes: Option<u32>,
    pub stars: Option<u32>,
    /// Names of the subscribed topics this paper matched (a paper is shown once per digest).
    pub topics: Vec<String>,
    /// Where a search's words matched in the abstract (`/search` results only).
    pub matched: Option<Matched>,
    /// How likely the chat likes it and why, when the chat has a taste model.
    pub relevance: Option<Relevance>,
    /// The chat's ratings of it so far, shown on its button.
    pub rated: Rated,
    /// Its figure from the arXiv HTML edition, when known.
    pub figure: Option<FigureItem>,
    /// Its arXiv HTML edition, when one exists (or is not known to be missing).
    pub html_url: Option<String>,
}

/// A paper's figure as chats show it: an image address (absolute), its caption as readable
/// text, and the size the paper's page gives it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FigureItem {
    pub url: String,
    pub caption: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl FigureItem {
    /// Whether chat apps show the image: Discord's embeds and Telegram's previews take PNG,
    /// JPEG, GIF and WebP, not the SVG drawings arXiv's HTML edition often has (the web shows
    /// those).
    pub fn shows_in_chat(&self) -> bool {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        matches!(
            ext.as_deref(),
            Some("png" | "jpg" | "jpeg" | "gif" | "webp")
        )
    }
}

/// A paper's figure, when chat apps can show it.
pub fn chat_figure(p: &PaperItem) -> Option<&FigureItem> {
    p.figure.as_ref().filter(|f| f.shows_in_chat())
}

/// A chat's ratings of one paper, every member's together, as its buttons show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rated {
    pub up: u32,
    pub down: u32,
    pub saved: u32,
}

/// Why a tap's rating was not recorded: a short text for the person who tapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotRated(pub String);

/// A rating a person gives with a tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// 👍 (a second 👍 takes it back)
    Up,
    /// 👎 (a second 👎 takes it back)
    Down,
    /// ⭐ save (a second ⭐ takes it back)
    Save,
}

/// A paper's relevance to a chat that rated papers: a small mark and a short reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Relevance {
    /// Three dots filled by how likely the chat likes it (`●●○`).
    pub mark: String,
    /// The words or the liked paper it resembles (`diffusion, video`; `like “NeRF…”`).
    pub why: Option<String>,
}

impl Relevance {
    /// The line a paper shows it on: `●●○ for you: diffusion, video`.
    pub fn line(&self, lang: Lang) -> String {
        match &self.why {
            Some(why) => format!("{} {} {why}", self.mark, t(lang, "for you:", "推荐理由：")),
            None => self.mark.clone(),
        }
    }
}

/// A fragment of a text with the byte ranges (within it) of the words a search matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Matched {
    pub text: String,
    pub marks: Vec<std::ops::Range<usize>>,
}

impl Matched {
    /// The fragment in pieces, each with whether it is a matched word; ranges that are out of
    /// order, overlapping or not on character boundaries are ignored.
    pub fn pieces(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        let mut at = 0;
        for r in &self.marks {
            if r.start < at
                || r.end <= r.start
                || !self.text.is_char_boundary(r.start)
                || !self.text.is_char_boundary(r.end)
                || r.end > self.text.len()
            {
                continue;
            }
            if r.start > at {
                out.push((&self.text[at..r.start], false));
            }
            out.push((&self.text[r.clone()], true));
            at = r.end;
        }
        if at < self.text.len() {
            out.push((&self.text[at..], false));
        }
        out
    }
}

/// A platform-neutral digest: one topic (or several, combined) for one announcement day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestMessage {
    pub title: String,
    pub day: String,
    pub overview: Option<String>,
    pub papers: Vec<PaperItem>,
    /// Papers left out because of the chat's `max` setting.
    pub more: usize,
    /// Topic id to offer an Unsubscribe button for.
    pub unsubscribe_topic: Option<String>,
    /// The chat's language, for the adapter's own words (buttons, "more").
    pub lang: Lang,
    /// Titles and links only (the chat's `format compact`), no TL;DR.
    pub compact: bool,
}

/// A configured topic as a topic list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicItem {
    pub id: String,
    pub name: String,
    pub subscribed: bool,
}

/// Who sent a command, and from where, as the adapter knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub chat: ChatRef,
    /// May change this chat's subscriptions and settings: always in a private chat; chat
    /// administrators (Telegram) or Manage Channels (Discord) elsewhere.
    pub can_manage: bool,
    /// The person's client language (`en`, `zh-hans`, ...), when the platform says.
    pub locale: Option<String>,
    /// Who tapped or typed (the platform's user id), when the platform says: in groups every
    /// member's rating counts on its own.
    pub member: Option<String>,
}

/// What the core answers to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Text(String),
    Papers {
        heading: String,
        papers: Vec<PaperItem>,
        more: Option<Command>,
    },
    Topics {
        heading: String,
        topics: Vec<TopicItem>,
        page: u32,
        pages: u32,
    },
    Digests(Vec<DigestMessage>),
    /// A file to send (`/saved bib`), with a line about it.
    File {
        name: String,
        bytes: Vec<u8>,
        caption: String,
    },
    /// A mistake the person can fix; the text says how.
    UserError(String),
}

/// A reply with the language it is written in, so the adapter can word its buttons alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub lang: Lang,
    pub reply: Reply,
}

/// What adapters call into: the core's shared command layer and its chat bookkeeping. The
/// methods may block briefly on the store; adapters call them through `offload::Offload`.
pub trait Handler: Send + Sync + 'static {
    /// Runs one command. Internal failures come back as a polite text, never as a panic.
    fn command(&self, caller: &Caller, cmd: Command) -> Answer;
    /// The language the core would answer this caller in (for texts the adapter writes alone).
    fn lang(&self, caller: &Caller) -> Lang;
    /// The chat refuses the bot (blocked, kicked, deleted): keep its subscriptions, stop sending
    /// until any new command from it.
    fn chat_gone(&self, chat: &ChatRef, why: &str);
    /// The chat moved to a new id (a Telegram group became a supergroup); everything follows.
    fn chat_moved(&self, from: &ChatRef, to: &ChatRef);
    /// Topics to offer while a person types one (Discord's autocomplete): this chat's
    /// subscriptions, configured topics and arXiv categories matching `typed`, best first.
    fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem>;
    /// One person's tap on a paper's rating button: stored durably before this returns, then
    /// the chat's tally of the paper. `tap` is the platform's id for the tap (a callback query,
    /// an interaction): the same tap handed over twice counts once. `Err` is a short text to
    /// show the person.
    fn rate(&self, caller: &Caller, paper: &str, rate: Rate, tap: &str) -> Result<Rated, NotRated>;
    /// The chat's tallies of `papers`, for the buttons under a message (in order).
    fn rated(&self, chat: &ChatRef, papers: &[String]) -> Vec<Rated>;
}

/// Why a send failed, in terms the delivery policy acts on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// This chat (or route) must wait.
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// Every send to this platform must wait (Discord's global 429).
    #[error("rate limited globally: retry after {0:?}")]
    GlobalRetryAfter(Duration),
    #[error("the chat is gone or refuses the bot: {0}")]
    Permanent(String),
    #[error("the chat moved to {0}")]
    Migrated(String),
    #[error("message too long")]
    TooLong,
    /// The platform refused this message (a bad request); retrying will not help, and the chat
    /// itself is fine.
    #[error("the platform refused the message: {0}")]
    Rejected(String),
    #[error("transient failure: {0}")]
    Transient(String),
}

/// A message the platform accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// The platform says this chat's route takes nothing more for this long (Discord's
    /// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`): wait instead of earning a 429.
    pub route_wait: Option<Duration>,
}

/// What every adapter provides to the core's delivery. A digest is rendered once into
/// platform messages (parts); the delivery sends them one by one and records each, so a crash
/// between parts resends only the part that was in flight.
pub trait ChatPlatform: Send + Sync + 'static {
    /// One platform message, ready to send.
    type Part: Send + Sync + 'static;
    fn platform(&self) -> Platform;
    /// The messages a digest takes, in order. Pure: the same digest gives the same parts.
    fn render(&self, message: &DigestMessage) -> Vec<Self::Part>;
    fn send_part(
        &self,
        chat: &ChatRef,
        part: &Self::Part,
    ) -> impl Future<Output = Result<Sent, SendError>> + Send;
    /// Sends a whole digest (replies, tests): every part in order, stopping at the first error.
    fn send(
        &self,
        chat: &ChatRef,
        message: &DigestMessage,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        let parts = self.render(message);
        async move {
            for p in &parts {
                self.send_part(chat, p).await?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_round_trip() {
        for p in [Platform::Telegram, Platform::Discord] {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
        }
        assert_eq!(Platform::parse("irc"), None);
    }

    #[test]
    fn chat_ref_displays_platform_and_id() {
        let c = ChatRef {
            platform: Platform::Telegram,
            id: "-100123".into(),
        };
        assert_eq!(c.to_string(), "telegram:-100123");
    }

    #[test]
    fn chat_apps_show_raster_figures_only() {
        let f = |url: &str| FigureItem {
            url: url.into(),
            ..Default::default()
        };
        assert!(f("https://arxiv.org/html/2401.00001v1/x1.png").shows_in_chat());
        assert!(f("https://arxiv.org/html/2401.00001v1/extracted/1/img/A.JPG?x=1").shows_in_chat());
        assert!(!f("https://arxiv.org/html/2503.20783v2/fig1.svg").shows_in_chat());
        assert!(!f("https://arxiv.org/html/2401.00001v1/figure").shows_in_chat());
    }
}

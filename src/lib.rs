//! paperbell: a self-hosted bot that rings when new arXiv papers land.
//!
//! Code map (see ARCHITECTURE.md for the data flow):
//! - [`config`]: the only reader of files and environment -> typed `Config`.
//! - [`paper`]: `Paper`, `PaperId` (no version), `Category`, `AnnounceType`, calendar rule.
//! - [`categories`]: the arXiv taxonomy (validation, suggestions).
//! - [`sources`]: `parse(&[u8])` (pure, all arXiv formats) and `fetch` (thin, polite HTTP).
//! - [`store`]: sled behind a typed API; versioned records; atomic batches.
//! - [`topics`]: topic matcher, ad-hoc query syntax, arXiv `search_query` rendering.
//! - [`summary`]: code links (TL;DRs and LLM summaries come later).
//! - [`commands`]: chat commands shared by every platform: `Command` -> store -> `Reply`;
//!   topic suggestions for Discord's autocomplete.
//! - [`i18n`]: the bot's languages (English, Simplified Chinese).
//! - [`digest`]: pure digest building and plain-text / Markdown / JSON rendering.
//! - [`scheduler`]: the cron fetch job, per-chat delivery times (pure), stdout digests.
//! - [`delivery`]: planning into the durable outbox, per-platform senders, rate limits and
//!   the failure policy, `paperbell status`.
//!
//! Invariants:
//! - Only `bots/telegram` knows teloxide; only `bots/discord` knows serenity; only
//!   [`store`] knows sled.
//! - Only [`config`] reads the environment or config files.
//! - Parsing, matching, digest building and rendering are pure functions over values: no I/O,
//!   no clock (`now` is passed in).
//! - Every long-running component is `async fn run(self, shutdown: CancellationToken) -> Result<()>`;
//!   main tracks them, and SIGTERM / Ctrl-C stop everything cleanly (the store is flushed).
//! - No secret (bot token, API key) is ever written to a log, an error message or the store.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod compose;
pub mod config;
pub mod delivery;
pub mod digest;
pub use paperbell_chat::i18n;
pub mod model;
pub mod scheduler;
pub mod sources;
pub mod store;
pub mod summary;
pub mod topics;

/// Runs `a` on a scoped thread of its own and `b` on this one, and returns both results; a
/// panic in `a` goes on in the caller. For the few steps of a large planning run that are
/// independent and worth the second core.
pub(crate) fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        let a = a.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (a, b)
    })
}

#[cfg(test)]
mod tidy;

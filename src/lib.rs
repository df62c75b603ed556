//! paperbell: a self-hosted bot that rings when new arXiv papers land.
//!
//! Code map, bottom to top (ARCHITECTURE.md has the whole map and what each may use):
//! - model: [`model`] — the domain's values: papers, categories, chats with typed settings,
//!   subscriptions, enrichment facts, delivery records. No I/O.
//! - pure: [`sources`]`::parse` (every arXiv format) and `arxiv_html` (a paper's figure from its
//!   HTML edition), [`query`] (the query language: parser, tree, meaning, snippets, arXiv form),
//!   [`topics`] (a query with a policy, topic definitions),
//!   [`digest`] (planning, ranking, rendering), [`summary`]'s TL;DR, overview and links,
//!   [`delivery`]'s times, limits and policy; TeX read for people is `paperbell_chat::tex`.
//! - state: [`store`] — sled behind a typed API; versioned records; atomic batches; memos;
//!   the change log. [`search`] — the full-text index derived from the store (tantivy).
//! - services: [`compose`] (a chat's digest from the store), [`delivery`] (planning, sending,
//!   status), [`commands`] (chat commands, one file per family), [`scheduler`] (the fetch job),
//!   [`summary`]`::enrich` (the enrichment job, with `summary::figures`), [`cli`] (what
//!   subcommands compute).
//! - edges: `main` (arguments and wiring), [`config`] (the only reader of files and the
//!   environment), [`clock`] (the only reader of the wall clock), the adapters in `bots/`.
//!
//! Invariants (checked by the tidy tests where a test can):
//! - Only `bots/telegram` knows teloxide; only `bots/discord` knows serenity; only
//!   [`store`] knows sled; only [`search`]'s index and text analysis know tantivy; only
//!   `sources::arxiv_html` parses HTML; only `paperbell_chat::tex` knows pulldown-latex.
//! - Only [`config`] reads the environment or config files; only [`clock`] (and `main`) reads
//!   the wall clock: library code is handed `now` or a `Clock`.
//! - Parsing, matching, digest building and rendering are pure functions over values.
//! - Every long-running component is `async fn run(self, shutdown: CancellationToken)`; main
//!   tracks them, and SIGTERM / Ctrl-C stop everything cleanly (the store is flushed).
//! - Typed errors in the library; `anyhow` only in `main`.
//! - Layers point down; services meet in [`compose`], never in each other's code.
//! - No secret (bot token, API key) is ever written to a log, an error message or the store.

pub mod backup;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod compose;
pub mod config;
pub mod control;
pub mod delivery;
pub mod digest;
pub mod learn;
pub mod low_priority;
pub use paperbell_chat::i18n;
pub mod metrics;
pub mod model;
pub mod query;
pub mod scheduler;
pub mod search;
pub mod sources;
pub mod store;
pub mod summary;
pub mod taste;
pub mod topics;
pub mod web;

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

//! A chat's digest composed from the store: which topic a subscription follows and its papers
//! over a span of days (`papers`), those papers ranked with their facts and the overview's
//! background (`rank`), papers as chats show them with what Hugging Face and the LLM said
//! (`item`), and whole digest messages: `/digest`'s (`today`), an outbox item's (`message`)
//! and the terminal's (`terminal`); which papers want a figure after a fetch (`figures`).
//!
//! `/digest`, delivery's planning and senders, and enrichment all come here; none of them
//! reaches into another's code. It reads the store and never writes it; the decisions (what a
//! digest holds, in which order) are `digest`'s pure functions.

pub mod day_keywords;
pub mod figures;
pub mod for_you;
mod item;
mod message;
mod papers;
mod rank;
pub mod taste;
mod terminal;
mod today;

pub use item::{item, overview_with_llm};
pub use message::{EXTRACTIVE_RECHECK, PaperCache, digest_bytes, digest_message};
pub use papers::{is_configured, papers_between, topic_of};
pub use rank::{background, rank};
pub use terminal::{LOCAL_CHAT, day_digests};
pub use today::{Today, ranked_day, today};

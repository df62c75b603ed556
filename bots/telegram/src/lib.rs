//! paperbell's Telegram adapter; the only crate that knows Telegram and teloxide. `parse` and
//! `render` are pure (command texts and button data in; HTML messages within Telegram's
//! limits out); `bot` is the thin teloxide edge: long polling or a webhook, the admin check,
//! sends with error mapping, and `paperbell_chat::ChatPlatform` for delivery.

pub mod bot;
pub mod parse;
pub mod render;

pub use bot::{TelegramBot, TelegramSettings};
pub use paperbell_chat::Platform;

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Telegram;

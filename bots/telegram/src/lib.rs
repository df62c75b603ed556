//! paperbell's Telegram adapter. Only this crate knows Telegram: today its HTML rendering and
//! message splitting (`render`); the teloxide client, commands and delivery arrive with the
//! Telegram issue and will implement the contract's `paperbell_chat::ChatPlatform`.

pub mod render;

pub use paperbell_chat::Platform;

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Telegram;

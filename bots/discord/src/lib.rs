//! paperbell's Discord adapter. Only this crate knows Discord and serenity: the slash commands
//! and option parsing (`parse`), embed rendering within Discord's limits (`render`), and the
//! serenity client, HTTP-interactions endpoint and digest sending (`bot`), which implements
//! the contract's `paperbell_chat::ChatPlatform`.

pub mod bot;
pub mod parse;
pub mod render;

pub use bot::{DiscordBot, DiscordError, DiscordMode, DiscordSettings, INTERACTIONS_PATH};
pub use paperbell_chat::Platform;

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Discord;

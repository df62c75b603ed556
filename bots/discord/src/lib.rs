//! paperbell's Discord adapter. Only this crate knows Discord and serenity: the slash commands
//! and option parsing (`parse`), embed rendering within Discord's limits (`render`), and the
//! serenity client, HTTP-interactions endpoint and digest sending (`bot`), which implements
//! the contract's `paperbell_chat::ChatPlatform`.

pub mod bot;
pub mod parse;
pub mod render;

pub use bot::{DiscordBot, DiscordError, DiscordMode, DiscordSettings, INTERACTIONS_PATH};
pub use paperbell_chat::Platform;

/// A tracing directive the service adds to whatever log filter it runs with: serenity's REST
/// client records each request, interaction tokens included, in an info-level span that every
/// event inside it (hyper's debug lines) would print. Interaction tokens are secrets for 15
/// minutes, so that span stays off.
pub const LOG_FILTER: &str = "serenity::http::client=warn";

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Discord;

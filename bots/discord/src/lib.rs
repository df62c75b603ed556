//! paperbell's Discord adapter. Only this crate knows Discord: today its embed rendering within
//! Discord's limits (`render`); the serenity client, slash commands and delivery arrive with the
//! Discord issue and will implement the contract's `paperbell_chat::ChatPlatform`.

pub mod render;

pub use paperbell_chat::Platform;

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Discord;

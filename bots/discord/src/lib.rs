//! paperbell's Discord adapter. Only this crate will know serenity (see the Discord issue);
//! until then it holds no platform code, only its place in the workspace and the contract it
//! will implement (`paperbell_chat::ChatPlatform`).

pub use paperbell_chat::Platform;

/// The platform this adapter serves.
pub const PLATFORM: Platform = Platform::Discord;

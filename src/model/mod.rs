//! The domain's values, with no I/O: papers and the arXiv taxonomy, chats with their typed
//! settings and subscriptions, what enrichment learns about a paper, and delivery's records.
//! Every other layer speaks in these types; `store` only maps them to sled.

pub mod categories;
pub mod chat;
pub mod delivery;
pub mod enrichment;
pub mod paper;
pub mod rating;
pub mod weigh;

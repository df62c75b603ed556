//! What delivery decides and records, as values: a chat's delivery state, a planned digest
//! message (paper ids, not texts), an outbox item, one chat's plan, and the counters. The
//! store keeps them (`store::outbox`); planning and the senders make and read them.

use std::sync::Arc;

use chrono::NaiveDate;
use paperbell_chat::ChatRef;
use serde::{Deserialize, Serialize};

/// A chat's delivery bookkeeping, written only by planning (and moved by a migration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryState {
    /// The chat's local day of its last planned digest: never two on one local day.
    pub last_day: Option<NaiveDate>,
    /// The newest announcement day planning has looked at for this chat: later plans start
    /// after it, so nothing is planned twice and a chat with nothing new costs one read.
    pub covered: Option<NaiveDate>,
}

/// A digest message as planned: paper ids, not texts (texts are built when it is sent, from
/// the store), so that a 100k-chat outbox stays small.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlannedMessage {
    pub title: String,
    /// The announcement day(s) it covers, as shown.
    pub day: String,
    /// Paper ids, each with the names of the chat's topics it matched.
    pub papers: Vec<(String, Vec<String>)>,
    /// Papers left out by the chat's `max`.
    pub more: u32,
    pub unsubscribe_topic: Option<String>,
    pub lang: String,
    pub compact: bool,
    /// The overview line (counts and keywords), worked out when planned.
    pub overview: Option<String>,
}

impl crate::model::weigh::Weigh for PlannedMessage {
    fn weigh(&self) -> usize {
        let papers: usize = self
            .papers
            .iter()
            .map(|(id, topics)| id.weigh() + topics.weigh())
            .sum();
        size_of::<PlannedMessage>()
            + self.title.weigh()
            + self.day.weigh()
            + papers
            + self.overview.as_ref().map_or(0, |o| o.weigh())
            + self.unsubscribe_topic.as_ref().map_or(0, |t| t.weigh())
    }
}

/// One message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// `platform:id`.
    pub chat: String,
    pub local_day: NaiveDate,
    pub message: PlannedMessage,
    /// Platform messages of this digest already accepted (a long digest takes several).
    pub parts_done: u32,
    /// Transient failures so far.
    pub attempts: u32,
    /// When it was planned (unix seconds): items older than the maximum age are dropped.
    pub planned_at: i64,
}

/// Everything planning decided for one chat. Chats with the same topics and settings share
/// their messages (the `Arc`s), which the outbox and the ledger store once per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPlan {
    pub chat: ChatRef,
    pub state: DeliveryState,
    /// The local day the messages belong to (the ledger's day).
    pub local_day: NaiveDate,
    pub messages: Vec<Arc<PlannedMessage>>,
}

/// Delivery counters of one platform, since the store was created. `planned` is kept by
/// planning, the rest by the sender, under separate keys so neither overwrites the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub planned: u64,
    pub sent: u64,
    pub retried: u64,
    pub dropped: u64,
    pub deactivated: u64,
}

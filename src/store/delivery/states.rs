//! Delivery states per bucket of chats (`B`): each chat's last digest day ("one per local
//! day") and the newest announcement day planning looked at.

use std::collections::HashMap;

use chrono::NaiveDate;
use paperbell_chat::ChatRef;
use serde::{Deserialize, Serialize};

use super::*;
use crate::model::delivery::DeliveryState;
use crate::store::codec::{self, decode};
use crate::store::{Result, Store, chat_key};

/// The delivery states of one bucket's chats, sorted by chat.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct StateBucket(pub(super) Vec<StateEntry>);

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StateEntry {
    pub(super) chat: String,
    #[serde(with = "codec::opt_day_num")]
    pub(super) last_day: Option<NaiveDate>,
    #[serde(with = "codec::opt_day_num")]
    pub(super) covered: Option<NaiveDate>,
}

impl StateEntry {
    pub(super) fn state(&self) -> DeliveryState {
        DeliveryState {
            last_day: self.last_day,
            covered: self.covered,
        }
    }
}

impl StateBucket {
    pub(super) fn find(&self, chat: &str) -> std::result::Result<usize, usize> {
        self.0.binary_search_by(|e| e.chat.as_str().cmp(chat))
    }

    pub(super) fn get(&self, chat: &str) -> Option<DeliveryState> {
        Some(self.0[self.find(chat).ok()?].state())
    }

    pub(super) fn set(&mut self, chat: &str, state: DeliveryState) {
        match self.find(chat) {
            Ok(i) => {
                self.0[i].last_day = state.last_day;
                self.0[i].covered = state.covered;
            }
            Err(i) => self.0.insert(
                i,
                StateEntry {
                    chat: chat.to_string(),
                    last_day: state.last_day,
                    covered: state.covered,
                },
            ),
        }
    }

    pub(super) fn take(&mut self, chat: &str) -> Option<DeliveryState> {
        let i = self.find(chat).ok()?;
        Some(self.0.remove(i).state())
    }
}

impl Store {
    pub fn delivery_state(&self, c: &ChatRef) -> Result<DeliveryState> {
        let ck = chat_key(c);
        Ok(StateBucket::read(&self.db, &states_key(bucket_of(&ck)))?
            .get(&ck)
            .unwrap_or_default())
    }

    /// Every chat's delivery state, by chat key: one read per bucket, for planning.
    pub fn delivery_states(&self) -> Result<HashMap<String, DeliveryState>> {
        let mut out = HashMap::new();
        for item in self.db.scan_prefix([b'B']) {
            let (_, v) = item?;
            let b: StateBucket = decode(StateBucket::VERSION, StateBucket::WHAT, &v)?;
            out.extend(b.0.into_iter().map(|e| {
                let state = e.state();
                (e.chat, state)
            }));
        }
        Ok(out)
    }
}

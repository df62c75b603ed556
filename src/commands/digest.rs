//! `/digest`: this chat's digest now, composed as delivery would (`compose::today`), in the
//! chat's order once it rated papers.

use paperbell_chat::{Caller, Reply};

use super::{CommandError, Commands, user};
use crate::compose::{Today, today};
use crate::i18n::t;
use crate::model::chat::Effective;

impl Commands<'_> {
    /// For each subscription, its papers of the newest announcement day.
    pub(super) fn digest(&self, caller: &Caller, eff: &Effective) -> Result<Reply, CommandError> {
        let lang = eff.lang;
        let subs = self.store.subscriptions(&caller.chat)?;
        if subs.is_empty() {
            return Ok(user(t(
                lang,
                "Subscribe to a topic first: /subscribe nerf",
                "请先订阅主题：/subscribe nerf",
            )));
        }
        let taste = self.store.taste(&caller.chat.to_string())?;
        Ok(
            match today(self.store, self.topics, &subs, eff, taste.as_ref())? {
                Today::NothingFetched => Reply::Text(
                    t(lang, "Nothing has been fetched yet.", "尚未抓取任何内容。").into(),
                ),
                Today::Empty(day) => Reply::Text(format!(
                    "{} {day}.",
                    t(
                        lang,
                        "None of this chat's topics has papers on",
                        "本聊天的主题在该日没有论文："
                    )
                )),
                Today::Digests(messages) => Reply::Digests(messages),
            },
        )
    }
}

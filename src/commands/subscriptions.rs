//! `/subscribe`, `/unsubscribe`, `/list` and `/topics`: what a chat follows.

use paperbell_chat::{Caller, Reply, TopicItem};

use super::settings::show;
use super::{CommandError, Commands, TOPICS_PER_PAGE, user};
use crate::compose::for_you::{FOR_YOU, categories};
use crate::i18n::{Lang, t};
use crate::model::chat::{Effective, Subscription};

/// `for-you`, as people may type it.
fn is_for_you_name(name: &str) -> bool {
    let n = name.trim();
    ["for-you", "foryou", "for_you", "for you"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(n))
}

impl Commands<'_> {
    pub(super) fn subscribe(
        &self,
        caller: &Caller,
        lang: Lang,
        name: &str,
    ) -> Result<Reply, CommandError> {
        if is_for_you_name(name) {
            return self.subscribe_for_you(caller, lang);
        }
        let topic = match self.resolve(lang, name) {
            Ok(t) => t,
            Err(r) => return Ok(r),
        };
        let sub = Subscription {
            topic_id: topic.id.clone(),
            topic_name: topic.name.clone(),
            query: topic.id.starts_with("q:").then(|| topic.name.clone()),
            // Digests start after what is already announced: subscribing never floods.
            since: self.store.latest_day()?,
        };
        let fresh = self.store.subscribe(&caller.chat, &sub)?;
        let text = if fresh {
            format!(
                "{} {}. {}",
                t(lang, "Subscribed to", "已订阅"),
                topic.name,
                t(
                    lang,
                    "Digests start with the next announcement; /digest shows the latest now.",
                    "摘要将从下一次公告开始；/digest 可立即查看最新内容。"
                )
            )
        } else {
            format!(
                "{} {}.",
                t(lang, "This chat is already subscribed to", "本聊天已订阅"),
                topic.name
            )
        };
        Ok(Reply::Text(text))
    }

    /// `/subscribe for-you`: the best new papers in the chat's categories, in its own order.
    fn subscribe_for_you(&self, caller: &Caller, lang: Lang) -> Result<Reply, CommandError> {
        let sub = Subscription {
            topic_id: FOR_YOU.to_string(),
            topic_name: FOR_YOU.to_string(),
            query: None,
            since: self.store.latest_day()?,
        };
        if !self.store.subscribe(&caller.chat, &sub)? {
            return Ok(Reply::Text(format!(
                "{} {FOR_YOU}.",
                t(lang, "This chat is already subscribed to", "本聊天已订阅")
            )));
        }
        let cats = categories(self.store, self.topics, &caller.chat)?;
        let scope = if cats.is_empty() {
            t(lang, "every category", "所有分类").to_string()
        } else {
            cats.iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        Ok(Reply::Text(format!(
            "{} {FOR_YOU}: {} {scope}. {}",
            t(lang, "Subscribed to", "已订阅"),
            t(
                lang,
                "each digest brings the best new papers for this chat in",
                "每期摘要带来最适合本聊天的新论文，范围："
            ),
            t(
                lang,
                "Rate papers with their number buttons (👍 👎 ⭐) or /import your library to teach it; /settings cats (e.g. cats cs.CV cs.RO) changes the categories.",
                "用论文的编号按钮评分（👍 👎 ⭐）或 /import 导入文献库来训练它；/settings cats（如 cats cs.CV cs.RO）可更改分类。"
            )
        )))
    }

    pub(super) fn unsubscribe(
        &self,
        caller: &Caller,
        lang: Lang,
        name: &str,
    ) -> Result<Reply, CommandError> {
        let subs = self.store.subscriptions(&caller.chat)?;
        let wanted = name.trim();
        let by_name = subs.iter().find(|s| {
            s.topic_id.eq_ignore_ascii_case(wanted) || s.topic_name.eq_ignore_ascii_case(wanted)
        });
        let by_resolve = || {
            let id = self.topics.resolve(wanted).ok()?.id;
            subs.iter().find(|s| s.topic_id == id)
        };
        match by_name.or_else(by_resolve) {
            Some(s) => {
                self.store.unsubscribe(&caller.chat, &s.topic_id)?;
                Ok(Reply::Text(format!(
                    "{} {}.",
                    t(lang, "Unsubscribed from", "已取消订阅"),
                    s.topic_name
                )))
            }
            None if subs.is_empty() => Ok(user(t(
                lang,
                "This chat has no subscriptions. Subscribe with /subscribe <topic>.",
                "本聊天没有订阅。使用 /subscribe <主题> 订阅。",
            ))),
            None => {
                let names: Vec<&str> = subs.iter().map(|s| s.topic_name.as_str()).collect();
                Ok(Reply::UserError(format!(
                    "{} `{wanted}`. {} {}",
                    t(lang, "This chat is not subscribed to", "本聊天未订阅"),
                    t(lang, "Its subscriptions:", "当前订阅："),
                    names.join(", ")
                )))
            }
        }
    }

    pub(super) fn list(&self, caller: &Caller, eff: &Effective) -> Result<Reply, CommandError> {
        let lang = eff.lang;
        let subs = self.store.subscriptions(&caller.chat)?;
        if subs.is_empty() {
            return Ok(Reply::Text(
                t(
                    lang,
                    "No subscriptions yet. Try /topics, or /subscribe nerf, /subscribe cs.CV.",
                    "还没有订阅。试试 /topics，或 /subscribe nerf、/subscribe cs.CV。",
                )
                .into(),
            ));
        }
        let mut out = format!("{}\n", t(lang, "Subscriptions:", "订阅："));
        for s in &subs {
            out.push_str(&format!("• {} ({})\n", s.topic_name, s.topic_id));
        }
        out.push('\n');
        out.push_str(&show(eff));
        Ok(Reply::Text(out))
    }

    pub(super) fn topic_page(
        &self,
        caller: &Caller,
        lang: Lang,
        page: u32,
    ) -> Result<Reply, CommandError> {
        let subscribed: Vec<String> = self
            .store
            .subscriptions(&caller.chat)?
            .into_iter()
            .map(|s| s.topic_id)
            .collect();
        let all = &self.topics.topics;
        let pages = all.len().div_ceil(TOPICS_PER_PAGE).max(1) as u32;
        let page = page.min(pages - 1);
        let topics = all
            .iter()
            .skip(page as usize * TOPICS_PER_PAGE)
            .take(TOPICS_PER_PAGE)
            .map(|tp| TopicItem {
                id: tp.id.clone(),
                name: tp.name.clone(),
                subscribed: subscribed.contains(&tp.id),
            })
            .collect();
        Ok(Reply::Topics {
            heading: t(
                lang,
                "Topics (any arXiv category such as cs.CV, or a query, works too):",
                "主题（任何 arXiv 分类如 cs.CV，或查询，也可以）：",
            )
            .into(),
            topics,
            page,
            pages,
        })
    }
}

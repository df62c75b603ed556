//! `/saved` (the chat's saved papers, newest first) and `/forget` (its ratings, imports and
//! taste model deleted). Ratings themselves come from buttons, through `Handler::rate`.

use paperbell_chat::{Caller, Command, PaperItem, Reply};

use super::{CommandError, Commands};
use crate::compose::item;
use crate::i18n::{Lang, t};
use crate::model::paper::PaperId;

/// Saved papers per page of `/saved`.
const SAVED_PER_PAGE: usize = 5;

impl Commands<'_> {
    pub(super) fn saved(
        &self,
        caller: &Caller,
        lang: Lang,
        page: u32,
    ) -> Result<Reply, CommandError> {
        let chat = caller.chat.to_string();
        let mut saved: Vec<(String, i64)> = self
            .store
            .chat_ratings(&chat)?
            .into_iter()
            .filter(|(_, t)| t.saved > 0)
            .map(|(id, t)| (id, t.at))
            .collect();
        if saved.is_empty() {
            return Ok(Reply::Text(
                t(
                    lang,
                    "Nothing is saved here yet: tap a paper's number under any list of papers, then ⭐.",
                    "此处还没有收藏：在任意论文列表下点论文的编号，再点 ⭐。",
                )
                .into(),
            ));
        }
        saved.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let total = saved.len();
        let from = page as usize * SAVED_PER_PAGE;
        let mut papers = Vec::new();
        for (id, _) in saved.iter().skip(from).take(SAVED_PER_PAGE) {
            let stored = PaperId::parse(id)
                .map(|p| self.store.paper(&p))
                .transpose()?
                .flatten();
            papers.push(match stored {
                Some(sp) => item(self.store, &sp, &[], lang)?,
                // Saved, but no longer (or never) stored: the id and its link still help.
                None => PaperItem {
                    id: id.clone(),
                    title: format!(
                        "arXiv:{id} ({})",
                        t(lang, "not in this bot's store", "不在本机器人的存储中")
                    ),
                    abs_url: format!("https://arxiv.org/abs/{id}"),
                    ..PaperItem::default()
                },
            });
        }
        if papers.is_empty() {
            return Ok(Reply::Text(
                t(lang, "No more saved papers.", "没有更多收藏了。").into(),
            ));
        }
        Ok(Reply::Papers {
            heading: format!("{} ({total})", t(lang, "Saved here", "此处的收藏")),
            papers,
            more: (from + SAVED_PER_PAGE < total).then_some(Command::Saved { page: page + 1 }),
        })
    }

    pub(super) fn forget(&self, caller: &Caller, lang: Lang) -> Result<Reply, CommandError> {
        let gone = self.store.forget(&caller.chat.to_string())?;
        Ok(Reply::Text(if gone.ratings == 0 && !gone.model {
            t(
                lang,
                "There was nothing to forget: this chat has rated nothing.",
                "没有可删除的内容：此处尚未评分。",
            )
            .into()
        } else {
            format!(
                "{} {} {}",
                t(lang, "Forgotten:", "已删除："),
                gone.ratings,
                t(
                    lang,
                    "ratings and imported papers, and the taste model. Digests here are ranked as for everyone again.",
                    "条评分和导入记录，以及偏好模型。此处的摘要恢复默认排序。",
                )
            )
        }))
    }
}

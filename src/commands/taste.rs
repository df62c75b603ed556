//! `/saved` (the chat's saved papers, newest first, or all of them as a BibTeX file),
//! `/import` (a library or typed ids seeding the chat's taste) and `/forget` (its ratings,
//! imports and taste model deleted). Ratings themselves come from buttons, through
//! `Handler::rate`.

use paperbell_chat::{Caller, Command, PaperItem, Reply, Upload};

use super::{CommandError, Commands, user};
use crate::compose::item;
use crate::i18n::{Lang, t};
use crate::learn::import::{CHAT_TITLE_LOOKUPS, ImportError, Imported, import};
use crate::sources::library::{LibraryError, Saved, to_bibtex};

/// Saved papers per page of `/saved`.
const SAVED_PER_PAGE: usize = 5;

impl Commands<'_> {
    pub(super) fn saved(
        &self,
        caller: &Caller,
        lang: Lang,
        page: u32,
        bibtex: bool,
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
        if bibtex {
            return self.saved_bibtex(lang, &saved);
        }
        let from = page as usize * SAVED_PER_PAGE;
        let mut papers = Vec::new();
        for (id, _) in saved.iter().skip(from).take(SAVED_PER_PAGE) {
            papers.push(match self.store.paper_by_id(id)? {
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
            heading: format!(
                "{} ({total}) · {}",
                t(lang, "Saved here", "此处的收藏"),
                t(
                    lang,
                    "/saved bib: a BibTeX file",
                    "/saved bib：导出 BibTeX 文件"
                )
            ),
            papers,
            more: (from + SAVED_PER_PAGE < total).then_some(Command::Saved {
                page: page + 1,
                bibtex: false,
            }),
        })
    }

    /// `/saved bib`: every saved paper (newest first) as a BibTeX file, by id when the store
    /// no longer has it.
    fn saved_bibtex(&self, lang: Lang, saved: &[(String, i64)]) -> Result<Reply, CommandError> {
        let stored = saved
            .iter()
            .map(|(id, _)| self.store.paper_by_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let entries: Vec<Saved> = saved
            .iter()
            .zip(&stored)
            .map(|((id, _), sp)| match sp {
                Some(sp) => Saved::Stored(&sp.paper),
                None => Saved::Id(id),
            })
            .collect();
        Ok(Reply::File {
            name: "paperbell-saved.bib".into(),
            bytes: to_bibtex(&entries).into_bytes(),
            caption: format!(
                "{} ({}): {}",
                t(lang, "Saved here", "此处的收藏"),
                saved.len(),
                t(
                    lang,
                    "a BibTeX file for Zotero, Mendeley or LaTeX",
                    "可导入 Zotero、Mendeley 或 LaTeX 的 BibTeX 文件"
                )
            ),
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

    /// `/import`: arXiv ids or URLs typed after the command and a library file sent with it,
    /// matched, fetched where missing and counted as liked; the chat's model learns at once.
    pub(super) fn import(
        &self,
        caller: &Caller,
        lang: Lang,
        text: &str,
        file: Option<Upload>,
    ) -> Result<Reply, CommandError> {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        if !text.trim().is_empty() {
            // Typed ids may come on one line: one per line, as the library reader takes them.
            inputs.push(
                text.split_whitespace()
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes(),
            );
        }
        match file {
            Some(Upload::File { bytes, .. }) => inputs.push(bytes),
            Some(Upload::TooLarge { name, size }) => {
                return Ok(user(format!(
                    "{name}: {} ({} KB). {}",
                    t(lang, "the file is too large", "文件过大"),
                    size / 1024,
                    t(
                        lang,
                        "An import reads at most 2 MB; nothing was imported.",
                        "导入文件最大 2 MB；未导入任何内容。"
                    )
                )));
            }
            Some(Upload::Failed { name }) => {
                return Ok(user(format!(
                    "{name}: {}",
                    t(
                        lang,
                        "the file could not be downloaded; please send it again.",
                        "文件无法下载；请重新发送。"
                    )
                )));
            }
            None => {}
        }
        if inputs.is_empty() {
            return Ok(user(t(
                lang,
                "Import papers you like: /import 2407.11422 https://arxiv.org/abs/2003.08934, or send a BibTeX file (a Zotero, Mendeley or Google Scholar export, up to 2 MB) with /import as its caption.",
                "导入你喜欢的论文：/import 2407.11422 https://arxiv.org/abs/2003.08934，或发送 BibTeX 文件（Zotero、Mendeley 或 Google Scholar 导出，最大 2 MB），并以 /import 作为说明。",
            )));
        }
        let chat = caller.chat.to_string();
        let now = self.now;
        let mut done = Imported::default();
        for bytes in &inputs {
            let run = import(
                self.store,
                self.topics,
                self.arxiv,
                &chat,
                bytes,
                now,
                CHAT_TITLE_LOOKUPS,
            );
            match super::block_on(run) {
                Ok(d) => done.add(d),
                Err(ImportError::Library(e)) => return Ok(user(library_refusal(lang, &e))),
                Err(ImportError::Store(e)) => return Err(e.into()),
            }
        }
        let learnt = crate::learn::retrain(self.store, &chat)?;
        self.store.flush()?;
        Ok(Reply::Text(import_reply(lang, &done, learnt.is_some())))
    }
}

/// Why a library was refused, in the chat's language; nothing was imported.
fn library_refusal(lang: Lang, e: &LibraryError) -> String {
    let why = match e {
        LibraryError::TooLarge(_) => t(lang, "the file is over 2 MB", "文件超过 2 MB").to_string(),
        LibraryError::NotText => t(
            lang,
            "the file is not text: send a .bib export, or one arXiv id per line",
            "文件不是文本：请发送 .bib 导出文件，或每行一个 arXiv id",
        )
        .to_string(),
        LibraryError::BibTex { line, what } => format!(
            "{} {line}: {what}",
            t(
                lang,
                "the BibTeX does not parse at line",
                "BibTeX 解析失败，行"
            )
        ),
        LibraryError::Empty => t(
            lang,
            "no BibTeX entry and no arXiv id or URL in it",
            "其中没有 BibTeX 条目，也没有 arXiv id 或链接",
        )
        .to_string(),
    };
    format!(
        "{} {why}. {}",
        t(lang, "Could not import:", "无法导入："),
        t(lang, "Nothing was imported.", "未导入任何内容。")
    )
}

/// What an import did, as a chat reads it.
fn import_reply(lang: Lang, done: &Imported, learnt: bool) -> String {
    let mut out = format!(
        "{} {} · {} {} ({} {}) · {} {}",
        t(lang, "Found", "找到"),
        done.found,
        t(lang, "matched to arXiv papers", "匹配到 arXiv 论文"),
        done.matched,
        done.fetched,
        t(lang, "fetched from arXiv", "篇从 arXiv 获取"),
        t(lang, "not matched", "未匹配"),
        done.not_matched.len()
    );
    for label in done.not_matched.iter().take(10) {
        out.push_str(&format!("\n• {label}"));
    }
    if done.not_matched.len() > 10 {
        out.push_str(&format!(
            "\n… {} {}",
            done.not_matched.len() - 10,
            t(lang, "more", "条更多")
        ));
    }
    if done.over_limit > 0 {
        out.push_str(&format!(
            "\n{} {} ({} {})",
            done.over_limit,
            t(
                lang,
                "titles were not looked up: a chat import looks up at most",
                "个标题未查询：聊天导入最多查询"
            ),
            done.lookup_limit,
            t(
                lang,
                "at arXiv's pace; `paperbell import` on the server takes more",
                "个（arXiv 限速）；服务器上的 `paperbell import` 可查询更多"
            )
        ));
    }
    if let Some(e) = &done.arxiv_failed {
        out.push_str(&format!(
            "\n{} {e}",
            t(lang, "arXiv could not be asked:", "无法访问 arXiv：")
        ));
    }
    if learnt {
        out.push_str(&format!(
            "\n{}",
            t(
                lang,
                "This chat's digests now put papers like these first.",
                "此处的摘要将优先展示类似的论文。"
            )
        ));
    }
    out
}

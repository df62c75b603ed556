//! `/recent`, `/paper` and `/search`: stored papers on request.

use paperbell_chat::{Command, Matched, PaperItem, Reply};

use super::{CommandError, Commands, DEFAULT_RECENT, MAX_RECENT, SCAN_LIMIT, user};
use crate::compose::item;
use crate::i18n::{Lang, t};
use crate::model::paper::PaperId;
use crate::search::{self, QueryError, SearchIndex, Sort};

impl Commands<'_> {
    pub(super) fn recent(
        &self,
        lang: Lang,
        name: &str,
        count: Option<u32>,
        page: u32,
    ) -> Result<Reply, CommandError> {
        let topic = match self.resolve(lang, name) {
            Ok(t) => t,
            Err(r) => return Ok(r),
        };
        let count = count.unwrap_or(DEFAULT_RECENT).clamp(1, MAX_RECENT) as usize;
        let configured = self.topics.topics.iter().any(|c| c.id == topic.id);
        let want = count * (page as usize + 1);
        let found = self
            .store
            .recent(&topic, configured, want + 1, SCAN_LIMIT)?;
        let has_more = found.len() > want;
        let papers: Vec<PaperItem> = found
            .iter()
            .skip(count * page as usize)
            .take(count)
            .map(|sp| item(self.store, sp, &[], lang))
            .collect::<Result<_, _>>()?;
        if papers.is_empty() {
            return Ok(Reply::Text(format!(
                "{} {}.",
                t(lang, "No stored papers yet for", "暂无已存储的论文："),
                topic.name
            )));
        }
        Ok(Reply::Papers {
            heading: format!("{} {}", t(lang, "Newest in", "最新论文："), topic.name),
            papers,
            more: has_more.then(|| Command::Recent {
                topic: name.to_string(),
                count: Some(count as u32),
                page: page + 1,
            }),
        })
    }

    pub(super) fn paper(&self, lang: Lang, id: &str) -> Result<Reply, CommandError> {
        let Some(pid) = PaperId::parse(id) else {
            return Ok(user(t(
                lang,
                "That is not an arXiv id. Try /paper 2407.11422 or /paper https://arxiv.org/abs/2407.11422",
                "这不是 arXiv id。试试 /paper 2407.11422 或 /paper https://arxiv.org/abs/2407.11422",
            )));
        };
        match self.store.paper(&pid)? {
            Some(sp) => {
                self.figure_on_demand(&sp);
                Ok(Reply::Papers {
                    heading: format!("arXiv:{pid}"),
                    papers: vec![item(self.store, &sp, &[], lang)?],
                    more: self.search.is_some().then(|| Command::Similar {
                        id: pid.to_string(),
                        page: 0,
                    }),
                })
            }
            None => Ok(user(t(
                lang,
                "That paper is not in this bot's store (it keeps what its topics fetched).",
                "该论文不在本机器人的存储中（仅保存其主题抓取到的论文）。",
            ))),
        }
    }

    /// Asks arXiv's HTML edition for the paper's figure when nobody asked yet (a request at
    /// arXiv's pace: a moment). A failure leaves the paper without one; the reply still goes.
    fn figure_on_demand(&self, sp: &crate::model::paper::StoredPaper) {
        let Some(client) = self.arxiv.filter(|_| self.figures) else {
            return;
        };
        // `look_up` answers from the store when the figure was asked for before.
        if let Err(e) = super::block_on(crate::summary::figures::look_up(
            client, self.store, sp, false,
        )) {
            tracing::warn!(paper = %sp.paper.id, error = %e, "could not ask for a paper's figure");
        }
    }

    /// Ranked search through the index when the service has one, else the newest stored
    /// papers the same query selects (a scan of the newest 50,000).
    pub(super) fn search(&self, lang: Lang, words: &str, page: u32) -> Result<Reply, CommandError> {
        let query = match search::parse(words) {
            Ok(q) => q,
            Err(QueryError::Empty) => return Ok(user(search_help(lang))),
            Err(e) => {
                return Ok(user(format!(
                    "{} {e}. {}",
                    t(lang, "That query does not work:", "这个查询无法使用："),
                    t(
                        lang,
                        "/search alone explains the syntax.",
                        "单独发送 /search 查看语法。"
                    )
                )));
            }
        };
        match self.search {
            Some(index) => self.ranked_search(index, lang, words, &query, page),
            None => self.scan_search(lang, words, query),
        }
    }

    fn ranked_search(
        &self,
        index: &SearchIndex,
        lang: Lang,
        words: &str,
        query: &search::Expr,
        page: u32,
    ) -> Result<Reply, CommandError> {
        let offset = page as usize * SEARCH_PAGE;
        // One more than a page: whether a More button is wanted.
        let hits = index.search(query, Sort::Relevance, offset, SEARCH_PAGE + 1)?;
        let has_more = hits.len() > SEARCH_PAGE;
        let (abstracts, mut papers) = self.stored_items(hits, lang)?;
        let abstracts: Vec<&str> = abstracts.iter().map(String::as_str).collect();
        for (it, snippet) in papers.iter_mut().zip(search::snippets(query, &abstracts)) {
            it.matched = snippet.map(|s| Matched {
                text: s.text,
                marks: s.marks,
            });
        }
        Ok(page_of(
            papers,
            format!("{} “{words}”", t(lang, "Best matches for", "最佳匹配：")),
            format!(
                "{} “{words}”.",
                t(lang, "No stored paper matches", "没有已存储的论文匹配")
            ),
            has_more.then(|| Command::Search {
                words: words.to_string(),
                page: page + 1,
            }),
        ))
    }

    fn scan_search(
        &self,
        lang: Lang,
        words: &str,
        query: search::Expr,
    ) -> Result<Reply, CommandError> {
        let topic = crate::topics::Topic::for_search(words, query);
        let found = self.store.recent(&topic, false, 10, SCAN_LIMIT)?;
        if found.is_empty() {
            return Ok(Reply::Text(format!(
                "{} “{words}”.",
                t(lang, "No stored paper mentions", "没有已存储的论文包含")
            )));
        }
        Ok(Reply::Papers {
            heading: format!(
                "{} “{words}”",
                t(lang, "Newest papers mentioning", "包含以下内容的最新论文：")
            ),
            papers: found
                .iter()
                .map(|sp| item(self.store, sp, &[], lang))
                .collect::<Result<_, _>>()?,
            more: None,
        })
    }
}

impl Commands<'_> {
    /// The stored papers most like one, a page at a time.
    pub(super) fn similar(&self, lang: Lang, id: &str, page: u32) -> Result<Reply, CommandError> {
        let Some(index) = self.search else {
            return Ok(user(t(
                lang,
                "Similar papers need the search index, which this bot does not have right now.",
                "查找相似论文需要搜索索引，本机器人目前没有。",
            )));
        };
        let Some(pid) = PaperId::parse(id) else {
            return Ok(user(t(
                lang,
                "That is not an arXiv id. Try /similar 2407.11422 or /similar https://arxiv.org/abs/2407.11422",
                "这不是 arXiv id。试试 /similar 2407.11422 或 /similar https://arxiv.org/abs/2407.11422",
            )));
        };
        let Some(paper) = self.store.paper(&pid)? else {
            return Ok(user(t(
                lang,
                "That paper is not in this bot's store (it keeps what its topics fetched).",
                "该论文不在本机器人的存储中（仅保存其主题抓取到的论文）。",
            )));
        };
        let offset = page as usize * SEARCH_PAGE;
        let hits = search::neighbours::similar(index, self.store, &paper, offset, SEARCH_PAGE + 1)?;
        let has_more = hits.len() > SEARCH_PAGE;
        let (_, papers) = self.stored_items(hits, lang)?;
        Ok(page_of(
            papers,
            format!("{} arXiv:{pid}", t(lang, "Papers like", "相似论文：")),
            format!(
                "{} arXiv:{pid}.",
                t(
                    lang,
                    "No stored paper is like",
                    "没有与之相似的已存储论文："
                )
            ),
            has_more.then(|| Command::Similar {
                id: pid.to_string(),
                page: page + 1,
            }),
        ))
    }

    /// A page of hits as chats show them (those the store has), with their abstracts.
    fn stored_items(
        &self,
        hits: Vec<search::Hit>,
        lang: Lang,
    ) -> Result<(Vec<String>, Vec<PaperItem>), CommandError> {
        let stored = search::stored(self.store, hits.into_iter().take(SEARCH_PAGE))?;
        let mut abstracts = Vec::with_capacity(stored.len());
        let mut items = Vec::with_capacity(stored.len());
        for (sp, _) in stored {
            items.push(item(self.store, &sp, &[], lang)?);
            // Snippets read the abstract as chats show it: its TeX read, no `\mathcal`.
            abstracts.push(paperbell_chat::tex::plain(&sp.paper.abstract_text));
        }
        Ok((abstracts, items))
    }
}

/// A page of found papers under `heading`, or `none` when there are none.
fn page_of(papers: Vec<PaperItem>, heading: String, none: String, more: Option<Command>) -> Reply {
    if papers.is_empty() {
        return Reply::Text(none);
    }
    Reply::Papers {
        heading,
        papers,
        more,
    }
}

/// Results per page of `/search`.
const SEARCH_PAGE: usize = 5;

/// What `/search` without words answers: the query syntax.
fn search_help(lang: Lang) -> &'static str {
    t(
        lang,
        "Give me words to look for, best matches first, e.g. /search gaussian splatting relighting\n\
Also: \"exact phrase\" · nerf OR 3dgs · -survey · segment* · ti:word (title) · abs:word (abstract) · au:\"Kaiming He\" · cat:cs.CV · after:2025-06-01 · before:2026-01-01",
        "请给出要搜索的词，最相关的排在前面，例如 /search gaussian splatting relighting\n\
还支持：\"精确短语\" · nerf OR 3dgs · -survey · segment* · ti:词（标题）· abs:词（摘要）· au:\"Kaiming He\" · cat:cs.CV · after:2025-06-01 · before:2026-01-01",
    )
}

//! What each page of the archive shows, read from the store: the values the templates render
//! (the home page, a topic's day, a paper, search results, a topic's feed). No markup here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use paperbell_chat::{Lang, Matched};
use serde::Serialize;

use super::links::Links;
use crate::compose;
use crate::model::chat::Subscription;
use crate::model::paper::{PaperId, StoredPaper};
use crate::search::{self, SearchIndex, Sort};
use crate::store::{Store, StoreError};
use crate::topics::{Topic, TopicSet};

/// What the pages are made from: the service's store, its topics and, when it has one, its
/// search index.
#[derive(Clone)]
pub struct Archive {
    pub store: Arc<Store>,
    pub topics: Arc<TopicSet>,
    pub search: Option<Arc<SearchIndex>>,
}

/// Announcement days a topic's chart and the home page's trends span, back from the newest
/// stored day.
pub const CHART_DAYS: i64 = 90;
/// Papers per topic on the home page.
const HOME_TOP: usize = 3;
/// Announcement days in the home page's table and a topic page's day list.
const LAST_DAYS: usize = 7;
/// Results per search page, and the most pages a search walks.
pub const SEARCH_PAGE: usize = 20;
const SEARCH_MAX_PAGE: u32 = 50;
/// The longest query the search page takes: the query language's one limit.
pub use crate::query::MAX_QUERY_CHARS;
/// Without an index, the search page looks through at most this many of the newest papers
/// (as the chat's `/search` does).
const SCAN_LIMIT: usize = 50_000;
/// Papers in a topic's feed.
pub const FEED_PAPERS: usize = 50;
/// Similar papers on a paper's page.
const SIMILAR: usize = 5;

/// A paper as the pages list it.
#[derive(Debug, Serialize)]
pub struct PaperRow {
    pub id: String,
    pub href: String,
    pub abs_url: String,
    pub pdf_url: Option<String>,
    pub title: String,
    pub title_translated: Option<String>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    /// The day the paper was first announced.
    pub day: Option<String>,
    pub tldr: Option<String>,
    /// `llm` or `extractive`.
    pub tldr_kind: &'static str,
    pub tldr_translated: Option<String>,
    pub takeaways: Vec<String>,
    pub code_urls: Vec<String>,
    pub project_url: Option<String>,
    pub upvotes: Option<u32>,
    pub stars: Option<u32>,
    pub abstract_text: String,
    /// Its arXiv HTML edition, unless it is known to have none.
    pub html_url: Option<String>,
    pub figure: Option<FigureRow>,
}

/// A paper's figure on the pages: the image, its caption, its size as the paper gives it and
/// as a topic day's thumbnail shows it (`THUMB_WIDTH` wide).
#[derive(Debug, Serialize)]
pub struct FigureRow {
    pub url: String,
    pub caption: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub thumb_width: u32,
    pub thumb_height: u32,
}

/// How wide a topic day's thumbnails are (CSS pixels).
pub const THUMB_WIDTH: u32 = 128;

impl FigureRow {
    fn new(f: paperbell_chat::FigureItem) -> FigureRow {
        // Without the page's size, a landscape figure's usual shape (4:3) keeps the layout.
        let thumb_height = match (f.width, f.height) {
            (Some(w), Some(h)) if w > 0 => (THUMB_WIDTH * h / w).clamp(32, 3 * THUMB_WIDTH),
            _ => THUMB_WIDTH * 3 / 4,
        };
        FigureRow {
            url: f.url,
            caption: f.caption,
            width: f.width,
            height: f.height,
            thumb_width: THUMB_WIDTH,
            thumb_height,
        }
    }
}

/// A stored paper as the pages list it: what chats show of it (`compose::item`), its link,
/// day and abstract.
fn row(store: &Store, sp: &StoredPaper, lang: Lang, links: &Links) -> Result<PaperRow, StoreError> {
    let it = compose::item(store, sp, &[], lang)?;
    Ok(PaperRow {
        href: links.paper(&it.id),
        id: it.id,
        abs_url: it.abs_url,
        pdf_url: it.pdf_url,
        title: it.title,
        title_translated: it.title_translated,
        authors: it.authors,
        categories: it.categories,
        day: sp.first_announced.map(|d| d.to_string()),
        tldr: it.tldr,
        tldr_kind: it.tldr_source.as_str(),
        tldr_translated: it.tldr_translated,
        takeaways: it.takeaways,
        code_urls: it.code_urls,
        project_url: it.project_url,
        upvotes: it.upvotes,
        stars: it.stars,
        abstract_text: sp.paper.abstract_text.clone(),
        html_url: it.html_url,
        figure: it.figure.map(FigureRow::new),
    })
}

/// A link to a topic's day.
#[derive(Debug, Serialize)]
pub struct DayLink {
    pub day: String,
    pub href: String,
    pub count: usize,
    pub current: bool,
}

/// A topic on the home page.
#[derive(Debug, Serialize)]
pub struct TopicCard {
    pub id: String,
    pub name: String,
    pub href: String,
    pub feed: String,
    /// The topic's newest announcement day within the chart's span, and its papers.
    pub day: Option<DayLink>,
    pub top: Vec<PaperRow>,
    /// Papers over the chart's span, and the counts per day (for the trend).
    pub total: usize,
    #[serde(skip)]
    pub counts: Vec<(NaiveDate, usize)>,
    /// The trend's SVG, filled in by the site.
    pub trend: String,
}

/// One row of the home page's table of the last announcement days.
#[derive(Debug, Serialize)]
pub struct DayRow {
    pub day: String,
    /// Per topic (in the order of `Home::topics`): its papers that day, linked when any.
    pub cells: Vec<Option<DayLink>>,
}

#[derive(Debug, Serialize)]
pub struct Home {
    pub topics: Vec<TopicCard>,
    pub days: Vec<DayRow>,
    pub newest: Option<String>,
    pub papers: usize,
    /// The span of the trends.
    #[serde(skip)]
    pub span: Option<(NaiveDate, NaiveDate)>,
}

/// A topic's page of one announcement day.
#[derive(Debug, Serialize)]
pub struct TopicDay {
    pub id: String,
    pub name: String,
    pub day: Option<String>,
    pub overview: Option<String>,
    pub papers: Vec<PaperRow>,
    pub older: Option<DayLink>,
    pub newer: Option<DayLink>,
    pub newest_href: String,
    pub feed: String,
    pub chart: String,
    /// The topic's last announcement days, with this one marked.
    pub days: Vec<DayLink>,
}

/// A topic the paper entered, and on which day.
#[derive(Debug, Serialize)]
pub struct TopicLink {
    pub name: String,
    pub href: String,
    pub day: String,
}

/// Everything the store knows of one paper.
#[derive(Debug, Serialize)]
pub struct PaperPage {
    pub paper: PaperRow,
    pub version: u32,
    pub primary: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub comment: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub llm_model: Option<String>,
    pub hf_summary: Option<String>,
    pub hf_keywords: Vec<String>,
    /// The title and TL;DR in the other language, when the LLM's cache has them.
    pub translation: Option<Translation>,
    pub topics: Vec<TopicLink>,
    pub similar: Vec<SimilarLink>,
    pub has_search: bool,
}

/// A similar paper as a paper's page lists it: its title, linked, and its day (a full row's
/// summary, links and figure would be most of the page's making, unseen).
#[derive(Debug, Serialize)]
pub struct SimilarLink {
    pub href: String,
    pub title: String,
    pub day: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Translation {
    pub lang: &'static str,
    pub title: Option<String>,
    pub tldr: Option<String>,
}

/// One search result, with where the words matched in its abstract.
#[derive(Debug, Serialize)]
pub struct Found {
    pub paper: PaperRow,
    /// The snippet in pieces: (text, matched).
    pub snippet: Vec<(String, bool)>,
}

#[derive(Debug, Serialize)]
pub struct SearchPage {
    pub q: String,
    /// Why the query was refused, for the reader.
    pub problem: Option<String>,
    /// Ranked by the index (else the newest papers that have every word).
    pub ranked: bool,
    pub found: Vec<Found>,
    pub page: u32,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// A chart's first and last day, and the papers per day between (days with none left out).
pub type ChartDays = (NaiveDate, NaiveDate, Vec<(NaiveDate, usize)>);

/// A paper of a feed: as the pages list it, the day it entered the topic, and as stored.
pub type FeedPaper = (PaperRow, NaiveDate, StoredPaper);

/// Failures of a page: the store, or the search index.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] search::SearchError),
}

impl Archive {
    /// The configured topics the pages show (each has an id that is safe in a path).
    pub fn topic(&self, id: &str) -> Option<&Topic> {
        self.topics.topics.iter().find(|t| t.id == id)
    }

    fn subscription(t: &Topic) -> Subscription {
        Subscription {
            topic_id: t.id.clone(),
            topic_name: t.name.clone(),
            query: None,
            since: None,
        }
    }

    /// A topic's papers of `day`, best first, as digests order them. The newest day's list is
    /// the one digests keep in the store's memo; older days are worked out and let go (a
    /// reader walking back through days would otherwise fill the memo with lists read once).
    fn ranked(
        &self,
        t: &Topic,
        day: NaiveDate,
        newest: bool,
    ) -> Result<Arc<crate::digest::Ranked>, StoreError> {
        let sub = Self::subscription(t);
        if newest {
            return compose::ranked_day(&self.store, &self.topics, &sub, Some(t), day);
        }
        // The day's own list (the pages show configured topics only), not every day since.
        let papers = self.store.topic_day(&t.id, day)?;
        Ok(Arc::new(compose::rank(&self.store, Some(t), papers)?))
    }

    /// The home page: every topic with its newest day's count, top papers and trend; the last
    /// announcement days.
    pub fn home(&self, lang: Lang, links: &Links) -> Result<Home, PageError> {
        let store = &*self.store;
        let newest = store.latest_day()?;
        let span = newest.map(|n| (n - chrono::Duration::days(CHART_DAYS - 1), n));
        let mut last_days = Vec::new();
        let mut d = newest;
        while let Some(day) = d {
            last_days.push(day);
            if last_days.len() == LAST_DAYS {
                break;
            }
            d = store.day_before(day)?;
        }
        let mut topics = Vec::with_capacity(self.topics.topics.len());
        let mut per_topic: Vec<HashMap<NaiveDate, usize>> = Vec::new();
        for t in &self.topics.topics {
            let counts = match span {
                Some((from, _)) => store.topic_day_counts(&t.id, from)?,
                None => Vec::new(),
            };
            let day = counts.last().map(|&(d, n)| DayLink {
                day: d.to_string(),
                href: links.topic(&t.id, Some(d)),
                count: n,
                current: false,
            });
            let mut top = Vec::new();
            if let Some(&(d, _)) = counts.last() {
                let list = self.ranked(t, d, true)?;
                for sp in list.papers.iter().take(HOME_TOP) {
                    top.push(row(store, sp, lang, links)?);
                }
            }
            per_topic.push(counts.iter().copied().collect());
            topics.push(TopicCard {
                id: t.id.clone(),
                name: t.name.clone(),
                href: links.topic(&t.id, None),
                feed: links.feed(&t.id),
                day,
                top,
                total: counts.iter().map(|c| c.1).sum(),
                counts,
                trend: String::new(),
            });
        }
        let days = last_days
            .iter()
            .map(|&d| DayRow {
                day: d.to_string(),
                cells: self
                    .topics
                    .topics
                    .iter()
                    .zip(&per_topic)
                    .map(|(t, counts)| {
                        counts.get(&d).map(|&n| DayLink {
                            day: d.to_string(),
                            href: links.topic(&t.id, Some(d)),
                            count: n,
                            current: false,
                        })
                    })
                    .collect(),
            })
            .collect();
        Ok(Home {
            topics,
            days,
            newest: newest.map(|d| d.to_string()),
            papers: store.paper_count(),
            span,
        })
    }

    /// A topic's page of `day` (its newest day when `None`); `None` when the topic is not
    /// configured or has no papers that day.
    pub fn topic_day(
        &self,
        id: &str,
        day: Option<NaiveDate>,
        lang: Lang,
        links: &Links,
    ) -> Result<Option<TopicDay>, PageError> {
        let Some(t) = self.topic(id) else {
            return Ok(None);
        };
        let store = &*self.store;
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");
        let newest = store.topic_days_around(&t.id, last)?.0;
        let day = match (day, newest) {
            (Some(d), _) => Some(d),
            (None, n) => n,
        };
        let mut page = TopicDay {
            id: t.id.clone(),
            name: t.name.clone(),
            day: day.map(|d| d.to_string()),
            overview: None,
            papers: Vec::new(),
            older: None,
            newer: None,
            newest_href: links.topic(&t.id, None),
            feed: links.feed(&t.id),
            chart: links.chart(&t.id),
            days: Vec::new(),
        };
        let Some(day) = day else {
            // A configured topic with nothing stored yet: an empty page, not a 404.
            return Ok(Some(page));
        };
        let list = self.ranked(t, day, Some(day) == newest)?;
        if list.papers.is_empty() {
            return Ok(None);
        }
        let (older, newer) = store.topic_days_around(&t.id, day)?;
        let link = |d: NaiveDate, count: usize| DayLink {
            day: d.to_string(),
            href: links.topic(&t.id, Some(d)),
            count,
            current: d == day,
        };
        page.older = older.filter(|d| links.shows(*d)).map(|d| link(d, 0));
        page.newer = newer.map(|d| link(d, 0));
        let around = newest
            .map(|n| n.min(day + chrono::Duration::days(14)))
            .unwrap_or(day);
        let mut counts =
            store.topic_day_counts_between(&t.id, day - chrono::Duration::days(21), around)?;
        counts.retain(|&(d, _)| links.shows(d));
        page.days = counts
            .iter()
            .rev()
            .take(LAST_DAYS * 2)
            .map(|&(d, n)| link(d, n))
            .collect();
        let all: Vec<usize> = (0..list.papers.len()).collect();
        let overview = || -> Result<String, StoreError> {
            // Kept when the day was stored, unless the day has grown since.
            if let Some(k) = compose::day_keywords::stored(store, &t.id, day, list.papers.len())? {
                return Ok(list.overview_with(&all, &k, lang));
            }
            let background = compose::background(store, Some(t))?;
            Ok(list.overview(&all, &background, lang))
        };
        let line = if Some(day) == newest {
            store.memo(
                &format!("web-overview\0{}\0{day}\0{}", t.id, lang.code()),
                overview,
            )?
        } else {
            Arc::new(overview()?)
        };
        page.overview =
            compose::overview_with_llm(store, &t.id, day, lang, Some(line.to_string()))?;
        for sp in &list.papers {
            page.papers.push(row(store, sp, lang, links)?);
        }
        Ok(Some(page))
    }

    /// The days of a topic's chart and their counts.
    pub fn chart_counts(&self, id: &str) -> Result<Option<ChartDays>, PageError> {
        if self.topic(id).is_none() {
            return Ok(None);
        }
        let to = self
            .store
            .latest_day()?
            .unwrap_or(NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"));
        let from = to - chrono::Duration::days(CHART_DAYS - 1);
        Ok(Some((from, to, self.store.topic_day_counts(id, from)?)))
    }

    /// One paper's page; `None` when the id is not an arXiv id or the store lacks it.
    pub fn paper(
        &self,
        id: &str,
        lang: Lang,
        links: &Links,
    ) -> Result<Option<PaperPage>, PageError> {
        let Some(pid) = PaperId::parse(id) else {
            return Ok(None);
        };
        let store = &*self.store;
        let Some(sp) = store.paper(&pid)? else {
            return Ok(None);
        };
        let paper = row(store, &sp, lang, links)?;
        let p = &sp.paper;
        let llm = store.summary(pid.as_str(), p.version, lang.code(), None)?;
        let other = match lang {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        };
        let translation = store
            .summary(pid.as_str(), p.version, other.code(), None)?
            .filter(|s| s.title_translated.is_some() || s.tldr_translated.is_some())
            .map(|s| Translation {
                lang: other.code(),
                title: s.title_translated,
                tldr: s.tldr_translated,
            });
        let hf = store.hf(pid.as_str())?.filter(|h| h.found);
        let topics = sp
            .topics
            .iter()
            .filter_map(|(tid, day)| {
                self.topic(tid).map(|t| TopicLink {
                    name: t.name.clone(),
                    href: links.topic(tid, Some(*day)),
                    day: day.to_string(),
                })
            })
            .collect();
        let mut similar = Vec::new();
        if let Some(index) = &self.search {
            let hits = search::neighbours::similar(index, store, &sp, 0, SIMILAR)?;
            for (s, _) in search::stored(store, hits)? {
                similar.push(SimilarLink {
                    href: links.paper(s.paper.id.as_str()),
                    day: s.first_announced.map(|d| d.to_string()),
                    title: s.paper.title,
                });
            }
        }
        Ok(Some(PaperPage {
            paper,
            version: p.version,
            primary: p.primary_category.as_ref().map(|c| c.0.clone()),
            published: p.published.map(|d| d.format("%Y-%m-%d").to_string()),
            updated: p.updated.map(|d| d.format("%Y-%m-%d").to_string()),
            comment: p.comment.clone(),
            journal_ref: p.journal_ref.clone(),
            doi: p.doi.clone(),
            llm_model: llm.map(|s| s.model),
            hf_summary: hf.as_ref().and_then(|h| h.ai_summary.clone()),
            hf_keywords: hf.map(|h| h.ai_keywords).unwrap_or_default(),
            translation,
            topics,
            similar,
            has_search: self.search.is_some(),
        }))
    }

    /// The search page for `q` (the chat's query language), `page` counting from 0.
    pub fn search(
        &self,
        q: &str,
        page: u32,
        lang: Lang,
        links: &Links,
    ) -> Result<SearchPage, PageError> {
        let q = q.trim();
        let mut out = SearchPage {
            q: q.to_string(),
            problem: None,
            ranked: self.search.is_some(),
            found: Vec::new(),
            page,
            prev: None,
            next: None,
        };
        if q.is_empty() {
            return Ok(out);
        }
        if q.chars().count() > MAX_QUERY_CHARS || q.chars().any(char::is_control) {
            out.problem = Some(match lang {
                Lang::En => format!(
                    "That query is too long or has odd characters: at most {MAX_QUERY_CHARS} characters, please."
                ),
                Lang::Zh => format!("查询过长或含有异常字符：最多 {MAX_QUERY_CHARS} 个字符。"),
            });
            return Ok(out);
        }
        if page > SEARCH_MAX_PAGE {
            out.problem = Some(match lang {
                Lang::En => "That page is too far in; refine the query instead.".into(),
                Lang::Zh => "页码过大；请改进查询。".into(),
            });
            return Ok(out);
        }
        let store = &*self.store;
        let Some(index) = &self.search else {
            match search::parse(q) {
                Ok(query) => {
                    let topic = crate::topics::Topic::for_search(q, query);
                    for sp in store.recent(&topic, false, SEARCH_PAGE, SCAN_LIMIT)? {
                        out.found.push(Found {
                            paper: row(store, &sp, lang, links)?,
                            snippet: Vec::new(),
                        });
                    }
                }
                Err(e) => out.problem = Some(e.to_string()),
            }
            return Ok(out);
        };
        let query = match search::parse(q) {
            Ok(query) => query,
            Err(e) => {
                out.problem = Some(e.to_string());
                return Ok(out);
            }
        };
        let offset = page as usize * SEARCH_PAGE;
        let hits = index.search(&query, Sort::Relevance, offset, SEARCH_PAGE + 1)?;
        let more = hits.len() > SEARCH_PAGE;
        let stored = search::stored(store, hits.into_iter().take(SEARCH_PAGE))?;
        // Snippets read the abstract as pages show it: its TeX read, no `\mathcal`.
        let abstracts: Vec<String> = stored
            .iter()
            .map(|(sp, _)| paperbell_chat::tex::plain(&sp.paper.abstract_text))
            .collect();
        let abstracts: Vec<&str> = abstracts.iter().map(String::as_str).collect();
        let snippets = search::snippets(&query, &abstracts);
        for ((sp, _), snippet) in stored.iter().zip(snippets) {
            let snippet = snippet
                .map(|s| {
                    Matched {
                        text: s.text,
                        marks: s.marks,
                    }
                    .pieces()
                    .into_iter()
                    .map(|(t, m)| (t.to_string(), m))
                    .collect()
                })
                .unwrap_or_default();
            out.found.push(Found {
                paper: row(store, sp, lang, links)?,
                snippet,
            });
        }
        out.prev = (page > 0).then(|| links.search_page(q, page - 1));
        out.next = more.then(|| links.search_page(q, page + 1));
        Ok(out)
    }

    /// A topic's newest papers for its feed, newest first, with the day each entered it.
    pub fn feed_papers(
        &self,
        id: &str,
        lang: Lang,
        links: &Links,
    ) -> Result<Option<(String, Vec<FeedPaper>)>, PageError> {
        let Some(t) = self.topic(id) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for sp in self.store.recent_by_topic(&t.id, FEED_PAPERS)? {
            let day = sp
                .topics
                .iter()
                .find(|(tid, _)| tid == &t.id)
                .map(|(_, d)| *d)
                .or(sp.first_announced)
                .unwrap_or(NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"));
            let r = row(&self.store, &sp, lang, links)?;
            out.push((r, day, sp));
        }
        Ok(Some((t.name.clone(), out)))
    }
}

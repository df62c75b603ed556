//! Every page of the archive as text: what `pages` reads from the store, rendered by the
//! templates, the charts and the feeds. The served site and the static export both come here.

use chrono::NaiveDate;
use paperbell_chat::Lang;
use serde::Serialize;
use serde_json::json;

use super::chart;
use super::feed::{self, FeedEntry};
use super::links::Links;
use super::pages::{Archive, PageError, TopicDay};
use super::templates::{TemplateError, Templates};

/// A page made, or why not.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// A page: its body, or that there is no such page (with a page saying so).
pub enum Made {
    Page(String),
    Missing(String),
}

/// The archive's pages, rendered.
pub struct Site {
    pub archive: Archive,
    pub templates: Templates,
}

/// What every page's frame needs besides its own values.
#[derive(Serialize)]
struct Nav {
    home: String,
    search: Option<String>,
    /// Served pages: the same page in each language.
    lang_en: Option<String>,
    lang_zh: Option<String>,
    /// The language came from `?lang=` (the search form keeps it).
    lang_param: bool,
}

/// Where a page is and how it links: `links` for its hrefs, `path` its own served path (for
/// the language switch), `lang` its language and whether the reader chose it by the query.
pub struct Place<'a> {
    pub links: &'a Links,
    pub path: &'a str,
    pub lang: Lang,
    pub lang_param: bool,
}

impl<'a> Place<'a> {
    /// A page of the static export (English, no language switch).
    pub fn exported(links: &'a Links) -> Place<'a> {
        Place {
            links,
            path: "",
            lang: Lang::En,
            lang_param: false,
        }
    }

    fn nav(&self) -> Nav {
        let served = self.links.served_site();
        Nav {
            home: self.links.home(),
            search: self.links.search(),
            lang_en: served.then(|| self.links.in_lang(self.path, Lang::En)),
            lang_zh: served.then(|| self.links.in_lang(self.path, Lang::Zh)),
            lang_param: self.lang_param,
        }
    }
}

impl Site {
    pub fn new(archive: Archive) -> Site {
        Site {
            archive,
            templates: Templates::new(),
        }
    }

    fn frame<S: Serialize>(
        &self,
        template: &'static str,
        at: &Place,
        title: &str,
        q: &str,
        body: (&str, S),
    ) -> Result<String, SiteError> {
        let ctx = json!({
            "lang": at.lang.code(),
            "title": title,
            "nav": at.nav(),
            "q": q,
            body.0: body.1,
        });
        Ok(self.templates.render(template, ctx)?)
    }

    /// A page saying what is not here.
    pub fn missing(&self, at: &Place, what: &str) -> Result<String, SiteError> {
        let title = match at.lang {
            Lang::En => "Not here",
            Lang::Zh => "找不到",
        };
        self.frame("missing.html", at, title, "", ("what", what))
    }

    pub fn home(&self, at: &Place) -> Result<String, SiteError> {
        let mut home = self.archive.home(at.lang, at.links)?;
        if let Some((from, to)) = home.span {
            for t in &mut home.topics {
                t.trend =
                    chart::sparkline(&t.counts, from, to, &format!("{}: papers per day", t.name));
            }
        }
        let title = match at.lang {
            Lang::En => "New papers by topic",
            Lang::Zh => "按主题的新论文",
        };
        let ctx = json!({
            "lang": at.lang.code(),
            "title": title,
            "nav": at.nav(),
            "q": "",
            "topics": home.topics,
            "days": home.days,
            "newest": home.newest,
            "papers": home.papers,
        });
        Ok(self.templates.render("home.html", ctx)?)
    }

    pub fn topic(&self, at: &Place, id: &str, day: Option<NaiveDate>) -> Result<Made, SiteError> {
        match self.archive.topic_day(id, day, at.lang, at.links)? {
            Some(t) => Ok(Made::Page(self.topic_html(at, t)?)),
            None => Ok(Made::Missing(self.missing(
                at,
                &match day {
                    Some(d) => format!("{id}: no papers on {d}"),
                    None => format!("{id}: no such topic"),
                },
            )?)),
        }
    }

    /// A topic's day, read already.
    pub fn topic_html(&self, at: &Place, t: TopicDay) -> Result<String, SiteError> {
        let title = match &t.day {
            Some(d) => format!("{} · {d}", t.name),
            None => t.name.clone(),
        };
        self.frame("topic.html", at, &title, "", ("topic", t))
    }

    pub fn paper(&self, at: &Place, id: &str) -> Result<Made, SiteError> {
        match self.archive.paper(id, at.lang, at.links)? {
            Some(p) => {
                let title = paperbell_chat::tex::plain(&p.paper.title);
                Ok(Made::Page(self.frame(
                    "paper.html",
                    at,
                    &title,
                    "",
                    ("page", p),
                )?))
            }
            None => Ok(Made::Missing(
                self.missing(at, &format!("arXiv:{id} is not in this archive."))?,
            )),
        }
    }

    pub fn search(&self, at: &Place, q: &str, page: u32) -> Result<String, SiteError> {
        let s = self.archive.search(q, page, at.lang, at.links)?;
        let title = if s.q.is_empty() {
            "Search".to_string()
        } else {
            s.q.clone()
        };
        let q = s.q.clone();
        self.frame("search.html", at, &title, &q, ("search", s))
    }

    /// A topic's chart of papers per day (SVG); missing for a topic not configured.
    pub fn chart(&self, id: &str) -> Result<Made, SiteError> {
        let Some((from, to, counts)) = self.archive.chart_counts(id)? else {
            return Ok(no_topic(id));
        };
        let name = self.archive.topic(id).map_or(id, |t| t.name.as_str());
        Ok(Made::Page(chart::daily_chart(
            &counts,
            from,
            to,
            &format!("{name}: papers per announcement day"),
        )))
    }

    /// A topic's Atom feed; missing for a topic not configured.
    pub fn feed(&self, id: &str, links: &Links) -> Result<Made, SiteError> {
        let Some((name, papers)) = self.archive.feed_papers(id, Lang::En, links)? else {
            return Ok(no_topic(id));
        };
        let mut entries = Vec::with_capacity(papers.len());
        for (row, day, sp) in papers {
            let content = self
                .templates
                .render("entry.html", json!({"lang": "en", "p": &row}))?;
            let mut related = row.code_urls.clone();
            related.extend(row.project_url.clone());
            entries.push(FeedEntry {
                url: format!("{}v{}", row.abs_url, sp.paper.version),
                title: paperbell_chat::tex::plain(&row.title),
                authors: row.authors,
                categories: row.categories,
                day,
                updated: sp.paper.updated,
                pdf_url: row.pdf_url,
                related,
                summary: paperbell_chat::tex::plain(&row.tldr.unwrap_or_default()),
                image: row.figure.as_ref().map(|f| f.url.clone()),
                content_html: content,
            });
        }
        Ok(Made::Page(feed::topic_feed(
            id,
            &name,
            &links.topic(id, None),
            &links.feed(id),
            &entries,
        )))
    }
}

/// What a feed or chart of an unknown topic answers (plain text: no page frame).
fn no_topic(id: &str) -> Made {
    Made::Missing(format!("{id}: no such topic\n"))
}

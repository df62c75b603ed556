//! A topic's Atom feed (RFC 4287), written with atom_syndication. Pure: entries in, XML out.

use atom_syndication::{Category, Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::{NaiveDate, TimeZone, Utc};

/// One paper as a feed entry.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    /// The arXiv abstract page of this version (the entry's id and link).
    pub url: String,
    pub title: String,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    /// The day the paper entered the topic (its `published`); `updated` when arXiv gave a
    /// newer version time.
    pub day: NaiveDate,
    pub updated: Option<chrono::DateTime<Utc>>,
    pub pdf_url: Option<String>,
    /// Code and project links.
    pub related: Vec<String>,
    /// The TL;DR, plain text.
    pub summary: String,
    /// The entry's body as HTML (made by the templates, so escaped).
    pub content_html: String,
    /// The paper's figure (an `enclosure` link; the body shows it too).
    pub image: Option<String>,
}

/// The feed of a topic: `id` and `name` from its configuration, `page` the href of its web page
/// and `self_href` the feed's own; entries newest first.
pub fn topic_feed(
    topic_id: &str,
    name: &str,
    page: &str,
    self_href: &str,
    entries: &[FeedEntry],
) -> String {
    let midnight = |d: NaiveDate| -> FixedDateTime {
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .fixed_offset()
    };
    let mut feed = Feed::default();
    feed.set_id(format!("urn:paperbell:topic:{topic_id}"));
    feed.set_title(Text::plain(format!("{name}: new arXiv papers (paperbell)")));
    // The newest entry's time: a feed unchanged in content keeps its `updated` (and ETag).
    let updated = entries
        .iter()
        .map(|e| entry_time(e).max(midnight(e.day)))
        .max()
        .unwrap_or_else(|| midnight(NaiveDate::from_ymd_opt(1991, 8, 14).unwrap()));
    feed.set_updated(updated);
    feed.set_authors(vec![person("paperbell")]);
    feed.set_links(vec![
        link(page, "alternate", Some("text/html")),
        link(self_href, "self", Some("application/atom+xml")),
    ]);
    let mut generator = atom_syndication::Generator::default();
    generator.set_value("paperbell");
    feed.set_generator(generator);
    feed.set_entries(
        entries
            .iter()
            .map(|e| {
                let mut entry = Entry::default();
                entry.set_id(e.url.clone());
                entry.set_title(Text::plain(e.title.clone()));
                entry.set_published(Some(midnight(e.day)));
                entry.set_updated(entry_time(e).max(midnight(e.day)));
                entry.set_authors(e.authors.iter().map(|a| person(a)).collect::<Vec<_>>());
                entry.set_categories(
                    e.categories
                        .iter()
                        .map(|c| {
                            let mut cat = Category::default();
                            cat.set_term(c.clone());
                            cat.set_scheme(Some("https://arxiv.org/archive/".to_string()));
                            cat
                        })
                        .collect::<Vec<_>>(),
                );
                let mut links = vec![link(&e.url, "alternate", Some("text/html"))];
                if let Some(pdf) = &e.pdf_url {
                    links.push(link(pdf, "related", Some("application/pdf")));
                }
                for r in &e.related {
                    links.push(link(r, "related", None));
                }
                if let Some(img) = &e.image {
                    links.push(link(img, "enclosure", Some(image_type(img))));
                }
                entry.set_links(links);
                entry.set_summary(Some(Text::plain(e.summary.clone())));
                let mut content = Content::default();
                content.set_content_type(Some("html".to_string()));
                content.set_value(Some(e.content_html.clone()));
                entry.set_content(Some(content));
                entry
            })
            .collect::<Vec<_>>(),
    );
    feed.to_string()
}

/// An image's media type by its address's ending (arXiv's figures are PNG, JPEG or SVG).
fn image_type(url: &str) -> &'static str {
    let lower = url.to_ascii_lowercase();
    if lower.ends_with(".svg") {
        "image/svg+xml"
    } else if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        "image/jpeg"
    } else if lower.ends_with(".gif") {
        "image/gif"
    } else {
        "image/png"
    }
}

fn entry_time(e: &FeedEntry) -> FixedDateTime {
    e.updated
        .unwrap_or_else(|| Utc.from_utc_datetime(&e.day.and_hms_opt(0, 0, 0).unwrap()))
        .fixed_offset()
}

fn person(name: &str) -> Person {
    let mut p = Person::default();
    p.set_name(name.to_string());
    p
}

fn link(href: &str, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href.to_string());
    l.set_rel(rel.to_string());
    l.set_mime_type(mime.map(str::to_string));
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_parses_back_with_every_entry_and_escaped_text() {
        let day = NaiveDate::from_ymd_opt(2024, 11, 20).unwrap();
        let entry = FeedEntry {
            url: "https://arxiv.org/abs/2411.00001v2".into(),
            title: "Bounds for x < y & z > w".into(),
            authors: vec!["Ada Lovelace".into(), "Émile Borel".into()],
            categories: vec!["cs.CV".into()],
            day,
            updated: None,
            pdf_url: Some("https://arxiv.org/pdf/2411.00001v2".into()),
            related: vec!["https://github.com/a/b".into()],
            summary: "We bound <things>.".into(),
            content_html: "<p>We bound &lt;things&gt;.</p>".into(),
            image: Some("https://arxiv.org/html/2411.00001v1/x1.png".into()),
        };
        let xml = topic_feed(
            "nerf",
            "NeRF",
            "/topics/nerf",
            "/topics/nerf/feed.atom",
            &[entry],
        );
        let parsed = feed_rs::parser::parse(xml.as_bytes()).expect("valid Atom");
        assert_eq!(parsed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(parsed.id, "urn:paperbell:topic:nerf");
        assert_eq!(parsed.entries.len(), 1);
        let e = &parsed.entries[0];
        assert_eq!(
            e.title.as_ref().unwrap().content,
            "Bounds for x < y & z > w"
        );
        assert_eq!(e.authors.len(), 2);
        assert_eq!(e.links[0].href, "https://arxiv.org/abs/2411.00001v2");
        assert!(
            e.content
                .as_ref()
                .unwrap()
                .body
                .as_deref()
                .unwrap()
                .contains("&lt;things&gt;")
        );
        assert!(parsed.updated.is_some());
        // Also well-formed to atom_syndication's own reader.
        xml.parse::<atom_syndication::Feed>().expect("reads back");
    }
}

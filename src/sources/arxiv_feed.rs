//! arXiv announcement feeds -> `Paper`: RSS 2.0 items and Atom-feed entries from
//! `rss.arxiv.org`. The id and version come from `guid`/`id` (`oai:arXiv.org:<id>vN`), the
//! announce type from `arxiv:announce_type` (or the description's "Announce Type:"), the
//! abstract from the description after "Abstract:", authors from the one comma-joined
//! `dc:creator`, the primary category is the first one, and the PDF link is derived.

use super::xml::RawEntry;
use super::{Skip, clean, parse_rfc2822, parse_rfc3339, split_creators};
use crate::model::paper::{AnnounceType, Category, Paper, PaperId, normalize_ws};

/// `channel_date`: the RSS channel's `pubDate`, used for items that carry no date.
pub fn convert(e: &RawEntry, channel_date: Option<&String>) -> Result<Paper, Skip> {
    let description = e.summary.as_deref().unwrap_or("");
    let (desc_id, desc_type, abstract_text) = split_description(description);
    let id_source = [
        e.guid.as_deref(),
        e.id.as_deref(),
        desc_id,
        e.link_text.as_deref(),
    ]
    .into_iter()
    .flatten()
    .chain(e.links.iter().map(|l| l.href.as_str()))
    .find_map(|s| PaperId::parse_with_version(s).map(|p| (p, s)));
    let Some(((id, version), _)) = id_source else {
        return Err(Skip::NoFeedId);
    };
    // Later sources may carry the version where the guid did not.
    let version = version
        .or_else(|| {
            desc_id
                .and_then(PaperId::parse_with_version)
                .and_then(|(_, v)| v)
        })
        .unwrap_or(1);
    let announce_type = e
        .announce_type
        .as_deref()
        .and_then(AnnounceType::parse)
        .or_else(|| desc_type.and_then(AnnounceType::parse))
        // Every feed item is an announcement; without a type, it is a new one.
        .or(Some(AnnounceType::New));
    let mut categories: Vec<Category> = Vec::with_capacity(e.categories.len());
    for c in &e.categories {
        let c = Category(c.trim().to_string());
        if !c.0.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    let authors = if !e.creators.is_empty() {
        e.creators.iter().flat_map(|c| split_creators(c)).collect()
    } else {
        e.authors.iter().flat_map(|a| split_creators(a)).collect()
    };
    // RSS items carry pubDate (else the channel's); Atom-feed entries published/updated.
    let (published, updated) =
        if e.pub_date.is_some() || (e.published.is_none() && channel_date.is_some()) {
            let date = e.pub_date.as_ref().or(channel_date);
            (parse_rfc2822(date).or_else(|| parse_rfc3339(date)), None)
        } else {
            (
                parse_rfc3339(e.published.as_ref()),
                parse_rfc3339(e.updated.as_ref()),
            )
        };
    Ok(Paper {
        pdf_url: Some(id.pdf_url(version)),
        id,
        version,
        title: strip_old_title_suffix(&clean(e.title.as_ref()).unwrap_or_default()),
        authors,
        primary_category: categories.first().cloned(),
        categories,
        published,
        updated,
        abstract_text: normalize_ws(abstract_text),
        comment: clean(e.comment.as_ref()),
        doi: clean(e.doi.as_ref()),
        journal_ref: clean(e.journal_ref.as_ref()),
        announce_type,
    })
}

/// `arXiv:2411.10504v1 Announce Type: new \nAbstract: text` -> (id, type, text). A description
/// without that header is all abstract.
fn split_description(d: &str) -> (Option<&str>, Option<&str>, &str) {
    let t = d.trim_start();
    let Some(rest) = t.strip_prefix("arXiv:") else {
        return (None, None, d);
    };
    let id_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let id = &rest[..id_end];
    let mut rest = rest[id_end..].trim_start();
    let mut kind = None;
    if let Some(r) = rest.strip_prefix("Announce Type:") {
        let r = r.trim_start();
        let end = r.find(char::is_whitespace).unwrap_or(r.len());
        kind = Some(&r[..end]);
        rest = r[end..].trim_start();
    }
    let text = rest.strip_prefix("Abstract:").unwrap_or(rest).trim_start();
    (Some(id), kind, text)
}

/// The feeds before 2024 appended "(arXiv:2101.00001v1 [cs.CV] UPDATED)" to titles.
fn strip_old_title_suffix(title: &str) -> String {
    if let Some(pos) = title.rfind(" (arXiv:")
        && title.ends_with(')')
    {
        return title[..pos].trim_end().to_string();
    }
    title.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_header_is_split_off() {
        let (id, kind, text) = split_description(
            "arXiv:2411.10504v1 Announce Type: replace-cross \nAbstract: We $a<b$.",
        );
        assert_eq!(
            (id, kind, text),
            (Some("2411.10504v1"), Some("replace-cross"), "We $a<b$.")
        );
        assert_eq!(
            split_description("Plain abstract."),
            (None, None, "Plain abstract.")
        );
    }

    #[test]
    fn old_title_suffix_is_removed() {
        assert_eq!(
            strip_old_title_suffix("A Title (arXiv:2101.00001v2 [cs.CV] UPDATED)"),
            "A Title"
        );
        assert_eq!(strip_old_title_suffix("On (x) and (y)"), "On (x) and (y)");
    }
}

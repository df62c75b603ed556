//! arXiv API (Atom 1.0) entries -> `Paper`. Handles the pre- and post-November-2025 shapes:
//! the PDF link is the one titled `pdf`, else the first whose href contains `/pdf/` (newer
//! responses drop `title`), and the error feed (an entry whose id contains `/api/errors`).

use super::xml::RawEntry;
use super::{ParseError, Skip, clean, parse_rfc3339};
use crate::model::paper::{Category, Paper, PaperId};

/// `Ok(Ok(paper))`, `Ok(Err(why))` for an entry that is not a paper, `Err` for arXiv's error feed.
pub fn convert(e: &RawEntry) -> Result<Result<Paper, Skip>, ParseError> {
    let id_text = e.id.as_deref().map(str::trim).unwrap_or("");
    if id_text.contains("/api/errors") {
        let message = clean(e.summary.as_ref()).unwrap_or_else(|| "unknown error".into());
        return Err(ParseError::Api { message });
    }
    if id_text.is_empty() {
        // The old API answered an unknown id_list id with an entry that has no id.
        return Ok(Err(Skip::NoId));
    }
    let Some((id, version)) = PaperId::parse_with_version(id_text) else {
        return Ok(Err(Skip::NotArxivId(id_text.to_string())));
    };
    let mut categories: Vec<Category> = Vec::with_capacity(e.categories.len());
    for c in &e.categories {
        let c = Category(c.trim().to_string());
        if !c.0.is_empty() && !categories.contains(&c) {
            categories.push(c);
        }
    }
    let primary_category = e
        .primary_category
        .as_deref()
        .map(|c| Category(c.trim().to_string()))
        .filter(|c| !c.0.is_empty())
        .or_else(|| categories.first().cloned());
    let pdf_url = e
        .links
        .iter()
        .find(|l| l.title.as_deref() == Some("pdf"))
        .or_else(|| e.links.iter().find(|l| l.href.contains("/pdf/")))
        .map(|l| l.href.trim().to_string());
    Ok(Ok(Paper {
        id,
        version: version.unwrap_or(1),
        title: clean(e.title.as_ref()).unwrap_or_default(),
        authors: e.authors.iter().filter_map(|a| clean(Some(a))).collect(),
        primary_category,
        categories,
        published: parse_rfc3339(e.published.as_ref()),
        updated: parse_rfc3339(e.updated.as_ref()),
        abstract_text: clean(e.summary.as_ref()).unwrap_or_default(),
        comment: clean(e.comment.as_ref()),
        doi: clean(e.doi.as_ref()),
        journal_ref: clean(e.journal_ref.as_ref()),
        pdf_url,
        announce_type: None,
    }))
}

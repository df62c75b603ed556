//! `paperbell export` and the `--json` of `recent`: stored papers per topic as the familiar
//! daily Markdown page or JSON, each paper with its summary as chats show it.

use chrono::NaiveDate;
use paperbell_chat::Lang;
use serde_json::{Value, json};

use crate::compose;
use crate::digest;
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::topics::Topic;

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
}

/// A stored paper as `--json` prints it, with what the store knows of its summary.
pub fn paper_json(store: &Store, sp: &StoredPaper) -> Result<Value, StoreError> {
    let view = compose::item(store, sp, &[], Lang::En)?;
    Ok(digest::stored_json(sp, &view))
}

/// The papers of `topics` over the `days` announcement days up to the newest stored one
/// (`today` when nothing is stored), as a page updated `today` or as JSON.
pub fn export(
    store: &Store,
    topics: &[Topic],
    days: u32,
    today: NaiveDate,
    format: Format,
) -> Result<String, StoreError> {
    let latest = store.latest_day()?.unwrap_or(today);
    let since = latest - chrono::Duration::days(days.saturating_sub(1) as i64);
    let mut sections = Vec::with_capacity(topics.len());
    for t in topics {
        sections.push((t, store.topic_since(&t.id, since)?));
    }
    Ok(match format {
        Format::Markdown => {
            let named: Vec<(String, Vec<StoredPaper>)> = sections
                .into_iter()
                .map(|(t, p)| (t.name.clone(), p))
                .collect();
            digest::render_markdown(today, &named)
        }
        Format::Json => {
            let mut v = Vec::with_capacity(sections.len());
            for (t, papers) in &sections {
                let papers = papers
                    .iter()
                    .map(|sp| paper_json(store, sp))
                    .collect::<Result<Vec<_>, _>>()?;
                v.push(json!({"topic": t.id, "name": t.name, "papers": papers}));
            }
            let mut text = serde_json::to_string_pretty(&v).expect("JSON values serialise");
            text.push('\n');
            text
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_holds_the_last_days_of_each_topic() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let topics = crate::config::Config::shipped().topic_set().unwrap();
        let doc = include_bytes!("../../tests/fixtures/rss.xml");
        store
            .ingest(&crate::sources::parse(doc).unwrap().papers, &topics)
            .unwrap();
        let today = NaiveDate::from_ymd_opt(2024, 11, 20).unwrap();
        let nerf: Vec<Topic> = topics
            .topics
            .iter()
            .filter(|t| t.id == "nerf")
            .cloned()
            .collect();
        let page = export(&store, &nerf, 1, today, Format::Markdown).unwrap();
        assert!(page.contains("Fast NeRF Distillation"), "{page}");
        let json: Value =
            serde_json::from_str(&export(&store, &nerf, 1, today, Format::Json).unwrap()).unwrap();
        assert_eq!(json[0]["topic"], "nerf");
        assert_eq!(json[0]["papers"][0]["tldr_source"], "extractive");
    }
}

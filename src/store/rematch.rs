//! Topics matched again after the query language's meaning changed: each configured topic's
//! papers become what the matcher of this build selects, once per store, recorded in meta
//! (`matcher_version`), with what each topic gained and lost.

use std::collections::{BTreeMap, HashSet};

use super::{Result, Store, codec, decode_paper, encode, key, list_key};
use crate::model::paper::StoredPaper;
use crate::query::MatchText;
use crate::topics::TopicSet;

/// The meaning of queries this build matches with. 1: before the one query language (an
/// author or a category alone could match, substrings of folded text); 2: one language.
pub const MATCHER_VERSION: u32 = 2;
pub(super) const META: &str = "matcher_version";

/// What re-matching changed for one topic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rematched {
    pub gained: usize,
    pub lost: usize,
}

/// Papers re-matched per batch.
const PAGE: usize = 2000;

impl Store {
    /// The matcher version the store's topic entries were made with (1 when never recorded:
    /// a store made before it was; a new store records this build's).
    pub fn matcher_version(&self) -> Result<u32> {
        Ok(self.meta(META)?.and_then(|v| v.parse().ok()).unwrap_or(1))
    }

    /// Re-matches every stored paper against `topics` when the store's entries were made by
    /// an older matcher (else nothing, `None`): a topic keeps a paper the query still selects,
    /// loses one it no longer does (a replacement of a paper it took stays), and gains what it
    /// now selects. Records the version when done; a crash midway redoes it all next time.
    pub fn rematch_if_older(
        &self,
        topics: &TopicSet,
    ) -> Result<Option<BTreeMap<String, Rematched>>> {
        if self.matcher_version()? >= MATCHER_VERSION {
            return Ok(None);
        }
        let report = self.rematch(topics)?;
        self.set_meta(META, &MATCHER_VERSION.to_string())?;
        self.db.flush()?;
        Ok(Some(report))
    }

    /// Every stored paper's topic entries made again by `topics` (configured topics only:
    /// entries of topics no longer configured are left as they are).
    pub fn rematch(&self, topics: &TopicSet) -> Result<BTreeMap<String, Rematched>> {
        let mut report: BTreeMap<String, Rematched> = topics
            .topics
            .iter()
            .filter(|t| !t.external)
            .map(|t| (t.id.clone(), Rematched::default()))
            .collect();
        let mut from = vec![b'p'];
        loop {
            let mut page: Vec<StoredPaper> = Vec::with_capacity(PAGE);
            for item in self.db.range(from.clone()..vec![b'q']) {
                let (k, v) = item?;
                if k.as_ref() == from.as_slice() {
                    continue;
                }
                page.push(decode_paper(&v)?);
                from = k.to_vec();
                if page.len() == PAGE {
                    break;
                }
            }
            if page.is_empty() {
                break;
            }
            self.rematch_page(topics, page, &mut report)?;
        }
        self.papers_changed();
        Ok(report)
    }

    fn rematch_page(
        &self,
        topics: &TopicSet,
        page: Vec<StoredPaper>,
        report: &mut BTreeMap<String, Rematched>,
    ) -> Result<()> {
        // Writes wait for this page: an ingest's batch never interleaves with it.
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = sled::Batch::default();
        // Per posting list: ids to add, ids to take out.
        let mut edits: BTreeMap<Vec<u8>, (Vec<String>, HashSet<String>)> = BTreeMap::new();
        for mut sp in page {
            // The paper's text alone is borrowed: its topic entries change below.
            let day = sp.first_announced.or_else(|| sp.paper.announce_day());
            let text = MatchText::new(&sp.paper, day);
            let id = sp.paper.id.as_str().to_string();
            let mut changed = false;
            for t in topics.topics.iter().filter(|t| !t.external) {
                let had = sp.topics.iter().position(|(tid, _)| tid == &t.id);
                match had {
                    Some(i) if t.matches_query(&sp.paper, &text).is_none() => {
                        let (_, day) = sp.topics.remove(i);
                        let k = list_key(b't', Some(t.id.as_bytes()), day);
                        edits.entry(k).or_default().1.insert(id.clone());
                        report.entry(t.id.clone()).or_default().lost += 1;
                        changed = true;
                    }
                    None if t.matches(&sp.paper, &text).is_some() => {
                        let Some(day) = sp.first_announced else {
                            continue;
                        };
                        sp.topics.push((t.id.clone(), day));
                        let k = list_key(b't', Some(t.id.as_bytes()), day);
                        edits.entry(k).or_default().0.push(id.clone());
                        report.entry(t.id.clone()).or_default().gained += 1;
                        changed = true;
                    }
                    _ => {}
                }
            }
            if changed {
                batch.insert(
                    key(b'p', &[id.as_bytes()]),
                    encode(codec::PAPER_V1, &codec::PaperRecordRef::from(&sp))?,
                );
            }
        }
        for (k, (add, remove)) in edits {
            let list = self.list_edited(&k, add, &remove)?;
            if list.is_empty() {
                batch.remove(k);
            } else {
                batch.insert(k, encode(codec::LIST_V1, &list)?);
            }
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::topics::{TopicDef, compile_all};

    fn topics(defs: &[(&str, &str)]) -> TopicSet {
        let defs: Vec<TopicDef> = defs
            .iter()
            .map(|(id, q)| TopicDef {
                id: id.to_string(),
                name: None,
                categories: vec![],
                keywords_any: vec![],
                keywords_all: vec![],
                exclude: vec![],
                authors: vec![],
                query: Some(q.to_string()),
                include_cross: true,
                include_replace: false,
            })
            .collect();
        compile_all(&defs, false).unwrap()
    }

    /// The ids entered under `topic` on every day, from its posting lists.
    fn listed(store: &Store, topic: &str) -> BTreeSet<String> {
        let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        let days = store.topic_day_counts(topic, since).unwrap();
        days.iter()
            .flat_map(|(d, _)| store.topic_day(topic, *d).unwrap())
            .map(|sp| sp.paper.id.to_string())
            .collect()
    }

    #[test]
    fn an_older_stores_topics_are_matched_again_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        assert_eq!(
            store.matcher_version().unwrap(),
            MATCHER_VERSION,
            "a new store"
        );
        // Entries as the old matcher made them: an author or the category was enough.
        let old = topics(&[("ir", "cat:cs.IR OR au:\"Chen Zhao\"")]);
        let papers = crate::search::agreement::real_papers();
        store.ingest(&papers, &old).unwrap();
        store.set_meta(META, "1").unwrap();
        let before = listed(&store, "ir");
        let new = topics(&[("ir", "au:\"Chen Zhao\" cat:cs.IR"), ("splat", "splatting")]);
        let report = store
            .rematch_if_older(&new)
            .unwrap()
            .expect("older: re-matched");
        let after = listed(&store, "ir");
        let want: BTreeSet<String> = papers
            .iter()
            .filter(|p| {
                p.authors.iter().any(|a| a.contains("Chen Zhao"))
                    && p.categories.iter().any(|c| c.0 == "cs.IR")
            })
            .map(|p| p.id.to_string())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(after, want);
        assert_eq!(
            report["ir"],
            Rematched {
                gained: 0,
                lost: before.len() - want.len()
            }
        );
        let splat = listed(&store, "splat");
        assert!(!splat.is_empty() && report["splat"].gained == splat.len());
        for id in &splat {
            let sp = store.paper_by_id(id).unwrap().unwrap();
            assert!(sp.topics.iter().any(|(t, _)| t == "splat"));
            assert!(!sp.topics.iter().any(|(t, _)| t == "ir") || want.contains(id));
        }
        assert_eq!(store.matcher_version().unwrap(), MATCHER_VERSION);
        assert_eq!(store.rematch_if_older(&new).unwrap(), None, "once");
        assert!(store.check_consistency().unwrap().is_empty());
    }
}

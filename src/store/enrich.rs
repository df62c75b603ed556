//! What summaries and enrichment keep in the store: Hugging Face facts per paper, LLM results
//! per (paper, version, language, model), LLM topic overviews per (topic, day, language, model),
//! the LLM's token spend per UTC day, and the papers of a topic fed by a source of its own.

use chrono::NaiveDate;

use super::codec::{self, day_key, decode, encode};
use super::{Result, Store, key, list_key};
use crate::model::enrichment::{HfInfo, LlmSummary};
use crate::model::paper::Paper;
use crate::model::paper::StoredPaper;

fn summary_prefix(id: &str, version: u32, lang: &str) -> Vec<u8> {
    let mut k = key(
        b'y',
        &[id.as_bytes(), &version.to_be_bytes(), lang.as_bytes()],
    );
    k.push(0);
    k
}

fn overview_prefix(topic: &str, day: NaiveDate, lang: &str) -> Vec<u8> {
    let mut k = key(b'Y', &[topic.as_bytes(), &day_key(day), lang.as_bytes()]);
    k.push(0);
    k
}

impl Store {
    pub fn put_hf(&self, id: &str, info: &HfInfo) -> Result<()> {
        self.db
            .insert(key(b'e', &[id.as_bytes()]), encode(codec::HF_V2, info)?)?;
        // Rankings kept in memos use upvotes and code links.
        self.facts_changed();
        Ok(())
    }

    pub fn hf(&self, id: &str) -> Result<Option<HfInfo>> {
        match self.db.get(key(b'e', &[id.as_bytes()]))? {
            Some(v) => Ok(Some(codec::decode_hf(&v)?)),
            None => Ok(None),
        }
    }

    pub fn put_summary(&self, id: &str, version: u32, lang: &str, s: &LlmSummary) -> Result<()> {
        let mut k = summary_prefix(id, version, lang);
        k.extend_from_slice(s.model.as_bytes());
        self.db.insert(k, encode(codec::SUMMARY_V1, s)?)?;
        self.shown_changed();
        Ok(())
    }

    /// The cached LLM summary of a paper version in `lang`: by `model` when given, else by any
    /// model (a summary stays a summary when the configured model changes).
    pub fn summary(
        &self,
        id: &str,
        version: u32,
        lang: &str,
        model: Option<&str>,
    ) -> Result<Option<LlmSummary>> {
        self.by_model(summary_prefix(id, version, lang), model)?
            .map(|v| decode(codec::SUMMARY_V1, "llm summary", &v))
            .transpose()
    }

    pub fn put_overview(
        &self,
        topic: &str,
        day: NaiveDate,
        lang: &str,
        model: &str,
        text: &str,
    ) -> Result<()> {
        let mut k = overview_prefix(topic, day, lang);
        k.extend_from_slice(model.as_bytes());
        self.db.insert(k, text.as_bytes())?;
        self.shown_changed();
        Ok(())
    }

    /// A topic's LLM overview of a day in `lang`, by `model` when given, else by any.
    pub fn overview(
        &self,
        topic: &str,
        day: NaiveDate,
        lang: &str,
        model: Option<&str>,
    ) -> Result<Option<String>> {
        Ok(self
            .by_model(overview_prefix(topic, day, lang), model)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// The value under `prefix` + `model`, or under `prefix` + any model.
    fn by_model(&self, mut prefix: Vec<u8>, model: Option<&str>) -> Result<Option<sled::IVec>> {
        match model {
            Some(m) => {
                prefix.extend_from_slice(m.as_bytes());
                Ok(self.db.get(prefix)?)
            }
            None => match self.db.scan_prefix(&prefix).next() {
                Some(item) => Ok(Some(item?.1)),
                None => Ok(None),
            },
        }
    }

    /// Tokens the LLM has used on a UTC day.
    pub fn llm_tokens(&self, day: NaiveDate) -> Result<u64> {
        self.counter(&format!("llm_tokens.{day}"))
    }

    /// Adds to a day's LLM tokens atomically; returns the new total.
    pub fn add_llm_tokens(&self, day: NaiveDate, n: u64) -> Result<u64> {
        self.add_to_counter(&format!("llm_tokens.{day}"), n)
    }

    /// Pages of arXiv's HTML edition asked for figures for an announcement day.
    pub fn figure_pages(&self, day: NaiveDate) -> Result<u64> {
        self.counter(&format!("figure_pages.{day}"))
    }

    /// Adds to a day's HTML pages asked for figures; returns the new total.
    pub fn add_figure_pages(&self, day: NaiveDate, n: u64) -> Result<u64> {
        self.add_to_counter(&format!("figure_pages.{day}"), n)
    }

    /// A meta counter's value (0 when nothing was added to it).
    fn counter(&self, name: &str) -> Result<u64> {
        Ok(self.meta(name)?.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Adds to a meta counter atomically; returns the new total.
    fn add_to_counter(&self, name: &str, n: u64) -> Result<u64> {
        let k = key(b'm', &[name.as_bytes()]);
        let total = self.db.update_and_fetch(k, |old| {
            let before = old
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
                .unwrap_or(0);
            Some((before + n).to_string().into_bytes())
        })?;
        Ok(total
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
            .unwrap_or(n))
    }

    /// Files `papers`, in order, under a topic fed by a source of its own (`hf-daily`) on
    /// `day`, atomically. A paper not stored yet is stored as given, in no arXiv day index; a
    /// paper already under the topic on an earlier day stays there (a paper enters a topic
    /// once). Returns how many papers newly entered the topic.
    pub fn index_external(&self, topic: &str, day: NaiveDate, papers: &[Paper]) -> Result<usize> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let lk = list_key(b't', Some(topic.as_bytes()), day);
        let old = self.list(&lk)?;
        let mut list: Vec<String> = Vec::with_capacity(papers.len() + old.len());
        let mut batch = sled::Batch::default();
        let mut entered = 0;
        let mut added = 0;
        let mut changed: Vec<&str> = Vec::new();
        for p in papers {
            let id = p.id.as_str();
            if list.iter().any(|x| x == id) {
                continue;
            }
            let known = self.paper(&p.id)?;
            let new = known.is_none();
            let mut sp = known.unwrap_or_else(|| StoredPaper {
                paper: p.clone(),
                first_announced: None,
                topics: Vec::new(),
            });
            match sp.topics.iter().find(|(t, _)| t == topic) {
                Some((_, d)) if *d != day => continue,
                Some(_) => {}
                None => {
                    sp.topics.push((topic.to_string(), day));
                    batch.insert(
                        key(b'p', &[id.as_bytes()]),
                        encode(codec::PAPER_V1, &codec::PaperRecordRef::from(&sp))?,
                    );
                    changed.push(id);
                    entered += 1;
                    added += usize::from(new);
                }
            }
            list.push(id.to_string());
        }
        // Papers of an earlier answer for the day that this one no longer lists stay, last.
        for id in old {
            if !list.contains(&id) {
                list.push(id);
            }
        }
        batch.insert(lk, encode(codec::LIST_V1, &list)?);
        self.log_changes(&mut batch, &changed)?;
        let total = self.count_added(&mut batch, added)?;
        self.db.apply_batch(batch)?;
        self.paper_total
            .store(total, std::sync::atomic::Ordering::Release);
        self.papers_changed();
        Ok(entered)
    }
}

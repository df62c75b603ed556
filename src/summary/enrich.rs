//! The enrichment run after each fetch: Hugging Face's Daily Papers become the `hf-daily`
//! topic of the newest announcement day, papers that chats will receive get Hugging Face's
//! facts, and with an LLM configured, their summaries (in each subscriber's language) and each
//! topic's overview are written to the store's cache; with `[llm] embedding_model`, the day's
//! and the rated papers are embedded for taste models. Everything here is best effort: a
//! failure is logged and counted, and digests fall back to what the store already has.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use tokio::task::JoinSet;

use crate::model::paper::StoredPaper;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::sources::fetch::ArxivClient;
use crate::sources::huggingface::HfClient;
use crate::store::Store;
use crate::summary::embed::Embedder;
use crate::summary::figures::{FigureCounts, look_up_all};
use crate::summary::llm::{Llm, LlmError, lang_key};
use crate::topics::{HF_DAILY, TopicSet};

/// Most Hugging Face dates one announcement day collects (a long weekend).
const MAX_HF_DATES: i64 = 4;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EnrichReport {
    pub hf_daily: usize,
    pub hf_lookups: usize,
    pub llm_asked: usize,
    pub llm_cached: usize,
    /// Papers (and overviews) left with the extractive summary: errors, timeouts, budget.
    pub llm_failed: usize,
    pub overviews: usize,
    /// Papers embedded for taste models (`[llm] embedding_model`).
    pub embedded: usize,
    /// Chats whose rated papers got an embedding: marked to be learnt again.
    pub retrain: usize,
    /// Figures asked of arXiv's HTML edition.
    pub figures: FigureCounts,
    pub errors: Vec<String>,
}

impl EnrichReport {
    /// One line for logs and `paperbell fetch`.
    pub fn summary(&self) -> String {
        format!(
            "hugging face: {} daily papers, {} looked up; llm: {} summarised, {} cached, {} overviews, {} fell back to extractive, {} papers embedded; figures: {} asked, {} found ({} KB read); {} errors",
            self.hf_daily,
            self.hf_lookups,
            self.llm_asked,
            self.llm_cached,
            self.overviews,
            self.llm_failed,
            self.embedded,
            self.figures.asked,
            self.figures.found,
            self.figures.bytes / 1024,
            self.errors.len()
        )
    }
}

/// Why enrichment could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("Hugging Face: {0}")]
    HuggingFace(#[from] crate::sources::huggingface::HfError),
    #[error("LLM: {0}")]
    Llm(#[from] LlmError),
}

pub struct Enricher {
    pub store: Arc<Store>,
    pub topics: Arc<TopicSet>,
    pub hf: Option<HfClient>,
    pub hf_max_lookups: usize,
    pub llm: Option<Arc<Llm>>,
    pub embedder: Option<Arc<Embedder>>,
    /// Where figures are asked for (`[figures] enabled`): the fetch job's own arXiv client, so
    /// arXiv's pace holds across both.
    pub figures: Option<Arc<ArxivClient>>,
    pub figures_max: usize,
}

impl Enricher {
    /// The enrichment the config asks for: `None` when Hugging Face and figures are off and no
    /// LLM is set. `arxiv` is the client figures are asked through.
    pub fn from_config(
        config: &crate::config::Config,
        store: Arc<Store>,
        topics: Arc<TopicSet>,
        clock: Clock,
        arxiv: Arc<ArxivClient>,
    ) -> Result<Option<Enricher>, EnrichError> {
        let hf = if config.huggingface.enabled {
            Some(HfClient::new(
                &config.huggingface,
                &config.arxiv.user_agent,
                clock.clone(),
            )?)
        } else {
            None
        };
        let llm = Llm::new(&config.llm, clock.clone())?.map(Arc::new);
        let embedder = Embedder::new(&config.llm, clock)?.map(Arc::new);
        let figures = config.figures.enabled.then_some(arxiv);
        if hf.is_none() && llm.is_none() && figures.is_none() {
            return Ok(None);
        }
        Ok(Some(Enricher {
            store,
            topics,
            hf,
            hf_max_lookups: config.huggingface.max_lookups,
            llm,
            embedder,
            figures,
            figures_max: config.figures.max_per_day,
        }))
    }

    /// Everything for the newest announcement day, until done or `shutdown`: what was stored
    /// by then stays (each result is stored as it comes), the rest is dropped.
    pub async fn run(&self, shutdown: CancellationToken) -> EnrichReport {
        tokio::select! {
            _ = shutdown.cancelled() => EnrichReport {
                errors: vec!["stopped by shutdown".into()],
                ..EnrichReport::default()
            },
            report = self.enrich() => report,
        }
    }

    async fn enrich(&self) -> EnrichReport {
        let mut report = EnrichReport::default();
        let day = match self.store.latest_day() {
            Ok(Some(d)) => d,
            Ok(None) => return report,
            Err(e) => {
                report.errors.push(e.to_string());
                return report;
            }
        };
        if let Some(hf) = &self.hf {
            self.hf_daily(hf, day, &mut report).await;
        }
        let wanted = match self.wanted(day) {
            Ok(w) => w,
            Err(e) => {
                report.errors.push(e.to_string());
                return report;
            }
        };
        if let Some(hf) = &self.hf {
            self.hf_lookups(hf, &wanted, &mut report).await;
        }
        if let Some(llm) = &self.llm {
            summarise(llm, &self.store, &wanted, &mut report).await;
        }
        if let Some(embedder) = &self.embedder {
            self.embed(embedder, day, &mut report).await;
        }
        if let Some(client) = &self.figures {
            self.figures(client, day, &mut report).await;
        }
        report
    }

    /// The figures of what digests will show (after Hugging Face's facts, which rank them).
    async fn figures(&self, client: &ArxivClient, day: NaiveDate, report: &mut EnrichReport) {
        let asked = match self.store.figure_pages(day) {
            Ok(n) => n as usize,
            Err(e) => {
                report.errors.push(e.to_string());
                return;
            }
        };
        // The budget is the announcement day's: a second fetch (a restart) takes what is left.
        let budget = self.figures_max.saturating_sub(asked);
        let wanted = match crate::compose::figures::wanted(&self.store, &self.topics, day, budget) {
            Ok(w) => w,
            Err(e) => {
                report.errors.push(e.to_string());
                return;
            }
        };
        let (counts, failed) = look_up_all(client, &self.store, day, &wanted).await;
        report.figures = counts;
        if let Some(e) = failed {
            report.errors.push(format!("figures: {e}"));
        }
    }

    /// Embeds the day's papers and every rated paper that has no embedding yet.
    async fn embed(&self, embedder: &Embedder, day: NaiveDate, report: &mut EnrichReport) {
        let papers = || -> Result<Vec<StoredPaper>, crate::store::StoreError> {
            let mut papers = self.store.papers_between(day, day)?;
            for id in self.store.rated_papers()? {
                papers.extend(self.store.paper_by_id(&id)?);
            }
            Ok(papers)
        };
        let papers = match papers() {
            Ok(p) => p,
            Err(e) => {
                report.errors.push(e.to_string());
                return;
            }
        };
        match embedder.embed_missing(&self.store, &papers).await {
            Ok(done) => {
                report.embedded = done.len();
                // Models learnt before their papers had embeddings weigh words only.
                match self.store.mark_rated_for_retrain(&done) {
                    Ok(n) => report.retrain = n,
                    Err(e) => report.errors.push(e.to_string()),
                }
            }
            Err(e) => report.errors.push(format!("embeddings: {e}")),
        }
    }

    /// Hugging Face's lists of every date since the previous announcement day, merged, most
    /// upvoted first, filed under `hf-daily` on `day`: those lists are complete by now.
    async fn hf_daily(&self, hf: &HfClient, day: NaiveDate, report: &mut EnrichReport) {
        if !self.topics.topics.iter().any(|t| t.id == HF_DAILY) {
            return;
        }
        let prev = self.store.day_before(day).ok().flatten();
        let first = prev
            .unwrap_or(day - chrono::Duration::days(1))
            .max(day - chrono::Duration::days(MAX_HF_DATES));
        let mut merged: HashMap<String, crate::sources::huggingface::HfPaper> = HashMap::new();
        let mut date = first;
        while date < day {
            match hf.daily(date).await {
                Ok(list) => {
                    for p in list {
                        let id = p.paper.id.as_str().to_string();
                        let keep = merged
                            .get(&id)
                            .is_none_or(|o| o.info.upvotes < p.info.upvotes);
                        if keep {
                            merged.insert(id, p);
                        }
                    }
                }
                Err(e) => report.errors.push(format!("hugging face {date}: {e}")),
            }
            date += chrono::Duration::days(1);
        }
        let mut list: Vec<_> = merged.into_values().collect();
        list.sort_by(|a, b| {
            b.info
                .upvotes
                .cmp(&a.info.upvotes)
                .then_with(|| a.paper.id.as_str().cmp(b.paper.id.as_str()))
        });
        for p in &list {
            if let Err(e) = self.store.put_hf(p.paper.id.as_str(), &p.info) {
                report.errors.push(e.to_string());
                return;
            }
        }
        let papers: Vec<_> = list.into_iter().map(|p| p.paper).collect();
        match self.store.index_external(HF_DAILY, day, &papers) {
            Ok(_) => report.hf_daily = papers.len(),
            Err(e) => report.errors.push(e.to_string()),
        }
    }

    /// The day's papers of every topic someone subscribed to, with the languages of the
    /// subscribers: what digests will show.
    fn wanted(&self, day: NaiveDate) -> Result<Wanted, crate::store::StoreError> {
        let mut out = Wanted::default();
        for t in &self.topics.topics {
            let mut langs = BTreeSet::new();
            for c in self.store.subscribers(&t.id)? {
                if let Some(rec) = self.store.chat(&c)?
                    && rec.active
                {
                    // The chat's language: only a chat's own setting picks one for digests.
                    langs.insert(lang_key(rec.settings.lang.unwrap_or_default().code()));
                }
            }
            if langs.is_empty() {
                continue;
            }
            let papers = self.store.topic_day(&t.id, day)?;
            if papers.is_empty() {
                continue;
            }
            for sp in &papers {
                let e = out
                    .papers
                    .entry(sp.paper.id.as_str().to_string())
                    .or_insert_with(|| (Arc::new(sp.clone()), BTreeSet::new()));
                e.1.extend(langs.iter().cloned());
            }
            out.topics.push(TopicDay {
                id: t.id.clone(),
                name: t.name.clone(),
                day,
                papers: papers.iter().map(|p| p.paper.id.as_str().into()).collect(),
                langs,
            });
        }
        Ok(out)
    }

    /// Hugging Face's facts for wanted papers it has not answered about yet, up to the limit.
    async fn hf_lookups(&self, hf: &HfClient, wanted: &Wanted, report: &mut EnrichReport) {
        for (id, (sp, _)) in &wanted.papers {
            if report.hf_lookups >= self.hf_max_lookups {
                break;
            }
            match self.store.hf(id) {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => {
                    report.errors.push(e.to_string());
                    return;
                }
            }
            report.hf_lookups += 1;
            match hf.paper(&sp.paper.id).await {
                Ok(info) => {
                    if let Err(e) = self.store.put_hf(id, &info) {
                        report.errors.push(e.to_string());
                        return;
                    }
                }
                Err(e) => {
                    // Hugging Face is having trouble: leave the rest for the next run.
                    report.errors.push(format!("hugging face {id}: {e}"));
                    return;
                }
            }
        }
    }
}

/// One topic's papers of a day and the languages its subscribers read.
#[derive(Debug, Default)]
pub struct TopicDay {
    pub id: String,
    pub name: String,
    pub day: NaiveDate,
    pub papers: Vec<String>,
    pub langs: BTreeSet<String>,
}

/// Papers to summarise (each once, with every language wanted) and topics to overview.
#[derive(Debug, Default)]
pub struct Wanted {
    pub papers: BTreeMap<String, (Arc<StoredPaper>, BTreeSet<String>)>,
    pub topics: Vec<TopicDay>,
}

/// Summarises every wanted (paper, language) at once, within the LLM's concurrency limit, then
/// each topic's overview in each language. Cached results cost no request.
pub async fn summarise(llm: &Arc<Llm>, store: &Arc<Store>, wanted: &Wanted, r: &mut EnrichReport) {
    let mut jobs = JoinSet::new();
    for (sp, langs) in wanted.papers.values() {
        for lang in langs {
            let (llm, store, sp, lang) = (llm.clone(), store.clone(), sp.clone(), lang.clone());
            jobs.spawn(async move { (llm.summarise(&store, &sp, &lang).await, sp, lang) });
        }
    }
    let mut tldrs: HashMap<(String, String), String> = HashMap::new();
    while let Some(done) = jobs.join_next().await {
        let Ok((result, sp, lang)) = done else {
            r.llm_failed += 1;
            continue;
        };
        match result {
            Ok((s, asked)) => {
                if asked {
                    r.llm_asked += 1;
                } else {
                    r.llm_cached += 1;
                }
                tldrs.insert((sp.paper.id.as_str().to_string(), lang), s.tldr);
            }
            Err(e) => {
                r.llm_failed += 1;
                tracing::debug!(paper = %sp.paper.id, %lang, error = %e, "LLM summary failed; extractive instead");
            }
        }
    }
    let mut jobs = JoinSet::new();
    for t in &wanted.topics {
        for lang in &t.langs {
            let papers: Vec<(String, String)> = t
                .papers
                .iter()
                .filter_map(|id| {
                    let (sp, _) = wanted.papers.get(id)?;
                    let tldr = tldrs
                        .get(&(id.clone(), lang.clone()))
                        .cloned()
                        .unwrap_or_else(|| {
                            crate::summary::tldr::tldr(&sp.paper.title, &sp.paper.abstract_text)
                        });
                    Some((sp.paper.title.clone(), tldr))
                })
                .collect();
            let (llm, store, id, name, day, lang) = (
                llm.clone(),
                store.clone(),
                t.id.clone(),
                t.name.clone(),
                t.day,
                lang.clone(),
            );
            jobs.spawn(async move {
                llm.overview(&store, (&id, &name), day, &lang, &papers)
                    .await
                    .map_err(|e| format!("overview of {id} in {lang}: {e}"))
            });
        }
    }
    while let Some(done) = jobs.join_next().await {
        match done {
            Ok(Ok(_)) => r.overviews += 1,
            Ok(Err(e)) => {
                r.llm_failed += 1;
                tracing::debug!("{e}");
            }
            Err(_) => r.llm_failed += 1,
        }
    }
}

//! The fetch schedule: a cron expression evaluated in its own IANA zone (default just after
//! arXiv's 20:00 America/New_York announcement, Sunday to Thursday), the fetch job it runs,
//! per-chat delivery times (pure: `due_day`, `next_delivery`), and, while no chat platform is
//! configured, the day's digests printed to stdout. Planning and sending live in `delivery`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::compose;
use crate::config::Config;
use crate::digest::render_text;
use crate::model::paper::Category;
use crate::search::IndexWake;
use crate::sources::fetch::ArxivClient;
use crate::sources::{self, Parsed};
use crate::store::{IngestStats, Store, StoreError};
use crate::topics::{Topic, TopicSet};

/// Why a fetch, a file ingest or the fetch job failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: sources::ParseError,
    },
    /// Nothing was stored and every part failed.
    #[error("fetch failed: {0}")]
    Failed(String),
    #[error("schedule: {0}")]
    Schedule(String),
}

type Result<T> = std::result::Result<T, FetchError>;

/// What one fetch stored.
#[derive(Debug, Default, Clone)]
pub struct FetchReport {
    pub papers: usize,
    pub new: usize,
    pub updated: usize,
    pub topic_hits: std::collections::BTreeMap<String, usize>,
    /// Announcement days of the papers seen.
    pub days: BTreeSet<NaiveDate>,
    /// Parts of the fetch that failed (the others were still stored).
    pub errors: Vec<String>,
}

impl FetchReport {
    fn add(&mut self, parsed: &Parsed, stats: IngestStats) {
        if stats.undated > 0 {
            tracing::warn!(
                "{} paper(s) had no date: stored, but not indexed under any topic",
                stats.undated
            );
        }
        self.papers += parsed.papers.len();
        crate::metrics::papers_ingested(stats.new, stats.updated);
        self.new += stats.new;
        self.updated += stats.updated;
        for (t, n) in stats.topic_hits {
            *self.topic_hits.entry(t).or_default() += n;
        }
        self.days
            .extend(parsed.papers.iter().filter_map(|p| p.announce_day()));
    }

    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} paper(s): {} new, {} updated",
            self.papers, self.new, self.updated
        );
        if !self.topic_hits.is_empty() {
            let hits: Vec<String> = self
                .topic_hits
                .iter()
                .map(|(t, n)| format!("{t} +{n}"))
                .collect();
            s.push_str(&format!("; {}", hits.join(", ")));
        }
        s
    }
}

/// How a set of topics is fetched from arXiv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Today's announcement feed for the topics' categories; API queries for topics without any.
    Feed,
    /// API queries for every topic over the last `days` days (backfill).
    Api { days: u32 },
}

/// Fetches what `selected` needs from arXiv and indexes it under every topic in `all`, and
/// works out the touched topic days' overview keywords.
pub async fn fetch_topics(
    client: &ArxivClient,
    store: &Store,
    all: &TopicSet,
    selected: &[Topic],
    source: Source,
    query_days: u32,
    now: DateTime<Utc>,
) -> Result<FetchReport> {
    let mut report = FetchReport::default();
    let (feed_topics, api_topics): (Vec<&Topic>, Vec<&Topic>) = match source {
        Source::Feed => selected
            .iter()
            .filter(|t| !t.external)
            .partition(|t| !t.categories().is_empty()),
        Source::Api { .. } => (vec![], selected.iter().filter(|t| !t.external).collect()),
    };
    let mut cats: Vec<Category> = feed_topics
        .iter()
        .flat_map(|t| t.categories().iter().cloned())
        .collect();
    cats.sort();
    cats.dedup();
    if !cats.is_empty() {
        match client.feed(&cats).await {
            Ok(parsed) => {
                let stats = store.ingest(&parsed.papers, all)?;
                report.add(&parsed, stats);
            }
            Err(e) => report.errors.push(format!(
                "feed {}: {e}",
                cats.iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            )),
        }
    }
    let days = match source {
        Source::Api { days } => days,
        Source::Feed => query_days,
    };
    let from = now - chrono::Duration::days(days.max(1) as i64);
    let window = format!(
        "submittedDate:[{} TO {}]",
        from.format("%Y%m%d%H%M"),
        now.format("%Y%m%d%H%M")
    );
    for t in api_topics {
        let Some(query) = t.search_query() else {
            report.errors.push(format!(
                "topic {}: arXiv's API cannot be asked for it (only `-` clauses inside OR, or dates)",
                t.id
            ));
            continue;
        };
        let q = format!("({query}) AND {window}");
        let result = client
            .query(&q, None, |page| {
                let stats = store
                    .ingest(&page.papers, all)
                    .map_err(|e| sources::fetch::FetchError::Handler(e.to_string()))?;
                report.add(&page, stats);
                Ok(())
            })
            .await;
        if let Err(e) = result {
            report.errors.push(format!("topic {}: {e}", t.id));
        }
    }
    crate::compose::day_keywords::keep(store, all, &report.days)?;
    store.flush()?;
    if report.papers == 0 && !report.errors.is_empty() {
        return Err(FetchError::Failed(report.errors.join("; ")));
    }
    store.set_meta("last_fetch_ok", &now.to_rfc3339())?;
    Ok(report)
}

/// Parses local arXiv files and stores their papers. Nothing is stored from a file that does
/// not parse completely. The caller works out the overview keywords of the report's days
/// (`compose::day_keywords::keep`), once after all its files.
pub fn ingest_file(store: &Store, all: &TopicSet, path: &Path) -> Result<FetchReport> {
    let bytes = std::fs::read(path).map_err(|source| FetchError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let parsed = sources::parse(&bytes).map_err(|source| FetchError::Parse {
        path: path.display().to_string(),
        source,
    })?;
    for w in &parsed.warnings {
        tracing::warn!("{}: {w}", path.display());
    }
    let mut report = FetchReport::default();
    let stats = store.ingest(&parsed.papers, all)?;
    report.add(&parsed, stats);
    store.flush()?;
    Ok(report)
}

/// The next fetch time after `now`, or `None` if the schedule never fires again.
pub fn next_fetch(schedule: &cron::Schedule, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule
        .after(&now.with_timezone(&tz))
        .next()
        .map(|t| t.with_timezone(&Utc))
}

/// The scheduled fetch, as a long-running component.
pub struct FetchJob {
    pub config: Config,
    pub store: Arc<Store>,
    pub client: std::sync::Arc<ArxivClient>,
    pub topics: TopicSet,
    /// Print each new day's digests to stdout (no chat platform configured).
    pub print_digests: bool,
    /// Told after every successful fetch, so that chats waiting for the day's announcement
    /// are planned at once.
    pub fetched: Option<Arc<tokio::sync::Notify>>,
    /// Hugging Face and LLM enrichment, run after each successful fetch (planning does not
    /// wait for it: digests use whatever it has stored by the time they are sent).
    pub enricher: Option<Arc<crate::summary::enrich::Enricher>>,
    /// When "now" is: the fetch window and the staleness check at start-up.
    pub clock: Clock,
    /// Woken after each fetch (and its enrichment's hf-daily papers) to catch the search
    /// index up in the background.
    pub search: Option<IndexWake>,
    /// Woken when enrichment gave rated papers their embeddings: those chats learn again.
    pub learn: Option<crate::learn::LearnWake>,
}

impl FetchJob {
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let schedule = self
            .config
            .fetch_schedule()
            .map_err(|e| FetchError::Schedule(e.to_string()))?;
        let tz: Tz = self.config.schedule.timezone.0;
        let retry_after_failure = Duration::from_secs(30 * 60);
        let mut due_now = self.config.schedule.fetch_on_start && self.stale(self.clock.now())?;
        loop {
            if due_now {
                // Dropping a fetch at an await point is safe: each page is stored by one
                // synchronous, atomic batch between awaits, so a page is stored whole or not at all.
                let ok = tokio::select! {
                    _ = shutdown.cancelled() => {
                        tracing::info!("shutdown during a fetch: stopping it");
                        return Ok(());
                    }
                    ok = self.fetch_and_report(&shutdown) => ok,
                };
                if !ok {
                    tracing::info!(
                        "retrying the fetch in {} minutes",
                        retry_after_failure.as_secs() / 60
                    );
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(retry_after_failure) => continue,
                    }
                }
            }
            let now = self.clock.now();
            let Some(next) = next_fetch(&schedule, tz, now) else {
                tracing::warn!("the fetch schedule never fires again; waiting for shutdown");
                shutdown.cancelled().await;
                return Ok(());
            };
            tracing::info!(next = %next.with_timezone(&tz), "next arXiv fetch");
            let wait = (next - now).to_std().unwrap_or_default();
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(wait) => due_now = true,
            }
        }
    }

    fn stale(&self, now: DateTime<Utc>) -> Result<bool> {
        let last = self
            .store
            .meta("last_fetch_ok")?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok());
        Ok(last.is_none_or(|t| now - t.with_timezone(&Utc) > chrono::Duration::hours(12)))
    }

    /// Returns false when the fetch failed (it is then retried sooner than the schedule).
    async fn fetch_and_report(&self, shutdown: &CancellationToken) -> bool {
        let now = self.clock.now();
        let result = fetch_topics(
            &self.client,
            &self.store,
            &self.topics,
            &self.topics.topics,
            Source::Feed,
            self.config.arxiv.query_days,
            now,
        )
        .await;
        match result {
            Ok(report) => {
                crate::metrics::fetch(true);
                for e in &report.errors {
                    tracing::warn!("part of the fetch failed: {e}");
                }
                tracing::info!("fetched {}", report.summary());
                if let Some(n) = &self.fetched {
                    n.notify_one();
                }
                if let Some(e) = &self.enricher {
                    let r = e.run(shutdown.clone()).await;
                    for err in &r.errors {
                        tracing::warn!("enrichment: {err}");
                    }
                    tracing::info!("enriched: {}", r.summary());
                    if r.retrain > 0
                        && let Some(learn) = &self.learn
                    {
                        learn.wake();
                    }
                    // Digests planned meanwhile render from the store when sent; planning
                    // again lets hf-daily's new day reach its subscribers now.
                    if let Some(n) = &self.fetched {
                        n.notify_one();
                    }
                }
                if let Some(wake) = &self.search {
                    wake.wake();
                }
                if self.print_digests
                    && let Err(e) = self.print_new_days(&report)
                {
                    tracing::error!("cannot print digests: {e}");
                }
                true
            }
            Err(e) => {
                crate::metrics::fetch(false);
                tracing::error!("{e}");
                false
            }
        }
    }

    fn print_new_days(&self, report: &FetchReport) -> Result<()> {
        let printed = self
            .store
            .meta("stdout_digest_day")?
            .and_then(|s| s.parse::<NaiveDate>().ok());
        // Only the newest day: a feed that still serves yesterday's batch prints nothing new.
        let Some(&day) = report.days.iter().next_back() else {
            return Ok(());
        };
        if printed.is_some_and(|p| p >= day) {
            return Ok(());
        }
        let digests = compose::day_digests(&self.store, &self.topics, day)?;
        if digests.is_empty() {
            println!("No paper announced on {day} matches a configured topic.");
        }
        for d in &digests {
            println!("{}", render_text(d));
        }
        self.store.set_meta("stdout_digest_day", &day.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn default_schedule_fires_after_the_eastern_announcement_sunday_to_thursday() {
        let schedule: cron::Schedule = "0 30 20 * * Sun-Thu".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Friday 2024-11-22 noon UTC: the next fetch is Sunday 20:30 New York (01:30 UTC Monday).
        let now = Utc.with_ymd_and_hms(2024, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(
            next_fetch(&schedule, ny, now),
            Some(Utc.with_ymd_and_hms(2024, 11, 25, 1, 30, 0).unwrap())
        );
        // Across the DST change (2024-11-03): Sunday 20:30 EST is 01:30 UTC.
        let now = Utc.with_ymd_and_hms(2024, 11, 1, 12, 0, 0).unwrap();
        assert_eq!(
            next_fetch(&schedule, ny, now),
            Some(Utc.with_ymd_and_hms(2024, 11, 4, 1, 30, 0).unwrap())
        );
    }
}

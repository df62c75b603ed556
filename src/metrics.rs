//! The service's metrics: what is counted where it happens (fetches, papers, commands, LLM
//! requests; the `metrics` crate's macros, free when nothing records), and the Prometheus text
//! `/metrics` serves. Delivery's counters and queues are read from the store at each scrape,
//! so `/metrics` and `paperbell status` show the same numbers.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use paperbell_chat::Platform;

use crate::store::{Store, StoreError};

const FETCHES: &str = "paperbell_fetches_total";
const PAPERS_INGESTED: &str = "paperbell_papers_ingested_total";
const PAPERS_STORED: &str = "paperbell_papers_stored";
const DIGESTS: &str = "paperbell_digest_messages_total";
const CHATS_DEACTIVATED: &str = "paperbell_chats_deactivated_total";
const QUEUED: &str = "paperbell_outbox_queued";
const COMMANDS: &str = "paperbell_commands_total";
const COMMAND_SECONDS: &str = "paperbell_command_duration_seconds";
const LLM_REQUESTS: &str = "paperbell_llm_requests_total";
const LLM_TOKENS: &str = "paperbell_llm_tokens_total";
const PAGES: &str = "paperbell_web_responses_total";
const FIGURE_PAGES: &str = "paperbell_figure_pages_total";
const FIGURE_BYTES: &str = "paperbell_figure_bytes_total";
const BACKUPS: &str = "paperbell_backups_total";
const BACKUP_LAST_OK: &str = "paperbell_backup_last_success_timestamp_seconds";
const BACKUP_BYTES: &str = "paperbell_backup_last_size_bytes";
const CACHE_BYTES: &str = "paperbell_cache_bytes";

/// A fetch ended: `ok`, or `failed`.
pub fn fetch(ok: bool) {
    counter!(FETCHES, "result" => if ok { "ok" } else { "failed" }).increment(1);
}

/// Papers a fetch stored: `new` ones and `updated` (replaced versions).
pub fn papers_ingested(new: usize, updated: usize) {
    counter!(PAPERS_INGESTED, "kind" => "new").increment(new as u64);
    counter!(PAPERS_INGESTED, "kind" => "updated").increment(updated as u64);
}

/// A chat command (`Command::name`) was answered, in `took`.
pub fn command(platform: Platform, name: &'static str, took: Duration) {
    let labels = [("platform", platform.as_str()), ("command", name)];
    counter!(COMMANDS, &labels).increment(1);
    histogram!(COMMAND_SECONDS, &labels).record(took.as_secs_f64());
}

/// An LLM request ended (`ok`, `failed`), and the tokens it used.
pub fn llm_request(ok: bool, tokens: u64) {
    counter!(LLM_REQUESTS, "result" => if ok { "ok" } else { "failed" }).increment(1);
    counter!(LLM_TOKENS).increment(tokens);
}

/// Pages of arXiv's HTML edition asked for figures, by what they gave (`found`, `none`,
/// `missing`), and the bytes read.
pub fn figures(found: usize, none: usize, missing: usize, bytes: u64) {
    counter!(FIGURE_PAGES, "result" => "found").increment(found as u64);
    counter!(FIGURE_PAGES, "result" => "none").increment(none as u64);
    counter!(FIGURE_PAGES, "result" => "missing").increment(missing as u64);
    counter!(FIGURE_BYTES).increment(bytes);
}

/// A backup ended: on success, when (Unix seconds) and its size in bytes.
pub fn backup(done: Option<(i64, u64)>) {
    counter!(BACKUPS, "result" => if done.is_some() { "ok" } else { "failed" }).increment(1);
    if let Some((at, bytes)) = done {
        gauge!(BACKUP_LAST_OK).set(at as f64);
        gauge!(BACKUP_BYTES).set(bytes as f64);
    }
}

/// What the caches of `[memory] budget_mb` hold now, as they weigh it (`pages`, `memos`).
pub fn cache_bytes(cache: &'static str, bytes: u64) {
    gauge!(CACHE_BYTES, "cache" => cache).set(bytes as f64);
}

/// The web answered a request for a kind of page with a status.
pub fn web_response(page: &'static str, status: u16) {
    counter!(PAGES, "page" => page, "status" => status.to_string()).increment(1);
}

/// The process's recorder and its Prometheus rendering.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
}

impl Exporter {
    /// Installs the process's recorder, once; later calls share it. Before this, the macros
    /// above record nothing (the command line's one-shot commands never install it).
    pub fn install() -> Exporter {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                // Commands take milliseconds; a slow store or search seconds.
                .set_buckets_for_metric(
                    Matcher::Full(COMMAND_SECONDS.into()),
                    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0],
                )
                .expect("buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; /metrics shows only the store's counters");
            }
            describe();
            zero();
            handle
        });
        Exporter {
            handle: handle.clone(),
        }
    }

    /// The metrics in Prometheus's text format, with delivery's counters and queue depths
    /// and the stored papers read from `store` now.
    pub fn render(&self, store: &Store) -> Result<String, StoreError> {
        for p in [Platform::Telegram, Platform::Discord] {
            let c = store.counters(p)?;
            let platform = p.as_str();
            for (state, n) in [
                ("planned", c.planned),
                ("sent", c.sent),
                ("retried", c.retried),
                ("dropped", c.dropped),
            ] {
                counter!(DIGESTS, "platform" => platform, "state" => state).absolute(n);
            }
            counter!(CHATS_DEACTIVATED, "platform" => platform).absolute(c.deactivated);
            gauge!(QUEUED, "platform" => platform).set(store.outbox_len(p) as f64);
        }
        gauge!(PAPERS_STORED).set(store.paper_count() as f64);
        cache_bytes("memos", store.memo_bytes());
        Ok(self.handle.render())
    }
}

/// Counters that may not have happened yet start at zero (a scrape sees every series).
fn zero() {
    for ok in [true, false] {
        let result = if ok { "ok" } else { "failed" };
        counter!(FETCHES, "result" => result).increment(0);
        counter!(LLM_REQUESTS, "result" => result).increment(0);
        counter!(BACKUPS, "result" => result).increment(0);
    }
    papers_ingested(0, 0);
    counter!(LLM_TOKENS).increment(0);
}

fn describe() {
    describe_counter!(FETCHES, "arXiv fetches by result (ok, failed)");
    describe_counter!(
        PAPERS_INGESTED,
        "Papers stored by fetches: new, or updated to a new version"
    );
    describe_gauge!(PAPERS_STORED, "Papers in the store");
    describe_gauge!(
        CACHE_BYTES,
        "Bytes the caches of [memory] budget_mb hold, as weighed (pages, memos)"
    );
    describe_counter!(BACKUPS, "Backups taken by result (ok, failed)");
    describe_gauge!(
        BACKUP_LAST_OK,
        "When the last backup succeeded (Unix seconds; absent before the first)"
    );
    describe_gauge!(BACKUP_BYTES, "Size of the last successful backup in bytes");
    describe_counter!(
        DIGESTS,
        "Digest messages per platform: planned, sent, retried (a transient failure), dropped (gave up); as `paperbell status` counts them"
    );
    describe_counter!(
        CHATS_DEACTIVATED,
        "Chats that refused the bot (blocked, kicked, deleted)"
    );
    describe_gauge!(QUEUED, "Digest messages waiting in the outbox per platform");
    describe_counter!(COMMANDS, "Chat commands answered, per platform and command");
    describe_histogram!(
        COMMAND_SECONDS,
        "Time to answer a chat command, per platform and command"
    );
    describe_counter!(LLM_REQUESTS, "Requests to the LLM server by result");
    describe_counter!(
        LLM_TOKENS,
        "Tokens the LLM server reported used (or estimated)"
    );
    describe_counter!(PAGES, "Web responses per page kind and status");
    describe_counter!(
        FIGURE_PAGES,
        "Pages of arXiv's HTML edition asked for a paper's figure, by result (found, none, missing)"
    );
    describe_counter!(FIGURE_BYTES, "Bytes of arXiv HTML read for figures");
}

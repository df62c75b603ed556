//! The core's `Handler` as the adapters' async code calls it: every call runs on tokio's
//! blocking pool, since the core may block on the store (a search scans, a migration writes),
//! and a panic in the core becomes a polite reply instead of a dead task.

use std::sync::Arc;

use crate::{
    Answer, Caller, ChatRef, Command, Handler, Lang, NotRated, Rate, Rated, Reply, TopicItem,
};

/// A cheap-to-clone handle on the core for async adapters.
#[derive(Clone)]
pub struct Offload(Arc<dyn Handler>);

impl Offload {
    pub fn new(handler: Arc<dyn Handler>) -> Self {
        Offload(handler)
    }

    /// Runs `f` on the core off the async workers; `None` if it panicked.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Handler) -> T + Send + 'static,
    ) -> Option<T> {
        let h = self.0.clone();
        match tokio::task::spawn_blocking(move || f(h.as_ref())).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "the command handler panicked");
                None
            }
        }
    }

    pub async fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        let caller = caller.clone();
        self.run(move |h| h.command(&caller, cmd))
            .await
            .unwrap_or_else(|| Answer {
                lang: Lang::En,
                reply: Reply::Text(
                    "Something went wrong on the bot's side; please try again in a minute.".into(),
                ),
            })
    }

    pub async fn lang(&self, caller: &Caller) -> Lang {
        let caller = caller.clone();
        self.run(move |h| h.lang(&caller)).await.unwrap_or_default()
    }

    pub async fn chat_gone(&self, chat: &ChatRef, why: &str) {
        let (chat, why) = (chat.clone(), why.to_string());
        self.run(move |h| h.chat_gone(&chat, &why)).await;
    }

    pub async fn chat_moved(&self, from: &ChatRef, to: &ChatRef) {
        let (from, to) = (from.clone(), to.clone());
        self.run(move |h| h.chat_moved(&from, &to)).await;
    }

    pub async fn rate(
        &self,
        caller: &Caller,
        paper: &str,
        rate: Rate,
        tap: &str,
    ) -> Result<Rated, NotRated> {
        let (caller, paper, tap) = (caller.clone(), paper.to_string(), tap.to_string());
        self.run(move |h| h.rate(&caller, &paper, rate, &tap))
            .await
            .unwrap_or_else(|| {
                Err(NotRated(
                    "Something went wrong on the bot's side; please try again.".into(),
                ))
            })
    }

    pub async fn rated(&self, chat: &ChatRef, papers: &[String]) -> Vec<Rated> {
        let (chat, papers) = (chat.clone(), papers.to_vec());
        let n = papers.len();
        self.run(move |h| h.rated(&chat, &papers))
            .await
            .unwrap_or_else(|| vec![Rated::default(); n])
    }

    pub async fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem> {
        let (chat, typed) = (chat.clone(), typed.to_string());
        self.run(move |h| h.suggest_topics(&chat, &typed))
            .await
            .unwrap_or_default()
    }
}

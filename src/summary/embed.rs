//! Papers' embeddings from the LLM's server (`/embeddings`, OpenAI's shape), when
//! `[llm] embedding_model` is set: after each fetch the day's papers, and the papers chats
//! rated, are embedded once (cached in the store) for the chats' taste models. Requests count
//! against the LLM's daily token budget.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::llm::{LlmError, base_url, post_json};
use crate::clock::Clock;
use crate::config::{LlmConfig, Secret};
use crate::model::paper::StoredPaper;
use crate::store::Store;

/// Papers embedded per request.
const BATCH: usize = 32;
/// Characters of a paper's text sent (its title and the start of its abstract): embedding
/// models read a few hundred tokens.
const TEXT_CHARS: usize = 2_000;

/// The embedding model on the LLM's server.
pub struct Embedder {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<Secret>,
    budget: u64,
    clock: Clock,
}

impl Embedder {
    /// The configured embedder; `Ok(None)` without `llm.embedding_model`.
    pub fn new(cfg: &LlmConfig, clock: Clock) -> Result<Option<Embedder>, LlmError> {
        if !cfg.embeddings() {
            return Ok(None);
        }
        Ok(Some(Embedder {
            http: super::llm::client(cfg)?,
            url: format!("{}/embeddings", base_url(cfg)),
            model: cfg.embedding_model.trim().to_string(),
            key: cfg.api_key.clone(),
            budget: cfg.daily_token_budget,
            clock,
        }))
    }

    /// One embedding per text, in order.
    pub async fn embed(&self, store: &Store, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let day = self.clock.now().date_naive();
        if store.llm_tokens(day)? >= self.budget {
            return Err(LlmError::Budget(self.budget));
        }
        let request = json!({"model": self.model, "input": texts});
        let answer = post_json(
            &self.http,
            &self.url,
            self.key.as_ref(),
            &request,
            "an embeddings answer",
            &self.clock,
        )
        .await?;
        let used = answer["usage"]["total_tokens"].as_u64().unwrap_or(0);
        store.add_llm_tokens(day, used)?;
        parse_embeddings(&answer, texts.len())
    }

    /// Embeds each of `papers` that has no embedding from this model yet (each once, however
    /// often it is listed); stops at the first failure (what was stored stays). The model
    /// becomes the one the store's features use. The ids of the papers embedded.
    pub async fn embed_missing(
        &self,
        store: &Store,
        papers: &[StoredPaper],
    ) -> Result<Vec<String>, LlmError> {
        store.set_embedding_model(&self.model)?;
        let mut seen = HashSet::new();
        let mut missing = Vec::new();
        for sp in papers {
            let id = sp.paper.id.as_str();
            if seen.insert(id) && !store.has_embedding(id, &self.model)? {
                missing.push(sp);
            }
        }
        let mut done = Vec::new();
        for chunk in missing.chunks(BATCH) {
            let texts: Vec<String> = chunk
                .iter()
                .map(|sp| {
                    format!("{}. {}", sp.paper.title, sp.paper.abstract_text)
                        .chars()
                        .take(TEXT_CHARS)
                        .collect()
                })
                .collect();
            let vectors = self.embed(store, &texts).await?;
            let embedded: Vec<(&str, &[f32])> = chunk
                .iter()
                .zip(&vectors)
                .map(|(sp, v)| (sp.paper.id.as_str(), v.as_slice()))
                .collect();
            store.put_embeddings(&self.model, &embedded)?;
            done.extend(embedded.iter().map(|(id, _)| id.to_string()));
        }
        Ok(done)
    }
}

/// The vectors of an `/embeddings` answer, by their `index`; every one of `n` must be there,
/// of one length, with finite numbers.
fn parse_embeddings(answer: &Value, n: usize) -> Result<Vec<Vec<f32>>, LlmError> {
    let bad = |why: &str| LlmError::Malformed(why.to_string());
    let data = answer["data"].as_array().ok_or_else(|| bad("no data"))?;
    let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
    for (k, d) in data.iter().enumerate() {
        let i = d["index"].as_u64().map_or(k, |i| i as usize);
        let v: Vec<f32> = d["embedding"]
            .as_array()
            .ok_or_else(|| bad("an embedding is not an array"))?
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32).filter(|x| x.is_finite()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("an embedding holds something other than numbers"))?;
        *out.get_mut(i).ok_or_else(|| bad("an index out of range"))? = Some(v);
    }
    let out: Vec<Vec<f32>> = out
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| bad("an input has no embedding"))?;
    if out.iter().any(|v| v.is_empty() || v.len() != out[0].len()) {
        return Err(bad("embeddings of different lengths"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_by_index_and_checked() {
        let a = json!({"data": [
            {"index": 1, "embedding": [0.0, 1.0]},
            {"index": 0, "embedding": [1.0, 0.5]},
        ]});
        assert_eq!(
            parse_embeddings(&a, 2).unwrap(),
            vec![vec![1.0, 0.5], vec![0.0, 1.0]]
        );
        assert!(parse_embeddings(&a, 3).is_err(), "one missing");
        let ragged = json!({"data": [{"embedding": [1.0]}, {"embedding": [1.0, 2.0]}]});
        assert!(parse_embeddings(&ragged, 2).is_err());
        let text = json!({"data": [{"embedding": ["x"]}]});
        assert!(parse_embeddings(&text, 1).is_err());
        assert!(parse_embeddings(&json!({"error": "no"}), 1).is_err());
    }
}

//! The optional LLM: any OpenAI-compatible `/chat/completions` server. Requests and answers
//! are built and checked purely (`paper_request`, `parse_summary`, `overview_request`,
//! `parse_overview`); `Llm` adds the HTTP, the concurrency limit, the daily token budget and
//! the cache in the store. Any failure is an `Err`: callers fall back to the extractive
//! summary, so an LLM problem never delays or drops a digest.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::clock::Clock;
use crate::config::{LlmConfig, Secret};
use crate::model::enrichment::LlmSummary;
use crate::model::paper::StoredPaper;
use crate::store::{Store, StoreError};
use crate::summary::tldr;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the daily token budget ({0}) is spent")]
    Budget(u64),
    #[error("timed out")]
    Timeout,
    #[error("HTTP {0}: {1}")]
    Status(u16, String),
    #[error("{0}")]
    Http(String),
    #[error("unusable answer: {0}")]
    Malformed(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

fn malformed(why: impl Into<String>) -> LlmError {
    LlmError::Malformed(why.into())
}

impl From<reqwest::Error> for LlmError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            LlmError::Timeout
        } else {
            LlmError::Http(e.to_string())
        }
    }
}

/// The language a code names, for the prompt; `None`: not a language paperbell translates to.
pub fn language_name(code: &str) -> Option<&'static str> {
    Some(match code.trim().to_ascii_lowercase().as_str() {
        "en" => "English",
        "zh" | "zh-cn" | "zh-hans" | "zh-sg" => "Simplified Chinese",
        "zh-tw" | "zh-hant" | "zh-hk" => "Traditional Chinese",
        "ja" => "Japanese",
        "ko" => "Korean",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "vi" => "Vietnamese",
        _ => return None,
    })
}

/// The cache key's language: one code per language (`zh-CN` and `zh` share a summary).
pub fn lang_key(code: &str) -> String {
    let name = language_name(code);
    match name {
        Some("Simplified Chinese") => "zh".into(),
        Some("Traditional Chinese") => "zh-hant".into(),
        _ => code.trim().to_ascii_lowercase(),
    }
}

fn translates(lang: &str) -> bool {
    lang_key(lang) != "en"
}

fn response_format(name: &str, schema: Value) -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {"name": name, "strict": true, "schema": schema}
    })
}

/// The chat-completions request that summarises one paper (and translates for `lang`).
pub fn paper_request(
    model: &str,
    title: &str,
    abstract_text: &str,
    lang: &str,
    json_schema: bool,
) -> Value {
    let mut props = json!({
        "tldr": {"type": "string"},
        "takeaways": {"type": "array", "items": {"type": "string"}},
    });
    let mut required = vec!["tldr", "takeaways"];
    let mut ask = String::from(
        "Return a JSON object with \"tldr\": one English sentence (at most 200 characters) \
         stating what the paper contributes and its main result, and \"takeaways\": up to five \
         short English key takeaways.",
    );
    if translates(lang) {
        let name = language_name(lang).unwrap_or("the requested language");
        props["title_translated"] = json!({"type": "string"});
        props["tldr_translated"] = json!({"type": "string"});
        required.extend(["title_translated", "tldr_translated"]);
        ask.push_str(&format!(
            " Also \"title_translated\": the title in {name}, and \"tldr_translated\": the tldr \
             in {name}."
        ));
    }
    ask.push_str(" Keep LaTeX such as $\\mathbb{R}$ exactly as written. Answer with JSON only.");
    let mut req = json!({
        "model": model,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "You summarise research papers for a daily digest read by researchers. You answer with JSON only."},
            {"role": "user", "content": format!("{ask}\n\nTitle: {title}\n\nAbstract: {abstract_text}")},
        ],
    });
    if json_schema {
        req["response_format"] = response_format(
            "paper_summary",
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false}),
        );
    }
    req
}

/// The JSON object in a model's answer: as is, or inside a ```json fence (local models).
fn json_object(content: &str) -> Result<serde_json::Map<String, Value>, LlmError> {
    let s = content.trim();
    let s = s
        .strip_prefix("```json")
        .or_else(|| s.strip_prefix("```"))
        .map(|r| r.trim_end().trim_end_matches("```"))
        .unwrap_or(s)
        .trim();
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(malformed("the answer is not a JSON object")),
        Err(e) => Err(malformed(format!("the answer is not JSON: {e}"))),
    }
}

fn text_field(m: &serde_json::Map<String, Value>, key: &str) -> Result<String, LlmError> {
    match m.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(crate::model::paper::normalize_ws(s)),
        Some(_) => Err(malformed(format!("`{key}` is not a non-empty string"))),
        None => Err(malformed(format!("`{key}` is missing"))),
    }
}

/// Checks a model's answer to `paper_request` and makes it a summary: a non-empty TL;DR of at
/// most 280 characters, up to five non-empty takeaways, and both translations when `lang`
/// asks for them.
pub fn parse_summary(content: &str, model: &str, lang: &str) -> Result<LlmSummary, LlmError> {
    let m = json_object(content)?;
    let tldr = tldr::shorten(&text_field(&m, "tldr")?);
    let takeaways = match m.get("takeaways") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .map(crate::model::paper::normalize_ws)
            .filter(|s| !s.is_empty())
            .take(5)
            .map(|s| tldr::shorten(&s))
            .collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(malformed("`takeaways` is not a list")),
    };
    let (title_translated, tldr_translated) = if translates(lang) {
        (
            Some(text_field(&m, "title_translated")?),
            Some(tldr::shorten(&text_field(&m, "tldr_translated")?)),
        )
    } else {
        (None, None)
    };
    Ok(LlmSummary {
        model: model.to_string(),
        tldr,
        takeaways,
        title_translated,
        tldr_translated,
    })
}

/// The request for a topic's two- or three-sentence overview of a day, in `lang`.
pub fn overview_request(
    model: &str,
    topic: &str,
    papers: &[(String, String)],
    lang: &str,
    json_schema: bool,
) -> Value {
    let name = language_name(lang).unwrap_or("English");
    let mut list = String::new();
    for (title, tldr) in papers.iter().take(40) {
        list.push_str(&format!("- {title}: {tldr}\n"));
    }
    let mut req = json!({
        "model": model,
        "temperature": 0.3,
        "messages": [
            {"role": "system", "content": "You write overviews of the day's research papers for a digest. You answer with JSON only."},
            {"role": "user", "content": format!(
                "Return a JSON object with \"overview\": two or three sentences in {name} on what today's papers in the topic \"{topic}\" are about (themes, notable results). Answer with JSON only.\n\nPapers:\n{list}"
            )},
        ],
    });
    if json_schema {
        req["response_format"] = response_format(
            "topic_overview",
            json!({"type": "object", "properties": {"overview": {"type": "string"}}, "required": ["overview"], "additionalProperties": false}),
        );
    }
    req
}

/// Checks an answer to `overview_request`: a non-empty text of at most 800 characters.
pub fn parse_overview(content: &str) -> Result<String, LlmError> {
    let m = json_object(content)?;
    let o = text_field(&m, "overview")?;
    if o.chars().count() > 800 {
        return Err(malformed("the overview is longer than 800 characters"));
    }
    Ok(o)
}

/// What the server reported as used, or an estimate (4 characters a token) when it did not.
fn tokens_used(answer: &Value, request: &Value) -> u64 {
    answer["usage"]["total_tokens"]
        .as_u64()
        .unwrap_or_else(|| (request.to_string().len() + answer.to_string().len()) as u64 / 4)
}

/// The LLM's server is asked again through a passing failure (a 429, a 5xx, no connection, a
/// timeout), a little: a summary that still fails falls back to the extractive one.
const RETRY: paperbell_chat::retry::RetryPolicy = paperbell_chat::retry::RetryPolicy {
    base: Duration::from_secs(1),
    cap: Duration::from_secs(30),
    retries: 2,
    budget: Duration::from_secs(60),
};

/// The API root paths hang off, without its trailing slash (empty when no LLM is set).
pub(super) fn base_url(cfg: &LlmConfig) -> &str {
    cfg.base_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/')
}

/// The HTTP client for the LLM's server (completions and embeddings alike).
pub(super) fn client(cfg: &LlmConfig) -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(cfg.timeout_secs))
        .build()
        .map_err(LlmError::Client)
}

/// POSTs `request` to the server's `url` (with the key, when there is one) and reads the
/// answer as JSON; a status other than success is an error with the start of its body.
pub(super) async fn post_json(
    http: &reqwest::Client,
    url: &str,
    key: Option<&Secret>,
    request: &Value,
    what: &str,
    clock: &Clock,
) -> Result<Value, LlmError> {
    let resp = crate::sources::retry::send(RETRY, clock, what, || {
        let req = http.post(url).json(request);
        match key {
            Some(k) => req.bearer_auth(k.expose()),
            None => req,
        }
    })
    .await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        return Err(LlmError::Status(status.as_u16(), text));
    }
    serde_json::from_slice::<Value>(&body)
        .map_err(|e| LlmError::Malformed(format!("not {what}: {e}")))
}

/// An OpenAI-compatible server, shared by everything that summarises.
pub struct Llm {
    http: reqwest::Client,
    url: String,
    model: String,
    key: Option<Secret>,
    permits: Semaphore,
    budget: u64,
    json_schema: bool,
    /// Whose day the token budget counts (UTC).
    clock: Clock,
}

impl Llm {
    /// The configured LLM; `Ok(None)` when none is configured.
    pub fn new(cfg: &LlmConfig, clock: Clock) -> Result<Option<Llm>, LlmError> {
        if !cfg.enabled() {
            return Ok(None);
        }
        let http = client(cfg)?;
        Ok(Some(Llm {
            http,
            url: format!("{}/chat/completions", base_url(cfg)),
            model: cfg.model.trim().to_string(),
            key: cfg.api_key.clone(),
            permits: Semaphore::new(cfg.max_concurrency),
            budget: cfg.daily_token_budget,
            json_schema: cfg.json_schema,
            clock,
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// One completion within the concurrency limit and the budget: the answer's text.
    async fn complete(&self, store: &Store, request: &Value) -> Result<String, LlmError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LlmError::Http("shutting down".into()))?;
        let spent = store.llm_tokens(self.today())?;
        if spent >= self.budget {
            return Err(LlmError::Budget(self.budget));
        }
        let answer = post_json(
            &self.http,
            &self.url,
            self.key.as_ref(),
            request,
            "a chat completion",
            &self.clock,
        )
        .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                crate::metrics::llm_request(false, 0);
                return Err(e);
            }
        };
        let used = tokens_used(&answer, request);
        crate::metrics::llm_request(true, used);
        store.add_llm_tokens(self.today(), used)?;
        answer["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| LlmError::Malformed("no choices[0].message.content".into()))
    }

    /// The paper's summary in `lang`: from the cache, or asked once and cached. The bool says
    /// whether the server was asked.
    pub async fn summarise(
        &self,
        store: &Store,
        sp: &StoredPaper,
        lang: &str,
    ) -> Result<(LlmSummary, bool), LlmError> {
        let p = &sp.paper;
        let lang = lang_key(lang);
        let cached = store.summary(p.id.as_str(), p.version, &lang, Some(&self.model))?;
        if let Some(s) = cached {
            return Ok((s, false));
        }
        let request = paper_request(
            &self.model,
            &p.title,
            &p.abstract_text,
            &lang,
            self.json_schema,
        );
        let content = self.complete(store, &request).await?;
        let s = parse_summary(&content, &self.model, &lang)?;
        store.put_summary(p.id.as_str(), p.version, &lang, &s)?;
        Ok((s, true))
    }

    /// A topic's overview of a day in `lang`: from the cache, or asked once and cached.
    pub async fn overview(
        &self,
        store: &Store,
        topic: (&str, &str),
        day: NaiveDate,
        lang: &str,
        papers: &[(String, String)],
    ) -> Result<String, LlmError> {
        let lang = lang_key(lang);
        if let Some(o) = store.overview(topic.0, day, &lang, Some(&self.model))? {
            return Ok(o);
        }
        let request = overview_request(&self.model, topic.1, papers, &lang, self.json_schema);
        let content = self.complete(store, &request).await?;
        let o = parse_overview(&content)?;
        store.put_overview(topic.0, day, &lang, &self.model, &o)?;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_ask_for_translation_only_when_needed() {
        let en = paper_request("m", "T", "A", "en", true);
        let req = en["response_format"]["json_schema"]["schema"]["required"].clone();
        assert_eq!(req, json!(["tldr", "takeaways"]));
        let zh = paper_request("m", "T", "A", "zh-CN", false);
        assert!(zh.get("response_format").is_none());
        assert!(
            zh["messages"][1]["content"]
                .as_str()
                .unwrap()
                .contains("Simplified Chinese")
        );
    }

    #[test]
    fn answers_are_validated() {
        let ok = "```json\n{\"tldr\": \"We do  X.\", \"takeaways\": [\"a\", \"\", \"b\", \"c\", \"d\", \"e\", \"f\"], \"title_translated\": \"标题\", \"tldr_translated\": \"我们做 X。\"}\n```";
        let s = parse_summary(ok, "m", "zh").unwrap();
        assert_eq!(s.tldr, "We do X.");
        assert_eq!(s.takeaways, ["a", "b", "c", "d", "e"]);
        assert_eq!(s.title_translated.as_deref(), Some("标题"));
        assert!(
            parse_summary(ok, "m", "en")
                .unwrap()
                .title_translated
                .is_none()
        );
        assert!(parse_summary("{\"tldr\": \"x\", \"takeaways\": []}", "m", "zh").is_err());
        assert!(parse_summary("{\"tldr\": \"\", \"takeaways\": []}", "m", "en").is_err());
        assert!(parse_summary("{\"tldr\": \"x\", \"takeaways\": 3}", "m", "en").is_err());
        assert!(parse_summary("Sure! Here is", "m", "en").is_err());
        assert!(parse_overview("{\"overview\": \"Two sentences. Here.\"}").is_ok());
        assert!(parse_overview("[1]").is_err());
    }
}

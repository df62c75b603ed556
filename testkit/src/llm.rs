//! A fake OpenAI-compatible server: `POST /v1/chat/completions` as OpenAI, DeepSeek, Ollama,
//! vLLM and llama.cpp serve it. Strict about the request (model, messages, a well-formed
//! `response_format` when sent, the bearer key when one is required); answers with valid JSON
//! for paperbell's two requests (a paper summary with or without translation, a topic
//! overview), with `usage.total_tokens`. Faults: malformed content, 500, 429, a slow answer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

/// What the next request gets instead of a good answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 200 with content that is not JSON.
    Malformed,
    /// 200 with JSON content missing required keys.
    WrongShape,
    /// 500.
    ServerError,
    /// 429 with `Retry-After: 1`.
    TooMany,
    /// A good answer after this long.
    Slow(Duration),
}

#[derive(Default)]
struct Inner {
    requests: Vec<Value>,
    faults: VecDeque<Fault>,
    delay: Duration,
    tokens: u64,
    key: Option<String>,
    in_flight: usize,
    max_in_flight: usize,
}

#[derive(Clone)]
pub struct FakeLlm {
    /// The base URL to configure (`.../v1`).
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl FakeLlm {
    pub async fn start() -> FakeLlm {
        let inner = Arc::new(Mutex::new(Inner {
            tokens: 100,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route("/v1/embeddings", post(embeddings))
            .with_state(inner.clone());
        let (addr, stop, _) = crate::http::serve(app).await;
        FakeLlm {
            url: format!("http://{addr}/v1"),
            inner,
            _stop: Arc::new(stop),
        }
    }

    /// Every answer waits this long first.
    pub fn set_delay(&self, d: Duration) {
        self.inner.lock().unwrap().delay = d;
    }

    /// `usage.total_tokens` of each answer.
    pub fn set_tokens(&self, n: u64) {
        self.inner.lock().unwrap().tokens = n;
    }

    /// Requests without `Authorization: Bearer <key>` get 401.
    pub fn require_key(&self, key: &str) {
        self.inner.lock().unwrap().key = Some(key.to_string());
    }

    pub fn fail_next(&self, f: Fault) {
        self.inner.lock().unwrap().faults.push_back(f);
    }

    /// Request bodies so far.
    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.inner.lock().unwrap().requests.len()
    }

    /// Most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.inner.lock().unwrap().max_in_flight
    }
}

/// Dimensions of the fake's embeddings.
pub const EMBEDDING_DIMS: usize = 64;

/// A text's embedding as the fake makes it: its words hashed into `EMBEDDING_DIMS` buckets
/// (so texts sharing words point the same way, as a real model's would for shared topics),
/// unit length.
pub fn embedding_of(text: &str) -> Vec<f32> {
    embedding_in(text, EMBEDDING_DIMS)
}

/// `embedding_of` in `dims` dimensions.
pub fn embedding_in(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0f32; dims];
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in w.to_lowercase().bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        v[(h % dims as u64) as usize] += if h & 1 == 0 { 1.0 } else { -1.0 };
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
    v.iter().map(|x| x / n).collect()
}

/// The 401 OpenAI answers a request without the required key.
fn unauthorised(i: &Inner, headers: &HeaderMap) -> Option<Response> {
    let k = i.key.as_ref()?;
    let want = format!("Bearer {k}");
    (headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&want))
        .then(|| error(StatusCode::UNAUTHORIZED, "Incorrect API key provided"))
}

/// `POST /v1/embeddings` as OpenAI answers it: `input` a string or an array of them.
async fn embeddings(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    {
        let mut i = inner.lock().unwrap();
        if let Some(refused) = unauthorised(&i, &headers) {
            return refused;
        }
        i.requests.push(req.clone());
        if let Some(Fault::ServerError) = i.faults.front() {
            i.faults.pop_front();
            return error(StatusCode::INTERNAL_SERVER_ERROR, "server error");
        }
    }
    if req["model"].as_str().is_none_or(|m| m.is_empty()) {
        return error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
        );
    }
    let inputs: Vec<String> = match &req["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) if !a.is_empty() && a.len() <= 2048 => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if inputs.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "input must be a string or an array of strings",
        );
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": embedding_of(t)}))
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    Json(json!({
        "object": "list", "data": data, "model": req["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
    }))
    .into_response()
}

fn error(status: StatusCode, msg: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": msg, "type": "invalid_request_error"}})),
    )
        .into_response()
}

/// The text after `label` up to the end of its line, in the user message.
fn field<'a>(user: &'a str, label: &str) -> &'a str {
    user.split_once(label)
        .map(|(_, r)| r.lines().next().unwrap_or("").trim())
        .unwrap_or("")
}

fn answer_for(req: &Value) -> Value {
    let user = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    if user.contains("\"overview\"") {
        return json!({"overview": "Today's papers push the topic forward. Several share code."});
    }
    let title = field(user, "Title:");
    let mut a = json!({
        "tldr": format!("LLM summary of {title}."),
        "takeaways": [format!("First takeaway of {title}"), "Second takeaway"],
    });
    if user.contains("\"title_translated\"") {
        a["title_translated"] = json!(format!("译：{title}"));
        a["tldr_translated"] = json!(format!("中文摘要：{title}。"));
    }
    a
}

async fn completions(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let (fault, delay, tokens) = {
        let mut i = inner.lock().unwrap();
        if let Some(refused) = unauthorised(&i, &headers) {
            return refused;
        }
        i.requests.push(req.clone());
        i.in_flight += 1;
        i.max_in_flight = i.max_in_flight.max(i.in_flight);
        (i.faults.pop_front(), i.delay, i.tokens)
    };
    let done = |r: Response| {
        inner.lock().unwrap().in_flight -= 1;
        r
    };
    if req["model"].as_str().is_none_or(|m| m.is_empty()) {
        return done(error(
            StatusCode::BAD_REQUEST,
            "you must provide a model parameter",
        ));
    }
    if req["messages"].as_array().is_none_or(|m| m.is_empty()) {
        return done(error(
            StatusCode::BAD_REQUEST,
            "messages must be a non-empty array",
        ));
    }
    if let Some(rf) = req.get("response_format") {
        let ok = rf["type"] == "json_schema"
            && rf["json_schema"]["name"].is_string()
            && rf["json_schema"]["schema"]["type"] == "object";
        if !ok {
            return done(error(StatusCode::BAD_REQUEST, "invalid response_format"));
        }
    }
    let wait = match &fault {
        Some(Fault::Slow(d)) => *d,
        _ => delay,
    };
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let content = match fault {
        Some(Fault::ServerError) => {
            return done(error(StatusCode::INTERNAL_SERVER_ERROR, "server error"));
        }
        Some(Fault::TooMany) => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit reached");
            r.headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
            return done(r);
        }
        Some(Fault::Malformed) => "Sure! Here is the summary: {tldr: oops".to_string(),
        Some(Fault::WrongShape) => json!({"summary": "no tldr key"}).to_string(),
        _ => answer_for(&req).to_string(),
    };
    done(
        Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": req["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": tokens / 2, "completion_tokens": tokens - tokens / 2,
                      "total_tokens": tokens},
        }))
        .into_response(),
    )
}

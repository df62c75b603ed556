//! A fake Hugging Face papers API: `GET /api/daily_papers?date=&limit=` (items with a `paper`
//! object, as huggingface.co answers) and `GET /api/papers/<id>` (404 for unknown papers).
//! Faults: 500 and 429 for the next request; every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Inner {
    daily: HashMap<String, Vec<Value>>,
    papers: HashMap<String, Value>,
    faults: VecDeque<StatusCode>,
    requests: Vec<String>,
}

#[derive(Clone)]
pub struct FakeHuggingFace {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

/// A paper object as Hugging Face serves it.
pub fn paper(id: &str, title: &str, upvotes: u32, github: Option<&str>) -> Value {
    let mut p = json!({
        "id": id,
        "title": title,
        "summary": format!("We propose {title}. It works well."),
        "authors": [{"_id": "a1", "name": "Ada Lovelace", "hidden": false}],
        "publishedAt": "2024-11-18T17:59:00.000Z",
        "upvotes": upvotes,
        "ai_summary": format!("{title} in one line."),
        "ai_keywords": ["fake", "keyword"],
    });
    if let Some(g) = github {
        p["githubRepo"] = json!(g);
        p["githubStars"] = json!(321);
        p["projectPage"] = json!(format!("https://{id}.github.io"));
    }
    p
}

impl FakeHuggingFace {
    pub async fn start() -> FakeHuggingFace {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/api/daily_papers", get(daily))
            .route("/api/papers/{id}", get(one))
            .with_state(inner.clone());
        let (addr, stop, _) = crate::http::serve(app).await;
        FakeHuggingFace {
            url: format!("http://{addr}"),
            inner,
            _stop: Arc::new(stop),
        }
    }

    /// The Daily Papers of `date` (YYYY-MM-DD); each paper is also known to `/api/papers`.
    pub fn set_daily(&self, date: &str, papers: Vec<Value>) {
        let mut i = self.inner.lock().unwrap();
        for p in &papers {
            i.papers
                .insert(p["id"].as_str().unwrap_or("").to_string(), p.clone());
        }
        let items = papers
            .into_iter()
            .map(|p| json!({"paper": p, "title": p["title"], "numComments": 0}))
            .collect();
        i.daily.insert(date.to_string(), items);
    }

    /// A paper `/api/papers/<id>` knows, outside any daily list.
    pub fn add_paper(&self, p: Value) {
        let mut i = self.inner.lock().unwrap();
        i.papers
            .insert(p["id"].as_str().unwrap_or("").to_string(), p);
    }

    pub fn fail_next(&self, status: StatusCode) {
        self.inner.lock().unwrap().faults.push_back(status);
    }

    /// Paths (with query) requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }
}

fn fault(inner: &Mutex<Inner>, what: String) -> Option<Response> {
    let mut i = inner.lock().unwrap();
    i.requests.push(what);
    i.faults
        .pop_front()
        .map(|s| (s, Json(json!({"error": "fault"}))).into_response())
}

async fn daily(
    State(inner): State<Arc<Mutex<Inner>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let date = q.get("date").cloned().unwrap_or_default();
    if let Some(r) = fault(&inner, format!("/api/daily_papers?date={date}")) {
        return r;
    }
    let items = inner
        .lock()
        .unwrap()
        .daily
        .get(&date)
        .cloned()
        .unwrap_or_default();
    Json(Value::Array(items)).into_response()
}

async fn one(State(inner): State<Arc<Mutex<Inner>>>, Path(id): Path<String>) -> Response {
    if let Some(r) = fault(&inner, format!("/api/papers/{id}")) {
        return r;
    }
    match inner.lock().unwrap().papers.get(&id) {
        Some(p) => Json(p.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Paper not found"})),
        )
            .into_response(),
    }
}

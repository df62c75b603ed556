//! What enrichment learns about a paper beyond its arXiv record: Hugging Face's facts and an
//! LLM's summary. Values only; `store` keeps them, `summary` makes and shows them.

use serde::{Deserialize, Serialize};

/// What Hugging Face knows about a paper (`found: false`: it does not know the paper).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HfInfo {
    pub found: bool,
    pub upvotes: Option<u32>,
    pub github_repo: Option<String>,
    pub github_stars: Option<u32>,
    pub project_page: Option<String>,
    pub ai_summary: Option<String>,
    pub ai_keywords: Vec<String>,
    /// Unix seconds of the answer.
    pub fetched_at: i64,
}

/// An LLM's summary of one paper version, for one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmSummary {
    pub model: String,
    pub tldr: String,
    pub takeaways: Vec<String>,
    /// Only for a language other than English.
    pub title_translated: Option<String>,
    pub tldr_translated: Option<String>,
}

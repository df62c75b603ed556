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
    /// The first image the authors put on the paper's Hugging Face page (`mediaUrls`): the
    /// paper's figure where its HTML edition has none.
    pub media: Option<String>,
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

/// A paper's figure as its arXiv HTML edition shows it: the image's absolute address, the
/// caption as readable text (without its "Figure 1:" tag, math read), and the size the page
/// gives the image (pixels), when it gives one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub url: String,
    pub caption: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// What asking for a paper version's figure found: remembered, so nothing is asked twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FigureLookup {
    /// The edition's first figure (or, without one, Hugging Face's image of the paper).
    Found(Figure),
    /// The edition exists and has no figure with an image.
    NoFigure,
    /// arXiv has no HTML edition of this version (404).
    NoEdition,
}

impl FigureLookup {
    pub fn figure(&self) -> Option<&Figure> {
        match self {
            FigureLookup::Found(f) => Some(f),
            _ => None,
        }
    }

    /// Whether the HTML edition exists (for the "HTML" link).
    pub fn has_edition(&self) -> bool {
        !matches!(self, FigureLookup::NoEdition)
    }
}

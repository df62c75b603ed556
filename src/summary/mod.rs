//! Summaries and enrichment. Pure: the extractive TL;DR (`tldr`), code and project-page links
//! (`code_links`), the per-topic overview line (`overview`), and how a stored paper with what
//! Hugging Face and the LLM said about it becomes what a chat shows (`item`). At the edges:
//! the OpenAI-compatible client (`llm`), its embeddings (`embed`), papers' figures from arXiv's
//! HTML edition (`figures`), and the job that runs them and the Hugging Face source
//! (`sources::huggingface`) after a fetch (`enrich`).

pub mod code_links;
pub mod embed;
pub mod enrich;
pub mod figures;
pub mod llm;
pub mod overview;
pub mod tldr;

use paperbell_chat::{FigureItem, PaperItem, TldrSource};

use crate::model::enrichment::{FigureLookup, HfInfo, LlmSummary};
use crate::model::paper::StoredPaper;

/// Code repositories (abstract, comment, then Hugging Face's) and the project page of a paper.
pub fn links(sp: &StoredPaper, hf: Option<&HfInfo>) -> code_links::Links {
    let p = &sp.paper;
    let mut texts = vec![p.abstract_text.as_str()];
    if let Some(c) = &p.comment {
        texts.push(c);
    }
    let mut l = code_links::find(&texts);
    if let Some(h) = hf.filter(|h| h.found) {
        let extra = [h.github_repo.as_deref(), h.project_page.as_deref()];
        let more = code_links::find(&extra.into_iter().flatten().collect::<Vec<_>>());
        for u in more.code {
            if !l.code.contains(&u) {
                l.code.push(u);
            }
        }
        // Hugging Face's project page is the one the authors gave: it goes first.
        for u in more.pages.into_iter().rev() {
            l.pages.retain(|x| x != &u);
            l.pages.insert(0, u);
        }
    }
    l
}

/// The paper's figure: its HTML edition's; where the edition has none (or there is no edition),
/// the first image its authors put on Hugging Face stands in, without a caption.
fn figure_item(lookup: Option<&FigureLookup>, hf: Option<&HfInfo>) -> Option<FigureItem> {
    match lookup? {
        FigureLookup::Found(f) => Some(FigureItem {
            url: f.url.clone(),
            caption: f.caption.clone(),
            width: f.width,
            height: f.height,
        }),
        FigureLookup::NoFigure | FigureLookup::NoEdition => {
            hf.and_then(|h| h.media.clone()).map(|url| FigureItem {
                url,
                ..FigureItem::default()
            })
        }
    }
}

/// What the store knows about a paper beside its record, for showing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    pub hf: Option<&'a HfInfo>,
    pub llm: Option<&'a LlmSummary>,
    pub figure: Option<&'a FigureLookup>,
}

/// A paper as chats show it: the LLM's summary when there is one (for the chat's language),
/// else the extractive TL;DR; code links and project page from the text and Hugging Face; its
/// figure and HTML edition when known.
pub fn item(sp: &StoredPaper, known: Known, topics: &[String]) -> PaperItem {
    let Known { hf, llm, figure } = known;
    let p = &sp.paper;
    let l = links(sp, hf);
    let hf = hf.filter(|h| h.found);
    let (tldr, source) = match llm {
        Some(s) => (s.tldr.clone(), TldrSource::Llm),
        None => (
            tldr::tldr(&p.title, &p.abstract_text),
            TldrSource::Extractive,
        ),
    };
    PaperItem {
        id: p.id.to_string(),
        title: p.title.clone(),
        authors: p.authors.clone(),
        categories: p.categories.iter().map(|c| c.0.clone()).collect(),
        abs_url: p.id.abs_url(),
        pdf_url: p.pdf_url.clone(),
        code_urls: l.code,
        tldr: Some(tldr),
        tldr_source: source,
        takeaways: llm.map(|s| s.takeaways.clone()).unwrap_or_default(),
        title_translated: llm.and_then(|s| s.title_translated.clone()),
        tldr_translated: llm.and_then(|s| s.tldr_translated.clone()),
        project_url: l.pages.into_iter().next(),
        upvotes: hf.and_then(|h| h.upvotes),
        stars: hf.and_then(|h| h.github_stars),
        topics: topics.to_vec(),
        matched: None,
        relevance: None,
        rated: Default::default(),
        figure: figure_item(figure, hf),
        // Not asked yet: arXiv makes an edition of most papers, so the link is offered.
        html_url: figure
            .is_none_or(FigureLookup::has_edition)
            .then(|| p.id.html_url(p.version)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enrichment::Figure;

    #[test]
    fn hugging_faces_image_stands_in_only_where_the_edition_has_no_figure() {
        let hf = HfInfo {
            found: true,
            media: Some("https://cdn.example/teaser.png".into()),
            ..HfInfo::default()
        };
        let found = FigureLookup::Found(Figure {
            url: "https://arxiv.org/html/2401.00001v1/x1.png".into(),
            caption: "Overview.".into(),
            width: Some(476),
            height: Some(357),
        });
        let url = |l: Option<&FigureLookup>| figure_item(l, Some(&hf)).map(|f| f.url);
        assert_eq!(
            url(Some(&found)).as_deref(),
            Some("https://arxiv.org/html/2401.00001v1/x1.png")
        );
        assert_eq!(
            url(Some(&FigureLookup::NoFigure)).as_deref(),
            Some("https://cdn.example/teaser.png")
        );
        assert_eq!(
            url(Some(&FigureLookup::NoEdition)).as_deref(),
            Some("https://cdn.example/teaser.png")
        );
        // Not asked yet: the edition may still have one.
        assert_eq!(url(None), None);
        assert_eq!(figure_item(Some(&FigureLookup::NoFigure), None), None);
    }
}

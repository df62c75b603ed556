//! How a topic's papers are ordered in a digest, pure: the facts that rank a paper, the order
//! they give, and `Ranked`, a topic's list best first with those facts kept for its overview.

use std::sync::OnceLock;

use paperbell_chat::Lang;

use crate::model::paper::StoredPaper;
use crate::summary::overview::{self, DayPaper};

/// What ranks a paper inside a topic's digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RankFacts {
    /// The topic matched the title (or an author), not only the abstract.
    pub strong: bool,
    pub has_code: bool,
    /// Hugging Face upvotes (0 when unknown).
    pub upvotes: u32,
    /// Listed in the topic's categories as a cross-list.
    pub cross: bool,
}

/// A topic's papers best first, each with what ranked it (`facts[i]` is `papers[i]`'s).
#[derive(Debug, Clone, Default)]
pub struct Ranked {
    pub papers: Vec<StoredPaper>,
    pub facts: Vec<RankFacts>,
    /// The papers' overview terms, once an overview line needed them (planning makes many
    /// lines of one list: one per set of its papers a chat is shown).
    terms: OnceLock<overview::TermTable>,
}

impl crate::model::weigh::Weigh for Ranked {
    fn weigh(&self) -> usize {
        // The overview's term table is made later, once a line needs it; it holds about half
        // as many bytes as the papers' titles and abstracts (measured on real papers).
        let texts: usize = self
            .papers
            .iter()
            .map(|p| p.paper.title.len() + p.paper.abstract_text.len())
            .sum();
        size_of::<Ranked>()
            + self.papers.weigh()
            + self.facts.capacity() * size_of::<RankFacts>()
            + texts / 2
    }
}

impl Ranked {
    /// Puts `papers` in `rank_order` of their `facts`.
    pub fn new(papers: Vec<StoredPaper>, facts: Vec<RankFacts>, by_upvotes_only: bool) -> Ranked {
        let order = rank_order(&facts, by_upvotes_only);
        let mut slots: Vec<Option<(StoredPaper, RankFacts)>> =
            papers.into_iter().zip(facts).map(Some).collect();
        let (papers, facts): (Vec<_>, _) =
            order.into_iter().filter_map(|i| slots[i].take()).unzip();
        Ranked {
            papers,
            facts,
            terms: OnceLock::new(),
        }
    }

    /// The overview line of the papers at `indexes` against `background` (the topic's recent
    /// papers).
    pub fn overview(
        &self,
        indexes: &[usize],
        background: &overview::Background,
        lang: Lang,
    ) -> String {
        let day: Vec<DayPaper> = indexes.iter().map(|&i| self.day_paper(i)).collect();
        let terms = self.terms();
        if terms.len() != self.papers.len() {
            // `papers` changed after the terms were worked out (it is a public field).
            return overview::line(&day, background, lang);
        }
        overview::line_in(&day, terms, indexes, background, lang)
    }

    /// `overview` with its keywords worked out already (a topic day's, kept by the store).
    pub fn overview_with(&self, indexes: &[usize], keywords: &[String], lang: Lang) -> String {
        let day: Vec<DayPaper> = indexes.iter().map(|&i| self.day_paper(i)).collect();
        overview::line_with(&day, keywords, lang)
    }

    /// The papers' overview terms, worked out on first use.
    pub fn terms(&self) -> &overview::TermTable {
        self.terms.get_or_init(|| {
            let all: Vec<DayPaper> = (0..self.papers.len()).map(|i| self.day_paper(i)).collect();
            overview::TermTable::new(&all)
        })
    }

    fn day_paper(&self, i: usize) -> DayPaper<'_> {
        DayPaper {
            title: &self.papers[i].paper.title,
            abstract_text: &self.papers[i].paper.abstract_text,
            cross: self.facts[i].cross,
            has_code: self.facts[i].has_code,
        }
    }
}

/// The order to show papers in, best first: a title match over an abstract-only match, then
/// code available, then Hugging Face upvotes, then primary over cross-list; ties keep arrival
/// order. A topic fed by its own source (`hf-daily`) is ordered by upvotes alone.
pub fn rank_order(facts: &[RankFacts], by_upvotes_only: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..facts.len()).collect();
    if by_upvotes_only {
        order.sort_by_key(|&i| std::cmp::Reverse(facts[i].upvotes));
    } else {
        order.sort_by_key(|&i| {
            let f = facts[i];
            (
                std::cmp::Reverse(f.strong),
                std::cmp::Reverse(f.has_code),
                std::cmp::Reverse(f.upvotes),
                f.cross,
            )
        });
    }
    order
}

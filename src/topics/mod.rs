//! Topics: what a chat follows. A `Topic` (categories, keyword groups, exclusions, authors,
//! cross-list / replacement policy) is compiled from its config definition (`compile`),
//! matched purely against `Paper`s (`matching`, over `term`s) and rendered to an arXiv API
//! `search_query` (`arxiv_query`). Also the ad-hoc syntax chats type (`query`:
//! `"diffusion" AND video -survey`). `TopicSet` resolves what a person names.
//!
//! Matching rules: text is the title and abstract, lower-cased, with hyphens read as spaces;
//! a term matches at word boundaries and also in its plural (`transformer` ~ `transformers`);
//! `segment*` matches any word starting with `segment`; quoted phrases match as a whole.

mod arxiv_query;
mod compile;
mod matching;
mod query;
mod term;

use serde::Serialize;

use crate::model::categories;
use crate::model::paper::{Category, Paper};

pub use compile::{DefinitionError, TopicDef, compile_all};
pub use matching::MatchText;
pub use query::parse_query;
pub use term::Term;

/// A mistake in a topic definition or query, worded for the person who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TopicError(pub String);

/// What a topic follows. A paper matches when it is not excluded and either one of `authors`
/// wrote it, or it is in one of `categories` (if any) and satisfies every keyword group (each
/// group is satisfied by any one of its terms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub id: String,
    pub name: String,
    pub categories: Vec<Category>,
    pub keywords: Vec<Vec<Term>>,
    pub exclude: Vec<Term>,
    pub authors: Vec<String>,
    pub include_cross: bool,
    pub include_replace: bool,
    /// Fed by a source of its own (`hf-daily`), not by matching: arXiv is never asked for it.
    pub external: bool,
}

/// The built-in topic of Hugging Face Daily Papers.
pub const HF_DAILY: &str = "hf-daily";

/// Why a paper matched, for ranking and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The paper's primary category is outside the topic's categories (or the feed said cross).
    pub cross: bool,
    /// A keyword matched in the title (stronger than an abstract-only match).
    pub in_title: bool,
    pub by_author: bool,
}

impl Default for Topic {
    /// Follows nothing yet; cross-lists count, replacements do not (the documented defaults).
    fn default() -> Self {
        Topic {
            id: String::new(),
            name: String::new(),
            categories: vec![],
            keywords: vec![],
            exclude: vec![],
            authors: vec![],
            include_cross: true,
            include_replace: false,
            external: false,
        }
    }
}

impl Topic {
    /// Any arXiv category as a topic: everything listed in it, cross-lists included.
    pub fn for_category(cat: &str) -> Option<Topic> {
        let c = categories::canonical(cat)?;
        Some(Topic {
            id: c.to_string(),
            name: c.to_string(),
            categories: vec![Category(c.to_string())],
            ..Topic::default()
        })
    }

    pub fn validate(&self) -> Result<(), TopicError> {
        if self.categories.is_empty() && self.keywords.is_empty() && self.authors.is_empty() {
            return Err(TopicError(format!(
                "topic `{}` follows nothing: give it categories, keywords or authors",
                self.id
            )));
        }
        if self.keywords.iter().any(Vec::is_empty) {
            return Err(TopicError(format!(
                "topic `{}` has an empty keyword group",
                self.id
            )));
        }
        Ok(())
    }
}

/// All configured topics, compiled once for ingest.
#[derive(Debug, Clone, Default)]
pub struct TopicSet {
    pub topics: Vec<Topic>,
}

impl TopicSet {
    pub fn new(topics: Vec<Topic>) -> Self {
        TopicSet { topics }
    }

    /// Ids of every topic the paper matches, in configuration order.
    pub fn matching<'a>(&'a self, p: &'a Paper) -> impl Iterator<Item = (&'a Topic, Hit)> + 'a {
        let text = MatchText::new(p);
        self.topics
            .iter()
            .filter_map(move |t| t.matches(p, &text).map(|h| (t, h)))
    }

    /// Finds a topic as a person names it: configured id or name (any case), else an arXiv
    /// category, else the ad-hoc query syntax.
    pub fn resolve(&self, s: &str) -> Result<Topic, TopicError> {
        let s = s.trim();
        if let Some(t) = self
            .topics
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(s) || t.name.eq_ignore_ascii_case(s))
        {
            return Ok(t.clone());
        }
        if let Some(t) = Topic::for_category(s) {
            return Ok(t);
        }
        let looks_like_query = s.contains(['"', '(', ':', ' ']) || s.starts_with('-');
        match parse_query(s) {
            Ok(t) if looks_like_query => Ok(t),
            Ok(t) => {
                // A single bare word: probably a mistyped topic id rather than a keyword search.
                let near = categories::closest(s, self.topics.iter().map(|t| t.id.as_str()), 1);
                match near.first() {
                    Some(n) => Err(TopicError(format!(
                        "no topic `{s}`; did you mean `{n}`? (to search the word itself, write \"{s}\")"
                    ))),
                    None => Ok(t),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paper::{AnnounceType, PaperId};

    fn paper(title: &str, abs: &str, cats: &[&str]) -> Paper {
        Paper {
            id: PaperId::parse("2401.00001").unwrap(),
            version: 1,
            title: title.into(),
            authors: vec!["Ben Mildenhall".into(), "Zoë Müller".into()],
            primary_category: cats.first().map(|c| Category(c.to_string())),
            categories: cats.iter().map(|c| Category(c.to_string())).collect(),
            published: None,
            updated: None,
            abstract_text: abs.into(),
            comment: None,
            doi: None,
            journal_ref: None,
            pdf_url: None,
            announce_type: Some(AnnounceType::New),
        }
    }

    fn topic(q: &str) -> Topic {
        parse_query(q).unwrap()
    }

    fn hit(t: &Topic, p: &Paper) -> Option<Hit> {
        t.matches(p, &MatchText::new(p))
    }

    #[test]
    fn terms_match_at_word_boundaries_and_plurals() {
        let p = paper(
            "Fast NeRFs for Self-Supervised Transformers",
            "We vitalise things.",
            &["cs.CV"],
        );
        assert!(hit(&topic("nerf"), &p).is_some());
        assert!(hit(&topic("transformer"), &p).is_some());
        assert!(
            hit(&topic("\"self supervised\""), &p).is_some(),
            "hyphen reads as space"
        );
        assert!(
            hit(&topic("vit"), &p).is_none(),
            "vit must not match vitalise"
        );
        assert!(hit(&topic("vital*"), &p).is_some());
        assert!(hit(&topic("ne"), &p).is_none());
    }

    #[test]
    fn groups_exclusions_and_categories() {
        let p = paper(
            "Video diffusion survey",
            "A survey of diffusion for video.",
            &["cs.CV", "cs.LG"],
        );
        assert!(hit(&topic("\"diffusion\" AND video"), &p).is_some());
        assert!(hit(&topic("\"diffusion\" AND video -survey"), &p).is_none());
        assert!(hit(&topic("audio OR video"), &p).is_some());
        assert!(hit(&topic("(audio OR speech) diffusion"), &p).is_none());
        assert!(hit(&topic("cat:cs.CL diffusion"), &p).is_none());
        let h = hit(&topic("cat:cs.LG diffusion"), &p).unwrap();
        assert!(h.cross, "primary cs.CV is outside cs.LG");
        assert!(h.in_title);
    }

    #[test]
    fn replacements_and_cross_lists_follow_the_policy() {
        let mut p = paper("NeRF", "x", &["cs.GR", "cs.CV"]);
        let mut t = Topic::for_category("cs.CV").unwrap();
        assert!(hit(&t, &p).unwrap().cross);
        t.include_cross = false;
        assert!(hit(&t, &p).is_none());
        p.categories.reverse();
        p.primary_category = Some(Category("cs.CV".into()));
        assert!(hit(&t, &p).is_some());
        p.announce_type = Some(AnnounceType::Replace);
        assert!(hit(&t, &p).is_none());
        t.include_replace = true;
        assert!(hit(&t, &p).is_some());
    }

    #[test]
    fn authors_match_case_and_accent_exactly() {
        let p = paper("Unrelated", "Nothing", &["math.AG"]);
        assert!(hit(&topic("au:\"ben mildenhall\""), &p).unwrap().by_author);
        assert!(hit(&topic("au:Müller"), &p).is_some());
        assert!(hit(&topic("au:Mildenhal"), &p).is_none());
    }

    #[test]
    fn query_errors_are_clear() {
        for (q, want) in [
            ("", "empty"),
            ("\"open", "closing"),
            ("a OR", "OR"),
            ("AND video", "AND"),
            ("(a OR b", "matching"),
            ("-survey", "only excludes"),
            ("cat:cs.CW x", "did you mean cs.CV"),
            ("((a))", "nested"),
            ("x", "too short"),
            ("self-super*", "single word"),
            ("( cat:cs.CV )", "OR group"),
            ("nerf OR au:smith", "OR group"),
        ] {
            let err = parse_query(q).unwrap_err().0;
            assert!(err.contains(want), "{q:?}: {err}");
        }
    }

    #[test]
    fn queries_render_canonically() {
        let t = topic("\"Diffusion\"   AND Video -survey");
        assert_eq!(t.name, "diffusion video -survey");
        assert_eq!(
            parse_query(&t.name).unwrap(),
            t,
            "rendering re-parses to the same topic"
        );
        assert_eq!(
            topic("(a1 OR \"b c\") cat:cs.cv").name,
            "cat:cs.CV (a1 OR \"b c\")"
        );
    }

    #[test]
    fn equivalent_queries_are_the_same_topic() {
        let a = topic("mamba OR \"state space\" -survey video");
        let b = topic("video AND (\"state space\" OR mamba) -survey");
        assert_eq!(a, b);
        assert_eq!(a.id, "q:(mamba OR \"state space\") video -survey");
    }

    #[test]
    fn search_query_uses_fields_and_quotes() {
        let t = topic("cat:cs.CV (nerf OR \"gaussian splatting\") -survey");
        assert_eq!(
            t.search_query(),
            "cat:cs.CV AND (ti:\"gaussian splatting\" OR abs:\"gaussian splatting\" OR ti:\"nerf\" OR abs:\"nerf\") \
             ANDNOT (ti:\"survey\" OR abs:\"survey\")"
        );
    }

    #[test]
    fn resolve_prefers_configured_then_category_then_query() {
        let set = TopicSet::new(vec![Topic {
            id: "nerf".into(),
            name: "NeRF".into(),
            ..topic("nerf")
        }]);
        assert_eq!(set.resolve("NERF").unwrap().id, "nerf");
        assert_eq!(set.resolve("cs.cv").unwrap().id, "cs.CV");
        assert!(
            set.resolve("\"video\" diffusion")
                .unwrap()
                .id
                .starts_with("q:")
        );
        assert!(
            set.resolve("nref")
                .unwrap_err()
                .0
                .contains("did you mean `nerf`")
        );
    }
}

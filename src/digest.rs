//! Digests, pure: papers x topics -> per-topic digests for an announcement day, and their
//! plain-text and Markdown renderings (the chat renderings live in the adapters).

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde_json::{Value, json};

use paperbell_chat::{Lang, PaperItem, TldrSource};

use crate::paper::Paper;
use crate::store::StoredPaper;
use crate::summary::code_links;
use crate::summary::overview::{self, DayPaper};
use crate::summary::tldr::tldr;

/// One topic's papers for one announcement day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDigest {
    pub topic_id: String,
    pub topic_name: String,
    pub day: NaiveDate,
    pub papers: Vec<StoredPaper>,
}

/// One topic's part of a chat's digest: each paper once, with every subscribed topic it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTopic {
    /// Index of the topic in the plan's input.
    pub topic: usize,
    /// Index of each paper in that topic's list, with the names of all topics it matched.
    pub papers: Vec<(usize, Vec<String>)>,
    /// Papers left out by the chat's `max`.
    pub more: usize,
    /// Their indexes, for the overview, which speaks of all of them.
    pub left_out: Vec<usize>,
}

impl PlannedTopic {
    /// Indexes of every paper this topic's message speaks of: shown, then left out.
    pub fn about(&self) -> Vec<usize> {
        self.papers
            .iter()
            .map(|(i, _)| *i)
            .chain(self.left_out.iter().copied())
            .collect()
    }
}

/// Plans a chat's digest from each subscribed topic's new papers, `(name, papers)` in
/// subscription order: a paper already delivered to the chat is left out; a paper that several
/// topics matched is shown once, under the first, naming all of them; at most `max` papers per
/// topic. Topics left with nothing are left out.
pub fn plan<P: std::borrow::Borrow<StoredPaper>>(
    topics: &[(&str, &[P])],
    delivered: impl Fn(&str) -> bool,
    max: usize,
) -> Vec<PlannedTopic> {
    let total: usize = topics.iter().map(|(_, p)| p.len()).sum();
    let mut names: std::collections::HashMap<&str, Vec<&str>> =
        std::collections::HashMap::with_capacity(total);
    for (name, papers) in topics {
        for sp in papers.iter() {
            let list = names.entry(sp.borrow().paper.id.as_str()).or_default();
            if !list.contains(name) {
                list.push(name);
            }
        }
    }
    let mut placed = std::collections::HashSet::with_capacity(total);
    let mut out = Vec::new();
    for (t, (_, papers)) in topics.iter().enumerate() {
        let fresh: Vec<usize> = papers
            .iter()
            .enumerate()
            .filter(|(_, sp)| {
                let id = sp.borrow().paper.id.as_str();
                !delivered(id) && placed.insert(id)
            })
            .map(|(i, _)| i)
            .collect();
        if fresh.is_empty() {
            continue;
        }
        out.push(PlannedTopic {
            topic: t,
            more: fresh.len().saturating_sub(max),
            left_out: fresh.iter().skip(max).copied().collect(),
            papers: fresh
                .into_iter()
                .take(max)
                .map(|i| {
                    let id = papers[i].borrow().paper.id.as_str();
                    (i, names[id].iter().map(|n| n.to_string()).collect())
                })
                .collect(),
        });
    }
    out
}

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

/// Code links of a paper (abstract and comment).
pub fn links(p: &Paper) -> code_links::Links {
    let mut texts = vec![p.abstract_text.as_str()];
    if let Some(c) = &p.comment {
        texts.push(c);
    }
    code_links::find(&texts)
}

fn authors_short(p: &Paper) -> String {
    match p.authors.len() {
        0 => "(no authors listed)".into(),
        1..=3 => p.authors.join(", "),
        _ => format!("{} et al.", p.authors[..3].join(", ")),
    }
}

/// A digest as plain text, for the terminal (`paperbell run` with no chat platform).
pub fn render_text(d: &TopicDigest) -> String {
    let mut out = format!(
        "== {} — {} — {} paper(s) ==\n",
        d.topic_name,
        d.day,
        d.papers.len()
    );
    for sp in &d.papers {
        let p = &sp.paper;
        out.push_str(&format!(
            "* {} ({}v{})\n  {}\n  TL;DR: {}\n  {}\n",
            p.title,
            p.id,
            p.version,
            authors_short(p),
            tldr(&p.title, &p.abstract_text),
            p.id.abs_url()
        ));
        let l = links(p);
        if let Some(code) = l.code.first() {
            out.push_str(&format!("  code: {code}\n"));
        }
    }
    out
}

/// A list of papers as plain text lines, for `paperbell recent`.
pub fn render_list(papers: &[StoredPaper]) -> String {
    let mut out = String::new();
    for sp in papers {
        let p = &sp.paper;
        let day = sp
            .first_announced
            .map(|d| d.to_string())
            .unwrap_or_else(|| "----------".into());
        out.push_str(&format!(
            "{day}  {:<18} {}\n            {}\n",
            format!("{}v{}", p.id, p.version),
            p.title,
            authors_short(p)
        ));
    }
    out
}

/// A paper in detail, for `paperbell paper`: `view` is how chats show it (summary, links).
pub fn render_paper(sp: &StoredPaper, view: &PaperItem) -> String {
    let p = &sp.paper;
    let mut out = format!("{}\n", p.title);
    if let Some(t) = &view.title_translated {
        out.push_str(&format!("{t}\n"));
    }
    out.push_str(&format!("{}\n\n", p.authors.join(", ")));
    out.push_str(&format!("arXiv:      {}v{}\n", p.id, p.version));
    if let Some(d) = sp.first_announced {
        out.push_str(&format!("announced:  {d}\n"));
    }
    let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
    out.push_str(&format!("categories: {}\n", cats.join(" ")));
    out.push_str(&format!("abstract:   {}\n", p.id.abs_url()));
    if let Some(pdf) = &p.pdf_url {
        out.push_str(&format!("pdf:        {pdf}\n"));
    }
    for c in &view.code_urls {
        out.push_str(&format!("code:       {c}\n"));
    }
    if let Some(u) = &view.project_url {
        out.push_str(&format!("project:    {u}\n"));
    }
    for (label, v) in [
        ("comment", &p.comment),
        ("journal", &p.journal_ref),
        ("doi", &p.doi),
    ] {
        if let Some(v) = v {
            out.push_str(&format!("{label:<11} {v}\n", label = format!("{label}:")));
        }
    }
    if let Some(n) = view.upvotes {
        out.push_str(&format!("upvotes:    {n} (Hugging Face)\n"));
    }
    let source = match view.tldr_source {
        TldrSource::Extractive => "extractive",
        TldrSource::Llm => "LLM",
    };
    out.push_str(&format!(
        "tl;dr:      {} ({source})\n",
        view.tldr.as_deref().unwrap_or("")
    ));
    if let Some(t) = &view.tldr_translated {
        out.push_str(&format!("            {t}\n"));
    }
    for k in &view.takeaways {
        out.push_str(&format!("  • {k}\n"));
    }
    out.push_str(&format!("\n{}\n", p.abstract_text));
    out
}

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

/// The JSON object `paperbell parse` prints: exactly these keys, `null` for missing values.
pub fn paper_json(p: &Paper) -> Value {
    json!({
        "id": p.id.as_str(),
        "version": p.version,
        "title": p.title,
        "authors": p.authors,
        "primary_category": p.primary_category.as_ref().map(|c| c.as_str()),
        "categories": p.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "published": ts(p.published),
        "updated": ts(p.updated),
        "abstract": p.abstract_text,
        "comment": p.comment,
        "doi": p.doi,
        "journal_ref": p.journal_ref,
        "pdf_url": p.pdf_url,
        "announce_type": p.announce_type.map(|a| a.as_str()),
    })
}

/// A stored paper: the parse object plus what the store knows, and its summary as chats see
/// it (`view`): `tldr`, `tldr_source`, `code_urls`, and when there are some, `takeaways`,
/// `title_translated`, `tldr_translated`.
pub fn stored_json(sp: &StoredPaper, view: &PaperItem) -> Value {
    let mut v = paper_json(&sp.paper);
    if let Value::Object(m) = &mut v {
        m.insert(
            "first_announced".into(),
            sp.first_announced
                .map_or(Value::Null, |d| Value::String(d.to_string())),
        );
        m.insert(
            "topics".into(),
            json!(
                sp.topics
                    .iter()
                    .map(|(t, _)| t.as_str())
                    .collect::<Vec<_>>()
            ),
        );
        m.insert("tldr".into(), json!(view.tldr));
        m.insert("tldr_source".into(), json!(view.tldr_source.as_str()));
        m.insert("code_urls".into(), json!(view.code_urls));
        m.insert(
            "project_pages".into(),
            json!(view.project_url.iter().collect::<Vec<_>>()),
        );
        if !view.takeaways.is_empty() {
            m.insert("takeaways".into(), json!(view.takeaways));
        }
        if let Some(t) = &view.title_translated {
            m.insert("title_translated".into(), json!(t));
        }
        if let Some(t) = &view.tldr_translated {
            m.insert("tldr_translated".into(), json!(t));
        }
        if let Some(n) = view.upvotes {
            m.insert("hf_upvotes".into(), json!(n));
        }
    }
    v
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn anchor(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() {
                Some(c)
            } else if c == ' ' || c == '-' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The familiar daily page: "Updated on" line, table of contents, and one table per topic.
pub fn render_markdown(updated: NaiveDate, sections: &[(String, Vec<StoredPaper>)]) -> String {
    let mut out = format!("## Updated on {}\n\n", updated.format("%Y.%m.%d"));
    out.push_str("<details>\n  <summary>Table of Contents</summary>\n  <ol>\n");
    for (name, _) in sections {
        out.push_str(&format!(
            "    <li><a href=\"#{}\">{}</a></li>\n",
            anchor(name),
            md_cell(name)
        ));
    }
    out.push_str("  </ol>\n</details>\n\n");
    for (name, papers) in sections {
        out.push_str(&format!(
            "## {name}\n\n|Publish Date|Title|Code|Abstract|\n|---|---|---|---|\n"
        ));
        for sp in papers {
            let p = &sp.paper;
            let date = sp
                .first_announced
                .map(|d| d.to_string())
                .unwrap_or_default();
            let l = links(p);
            let code = l
                .code
                .first()
                .or(l.pages.first())
                .map_or("null".to_string(), |u| format!("[link]({u})"));
            out.push_str(&format!(
                "|**{date}**|[{}]({})|{code}|{}|\n",
                md_cell(&p.title),
                p.id.abs_url(),
                md_cell(&p.abstract_text)
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paper::{Category, PaperId};

    fn sp(title: &str, abs: &str) -> StoredPaper {
        StoredPaper {
            paper: Paper {
                id: PaperId::parse("2411.00001").unwrap(),
                version: 2,
                title: title.into(),
                authors: vec!["A".into(), "B".into(), "C".into(), "D".into()],
                primary_category: Some(Category("cs.CV".into())),
                categories: vec![Category("cs.CV".into())],
                published: None,
                updated: None,
                abstract_text: abs.into(),
                comment: Some("Code: https://github.com/a/b".into()),
                doi: None,
                journal_ref: None,
                pdf_url: None,
                announce_type: None,
            },
            first_announced: NaiveDate::from_ymd_opt(2024, 11, 19),
            topics: vec![],
        }
    }

    #[test]
    fn markdown_page_has_toc_tables_and_escaped_cells() {
        let md = render_markdown(
            NaiveDate::from_ymd_opt(2024, 11, 20).unwrap(),
            &[
                ("NeRF".into(), vec![sp("A | B", "x\ny $a|b$")]),
                ("Classification/Detection".into(), vec![]),
            ],
        );
        assert!(md.starts_with("## Updated on 2024.11.20\n"));
        assert!(md.contains("<a href=\"#nerf\">NeRF</a>"));
        assert!(md.contains("|Publish Date|Title|Code|Abstract|"));
        assert!(md.contains("|**2024-11-19**|[A \\| B](https://arxiv.org/abs/2411.00001)|[link](https://github.com/a/b)|x y $a\\|b$|"));
        assert!(md.contains("## Classification/Detection"));
    }

    fn numbered(n: u32) -> StoredPaper {
        let mut p = sp("T", "x");
        p.paper.id = PaperId::parse(&format!("2411.{n:05}")).unwrap();
        p
    }

    #[test]
    fn plan_shows_each_paper_once_with_all_its_topics() {
        let lists = [
            vec![numbered(1), numbered(2), numbered(3)],
            vec![numbered(2), numbered(4), numbered(5), numbered(6)],
            vec![numbered(1)],
        ];
        let topics: Vec<(&str, &[StoredPaper])> = vec![
            ("NeRF", &lists[0]),
            ("cs.CV", &lists[1]),
            ("LLM", &lists[2]),
        ];
        let delivered = |id: &str| id == "2411.00003";
        let p = plan(&topics, delivered, 2);
        assert_eq!(p.len(), 2, "LLM's only paper is already under NeRF");
        let ids = |t: &PlannedTopic| {
            t.papers
                .iter()
                .map(|(i, _)| lists[t.topic][*i].paper.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(&p[0]),
            ["2411.00001", "2411.00002"],
            "3 was delivered before"
        );
        assert_eq!(p[0].papers[0].1, ["NeRF", "LLM"]);
        assert_eq!(p[0].papers[1].1, ["NeRF", "cs.CV"]);
        assert_eq!(ids(&p[1]), ["2411.00004", "2411.00005"]);
        assert_eq!(p[1].more, 1);
    }

    #[test]
    fn ranking_puts_title_matches_code_and_upvotes_first() {
        let f = |strong, has_code, upvotes, cross| RankFacts {
            strong,
            has_code,
            upvotes,
            cross,
        };
        let facts = [
            f(false, false, 0, true),
            f(false, false, 0, false),
            f(true, false, 0, false),
            f(false, true, 0, false),
            f(false, true, 9, false),
            f(false, false, 50, false),
        ];
        assert_eq!(rank_order(&facts, false), [2, 4, 3, 5, 1, 0]);
        assert_eq!(rank_order(&facts, true), [5, 4, 0, 1, 2, 3]);
    }

    #[test]
    fn text_digest_shortens_author_lists() {
        let d = TopicDigest {
            topic_id: "nerf".into(),
            topic_name: "NeRF".into(),
            day: NaiveDate::from_ymd_opt(2024, 11, 19).unwrap(),
            papers: vec![sp("T", "x")],
        };
        let t = render_text(&d);
        assert!(t.contains("A, B, C et al."), "{t}");
        assert!(t.contains("code: https://github.com/a/b"));
    }
}

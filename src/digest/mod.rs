//! Digests, pure: which papers a chat's digest holds and in what order (`plan`, `rank`), and
//! their terminal, Markdown and JSON renderings (`render`). No store, no clock: `compose`
//! feeds these from the store.

mod plan;
mod rank;
mod render;

pub use plan::{PlannedTopic, fresh, messages, plan};
pub use rank::{RankFacts, Ranked, rank_order};
pub use render::{
    TopicDigest, links, paper_json, render_list, render_markdown, render_paper, render_text,
    stored_json,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paper::{Category, PaperId};
    use crate::model::paper::{Paper, StoredPaper};
    use chrono::NaiveDate;

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
            relevance: vec![],
        };
        let t = render_text(&d);
        assert!(t.contains("A, B, C et al."), "{t}");
        assert!(t.contains("code: https://github.com/a/b"));
    }
}

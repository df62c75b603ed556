//! The query language's meaning, on hand-made papers: what matches, what is refused and why,
//! how queries are written back, and arXiv's form.

use chrono::NaiveDate;

use super::*;
use crate::model::paper::{AnnounceType, Category, Paper, PaperId};

fn paper(title: &str, abs: &str, cats: &[&str]) -> Paper {
    Paper {
        id: PaperId::parse("2401.00001").unwrap(),
        version: 1,
        title: title.into(),
        authors: vec![
            "Ben Mildenhall".into(),
            "Zoë Müller".into(),
            "Chen Li".into(),
        ],
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

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, d).unwrap()
}

fn hit(q: &str, p: &Paper) -> Option<Why> {
    parse(q).unwrap().matches(&MatchText::new(p, Some(day(10))))
}

#[test]
fn terms_match_whole_words_plurals_and_prefixes() {
    let p = paper(
        "Fast NeRFs for Self-Supervised Transformers",
        "We vitalise boxes, the model's gaussian; splatting.",
        &["cs.CV"],
    );
    assert!(hit("nerf", &p).is_some());
    assert!(hit("transformer", &p).is_some());
    assert!(hit("box", &p).is_some(), "plural in -es");
    assert!(
        hit("\"self supervised\"", &p).is_some(),
        "hyphen reads as space"
    );
    assert!(hit("self-supervised", &p).is_some());
    assert!(hit("vit", &p).is_none(), "vit must not match vitalise");
    assert!(hit("vital*", &p).is_some());
    assert!(hit("model", &p).is_some(), "model's is model and s");
    assert!(
        hit("\"gaussian splatting\"", &p).is_some(),
        "a phrase is words in a row, punctuation between them or not"
    );
    assert!(hit("\"splatting gaussian\"", &p).is_none());
    assert!(hit("\"nerfs fast\"", &p).is_none());
    assert_eq!(hit("ti:nerf", &p).map(|w| w.in_title), Some(true));
    assert!(hit("abs:nerf", &p).is_none());
    assert_eq!(hit("abs:box", &p).map(|w| w.in_title), Some(false));
}

#[test]
fn clauses_combine_with_and_unless_or_joins_them() {
    let p = paper(
        "Video diffusion survey",
        "A survey of diffusion for video.",
        &["cs.CV", "cs.LG"],
    );
    assert!(hit("\"diffusion\" AND video", &p).is_some());
    assert!(hit("\"diffusion\" AND video -survey", &p).is_none());
    assert!(hit("audio OR video", &p).is_some());
    assert!(hit("(audio OR speech) diffusion", &p).is_none());
    assert!(hit("cat:cs.CL diffusion", &p).is_none());
    assert!(
        hit("cat:cs.LG diffusion", &p).is_some(),
        "any of its categories"
    );
    assert!(
        hit("cat:cs.LG cat:cs.CL", &p).is_none(),
        "two cat: clauses: both"
    );
    assert!(hit("cat:cs.CL OR cat:cs.LG", &p).is_some());
    // The case that started it: an author and a category are both required.
    assert!(hit("au:\"Kaiming He\" cat:cs.CV", &p).is_none());
    assert!(hit("au:\"Ben Mildenhall\" cat:cs.CV", &p).is_some());
    assert!(hit("au:\"Ben Mildenhall\" cat:cs.CL", &p).is_none());
    assert!(hit("(au:\"Kaiming He\" OR video) -(audio OR speech)", &p).is_some());
    assert!(hit("-(survey OR audio) video", &p).is_none());
    assert!(hit("after:2025-06-10 video", &p).is_some());
    assert!(hit("before:2025-06-10 video", &p).is_none());
}

#[test]
fn authors_are_words_in_a_row_within_one_name() {
    let p = paper("Unrelated", "Nothing", &["math.AG"]);
    assert!(hit("au:\"ben mildenhall\"", &p).unwrap().by_author);
    assert!(hit("au:Müller", &p).is_some());
    assert!(hit("au:Mildenhal", &p).is_none(), "whole words");
    assert!(hit("au:Chen", &p).is_some());
    assert!(
        hit("au:\"Mildenhall Zoë\"", &p).is_none(),
        "not across two authors"
    );
    assert!(hit("au:\"Li Chen\"", &p).is_none(), "in the name's order");
}

#[test]
fn queries_are_refused_with_a_reason() {
    for (q, want) in [
        ("", "empty"),
        ("\"open", "closing"),
        ("a1 OR", "OR"),
        ("AND video", "AND"),
        ("video AND", "AND"),
        ("(a1 OR b2", "matching"),
        (")", "matching"),
        ("-survey", "only excludes"),
        ("- survey", "followed by"),
        ("cat:cs.CW x1", "did you mean cs.CV"),
        ("((((( a1 )))))", "nest"),
        ("x", "too short"),
        ("self-super*", "single word"),
        ("au:", "needs a value"),
        ("ti:", "needs a value"),
        ("()", "holds nothing"),
    ] {
        let err = parse(q).unwrap_err().to_string();
        assert!(err.contains(want), "{q:?}: {err}");
    }
    assert_eq!(parse(&"x".repeat(301)), Err(QueryError::TooLong));
    let many = (0..21)
        .map(|i| format!("ti:word{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(parse(&many), Err(QueryError::TooManyTerms));
    assert_eq!(parse("the of and"), Err(QueryError::OnlyStopwords));
    assert_eq!(
        parse("after:yesterday nerf"),
        Err(QueryError::BadDate("yesterday".into()))
    );
    for odd in ["%%%", "((", "ti:\"\"", "💥 💥", "-", "*", "a*"] {
        assert!(parse(odd).is_err(), "{odd}");
    }
    assert!(parse("((a1 OR b2) c3)").is_ok(), "groups nest");
}

#[test]
fn stopwords_alone_are_left_out() {
    assert_eq!(
        parse("splatting with relighting").unwrap().to_string(),
        "relighting splatting"
    );
    assert_eq!(
        parse("\"segment anything in the wild\"")
            .unwrap()
            .to_string(),
        "\"segment anything in the wild\""
    );
    assert!(
        parse("cat:cs.CV").is_ok_and(|q| !q.ranks()),
        "a filter alone"
    );
    // Quoted, a common word is searched for, and written back quoted so that it still is.
    let on = parse("\"on\" video").unwrap();
    assert_eq!(on.to_string(), "\"on\" video");
    assert_eq!(parse(&on.to_string()).unwrap(), on);
}

#[test]
fn queries_write_back_canonically_as_before() {
    let name = |q: &str| parse(q).unwrap().to_string();
    // The names (and so the ids) of subscriptions made before the one language.
    assert_eq!(
        name("\"Diffusion\"   AND Video -survey"),
        "diffusion video -survey"
    );
    assert_eq!(
        name("(a1 OR \"b c\") cat:cs.cv"),
        "cat:cs.CV (a1 OR \"b c\")"
    );
    assert_eq!(
        name("mamba OR \"state space\" -survey video"),
        "(mamba OR \"state space\") video -survey"
    );
    assert_eq!(
        name("video AND (\"state space\" OR mamba) -survey"),
        "(mamba OR \"state space\") video -survey"
    );
    assert_eq!(
        name("cat:cs.CV au:\"Kaiming  He\" segment*"),
        "cat:cs.CV au:\"Kaiming He\" segment*"
    );
    for q in [
        "ti:nerf abs:\"gaussian splatting\" -(survey OR review) after:2025-01-01",
        "(au:\"Kaiming He\" OR (cat:cs.CV splat*)) before:2026-01-01",
        "-\"neural field\" nerf (cat:cs.GR OR cat:cs.CV)",
    ] {
        let e = parse(q).unwrap();
        assert_eq!(parse(&e.to_string()).unwrap(), e, "{q} -> {e}");
    }
}

#[test]
fn arxiv_reads_the_query_or_more() {
    let q = |s: &str| search_query(&parse(s).unwrap());
    assert_eq!(
        q("cat:cs.CV (nerf OR \"gaussian splatting\") -survey").unwrap(),
        "cat:cs.CV AND (ti:\"gaussian splatting\" OR abs:\"gaussian splatting\" OR ti:\"nerf\" OR abs:\"nerf\") \
         ANDNOT (ti:\"survey\" OR abs:\"survey\")"
    );
    assert_eq!(
        q("au:\"Kaiming He\" cat:cs.CV").unwrap(),
        "cat:cs.CV AND au:\"Kaiming He\""
    );
    assert_eq!(
        q("ti:segment* after:2025-01-01").unwrap(),
        "ti:segment*",
        "dates are the fetch's window"
    );
    assert_eq!(
        q("(-survey OR nerf) cat:cs.GR").unwrap(),
        "cat:cs.GR",
        "a `-` inside OR cannot be said: left out"
    );
}

#[test]
fn snippets_mark_what_matched() {
    let text = "We relight scenes. Segmentation masks guide the Gaussian splats, and NeRFs help.";
    let s = snippet(
        &parse("segment* nerf \"gaussian splat\"").unwrap(),
        text,
        180,
    )
    .unwrap();
    let marked: Vec<&str> = s.marks.iter().map(|m| &s.text[m.clone()]).collect();
    assert_eq!(marked, ["Segmentation", "Gaussian splats", "NeRFs"]);
    assert!(snippet(&parse("-relight video").unwrap(), text, 180).is_none());
    assert!(snippet(&parse("ti:relight").unwrap(), text, 180).is_none());
    let long = format!(
        "{} the word nerf is here {}",
        "filler ".repeat(60),
        "tail ".repeat(60)
    );
    let s = snippet(&parse("nerf").unwrap(), &long, 60).unwrap();
    assert!(
        s.text.chars().count() <= 60 && s.text.contains("nerf"),
        "{s:?}"
    );
    assert!(s.text.starts_with("filler"), "starts at a word: {s:?}");
}

//! The index and the topic matcher select the same papers for every query: checked on
//! generated papers and queries (words, phrases across punctuation, plurals, prefixes, names,
//! categories, days, nested groups and exclusions) and on real arXiv papers
//! (`tests/fixtures/real-papers.jsonl`).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{SearchIndex, Sort};
use crate::model::paper::{AnnounceType, Category, Paper, PaperId};
use crate::query::{Expr, MatchText, Place, Term, parse};
use crate::store::Store;
use crate::topics::TopicSet;

const WORDS: &[&str] = &[
    "nerf",
    "NeRFs",
    "gaussian",
    "Gaussians",
    "splatting",
    "splat",
    "splats",
    "segment",
    "segmentation",
    "Segments",
    "box",
    "boxes",
    "model",
    "model's",
    "self-supervised",
    "self",
    "supervised",
    "vit",
    "vitalise",
    "transformer",
    "Transformers",
    "the",
    "of",
    "3D",
    "3D-aware",
    "Zoë",
    "ΣΑΣ",
    "μ",
    "x_1",
    "O(n)",
    "GPT-4o",
    "gpt",
    "4o",
    "video",
    "diffusion",
    "class",
    "classes",
    "es",
    "s",
];
const SEPARATORS: &[&str] = &[" ", " ", " ", "-", ", ", ": ", "/", "; ", " — ", "'"];
const NAMES: &[&str] = &[
    "Kaiming He",
    "He Kaiming",
    "Chen Zhao",
    "Zhao Chen",
    "Ben Mildenhall",
    "Zoë Müller",
    "Chen Li",
    "J. R. Smith",
];
const CATEGORIES: &[&str] = &[
    "cs.CV",
    "cs.LG",
    "cs.IR",
    "math.AG",
    "hep-th",
    "astro-ph.CO",
];

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 2 + n).unwrap()
}

fn text(rng: &mut StdRng, words: std::ops::Range<usize>) -> String {
    let n = rng.random_range(words);
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push_str(SEPARATORS[rng.random_range(0..SEPARATORS.len())]);
        }
        out.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    out
}

fn generated_papers(n: usize) -> Vec<Paper> {
    let mut rng = StdRng::seed_from_u64(30);
    (0..n)
        .map(|i| {
            let cats: BTreeSet<&str> = (0..rng.random_range(1..4))
                .map(|_| CATEGORIES[rng.random_range(0..CATEGORIES.len())])
                .collect();
            let cats: Vec<Category> = cats.into_iter().map(|c| Category(c.into())).collect();
            let d = day(rng.random_range(0..4));
            Paper {
                id: PaperId::parse(&format!("2506.{:05}", i + 1)).unwrap(),
                version: 1,
                title: text(&mut rng, 2..8),
                authors: (0..rng.random_range(1..4))
                    .map(|_| NAMES[rng.random_range(0..NAMES.len())].to_string())
                    .collect(),
                primary_category: cats.first().cloned(),
                categories: cats,
                published: Some(Utc.from_utc_datetime(&d.and_hms_opt(17, 0, 0).unwrap())),
                updated: None,
                abstract_text: text(&mut rng, 5..30),
                comment: None,
                doi: None,
                journal_ref: None,
                pdf_url: None,
                announce_type: Some(
                    [
                        AnnounceType::New,
                        AnnounceType::Cross,
                        AnnounceType::Replace,
                    ][rng.random_range(0..3)],
                ),
            }
        })
        .collect()
}

/// A store holding `papers`, its index caught up; the directory lives as long as the test run.
fn indexed(papers: &[Paper]) -> (Store, SearchIndex) {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = Store::open(&dir.join("data")).unwrap();
    store.ingest(papers, &TopicSet::default()).unwrap();
    let index = SearchIndex::open(&SearchIndex::dir_for(&dir.join("data"))).unwrap();
    index.catch_up(&store).unwrap();
    (store, index)
}

/// What the matcher selects and what the index selects, as sets of ids.
fn both(store: &Store, index: &SearchIndex, q: &Expr) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut matched = BTreeSet::new();
    store
        .for_each_paper(|sp| {
            if q.matches(&MatchText::of_stored(&sp)).is_some() {
                matched.insert(sp.paper.id.to_string());
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();
    let found = index
        .search(q, Sort::Newest, 0, 100_000)
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect();
    (matched, found)
}

fn generated() -> &'static (Store, SearchIndex) {
    static CORPUS: OnceLock<(Store, SearchIndex)> = OnceLock::new();
    CORPUS.get_or_init(|| indexed(&generated_papers(400)))
}

fn term() -> impl Strategy<Value = Term> {
    let word = prop::sample::select(WORDS);
    (prop::collection::vec(word, 1..4), any::<bool>()).prop_filter_map(
        "a term that parses",
        |(words, prefix)| {
            let raw = if prefix {
                format!("{}*", words[0])
            } else {
                words.join(" ")
            };
            Term::new(&raw).ok()
        },
    )
}

fn leaf() -> impl Strategy<Value = Expr> {
    let place = prop::sample::select(
        &[
            Place::Anywhere,
            Place::Anywhere,
            Place::Title,
            Place::Abstract,
        ][..],
    );
    prop_oneof![
        4 => (term(), place).prop_map(|(t, p)| Expr::Words(t, p)),
        1 => prop::sample::select(NAMES).prop_flat_map(|n| {
            let words = crate::query::word_list(n);
            (0..words.len(), 1..=words.len()).prop_map(move |(from, len)| {
                let to = (from + len).min(words.len());
                let part = words[from..to].to_vec();
                Expr::Author { name: part.join(" "), words: part }
            })
        }),
        1 => prop::sample::select(CATEGORIES).prop_map(|c| Expr::Category(c.into())),
        1 => (0u32..5, any::<bool>()).prop_map(|(d, after)| if after {
            Expr::After(day(d))
        } else {
            Expr::Before(day(d))
        }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Any query, written as text and parsed back as a person's would be, selects the same
    /// papers through the index as through the matcher.
    #[test]
    fn the_index_selects_what_the_matcher_selects(e in expr()) {
        let Ok(q) = parse(&e.canonical().to_string()) else {
            // Too many terms, a query of exclusions only, ...: refused the same everywhere.
            return Ok(());
        };
        let (store, index) = generated();
        let (matched, found) = both(store, index, &q);
        prop_assert_eq!(&matched, &found, "query {}", q);
    }
}

/// Real papers (a sample of the shared data: every field's notation, authors with initials
/// and accents), for the comparisons that must hold on real text.
pub(crate) fn real_papers() -> Vec<Paper> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-papers.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let cats: Vec<Category> = v["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| Category(c.as_str().unwrap().into()))
                .collect();
            let d = NaiveDate::parse_from_str(&s("date"), "%Y-%m-%d").unwrap();
            Paper {
                id: PaperId::parse(&s("id")).unwrap(),
                version: v["version"].as_u64().unwrap_or(1) as u32,
                title: s("title"),
                authors: v["authors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
                primary_category: cats.first().cloned(),
                categories: cats,
                published: Some(Utc.from_utc_datetime(&d.and_hms_opt(17, 0, 0).unwrap())),
                updated: None,
                abstract_text: s("abstract"),
                comment: v["comment"].as_str().map(str::to_string),
                doi: None,
                journal_ref: None,
                pdf_url: None,
                announce_type: Some(AnnounceType::New),
            }
        })
        .collect()
}

/// Queries as people write them, from the real papers' own words, names and categories:
/// words and phrases of titles, prefixes, authors with and without a category, exclusions
/// and groups.
fn real_queries(papers: &[Paper], n: usize) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(300);
    let mut out = Vec::new();
    while out.len() < n {
        let p = &papers[rng.random_range(0..papers.len())];
        let o = &papers[rng.random_range(0..papers.len())];
        let words = crate::query::word_list(&p.title);
        let other = crate::query::word_list(&o.abstract_text);
        if words.len() < 3 || other.len() < 3 {
            continue;
        }
        let w = |ws: &[String], rng: &mut StdRng| ws[rng.random_range(0..ws.len())].clone();
        let at = rng.random_range(0..words.len() - 1);
        let cat = &p.categories[rng.random_range(0..p.categories.len())];
        let author = &p.authors[rng.random_range(0..p.authors.len())];
        let q = match out.len() % 8 {
            0 => w(&words, &mut rng),
            1 => format!("\"{} {}\"", words[at], words[at + 1]),
            2 => format!("au:\"{author}\" cat:{cat}"),
            3 => format!("{} -{}", w(&words, &mut rng), w(&other, &mut rng)),
            4 => format!(
                "({} OR {}) cat:{cat}",
                w(&words, &mut rng),
                w(&other, &mut rng)
            ),
            5 => format!(
                "{}* ti:{}",
                &words[at][..words[at].len().min(4)],
                w(&words, &mut rng)
            ),
            6 => format!("abs:\"{} {}\" OR au:\"{author}\"", other[0], other[1]),
            _ => format!("{} {} -cat:{cat}", w(&other, &mut rng), w(&other, &mut rng)),
        };
        out.push(q);
    }
    out
}

#[test]
fn on_real_papers_the_index_selects_what_the_matcher_selects() {
    let papers = real_papers();
    let (store, index) = indexed(&papers);
    let (mut compared, mut some) = (0, 0);
    for q in real_queries(&papers, 400) {
        let Ok(e) = parse(&q) else { continue };
        let (matched, found) = both(&store, &index, &e);
        assert_eq!(matched, found, "query {q}");
        compared += 1;
        some += usize::from(!matched.is_empty());
    }
    assert!(compared >= 300, "only {compared} queries parsed");
    assert!(
        some >= compared / 2,
        "{some} of {compared} queries select papers"
    );
}

#[test]
fn an_author_with_a_category_is_that_author_in_that_category_on_real_papers() {
    // The case that made one language: `au:"Chen Zhao" cat:cs.IR` once listed every cs.IR
    // paper through the topic matcher.
    let papers = real_papers();
    let (store, index) = indexed(&papers);
    let e = parse("au:\"Chen Zhao\" cat:cs.IR").unwrap();
    let (matched, found) = both(&store, &index, &e);
    assert_eq!(matched, found);
    let in_ir = papers
        .iter()
        .filter(|p| p.categories.iter().any(|c| c.0 == "cs.IR"))
        .count();
    assert!(in_ir > 20, "the sample has cs.IR papers: {in_ir}");
    assert!(
        !matched.is_empty(),
        "the sample has the author's cs.IR paper"
    );
    for id in &matched {
        let p = papers.iter().find(|p| p.id.to_string() == *id).unwrap();
        assert!(
            p.authors.iter().any(|a| a.contains("Chen Zhao"))
                && p.categories.iter().any(|c| c.0 == "cs.IR"),
            "{id}: {:?} {:?}",
            p.authors,
            p.categories
        );
    }
}

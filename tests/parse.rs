//! The parser on hand-written fixtures for every arXiv quirk, plus property tests: it never
//! panics on arbitrary input, and normalisation is idempotent through a render/parse cycle.

mod common;

use chrono::NaiveDate;
use common::{esc, fixture};
use paperbell::model::paper::{AnnounceType, Paper, normalize_ws};
use paperbell::sources::{Format, ParseError, parse};
use proptest::prelude::*;

fn papers(name: &str) -> Vec<Paper> {
    parse(&fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .papers
}

#[test]
fn api_2019_format_with_slash_ids_latex_and_unicode() {
    let parsed = parse(&fixture("api_2019.xml")).unwrap();
    assert_eq!(parsed.format, Some(Format::Api));
    assert_eq!(
        (
            parsed.total_results,
            parsed.start_index,
            parsed.items_per_page
        ),
        (Some(3), Some(0), Some(3))
    );
    let p = &parsed.papers;
    assert_eq!(p.len(), 3);
    let nerf = &p[0];
    assert_eq!(nerf.id.as_str(), "2003.08934");
    assert_eq!(nerf.version, 2);
    assert_eq!(
        nerf.title,
        "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis"
    );
    assert!(nerf.abstract_text.starts_with("We present a method"));
    assert!(
        nerf.abstract_text.contains(r"$(x,y,z,\theta,\phi)$"),
        "LaTeX kept as written"
    );
    assert_eq!(
        nerf.authors,
        ["Ben Mildenhall", "Pratul P. Srinivasan", "Matthew Tancik"]
    );
    assert_eq!(nerf.doi.as_deref(), Some("10.1145/3503250"));
    assert_eq!(nerf.journal_ref.as_deref(), Some("ECCV 2020"));
    assert!(
        nerf.comment
            .as_deref()
            .unwrap()
            .contains("https://github.com/bmild/nerf.git"),
        "comment between links"
    );
    assert_eq!(
        nerf.pdf_url.as_deref(),
        Some("http://arxiv.org/pdf/2003.08934v2")
    );
    assert_eq!(nerf.primary_category.as_ref().unwrap().as_str(), "cs.CV");
    assert_eq!(nerf.categories.len(), 2);
    assert_eq!(
        nerf.published.unwrap().to_rfc3339(),
        "2020-03-19T17:57:23+00:00"
    );
    assert_eq!(nerf.announce_type, None);

    let astro = &p[1];
    assert_eq!(astro.id.as_str(), "astro-ph/0601001");
    assert_eq!(astro.title, "Étude des galaxies naines: the Fornax dSph");
    assert_eq!(
        astro.abstract_text,
        "We measure $M/L > 10$ for Fornax & find $\\sigma<12$ km/s (Müller et al.)."
    );
    assert_eq!(astro.authors, ["Jürgen Müller", "李 明"]);
    assert_eq!(p[2].id.as_str(), "math.GT/0309136");
    assert_eq!(
        p[2].title, "Knot invariants & <things> revisited",
        "CDATA and text joined"
    );
}

#[test]
fn api_2025_format_links_without_titles() {
    let p = papers("api_2025.xml");
    assert_eq!(
        p[0].pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/2511.01234v3")
    );
    assert_eq!(p[0].version, 3);
    assert_eq!(p[0].title, "Gaussian Splatting in the Wild: Robust 3DGS");
    assert_eq!(p[0].authors, ["Zoë Ångström", "Wei Zhang"]);
    assert_eq!(p[1].primary_category.as_ref().unwrap().as_str(), "cs.LG");
    assert_eq!(p[1].doi.as_deref(), Some("10.1000/xyz"));
    assert_eq!(
        p[1].pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/2511.05678v1"),
        "the doi link is not the pdf"
    );
}

#[test]
fn api_error_feed_is_a_typed_error() {
    assert_eq!(
        parse(&fixture("api_error.xml")).unwrap_err(),
        ParseError::Api {
            message: "incorrect id format for 1234.12345".into()
        }
    );
}

#[test]
fn empty_results_and_id_less_entries() {
    let e = parse(&fixture("api_empty.xml")).unwrap();
    assert!(e.papers.is_empty());
    assert_eq!(e.total_results, Some(0));
    let u = parse(&fixture("api_unknown_id_old.xml")).unwrap();
    assert_eq!(u.papers.len(), 1);
    assert_eq!(u.entries, 2);
    assert_eq!(u.warnings.len(), 1);
    assert!(u.warnings[0].contains("no id"), "{:?}", u.warnings);
}

#[test]
fn rss_feed_all_four_announce_types_and_creator_splitting() {
    let parsed = parse(&fixture("rss.xml")).unwrap();
    assert_eq!(parsed.format, Some(Format::Rss));
    let p = &parsed.papers;
    let types: Vec<_> = p.iter().map(|p| p.announce_type.unwrap()).collect();
    assert_eq!(
        types,
        [
            AnnounceType::New,
            AnnounceType::Cross,
            AnnounceType::Replace,
            AnnounceType::ReplaceCross
        ]
    );
    assert_eq!(
        p[0].authors,
        ["Ada Lovelace", "Alan Turing", "Plato", "Grace Hopper"]
    );
    assert_eq!(
        p[1].authors,
        ["Socrates", "Wang Wei"],
        "a one-word name after a leading comma"
    );
    assert!(p[0].abstract_text.starts_with(
        "Neural radiance fields (NeRF) are slow. We show that $a<b$ implies fast rendering"
    ));
    assert_eq!(
        p[0].pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/2411.10504v1")
    );
    assert_eq!(
        p[2].pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/2304.02643v4")
    );
    assert_eq!(
        p[1].primary_category.as_ref().unwrap().as_str(),
        "eess.AS",
        "first category is primary"
    );
    assert_eq!(p[0].updated, None);
    assert_eq!(
        p[0].published.unwrap().to_rfc3339(),
        "2024-11-19T05:00:00+00:00"
    );
    assert_eq!(p[0].announce_day(), NaiveDate::from_ymd_opt(2024, 11, 19));
}

#[test]
fn atom_feed_variant_matches_the_rss_feed() {
    let atom = parse(&fixture("atom_feed.xml")).unwrap();
    assert_eq!(atom.format, Some(Format::AtomFeed));
    let rss = papers("rss.xml");
    let a = &atom.papers[0];
    assert_eq!(
        (
            a.id.clone(),
            a.version,
            &a.title,
            &a.authors,
            &a.abstract_text
        ),
        (
            rss[0].id.clone(),
            rss[0].version,
            &rss[0].title,
            &rss[0].authors,
            &rss[0].abstract_text
        )
    );
    assert!(a.updated.is_some());
    assert_eq!(a.announce_day(), rss[0].announce_day());
    assert_eq!(atom.papers[1].announce_type, Some(AnnounceType::Replace));
    // Both announcement feeds write `arxiv:journal_reference` and `arxiv:DOI` (the API writes
    // `journal_ref` and `doi`).
    let replaced = rss.iter().find(|p| p.id.as_str() == "2304.02643").unwrap();
    for p in [&atom.papers[1], replaced] {
        assert_eq!(p.journal_ref.as_deref(), Some("ICCV 2023, pp. 4015-4026"));
        assert_eq!(p.doi.as_deref(), Some("10.1109/ICCV51070.2023.00371"));
    }
}

#[test]
fn holiday_feed_is_an_empty_valid_channel() {
    let h = parse(&fixture("rss_holiday.xml")).unwrap();
    assert_eq!(h.format, Some(Format::Rss));
    assert!(h.papers.is_empty() && h.warnings.is_empty());
}

#[test]
fn broken_documents_say_where_and_why() {
    match parse(&fixture("truncated.xml")).unwrap_err() {
        ParseError::Invalid { line, reason, .. } => {
            assert_eq!(line, 22);
            assert!(reason.contains("truncated"), "{reason}");
        }
        e => panic!("{e:?}"),
    }
    match parse(&fixture("not_arxiv.html")).unwrap_err() {
        ParseError::Invalid { line, reason, .. } => {
            assert_eq!(line, 2);
            assert!(reason.contains("<html>"), "{reason}");
        }
        e => panic!("{e:?}"),
    }
    for (doc, want) in [
        (&b""[..], "empty"),
        (b"   \n", "empty"),
        (b"<rss><channel><item><title>x</title>", "truncated"),
        (b"<feed><entry></feed>", "feed"),
        (b"\xff\xfe<rss/>", "UTF-8"),
    ] {
        let e = parse(doc).unwrap_err().to_string();
        assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(doc));
    }
}

#[test]
fn a_feed_repeating_an_item_yields_it_once_at_its_highest_version() {
    let date = "Tue, 19 Nov 2024 00:00:00 -0500";
    let mut items = vec![
        common::rss_item(1, "new", date),
        common::rss_item(2, "new", date),
        common::rss_item(1, "new", date),
    ];
    items[2] = items[2].replace("v1", "v2");
    let p = parse(common::rss_feed("cs.CV", date, &items).as_bytes())
        .unwrap()
        .papers;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].version, 2);
}

/// Renders papers into an RSS document the way arXiv does (escaped text, one dc:creator).
fn render_rss(ps: &[Paper]) -> String {
    let items: Vec<String> = ps
        .iter()
        .map(|p| {
            let cats: String = p.categories.iter().map(|c| format!("<category>{c}</category>")).collect();
            format!(
                "<item><title>{}</title><link>https://arxiv.org/abs/{id}</link><description>arXiv:{id}v{v} Announce Type: new \nAbstract: {}</description><guid>oai:arXiv.org:{id}v{v}</guid>{cats}<pubDate>Tue, 19 Nov 2024 00:00:00 -0500</pubDate><arxiv:announce_type>new</arxiv:announce_type><dc:creator>{}</dc:creator></item>",
                esc(&p.title),
                esc(&p.abstract_text),
                esc(&p.authors.join(", ")),
                id = p.id,
                v = p.version,
            )
        })
        .collect();
    common::rss_feed("cs.CV", "Tue, 19 Nov 2024 00:00:00 -0500", &items)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn parser_never_panics_on_mutated_fixtures(
        which in 0usize..5,
        cut in any::<proptest::sample::Index>(),
        flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let names = ["api_2019.xml", "api_2025.xml", "rss.xml", "atom_feed.xml", "api_error.xml"];
        let mut doc = fixture(names[which]);
        for (at, b) in flips {
            let i = at.index(doc.len());
            doc[i] = b;
        }
        let end = cut.index(doc.len() + 1);
        let _ = parse(&doc[..end]);
    }

    #[test]
    fn ids_and_queries_never_panic_and_queries_render_canonically(s in "\\PC{0,80}") {
        let _ = paperbell::model::paper::PaperId::parse_with_version(&s);
        if let Ok(t) = paperbell::topics::parse_query(&s) {
            let again = paperbell::topics::parse_query(&t.name).expect("a rendered query parses");
            prop_assert_eq!(again, t);
        }
    }

    #[test]
    fn structured_queries_render_canonically(
        s in "((\"[a-z ]{0,8}\"|[a-zé]{1,6}\\*?|OR|AND|-[a-z]{2,5}|cat:(cs\\.CV|cs\\.lg|xx)|au:[a-z]{2,5}|\\(|\\)) ){0,10}"
    ) {
        if let Ok(t) = paperbell::topics::parse_query(&s) {
            let again = paperbell::topics::parse_query(&t.name).expect("a rendered query parses");
            prop_assert_eq!(again, t);
        }
    }

    #[test]
    fn normalize_ws_is_idempotent(s in "\\PC{0,200}") {
        let once = normalize_ws(&s);
        prop_assert_eq!(normalize_ws(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
    }

    #[test]
    fn parse_render_parse_is_a_fixed_point(
        titles in proptest::collection::vec("[A-Za-z0-9 $<>&\\\\{}^_.,;:()'\"é中\\t\\n-]{1,60}", 1..5),
        abstracts in proptest::collection::vec("[A-Za-z0-9 $<>&\\\\{}^_.,;:()'\"ü\\t\\n-]{0,200}", 1..5),
    ) {
        let date = "Tue, 19 Nov 2024 00:00:00 -0500";
        let items: Vec<String> = titles.iter().zip(abstracts.iter().cycle()).enumerate().map(|(i, (t, a))| {
            common::rss_item(i, "new", date)
                .replacen(&format!("({i})</title>"), &format!("{}</title>", esc(t)), 1)
                .replacen("Abstract: ", &format!("Abstract: {} ", esc(a)), 1)
        }).collect();
        let first = parse(common::rss_feed("cs.CV", date, &items).as_bytes()).unwrap().papers;
        let second = parse(render_rss(&first).as_bytes()).unwrap().papers;
        prop_assert_eq!(first.len(), second.len());
        for (a, b) in first.iter().zip(&second) {
            prop_assert_eq!(&a.title, &b.title);
            prop_assert_eq!(&a.abstract_text, &b.abstract_text);
            prop_assert_eq!(&a.authors, &b.authors);
            prop_assert_eq!(&a.title, &normalize_ws(&a.title));
        }
    }
}

#[test]
fn items_without_a_date_take_the_channels() {
    let date = "Wed, 20 Nov 2024 00:00:00 -0500";
    let item = common::rss_item(1, "new", date).replace(&format!("<pubDate>{date}</pubDate>"), "");
    let p = parse(common::rss_feed("cs.CV", date, &[item]).as_bytes())
        .unwrap()
        .papers;
    assert_eq!(p[0].announce_day(), NaiveDate::from_ymd_opt(2024, 11, 20));
}

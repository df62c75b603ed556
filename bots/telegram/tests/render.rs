//! Rendering checked by an independent validator of Telegram's HTML parse mode (the fake Bot
//! API's parser: supported tags only, properly nested, only `&lt; &gt; &amp; &quot;` and numeric
//! entities) and the 1..=4096 UTF-16 unit limit, on arbitrary papers and replies.

use paperbell_chat::{DigestMessage, Lang, Matched, PaperItem, TldrSource};
use paperbell_telegram::render::{self, MAX_MESSAGE_UTF16};
use paperbell_testkit::telegram::parse_html;
use proptest::prelude::*;

/// Parses like Telegram (the fake Bot API's parser) and applies the length limit.
fn telegram_parse(html: &str) -> Result<String, String> {
    let out = parse_html(html)?;
    let n = out.encode_utf16().count();
    if n == 0 || n > MAX_MESSAGE_UTF16 {
        return Err(format!("Bad Request: message text is {n} UTF-16 units"));
    }
    Ok(out)
}

fn text_strategy(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 <>&\"'$^_{{}}\\\\é中😀🧪-]{{0,{max}}}"))
        .unwrap()
}

prop_compose! {
    fn paper()(n in 0u32..100_000, title in text_strategy(3000), authors in proptest::collection::vec(text_strategy(40), 0..40),
               tldr in proptest::option::of(text_strategy(2000)), cats in proptest::collection::vec("[a-z]{2}\\.[A-Z]{2}", 0..15),
               translated in proptest::option::of(text_strategy(2000)), takeaways in proptest::collection::vec(text_strategy(500), 0..8),
               code in proptest::collection::vec("https://github\\.com/[a-z]{1,8}/[a-z&\"<]{1,8}", 0..5)) -> PaperItem {
        let id = format!("2411.{n:05}");
        // Marks overlapping, out of order or off character boundaries are skipped.
        let matched = Some(Matched { text: title.clone(), marks: vec![0..1, 2..9, 5..7, 12..40] });
        PaperItem {
            abs_url: format!("https://arxiv.org/abs/{id}"),
            pdf_url: Some(format!("https://arxiv.org/pdf/{id}v1")),
            id,
            title,
            authors,
            categories: cats,
            code_urls: code,
            tldr,
            tldr_source: if translated.is_some() { TldrSource::Llm } else { TldrSource::Extractive },
            title_translated: translated.clone(),
            relevance: translated.clone().map(|why| paperbell_chat::Relevance { mark: "●●○".into(), why: Some(why) }),
            rated: paperbell_chat::Rated { up: n % 7, down: n % 3, saved: n % 5 },
            figure: (n % 2 == 0).then(|| paperbell_chat::FigureItem {
                url: format!("https://arxiv.org/html/2411.{n:05}v1/x1.png"),
                caption: "A caption & <more> ".repeat(100),
                width: None,
                height: None,
            }),
            html_url: Some(format!("https://arxiv.org/html/2411.{n:05}v1")),
            tldr_translated: translated,
            takeaways,
            project_url: Some("https://example.org/?a=1&b=\"2\"".into()),
            upvotes: Some(7),
            stars: Some(70),
            topics: vec!["NeRF".into(), "LLM <&>".into()],
            matched,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_digest_message_is_valid_telegram_html_within_limits(
        papers in proptest::collection::vec(paper(), 0..40),
        title in text_strategy(300),
        overview in proptest::option::of(text_strategy(1500)),
        more in 0usize..5,
        compact in any::<bool>(),
    ) {
        let d = DigestMessage { title, day: "2024-11-19".into(), overview, papers: papers.clone(), more, unsubscribe_topic: Some("nerf".into()), lang: Lang::En, compact };
        let messages = render::digest(&d);
        let mut seen = Vec::new();
        for m in &messages {
            let visible = telegram_parse(m).map_err(|e| TestCaseError::fail(format!("{e}\n{m}")))?;
            // Generated texts contain no ':', so these are exactly the papers' link texts.
            for (at, _) in visible.match_indices("arXiv:") {
                seen.push(visible[at + 6..at + 16].to_string());
            }
        }
        // Every paper appears exactly once, in order.
        let want: Vec<String> = papers.iter().map(|p| p.id.clone()).collect();
        prop_assert_eq!(seen, want);
    }
}

#[test]
fn a_giant_single_paper_is_shortened_not_dropped() {
    let p = PaperItem {
        id: "2411.00001".into(),
        title: "T".repeat(20_000),
        authors: (0..5000).map(|i| format!("Author {i}")).collect(),
        categories: vec!["cs.CV".into(); 100],
        abs_url: "https://arxiv.org/abs/2411.00001".into(),
        pdf_url: None,
        code_urls: vec![],
        tldr: Some("😀".repeat(5000)),
        title_translated: Some("标".repeat(5000)),
        tldr_translated: Some("😀".repeat(5000)),
        takeaways: vec!["😀".repeat(5000); 9],
        tldr_source: TldrSource::Llm,
        ..PaperItem::default()
    };
    let ms = render::papers("Newest in <NeRF>", &[p], Lang::Zh);
    assert_eq!(ms.len(), 1);
    let visible = telegram_parse(&ms[0]).unwrap();
    assert!(
        visible.contains("arXiv:2411.00001") && visible.contains('…') && visible.contains("et al.")
    );
    assert!(visible.starts_with("Newest in <NeRF>"));
}

#[test]
fn many_papers_split_at_paper_boundaries_with_a_continued_header() {
    let papers: Vec<PaperItem> = (0..60)
        .map(|i| PaperItem {
            id: format!("2411.{i:05}"),
            title: format!("A paper about $a<b$ & more, number {i} ").repeat(8),
            authors: vec!["Zoë".into(), "王".into()],
            categories: vec!["cs.CV".into()],
            abs_url: format!("https://arxiv.org/abs/2411.{i:05}"),
            pdf_url: None,
            code_urls: vec![],
            tldr: None,
            ..PaperItem::default()
        })
        .collect();
    let d = DigestMessage {
        title: "NeRF".into(),
        day: "2024-11-19".into(),
        overview: None,
        papers,
        more: 3,
        unsubscribe_topic: Some("nerf".into()),
        lang: Lang::En,
        compact: false,
    };
    let ms = render::digest(&d);
    assert!(ms.len() > 1);
    for (i, m) in ms.iter().enumerate() {
        let v = telegram_parse(m).unwrap();
        assert!(v.starts_with("NeRF · 2024-11-19 · 63"), "{v}");
        assert_eq!(i > 0, v.contains("(continued)"));
    }
    assert!(
        telegram_parse(ms.last().unwrap())
            .unwrap()
            .ends_with("+3 more: /recent nerf")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    #[test]
    fn plain_replies_split_within_limits_and_lose_nothing(
        lines in proptest::collection::vec(text_strategy(6000), 1..6),
    ) {
        let s = lines.join("\n");
        let messages = render::text(&s);
        let mut joined = String::new();
        for m in &messages {
            joined.push_str(&telegram_parse(m).map_err(|e| TestCaseError::fail(format!("{e}\n{m}")))?);
        }
        if s.is_empty() {
            prop_assert_eq!(joined, "…");
        } else {
            prop_assert_eq!(joined, s);
        }
    }
}

#[test]
fn topic_lists_and_digests_carry_their_buttons() {
    use paperbell_chat::{Answer, Reply, TopicItem};
    use paperbell_telegram::parse::{Callback, MAX_CALLBACK_BYTES};
    let topics: Vec<TopicItem> = (0..8)
        .map(|i| TopicItem {
            id: format!("t{i}"),
            name: format!("Topic <{i}>"),
            subscribed: i == 2,
        })
        .collect();
    let outs = render::reply(&Answer {
        lang: Lang::Zh,
        reply: Reply::Topics {
            heading: "Topics".into(),
            topics,
            page: 1,
            pages: 3,
        },
    });
    assert_eq!(outs.len(), 1);
    let v = telegram_parse(&outs[0].html).unwrap();
    assert!(v.contains("(2/3)") && v.contains("✓ Topic <2>"), "{v}");
    let b = &outs[0].buttons;
    assert_eq!(b.len(), 9, "a row per topic and a navigation row");
    assert_eq!(b[8][0].1, Callback::TopicsPage(0));
    assert_eq!(b[8][1].1, Callback::TopicsPage(2));
    assert!(b[8][1].0.contains("下一页"));
    for row in b {
        for (label, cb) in row {
            assert!(!label.is_empty());
            assert!(cb.encode().len() <= MAX_CALLBACK_BYTES);
        }
    }
}

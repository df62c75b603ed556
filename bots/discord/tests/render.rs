//! Property tests of Discord rendering: whatever the papers and texts (long, Markdown-laden,
//! emoji, CJK), every message built stays within every Discord limit, and nothing is lost.

use paperbell_chat::{Answer, DigestMessage, Lang, Matched, PaperItem, Reply, TldrSource};
use paperbell_discord::render::{self, check, len};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z *_~`|>#\\-\\[\\]()<@\\\\😀中文\n]{0,600}").unwrap()
}

fn paper() -> impl Strategy<Value = PaperItem> {
    (
        text(),
        text(),
        proptest::collection::vec(text(), 0..15),
        any::<bool>(),
    )
        .prop_map(|(title, tldr, authors, has_tldr)| PaperItem {
            // Translations and takeaways at their longest on every other paper.
            title_translated: has_tldr.then(|| format!("标题{tldr}")),
            tldr_translated: has_tldr.then(|| format!("摘要{tldr}")),
            takeaways: if has_tldr {
                vec![tldr.clone(); 6]
            } else {
                vec![]
            },
            tldr_source: if has_tldr {
                TldrSource::Llm
            } else {
                TldrSource::Extractive
            },
            project_url: has_tldr.then(|| "https://example.org/p".into()),
            upvotes: Some(3),
            stars: None,
            id: "2411.00001".into(),
            title: if title.trim().is_empty() {
                "t".into()
            } else {
                title
            },
            authors,
            categories: vec!["cs.CV".into(), "cs.LG".into()],
            abs_url: "https://arxiv.org/abs/2411.00001".into(),
            pdf_url: Some("https://arxiv.org/pdf/2411.00001v1".into()),
            code_urls: vec!["https://github.com/a/b".into()],
            tldr: has_tldr.then_some(tldr),
            topics: vec!["NeRF".into(), "3DGS".into()],
            matched: Some(Matched {
                text: "a *found* word <here> and `more` words".into(),
                marks: vec![3..8, 23..29],
            }),
            relevance: has_tldr.then(|| paperbell_chat::Relevance {
                mark: "●●○".into(),
                why: Some("like *a* [paper]".repeat(20)),
            }),
            rated: paperbell_chat::Rated {
                up: 12,
                down: 3,
                saved: 7,
            },
            // A figure whose caption is past every limit, on every other paper.
            figure: has_tldr.then(|| paperbell_chat::FigureItem {
                url: "https://arxiv.org/html/2411.00001v1/x1.png".into(),
                caption: "A caption with *markup* and $x^2$ ".repeat(200),
                width: Some(476),
                height: Some(357),
            }),
            html_url: Some("https://arxiv.org/html/2411.00001v1".into()),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn digests_fit_every_limit_and_keep_every_paper(
        papers in proptest::collection::vec(paper(), 0..60),
        title in text(),
        overview in proptest::option::of(text()),
        compact in any::<bool>(),
        more in 0usize..50,
    ) {
        let d = DigestMessage {
            title,
            day: "2024-11-19".into(),
            overview,
            papers: papers.clone(),
            more,
            unsubscribe_topic: Some("nerf".into()),
            lang: Lang::Zh,
            compact,
        };
        let messages = render::digest(&d);
        for m in &messages {
            prop_assert!(check(m).is_ok(), "{:?}: {m:?}", check(m));
        }
        let shown: usize = if compact {
            messages.iter().flat_map(|m| &m.embeds).map(|e| e.description.lines().count()).sum()
        } else {
            messages.iter().map(|m| m.embeds.len()).sum()
        };
        prop_assert_eq!(shown, papers.len());
        let last = messages.last().unwrap().buttons.last().unwrap();
        prop_assert!(matches!(last.as_slice(), [(_, paperbell_chat::buttons::Callback::Unsubscribe(_))]));
        // Every paper has its rating button, up to the rows a message allows.
        let numbers: usize = messages
            .iter()
            .flat_map(|m| m.buttons.iter().flatten())
            .filter(|(_, cb)| matches!(cb, paperbell_chat::buttons::Callback::Rate { .. }))
            .count();
        if !compact {
            prop_assert_eq!(numbers, papers.len());
        } else {
            prop_assert!(numbers <= papers.len());
        }
    }

    #[test]
    fn plain_replies_split_without_loss(s in proptest::string::string_regex("[a-z *_\n😀中]{0,9000}").unwrap()) {
        let messages = render::reply(&Answer { lang: Lang::En, reply: Reply::Text(s.clone()) });
        for m in &messages {
            prop_assert!(check(m).is_ok());
            prop_assert!(len(&m.content) <= render::MAX_CONTENT);
        }
        // Joined and unescaped, the pieces give the text back (an all-blank text becomes "…").
        let joined: String = messages.iter().map(|m| m.content.as_str()).collect();
        let unescaped = joined.replace("\\*", "*").replace("\\_", "_");
        if !s.trim().is_empty() {
            prop_assert_eq!(unescaped.trim_end(), s.trim_end());
        }
    }
}

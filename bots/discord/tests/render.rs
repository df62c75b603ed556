//! Rendering checked against Discord's documented limits on arbitrary papers.

use paperbell_chat::{DigestMessage, PaperItem};
use paperbell_discord::render::{self, Message, len};
use proptest::prelude::*;

/// Discord's limits, as its API enforces them (400 Invalid Form Body otherwise).
fn discord_accepts(m: &Message) -> Result<(), String> {
    if len(&m.content) > 2000 {
        return Err(format!("content {}", len(&m.content)));
    }
    if m.embeds.len() > 10 {
        return Err(format!("{} embeds", m.embeds.len()));
    }
    let mut total = 0;
    for e in &m.embeds {
        if len(&e.title) > 256
            || len(&e.description) > 4096
            || e.footer.as_deref().is_some_and(|f| len(f) > 2048)
        {
            return Err(format!("embed over a field limit: {e:?}"));
        }
        total += len(&e.title) + len(&e.description) + e.footer.as_deref().map_or(0, len);
    }
    if total > 6000 {
        return Err(format!("embeds total {total}"));
    }
    Ok(())
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9 *_~`|>\\[\\]()#@<\\\\é中😀-]{{0,{max}}}"
    ))
    .unwrap()
}

prop_compose! {
    fn paper()(n in 0u32..100_000, title in text(2000), authors in proptest::collection::vec(text(60), 0..20),
               tldr in proptest::option::of(text(6000)), cats in proptest::collection::vec("[a-z]{2}\\.[A-Z]{2}", 0..30)) -> PaperItem {
        let id = format!("2411.{n:05}");
        PaperItem {
            abs_url: format!("https://arxiv.org/abs/{id}"),
            pdf_url: Some(format!("https://arxiv.org/pdf/{id}v1")),
            code_urls: vec!["https://github.com/a/b".into()],
            id, title, authors, categories: cats, tldr,
            topics: vec!["NeRF".into(), "LLM".into()],
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn digests_fit_every_discord_limit_and_keep_every_paper(
        papers in proptest::collection::vec(paper(), 0..45),
        title in text(500),
        overview in proptest::option::of(text(3000)),
        more in 0usize..4,
    ) {
        let d = DigestMessage { title, day: "2024-11-19".into(), overview, papers: papers.clone(), more, unsubscribe_topic: Some("nerf".into()), lang: paperbell_chat::Lang::En, compact: false };
        let ms = render::digest(&d);
        for m in &ms {
            discord_accepts(m).map_err(TestCaseError::fail)?;
        }
        let urls: Vec<String> = ms.iter().flat_map(|m| m.embeds.iter().filter_map(|e| e.url.clone())).collect();
        let want: Vec<String> = papers.iter().map(|p| p.abs_url.clone()).collect();
        prop_assert_eq!(urls, want);
        for m in &ms {
            for e in &m.embeds {
                prop_assert!(e.description.contains("https://arxiv.org/abs/2411."), "links are never cut");
            }
        }
    }
}

#[test]
fn twelve_papers_take_two_messages() {
    let papers: Vec<PaperItem> = (0..12)
        .map(|i| PaperItem {
            id: format!("2411.{i:05}"),
            title: format!("Paper {i}"),
            authors: vec!["A".into()],
            categories: vec!["cs.CV".into()],
            abs_url: format!("https://arxiv.org/abs/2411.{i:05}"),
            pdf_url: None,
            code_urls: vec![],
            tldr: None,
            topics: vec![],
        })
        .collect();
    let ms = render::papers("Newest in NeRF", &papers);
    assert_eq!(
        ms.iter().map(|m| m.embeds.len()).collect::<Vec<_>>(),
        [10, 2]
    );
    assert_eq!(ms[1].content, "**Newest in NeRF** (continued)");
}

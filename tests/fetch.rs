//! The polite fetcher against the fake arXiv over real HTTP: paging, query encoding, retries on
//! every fault arXiv is known for, typed API errors, one request at a time, minimum interval.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{FakeArxiv, Fault, api_entry};
use paperbell::model::paper::{Category, PaperId};
use paperbell::sources::fetch::{ArxivClient, FetchError};

async fn fake_with_entries(n: usize) -> FakeArxiv {
    let fake = FakeArxiv::start().await;
    fake.state.lock().unwrap().api_entries = (0..n).map(api_entry).collect();
    fake
}

#[tokio::test]
async fn pages_through_results_and_encodes_the_query() {
    let fake = fake_with_entries(45).await;
    let mut cfg = common::arxiv_config(&fake);
    cfg.page_size = 20;
    let client = ArxivClient::new(&cfg).unwrap();
    let mut pages = Vec::new();
    // A query with characters that would break a hand-built URL.
    let q = r#"(abs:"gaussian splatting" OR ti:nerf) AND cat:cs.CV&max_results=1#x"#;
    let stats = client
        .query(q, None, |p| {
            pages.push(p.papers.len());
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(pages, [20, 20, 5]);
    assert_eq!(stats.papers, 45);
    assert_eq!(stats.total_results, Some(45));
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    for (i, s) in seen.iter().enumerate() {
        let get = |k: &str| {
            s.query
                .iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            get("search_query"),
            [q],
            "the query arrives as one intact parameter"
        );
        assert_eq!(
            get("max_results"),
            ["20"],
            "user text cannot add parameters"
        );
        assert_eq!(get("start"), [(i * 20).to_string().as_str()]);
        assert_eq!(get("sortBy"), ["submittedDate"]);
        assert!(
            s.user_agent.starts_with("paperbell/"),
            "descriptive User-Agent: {}",
            s.user_agent
        );
    }
}

#[tokio::test]
async fn a_limit_stops_paging_early() {
    let fake = fake_with_entries(100).await;
    let mut cfg = common::arxiv_config(&fake);
    cfg.page_size = 30;
    let client = ArxivClient::new(&cfg).unwrap();
    let mut n = 0;
    client
        .query("cat:cs.CV", Some(40), |p| {
            n += p.papers.len();
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 40);
}

#[tokio::test]
async fn every_known_fault_is_retried_and_never_returned_as_data() {
    for fault in [
        Fault::Status {
            code: 429,
            retry_after: Some("0"),
        },
        Fault::Status {
            code: 503,
            retry_after: None,
        },
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        Fault::RateExceeded,
        Fault::BlankOk,
        Fault::Truncated,
        Fault::Slow(Duration::from_millis(1500)),
        Fault::EmptyPage,
    ] {
        let fake = fake_with_entries(5).await;
        fake.fault(fault.clone());
        let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
        let mut pages = Vec::new();
        client
            .query("cat:cs.CV", None, |p| {
                pages.push(p.papers.len());
                Ok(())
            })
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(pages, [5], "{fault:?}: only the good answer is handed on");
        assert_eq!(fake.seen().len(), 2, "{fault:?}: one failure, one retry");
    }
}

#[tokio::test]
async fn gives_up_after_max_retries_with_the_last_reason() {
    let fake = fake_with_entries(5).await;
    for _ in 0..10 {
        fake.fault(Fault::Status {
            code: 503,
            retry_after: None,
        });
    }
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    let mut called = false;
    let err = client
        .query("cat:cs.CV", None, |_| {
            called = true;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(!called);
    match err {
        FetchError::GaveUp { attempts, last, .. } => {
            assert_eq!(attempts, 4);
            assert!(last.contains("503"), "{last}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let fake = fake_with_entries(1).await;
    fake.fault(Fault::Status {
        code: 429,
        retry_after: Some("0.3"),
    });
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    client.query("cat:cs.CV", None, |_| Ok(())).await.unwrap();
    let seen = fake.seen();
    let gap = seen[1].at - seen[0].done;
    assert!(
        gap >= Duration::from_millis(300),
        "waited {gap:?}, arXiv asked for 300 ms"
    );
}

/// `Retry-After` as an HTTP date, read against the response's own `Date` (the server's clock).
#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let fake = fake_with_entries(1).await;
    let at = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    fake.fault(Fault::Status {
        code: 503,
        retry_after: Some(Box::leak(at.into_boxed_str())),
    });
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    client.query("cat:cs.CV", None, |_| Ok(())).await.unwrap();
    let seen = fake.seen();
    let gap = seen[1].at - seen[0].done;
    // Dates are whole seconds: two seconds ahead of the answer's Date, one at the least.
    assert!(
        gap >= Duration::from_millis(900) && gap < Duration::from_secs(5),
        "waited {gap:?} for a date two seconds ahead"
    );
}

#[tokio::test]
async fn an_api_error_feed_is_a_typed_error_and_not_retried() {
    let fake = fake_with_entries(1).await;
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    let err = client
        .query("BADQUERY", None, |_| Ok(()))
        .await
        .unwrap_err();
    match err {
        FetchError::Api(msg) => assert_eq!(msg, "malformed query"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn requests_are_one_at_a_time_with_the_minimum_interval() {
    let fake = fake_with_entries(3).await;
    fake.fault(Fault::Slow(Duration::from_millis(100)));
    let mut cfg = common::arxiv_config(&fake);
    cfg.min_interval_secs = 0.15;
    let client = std::sync::Arc::new(ArxivClient::new(&cfg).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.feed(&[Category("cs.CV".into())])
                .await
                .map(|p| p.papers.len())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        fake.max_in_flight.load(Ordering::SeqCst),
        1,
        "never two requests at once"
    );
    let mut seen = fake.seen();
    seen.sort_by_key(|s| s.at);
    for w in seen.windows(2) {
        let gap = w[1].at - w[0].done;
        assert!(
            gap >= Duration::from_millis(150),
            "gap {gap:?} below the 150 ms minimum"
        );
    }
}

#[tokio::test]
async fn feeds_join_categories_and_an_empty_holiday_feed_is_no_error() {
    let fake = FakeArxiv::start().await;
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    let parsed = client
        .feed(&[Category("cs.CV".into()), Category("cs.LG".into())])
        .await
        .unwrap();
    assert!(parsed.papers.is_empty());
    assert_eq!(fake.seen()[0].path, "/rss/cs.CV+cs.LG");
}

#[tokio::test]
async fn by_ids_finds_known_and_reports_unknown_as_empty() {
    let fake = fake_with_entries(3).await;
    let client = ArxivClient::new(&common::arxiv_config(&fake)).unwrap();
    let id = PaperId::parse(&common::id_of(1)).unwrap();
    let p = client.by_ids(std::slice::from_ref(&id)).await.unwrap();
    assert_eq!(p.papers.len(), 1);
    assert_eq!(p.papers[0].id, id);
    let none = client
        .by_ids(&[PaperId::parse("2401.99999").unwrap()])
        .await
        .unwrap();
    assert!(none.papers.is_empty());
}

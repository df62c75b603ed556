//! The shared chat commands over a real store: every command, its user errors, permissions,
//! paging, languages, settings, and reactivation of an inactive chat.

mod common;

use paperbell::commands::{Commands, MAX_ARG_CHARS};
use paperbell::config::ScheduleConfig;
use paperbell::sources::parse;
use paperbell::store::Store;
use paperbell::topics::TopicSet;
use paperbell_chat::{Caller, ChatRef, Command, Platform, Reply};

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    topics: TopicSet,
    schedule: ScheduleConfig,
}

impl Env {
    fn new(files: &[&str]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let topics = common::shipped_topics();
        for f in files {
            store
                .ingest(&parse(&common::fixture(f)).unwrap().papers, &topics)
                .unwrap();
        }
        Env {
            _dir: dir,
            store,
            topics,
            schedule: ScheduleConfig::default(),
        }
    }

    /// Stores `n` generated papers announced on one day (every 7th NeRF-titled).
    fn ingest_rss(&self, n: usize) {
        let doc = common::rss_doc(n);
        self.store
            .ingest(&parse(doc.as_bytes()).unwrap().papers, &self.topics)
            .unwrap();
    }

    /// The private chat's member rates `paper` at `at`, as the command line does (no toggle).
    fn rate(&self, paper: &str, change: paperbell::model::rating::RatingChange, at: i64) {
        self.store
            .rate("telegram:42", paper, "42", change, at, false)
            .unwrap();
    }

    fn run(&self, caller: &Caller, cmd: Command) -> Reply {
        Commands {
            store: &self.store,
            topics: &self.topics,
            defaults: self.schedule.chat_defaults(),
            search: None,
            arxiv: None,
            figures: false,
            now: 1_732_000_000,
        }
        .handle(caller, cmd)
        .unwrap()
    }
}

fn private() -> Caller {
    Caller {
        chat: ChatRef {
            platform: Platform::Telegram,
            id: "42".into(),
        },
        can_manage: true,
        locale: Some("en".into()),
        member: Some("42".into()),
    }
}

fn group_member() -> Caller {
    Caller {
        chat: ChatRef {
            platform: Platform::Telegram,
            id: "-100777".into(),
        },
        can_manage: false,
        locale: None,
        member: Some("7001".into()),
    }
}

fn text(r: &Reply) -> &str {
    match r {
        Reply::Text(t) | Reply::UserError(t) => t,
        other => panic!("expected text, got {other:?}"),
    }
}

fn is_user_error(r: &Reply) -> bool {
    matches!(r, Reply::UserError(_))
}

fn sub(topic: &str) -> Command {
    Command::Subscribe {
        topic: topic.into(),
    }
}

#[test]
fn subscribe_is_idempotent_and_suggests_on_typos() {
    let env = Env::new(&["rss.xml"]);
    let me = private();
    let r = env.run(&me, sub("NERF"));
    assert!(text(&r).starts_with("Subscribed to NeRF."), "{r:?}");
    let r = env.run(&me, sub("nerf"));
    assert_eq!(text(&r), "This chat is already subscribed to NeRF.");
    let r = env.run(&me, sub("nref"));
    assert!(
        is_user_error(&r) && text(&r).contains("did you mean `nerf`"),
        "{r:?}"
    );
    let r = env.run(&me, sub("cs.cv"));
    assert!(text(&r).contains("cs.CV"));
    let r = env.run(&me, sub("cat:cs.XX foo"));
    assert!(is_user_error(&r), "{r:?}");
    let r = env.run(&me, sub("  "));
    assert!(is_user_error(&r) && text(&r).contains("arXiv category"));
    let r = env.run(&me, sub(&"x".repeat(MAX_ARG_CHARS + 1)));
    assert!(is_user_error(&r));
    let subs = env.store.subscriptions(&me.chat).unwrap();
    assert_eq!(subs.len(), 2);
    assert!(
        subs[0].since.is_some(),
        "digests start after what is already stored"
    );
}

#[test]
fn members_who_cannot_manage_may_only_query() {
    let env = Env::new(&["rss.xml"]);
    let m = group_member();
    for cmd in [
        sub("nerf"),
        Command::Unsubscribe {
            topic: "nerf".into(),
        },
        Command::Settings {
            change: Some(("max".into(), "3".into())),
        },
    ] {
        let r = env.run(&m, cmd);
        assert!(
            is_user_error(&r) && text(&r).contains("administrators"),
            "{r:?}"
        );
    }
    assert!(env.store.subscriptions(&m.chat).unwrap().is_empty());
    assert!(matches!(
        env.run(
            &m,
            Command::Recent {
                topic: "nerf".into(),
                count: None,
                page: 0
            }
        ),
        Reply::Papers { .. }
    ));
    assert!(matches!(
        env.run(&m, Command::Settings { change: None }),
        Reply::Text(_)
    ));
}

#[test]
fn unsubscribe_by_id_name_or_query_and_list() {
    let env = Env::new(&["rss.xml"]);
    let me = private();
    env.run(&me, sub("nerf"));
    env.run(&me, sub("\"state space\" OR mamba"));
    let list = env.run(&me, Command::List);
    assert!(
        text(&list).contains("• NeRF (nerf)") && text(&list).contains("state space"),
        "{list:?}"
    );
    assert!(text(&list).contains("time 08:00"));
    let r = env.run(
        &me,
        Command::Unsubscribe {
            topic: "NeRF".into(),
        },
    );
    assert_eq!(text(&r), "Unsubscribed from NeRF.");
    let r = env.run(
        &me,
        Command::Unsubscribe {
            topic: "nerf".into(),
        },
    );
    assert!(
        is_user_error(&r) && text(&r).contains("state space"),
        "lists what is subscribed: {r:?}"
    );
    let r = env.run(
        &me,
        Command::Unsubscribe {
            topic: "mamba OR \"state space\"".into(),
        },
    );
    assert!(
        text(&r).starts_with("Unsubscribed"),
        "the same query in another order: {r:?}"
    );
    let r = env.run(&me, Command::Unsubscribe { topic: "x".into() });
    assert!(text(&r).contains("no subscriptions"));
}

#[test]
fn topics_show_what_is_subscribed() {
    let env = Env::new(&[]);
    let me = private();
    env.run(&me, sub("llm"));
    match env.run(&me, Command::Topics { page: 5 }) {
        Reply::Topics {
            topics,
            page,
            pages,
            ..
        } => {
            assert_eq!(
                (page, pages),
                (0, 1),
                "a page past the end shows the last one"
            );
            assert_eq!(topics.len(), 8, "the shipped seven and hf-daily");
            assert!(topics.iter().any(|t| t.id == "hf-daily"));
            assert!(topics.iter().find(|t| t.id == "llm").unwrap().subscribed);
            assert!(!topics.iter().find(|t| t.id == "nerf").unwrap().subscribed);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn recent_pages_with_a_more_command() {
    let env = Env::new(&[]);
    env.ingest_rss(30);
    let me = private();
    let first = env.run(
        &me,
        Command::Recent {
            topic: "cs.CV".into(),
            count: Some(4),
            page: 0,
        },
    );
    let Reply::Papers {
        papers,
        more: Some(next),
        ..
    } = first
    else {
        panic!("{first:?}")
    };
    assert_eq!(papers.len(), 4);
    let second = env.run(&me, next);
    let Reply::Papers { papers: p2, .. } = second else {
        panic!("{second:?}")
    };
    assert_eq!(p2.len(), 4);
    assert!(
        papers.iter().all(|a| p2.iter().all(|b| a.id != b.id)),
        "pages do not overlap"
    );
    let all = env.run(
        &me,
        Command::Recent {
            topic: "cs.CV".into(),
            count: Some(500),
            page: 0,
        },
    );
    let Reply::Papers { papers, .. } = all else {
        panic!()
    };
    assert_eq!(papers.len(), 20, "count is capped at 20");
    let none = env.run(
        &me,
        Command::Recent {
            topic: "hep-th".into(),
            count: None,
            page: 0,
        },
    );
    assert!(text(&none).contains("No stored papers"));
}

#[test]
fn paper_and_search() {
    let env = Env::new(&["rss.xml", "api_2025.xml"]);
    let me = private();
    let r = env.run(
        &me,
        Command::Paper {
            id: "https://arxiv.org/abs/2411.10504v1".into(),
        },
    );
    let Reply::Papers { papers, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        papers[0].title,
        "Fast NeRF Distillation with Gaussian Splatting"
    );
    assert_eq!(
        papers[0].code_urls,
        ["https://github.com/fast/nerf-distill"]
    );
    assert_eq!(
        papers[0].pdf_url.as_deref(),
        Some("https://arxiv.org/pdf/2411.10504v1")
    );
    assert!(is_user_error(
        &env.run(&me, Command::Paper { id: "nerf".into() })
    ));
    assert!(
        text(&env.run(
            &me,
            Command::Paper {
                id: "2401.99999".into()
            }
        ))
        .contains("not in this bot's store")
    );

    let r = env.run(
        &me,
        Command::Search {
            words: "Gaussian splatting".into(),
            page: 0,
        },
    );
    let Reply::Papers { papers, .. } = r else {
        panic!("{r:?}")
    };
    let ids: Vec<&str> = papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["2511.01234", "2411.10504"],
        "newest first, every word required"
    );
    assert!(
        text(&env.run(
            &me,
            Command::Search {
                words: "quantum chromodynamics".into(),
                page: 0,
            }
        ))
        .contains("No stored paper")
    );
    assert!(is_user_error(&env.run(
        &me,
        Command::Search {
            words: "a !".into(),
            page: 0,
        }
    )));
}

#[test]
fn digest_uses_the_newest_day_and_the_chats_max() {
    let env = Env::new(&[]);
    env.ingest_rss(28); // 4 NeRF-titled papers (every 7th)
    let me = private();
    assert!(
        is_user_error(&env.run(&me, Command::Digest)),
        "no subscriptions yet"
    );
    env.run(&me, sub("nerf"));
    env.run(&me, sub("\"sparse voxels\"")); // the same 4 papers as NeRF
    env.run(&me, sub("\"chain of thought\"")); // 4 other papers
    env.run(
        &me,
        Command::Settings {
            change: Some(("max".into(), "2".into())),
        },
    );
    let r = env.run(&me, Command::Digest);
    let Reply::Digests(ds) = r else {
        panic!("{r:?}")
    };
    let nerf = ds.iter().find(|d| d.title == "NeRF").unwrap();
    assert_eq!(nerf.day, "2024-11-19");
    assert_eq!(nerf.papers.len(), 2);
    assert_eq!(nerf.more, 2, "4 NeRF papers, max 2");
    assert_eq!(nerf.unsubscribe_topic.as_deref(), Some("nerf"));
    assert_eq!(
        nerf.papers[0].topics,
        ["NeRF", "\"sparse voxels\""],
        "a paper in two topics is shown once, naming both"
    );
    assert!(
        !ds.iter().any(|d| d.title.contains("sparse voxels")),
        "nothing left for the overlapping topic"
    );
    let q = ds
        .iter()
        .find(|d| d.title.contains("chain of thought"))
        .unwrap();
    assert_eq!(
        (q.papers.len(), q.more),
        (2, 2),
        "the query topic found its own 4 papers"
    );
}

#[test]
fn settings_validate_and_languages_follow_settings_then_locale() {
    let env = Env::new(&[]);
    let mut me = private();
    me.locale = Some("zh-hans".into());
    assert!(
        text(&env.run(&me, Command::Help)).contains("订阅"),
        "client locale picks Chinese"
    );
    for (k, v) in [
        ("time", "25:00"),
        ("tz", "Mars/Olympus"),
        ("lang", "fr"),
        ("max", "0"),
        ("format", "long"),
        ("colour", "red"),
    ] {
        let r = env.run(
            &me,
            Command::Settings {
                change: Some((k.into(), v.into())),
            },
        );
        assert!(is_user_error(&r), "{k} {v}: {r:?}");
    }
    for (k, v) in [
        ("time", "7:05"),
        ("tz", "Asia/Shanghai"),
        ("max", "12"),
        ("format", "compact"),
        ("lang", "en"),
    ] {
        let r = env.run(
            &me,
            Command::Settings {
                change: Some((k.into(), v.into())),
            },
        );
        assert!(!is_user_error(&r), "{k} {v}: {r:?}");
    }
    let shown = env.run(&me, Command::Settings { change: None });
    let s = text(&shown);
    assert!(
        s.contains("time 07:05")
            && s.contains("tz Asia/Shanghai")
            && s.contains("max 12")
            && s.contains("format compact"),
        "{s}"
    );
    assert!(
        text(&env.run(&me, Command::Help)).contains("subscribe"),
        "the chat's lang setting beats the locale"
    );
}

#[test]
fn any_command_reactivates_an_inactive_chat() {
    let env = Env::new(&[]);
    let me = private();
    env.run(&me, sub("nerf"));
    let mut rec = env.store.chat(&me.chat).unwrap().unwrap();
    rec.active = false;
    env.store.put_chat(&rec).unwrap();
    env.run(&me, Command::Help);
    let rec = env.store.chat(&me.chat).unwrap().unwrap();
    assert!(rec.active);
    assert_eq!(
        env.store.subscriptions(&me.chat).unwrap().len(),
        1,
        "subscriptions were kept"
    );
}

#[test]
fn topic_suggestions_rank_subscriptions_topics_then_categories() {
    use paperbell::commands::suggest_topics;
    use paperbell::model::chat::Subscription;
    let topics = common::shipped_topics();
    let subs = vec![Subscription {
        topic_id: "q:\"mamba\"".into(),
        topic_name: "\"mamba\"".into(),
        query: Some("\"mamba\"".into()),
        since: None,
    }];
    // Nothing typed: the chat's own subscriptions first, then the configured topics; no
    // categories (170 of them would bury the topics).
    let all = suggest_topics(&topics, &subs, "", 25);
    assert_eq!(all[0].id, "q:\"mamba\"");
    assert!(all[0].subscribed);
    assert_eq!(all.len(), 1 + topics.topics.len() + 1);
    assert_eq!(
        all.last().unwrap().id,
        "for-you",
        "the chat's own list after the topics"
    );
    assert_eq!(suggest_topics(&topics, &[], "for", 25)[0].id, "for-you");
    // Prefix matches on id or name before substring matches; categories by prefix.
    let ne = suggest_topics(&topics, &[], "ne", 25);
    assert_eq!(ne[0].id, "nerf", "{ne:?}");
    let cs = suggest_topics(&topics, &[], "CS.c", 25);
    let ids: Vec<&str> = cs.iter().map(|t| t.id.as_str()).collect();
    assert!(ids.contains(&"cs.CV") && ids.contains(&"cs.CL"), "{ids:?}");
    assert!(ids.iter().all(|i| i.to_lowercase().contains("cs.c")));
    let generative = suggest_topics(&topics, &[], "model", 25);
    assert!(
        generative.iter().any(|t| t.id == "generative"),
        "a name containing the text: {generative:?}"
    );
    assert!(suggest_topics(&topics, &[], "zzzz", 25).is_empty());
    assert_eq!(
        suggest_topics(&topics, &[], "c", 5).len(),
        5,
        "the limit holds"
    );
}

#[test]
fn search_through_the_index_ranks_pages_and_explains_its_syntax() {
    let env = Env::new(&["rss.xml", "api_2025.xml"]);
    for d in [18usize, 19] {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 11, d as u32).unwrap();
        common::ingest_day(&env.store, day, d * 100..d * 100 + 40);
    }
    let index = paperbell::search::SearchIndex::open(&env._dir.path().join("search")).unwrap();
    index.catch_up(&env.store).unwrap();
    let me = private();
    // A command from this chat, answered with the index.
    let run = |cmd: Command| {
        Commands {
            store: &env.store,
            topics: &env.topics,
            defaults: env.schedule.chat_defaults(),
            search: Some(&index),
            arxiv: None,
            figures: false,
            now: 1_732_000_000,
        }
        .handle(&me, cmd)
        .unwrap()
    };
    let ask = |words: &str, page: u32| {
        run(Command::Search {
            words: words.into(),
            page,
        })
    };
    // Ranked: the title match first, though it is not the newest.
    let Reply::Papers { papers, more, .. } = ask("gaussian splatting nerf distillation", 0) else {
        panic!()
    };
    assert_eq!(papers[0].id, "2411.10504", "{papers:?}");
    assert!(more.is_none());
    // Pages: a broad query has more, and the next page holds other papers.
    let Reply::Papers {
        papers: first,
        more: Some(next),
        ..
    } = ask("cat:cs.CV", 0)
    else {
        panic!()
    };
    let Command::Search { page, .. } = &next else {
        panic!("{next:?}")
    };
    let Reply::Papers { papers: second, .. } = ask("cat:cs.CV", *page) else {
        panic!()
    };
    assert!(second.iter().all(|p| first.iter().all(|f| f.id != p.id)));
    // /paper offers papers like it; /similar pages through them, never the paper itself.
    let Reply::Papers {
        more: Some(like), ..
    } = run(Command::Paper {
        id: "2411.10504".into(),
    })
    else {
        panic!()
    };
    assert_eq!(
        like,
        Command::Similar {
            id: "2411.10504".into(),
            page: 0
        }
    );
    let similar = |id: &str| {
        run(Command::Similar {
            id: id.into(),
            page: 0,
        })
    };
    let Reply::Papers { papers: alike, .. } = similar("2411.10504") else {
        panic!()
    };
    assert!(!alike.is_empty() && alike.iter().all(|p| p.id != "2411.10504"));
    assert!(is_user_error(&similar("not an id")));
    // Without words: the syntax; a bad query: why.
    assert!(text(&ask("", 0)).contains("ti:word"));
    let bad = ask("after:someday nerf", 0);
    assert!(
        is_user_error(&bad) && text(&bad).contains("someday"),
        "{bad:?}"
    );
    assert!(is_user_error(&ask("the of", 0)));
}

fn set(key: &str, value: &str) -> Command {
    Command::Settings {
        change: Some((key.into(), value.into())),
    }
}

#[test]
fn weekly_cadence_and_for_you_categories_are_settings() {
    let env = Env::new(&[]);
    let me = private();
    for (k, v) in [
        ("every", "fortnight"),
        ("cats", "cs.CV cs.NOPE"),
        ("cats", ""),
    ] {
        assert!(is_user_error(&env.run(&me, set(k, v))), "{k} {v}");
    }
    let typo = env.run(&me, set("cats", "cs.RO cs.CW"));
    assert!(
        text(&typo).starts_with("cs.CW: not an arXiv category (did you mean cs.CV?)"),
        "{}",
        text(&typo)
    );
    assert!(!is_user_error(&env.run(&me, set("every", "Monday"))));
    assert!(!is_user_error(&env.run(&me, set("cats", "cs.cv, CS.RO"))));
    let s = env.run(&me, Command::Settings { change: None });
    let s = text(&s);
    assert!(
        s.contains("every mon")
            && s.contains("weekly digest on mon")
            && s.contains("cats cs.CV cs.RO"),
        "{s}"
    );
    env.run(&me, set("cats", "off"));
    env.run(&me, set("every", "day"));
    let s = env.run(&me, Command::Settings { change: None });
    assert!(
        text(&s).contains("every day") && text(&s).contains("cats off"),
        "{}",
        text(&s)
    );
}

#[test]
fn for_you_is_a_subscription_in_the_chats_categories() {
    let env = Env::new(&[]);
    env.ingest_rss(28);
    let me = private();
    env.run(&me, set("cats", "math.ST"));
    let r = env.run(&me, sub("for-you"));
    assert!(
        text(&r).contains("Subscribed to for-you") && text(&r).contains("math.ST"),
        "{}",
        text(&r)
    );
    assert!(text(&env.run(&me, sub("For You"))).contains("already subscribed"));
    assert!(text(&env.run(&me, Command::List)).contains("for-you"));
    // /digest shows the day's for-you list: the math.ST papers (every 7th from the 5th).
    let r = env.run(&me, Command::Digest);
    let Reply::Digests(ds) = r else {
        panic!("{r:?}")
    };
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].title, "for-you");
    let ids: Vec<&str> = ds[0].papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(
        ids.iter()
            .all(|i| [4, 11, 18, 25].map(common::id_of).contains(&i.to_string()))
    );
    let r = env.run(
        &me,
        Command::Unsubscribe {
            topic: "for-you".into(),
        },
    );
    assert!(
        text(&r).contains("Unsubscribed from for-you"),
        "{}",
        text(&r)
    );
}

#[test]
fn import_takes_typed_ids_and_files_and_refuses_broken_ones_whole() {
    let env = Env::new(&[]);
    env.ingest_rss(14);
    let me = private();
    let import = |text: &str, file: Option<paperbell_chat::Upload>| {
        env.run(
            &me,
            Command::Import {
                text: text.into(),
                file,
            },
        )
    };
    assert!(is_user_error(&import("", None)), "says how to import");
    // Typed ids and URLs; one of them is not stored and arXiv is not asked here.
    let r = import(
        &format!(
            "{} https://arxiv.org/abs/{}v2 2501.99999",
            common::id_of(0),
            common::id_of(7)
        ),
        None,
    );
    assert!(
        text(&r).starts_with("Found 3 · matched to arXiv papers 2"),
        "{}",
        text(&r)
    );
    assert!(text(&r).contains("2501.99999"), "{}", text(&r));
    // A file: a BibTeX export.
    let bib = format!(
        "@article{{a,\n  title = {{X}},\n  eprint = {{{}}},\n}}\n",
        common::id_of(3)
    );
    let r = import(
        "",
        Some(paperbell_chat::Upload::File {
            name: "library.bib".into(),
            bytes: bib.into_bytes(),
        }),
    );
    assert!(
        text(&r).starts_with("Found 1 · matched to arXiv papers 1"),
        "{}",
        text(&r)
    );
    let liked = env.store.chat_ratings("telegram:42").unwrap();
    assert_eq!(liked.len(), 3, "{liked:?}");
    // A broken file, a binary one and one too large: refused whole, nothing more recorded.
    for file in [
        paperbell_chat::Upload::File {
            name: "broken.bib".into(),
            bytes: b"@article{a, title = {unclosed\n".to_vec(),
        },
        paperbell_chat::Upload::File {
            name: "x.pdf".into(),
            bytes: vec![0xff, 0xfe, 0, 1, 2],
        },
        paperbell_chat::Upload::TooLarge {
            name: "huge.bib".into(),
            size: 9 << 20,
        },
    ] {
        let r = import("", Some(file));
        assert!(is_user_error(&r), "{r:?}");
        assert!(text(&r).contains("othing was imported"), "{}", text(&r));
    }
    assert_eq!(env.store.chat_ratings("telegram:42").unwrap().len(), 3);
    // In a group, only administrators import.
    let r = env.run(
        &group_member(),
        Command::Import {
            text: common::id_of(1),
            file: None,
        },
    );
    assert!(is_user_error(&r));
}

#[test]
fn saved_papers_export_as_bibtex_that_imports_back() {
    let env = Env::new(&[]);
    env.ingest_rss(7);
    let me = private();
    for (i, id) in [common::id_of(2), common::id_of(5), "2501.99999".to_string()]
        .iter()
        .enumerate()
    {
        env.rate(
            id,
            paperbell::model::rating::RatingChange::Save,
            100 + i as i64,
        );
    }
    let r = env.run(
        &me,
        Command::Saved {
            page: 0,
            bibtex: true,
        },
    );
    let Reply::File {
        name,
        bytes,
        caption,
    } = r
    else {
        panic!("{r:?}")
    };
    assert_eq!(name, "paperbell-saved.bib");
    assert!(caption.starts_with("Saved here (3)"), "{caption}");
    let bib = String::from_utf8(bytes).unwrap();
    let entries = paperbell::sources::library::parse_library(bib.as_bytes()).unwrap();
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e.id.as_ref().unwrap().to_string())
        .collect();
    // Newest saved first, the one the store lacks by id.
    assert_eq!(
        ids,
        ["2501.99999".to_string(), common::id_of(5), common::id_of(2)]
    );
    assert!(bib.contains("title = {"), "{bib}");
}

#[test]
fn digest_on_request_follows_the_chats_model() {
    let env = Env::new(&[]);
    env.ingest_rss(28);
    let me = private();
    env.run(&me, sub("cs.CV"));
    env.run(&me, set("max", "3"));
    let before = env.run(&me, Command::Digest);
    let Reply::Digests(before) = before else {
        panic!("{before:?}")
    };
    assert!(before[0].papers.iter().all(|p| p.relevance.is_none()));
    // The chat likes NeRF papers (every 7th is one).
    for i in [0, 7, 14] {
        env.rate(
            &common::id_of(i),
            paperbell::model::rating::RatingChange::Up,
            1,
        );
    }
    paperbell::learn::retrain(&env.store, "telegram:42").unwrap();
    let r = env.run(&me, Command::Digest);
    let Reply::Digests(ds) = r else {
        panic!("{r:?}")
    };
    let titles: Vec<&str> = ds[0].papers.iter().map(|p| p.title.as_str()).collect();
    assert_eq!(titles.len(), 3);
    assert!(titles.iter().all(|t| t.contains("NeRF")), "{titles:?}");
    assert!(ds[0].papers[0].relevance.is_some(), "{:?}", ds[0].papers[0]);
    assert_eq!(
        ds[0].more, before[0].more,
        "the same papers, cut in another order"
    );
}

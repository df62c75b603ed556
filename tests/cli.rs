//! The real `paperbell` binary end to end: parse's output contract and exit codes, config
//! errors, fetch from files and from the fake arXiv, queries, export, and `run` with SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::FakeArxiv;
use serde_json::Value;

fn bin() -> Command {
    common::paperbell()
}

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/paperbell.toml")
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn parse_prints_exactly_the_documented_keys() {
    let out = run(bin()
        .arg("parse")
        .arg(fixture_path("rss.xml"))
        .arg(fixture_path("api_2019.xml")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 7);
    let keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "version",
            "title",
            "authors",
            "primary_category",
            "categories",
            "published",
            "updated",
            "abstract",
            "comment",
            "doi",
            "journal_ref",
            "pdf_url",
            "announce_type"
        ]
    );
    assert_eq!(v[0]["updated"], Value::Null, "RSS 2.0 has no updated");
    assert_eq!(v[0]["published"], "2024-11-19T05:00:00Z");
    assert_eq!(
        v[4]["announce_type"],
        Value::Null,
        "API files have no announce type"
    );
    assert_eq!(v[4]["updated"], "2020-08-03T17:28:26Z");
    assert_eq!(v[5]["id"], "astro-ph/0601001");
}

#[test]
fn parse_exit_codes() {
    let out = run(bin().arg("parse").arg(fixture_path("api_error.xml")));
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout).trim(), "[]");
    assert!(text(&out.stderr).contains("incorrect id format for 1234.12345"));

    for (f, line) in [("truncated.xml", ":22:"), ("not_arxiv.html", ":2:")] {
        let out = run(bin().arg("parse").arg(fixture_path(f)));
        assert_eq!(out.status.code(), Some(2), "{f}");
        let err = text(&out.stderr);
        assert!(err.contains(f) && err.contains(line), "{f}: {err}");
    }

    let out = run(bin()
        .arg("parse")
        .arg(fixture_path("api_unknown_id_old.xml")));
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("warning") && text(&out.stderr).contains("no id"));
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&out.stdout)
            .unwrap()
            .len(),
        1
    );

    let out = run(bin().arg("parse"));
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = run(bin().arg("parse").arg("/nonexistent/file.xml"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_config_names_the_bad_key() {
    let out = run(bin().arg("check-config").arg("--config").arg(config()));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("7 topic(s)"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[topics]]\nid = \"nerf\"\ncategories = [\"cs.CV\"]\nkeywords_any = [\"nerf\"]\nexclud = [\"x\"]\n").unwrap();
    let out = run(bin().args(["--config"]).arg(&bad).arg("check-config"));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("topics[0]") && err.contains("exclud"),
        "{err}"
    );

    let out = run(bin()
        .arg("check-config")
        .arg("--config")
        .arg(config())
        .env("PAPERBELL_ARXIV_PAGE_SIZE", "5000"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("arxiv.page_size"),
        "{}",
        text(&out.stderr)
    );

    let out = run(bin()
        .arg("check-config")
        .arg("--config")
        .arg(config())
        .env("PAPERBELL_TELEGRAM_TOKEN", "123456:SECRET-TOKEN"));
    assert!(out.status.success());
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        all.contains("token set") && !all.contains("SECRET-TOKEN"),
        "{all}"
    );
}

fn ingest_fixtures(data: &Path) {
    let out = run(bin()
        .arg("--config")
        .arg(config())
        .arg("fetch")
        .arg("--from-file")
        .arg(fixture_path("rss.xml"))
        .arg("--from-file")
        .arg(fixture_path("api_2025.xml"))
        .arg("--data")
        .arg(data));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("4 paper(s): 4 new"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn fetch_from_files_then_query_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_fixtures(&data);
    let q = |args: &[&str]| {
        let out = run(bin()
            .arg("--config")
            .arg(config())
            .arg("--data")
            .arg(&data)
            .args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };

    let nerf = q(&["recent", "nerf"]);
    assert!(
        nerf.contains("Fast NeRF Distillation with Gaussian Splatting"),
        "{nerf}"
    );
    assert!(nerf.contains("Gaussian Splatting in the Wild"), "{nerf}");
    assert!(
        !nerf.contains("Segment Anything"),
        "a replacement is not a NeRF announcement"
    );

    let cv: Vec<Value> =
        serde_json::from_str(&q(&["recent", "CS.cv", "-n", "2", "--json"])).unwrap();
    assert_eq!(cv.len(), 2);
    assert!(cv[0]["first_announced"].is_string());

    let query = q(&["recent", "\"state space\" OR mamba"]);
    assert!(query.contains("Learning Mamba for Segmentation"), "{query}");

    let paper: Value = serde_json::from_str(&q(&[
        "paper",
        "https://arxiv.org/abs/2411.10504v1",
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        paper["title"],
        "Fast NeRF Distillation with Gaussian Splatting"
    );
    assert_eq!(
        paper["code_urls"][0],
        "https://github.com/fast/nerf-distill"
    );
    assert_eq!(paper["tldr_source"], "extractive");
    assert!(
        paper["tldr"]
            .as_str()
            .unwrap()
            .starts_with("We show that $a<b$ implies fast rendering"),
        "{}",
        paper["tldr"]
    );
    assert!(
        paper["topics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "nerf")
    );
    let human = q(&["paper", "2411.10504"]);
    assert!(
        human.contains("code:       https://github.com/fast/nerf-distill"),
        "{human}"
    );

    let md = q(&["export", "--format", "markdown", "--days", "10000"]);
    assert!(md.starts_with("## Updated on "), "{md}");
    assert!(md.contains("<summary>Table of Contents</summary>"));
    assert!(md.contains("## NeRF\n\n|Publish Date|Title|Code|Abstract|"));
    assert!(md.contains("[link](https://github.com/fast/nerf-distill)"));
    let js: Vec<Value> = serde_json::from_str(&q(&[
        "export", "--format", "json", "--topic", "nerf", "--days", "10000",
    ]))
    .unwrap();
    assert_eq!(js.len(), 1);
    assert_eq!(js[0]["topic"], "nerf");

    let topics = q(&["topics"]);
    assert!(
        topics.contains("6DoF Object Pose")
            && topics.contains("Classification/Detection/Recognition/Segmentation")
    );

    // Unknown topic: a suggestion, exit 2.
    let out = run(bin()
        .arg("--config")
        .arg(config())
        .arg("--data")
        .arg(&data)
        .args(["recent", "nref"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `nerf`"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_and_paper_talk_to_arxiv() {
    let fake = FakeArxiv::start().await;
    {
        let mut st = fake.state.lock().unwrap();
        st.default_rss = Some(common::rss_doc(30));
        st.api_entries = (100..105).map(common::api_entry).collect();
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = |c: &mut Command| {
        c.env("PAPERBELL_ARXIV_API_URL", fake.api_url())
            .env("PAPERBELL_ARXIV_FEED_URL", fake.feed_url())
            .env("PAPERBELL_ARXIV_HTML_URL", fake.html_url())
            .env("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0")
            .env("PAPERBELL_ARXIV_BACKOFF_BASE_MS", "1")
            .env("PAPERBELL_DATA", &data)
            .arg("--config")
            .arg(config());
    };
    let out = tokio::task::spawn_blocking({
        let mut c = bin();
        env(&mut c);
        c.arg("fetch");
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("30 paper(s): 30 new"),
        "{} {} {:?}",
        text(&out.stdout),
        text(&out.stderr),
        fake.seen()
            .iter()
            .map(|s| s.path.clone())
            .collect::<Vec<_>>()
    );
    let seen = fake.seen();
    assert_eq!(seen.len(), 1, "one feed request for all topics' categories");
    assert!(
        seen[0].path.starts_with("/rss/") && seen[0].path.contains("cs.CV+"),
        "{}",
        seen[0].path
    );

    // A paper that is not stored is asked for by id, then stored.
    let id = common::id_of(101);
    let out = tokio::task::spawn_blocking({
        let mut c = bin();
        env(&mut c);
        c.args(["paper", &id, "--json"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["comment"], "12 pages, 5 figures");
    let asked = fake.seen();
    assert!(
        asked
            .iter()
            .any(|s| s.query.contains(&("id_list".to_string(), id.clone()))),
        "{:?}",
        asked.iter().map(|s| &s.path).collect::<Vec<_>>()
    );
    // And its HTML edition for its figure (the fake has none: a 404, remembered).
    assert_eq!(v["figure"], Value::Null);
    assert!(
        asked.iter().any(|s| s.path == format!("/html/{id}v1")),
        "{asked:?}"
    );

    let out = tokio::task::spawn_blocking({
        let mut c = bin();
        env(&mut c);
        c.args(["paper", "2401.99999"]);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("arXiv has no paper 2401.99999"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_prints_the_days_digests_and_stops_on_sigterm() {
    let fake = FakeArxiv::start().await;
    fake.state.lock().unwrap().default_rss = Some(common::rss_doc(14));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = bin()
        .env("PAPERBELL_ARXIV_API_URL", fake.api_url())
        .env("PAPERBELL_ARXIV_FEED_URL", fake.feed_url())
        .env("PAPERBELL_ARXIV_HTML_URL", fake.html_url())
        .env("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0")
        .env("RUST_LOG", "info")
        .arg("--config")
        .arg(config())
        .arg("--data")
        .arg(&data)
        .arg("run")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (err_tx, err_rx) = std::sync::mpsc::channel();
    let err_lines = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(line.clone());
            all.push(line);
        }
        all
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("== NeRF")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("no NeRF digest on stdout; got {seen:?}"),
        }
    }
    assert!(seen.iter().any(|l| l.contains("2024-11-19")), "{seen:?}");
    // The archive, health and metrics on the listener (an ephemeral port here).
    let base = loop {
        let line = err_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the service logs its listener");
        if let Some(at) = line.find("the archive at http://") {
            let url = &line[at + "the archive at ".len()..];
            let end = "http://".len() + url["http://".len()..].find('/').unwrap();
            break url[..end].to_string();
        }
    };
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let req = http.get(format!("{base}{path}"));
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, health) = get("/healthz").await;
    assert_eq!(status, 200, "{health}");
    assert!(health.contains("\"newest_day\":\"2024-11-19\""), "{health}");
    let (status, home) = get("/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("NeRF") && home.contains("/topics/nerf/2024-11-19"),
        "{home}"
    );
    let (_, metrics) = get("/metrics").await;
    assert!(
        metrics.contains("paperbell_fetches_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("paperbell_papers_ingested_total{kind=\"new\"} 14"),
        "{metrics}"
    );
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(10));
    assert!(status.success(), "exit {status:?}");
    let logs = err_lines.join().unwrap().join("\n");
    assert!(logs.contains("next arXiv fetch"), "{logs}");
    assert!(logs.contains("shutting down"), "{logs}");
    // The store is intact and holds the day.
    let out = run(bin()
        .arg("--config")
        .arg(config())
        .arg("--data")
        .arg(&data)
        .args(["recent", "nerf"]));
    assert!(text(&out.stdout).contains("2024-11-19"));
    // The same pages as a static site.
    let site = dir.path().join("site");
    let export = |extra: &[&std::ffi::OsStr]| {
        run(bin()
            .arg("--config")
            .arg(config())
            .arg("--data")
            .arg(&data)
            .args(["export", "--format", "html"])
            .args(extra))
    };
    let out = export(&["--out".as_ref(), site.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("paper pages"),
        "{}",
        text(&out.stdout)
    );
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("href=\"topics/nerf/2024-11-19.html\""),
        "{index}"
    );
    assert!(site.join("topics/nerf/2024-11-19.html").exists());
    assert!(site.join("topics/nerf/feed.atom").exists());
    let out = export(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--out DIR"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn search_and_similar_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_fixtures(&data);
    let q = |args: &[&str]| {
        run(bin()
            .arg("--config")
            .arg(config())
            .arg("--data")
            .arg(&data)
            .args(args))
    };
    let json = |out: Output| -> Vec<Value> {
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    // The words are one query; ranked, with `recent --json`'s keys and a score.
    let found = json(q(&["search", "gaussian", "splatting", "--json"]));
    assert!(found.len() >= 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|p| p["score"].as_f64().is_some() && p["first_announced"].is_string())
    );
    assert!(
        found
            .windows(2)
            .all(|w| w[0]["score"].as_f64() >= w[1]["score"].as_f64())
    );
    let recent: Vec<Value> = json(q(&["recent", "cs.CV", "-n", "1", "--json"]));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let mut expected = keys(&recent[0]);
    expected.extend(["snippet".into(), "score".into()]);
    assert_eq!(keys(&found[0]), expected);
    // Each hit says where the words are in its abstract (byte ranges of the snippet's text).
    let marked: Vec<String> = found
        .iter()
        .filter_map(|p| {
            let s = p["snippet"].as_object()?;
            let t = s["text"].as_str()?;
            let marks = s["marks"].as_array()?;
            Some(
                marks
                    .iter()
                    .map(|m| {
                        let (a, b) = (
                            m[0].as_u64().unwrap() as usize,
                            m[1].as_u64().unwrap() as usize,
                        );
                        t[a..b].to_lowercase()
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .flatten()
        .collect();
    assert!(
        !marked.is_empty()
            && marked
                .iter()
                .all(|w| w.starts_with("gaussian") || w.starts_with("splatting")),
        "{marked:?}"
    );
    // Newest first: no score; -n bounds the count.
    let newest = json(q(&[
        "search",
        "cat:cs.CV",
        "--sort",
        "newest",
        "-n",
        "2",
        "--json",
    ]));
    assert_eq!(newest.len(), 2);
    assert!(newest.iter().all(|p| p["score"].is_null()));
    // A query that does not parse: exit 2 with one line saying why.
    let bad = q(&["search", "after:someday", "nerf"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        text(&bad.stderr).trim().lines().count(),
        1,
        "{}",
        text(&bad.stderr)
    );
    assert!(text(&bad.stderr).contains("someday"));
    // Similar: never the paper itself; exit 4 for a paper not stored.
    let like = json(q(&["similar", "2411.10504", "--json"]));
    assert!(like.iter().all(|p| p["id"] != "2411.10504"), "{like:?}");
    assert_eq!(q(&["similar", "2401.99999"]).status.code(), Some(4));
    // Text output as `recent` prints it.
    let human = q(&["search", "ti:nerf"]);
    assert!(
        text(&human.stdout).contains("Fast NeRF Distillation"),
        "{}",
        text(&human.stdout)
    );
    // Its snippet, the matched words marked (prefixes too), where the output is not a terminal.
    let human = text(&q(&["search", "splat*"]).stdout);
    assert!(
        human.contains("**splatting**") || human.contains("**Splatting**"),
        "{human}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_import_and_for_you_from_the_terminal() {
    let fake = FakeArxiv::start().await;
    {
        let mut st = fake.state.lock().unwrap();
        st.default_rss = Some(common::rss_doc(35));
        st.api_entries = vec![common::api_entry(100)];
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let paperbell = |args: Vec<String>| {
        let mut c = bin();
        c.env("PAPERBELL_ARXIV_API_URL", fake.api_url())
            .env("PAPERBELL_ARXIV_FEED_URL", fake.feed_url())
            .env("PAPERBELL_ARXIV_HTML_URL", fake.html_url())
            .env("PAPERBELL_ARXIV_MIN_INTERVAL_SECS", "0")
            .env("PAPERBELL_ARXIV_BACKOFF_BASE_MS", "1")
            .env("PAPERBELL_DATA", &data)
            .arg("--config")
            .arg(config())
            .args(args);
        tokio::task::spawn_blocking(move || c.output().unwrap())
    };
    let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let out = paperbell(args("fetch")).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Without a rating: the digests' order, no score.
    let out = paperbell(args("for-you --json -n 5")).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 5);
    assert_eq!(v[0]["score"], Value::Null);
    let recent = paperbell(args("recent cs.CV -n 1 --json")).await.unwrap();
    let recent: Vec<Value> = serde_json::from_slice(&recent.stdout).unwrap();
    let theirs: Vec<&String> = v[0].as_object().unwrap().keys().collect();
    let extra = ["score".to_string(), "why".to_string()];
    for k in recent[0].as_object().unwrap().keys().chain(extra.iter()) {
        assert!(theirs.contains(&k), "for-you --json lacks {k}");
    }

    // An import: one entry by eprint (stored), one by URL (fetched), one by title (looked up
    // and fetched), one that matches nothing.
    let bib = dir.path().join("library.bib");
    std::fs::write(
        &bib,
        format!(
            "@article{{nerf, title={{Real-Time NeRF}}, eprint={{{a}}}, archivePrefix={{arXiv}}}}\n\
             @misc{{byurl, title={{x}}, url={{https://arxiv.org/abs/{b}v1}}}}\n\
             @inproceedings{{bytitle, title={{Real-Time {{NeRF}} Rendering with Sparse Voxels (105)}}}}\n\
             @book{{nothing, title={{A Book arXiv Never Saw}}}}\n",
            a = common::id_of(7),
            b = common::id_of(100),
        ),
    )
    .unwrap();
    // The title search answers with every API entry: 105 is among them once added.
    fake.state
        .lock()
        .unwrap()
        .api_entries
        .push(common::api_entry(105));
    let out = paperbell(vec!["import".into(), bib.display().to_string()])
        .await
        .unwrap();
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(
        said.contains(
            "found 4 entries; matched 3 to arXiv papers (2 fetched from arXiv); not matched 1"
        ),
        "{said}"
    );
    assert!(
        said.contains("not matched: nothing (A Book arXiv Never Saw)"),
        "{said}"
    );
    assert!(said.contains("learnt from 3 liked"), "{said}");

    // A broken file changes nothing.
    let broken = dir.path().join("broken.bib");
    std::fs::write(&broken, "@article{x, title = {unclosed").unwrap();
    let out = paperbell(vec!["import".into(), broken.display().to_string()])
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("nothing was imported"),
        "{}",
        text(&out.stderr)
    );

    // Ratings: NeRF papers (number 0 mod 7) up, language-model papers (1 mod 7) down.
    for i in [14, 21] {
        let out = paperbell(args(&format!("rate {} up", common::id_of(i))))
            .await
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    for i in [1, 8, 15] {
        let out = paperbell(args(&format!("rate {} down", common::id_of(i))))
            .await
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out = paperbell(args("rate 2401.99999 save")).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("not stored"),
        "{}",
        text(&out.stdout)
    );
    let out = paperbell(args("rate not-an-id up")).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = paperbell(args("rate 2401.99999 love")).await.unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses the action");

    let out = paperbell(args("for-you --json -n 5")).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let scores: Vec<f64> = v.iter().map(|p| p["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    for p in &v[..3] {
        assert!(
            p["title"].as_str().unwrap().contains("NeRF"),
            "NeRF papers first: {v:#?}"
        );
        assert!(p["why"].is_string(), "{p}");
    }
    let text_out = paperbell(args("for-you -n 3")).await.unwrap();
    assert!(
        text(&text_out.stdout).contains("why: "),
        "{}",
        text(&text_out.stdout)
    );

    // A chat of its own has none of this.
    let out = paperbell(args("for-you --chat telegram:5 --json -n 1"))
        .await
        .unwrap();
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["score"], Value::Null);
    let out = paperbell(args("for-you --chat irc:5")).await.unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `paperbell` on `data` with the shipped config.
fn on(data: &Path) -> Command {
    let mut c = bin();
    c.arg("--config").arg(config()).arg("--data").arg(data);
    c
}

/// `backup` and `restore` from the command line: the restored store prints what the original
/// prints; a backup never overwrites a file; restore refuses a directory that holds anything,
/// and a damaged, cut, foreign or newer file, creating nothing; an older binary refuses a
/// store a newer one wrote.
#[test]
fn backup_and_restore_from_the_command_line_and_what_they_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_fixtures(&data);
    let out = run(on(&data).args(["rate", "2304.02643", "up"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.path().join("one.pbbackup");
    let out = run(on(&data).arg("backup").arg("--out").arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains(&file.display().to_string()) && said.contains("6 papers"),
        "{said}"
    );
    let again = run(on(&data).arg("backup").arg("--out").arg(&file));
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    // Without --out: a new file in backups/ beside the store.
    let out = run(on(&data).arg("backup"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let made: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        made.len() == 1 && made[0].ends_with(".pbbackup"),
        "{made:?}"
    );
    let restored = dir.path().join("restored");
    let out = run(on(&restored).arg("restore").arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("search index rebuilt (6 papers)"),
        "{}",
        text(&out.stdout)
    );
    for args in [
        &["recent", "cs.CV", "--json"][..],
        &["search", "segment*"][..],
        &["for-you", "--day", "2024-11-19", "--json"][..],
    ] {
        let (a, b) = (run(on(&data).args(args)), run(on(&restored).args(args)));
        assert!(
            a.status.success() && !a.stdout.is_empty(),
            "{}",
            text(&a.stderr)
        );
        assert_eq!(text(&a.stdout), text(&b.stdout), "{args:?}");
    }
    // Refusals: exit 2, nothing created or touched.
    let refused = |file: &Path, into: &Path, says: &str| {
        let existed = into.exists();
        let out = run(on(into).arg("restore").arg(file));
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert_eq!(into.exists(), existed, "{}", into.display());
    };
    refused(&file, &restored, "not an empty directory");
    let bytes = std::fs::read(&file).unwrap();
    let variant = |name: &str, b: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    let mut damaged = bytes.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 1;
    refused(
        &variant("damaged", &damaged),
        &dir.path().join("d1"),
        "damaged at byte",
    );
    refused(
        &variant("cut", &bytes[..bytes.len() - 10]),
        &dir.path().join("d2"),
        "cut short",
    );
    refused(
        &fixture_path("rss.xml"),
        &dir.path().join("d3"),
        "not a paperbell backup",
    );
    let missing = dir.path().join("no-such.pbbackup");
    let out = run(on(&dir.path().join("d4")).arg("restore").arg(&missing));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!dir.path().join("d4").exists());
    // An empty directory is a place to restore to.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = run(on(&empty).arg("restore").arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A restore killed mid-way leaves its marker: that store is not opened.
    let marker = empty.join("RESTORE-UNFINISHED");
    std::fs::write(&marker, b"").unwrap();
    let out = run(on(&empty).args(["recent", "cs.CV"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unfinished restore"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_file(&marker).unwrap();
    // A store written by a newer paperbell is refused by this one, and says how to go on.
    {
        let store = paperbell::store::Store::open(&empty).unwrap();
        store.set_meta("paperbell_version", "99.0.0").unwrap();
        store.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let out = run(on(&empty).args(["recent", "cs.CV"]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("paperbell 99.0.0, newer than this paperbell"),
        "{}",
        text(&out.stderr)
    );
}

/// Beside a running service, `status` and `backup` ask it through its control socket (the
/// store is locked), status down to how far similar papers are kept; `/healthz` answers from the first second, while Telegram is still being
/// connected; and the socket is mode 0600 and gone after the service stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_backup_reach_the_running_service_and_health_answers_while_connecting() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ingest_fixtures(&data);
    let log = dir.path().join("run.log");
    let mut child = common::service(&data, &log)
        // Nothing answers here: Telegram stays "connecting".
        .env("PAPERBELL_TELEGRAM_TOKEN", "123:abc")
        .env("PAPERBELL_TELEGRAM_API_URL", "http://127.0.0.1:9")
        .env("PAPERBELL_HTTP_LISTEN", "127.0.0.1:0")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        let logs = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(at) = logs.find("the archive at http://") {
            let url = &logs[at + "the archive at ".len()..];
            let end = "http://".len() + url["http://".len()..].find('/').unwrap();
            if logs.contains("control socket up") {
                break url[..end].to_string();
            }
        }
        assert!(Instant::now() < deadline, "no listener: {logs}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let health: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    // The webhook's path answers 503 until Telegram has connected.
    let hook = reqwest::Client::new()
        .post(format!("{base}/telegram/webhook"))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status().as_u16(), 503);
    assert_eq!(
        health["platforms"]["telegram"]["state"], "connecting",
        "{health}"
    );
    assert_eq!(health["status"], "ok", "{health}");
    let socket = data.join("paperbell.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let out = run(on(&data).arg("status"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("telegram"),
        "{}",
        text(&out.stdout)
    );
    // The similar-papers job follows the index in the background: status says when it is done.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let out = text(&run(on(&data).arg("status")).stdout);
        if out.contains("similar:       kept for every paper") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let file = dir.path().join("live.pbbackup");
    let out = run(on(&data).arg("backup").arg("--out").arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("6 papers"),
        "{}",
        text(&out.stdout)
    );
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains("backup written"),
        "the service wrote it: {logs}"
    );
    let restored = dir.path().join("restored");
    let out = run(on(&restored).arg("restore").arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "the socket is removed at stop");
    let (a, b) = (
        run(on(&data).args(["recent", "cs.CV"])),
        run(on(&restored).args(["recent", "cs.CV"])),
    );
    assert_eq!(text(&a.stdout), text(&b.stdout));
    // Nothing runs now: status opens the store itself.
    let out = run(on(&data).arg("status"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("similar:       kept for every paper"),
        "{}",
        text(&out.stdout)
    );
}

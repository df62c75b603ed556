//! Tidy tests: the rules of the code map (ARCHITECTURE.md) that the compiler does not check,
//! checked over the source text, as rust-analyzer's tidy tests do. A failure names the file
//! and the rule; the fix is to move the code where the map says it lives, not to widen a rule
//! without changing the map in the same commit.

use std::path::{Path, PathBuf};

/// Every `.rs` file under the workspace's source folders but this one (which names what the
/// rules look for), with its path relative to the root (`/` separators) and its text.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src"), root.join("testkit/src")];
    for bot in std::fs::read_dir(root.join("bots")).expect("bots/ exists") {
        dirs.push(bot.expect("readable").path().join("src"));
    }
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path: PathBuf = entry.expect("readable").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/tidy.rs")
            {
                let rel = path.strip_prefix(root).expect("under the root");
                let rel = rel.to_string_lossy().replace('\\', "/");
                files.push((rel, std::fs::read_to_string(&path).expect("UTF-8 source")));
            }
        }
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    files.sort();
    files
}

/// The text of a file without its comment lines (so a comment may name what code may not use).
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fails with every file that `checked` selects (by path) whose code contains a pattern.
fn forbid(rule: &str, checked: impl Fn(&str) -> bool, patterns: &[&str]) {
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| checked(path))
        .filter_map(|(path, text)| {
            let code = code(&text);
            let hits: Vec<&str> = patterns
                .iter()
                .copied()
                .filter(|p| code.contains(p))
                .collect();
            (!hits.is_empty()).then(|| format!("{path}: {}", hits.join(", ")))
        })
        .collect();
    assert!(offenders.is_empty(), "{rule}:\n{}", offenders.join("\n"));
}

/// `patterns` may appear only under the `allowed` path prefixes.
fn only_in(rule: &str, patterns: &[&str], allowed: &[&str]) {
    exist(rule, allowed);
    forbid(
        rule,
        |path| !allowed.iter().any(|a| path.starts_with(a)),
        patterns,
    );
}

/// A rule about paths that are gone checks nothing: every path a rule names holds a source.
fn exist(rule: &str, paths: &[&str]) {
    let files = sources();
    for p in paths {
        assert!(
            files.iter().any(|(path, _)| path.starts_with(p)),
            "rule `{rule}` names `{p}`, which holds no source file"
        );
    }
}

/// `patterns` may not appear under the `folders` path prefixes.
fn never_in(rule: &str, folders: &[&str], patterns: &[&str]) {
    exist(rule, folders);
    forbid(
        rule,
        |path| folders.iter().any(|f| path.starts_with(f)),
        patterns,
    );
}

#[test]
fn every_module_says_what_it_owns() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| path)
        .collect();
    assert!(missing.is_empty(), "no `//!` first line: {missing:?}");
}

#[test]
fn only_config_reads_the_environment() {
    only_in(
        "the environment is read by src/config only",
        // Spelt in two parts so that this file, which reads no environment, does not match
        // the rule it states (other checkers read the source too).
        &[
            concat!("env", "::var"),
            concat!("env", "::vars"),
            concat!("env", "::var_os"),
        ],
        &["src/config/"],
    );
}

#[test]
fn library_code_takes_the_time_from_a_clock() {
    only_in(
        "the wall clock is read by src/clock.rs and main only; take `now` or a `Clock`",
        &["Utc::now()", "SystemTime::now()", "Local::now()"],
        // The fake Telegram stamps messages as Telegram does.
        &["src/clock.rs", "src/main.rs", "src/main/", "testkit/"],
    );
}

#[test]
fn only_main_uses_anyhow() {
    only_in(
        "library code returns typed errors (thiserror); anyhow is main's",
        &["anyhow"],
        &["src/main.rs", "src/main/"],
    );
    let stringly: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| path.starts_with("src/") || path.starts_with("bots/"))
        .flat_map(|(path, text)| {
            string_errors(&code(&text))
                .into_iter()
                .map(move |r| format!("{path}: {r}"))
        })
        .collect();
    assert!(
        stringly.is_empty(),
        "library functions return typed errors, not strings:\n{}",
        stringly.join("\n")
    );
}

/// Every `Result<T, E>` in `code` whose error type is a `String` or a tuple of them.
fn string_errors(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("Result<") {
        let args = &code[at + "Result<".len()..];
        let (mut depth, mut split, mut end) = (0i32, None, None);
        for (i, c) in args.char_indices() {
            match c {
                '<' | '(' | '[' => depth += 1,
                '>' | ')' | ']' if depth == 0 => {
                    end = Some(i);
                    break;
                }
                '>' | ')' | ']' => depth -= 1,
                ',' if depth == 0 => split = Some(i),
                _ => {}
            }
        }
        if let (Some(s), Some(e)) = (split, end) {
            let error = args[s + 1..e].trim();
            if error == "String" || error.starts_with("(String") {
                out.push(format!("Result<{}>", &args[..e]));
            }
        }
    }
    out
}

#[test]
fn string_errors_are_found_and_nothing_else() {
    assert_eq!(
        string_errors("fn f() -> Result<Vec<(u8, String)>, String> {}"),
        ["Result<Vec<(u8, String)>, String>"]
    );
    assert_eq!(
        string_errors("fn g() -> Result<(), (String, String)>"),
        ["Result<(), (String, String)>"]
    );
    assert!(
        string_errors("let m: BTreeMap<String, String>; fn h() -> Result<String, E>").is_empty()
    );
    assert!(string_errors("fn k() -> std::io::Result<String>").is_empty());
}

#[test]
fn each_platform_and_the_store_stay_behind_their_wall() {
    only_in("only src/store knows sled", &["sled::"], &["src/store/"]);
    only_in(
        "only the index and its text analysis (src/search/{index,analysis}.rs) know tantivy",
        &["tantivy"],
        &["src/search/index.rs", "src/search/analysis.rs"],
    );
    only_in(
        "minijinja renders in src/web/templates.rs only",
        &["minijinja"],
        &["src/web/templates.rs"],
    );
    only_in(
        "plotters draws in src/web/chart.rs only",
        &["plotters"],
        &["src/web/chart.rs"],
    );
    only_in(
        "atom_syndication writes feeds in src/web/feed.rs only",
        &["atom_syndication"],
        &["src/web/feed.rs"],
    );
    only_in(
        "BibTeX is read in src/sources/library.rs only",
        &["biblatex"],
        &["src/sources/library.rs"],
    );
    only_in(
        "HTML is parsed in src/sources/arxiv_html.rs only",
        &["scraper::"],
        &["src/sources/arxiv_html.rs"],
    );
    only_in(
        "TeX is read in bots/chat/src/tex/ only (everyone else asks `paperbell_chat::tex`)",
        &["pulldown_latex"],
        &["bots/chat/src/tex/"],
    );
    only_in(
        "the Prometheus exporter is src/metrics.rs's",
        &["metrics_exporter_prometheus"],
        &["src/metrics.rs"],
    );
    only_in(
        "only bots/telegram knows teloxide",
        &["teloxide"],
        &["bots/telegram/"],
    );
    only_in(
        "only bots/discord knows serenity",
        &["serenity"],
        &["bots/discord/"],
    );
}

#[test]
fn layers_point_down_only() {
    only_in(
        "nothing outside commands (and main) uses the command layer",
        &["crate::commands", "paperbell::commands"],
        &["src/commands/", "src/main.rs", "src/main/", "src/lib.rs"],
    );
    never_in(
        "model holds values: no storage, services, I/O or runtime",
        &["src/model/"],
        &[
            "crate::store",
            "crate::compose",
            "crate::delivery",
            "crate::summary",
            "crate::sources",
            "tokio",
            "reqwest",
            "std::fs",
        ],
    );
    never_in(
        "pure modules take values: no store, clock, network or files",
        &[
            "src/digest/",
            "src/query/",
            "src/topics/",
            "src/taste/",
            "src/sources/library.rs",
            "src/summary/overview.rs",
            "src/summary/tldr.rs",
            "src/summary/code_links.rs",
            "src/summary/mod.rs",
            "src/sources/xml.rs",
            "src/sources/arxiv_api.rs",
            "src/sources/arxiv_feed.rs",
            "src/sources/mod.rs",
            "src/delivery/times.rs",
            "src/delivery/limits.rs",
            "src/delivery/policy.rs",
        ],
        &[
            "crate::store",
            "crate::compose",
            "Clock",
            "reqwest",
            "tokio::",
            "std::fs",
        ],
    );
    never_in(
        "the store maps values to sled; it uses no service",
        &["src/store/"],
        &[
            "crate::compose",
            "crate::delivery",
            "crate::commands",
            "crate::summary::enrich",
        ],
    );
    never_in(
        "compose builds digests from the store; it knows no service",
        &["src/compose/"],
        &[
            "crate::delivery",
            "crate::summary::enrich",
            "crate::scheduler",
        ],
    );
    never_in(
        "the web reads the store through compose and search; it knows no other service",
        &["src/web/"],
        &[
            "crate::commands",
            "crate::delivery::plan",
            "crate::delivery::send",
            "crate::scheduler",
            "crate::summary::enrich",
        ],
    );
    never_in(
        "services meet in compose, not in each other's code",
        &["src/delivery/", "src/summary/"],
        &["crate::scheduler"],
    );
}

#[test]
fn every_long_running_component_stops_on_the_shutdown_token() {
    let mut runs = 0;
    for (path, text) in sources() {
        let code = code(&text);
        for (at, _) in code.match_indices("pub async fn run(") {
            runs += 1;
            let signature = &code[at..code[at..].find('{').map_or(code.len(), |e| at + e)];
            assert!(
                signature.contains("CancellationToken"),
                "{path}: `{signature}` takes no shutdown token"
            );
        }
    }
    assert!(runs >= 5, "found {runs} components");
}

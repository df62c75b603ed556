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

/// A rule of the map over the source text.
enum Rule {
    /// `patterns` may appear only under the `allowed` path prefixes.
    OnlyIn {
        name: &'static str,
        patterns: &'static [&'static str],
        allowed: &'static [&'static str],
    },
    /// `patterns` may not appear under the `folders` path prefixes.
    NeverIn {
        name: &'static str,
        folders: &'static [&'static str],
        patterns: &'static [&'static str],
    },
}

impl Rule {
    fn name(&self) -> &'static str {
        match self {
            Rule::OnlyIn { name, .. } | Rule::NeverIn { name, .. } => name,
        }
    }

    /// The paths the rule names (each must hold a source, or the rule checks nothing).
    fn paths(&self) -> &'static [&'static str] {
        match self {
            Rule::OnlyIn { allowed, .. } => allowed,
            Rule::NeverIn { folders, .. } => folders,
        }
    }

    /// Every file of `files` that breaks the rule, with the patterns it holds.
    fn offenders(&self, files: &[(String, String)]) -> Vec<String> {
        let (patterns, checked) = match self {
            Rule::OnlyIn {
                patterns, allowed, ..
            } => (patterns, (allowed, false)),
            Rule::NeverIn {
                folders, patterns, ..
            } => (patterns, (folders, true)),
        };
        // A file is checked when it lies under the rule's folders (NeverIn) or outside its
        // allowed paths (OnlyIn).
        let checked = |path: &str| checked.0.iter().any(|p| path.starts_with(p)) == checked.1;
        files
            .iter()
            .filter(|(path, _)| checked(path))
            .filter_map(|(path, text)| {
                let code = code(text);
                let hits: Vec<&str> = patterns
                    .iter()
                    .copied()
                    .filter(|p| code.contains(p))
                    .collect();
                (!hits.is_empty()).then(|| format!("{path}: {}", hits.join(", ")))
            })
            .collect()
    }

    /// A source file that breaks the rule: its first pattern where the rule forbids it.
    fn broken_by(&self) -> (String, String) {
        let (path, pattern) = match self {
            Rule::OnlyIn { patterns, .. } => ("src/outside_every_rule.rs".to_string(), patterns[0]),
            Rule::NeverIn {
                folders, patterns, ..
            } => {
                let f = folders[0];
                let path = if f.ends_with(".rs") {
                    f.to_string()
                } else {
                    format!("{}broken.rs", f.trim_end_matches('/').to_string() + "/")
                };
                (path, patterns[0])
            }
        };
        (
            path,
            format!("//! A file.\nfn f() {{ let _ = {pattern}; }}\n"),
        )
    }
}

/// Checks every rule against the workspace's sources.
fn hold(rules: &[Rule]) {
    let files = sources();
    for rule in rules {
        for p in rule.paths() {
            assert!(
                files.iter().any(|(path, _)| path.starts_with(p)),
                "rule `{}` names `{p}`, which holds no source file",
                rule.name()
            );
        }
        let offenders = rule.offenders(&files);
        assert!(
            offenders.is_empty(),
            "{}:\n{}",
            rule.name(),
            offenders.join("\n")
        );
    }
}

/// The files of `files` that do not open with a `//!` line.
fn missing_docs(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(_, text)| !text.starts_with("//!"))
        .map(|(path, _)| path.clone())
        .collect()
}

#[test]
fn every_module_says_what_it_owns() {
    let missing = missing_docs(&sources());
    assert!(missing.is_empty(), "no `//!` first line: {missing:?}");
}

#[test]
fn library_errors_are_typed_not_strings() {
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

/// The map's rules that the source text can check (ARCHITECTURE.md, "Invariants").
const RULES: &[Rule] = &[
    Rule::OnlyIn {
        name: "the environment is read by src/config only",
        // Spelt in two parts so that this file, which reads no environment, does not match
        // the rule it states (other checkers read the source too).
        patterns: &[
            concat!("env", "::var"),
            concat!("env", "::vars"),
            concat!("env", "::var_os"),
        ],
        allowed: &["src/config/"],
    },
    Rule::OnlyIn {
        name: "the wall clock is read by src/clock.rs and main only; take `now` or a `Clock`",
        patterns: &["Utc::now()", "SystemTime::now()", "Local::now()"],
        // The fake Telegram stamps messages as Telegram does.
        allowed: &["src/clock.rs", "src/main.rs", "src/main/", "testkit/"],
    },
    Rule::OnlyIn {
        name: "library code returns typed errors (thiserror); anyhow is main's",
        patterns: &["anyhow"],
        allowed: &["src/main.rs", "src/main/"],
    },
    Rule::OnlyIn {
        name: "only src/store knows sled",
        patterns: &["sled::"],
        allowed: &["src/store/"],
    },
    Rule::OnlyIn {
        name: "only the index and its text analysis (src/search/{index,analysis}.rs) know tantivy",
        patterns: &["tantivy"],
        allowed: &["src/search/index.rs", "src/search/analysis.rs"],
    },
    Rule::OnlyIn {
        name: "minijinja renders in src/web/templates.rs only",
        patterns: &["minijinja"],
        allowed: &["src/web/templates.rs"],
    },
    Rule::OnlyIn {
        name: "plotters draws in src/web/chart.rs only",
        patterns: &["plotters"],
        allowed: &["src/web/chart.rs"],
    },
    Rule::OnlyIn {
        name: "atom_syndication writes feeds in src/web/feed.rs only",
        patterns: &["atom_syndication"],
        allowed: &["src/web/feed.rs"],
    },
    Rule::OnlyIn {
        name: "BibTeX is read in src/sources/library.rs only",
        patterns: &["biblatex"],
        allowed: &["src/sources/library.rs"],
    },
    Rule::OnlyIn {
        name: "HTML is parsed in src/sources/arxiv_html.rs only",
        patterns: &["scraper::"],
        allowed: &["src/sources/arxiv_html.rs"],
    },
    Rule::OnlyIn {
        name: "TeX is read in bots/chat/src/tex/ only (everyone else asks `paperbell_chat::tex`)",
        patterns: &["pulldown_latex"],
        allowed: &["bots/chat/src/tex/"],
    },
    Rule::OnlyIn {
        name: "the Prometheus exporter is src/metrics.rs's",
        patterns: &["metrics_exporter_prometheus"],
        allowed: &["src/metrics.rs"],
    },
    Rule::OnlyIn {
        name: "backup files are compressed in src/backup/format.rs only",
        patterns: &["zstd::"],
        allowed: &["src/backup/format.rs"],
    },
    Rule::OnlyIn {
        name: "only bots/telegram knows teloxide",
        patterns: &["teloxide"],
        allowed: &["bots/telegram/"],
    },
    Rule::OnlyIn {
        name: "only bots/discord knows serenity",
        patterns: &["serenity"],
        allowed: &["bots/discord/"],
    },
    Rule::OnlyIn {
        name: "nothing outside commands (and main) uses the command layer",
        patterns: &["crate::commands", "paperbell::commands"],
        allowed: &["src/commands/", "src/main.rs", "src/main/", "src/lib.rs"],
    },
    Rule::NeverIn {
        name: "model holds values: no storage, services, I/O or runtime",
        folders: &["src/model/"],
        patterns: &[
            "crate::store",
            "crate::compose",
            "crate::delivery",
            "crate::summary",
            "crate::sources",
            "tokio",
            "reqwest",
            "std::fs",
        ],
    },
    Rule::NeverIn {
        name: "pure modules take values: no store, clock, network or files",
        folders: PURE,
        patterns: &[
            "crate::store",
            "crate::compose",
            "Clock",
            "reqwest",
            "tokio::",
            "std::fs",
        ],
    },
    Rule::NeverIn {
        name: "the store maps values to sled; it uses no service",
        folders: &["src/store/"],
        patterns: &[
            "crate::compose",
            "crate::delivery",
            "crate::commands",
            "crate::summary::enrich",
            "crate::backup",
        ],
    },
    Rule::NeverIn {
        name: "compose builds digests from the store; it knows no service",
        folders: &["src/compose/"],
        patterns: &[
            "crate::delivery",
            "crate::summary::enrich",
            "crate::scheduler",
        ],
    },
    Rule::NeverIn {
        name: "the web reads the store through compose and search; it knows no other service",
        folders: &["src/web/"],
        patterns: &[
            "crate::commands",
            "crate::delivery::plan",
            "crate::delivery::send",
            "crate::scheduler",
            "crate::summary::enrich",
            "crate::backup",
        ],
    },
    Rule::NeverIn {
        name: "services meet in compose, not in each other's code",
        folders: &["src/delivery/", "src/summary/", "src/backup/"],
        patterns: &["crate::scheduler", "crate::commands"],
    },
];

/// The pure modules: values in, values out (the bird's-eye view's `pure` layer).
const PURE: &[&str] = &[
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
    "src/backup/format.rs",
];

#[test]
fn the_maps_rules_hold() {
    hold(RULES);
}

/// A rule that cannot fail checks nothing: each one, given a file that breaks it, fails.
#[test]
fn every_rule_fails_when_broken() {
    for rule in RULES {
        let broken = rule.broken_by();
        assert!(
            !rule.offenders(std::slice::from_ref(&broken)).is_empty(),
            "rule `{}` let {} pass:\n{}",
            rule.name(),
            broken.0,
            broken.1
        );
    }
    // Comments may name what code may not use.
    let commented = (
        "src/model/x.rs".to_string(),
        "// tokio and reqwest\n".to_string(),
    );
    let model = RULES
        .iter()
        .find(|r| r.name().starts_with("model holds values"))
        .unwrap();
    assert!(model.offenders(&[commented]).is_empty());
    assert!(missing_docs(&[("src/x.rs".into(), "fn f() {}".into())]) == ["src/x.rs"]);
    assert_eq!(
        runs_without_a_token(&[("src/x.rs".into(), "pub async fn run(self) {}".into())]),
        (
            1,
            vec!["src/x.rs: `pub async fn run(self) ` takes no shutdown token".to_string()]
        )
    );
}

/// The map, `lib.rs`'s modules and the rules agree: every module of the library has its row
/// in ARCHITECTURE.md's code map and every row's module exists, and each pure module named in
/// the map's `pure` layer is under the purity rule.
#[test]
fn the_map_and_the_modules_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let modules: Vec<&str> = lib
        .lines()
        .filter_map(|l| {
            l.strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))
        })
        .filter_map(|l| l.strip_suffix(';'))
        .filter(|m| *m != "tidy")
        .collect();
    assert!(modules.len() > 15, "{modules:?}");
    let rows: Vec<&str> = map
        .lines()
        .filter(|l| l.starts_with("| `src/"))
        .flat_map(|l| l.split(" | ").next().unwrap_or("").split(", "))
        .map(|c| c.trim_start_matches("| ").trim_matches('`'))
        .collect();
    for m in &modules {
        let (dir, file) = (format!("src/{m}/"), format!("src/{m}.rs"));
        assert!(
            rows.iter().any(|r| *r == dir || *r == file),
            "module `{m}` has no row in ARCHITECTURE.md's code map"
        );
    }
    for r in &rows {
        let m = r
            .trim_start_matches("src/")
            .trim_end_matches('/')
            .trim_end_matches(".rs");
        assert!(
            m == "main" || modules.contains(&m),
            "ARCHITECTURE.md's code map has a row for `{r}`, which lib.rs does not declare"
        );
    }
    let pure_layer: String = map
        .lines()
        .skip_while(|l| !l.starts_with("pure "))
        .take_while(|l| !l.starts_with("model "))
        .collect();
    assert!(
        !pure_layer.is_empty(),
        "the bird's-eye view has a pure layer"
    );
    for (named, path) in [
        ("query", "src/query/"),
        ("topics", "src/topics/"),
        ("digest", "src/digest/"),
        ("taste", "src/taste/"),
        ("library", "src/sources/library.rs"),
        ("tldr", "src/summary/tldr.rs"),
        ("overview", "src/summary/overview.rs"),
        ("times", "src/delivery/times.rs"),
        ("limits", "src/delivery/limits.rs"),
        ("policy", "src/delivery/policy.rs"),
        ("format", "src/backup/format.rs"),
    ] {
        assert!(
            pure_layer.contains(named),
            "the map's pure layer names no `{named}`"
        );
        assert!(PURE.contains(&path), "the purity rule misses {path}");
    }
}

/// How many `pub async fn run(` there are in `files`, and those that take no shutdown token.
fn runs_without_a_token(files: &[(String, String)]) -> (usize, Vec<String>) {
    let (mut runs, mut without) = (0, Vec::new());
    for (path, text) in files {
        let code = code(text);
        for (at, _) in code.match_indices("pub async fn run(") {
            runs += 1;
            let signature = &code[at..code[at..].find('{').map_or(code.len(), |e| at + e)];
            if !signature.contains("CancellationToken") {
                without.push(format!("{path}: `{signature}` takes no shutdown token"));
            }
        }
    }
    (runs, without)
}

#[test]
fn every_long_running_component_stops_on_the_shutdown_token() {
    let (runs, without) = runs_without_a_token(&sources());
    assert!(without.is_empty(), "{}", without.join("\n"));
    assert!(runs >= 5, "found {runs} components");
}

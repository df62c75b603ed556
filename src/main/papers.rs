//! `recent`, `search`, `similar`, `export` and `reindex`: what the store holds, printed.

use super::*;

/// `paperbell recent`.
pub(super) fn recent(config: &Config, topic: &str, n: usize, json: bool) -> Result<ExitCode> {
    let store = open_store(config)?;
    let set = topic_set(config)?;
    let t = set.resolve(topic).map_err(|e| Exit(2, e.0))?;
    let configured = set.topics.iter().any(|c| c.id == t.id);
    let papers = store.recent(&t, configured, n.clamp(1, 10_000), 200_000)?;
    if json {
        let v = papers
            .iter()
            .map(|sp| cli::export::paper_json(&store, sp))
            .collect::<Result<Vec<_>, _>>()?;
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else if papers.is_empty() {
        eprintln!(
            "No stored papers for {} yet. Run `paperbell fetch` first.",
            t.name
        );
    } else {
        out(&digest::render_list(&papers));
    }
    Ok(ExitCode::SUCCESS)
}

/// `paperbell search`.
pub(super) fn search(
    config: &Config,
    query: &[String],
    n: usize,
    sort: SortArg,
    json: bool,
) -> Result<ExitCode> {
    let store = open_store(config)?;
    let index = search_index(&store, config)?;
    let sort = match sort {
        SortArg::Relevance => paperbell::search::Sort::Relevance,
        SortArg::Newest => paperbell::search::Sort::Newest,
    };
    let (query, found) =
        cli::search::search(&store, &index, &query.join(" "), n.clamp(1, 10_000), sort)
            .map_err(search_exit)?;
    print_found(&store, &found, Some(&query), json)?;
    Ok(ExitCode::SUCCESS)
}

/// `paperbell similar`.
pub(super) fn similar(config: &Config, id: &str, n: usize, json: bool) -> Result<ExitCode> {
    let store = open_store(config)?;
    let index = search_index(&store, config)?;
    let found =
        cli::search::similar(&store, &index, id, n.clamp(1, 10_000)).map_err(search_exit)?;
    print_found(&store, &found, None, json)?;
    Ok(ExitCode::SUCCESS)
}

/// `paperbell export`.
pub(super) fn export(
    config: &Config,
    format: ExportFormat,
    topics: &[String],
    days: u32,
    dir: Option<PathBuf>,
) -> Result<ExitCode> {
    let store = open_store(config)?;
    let set = topic_set(config)?;
    let selected = select_topics(&set, topics)?;
    let format = match (format, dir) {
        (ExportFormat::Html, Some(dir)) => {
            let site = paperbell::web::Site::new(paperbell::web::Archive {
                store: Arc::new(store),
                topics: Arc::new(TopicSet { topics: selected }),
                search: None,
            });
            let done = paperbell::web::export::export_site(&site, &dir, days)?;
            outln!(
                "wrote {} topic and home pages, {} paper pages ({} files) to {}",
                done.pages,
                done.papers,
                done.files,
                dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        (ExportFormat::Html, None) => {
            return Err(Exit(2, "--format html writes files: give --out DIR".into()).into());
        }
        (_, Some(_)) => {
            return Err(Exit(
                2,
                "--out is for --format html; markdown and json go to stdout".into(),
            )
            .into());
        }
        (ExportFormat::Markdown, None) => cli::export::Format::Markdown,
        (ExportFormat::Json, None) => cli::export::Format::Json,
    };
    let today = Utc::now().date_naive();
    out(&cli::export::export(
        &store, &selected, days, today, format,
    )?);
    Ok(ExitCode::SUCCESS)
}

/// `paperbell reindex`.
pub(super) fn reindex(config: &Config) -> Result<ExitCode> {
    let store = open_store(config)?;
    let topics = topic_set(config)?;
    rematch_topics(&store, &topics)?;
    let stats = store.reindex(&topics)?;
    store.flush()?;
    let mut hits: Vec<String> = stats
        .topic_hits
        .iter()
        .map(|(t, n)| format!("{t} +{n}"))
        .collect();
    hits.sort();
    outln!(
        "reindexed {} paper(s); newly indexed: {}",
        stats.unchanged,
        if hits.is_empty() {
            "none".to_string()
        } else {
            hits.join(", ")
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The store's search index for a command-line search, caught up first.
pub(super) fn search_index(store: &Store, config: &Config) -> Result<SearchIndex> {
    let (index, caught) = cli::search::open_index(store, &config.store.path)?;
    if let Some(n) = caught.rebuilt {
        tracing::info!(papers = n, "search index rebuilt from the store");
    }
    Ok(index)
}

/// A search's error with its exit code: 2 for a query or id that does not parse, 4 for a
/// paper that is not stored.
pub(super) fn search_exit(e: cli::search::SearchCommandError) -> anyhow::Error {
    use cli::search::SearchCommandError as E;
    match e {
        E::Query(_) | E::NotAnId(_) => Exit(2, e.to_string()).into(),
        E::NotStored(_) => Exit(4, e.to_string()).into(),
        e => e.into(),
    }
}

/// Search results as text (as `recent` prints papers) or JSON.
/// Search or similar results; a search's snippets mark the matched words in bold on a
/// terminal, between `**` otherwise.
pub(super) fn print_found(
    store: &Store,
    found: &[(paperbell::model::paper::StoredPaper, paperbell::search::Hit)],
    query: Option<&paperbell::search::Expr>,
    json: bool,
) -> Result<()> {
    use std::io::IsTerminal;
    if json {
        let v = cli::search::json(store, found, query)?;
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else if found.is_empty() {
        eprintln!("No stored paper matches.");
    } else {
        let mark = if std::io::stdout().is_terminal() {
            ("\x1b[1m", "\x1b[0m")
        } else {
            ("**", "**")
        };
        out(&cli::search::text(found, query, mark));
    }
    Ok(())
}

pub(super) fn select_topics(set: &TopicSet, names: &[String]) -> Result<Vec<Topic>> {
    if names.is_empty() {
        return Ok(set.topics.clone());
    }
    names
        .iter()
        .map(|n| {
            set.resolve(n)
                .map_err(|e| Exit(2, format!("--topic {n}: {}", e.0)).into())
        })
        .collect()
}

//! `fetch`, `parse` and `paper`: papers from arXiv or files.

use super::papers::select_topics;
use super::*;

/// `paperbell parse`: prints what parsed; exit 2 beats exit 3 beats 0.
pub(super) fn parse_files(files: &[PathBuf]) -> ExitCode {
    let docs = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read(f)))
        .collect();
    let parsed = cli::parse::parse_documents(docs);
    for m in &parsed.messages {
        eprintln!("{m}");
    }
    match serde_json::to_string_pretty(&parsed.papers) {
        Ok(s) => outln!("{s}"),
        Err(e) => {
            eprintln!("cannot print JSON: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::from(parsed.exit_code)
}

pub(super) async fn fetch(
    config: &Config,
    topics: &[String],
    files: &[PathBuf],
    source: SourceArg,
    days: u32,
) -> Result<ExitCode> {
    let store = Arc::new(open_store(config)?);
    let set = topic_set(config)?;
    // Local files only: no network at all, enrichment included.
    let online = (files.is_empty() || !topics.is_empty()).then(|| {
        let source = match source {
            SourceArg::Feed => Source::Feed,
            SourceArg::Api => Source::Api { days },
        };
        select_topics(&set, topics).map(|t| (t, source))
    });
    let mut say = |s: cli::fetch::Said| match s {
        cli::fetch::Said::Out(line) => outln!("{line}"),
        cli::fetch::Said::Warning(w) => eprintln!("warning: {w}"),
        cli::fetch::Said::Error(e) => eprintln!("error: {e}"),
    };
    let failed = cli::fetch::fetch(
        config,
        store,
        &set,
        files,
        online.transpose()?,
        Clock::System,
        &mut say,
    )
    .await?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) async fn paper(
    config: &Config,
    id: &str,
    lang: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    let store = open_store(config)?;
    let topics = topic_set(config)?;
    let shown = match cli::paper::show(config, &store, &topics, id, lang, Clock::System).await {
        Ok(s) => s,
        Err(e @ (PaperError::NotAnId(_) | PaperError::Lang(_))) => {
            return Err(Exit(2, e.to_string()).into());
        }
        Err(e @ PaperError::NotOnArxiv(_)) => return Err(Exit(4, e.to_string()).into()),
        Err(e) => return Err(e.into()),
    };
    if let Some(w) = &shown.warning {
        eprintln!("warning: {w}");
    }
    if json {
        let v = digest::stored_json(&shown.paper, &shown.view);
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        out(&digest::render_paper(&shown.paper, &shown.view));
    }
    Ok(ExitCode::SUCCESS)
}

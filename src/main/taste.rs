//! `rate`, `import` and `for-you`: a chat's taste from the terminal.

use super::*;

/// `paperbell rate`.
pub(super) fn rate(
    config: &Config,
    id: &str,
    action: RateAction,
    chat: Option<&str>,
) -> Result<ExitCode> {
    let store = open_store(config)?;
    let chat = cli::taste::chat_key(chat).map_err(|e| Exit(2, e.to_string()))?;
    let change = match action {
        RateAction::Up => RatingChange::Up,
        RateAction::Down => RatingChange::Down,
        RateAction::Save => RatingChange::Save,
        RateAction::Clear => RatingChange::Clear,
    };
    let said = cli::taste::rate(&store, &chat, id, change, Utc::now().timestamp()).map_err(
        |e| match e {
            cli::taste::TasteCommandError::NotAnId(_) => Exit(2, e.to_string()).into(),
            e => anyhow::Error::from(e),
        },
    )?;
    out(&said);
    Ok(ExitCode::SUCCESS)
}

/// `paperbell for-you`.
pub(super) fn for_you(
    config: &Config,
    chat: Option<&str>,
    day: Option<chrono::NaiveDate>,
    n: usize,
    json: bool,
) -> Result<ExitCode> {
    let store = open_store(config)?;
    let set = topic_set(config)?;
    let chat = cli::taste::chat_key(chat).map_err(|e| Exit(2, e.to_string()))?;
    let Some(day) = day.map_or_else(|| store.latest_day(), |d| Ok(Some(d)))? else {
        eprintln!("No stored papers yet. Run `paperbell fetch` first.");
        return Ok(ExitCode::SUCCESS);
    };
    let cats = compose::for_you::chat_categories(&store, &set, &chat)?;
    let taste = store.taste(&chat)?;
    let list = compose::for_you::for_you(&store, taste.as_ref(), day, &cats, n.clamp(1, 10_000))?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&cli::taste::for_you_json(&store, &list)?)?
        );
    } else if list.is_empty() {
        eprintln!("No paper announced on {day} in the chat's categories.");
    } else {
        out(&cli::taste::for_you_text(&store, &list)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `paperbell import`: a library into a chat's taste, papers fetched from arXiv as needed.
pub(super) async fn import(
    config: &Config,
    file: &std::path::Path,
    chat: Option<&str>,
) -> Result<ExitCode> {
    let chat = cli::taste::chat_key(chat).map_err(|e| Exit(2, e.to_string()))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if size > paperbell::sources::library::MAX_BYTES as u64 {
        return Err(Exit(
            2,
            format!(
                "{}: {}",
                file.display(),
                paperbell::sources::library::LibraryError::TooLarge(size as usize)
            ),
        )
        .into());
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open_store(config)?;
    let topics = topic_set(config)?;
    let client = ArxivClient::new(&config.arxiv).map_err(|e| anyhow::anyhow!("{e}"))?;
    let done = paperbell::learn::import::import(
        &store,
        &topics,
        Some(&client),
        &chat,
        &bytes,
        Utc::now().timestamp(),
        paperbell::learn::import::MAX_TITLE_LOOKUPS,
    )
    .await
    .map_err(|e| match e {
        paperbell::learn::import::ImportError::Library(e) => {
            Exit(2, format!("{}: {e}; nothing was imported", file.display())).into()
        }
        e => anyhow::Error::from(e),
    })?;
    let learnt = paperbell::learn::retrain(&store, &chat)?;
    store.flush()?;
    out(&cli::taste::import_report(&done));
    if let Some(l) = learnt {
        outln!(
            "model of chat {chat}: learnt from {} liked and {} disliked paper(s)",
            l.liked,
            l.disliked
        );
    }
    Ok(ExitCode::SUCCESS)
}

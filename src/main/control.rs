//! `paperbell status`, `backup` and `restore`: the first two ask the running service through
//! its control socket and open the store themselves when none answers.

use super::*;
use paperbell::backup::{self, BackupError};
use paperbell::control::{Answer, Ask, client};

/// Asks the service running on the store in `config`, or `None` when none answers.
fn ask_service(config: &Config, ask: &Ask) -> Result<Option<String>> {
    let socket = paperbell::control::socket_path(&config.store.path);
    match client::ask(&socket, ask) {
        Ok(Answer::Done { text }) => Ok(Some(text)),
        Ok(Answer::Refused { error }) => Err(Exit(2, error).into()),
        Ok(Answer::Failed { error }) => Err(anyhow::anyhow!("the running paperbell: {error}")),
        Err(client::AskError::NotRunning(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The store, for a command that found no service to ask; a lock held by something that
/// does not answer is said plainly.
fn open_beside(config: &Config) -> Result<Store> {
    open_store(config).map_err(|e| {
        // A refusal (a newer or half-restored store) keeps its exit code and words.
        if e.downcast_ref::<Exit>().is_some() {
            return e;
        }
        anyhow::anyhow!(
            "{e:#}\n(another paperbell holds the store but does not answer on {}: is it an older version?)",
            paperbell::control::socket_path(&config.store.path).display()
        )
    })
}

pub(super) fn status(config: &Config) -> Result<ExitCode> {
    let text = match ask_service(config, &Ask::Status)? {
        Some(text) => text,
        None => delivery::status(&open_beside(config)?)?,
    };
    out(&text);
    Ok(ExitCode::SUCCESS)
}

fn backup_error(e: BackupError) -> anyhow::Error {
    if e.is_refusal() {
        Exit(2, e.to_string()).into()
    } else {
        e.into()
    }
}

pub(super) fn backup(config: &Config, file: Option<&std::path::Path>) -> Result<ExitCode> {
    // The service may run elsewhere (another working directory): it is given a whole path.
    let file = file.map(std::path::absolute).transpose()?;
    let text = match ask_service(config, &Ask::Backup { out: file.clone() })? {
        Some(text) => text,
        None => {
            let store = open_beside(config)?;
            let dir = config.backup.dir_for(&config.store.path);
            backup::take_to(
                &store,
                file.as_deref(),
                &dir,
                config.backup.keep,
                Utc::now(),
            )
            .map_err(backup_error)?
            .report()
        }
    };
    out(&text);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn restore(config: &Config, file: &std::path::Path) -> Result<ExitCode> {
    let restored =
        backup::restore(file, &config.store.path, config.store_cache_mb()).map_err(backup_error)?;
    out(&restored.report());
    Ok(ExitCode::SUCCESS)
}

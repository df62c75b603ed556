//! The service's own backups: one every `[backup] every_hours` into `[backup] dir`, the newest
//! `keep` kept, each logged and counted in `/metrics`; and what a backup asked for through the
//! control socket does, the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::{BackupError, PARTIAL, SUFFIX, Taken};
use crate::clock::Clock;
use crate::store::Store;

pub struct BackupJob {
    pub store: Arc<Store>,
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
    pub clock: Clock,
}

impl BackupJob {
    /// A backup every `every` (the first one `every` after start-up), until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.cancelled() => return,
            }
            let _ = backup_now(&self.store, &self.dir, None, self.keep, self.clock.now()).await;
        }
    }
}

/// Takes a backup on a blocking thread (to `out`, else a new file in `dir`, whose oldest
/// backups beyond `keep` then go; 0 keeps all), logs and counts it.
pub async fn backup_now(
    store: &Arc<Store>,
    dir: &Path,
    out: Option<PathBuf>,
    keep: usize,
    now: DateTime<Utc>,
) -> Result<Taken, BackupError> {
    let (store, dir2) = (store.clone(), dir.to_path_buf());
    let started = std::time::Instant::now();
    let taken = tokio::task::spawn_blocking(move || {
        super::take_to(&store, out.as_deref(), &dir2, keep, now)
    })
    .await
    .unwrap_or_else(|p| std::panic::resume_unwind(p.into_panic()));
    match &taken {
        Ok(t) => {
            tracing::info!(path = %t.path.display(), bytes = t.bytes, records = t.trailer.records, secs = started.elapsed().as_secs_f64(), writes_waited_secs = t.held.as_secs_f64(), "backup written");
            crate::metrics::backup(Some((now.timestamp(), t.bytes)));
        }
        Err(e) => {
            tracing::error!(error = %e, "backup failed");
            crate::metrics::backup(None);
        }
    }
    taken
}

/// Removes the oldest backups in `dir` beyond the newest `keep`, and what backups killed
/// mid-way left behind (a partial file, the store's copy they were reading). Only files named as paperbell names its backups are touched.
pub fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut backups = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("paperbell-") && name.ends_with(SUFFIX) {
            backups.push(name);
        } else if let Some(pid) = name
            .strip_prefix(".paperbell-")
            .and_then(|n| {
                n.rsplit_once(PARTIAL)
                    .or_else(|| n.rsplit_once("snapshot-"))
            })
            .map(|(_, pid)| pid)
            && pid != std::process::id().to_string()
            && !Path::new("/proc").join(pid).exists()
        {
            let path = e.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
    }
    if keep == 0 || backups.len() <= keep {
        return;
    }
    backups.sort();
    for old in &backups[..backups.len() - keep] {
        match std::fs::remove_file(dir.join(old)) {
            Ok(()) => tracing::info!(file = old, "old backup removed"),
            Err(e) => tracing::warn!(file = old, error = %e, "cannot remove an old backup"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_backups_and_only_touches_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "paperbell-20261201T000000Z.pbbackup",
            "paperbell-20261203T000000Z.pbbackup",
            "paperbell-20261202T000000Z.pbbackup",
            "paperbell-20261204T000000Z.pbbackup",
            "notes.txt",
            "other.pbbackup",
            // Left by a backup whose process is gone (no such pid).
            ".paperbell-20261130T000000Z.pbbackup.partial-4000000000",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        // And the copy of the store such a backup was reading.
        let copy = dir.path().join(".paperbell-snapshot-4000000000");
        std::fs::create_dir(&copy).unwrap();
        std::fs::write(copy.join("db"), b"x").unwrap();
        prune(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt",
                "other.pbbackup",
                "paperbell-20261203T000000Z.pbbackup",
                "paperbell-20261204T000000Z.pbbackup"
            ]
        );
    }
}

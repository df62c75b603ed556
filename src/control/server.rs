//! The service's side of the control socket: answers `status` and `backup` while `run` holds
//! the store, one connection at a time each on its own task.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::{Answer, Ask};
use crate::backup::schedule::backup_now;
use crate::clock::Clock;
use crate::store::Store;

/// Longest request line read (a path, a few words).
const MAX_LINE: u64 = 64 * 1024;

pub struct ControlServer {
    pub store: Arc<Store>,
    pub backup_dir: PathBuf,
    pub keep: usize,
    pub clock: Clock,
    listener: UnixListener,
    path: PathBuf,
}

impl ControlServer {
    /// Binds the socket at `path` (a socket left by a killed service is replaced: the store's
    /// lock, held by this process, says none other runs), readable and writable by the
    /// owner only.
    pub fn bind(
        path: &Path,
        store: Arc<Store>,
        backup_dir: PathBuf,
        keep: usize,
        clock: Clock,
    ) -> std::io::Result<ControlServer> {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(ControlServer {
            store,
            backup_dir,
            keep,
            clock,
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Answers until `shutdown`, then removes the socket.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = Arc::new(self);
        loop {
            let conn = tokio::select! {
                c = this.listener.accept() => c,
                _ = shutdown.cancelled() => break,
            };
            match conn {
                Ok((stream, _)) => {
                    let this = this.clone();
                    tokio::spawn(async move {
                        if let Err(e) = this.answer(stream).await {
                            tracing::warn!(error = %e, "control socket: a request failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
        let _ = std::fs::remove_file(&this.path);
    }

    async fn answer(&self, stream: UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut line = String::new();
        // A client that connects and says nothing is let go.
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            BufReader::new(read.take(MAX_LINE)).read_line(&mut line),
        )
        .await
        .map_err(|_| std::io::Error::other("no request within 10 s"))??;
        let answer = match serde_json::from_str::<Ask>(line.trim()) {
            Err(e) => Answer::Refused {
                error: format!("not a request this paperbell knows: {e}"),
            },
            Ok(ask) => self.handle(ask).await,
        };
        let mut out = serde_json::to_vec(&answer).map_err(std::io::Error::other)?;
        out.push(b'\n');
        write.write_all(&out).await?;
        write.shutdown().await
    }

    async fn handle(&self, ask: Ask) -> Answer {
        match ask {
            Ask::Status => {
                let store = self.store.clone();
                match tokio::task::spawn_blocking(move || crate::delivery::status(&store)).await {
                    Ok(Ok(text)) => Answer::Done { text },
                    Ok(Err(e)) => Answer::Failed {
                        error: e.to_string(),
                    },
                    Err(e) => Answer::Failed {
                        error: e.to_string(),
                    },
                }
            }
            Ask::Backup { out } => {
                if out.as_ref().is_some_and(|p| !p.is_absolute()) {
                    return Answer::Refused {
                        error: "the backup's path must be absolute".into(),
                    };
                }
                match backup_now(
                    &self.store,
                    &self.backup_dir,
                    out,
                    self.keep,
                    self.clock.now(),
                )
                .await
                {
                    Ok(t) => Answer::Done { text: t.report() },
                    Err(e) if e.is_refusal() => Answer::Refused {
                        error: e.to_string(),
                    },
                    Err(e) => Answer::Failed {
                        error: e.to_string(),
                    },
                }
            }
        }
    }
}

//! The command line's side of the control socket: asks a running service, or says that none
//! answers so the command opens the store itself.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use super::{Answer, Ask};

/// How long an answer may take: a backup of a large store takes a minute or so.
const PATIENCE: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// No service listens (no socket, or one left by a service that is gone).
    #[error("no running paperbell answers at {0}")]
    NotRunning(String),
    #[error("the running paperbell did not answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("the running paperbell answered what this one does not read: {0}")]
    Garbled(String),
}

/// Asks the service listening at `socket`.
pub fn ask(socket: &Path, ask: &Ask) -> Result<Answer, AskError> {
    let mut stream = match UnixStream::connect(socket) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(AskError::NotRunning(socket.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    stream.set_read_timeout(Some(PATIENCE))?;
    let mut line = serde_json::to_vec(ask).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    serde_json::from_str(answer.trim()).map_err(|e| AskError::Garbled(e.to_string()))
}

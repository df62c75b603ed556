//! The control socket: how `paperbell status` and `paperbell backup` reach a running service,
//! which holds the store's lock. A Unix socket in the data directory (mode 0600: whoever may
//! read the data may ask); one JSON line asked, one JSON line answered. `server` is the
//! service's side, `client` the command line's.

pub mod client;
pub mod server;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The socket's file name in the data directory.
pub const SOCKET: &str = "paperbell.sock";

/// The socket of the store in `data`.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join(SOCKET)
}

/// What the command line asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "snake_case")]
pub enum Ask {
    /// `paperbell status`'s text.
    Status,
    /// A backup now, to `out` (absolute) or into the service's backup directory.
    Backup { out: Option<PathBuf> },
}

/// What the service answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// Done: the text to print.
    Done { text: String },
    /// The request was refused (the operator can mend it: exit 2).
    Refused { error: String },
    /// It failed on the service's side.
    Failed { error: String },
}

//! Waiting on what a test started: a service process to stop, a state reached in the
//! background.

use std::time::{Duration, Instant};

/// Sends SIGTERM to a `paperbell run` child and waits for it to exit (panics after `limit`).
pub fn sigterm_and_wait(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(start.elapsed() < limit, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (10 s at most) for a state a service reaches in the background.
pub async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

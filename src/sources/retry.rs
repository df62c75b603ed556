//! An HTTP request under the one retry policy (`paperbell_chat::retry`): a transient failure
//! (no connection, a timeout, 408, 429, 5xx) is tried again after the server's `Retry-After`
//! (seconds or an HTTP date) or the backoff, until the policy's retries or budget are spent;
//! any other answer is returned at once. For the Hugging Face and LLM clients; the arXiv
//! client applies the same policy to its own, stricter idea of a failure (`fetch`).

use std::time::SystemTime;

use paperbell_chat::retry::{RetryPolicy, http_date, retry_after};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::clock::Clock;

/// Whether a status is worth asking again for.
pub fn transient_status(s: StatusCode) -> bool {
    s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::REQUEST_TIMEOUT || s.is_server_error()
}

/// Whether a request error is worth trying again (the server was not reached or did not
/// answer in time).
pub fn transient_error(e: &reqwest::Error) -> bool {
    e.is_timeout() || e.is_connect() || e.is_request()
}

/// The server's `Retry-After`. A date is read against the response's own `Date` (the
/// server's clock, as HTTP advises), else against `now`; with neither it is not read.
pub fn asked_wait(resp: &Response, now: Option<SystemTime>) -> Option<std::time::Duration> {
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    let served = header(reqwest::header::DATE).and_then(http_date);
    retry_after(header(reqwest::header::RETRY_AFTER)?, served.or(now))
}

/// Sends the request `make` builds, again after transient failures as `policy` allows. The
/// last answer (perhaps a 503 the retries did not outlast) or error is returned.
pub async fn send(
    policy: RetryPolicy,
    clock: &Clock,
    what: &str,
    make: impl Fn() -> RequestBuilder,
) -> Result<Response, reqwest::Error> {
    let mut tries = policy.start();
    loop {
        let (asked, why) = match make().send().await {
            Ok(resp) if !transient_status(resp.status()) => return Ok(resp),
            Ok(resp) => {
                let asked = asked_wait(&resp, Some(SystemTime::from(clock.now())));
                let status = resp.status();
                match tries.next(asked, rand::random()) {
                    Some(wait) => (wait, format!("HTTP {status}")),
                    None => return Ok(resp),
                }
            }
            Err(e) if transient_error(&e) => match tries.next(None, rand::random()) {
                Some(wait) => (wait, e.to_string()),
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        tracing::debug!(what, attempt = tries.attempts(), wait = ?asked, "{why}; retrying");
        tokio::time::sleep(asked).await;
    }
}

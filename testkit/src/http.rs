//! HTTP plumbing of the fakes: serving an axum router on an ephemeral 127.0.0.1 port, and a
//! minimal HTTP/1.1 POST over a TCP socket for delivering webhooks and interactions to the
//! service the way the platforms do (so the testkit needs no client library).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// POSTs `body` to an `http://` URL with `headers`; returns the status (0 when unreachable)
/// and the response body.
pub async fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let rest = url
        .strip_prefix("http://")
        .expect("the URL must be http:// in tests");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let Ok(mut sock) = tokio::net::TcpStream::connect(host).await else {
        return (0, String::new());
    };
    if sock.write_all(req.as_bytes()).await.is_err() || sock.write_all(body).await.is_err() {
        return (0, String::new());
    }
    let mut resp = Vec::new();
    let _ = sock.read_to_end(&mut resp).await;
    let resp = String::from_utf8_lossy(&resp);
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    )
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Serves `app` on 127.0.0.1 (an ephemeral port) until the returned sender is dropped or
/// fired; the handle ends when the server has stopped.
pub async fn serve(
    app: axum::Router,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .ok();
    });
    (addr, stop, handle)
}

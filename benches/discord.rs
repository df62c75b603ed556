//! Discord benchmark (a bench command, not criterion): the real `paperbell run` binary against
//! the fake Discord on 127.0.0.1, with a store of 20k papers, in both modes:
//! - gateway: INTERACTION_CREATE written to the WebSocket -> the interaction callback arriving
//!   at the fake's REST endpoint;
//! - HTTP interactions: a signed POST to `/discord/interactions` -> its response (a new TCP
//!   connection each time, as Discord's requests arrive).
//!
//! p50/p99 over sequential interactions, each from a different person (the flood limit is per
//! person). Target p99 < 20 ms. Run: `cargo bench --bench discord`.

mod support;

use std::time::{Duration, Instant};

use paperbell_testkit::discord::{self as dc, Ctx, FakeDiscord, MANAGER};
use serde_json::{Value, json};

const ROUND_TRIPS: usize = 2000;
const GUILD: u64 = 800_000_000_000_000_001;

fn commands() -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
    vec![
        (
            "recent",
            vec![("topic", json!("nerf")), ("count", json!(5))],
        ),
        ("paper", vec![("id", json!("2401.00007"))]),
        ("list", vec![]),
        ("search", vec![("query", json!("radiance fields"))]),
        ("subscribe", vec![("topic", json!("transformer"))]),
        ("unsubscribe", vec![("topic", json!("transformer"))]),
        ("help", vec![]),
    ]
}

fn service(fake: &FakeDiscord, data: &std::path::Path) -> std::process::Command {
    let mut c = support::service(data);
    c.env("PAPERBELL_DISCORD_TOKEN", dc::TOKEN)
        .env("PAPERBELL_DISCORD_API_URL", &fake.url)
        .env("PAPERBELL_DISCORD_GUILD_ID", GUILD.to_string());
    c
}

fn report(mode: &str, all: &mut [Duration], by_cmd: &mut [Vec<Duration>]) {
    all.sort();
    println!(
        "{mode}: round trip over {} interactions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        support::percentile(all, 0.5).as_secs_f64() * 1e3,
        support::percentile(all, 0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );
    for (k, v) in by_cmd.iter_mut().enumerate() {
        v.sort();
        println!(
            "  /{:<12} p50 {:>6.2} ms  p99 {:>6.2} ms",
            commands()[k].0,
            support::percentile(v, 0.5).as_secs_f64() * 1e3,
            support::percentile(v, 0.99).as_secs_f64() * 1e3
        );
    }
}

fn stop(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    println!("service exit: {}", child.wait().unwrap());
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    support::store_of_days(&data, 10);
    let fake = FakeDiscord::start().await;
    let cmds = commands();

    // Gateway mode.
    let mut child = service(&fake, &data).spawn().unwrap();
    let warm = fake
        .interact(dc::command("help", &[], &Ctx::guild(GUILD, 1, 1, MANAGER)))
        .await;
    fake.answer(&warm, 0).await;
    let mut all = Vec::new();
    let mut by_cmd = vec![Vec::new(); cmds.len()];
    for i in 0..ROUND_TRIPS {
        let k = i % cmds.len();
        let ctx = Ctx::guild(GUILD, 10_000 + i as u64, 100_000 + i as u64, MANAGER);
        let interaction = fake.new_interaction(dc::command(cmds[k].0, &cmds[k].1, &ctx));
        let token = interaction["token"].as_str().unwrap().to_string();
        let start = Instant::now();
        fake.dispatch("INTERACTION_CREATE", interaction).await;
        let a = fake.answer(&token, 0).await;
        let d = a.at.unwrap().saturating_duration_since(start);
        all.push(d);
        by_cmd[k].push(d);
    }
    report("gateway", &mut all, &mut by_cmd);
    println!(
        "memory: RSS {:.1} MB, peak {:.1} MB",
        support::status_kb(child.id(), "VmRSS:") as f64 / 1024.0,
        support::status_kb(child.id(), "VmHWM:") as f64 / 1024.0
    );
    stop(&mut child);

    // HTTP-interactions mode on the service's listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = service(&fake, &data)
        .env("PAPERBELL_DISCORD_MODE", "http")
        .env("PAPERBELL_DISCORD_PUBLIC_KEY", dc::public_key_hex())
        .env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/discord/interactions");
    let ping = fake.new_interaction(json!({"type": 1, "version": 1}));
    let t0 = Instant::now();
    while fake.post_interaction(&url, &ping, false).await.0 != 200 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "endpoint never came up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut all = Vec::new();
    let mut by_cmd = vec![Vec::new(); cmds.len()];
    for i in 0..ROUND_TRIPS {
        let k = i % cmds.len();
        let ctx = Ctx::guild(GUILD, 20_000 + i as u64, 200_000 + i as u64, MANAGER);
        let interaction = fake.new_interaction(dc::command(cmds[k].0, &cmds[k].1, &ctx));
        let start = Instant::now();
        let (status, _) = fake.post_interaction(&url, &interaction, false).await;
        let d = start.elapsed();
        assert_eq!(status, 200);
        all.push(d);
        by_cmd[k].push(d);
    }
    report("http", &mut all, &mut by_cmd);
    stop(&mut child);
    println!("requests the fake refused: {}", fake.rejected().len());
}

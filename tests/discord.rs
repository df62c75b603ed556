//! The Discord bot end to end: the real serenity client in `paperbell_discord::DiscordBot`
//! (gateway over a WebSocket, REST over HTTP), the core's command layer over a real sled store,
//! and the strict fake Discord on 127.0.0.1. Every message passes the fake's limits (content,
//! embeds, components, command definitions) or the test sees it in `rejected()`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use paperbell::commands::ChatCore;
use paperbell::store::Store;
use paperbell_chat::{
    Answer, Caller, ChatPlatform, ChatRef, Command, Handler, Lang, Platform, SendError, TopicItem,
};
use paperbell_discord::{DiscordBot, DiscordMode, DiscordSettings};
use paperbell_testkit::discord::{self as dc, Answered, Ctx, FakeDiscord, Fault, MANAGER, MEMBER};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const GUILD: u64 = 800_000_000_000_000_001;
const CHANNEL: u64 = 810_000_000_000_000_001;

struct Env {
    fake: FakeDiscord,
    store: Arc<Store>,
    bot: DiscordBot,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

fn core(store: &Arc<Store>) -> Arc<ChatCore> {
    chat_core(store, None, None)
}

/// The core over `store`, searching through `search`, asking `arxiv` for figures when given.
fn chat_core(
    store: &Arc<Store>,
    search: Option<Arc<paperbell::search::SearchIndex>>,
    arxiv: Option<Arc<paperbell::sources::fetch::ArxivClient>>,
) -> Arc<ChatCore> {
    Arc::new(ChatCore {
        store: store.clone(),
        topics: Arc::new(common::shipped_topics()),
        defaults: Default::default(),
        search,
        clock: paperbell::clock::Clock::System,
        figures: arxiv.is_some(),
        arxiv,
        learn: Default::default(),
    })
}

/// `core`, with the store's search index.
fn core_searching(store: &Arc<Store>, dir: &std::path::Path) -> Arc<ChatCore> {
    chat_core(store, Some(common::search_index(store, dir)), None)
}

fn store() -> (Arc<Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(common::stored_papers(dir.path()));
    (store, dir)
}

fn settings(fake: &FakeDiscord, mode: DiscordMode) -> DiscordSettings {
    DiscordSettings {
        token: dc::TOKEN.into(),
        api_url: fake.url.clone(),
        application_id: None,
        public_key: Some(dc::public_key_hex()),
        guild_id: Some(GUILD),
        mode,
    }
}

async fn start_with(mode: DiscordMode, handler: Option<Arc<dyn Handler>>) -> Env {
    let fake = FakeDiscord::start().await;
    let (store, dir) = store();
    let handler = handler.unwrap_or_else(|| core_searching(&store, dir.path()));
    let bot = DiscordBot::connect(settings(&fake, mode), handler)
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let (b, s) = (bot.clone(), stop.clone());
    let task = tokio::spawn(async move { b.run(s).await.unwrap() });
    Env {
        fake,
        store,
        bot,
        stop,
        task,
        _dir: dir,
    }
}

impl Env {
    /// A slash command over the gateway and its answer with `followups` follow-ups.
    async fn ask(
        &self,
        name: &str,
        options: &[(&str, Value)],
        ctx: &Ctx,
        followups: usize,
    ) -> Answered {
        let token = self.fake.interact(dc::command(name, options, ctx)).await;
        self.fake.answer(&token, followups).await
    }

    async fn press(&self, custom_id: &str, message: &Value, ctx: &Ctx) -> Answered {
        let token = self
            .fake
            .interact(dc::component(custom_id, message, ctx))
            .await;
        self.fake.answer(&token, 0).await
    }

    fn subs(&self, channel: u64) -> Vec<String> {
        common::topic_ids(&self.store, &dchat(channel))
    }

    fn active(&self, channel: u64) -> bool {
        self.store
            .chat(&dchat(channel))
            .unwrap()
            .is_none_or(|c| c.active)
    }

    async fn stop(self) -> FakeDiscord {
        common::stop_bot(self.stop, self.task).await;
        self.fake
    }
}

fn dchat(id: u64) -> ChatRef {
    ChatRef {
        platform: Platform::Discord,
        id: id.to_string(),
    }
}

fn button(message: &Value, prefix: &str) -> String {
    dc::buttons(message)
        .into_iter()
        .map(|(_, id)| id)
        .find(|id| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button under {message:#}"))
}

fn embed_titles(message: &Value) -> Vec<String> {
    message["embeds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["title"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_over_the_gateway() {
    let env = start_with(DiscordMode::Gateway, None).await;
    let fake = &env.fake;
    // Start-up: the catalogue's commands registered in the test guild, with Chinese descriptions and
    // Manage Channels as the default for the ones that change the channel.
    let cmds = fake.commands(Some(GUILD));
    assert_eq!(
        cmds.len(),
        paperbell_chat::catalogue::COMMANDS.len(),
        "{cmds:#?}"
    );
    let sub = cmds.iter().find(|c| c["name"] == "subscribe").unwrap();
    assert_eq!(sub["default_member_permissions"], "16");
    let spec = paperbell_chat::catalogue::COMMANDS
        .iter()
        .find(|c| c.name == "subscribe")
        .unwrap();
    assert_eq!(sub["description"], spec.en);
    assert_eq!(sub["description_localizations"]["zh-CN"], spec.zh);
    assert_eq!(sub["options"][0]["autocomplete"], true);
    let recent = cmds.iter().find(|c| c["name"] == "recent").unwrap();
    assert!(recent["default_member_permissions"].is_null());
    assert!(
        fake.commands(None).is_empty(),
        "guild_id set: nothing global"
    );

    let admin = Ctx::guild(GUILD, CHANNEL, 1001, MANAGER);
    let member = Ctx::guild(GUILD, CHANNEL, 1002, MEMBER);

    let help = env.ask("help", &[], &member, 0).await;
    assert_eq!(help.kind(), 4);
    assert!(help.content().contains("/subscribe"), "{}", help.content());
    assert!(!help.ephemeral());
    assert_eq!(fake.gateway_stats().0, 1, "one IDENTIFY");

    // A member without Manage Channels is refused, privately; nothing changes.
    let r = env
        .ask("subscribe", &[("topic", json!("nerf"))], &member, 0)
        .await;
    assert!(r.ephemeral());
    assert!(r.content().contains("Manage Channels"), "{}", r.content());
    assert!(env.subs(CHANNEL).is_empty());

    let r = env
        .ask("subscribe", &[("topic", json!("NeRF"))], &admin, 0)
        .await;
    assert!(
        r.content().starts_with("Subscribed to NeRF"),
        "{}",
        r.content()
    );
    let r = env
        .ask("subscribe", &[("topic", json!("nerff"))], &admin, 0)
        .await;
    assert!(r.ephemeral(), "a mistake the person can fix is private");
    assert!(r.content().contains("did you mean"), "{}", r.content());
    env.ask("subscribe", &[("topic", json!("cs.CV"))], &admin, 0)
        .await;
    assert_eq!(env.subs(CHANNEL), ["cs.CV", "nerf"]);

    // Autocomplete: this channel's subscriptions, configured topics, categories.
    let token = fake
        .interact(dc::autocomplete("recent", "topic", "ne", &member))
        .await;
    let ac = fake.answer(&token, 0).await;
    assert_eq!(ac.kind(), 8);
    let choices = ac.data()["choices"].as_array().unwrap().clone();
    assert_eq!(choices[0]["value"], "nerf", "{choices:#?}");
    assert!(choices[0]["name"].as_str().unwrap().starts_with('✓'));
    let token = fake
        .interact(dc::autocomplete("subscribe", "topic", "cs.r", &member))
        .await;
    let values: Vec<Value> = fake.answer(&token, 0).await.data()["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].clone())
        .collect();
    assert!(values.contains(&json!("cs.RO")), "{values:?}");

    // /recent with a More button that pages on, in a new message.
    let first = env
        .ask(
            "recent",
            &[("topic", json!("cs.CV")), ("count", json!(3))],
            &member,
            0,
        )
        .await;
    let page1 = first.data();
    assert_eq!(page1["embeds"].as_array().unwrap().len(), 3, "{page1:#}");
    let more = button(&page1, "r:");
    let second = env.press(&more, &page1, &member).await;
    assert_eq!(second.kind(), 4);
    let page2 = second.data();
    assert_eq!(page2["embeds"].as_array().unwrap().len(), 3);
    assert!(
        embed_titles(&page1)
            .iter()
            .all(|t| !embed_titles(&page2).contains(t)),
        "pages differ"
    );

    // /topics pages in place.
    let topics = env.ask("topics", &[], &member, 0).await.data();
    assert!(
        topics["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .contains("✓ **NeRF**")
    );
    // Seven topics fit on one page: no page buttons; a topic button subscribes.
    assert!(
        dc::buttons(&topics)
            .iter()
            .all(|(_, id)| !id.starts_with("t:"))
    );
    let pose = button(&topics, "s:pose");
    let r = env.press(&pose, &topics, &admin).await;
    assert!(
        r.content().starts_with("Subscribed to 6DoF"),
        "{}",
        r.content()
    );
    env.ask("unsubscribe", &[("topic", json!("pose"))], &admin, 0)
        .await;
    // A page turn (from an older, longer list) updates the message in place.
    let turned = env.press("t:0", &topics, &member).await;
    assert_eq!(turned.kind(), 7, "a page turn updates the message");
    let r = env.ask("list", &[], &member, 0).await;
    assert!(r.content().contains("NeRF (nerf)"), "{}", r.content());
    let r = env
        .ask("paper", &[("id", json!("2411.10504"))], &member, 0)
        .await;
    assert!(
        embed_titles(&r.data())[0].contains("Fast NeRF Distillation"),
        "{:#}",
        r.data()
    );
    let r = env
        .ask(
            "search",
            &[("query", json!("gaussian splatting"))],
            &member,
            0,
        )
        .await;
    assert!(!embed_titles(&r.data()).is_empty(), "{:#}", r.data());
    // Ranked through the index: where the words matched, in bold, in each embed.
    assert!(
        r.data()
            .to_string()
            .to_lowercase()
            .contains("**splatting**"),
        "{:#}",
        r.data()
    );

    // /digest: embeds, with an Unsubscribe button members cannot use and admins can.
    let token = fake.interact(dc::command("digest", &[], &member)).await;
    fake.answer(&token, 0).await;
    let has_unsub = |m: &Value| dc::buttons(m).iter().any(|(_, id)| id.starts_with("u:"));
    common::eventually("an Unsubscribe button under a digest", || {
        fake.answered(&token).messages().iter().any(has_unsub)
    })
    .await;
    let all = fake.answered(&token).messages();
    assert!(all.iter().any(|m| !embed_titles(m).is_empty()), "{all:#?}");
    let with_unsub = all.iter().find(|m| has_unsub(m)).unwrap().clone();
    // With no configuration: the overview line, extractive TL;DRs marked as such, code links.
    assert!(
        all[0]["content"]
            .as_str()
            .is_some_and(|c| c.contains(" with code · keywords: ")),
        "{:#}",
        all[0]
    );
    let descriptions: String = all
        .iter()
        .flat_map(|m| m["embeds"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["description"].as_str().map(str::to_string))
        .collect();
    assert!(
        descriptions.contains("TL;DR (from the abstract):"),
        "{descriptions}"
    );
    assert!(
        descriptions.contains("(https://github.com/example/project)"),
        "{descriptions}"
    );
    let unsub = button(&with_unsub, "u:");
    let r = env.press(&unsub, &with_unsub, &member).await;
    assert!(r.ephemeral() && r.content().contains("Manage Channels"));
    assert_eq!(env.subs(CHANNEL).len(), 2);
    let r = env.press(&unsub, &with_unsub, &admin).await;
    assert!(r.content().starts_with("Unsubscribed"), "{}", r.content());
    assert_eq!(env.subs(CHANNEL).len(), 1);
    // The same button again (a stale one): told, nothing breaks.
    let r = env.press(&unsub, &with_unsub, &admin).await;
    assert!(r.content().contains("not subscribed"), "{}", r.content());

    // Settings, several at once, and the language they set.
    let r = env
        .ask(
            "settings",
            &[("lang", json!("zh")), ("max", json!(3))],
            &admin,
            0,
        )
        .await;
    assert!(r.content().lines().count() >= 2, "{}", r.content());
    let r = env.ask("help", &[], &member, 0).await;
    assert!(r.content().contains("订阅"), "{}", r.content());
    let r = env
        .ask("settings", &[("lang", json!("en"))], &admin, 0)
        .await;
    assert!(!r.ephemeral(), "{}", r.content());

    // A DM with the bot is the person's own: no permission needed; the locale picks Chinese.
    let dm = Ctx::dm(820_000_000_000_000_001, 1003).locale("zh-CN");
    let r = env
        .ask("subscribe", &[("topic", json!("3dgs"))], &dm, 0)
        .await;
    assert!(r.content().starts_with("已订阅"), "{}", r.content());

    // The gateway stays alive: heartbeats are sent and acknowledged.
    common::eventually("a heartbeat", || fake.gateway_stats().1 >= 1).await;
    assert_eq!(fake.gateway_stats().0, 1, "no reconnects");
    let fake = env.stop().await;
    assert_eq!(fake.rejected(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_breaks_the_bot() {
    let env = start_with(DiscordMode::Gateway, None).await;
    let fake = &env.fake;
    let member = Ctx::guild(GUILD, CHANNEL + 1, 2001, MEMBER);
    let admin = Ctx::guild(GUILD, CHANNEL + 1, 2002, MANAGER);

    // A command paperbell does not have (an old registration): answered privately.
    let r = env.ask("frobnicate", &[], &member, 0).await;
    assert!(
        r.ephemeral() && r.content().contains("Unknown command"),
        "{}",
        r.content()
    );
    // Over-long option: refused, never cut.
    let r = env
        .ask("subscribe", &[("topic", json!("x".repeat(400)))], &admin, 0)
        .await;
    assert!(r.ephemeral(), "{}", r.content());
    assert!(env.subs(CHANNEL + 1).is_empty());
    // Missing option, out-of-range count.
    let r = env.ask("recent", &[], &member, 0).await;
    assert!(r.ephemeral(), "{}", r.content());
    let r = env
        .ask(
            "recent",
            &[("topic", json!("cs.CV")), ("count", json!(5000))],
            &member,
            0,
        )
        .await;
    assert!(r.kind() == 4, "{r:?}");
    // Unknown and forged button ids.
    let msg = json!({"content": "x"});
    for id in ["zzz", "k:999999", "r:x:1:nerf", "u:"] {
        let r = env.press(id, &msg, &member).await;
        assert!(
            r.ephemeral() && r.content().contains("expired"),
            "{id}: {r:?}"
        );
    }
    // Markdown and mentions in a topic are shown as written, pinging nobody.
    let r = env
        .ask(
            "recent",
            &[("topic", json!("\"@everyone **x**\""))],
            &member,
            0,
        )
        .await;
    assert!(!r.content().contains("@everyone") || r.content().contains("\\@everyone"));
    assert_eq!(r.data()["allowed_mentions"]["parse"], json!([]));

    // The flood limit: 20 at once, then one a second (deferred past 2.5 s), none refused.
    let flood = Ctx::guild(GUILD, CHANNEL + 1, 2003, MEMBER);
    let mut tokens = Vec::new();
    for _ in 0..23 {
        tokens.push(fake.interact(dc::command("list", &[], &flood)).await);
    }
    let mut warned = 0;
    for t in &tokens {
        let a = fake.answer(t, 0).await;
        if a.ephemeral() && a.content().contains("a lot of commands") {
            warned += 1;
        }
    }
    assert_eq!(warned, 0, "beyond the burst, each waits its turn");
    let deferred = tokens
        .iter()
        .filter(|t| fake.answered(t).kind() == 5)
        .count();
    assert!(
        deferred >= 1,
        "the 23rd waited 3 s: deferred, then edited in"
    );
    assert_eq!(fake.rejected(), vec![]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digests_go_out_as_embeds_and_failures_are_mapped() {
    let env = start_with(DiscordMode::Gateway, None).await;
    let fake = &env.fake;
    let ch = 830_000_000_000_000_001;

    // 40 long papers: one embed each, split over messages within every limit.
    env.bot
        .send(&dchat(ch), &common::sample_digest(40, false))
        .await
        .unwrap();
    let posted = fake.posted_to(ch);
    let embeds: usize = posted.iter().map(|p| p.embeds().len()).sum();
    assert_eq!(embeds, 40);
    assert!(
        posted.len() >= 4,
        "10 embeds and 6000 characters per message"
    );
    assert!(posted[0].content().contains("NeRF"));
    let last = posted.last().unwrap();
    assert!(last.content().contains("+5 more"), "{}", last.content());
    // Each message: a number button per paper it shows (the rating buttons); the last also
    // Unsubscribe.
    for p in &posted {
        let numbers = p
            .buttons()
            .iter()
            .filter(|(_, id)| id.starts_with("v:o:"))
            .count();
        assert_eq!(numbers, p.embeds().len(), "{:?}", p.buttons());
    }
    assert!(last.buttons().last().unwrap().0.starts_with("Unsubscribe"));
    assert!(posted[..posted.len() - 1].iter().all(|p| {
        !p.buttons()
            .iter()
            .any(|(l, _)| l.starts_with("Unsubscribe"))
    }));
    // Compact: list embeds.
    env.bot
        .send(&dchat(ch), &common::sample_digest(40, true))
        .await
        .unwrap();
    let compact: Vec<_> = fake.posted_to(ch).into_iter().skip(posted.len()).collect();
    assert!(compact.len() < posted.len());
    let lines: usize = compact
        .iter()
        .flat_map(|p| p.embeds())
        .map(|e| e["description"].as_str().unwrap().lines().count())
        .sum();
    assert_eq!(lines, 40);

    // 429: reported with its retry_after, and the channel is held back until then without
    // another request (Discord bans clients that keep hitting 429s).
    let ch2 = ch + 1;
    fake.fail_next(
        ch2,
        Fault::RateLimited {
            retry_after: 0.4,
            global: false,
        },
    );
    let e = env
        .bot
        .send(&dchat(ch2), &common::sample_digest(1, false))
        .await
        .unwrap_err();
    assert_eq!(e, SendError::RetryAfter(Duration::from_millis(400)));
    let calls = fake.calls().len();
    match env
        .bot
        .send(&dchat(ch2), &common::sample_digest(1, false))
        .await
    {
        Err(SendError::RetryAfter(d)) => assert!(d <= Duration::from_millis(400)),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.calls().len(), calls, "no request while held back");
    env.bot
        .send(&dchat(ch + 99), &common::sample_digest(1, false))
        .await
        .expect("other channels are not held back by a per-route 429");
    tokio::time::sleep(Duration::from_millis(450)).await;
    env.bot
        .send(&dchat(ch2), &common::sample_digest(1, false))
        .await
        .unwrap();

    // A global 429 holds back every channel.
    fake.fail_next(
        ch2,
        Fault::RateLimited {
            retry_after: 0.3,
            global: true,
        },
    );
    assert!(matches!(
        env.bot
            .send(&dchat(ch2), &common::sample_digest(1, false))
            .await,
        Err(SendError::GlobalRetryAfter(_))
    ));
    assert!(matches!(
        env.bot
            .send(&dchat(ch + 50), &common::sample_digest(1, false))
            .await,
        Err(SendError::RetryAfter(_))
    ));
    tokio::time::sleep(Duration::from_millis(350)).await;

    // 403 / 404: permanent; the channel is marked inactive and gets no more requests.
    for (i, fault) in [
        Fault::MissingAccess,
        Fault::MissingPermissions,
        Fault::UnknownChannel,
    ]
    .into_iter()
    .enumerate()
    {
        let c = ch + 10 + i as u64;
        env.store
            .subscribe(
                &dchat(c),
                &paperbell::model::chat::Subscription {
                    topic_id: "nerf".into(),
                    topic_name: "NeRF".into(),
                    query: None,
                    since: None,
                },
            )
            .unwrap();
        fake.fail_next(c, fault.clone());
        let e = env
            .bot
            .send(&dchat(c), &common::sample_digest(1, false))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Permanent(_)), "{fault:?}: {e:?}");
        assert!(!env.active(c), "{fault:?}: marked inactive");
        let before = fake.calls().len();
        let again = env
            .bot
            .send(&dchat(c), &common::sample_digest(1, false))
            .await;
        assert!(matches!(again, Err(SendError::Permanent(_))));
        assert_eq!(fake.calls().len(), before, "nothing more is sent to it");
    }
    // A command from such a channel brings it back.
    let back = Ctx::guild(GUILD, ch + 10, 3001, MEMBER);
    env.ask("list", &[], &back, 0).await;
    assert!(env.active(ch + 10));
    env.bot
        .send(&dchat(ch + 10), &common::sample_digest(1, false))
        .await
        .unwrap();

    // 5xx and a dropped connection: transient.
    fake.fail_next(ch + 20, Fault::ServerError);
    fake.fail_next(ch + 21, Fault::Drop);
    for c in [ch + 20, ch + 21] {
        let e = env
            .bot
            .send(&dchat(c), &common::sample_digest(1, false))
            .await
            .unwrap_err();
        assert!(matches!(e, SendError::Transient(_)), "{e:?}");
        assert!(!format!("{e:?}").contains(dc::TOKEN), "no token in errors");
        env.bot
            .send(&dchat(c), &common::sample_digest(1, false))
            .await
            .unwrap();
    }
    assert_eq!(fake.rejected(), vec![]);
    env.stop().await;
}

/// The core behind a delay, to make the bot defer its HTTP answer.
struct Slow(Arc<ChatCore>, Duration);

impl Handler for Slow {
    fn command(&self, caller: &Caller, cmd: Command) -> Answer {
        std::thread::sleep(self.1);
        self.0.command(caller, cmd)
    }
    fn lang(&self, caller: &Caller) -> Lang {
        self.0.lang(caller)
    }
    fn chat_gone(&self, chat: &ChatRef, why: &str) {
        self.0.chat_gone(chat, why)
    }
    fn chat_moved(&self, from: &ChatRef, to: &ChatRef) {
        self.0.chat_moved(from, to)
    }
    fn suggest_topics(&self, chat: &ChatRef, typed: &str) -> Vec<TopicItem> {
        self.0.suggest_topics(chat, typed)
    }
    fn rate(
        &self,
        caller: &Caller,
        paper: &str,
        rate: paperbell_chat::Rate,
        tap: &str,
    ) -> Result<paperbell_chat::Rated, paperbell_chat::NotRated> {
        std::thread::sleep(self.1);
        self.0.rate(caller, paper, rate, tap)
    }
    fn rated(&self, chat: &ChatRef, papers: &[String]) -> Vec<paperbell_chat::Rated> {
        self.0.rated(chat, papers)
    }
}

async fn serve(bot: &DiscordBot) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = bot.interactions_router().expect("HTTP mode has a router");
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    format!("http://{addr}{}", paperbell_discord::INTERACTIONS_PATH)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_interactions_are_verified_and_answered_in_time() {
    let fake = FakeDiscord::start().await;
    let (store, _dir) = store();
    let slow: Arc<dyn Handler> = Arc::new(Slow(core(&store), Duration::from_millis(3200)));
    let bot = DiscordBot::connect(settings(&fake, DiscordMode::Http), slow)
        .await
        .unwrap();
    assert!(
        DiscordBot::connect(
            DiscordSettings {
                public_key: None,
                ..settings(&fake, DiscordMode::Http)
            },
            core(&store)
        )
        .await
        .is_err(),
        "HTTP mode without the public key is refused"
    );
    // Global registration (no guild_id).
    let fast = DiscordBot::connect(
        DiscordSettings {
            guild_id: None,
            ..settings(&fake, DiscordMode::Http)
        },
        core(&store),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.commands(None).len(),
        paperbell_chat::catalogue::COMMANDS.len()
    );
    let url = serve(&fast).await;
    let admin = Ctx::guild(GUILD, CHANNEL, 4001, MANAGER);

    // PING, signed: PONG. Forged or unsigned: 401.
    let ping = fake.new_interaction(json!({"type": 1, "version": 1}));
    assert_eq!(
        fake.post_interaction(&url, &ping, false).await,
        (200, json!({"type": 1, "data": null}))
    );
    assert_eq!(dc::post_interaction(&url, &ping, true).await.0, 401);
    let (status, _) = paperbell_testkit::http::post(
        &url,
        &[("Content-Type", "application/json")],
        ping.to_string().as_bytes(),
    )
    .await;
    assert_eq!(status, 401);
    // A signed body that was changed in transit is refused too.
    let mut tampered = ping.clone();
    tampered["type"] = json!(2);
    assert_eq!(post_with_signature_of(&url, &ping, &tampered).await, 401);

    // A command, answered in the HTTP response.
    let sub = fake.new_interaction(dc::command(
        "subscribe",
        &[("topic", json!("nerf"))],
        &admin,
    ));
    let (status, body) = fake.post_interaction(&url, &sub, false).await;
    assert_eq!(status, 200);
    assert_eq!(body["type"], 4);
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Subscribed to NeRF")
    );
    assert_eq!(
        store.subscriptions(&dchat(CHANNEL)).unwrap()[0].topic_id,
        "nerf"
    );
    // Autocomplete in HTTP mode.
    let ac = fake.new_interaction(dc::autocomplete("recent", "topic", "", &admin));
    let (_, body) = fake.post_interaction(&url, &ac, false).await;
    assert_eq!(body["type"], 8);
    assert_eq!(body["data"]["choices"][0]["value"], "nerf");
    // A long answer: the first message in the response, the rest as follow-ups.
    let many = fake.new_interaction(dc::command("digest", &[], &admin));
    let (_, body) = fake.post_interaction(&url, &many, false).await;
    assert_eq!(body["type"], 4);

    // Work slower than Discord's 3 s: deferred at once, the answer edited in later.
    let slow_url = serve(&bot).await;
    let help = fake.new_interaction(dc::command("help", &[], &admin));
    let t0 = Instant::now();
    let (status, body) = fake.post_interaction(&slow_url, &help, false).await;
    let took = t0.elapsed();
    assert_eq!((status, body["type"].clone()), (200, json!(5)), "{body}");
    assert!(
        took < Duration::from_millis(3000),
        "answered within 3 s: {took:?}"
    );
    let token = help["token"].as_str().unwrap();
    let a = fake.answer(token, 0).await;
    assert!(a.content().contains("/subscribe"), "{a:?}");

    assert_eq!(fake.rejected(), vec![]);
}

/// Posts `body` with the signature made for `signed`: what a tampered request looks like.
async fn post_with_signature_of(url: &str, signed: &Value, body: &Value) -> u16 {
    // Reuse the real signer through a listener that captures its headers.
    let cap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cap_url = format!("http://{}/x", cap.local_addr().unwrap());
    let capture = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = cap.accept().await.unwrap();
        let mut buf = vec![0u8; 65536];
        let n = s.read(&mut buf).await.unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    dc::post_interaction(&cap_url, signed, false).await;
    let req = capture.await.unwrap();
    let header = |name: &str| {
        req.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .trim()
            .to_string()
    };
    let (sig, ts) = (
        header("X-Signature-Ed25519"),
        header("X-Signature-Timestamp"),
    );
    paperbell_testkit::http::post(
        url,
        &[
            ("Content-Type", "application/json"),
            ("X-Signature-Ed25519", &sig),
            ("X-Signature-Timestamp", &ts),
        ],
        body.to_string().as_bytes(),
    )
    .await
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_a_clear_error() {
    let fake = FakeDiscord::start().await;
    let (store, _dir) = store();
    let err = DiscordBot::connect(
        DiscordSettings {
            token: "MTA.wrong.token".into(),
            ..settings(&fake, DiscordMode::Gateway)
        },
        core(&store),
    )
    .await
    .err()
    .expect("a wrong token is refused");
    let text = err.to_string();
    assert!(text.contains("PAPERBELL_DISCORD_TOKEN"), "{text}");
    assert!(!text.contains("wrong"), "the token is not repeated: {text}");
}

/// `paperbell run` with the Discord token, on the fake, commands in the test guild.
fn paperbell(
    data: &std::path::Path,
    log: &std::path::Path,
    fake: &FakeDiscord,
) -> std::process::Command {
    let mut c = common::service(data, log);
    c.env("PAPERBELL_DISCORD_TOKEN", dc::TOKEN)
        .env("PAPERBELL_DISCORD_API_URL", &fake.url)
        .env("PAPERBELL_DISCORD_GUILD_ID", GUILD.to_string());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paperbell_run_serves_discord_by_gateway_then_by_http() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("paperbell.log");
    drop(common::stored_papers(&data));
    let mut child = paperbell(&data, &log, &fake).spawn().unwrap();
    let admin = Ctx::guild(GUILD, CHANNEL, 5001, MANAGER).locale("zh-CN");
    let token = fake
        .interact(dc::command(
            "subscribe",
            &[("topic", json!("nerf"))],
            &admin,
        ))
        .await;
    let r = fake.answer(&token, 0).await;
    assert!(r.content().starts_with("已订阅 NeRF"), "{}", r.content());
    let token = fake
        .interact(dc::command(
            "recent",
            &[("topic", json!("nerf")), ("count", json!(2))],
            &admin,
        ))
        .await;
    assert_eq!(
        fake.answer(&token, 0).await.data()["embeds"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}\n{output}");
    assert!(output.contains("Discord bot connected"), "{output}");
    assert!(
        !output.contains("== NeRF"),
        "no terminal digests with a platform"
    );
    let secret = dc::TOKEN.split('.').nth(2).unwrap();
    assert!(
        !output.contains(secret),
        "the token never appears in logs:\n{output}"
    );
    assert!(
        !output.contains("fakeInteractionToken"),
        "nor interaction tokens:\n{output}"
    );

    // HTTP interactions on the service's listener, same store.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = paperbell(&data, &log, &fake)
        .env("PAPERBELL_DISCORD_MODE", "http")
        .env("PAPERBELL_DISCORD_PUBLIC_KEY", dc::public_key_hex())
        .env("PAPERBELL_DISCORD_APPLICATION_ID", dc::APP_ID.to_string())
        .env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/discord/interactions");
    let list = fake.new_interaction(dc::command("list", &[], &admin));
    let t0 = Instant::now();
    let body = loop {
        let (status, body) = fake.post_interaction(&url, &list, false).await;
        if status == 200 {
            break body;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the endpoint never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("NeRF (nerf)"),
        "the subscription survived the restart: {body}"
    );
    assert_eq!(dc::post_interaction(&url, &list, true).await.0, 401);
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "{status:?}\n{output}");
    assert!(!output.contains(secret), "{output}");
    assert_eq!(fake.rejected(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn papers_are_rated_in_two_taps_by_each_member() {
    let env = start_with(DiscordMode::Gateway, None).await;
    let channel = 7_700;
    let (alice, bob) = (
        Ctx::guild(GUILD, channel, 501, 0),
        Ctx::guild(GUILD, channel, 502, 0),
    );
    let r = env
        .ask(
            "recent",
            &[("topic", json!("cs.CV")), ("count", json!(3))],
            &alice,
            0,
        )
        .await;
    let message = r.data();
    let titles = embed_titles(&message);
    assert!(titles[0].starts_with("1. "), "numbered: {titles:?}");
    let numbers: Vec<(String, String)> = dc::buttons(&message)
        .into_iter()
        .filter(|(_, id)| id.starts_with("v:o:"))
        .collect();
    assert_eq!(
        numbers.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    let paper = numbers[2].1.trim_start_matches("v:o:").to_string();
    // First tap: the rating row, as an update of the message's buttons.
    let opened = env.press(&numbers[2].1, &message, &alice).await;
    assert_eq!(opened.kind(), 7, "the message's buttons are updated");
    let mut with_row = message.clone();
    with_row["components"] = opened.data()["components"].clone();
    let row = dc::buttons(&with_row);
    assert!(row.iter().any(|(l, _)| l == "3: 👍"), "{row:?}");
    // Second tap by two members: both count; the number shows the tally.
    let up = format!("v:u:{paper}");
    let a = env.press(&up, &with_row, &alice).await;
    let b = env.press(&up, &with_row, &bob).await;
    assert_eq!((a.kind(), b.kind()), (7, 7));
    let mut after = message.clone();
    after["components"] = b.data()["components"].clone();
    let labels: Vec<String> = dc::buttons(&after).into_iter().map(|(l, _)| l).collect();
    assert!(labels.contains(&"3 👍2".to_string()), "{labels:?}");
    assert!(!labels.iter().any(|l| l.contains(": 👍")), "{labels:?}");
    let tally = env
        .store
        .tally(&format!("discord:{channel}"), &paper)
        .unwrap();
    assert_eq!(tally.up, 2);
    assert!(
        !a.ephemeral() && a.followups.is_empty(),
        "no message per tap"
    );
    assert_eq!(env.fake.rejected(), vec![]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_come_as_attachments_and_saved_papers_leave_as_a_bibtex_file() {
    let env = start_with(DiscordMode::Gateway, None).await;
    let fake = &env.fake;
    let channel = 7_800;
    let admin = Ctx::guild(GUILD, channel, 601, MANAGER);
    let chat = format!("discord:{channel}");
    // A library attached to /import (with a typed id beside it).
    let bib = format!(
        "@article{{a, title={{A}}, eprint={{{}}}}}\n@book{{c, title={{Never on arXiv}}}}\n",
        common::id_of(7)
    );
    let file = fake.attachment("library.bib", bib.as_bytes());
    let token = fake
        .interact(dc::command_with_file(
            "import",
            &[("ids", json!(common::id_of(3)))],
            "file",
            &file,
            &admin,
        ))
        .await;
    let r = fake.answer(&token, 0).await;
    assert!(
        r.content().starts_with(
            "Found 3 · matched to arXiv papers 2 (0 fetched from arXiv) · not matched 1"
        ),
        "{}",
        r.content()
    );
    assert_eq!(env.store.chat_ratings(&chat).unwrap().len(), 2);
    // A broken attachment: refused, privately, nothing recorded.
    let file = fake.attachment("broken.bib", b"@article{x, title={unclosed\n");
    let token = fake
        .interact(dc::command_with_file("import", &[], "file", &file, &admin))
        .await;
    let r = fake.answer(&token, 0).await;
    assert!(
        r.ephemeral() && r.content().contains("Nothing was imported"),
        "{r:?}"
    );
    assert_eq!(env.store.chat_ratings(&chat).unwrap().len(), 2);
    // A member without Manage Channels may not import: refused, privately.
    let member = Ctx::guild(GUILD, channel, 602, 0);
    let file = fake.attachment("library.bib", bib.as_bytes());
    let token = fake
        .interact(dc::command_with_file("import", &[], "file", &file, &member))
        .await;
    assert!(fake.answer(&token, 0).await.ephemeral());
    // Saved papers: the caption answers, the file follows.
    env.store
        .rate(
            &chat,
            &common::id_of(7),
            "601",
            paperbell::model::rating::RatingChange::Save,
            1,
            false,
        )
        .unwrap();
    let r = env.ask("saved", &[("as", json!("bib"))], &admin, 1).await;
    assert!(r.content().starts_with("Saved here (1)"), "{}", r.content());
    let uploaded = r.followups[0]["uploaded"].as_array().unwrap().clone();
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0]["filename"], "paperbell-saved.bib");
    let content = uploaded[0]["content"].as_str().unwrap();
    let back = paperbell::sources::library::parse_library(content.as_bytes()).unwrap();
    assert_eq!(
        back[0].id.as_ref().map(ToString::to_string),
        Some(common::id_of(7))
    );
    assert_eq!(fake.rejected(), vec![]);
}

/// Waits until the message a deferred button answer edits has arrived.
async fn edited(fake: &FakeDiscord, token: &str) -> Value {
    let t0 = Instant::now();
    loop {
        if let Some(e) = fake.answered(token).edited {
            return e;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "never edited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_answers_are_deferred_over_the_gateway_and_rating_buttons_still_change() {
    let (store, dir) = store();
    let slow: Arc<dyn Handler> = Arc::new(Slow(
        core_searching(&store, dir.path()),
        Duration::from_millis(3200),
    ));
    let env = start_with(DiscordMode::Gateway, Some(slow)).await;
    let fake = &env.fake;
    let ctx = Ctx::guild(GUILD, 7_900, 701, 0);
    // A command slower than 3 s: "thinking…" at once, the answer edited in.
    let token = fake
        .interact(dc::command(
            "recent",
            &[("topic", json!("cs.CV")), ("count", json!(2))],
            &ctx,
        ))
        .await;
    let r = fake.answer(&token, 0).await;
    assert_eq!(r.kind(), 5, "deferred: {r:?}");
    let list = r.edited.clone().expect("the answer edited in");
    let number = dc::buttons(&list)
        .into_iter()
        .find(|(_, id)| id.starts_with("v:o:"))
        .unwrap();
    let paper = number.1.trim_start_matches("v:o:").to_string();
    // A rating slower than 3 s: acknowledged at once, the buttons edited in, tally shown.
    let token = fake
        .interact(dc::component(&format!("v:u:{paper}"), &list, &ctx))
        .await;
    let buttons = edited(fake, &token).await;
    assert_eq!(fake.answered(&token).kind(), 6, "a deferred update");
    let labels: Vec<String> = dc::buttons(&buttons).into_iter().map(|(l, _)| l).collect();
    assert!(labels.iter().any(|l| l.contains("👍1")), "{labels:?}");
    assert_eq!(
        store
            .tally(&format!("discord:{}", 7_900), &paper)
            .unwrap()
            .up,
        1
    );
    assert_eq!(fake.rejected(), vec![]);
}

/// `/paper` asks arXiv's HTML edition for the figure and shows it as its embed's image, under
/// a title and TL;DR whose TeX reads as math (`\textbf` as bold).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_embeds_carry_the_figure_and_math_reads_as_math() {
    let arxiv = common::FakeArxiv::start().await;
    arxiv.html_page(
        &format!("{}v1", common::MATH_PAPER),
        &common::html_fixture("1706.03762.html"),
    );
    let (store, dir) = store();
    common::ingest_math_paper(&store, chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap());
    let client =
        paperbell::sources::fetch::ArxivClient::new(&common::arxiv_config(&arxiv)).unwrap();
    let handler = chat_core(&store, None, Some(Arc::new(client)));
    let env = start_with(DiscordMode::Gateway, Some(handler)).await;
    let member = Ctx::guild(GUILD, 9_100, 700, 0);
    let r = env
        .ask("paper", &[("id", json!(common::MATH_PAPER))], &member, 0)
        .await;
    let embed = &r.data()["embeds"][0];
    assert_eq!(
        embed["title"].as_str().unwrap(),
        format!("1. {}", common::MATH_TITLE_READ),
        "{embed:#}"
    );
    let description = embed["description"].as_str().unwrap();
    assert!(description.contains("**few**"), "{description}");
    assert!(description.contains("𝒩(0, σ²)"), "{description}");
    assert!(!description.contains('$'), "{description}");
    // ar5iv's absolute path, resolved against the page's address.
    assert_eq!(
        embed["image"]["url"],
        format!(
            "http://{}/html/1706.03762/assets/Figures/ModalNet-21.png",
            arxiv.addr
        ),
        "{embed:#}"
    );
    assert!(
        description.contains("[HTML](https://arxiv.org/html/2501.00001v1)"),
        "{description}"
    );
    drop(dir);
    env.stop().await;
}

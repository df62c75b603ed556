//! The Telegram bot end to end: the real teloxide client in `paperbell_telegram::TelegramBot`,
//! the core's command layer over a real sled store, and the strict fake Bot API over HTTP on
//! 127.0.0.1 (long polling, webhook, faults). Every reply passes the fake's checks (HTML,
//! 4096 UTF-16 units, button data) or the test sees it in `rejected()`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use paperbell::commands::ChatCore;
use paperbell::store::Store;
use paperbell_chat::{ChatPlatform, ChatRef, Platform, SendError};
use paperbell_telegram::bot::WebhookSettings;
use paperbell_telegram::{TelegramBot, TelegramSettings};
use paperbell_testkit::telegram::{self as tg, FakeTelegram, Fault, Sent};
use serde_json::json;
use tokio_util::sync::CancellationToken;

struct Env {
    fake: FakeTelegram,
    store: Arc<Store>,
    bot: TelegramBot,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn start_with(webhook: Option<WebhookSettings>) -> Env {
    start_full(webhook, None).await
}

/// The bot, with `/import` asking `arxiv` (a fake's client) when given.
async fn start_full(
    webhook: Option<WebhookSettings>,
    arxiv: Option<Arc<paperbell::sources::fetch::ArxivClient>>,
) -> Env {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(common::stored_papers(dir.path()));
    let topics = common::shipped_topics();
    let core = Arc::new(ChatCore {
        store: store.clone(),
        topics: Arc::new(topics),
        defaults: Default::default(),
        search: Some(common::search_index(&store, dir.path())),
        clock: paperbell::clock::Clock::System,
        learn: Default::default(),
        figures: arxiv.is_some(),
        arxiv,
    });
    let bot = TelegramBot::connect(
        TelegramSettings {
            token: tg::TOKEN.into(),
            api_url: fake.url.clone(),
            webhook,
        },
        core,
    )
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

async fn start() -> Env {
    start_with(None).await
}

impl Env {
    /// A private-chat command and its `n` replies.
    async fn ask(&self, user: i64, text: &str, n: usize) -> Vec<Sent> {
        self.fake.private_text(user, text, Some("en")).await;
        self.fake.take(user, n).await
    }

    fn subs(&self, chat: i64) -> Vec<String> {
        common::topic_ids(&self.store, &tchat(chat))
    }

    fn active(&self, chat: i64) -> bool {
        self.store.chat(&tchat(chat)).unwrap().unwrap().active
    }

    async fn stop(self) -> FakeTelegram {
        common::stop_bot(self.stop, self.task).await;
        self.fake
    }
}

fn tchat(id: i64) -> ChatRef {
    ChatRef {
        platform: Platform::Telegram,
        id: id.to_string(),
    }
}

fn button(s: &Sent, prefix: &str) -> String {
    s.buttons()
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button under {:?}", s.visible))
}

/// Nothing is answered within `ms` (for updates the bot must ignore).
async fn quiet(fake: &FakeTelegram, chat: i64, ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    assert!(
        fake.untaken(chat).is_empty(),
        "unexpected reply: {:?}",
        fake.untaken(chat)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_chat_every_command() {
    let env = start().await;
    let fake = &env.fake;
    // Start-up: the menu in English (default) and Chinese, polling without a webhook.
    let menus = fake.calls("setMyCommands");
    assert_eq!(menus.len(), 2);
    assert!(menus.iter().any(|m| m["language_code"] == "zh"));
    assert!(menus[0]["commands"].as_array().unwrap().len() >= 9);
    fake.wait_calls("deleteWebhook", 1).await;

    let me = 501;
    let help = &env.ask(me, "/start", 1).await[0];
    assert!(
        help.visible.contains("/subscribe <topic>"),
        "{}",
        help.visible
    );
    assert_eq!(help.parse_mode.as_deref(), Some("HTML"));
    assert!(help.previews_disabled);

    let r = &env.ask(me, "/subscribe NeRF", 1).await[0];
    assert!(r.visible.starts_with("Subscribed to NeRF"), "{}", r.visible);
    let r = &env.ask(me, "/subscribe nerf", 1).await[0];
    assert!(r.visible.contains("already subscribed"), "{}", r.visible);
    let r = &env.ask(me, "/subscribe nerff", 1).await[0];
    assert!(r.visible.contains("did you mean `nerf`"), "{}", r.visible);
    let r = &env.ask(me, "/subscribe cs.CV", 1).await[0];
    assert!(
        r.visible.starts_with("Subscribed to cs.CV"),
        "{}",
        r.visible
    );
    assert_eq!(env.subs(me), ["cs.CV", "nerf"]);

    let r = &env.ask(me, "/list", 1).await[0];
    assert!(
        r.visible.contains("NeRF (nerf)") && r.visible.contains("tz UTC"),
        "{}",
        r.visible
    );

    // /recent with a More button that pages on.
    let first = &env.ask(me, "/recent cs.CV 3", 1).await[0];
    assert_eq!(
        first.visible.matches("arXiv:").count(),
        3,
        "{}",
        first.visible
    );
    let more = button(first, "r:");
    fake.press(me, me, first.message_id, &more).await;
    let second = &fake.take(me, 1).await[0];
    assert_eq!(second.visible.matches("arXiv:").count(), 3);
    let ids = |s: &Sent| -> Vec<String> {
        s.visible
            .match_indices("arXiv:")
            .map(|(i, _)| s.visible[i..i + 16].to_string())
            .collect()
    };
    assert!(
        ids(first).iter().all(|a| !ids(second).contains(a)),
        "pages differ"
    );
    assert_eq!(fake.calls("answerCallbackQuery").len(), 1);

    let r = &env
        .ask(me, "/paper https://arxiv.org/abs/2411.10504v1", 1)
        .await[0];
    assert!(
        r.visible
            .contains("Fast NeRF Distillation with Gaussian Splatting"),
        "{}",
        r.visible
    );
    assert!(
        r.text
            .contains("href=\"https://github.com/fast/nerf-distill\""),
        "{}",
        r.text
    );
    let r = &env.ask(me, "/paper 2301.99999", 1).await[0];
    assert!(
        r.visible.contains("not in this bot's store"),
        "{}",
        r.visible
    );
    let r = &env.ask(me, "/search gaussian splatting", 1).await[0];
    assert!(r.visible.contains("Gaussian Splatting"), "{}", r.visible);
    // Ranked through the index, each with where the words matched in its abstract, in bold.
    assert!(
        r.visible.starts_with("Best matches for") && r.visible.contains("🔎 …"),
        "{}",
        r.visible
    );
    assert!(
        r.text.to_lowercase().contains("<b>splatting</b>"),
        "{}",
        r.text
    );
    let like = &env.ask(me, "/similar 2411.10504", 1).await[0];
    assert!(
        like.visible.starts_with("Papers like arXiv:2411.10504")
            && like.visible.contains("arXiv:2401.")
            && !like.visible.contains("arXiv:2411.10504 ·"),
        "papers like it, itself left out: {}",
        like.visible
    );

    // /digest shows a paper once, under the first topic, naming all: every NeRF paper here is
    // in cs.CV too, so with both there is one message.
    let d = &env.ask(me, "/digest", 1).await[0];
    assert!(
        d.visible.starts_with("cs.CV · 2024-11-19") && d.visible.contains("↳ cs.CV, NeRF"),
        "{}",
        d.visible
    );
    let r = &env.ask(me, "/unsubscribe cs.cv", 1).await[0];
    assert!(
        r.visible.starts_with("Unsubscribed from cs.CV"),
        "{}",
        r.visible
    );
    let nerf = &env.ask(me, "/digest", 1).await[0];
    assert!(
        nerf.visible.starts_with("NeRF · 2024-11-19"),
        "{}",
        nerf.visible
    );
    // With no configuration: the overview line, extractive TL;DRs marked as such, code links.
    let header = nerf.visible.lines().nth(1).unwrap_or("");
    assert!(
        header.contains(" papers · ") && header.contains(" with code · keywords: "),
        "{}",
        nerf.visible
    );
    assert!(nerf.visible.contains("TL;DR (from the abstract): "));
    assert!(
        nerf.text
            .contains("href=\"https://github.com/example/project\"")
    );
    assert_eq!(button(nerf, "u:"), "u:nerf");
    fake.press(me, me, nerf.message_id, "u:nerf").await;
    let r = &fake.take(me, 1).await[0];
    assert!(
        r.visible.starts_with("Unsubscribed from NeRF"),
        "{}",
        r.visible
    );
    assert!(env.subs(me).is_empty());

    // Settings, and the language following them (another person: one person's burst of
    // commands is limited).
    let me = 502;
    env.ask(me, "/subscribe cs.CV", 1).await;
    let r = &env.ask(me, "/settings tz Asia/Shanghai", 1).await[0];
    assert!(r.visible.contains("tz Asia/Shanghai"), "{}", r.visible);
    let r = &env.ask(me, "/settings time 25:00", 1).await[0];
    assert!(r.visible.contains("HH:MM"), "{}", r.visible);
    let r = &env.ask(me, "/settings format compact", 1).await[0];
    assert!(r.visible.contains("format compact"), "{}", r.visible);
    let r = &env.ask(me, "/settings lang zh", 1).await[0];
    assert!(r.visible.contains("已保存"), "{}", r.visible);
    let r = &env.ask(me, "/settings", 1).await[0];
    assert!(
        r.visible.contains("设置") && r.visible.contains("time 08:00"),
        "{}",
        r.visible
    );
    // Compact digests: titles and links, no TL;DR.
    let r = &env.ask(me, "/digest", 1).await[0];
    assert!(
        r.visible.starts_with("cs.CV · ") && r.visible.contains("\n\n1. "),
        "{}",
        r.visible
    );
    assert!(button(r, "u:").starts_with("u:cs.CV"));
    assert!(r.buttons().last().unwrap().0.contains("取消订阅"));

    // /topics: a keyboard; turning the page edits the message; tapping a topic subscribes.
    let list = &env.ask(me, "/topics", 1).await[0];
    let topics: Vec<String> = list
        .buttons()
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d.starts_with("s:"))
        .collect();
    assert!(topics.len() >= 7, "{topics:?}");
    // Turning a page edits the list in place (the shipped seven topics fit on one page, so
    // this turns to the same page).
    fake.press(me, me, list.message_id, "t:0").await;
    let edits = fake.wait_calls("editMessageText", 1).await;
    assert_eq!(edits[0]["message_id"], list.message_id);
    assert!(edits[0]["text"].as_str().unwrap().contains("(1/1)"));
    assert!(fake.sent_to(me).last().unwrap().edited);
    fake.press(me, me, list.message_id, &topics[0]).await;
    let r = &fake.take(me, 1).await[0];
    assert!(r.visible.starts_with("已订阅"), "{}", r.visible);
    assert!(env.subs(me).contains(&topics[0][2..].to_string()));

    let r = &env.ask(me, "/frobnicate", 1).await[0];
    assert!(
        r.visible.contains("/frobnicate") && r.visible.contains("/help"),
        "{}",
        r.visible
    );

    let fake = env.stop().await;
    assert_eq!(fake.rejected(), vec![], "the fake refused nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_need_an_admin_to_change_anything() {
    let env = start().await;
    let fake = &env.fake;
    let (group, admin, member) = (-100_200, 7001, 7002);
    fake.register_chat(tg::group_chat(group, true));
    fake.set_member(group, admin, "administrator");

    fake.group_text(group, true, member, "/subscribe nerf")
        .await;
    let r = &fake.take(group, 1).await[0];
    assert!(
        r.visible.contains("Only chat administrators"),
        "{}",
        r.visible
    );
    assert!(env.store.subscriptions(&tchat(group)).unwrap().is_empty());

    // Everyone may query.
    fake.group_text(group, true, member, "/recent nerf 2").await;
    assert_eq!(
        fake.take(group, 1).await[0]
            .visible
            .matches("arXiv:")
            .count(),
        2
    );

    // Another bot's command is not ours; an unknown bare command in a group stays unanswered.
    fake.group_text(group, true, admin, "/subscribe@other_bot nerf")
        .await;
    fake.group_text(group, true, admin, "/weather").await;
    quiet(fake, group, 400).await;

    fake.group_text(
        group,
        true,
        admin,
        &format!("/subscribe@{} nerf", tg::BOT_USERNAME),
    )
    .await;
    assert!(
        fake.take(group, 1).await[0]
            .visible
            .starts_with("Subscribed to NeRF")
    );
    assert_eq!(env.subs(group), ["nerf"]);
    let calls = fake.calls("getChatMember");
    assert!(calls.iter().any(|c| c["user_id"] == admin));

    // A member's tap on Unsubscribe is refused too; an admin's works.
    fake.press(group, member, 1, "u:nerf").await;
    assert!(
        fake.take(group, 1).await[0]
            .visible
            .contains("Only chat administrators")
    );
    assert_eq!(env.subs(group), ["nerf"]);
    fake.press(group, admin, 1, "u:nerf").await;
    assert!(
        fake.take(group, 1).await[0]
            .visible
            .starts_with("Unsubscribed")
    );

    // Anonymous administrators post as the group itself.
    let chat = tg::group_chat(group, true);
    let mut m = tg::text_message(
        900,
        &chat,
        Some(json!({"id": 1087968824, "is_bot": true, "first_name": "Group"})),
        "/subscribe llm",
    );
    m["sender_chat"] = chat.clone();
    fake.push(json!({ "message": m })).await;
    assert!(
        fake.take(group, 1).await[0]
            .visible
            .starts_with("Subscribed to")
    );
    assert_eq!(env.subs(group), ["llm"]);

    let fake = env.stop().await;
    assert_eq!(fake.rejected(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_subscribe_by_post_and_get_their_digest() {
    let env = start().await;
    let fake = &env.fake;
    let channel = -100_300;
    fake.channel_post(channel, "/subscribe cs.CV").await;
    assert!(
        fake.take(channel, 1).await[0]
            .visible
            .starts_with("Subscribed to cs.CV")
    );
    fake.channel_post(channel, "/digest").await;
    let d = &fake.take(channel, 1).await[0];
    assert!(
        d.visible.starts_with("cs.CV · 2024-11-19"),
        "the newest day: {}",
        d.visible
    );
    // A reader tapping Unsubscribe under a channel post is not an administrator.
    fake.press(channel, 4242, d.message_id, "u:cs.CV").await;
    assert!(
        fake.take(channel, 1).await[0]
            .visible
            .contains("Only chat administrators")
    );
    assert_eq!(env.subs(channel), ["cs.CV"]);
    // Removing the bot from the channel marks it inactive; subscriptions stay.
    fake.bot_status(fake.chat(channel).unwrap(), "left").await;
    common::eventually("not marked inactive", || !env.active(channel)).await;
    assert_eq!(env.subs(channel), ["cs.CV"]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_chats_are_deactivated_and_migrated_groups_move() {
    let env = start().await;
    let fake = &env.fake;

    // A person who blocked the bot: the 403 marks the chat inactive, subscriptions kept.
    let me = 601;
    env.ask(me, "/subscribe nerf", 1).await;
    fake.fail_next(me, Fault::Blocked);
    fake.private_text(me, "/list", None).await;
    common::eventually("not marked inactive", || !env.active(me)).await;
    assert_eq!(env.subs(me), ["nerf"]);
    // Any new command brings it back.
    env.ask(me, "/list", 1).await;
    assert!(env.active(me));
    // Blocking shows up as my_chat_member too.
    fake.bot_status(fake.chat(me).unwrap(), "kicked").await;
    common::eventually("not marked inactive", || !env.active(me)).await;

    // A group that became a supergroup: the reply follows it, and so does everything else.
    let (group, admin, supergroup) = (-4001, 7101, -100_4001);
    fake.register_chat(tg::group_chat(group, false));
    fake.register_chat(tg::group_chat(supergroup, true));
    fake.set_member(group, admin, "creator");
    fake.group_text(group, false, admin, "/subscribe nerf")
        .await;
    fake.take(group, 1).await;
    fake.group_text(group, false, admin, "/settings tz Europe/Berlin")
        .await;
    fake.take(group, 1).await;
    fake.fail_next(group, Fault::Migrate(supergroup));
    fake.group_text(group, false, admin, "/list").await;
    let r = &fake.take(supergroup, 1).await[0];
    assert!(
        r.visible.contains("NeRF") && r.visible.contains("Europe/Berlin"),
        "{}",
        r.visible
    );
    assert_eq!(env.subs(supergroup), ["nerf"]);
    assert!(env.subs(group).is_empty());
    assert!(env.store.chat(&tchat(group)).unwrap().is_none());

    // The service message in the old group moves a chat too.
    let (old, new) = (-4002, -100_4002);
    fake.register_chat(tg::group_chat(old, false));
    fake.set_member(old, admin, "creator");
    fake.group_text(old, false, admin, "/subscribe llm").await;
    fake.take(old, 1).await;
    let mut m = tg::text_message(
        77,
        &tg::group_chat(old, false),
        Some(tg::user(admin, None)),
        "",
    );
    m.as_object_mut().unwrap().remove("text");
    m["migrate_to_chat_id"] = json!(new);
    fake.push(json!({ "message": m })).await;
    common::eventually("not migrated", || !env.subs(new).is_empty()).await;
    assert_eq!(env.subs(new), ["llm"]);

    // A short retry_after on a reply is waited out.
    let t0 = Instant::now();
    fake.fail_next(me, Fault::RetryAfter(1));
    let r = &env.ask(me, "/list", 1).await[0];
    assert!(r.visible.contains("NeRF"));
    assert!(t0.elapsed() >= Duration::from_secs(1));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_sends_digests_within_limits_and_maps_every_failure() {
    let env = start().await;
    let fake = &env.fake;
    let chat = 701;
    fake.register_private_chat(chat);
    let big = common::sample_digest(40, false);
    env.bot.send(&tchat(chat), &big).await.unwrap();
    let sent = fake.sent_to(chat);
    assert!(sent.len() > 1, "40 long papers need several messages");
    let mut seen = 0;
    for (i, s) in sent.iter().enumerate() {
        assert!(s.visible.encode_utf16().count() <= 4096);
        // Each part previews the figure of its first paper, above its text.
        let first = s.visible.split("arXiv:").nth(1).unwrap_or_default();
        let first_id = &first[..first
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(first.len())];
        assert_eq!(
            s.preview_url.as_deref(),
            Some(format!("https://arxiv.org/html/{first_id}v1/x1.png").as_str()),
            "{}",
            s.visible
        );
        assert!(s.preview_above && !s.previews_disabled);
        let papers = s.visible.matches("arXiv:2411.").count();
        seen += papers;
        let buttons = s.buttons();
        assert_eq!(
            i + 1 == sent.len(),
            buttons.iter().any(|(_, d)| d.starts_with("u:")),
            "Unsubscribe under the last part"
        );
        assert_eq!(
            buttons
                .iter()
                .filter(|(_, d)| d.starts_with("v:o:"))
                .count(),
            papers,
            "a number button for each paper of the part"
        );
    }
    assert_eq!(seen, 40, "every paper once");
    assert!(
        sent.last()
            .unwrap()
            .visible
            .ends_with("+5 more: /recent nerf")
    );

    let small = common::sample_digest(1, false);
    let cases = [
        (
            Fault::RetryAfter(7),
            SendError::RetryAfter(Duration::from_secs(7)),
        ),
        (Fault::Migrate(-1009), SendError::Migrated("-1009".into())),
    ];
    for (fault, want) in cases {
        fake.fail_next(chat, fault);
        assert_eq!(env.bot.send(&tchat(chat), &small).await, Err(want));
    }
    for fault in [Fault::Blocked, Fault::Kicked, Fault::ChatNotFound] {
        fake.fail_next(chat, fault.clone());
        let e = env.bot.send(&tchat(chat), &small).await.unwrap_err();
        assert!(matches!(e, SendError::Permanent(_)), "{fault:?}: {e:?}");
    }
    for fault in [Fault::ServerError, Fault::Drop] {
        fake.fail_next(chat, fault.clone());
        let e = env.bot.send(&tchat(chat), &small).await.unwrap_err();
        assert!(matches!(e, SendError::Transient(_)), "{fault:?}: {e:?}");
        assert!(
            !e.to_string().contains(tg::TOKEN),
            "no token in errors: {e}"
        );
    }
    // A chat the platform never saw.
    let e = env.bot.send(&tchat(999_999), &small).await.unwrap_err();
    assert!(matches!(e, SendError::Permanent(_)), "{e:?}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_breaks_the_bot() {
    let env = start().await;
    let fake = &env.fake;
    let me = 801;
    let r = &env
        .ask(me, &format!("/subscribe {}", "x".repeat(400)), 1)
        .await[0];
    assert!(r.visible.contains("too long"), "{}", r.visible);
    let r = &env
        .ask(me, &format!("/search <b>{}</b> & co", "a ".repeat(140)), 1)
        .await[0];
    assert!(!r.visible.is_empty());

    // Edited and forwarded commands, and update kinds the bot does not handle, are ignored.
    let chat = fake.chat(me).unwrap();
    let m = tg::text_message(50, &chat, Some(tg::user(me, None)), "/subscribe nerf");
    fake.push(json!({ "edited_message": m.clone() })).await;
    let mut fwd = m.clone();
    fwd["forward_origin"] = json!({"type": "user", "date": 1, "sender_user": tg::user(9, None)});
    fake.push(json!({ "message": fwd })).await;
    fake.push(json!({ "poll": {"id": "p1", "question": "?", "options": [], "total_voter_count": 0,
        "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false} }))
        .await;
    fake.push(
        json!({ "message": {"message_id": 51, "date": 1, "chat": chat, "from": tg::user(me, None),
        "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]} }),
    )
    .await;
    fake.push(json!({ "something_new": {"x": 1} })).await;
    quiet(fake, me, 500).await;
    assert!(env.store.subscriptions(&tchat(me)).unwrap().is_empty());

    // Stale and malformed buttons are answered as expired.
    fake.press(me, me, 1, "k:424242").await;
    fake.press(me, me, 1, "zz").await;
    let answers = fake.wait_calls("answerCallbackQuery", 2).await;
    assert!(
        answers
            .iter()
            .all(|a| a["text"].as_str().unwrap_or("").contains("expired"))
    );

    // A burst from one person: the first 20 answered at once, the rest at Telegram's pace for
    // one chat (one a second), none refused (the queue's end, a warning, is the flood limit's
    // own test in paperbell-chat).
    let me = 803;
    let t0 = std::time::Instant::now();
    for _ in 0..24 {
        fake.private_text(me, "/list", None).await;
    }
    let replies = fake.take(me, 24).await;
    let took = t0.elapsed();
    assert!(
        replies
            .iter()
            .all(|r| !r.visible.contains("a lot of commands")),
        "{replies:#?}"
    );
    assert!(
        took >= std::time::Duration::from_millis(3500) && took < std::time::Duration::from_secs(12),
        "four beyond the burst, one a second: {took:?}"
    );
    quiet(fake, me, 500).await;
    // Someone else is not affected.
    assert!(
        env.ask(802, "/help", 1).await[0]
            .visible
            .contains("/subscribe")
    );

    // Still alive and well.
    let fake = env.stop().await;
    assert_eq!(fake.rejected(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_checks_the_secret() {
    // The service's listener, as `paperbell run` builds it from `[http] listen`.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/telegram/webhook");
    let env = start_with(Some(WebhookSettings {
        url: url.clone(),
        secret: "s3cret-value".into(),
    }))
    .await;
    let router = env
        .bot
        .webhook_router()
        .expect("a webhook router in webhook mode");
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let set = env.fake.wait_calls("setWebhook", 1).await;
    assert_eq!(set[0]["url"], url.as_str());
    assert_eq!(set[0]["secret_token"], "s3cret-value");

    // The fake now POSTs updates to the webhook with the secret.
    let r = &env.ask(901, "/subscribe nerf", 1).await[0];
    assert!(r.visible.starts_with("Subscribed to NeRF"));

    let chat = json!({"id": 902, "type": "private", "first_name": "Eve"});
    let update = json!({"update_id": 1, "message": tg::text_message(1, &chat, Some(tg::user(902, None)), "/subscribe nerf")});
    assert_eq!(tg::post_webhook(&url, Some("wrong"), &update).await, 401);
    assert_eq!(tg::post_webhook(&url, None, &update).await, 401);
    assert_eq!(
        tg::post_webhook(&url, Some("s3cret-value"), &json!({"nonsense": true})).await,
        400
    );
    assert!(env.store.chat(&tchat(902)).unwrap().is_none());
    assert!(
        env.fake.calls("getUpdates").is_empty(),
        "no polling in webhook mode"
    );
    env.stop().await;
}

fn paperbell(data: &std::path::Path, log: &std::path::Path) -> std::process::Command {
    let mut c = common::service(data, log);
    c.env("PAPERBELL_TELEGRAM_TOKEN", tg::TOKEN);
    c
}

/// SIGTERM, then the exit status and everything the process printed.
fn terminate(
    mut child: std::process::Child,
    log: &std::path::Path,
) -> (std::process::ExitStatus, String) {
    let status = common::sigterm_and_wait(&mut child, Duration::from_secs(20));
    (status, std::fs::read_to_string(log).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paperbell_run_serves_telegram_by_polling_then_by_webhook() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("paperbell.log");
    drop(common::stored_papers(&data));
    // Polling (the default).
    let child = paperbell(&data, &log)
        .env("PAPERBELL_TELEGRAM_API_URL", &fake.url)
        .spawn()
        .unwrap();
    fake.wait_calls("setMyCommands", 2).await;
    fake.private_text(42, "/subscribe nerf", Some("zh-hans"))
        .await;
    let r = &fake.take(42, 1).await[0];
    assert!(
        r.visible.starts_with("已订阅 NeRF"),
        "the person's language: {}",
        r.visible
    );
    fake.private_text(42, "/recent nerf 2", None).await;
    assert_eq!(
        fake.take(42, 1).await[0].visible.matches("arXiv:").count(),
        2
    );
    let (status, output) = terminate(child, &log);
    assert!(status.success(), "{status:?}\n{output}");
    assert!(output.contains("Telegram bot connected"), "{output}");
    assert!(
        !output.contains("== NeRF"),
        "no terminal digests with a platform configured"
    );
    let secret = tg::TOKEN.split(':').nth(1).unwrap();
    assert!(
        !output.contains(secret),
        "the token never appears in logs:\n{output}"
    );

    // Webhook mode on the service's HTTP listener, same store.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/telegram/webhook");
    let child = paperbell(&data, &log)
        .env("PAPERBELL_TELEGRAM_API_URL", &fake.url)
        .env("PAPERBELL_TELEGRAM_MODE", "webhook")
        .env("PAPERBELL_TELEGRAM_WEBHOOK_URL", &url)
        .env("PAPERBELL_HTTP_LISTEN", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    let set = fake.wait_calls("setWebhook", 1).await;
    let generated = set[0]["secret_token"].as_str().unwrap().to_string();
    assert!(generated.len() >= 32, "a random secret per start");
    // The listener may come up a moment after setWebhook.
    let update = json!({"update_id": 5, "message": tg::text_message(9, &fake.chat(42).unwrap(), Some(tg::user(42, None)), "/list")});
    let t0 = Instant::now();
    while tg::post_webhook(&url, Some(&generated), &update).await != 200 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "webhook never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = &fake.take(42, 1).await[0];
    assert!(
        r.visible.contains("NeRF (nerf)"),
        "the subscription survived the restart: {}",
        r.visible
    );
    assert_eq!(tg::post_webhook(&url, Some("guess"), &update).await, 401);
    let (status, output) = terminate(child, &log);
    assert!(status.success(), "{status:?}\n{output}");
    assert!(
        !output.contains(secret) && !output.contains(&generated),
        "{output}"
    );
    assert_eq!(fake.rejected(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn papers_are_rated_in_two_taps_and_every_group_member_counts() {
    let env = start().await;
    let fake = &env.fake;
    let me = 31;
    let r = env.ask(me, "/recent cs.CV 3", 1).await.remove(0);
    assert!(
        r.visible.contains("1. "),
        "papers are numbered: {}",
        r.visible
    );
    let numbers: Vec<(String, String)> = r
        .buttons()
        .into_iter()
        .filter(|(_, d)| d.starts_with("v:o:"))
        .collect();
    assert_eq!(
        numbers.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    let paper = numbers[1].1.trim_start_matches("v:o:").to_string();
    let new_messages = || fake.sent_to(me).iter().filter(|s| !s.edited).count();
    let sent_before = new_messages();

    // First tap: the paper's rating row appears under the numbers.
    fake.press(me, me, r.message_id, &numbers[1].1).await;
    let edits = fake.wait_calls("editMessageReplyMarkup", 1).await;
    let rows = edits[0]["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap();
    let row: Vec<&str> = rows[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(row[0], "2: 👍", "{rows:?}");
    // Second tap: 👍, stored, shown on the number; the row goes.
    let up_tap = fake
        .press(me, me, r.message_id, &format!("v:u:{paper}"))
        .await;
    let edits = fake.wait_calls("editMessageReplyMarkup", 2).await;
    let labels: Vec<&str> = edits[1]["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"2 👍1"), "{labels:?}");
    assert!(
        !labels.iter().any(|l| l.contains(": 👍")),
        "the row is gone: {labels:?}"
    );
    let tally = env.store.tally(&format!("telegram:{me}"), &paper).unwrap();
    assert_eq!((tally.up, tally.down), (1, 0));
    let toasts = fake.calls("answerCallbackQuery");
    assert!(
        toasts
            .iter()
            .any(|t| t["text"].as_str().is_some_and(|s| s.starts_with("👍"))),
        "{toasts:?}"
    );
    assert_eq!(new_messages(), sent_before, "a tap sends no message");
    // The same tap handed over again (as after a crash before it was answered): answered,
    // counted once, not taken back.
    fake.press_as(me, me, r.message_id, &format!("v:u:{paper}"), &up_tap)
        .await;
    fake.wait_calls("answerCallbackQuery", toasts.len() + 1)
        .await;
    let tally = env.store.tally(&format!("telegram:{me}"), &paper).unwrap();
    assert_eq!(tally.up, 1, "a redelivered tap is not a second 👍");
    // A rating of a paper the store does not have is kept too (it counts once stored).
    fake.press(me, me, r.message_id, "v:s:2401.99999").await;
    fake.wait_calls("answerCallbackQuery", toasts.len() + 2)
        .await;
    // ⭐ saves; /saved lists saved papers, the one the store lacks by its id.
    fake.press(me, me, r.message_id, &format!("v:s:{paper}"))
        .await;
    fake.wait_calls("answerCallbackQuery", toasts.len() + 3)
        .await;
    let saved = env.ask(me, "/saved", 1).await.remove(0);
    assert!(
        saved.visible.starts_with("Saved here (2)"),
        "{}",
        saved.visible
    );
    assert!(saved.visible.contains(&paper), "{}", saved.visible);
    assert!(saved.visible.contains("2401.99999"), "{}", saved.visible);
    // /forget: every rating and the model go.
    let gone = env.ask(me, "/forget", 1).await.remove(0);
    assert!(
        gone.visible.starts_with("Forgotten: 2 "),
        "{}",
        gone.visible
    );
    assert!(
        env.store
            .chat_ratings(&format!("telegram:{me}"))
            .unwrap()
            .is_empty()
    );
    let empty = env.ask(me, "/saved", 1).await.remove(0);
    assert!(
        empty.visible.starts_with("Nothing is saved"),
        "{}",
        empty.visible
    );

    // In a group every member's tap counts, all at once.
    let group = -100_300;
    fake.register_chat(tg::group_chat(group, true));
    fake.group_text(group, true, 8001, "/recent cs.CV 2").await;
    let g = fake.take(group, 1).await.remove(0);
    let first = g
        .buttons()
        .into_iter()
        .find(|(_, d)| d.starts_with("v:o:"))
        .unwrap()
        .1;
    let gpaper = first.trim_start_matches("v:o:").to_string();
    let members: Vec<i64> = (8001..8011).collect();
    let answered = fake.calls("answerCallbackQuery").len();
    for m in &members {
        fake.press(group, *m, g.message_id, &format!("v:u:{gpaper}"))
            .await;
    }
    fake.wait_calls("answerCallbackQuery", answered + members.len())
        .await;
    let tally = env
        .store
        .tally(&format!("telegram:{group}"), &gpaper)
        .unwrap();
    assert_eq!(tally.up, members.len() as u32, "every member's 👍 counts");
    // A member's second 👍 takes only their own back.
    fake.press(group, 8001, g.message_id, &format!("v:u:{gpaper}"))
        .await;
    fake.wait_calls("answerCallbackQuery", answered + members.len() + 1)
        .await;
    let tally = env
        .store
        .tally(&format!("telegram:{group}"), &gpaper)
        .unwrap();
    assert_eq!(tally.up, members.len() as u32 - 1);
    // Only administrators may make a group forget.
    fake.group_text(group, true, 8002, "/forget").await;
    let refused = fake.take(group, 1).await.remove(0);
    assert!(
        refused.visible.contains("Only chat administrators"),
        "{}",
        refused.visible
    );
    assert_eq!(
        env.store
            .tally(&format!("telegram:{group}"), &gpaper)
            .unwrap()
            .up,
        members.len() as u32 - 1
    );
    assert_eq!(fake.rejected(), vec![]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_and_bibtex_exports_travel_as_documents() {
    let arxiv = common::FakeArxiv::start().await;
    arxiv.state.lock().unwrap().api_entries = vec![common::api_entry(100)];
    let client = paperbell::sources::fetch::ArxivClient::new(&paperbell::config::ArxivConfig {
        api_url: paperbell::config::HttpUrl::known(&arxiv.api_url()),
        feed_url: paperbell::config::HttpUrl::known(&arxiv.feed_url()),
        html_url: paperbell::config::HttpUrl::known(&arxiv.html_url()),
        min_interval_secs: 0.0,
        backoff_base_ms: 1,
        ..Default::default()
    })
    .unwrap();
    let env = start_full(None, Some(Arc::new(client))).await;
    let fake = &env.fake;
    let me = 41;
    // A Zotero-style export sent as a document with /import as its caption: one paper the
    // store has (eprint), one it lacks (URL: fetched from arXiv), one arXiv never saw.
    let bib = format!(
        "@article{{a, title={{A}}, eprint={{{}}}, archivePrefix={{arXiv}}}}\n\
         @misc{{b, title={{B}}, url={{https://arxiv.org/abs/{}v1}}}}\n\
         @book{{c, title={{A Book arXiv Never Saw}}}}\n",
        common::id_of(7),
        common::id_of(100)
    );
    fake.private_document(me, "/import", "library.bib", bib.as_bytes())
        .await;
    let r = fake.take(me, 1).await.remove(0);
    assert!(
        r.visible.starts_with(
            "Found 3 · matched to arXiv papers 2 (1 fetched from arXiv) · not matched 1"
        ),
        "{}",
        r.visible
    );
    assert!(
        r.visible.contains("A Book arXiv Never Saw"),
        "{}",
        r.visible
    );
    assert!(
        env.store
            .paper(&paperbell::model::paper::PaperId::parse(&common::id_of(100)).unwrap())
            .unwrap()
            .is_some(),
        "the missing paper was fetched into the store"
    );
    assert_eq!(
        env.store
            .chat_ratings(&format!("telegram:{me}"))
            .unwrap()
            .len(),
        2
    );
    // A broken file and one over 2 MB: refused, nothing changes; the big one is not even
    // downloaded.
    fake.private_document(
        me,
        "/import",
        "broken.bib",
        b"@article{x, title={unclosed\n",
    )
    .await;
    let r = fake.take(me, 1).await.remove(0);
    assert!(
        r.visible.contains("does not parse") && r.visible.contains("Nothing was imported"),
        "{}",
        r.visible
    );
    let big = vec![b'%'; 2 * 1024 * 1024 + 1];
    fake.private_document(me, "/import", "huge.bib", &big).await;
    let r = fake.take(me, 1).await.remove(0);
    assert!(r.visible.contains("too large"), "{}", r.visible);
    assert_eq!(
        fake.calls("getFile").len(),
        2,
        "the big file was not fetched"
    );
    assert_eq!(
        env.store
            .chat_ratings(&format!("telegram:{me}"))
            .unwrap()
            .len(),
        2
    );
    // Typed ids work too.
    let r = env
        .ask(me, &format!("/import {}", common::id_of(3)), 1)
        .await;
    assert!(
        r[0].visible
            .starts_with("Found 1 · matched to arXiv papers 1"),
        "{}",
        r[0].visible
    );
    // Saved papers come back as a BibTeX document that imports again.
    for id in [common::id_of(7), common::id_of(100)] {
        env.store
            .rate(
                &format!("telegram:{me}"),
                &id,
                &me.to_string(),
                paperbell::model::rating::RatingChange::Save,
                1,
                false,
            )
            .unwrap();
    }
    let r = env.ask(me, "/saved bib", 1).await.remove(0);
    let (name, bytes) = r.document.clone().expect("a document");
    assert_eq!(name, "paperbell-saved.bib");
    assert!(r.visible.starts_with("Saved here (2)"), "{}", r.visible);
    let back = paperbell::sources::library::parse_library(&bytes).unwrap();
    let mut ids: Vec<String> = back
        .iter()
        .map(|e| e.id.clone().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, [common::id_of(7), common::id_of(100)]);
    assert_eq!(fake.rejected(), vec![]);
}

/// `/paper` asks arXiv's HTML edition for the paper's figure (once) and shows it as the
/// message's link preview, above a text whose TeX reads as math; a paper without an edition
/// has neither preview nor HTML link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_shows_its_figure_and_its_math_reads_as_math() {
    let arxiv = common::FakeArxiv::start().await;
    arxiv.html_page(
        &format!("{}v1", common::MATH_PAPER),
        &common::html_fixture("2507.00150v1-extracted.html"),
    );
    let client =
        paperbell::sources::fetch::ArxivClient::new(&common::arxiv_config(&arxiv)).unwrap();
    let env = start_full(None, Some(Arc::new(client))).await;
    common::ingest_math_paper(
        &env.store,
        chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
    );
    let me = 77;
    let r = &env
        .ask(me, &format!("/paper {}", common::MATH_PAPER), 1)
        .await[0];
    assert!(r.visible.contains(common::MATH_TITLE_READ), "{}", r.visible);
    assert!(
        r.visible
            .contains("𝒩(0, σ²) and close 1/2 of the gap on ℝᵈ in O(n log n) time"),
        "{}",
        r.visible
    );
    assert!(
        !r.visible.contains('$') && !r.visible.contains("\\mathcal"),
        "{}",
        r.visible
    );
    assert!(
        r.text.contains("<b>few</b>"),
        "\\textbf is bold: {}",
        r.text
    );
    let figure = format!(
        "{}2507.00150v1/extracted/6123456/img/plot1_distributions_600.png",
        arxiv.html_url()
    );
    assert_eq!(r.preview_url.as_deref(), Some(figure.as_str()), "{r:?}");
    assert!(r.preview_above && !r.previews_disabled);
    assert!(
        r.text.contains(&format!(
            "href=\"https://arxiv.org/html/{}v1\">HTML</a>",
            common::MATH_PAPER
        )),
        "{}",
        r.text
    );
    // Asked once: the second /paper reads the store.
    let r = &env
        .ask(me, &format!("/paper {}", common::MATH_PAPER), 1)
        .await[0];
    assert_eq!(r.preview_url.as_deref(), Some(figure.as_str()));
    let pages = arxiv
        .seen()
        .iter()
        .filter(|s| s.path.starts_with("/html/"))
        .count();
    assert_eq!(pages, 1);
    // No edition (the fake answers 404): no preview, no HTML link.
    let r = &env.ask(me, "/paper 2411.10504", 1).await[0];
    assert!(r.preview_url.is_none() && r.previews_disabled, "{r:?}");
    assert!(!r.text.contains(">HTML</a>"), "{}", r.text);
    env.stop().await;
}

//! The delivery records' tests: commits, parts, marks, migrations and conversions.

use super::outbox::*;
use super::*;
use crate::model::chat::Subscription;
use crate::model::delivery::{ChatPlan, Counters, DeliveryState, OutboxItem, PlannedMessage};
use crate::store::codec::{self, encode};
use crate::store::{Store, chat_key, key};
use std::collections::HashSet;
use std::sync::Arc;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 11, d).unwrap()
}

fn tg(id: &str) -> ChatRef {
    ChatRef {
        platform: Platform::Telegram,
        id: id.into(),
    }
}

fn message(title: &str, ids: &[&str]) -> Arc<PlannedMessage> {
    Arc::new(PlannedMessage {
        title: title.into(),
        day: "2024-11-19".into(),
        papers: ids
            .iter()
            .map(|id| (id.to_string(), vec![title.to_string()]))
            .collect(),
        more: 0,
        unsubscribe_topic: Some(title.into()),
        lang: "en".into(),
        compact: false,
        overview: None,
    })
}

fn plan(chat: &str, messages: Vec<Arc<PlannedMessage>>) -> ChatPlan {
    ChatPlan {
        chat: tg(chat),
        state: DeliveryState {
            last_day: Some(day(20)),
            covered: Some(day(19)),
        },
        local_day: day(20),
        messages,
    }
}

/// Records left under a prefix (marks, batches), to see that nothing is left behind.
fn keys(store: &Store, prefix: u8) -> usize {
    store.db.scan_prefix([prefix]).count()
}

#[test]
fn a_batch_written_from_borrowed_plans_reads_back_as_a_batch() {
    let m = message("NeRF", &["2411.00001"]);
    let written = OutboxBatchRef {
        planned_at: 7,
        messages: vec![&m],
        items: vec![BatchItemRef {
            chat: "telegram:5",
            local_day: day(20),
            message: 0,
        }],
    };
    let b = decode_batch(&encode(codec::OUTBOX_V3, &written).unwrap()).unwrap();
    assert_eq!(b.planned_at, 7);
    assert_eq!(b.messages, vec![m.as_ref().clone()]);
    assert_eq!(b.items.len(), 1);
    assert_eq!(
        (
            b.items[0].chat.as_str(),
            b.items[0].local_day,
            b.items[0].message
        ),
        ("telegram:5", day(20), 0)
    );
}

#[test]
fn a_run_is_one_batch_whose_items_are_marked_done_and_then_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let shared = message("NeRF", &["2411.00001", "2411.00002"]);
    let own = message("cs.CV", &["2411.00003"]);
    let plans = vec![
        plan("1", vec![shared.clone()]),
        plan("2", vec![shared.clone(), own]),
        plan("3", vec![shared]),
    ];
    let (ids, written) = store.commit_plans(&plans, 1_700_000_000);
    written.unwrap();
    assert_eq!(ids.len(), 4);
    assert_eq!(keys(&store, b'b'), 1, "one batch record for the run");
    let outbox = store.outbox(Platform::Telegram).unwrap();
    let chats: Vec<&str> = outbox.iter().map(|(_, i)| i.chat.as_str()).collect();
    assert_eq!(
        chats,
        ["telegram:1", "telegram:2", "telegram:2", "telegram:3"]
    );
    assert_eq!(outbox[0].1.message, outbox[3].1.message);
    assert_eq!(outbox[0].1.planned_at, 1_700_000_000);
    assert_eq!(
        store.delivery_state(&tg("2")).unwrap(),
        plans[1].state,
        "state written with the items"
    );
    let wanted: HashSet<&str> = ["2411.00003", "2411.00002", "2411.00009"].into();
    let got = store.ledger_contains(&tg("2"), day(19), &wanted).unwrap();
    assert_eq!(
        got,
        ["2411.00002".to_string(), "2411.00003".to_string()].into()
    );
    assert!(
        store
            .ledger_contains(&tg("1"), day(19), &wanted)
            .unwrap()
            .contains("2411.00002")
    );
    assert!(
        store
            .ledger_contains(&tg("1"), day(21), &wanted)
            .unwrap()
            .is_empty(),
        "only from the day asked"
    );

    // Progress survives a restart; done items are gone; the last one takes the batch.
    let c = Counters::default();
    let mut second = outbox[1].1.clone();
    second.parts_done = 1;
    store
        .outbox_update(
            Platform::Telegram,
            &[(outbox[0].0, None), (outbox[1].0, Some(&second))],
            &c,
            None,
        )
        .unwrap();
    drop(store);
    let store = crate::store::reopen(dir.path());
    assert_eq!(store.outbox_len(Platform::Telegram), 3);
    let after = store.outbox(Platform::Telegram).unwrap();
    assert_eq!(after[0].1.parts_done, 1);
    assert_eq!(
        store.outbox_item(Platform::Telegram, outbox[0].0).unwrap(),
        None
    );
    let rest: Vec<(u64, Option<&OutboxItem>)> = after.iter().map(|(id, _)| (*id, None)).collect();
    store
        .outbox_update(Platform::Telegram, &rest, &c, None)
        .unwrap();
    assert_eq!(store.outbox_len(Platform::Telegram), 0);
    assert_eq!(keys(&store, b'b'), 0, "the batch went with its last item");
    assert_eq!(keys(&store, b'k'), 0, "and its marks");
}

#[test]
fn a_large_run_is_written_in_parts_that_together_hold_every_chat() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (a, b) = (
        message("NeRF", &["2411.00001"]),
        message("cs.CV", &["2411.00002"]),
    );
    let chats = 3 * PART_CHATS;
    let plans: Vec<ChatPlan> = (0..chats)
        .map(|i| {
            let m = if i % 3 == 0 {
                vec![a.clone(), b.clone()]
            } else {
                vec![a.clone()]
            };
            plan(&i.to_string(), m)
        })
        .collect();
    let (ids, written) = store.commit_plans(&plans, 0);
    written.unwrap();
    let messages = chats + chats / 3;
    assert_eq!(ids.len(), messages);
    assert_eq!(store.outbox_len(Platform::Telegram), messages);
    assert_eq!(
        store.counters(Platform::Telegram).unwrap().planned,
        messages as u64
    );
    // Every chat's state and ledger entry, whichever part wrote it.
    let states = store.delivery_states().unwrap();
    assert_eq!(states.len(), chats);
    for i in [0, 1, chats / 2, chats - 1] {
        let chat = tg(&i.to_string());
        assert_eq!(states[&chat.to_string()].last_day, Some(day(20)));
        let ids = HashSet::from(["2411.00001", "2411.00002"]);
        let found = store.ledger_contains(&chat, day(19), &ids).unwrap();
        assert_eq!(found.len(), if i % 3 == 0 { 2 } else { 1 }, "chat {i}");
    }
    // Each chat's items in its own order.
    let outbox = store.outbox(Platform::Telegram).unwrap();
    let zero: Vec<&str> = outbox
        .iter()
        .filter(|(_, i)| i.chat == "telegram:0")
        .map(|(_, i)| i.message.title.as_str())
        .collect();
    assert_eq!(zero, ["NeRF", "cs.CV"]);
}

#[test]
fn a_chats_key_and_bucket_are_the_same_however_they_are_made() {
    for id in ["1", "-1001234567890", "123456789012345678", ""] {
        for platform in [Platform::Telegram, Platform::Discord] {
            let c = ChatRef {
                platform,
                id: id.into(),
            };
            assert_eq!(chat_key(&c), c.to_string());
            assert_eq!(bucket_of_chat(&c), bucket_of(&chat_key(&c)));
        }
    }
}

#[test]
fn a_moved_chat_takes_its_state_ledger_and_pending_items() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let m = message("NeRF", &["2411.00001"]);
    let (_, written) = store.commit_plans(&[plan("-5", vec![m.clone()]), plan("7", vec![m])], 0);
    written.unwrap();
    store
        .put_chat(&crate::model::chat::ChatRecord::new(&tg("-5")))
        .unwrap();
    assert!(store.migrate_chat(&tg("-5"), &tg("-1005")).unwrap());
    let chats: Vec<String> = store
        .outbox(Platform::Telegram)
        .unwrap()
        .into_iter()
        .map(|(_, i)| i.chat)
        .collect();
    assert_eq!(chats, ["telegram:-1005", "telegram:7"]);
    assert_eq!(
        store.delivery_state(&tg("-5")).unwrap(),
        DeliveryState::default()
    );
    assert_eq!(
        store.delivery_state(&tg("-1005")).unwrap().last_day,
        Some(day(20))
    );
    let ids: HashSet<&str> = ["2411.00001"].into();
    assert!(
        store
            .ledger_contains(&tg("-5"), day(1), &ids)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .ledger_contains(&tg("-1005"), day(1), &ids)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.ledger_contains(&tg("7"), day(1), &ids).unwrap().len(),
        1
    );
}

/// A store written before buckets and batches (a `D` and `l` key per chat, a `s` key per
/// subscription, single-item outbox records) opens with everything in place.
#[test]
fn an_older_store_is_converted_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let old_item = OutboxItem {
        chat: "telegram:9".into(),
        local_day: day(20),
        message: message("NeRF", &["2411.00001"]).as_ref().clone(),
        parts_done: 1,
        attempts: 2,
        planned_at: 5,
    };
    let sub = Subscription {
        topic_id: "nerf".into(),
        topic_name: "NeRF".into(),
        query: None,
        since: Some(day(18)),
    };
    {
        let store = Store::open(dir.path()).unwrap();
        let state = DeliveryState {
            last_day: Some(day(20)),
            covered: Some(day(19)),
        };
        let db = &store.db;
        db.insert(
            key(b'D', &[b"telegram:9"]),
            encode(codec::DELIVERY_STATE_V1, &state).unwrap(),
        )
        .unwrap();
        let mut l = key(b'l', &[b"telegram:9", b""]);
        l.extend_from_slice(&day_key(day(20)));
        let ids = vec!["2411.00001".to_string()];
        db.insert(l, encode(codec::LIST_V1, &ids).unwrap()).unwrap();
        db.insert(
            key(b's', &[b"telegram:9", b"nerf"]),
            encode(
                codec::SUB_V1,
                &crate::store::codec::SubscriptionV1::from(&sub),
            )
            .unwrap(),
        )
        .unwrap();
        let mut old = key(b'o', &[b"telegram", b""]);
        old.extend_from_slice(&3u64.to_be_bytes());
        db.insert(old, encode(codec::OUTBOX_V2, &old_item).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = crate::store::reopen(dir.path());
    for old in [b'D', b'l', b's', b'o'] {
        assert_eq!(keys(&store, old), 0, "{} keys left", old as char);
    }
    assert_eq!(
        store.delivery_state(&tg("9")).unwrap().covered,
        Some(day(19))
    );
    let ids: HashSet<&str> = ["2411.00001"].into();
    assert_eq!(
        store
            .ledger_contains(&tg("9"), day(19), &ids)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.subscriptions(&tg("9")).unwrap(), [sub]);
    assert_eq!(
        store.outbox(Platform::Telegram).unwrap(),
        [(item_id(3, 0), old_item)]
    );
    store
        .outbox_update(
            Platform::Telegram,
            &[(item_id(3, 0), None)],
            &Counters::default(),
            None,
        )
        .unwrap();
    assert_eq!(keys(&store, b'b'), 0);
}

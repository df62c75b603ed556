//! Pure Discord knowledge without serenity: turning a slash command's option values into the
//! contract's `Command`s, the permission rule, and Discord's limits on button ids and
//! autocomplete choices. The commands themselves (names, options, descriptions, which need
//! Manage Channels) are the shared catalogue's (`paperbell_chat::catalogue`). No I/O.

use paperbell_chat::catalogue::SETTINGS;
use paperbell_chat::{Command, TopicItem};

/// Discord's limit on a button's `custom_id`.
pub const MAX_CUSTOM_ID: usize = 100;
/// Autocomplete answers at most 25 choices; names and values at most 100 characters.
pub const MAX_CHOICES: usize = 25;
pub const MAX_CHOICE_CHARS: usize = 100;
/// Longest text option Discord's client lets a person type (the core refuses longer).
pub const MAX_OPTION_CHARS: u16 = 300;

/// Permission bits from Discord's documentation.
pub const ADMINISTRATOR: u64 = 1 << 3;
pub const MANAGE_CHANNELS: u64 = 1 << 4;

/// One option value as an interaction carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Integer(n) => n.to_string(),
        }
    }
}

/// The commands a slash command runs: one, except `/settings` with several options (one
/// change each, in the order given). `None` for a command paperbell does not have (a stale
/// registration, or a request that is not from Discord's client).
pub fn commands(name: &str, options: &[(String, Value)]) -> Option<Vec<Command>> {
    let get = |key: &str| {
        options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.text())
    };
    let arg = |key: &str| get(key).unwrap_or_default();
    let cmd = match name {
        "help" => Command::Help,
        "subscribe" => Command::Subscribe {
            topic: arg("topic"),
        },
        "unsubscribe" => Command::Unsubscribe {
            topic: arg("topic"),
        },
        "list" => Command::List,
        "topics" => Command::Topics { page: 0 },
        "recent" => Command::Recent {
            topic: arg("topic"),
            count: options.iter().find_map(|(k, v)| match v {
                // Out-of-range counts go to the core, which explains the range.
                Value::Integer(n) if k == "count" => {
                    Some((*n).clamp(0, i64::from(u32::MAX)) as u32)
                }
                _ => None,
            }),
            page: 0,
        },
        "paper" => Command::Paper { id: arg("id") },
        "search" => Command::Search {
            words: arg("query"),
            page: 0,
        },
        "similar" => Command::Similar {
            id: arg("id"),
            page: 0,
        },
        "digest" => Command::Digest,
        "saved" => Command::Saved {
            page: 0,
            bibtex: arg("as") == "bib",
        },
        // The attachment, if any, is fetched by the bot and put in `file`.
        "import" => Command::Import {
            text: arg("ids"),
            file: None,
        },
        "forget" => Command::Forget,
        "settings" => {
            let changes: Vec<Command> = options
                .iter()
                .filter(|(k, _)| SETTINGS.contains(&k.as_str()))
                .map(|(k, v)| Command::Settings {
                    change: Some((k.clone(), v.text())),
                })
                .collect();
            return Some(if changes.is_empty() {
                vec![Command::Settings { change: None }]
            } else {
                changes
            });
        }
        _ => return None,
    };
    Some(vec![cmd])
}

/// May the person change this channel's subscriptions? Always in a DM with the bot; in a
/// server, with Manage Channels or Administrator in this channel. `permissions` is the member's
/// computed permissions in the channel, as the interaction carries them (overwrites included).
pub fn can_manage(in_guild: bool, permissions: Option<u64>) -> bool {
    !in_guild || permissions.is_some_and(|p| p & (ADMINISTRATOR | MANAGE_CHANNELS) != 0)
}

/// Autocomplete choices from the core's suggestions: (label, value), within Discord's limits.
/// A value that would not fit is left out rather than cut (a cut id would name nothing).
pub fn choices(items: &[TopicItem]) -> Vec<(String, String)> {
    items
        .iter()
        .filter(|it| !it.id.is_empty() && it.id.chars().count() <= MAX_CHOICE_CHARS)
        .map(|it| {
            let mark = if it.subscribed { "✓ " } else { "" };
            let label = if it.name.is_empty() || it.name == it.id {
                format!("{mark}{}", it.id)
            } else {
                format!("{mark}{} ({})", it.name, it.id)
            };
            let label: String = if label.chars().count() > MAX_CHOICE_CHARS {
                let mut s: String = label.chars().take(MAX_CHOICE_CHARS - 1).collect();
                s.push('…');
                s
            } else {
                label
            };
            (label, it.id.clone())
        })
        .take(MAX_CHOICES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(k: &str, v: &str) -> (String, Value) {
        (k.into(), Value::Text(v.into()))
    }

    #[test]
    fn options_become_commands() {
        assert_eq!(
            commands("subscribe", &[text("topic", "nerf")]),
            Some(vec![Command::Subscribe {
                topic: "nerf".into()
            }])
        );
        assert_eq!(
            commands(
                "recent",
                &[text("topic", "cs.CV"), ("count".into(), Value::Integer(7))]
            ),
            Some(vec![Command::Recent {
                topic: "cs.CV".into(),
                count: Some(7),
                page: 0
            }])
        );
        assert_eq!(
            commands("settings", &[]),
            Some(vec![Command::Settings { change: None }])
        );
        assert_eq!(
            commands(
                "settings",
                &[text("tz", "Asia/Tokyo"), ("max".into(), Value::Integer(3))]
            ),
            Some(vec![
                Command::Settings {
                    change: Some(("tz".into(), "Asia/Tokyo".into()))
                },
                Command::Settings {
                    change: Some(("max".into(), "3".into()))
                }
            ])
        );
        assert_eq!(commands("frobnicate", &[]), None);
        assert_eq!(
            commands("subscribe", &[]),
            Some(vec![Command::Subscribe { topic: "".into() }]),
            "a missing option reaches the core, which says what to give"
        );
    }

    #[test]
    fn managing_needs_manage_channels_or_admin_in_servers_only() {
        assert!(can_manage(false, None), "a DM with the bot");
        assert!(!can_manage(true, None));
        assert!(!can_manage(true, Some(1 << 11)), "send messages only");
        assert!(can_manage(true, Some(MANAGE_CHANNELS | 1 << 11)));
        assert!(can_manage(true, Some(ADMINISTRATOR)));
    }

    #[test]
    fn commands_fit_discord_rules() {
        use paperbell_chat::catalogue::COMMANDS;
        let mut names = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(names.insert(c.name));
            assert!((1..=32).contains(&c.name.len()));
            assert!(c.name.chars().all(|ch| ch.is_ascii_lowercase()));
            assert!((1..=100).contains(&c.en.chars().count()), "{}", c.name);
            assert!((1..=100).contains(&c.zh.chars().count()), "{}", c.name);
            assert!(c.args.len() <= 25);
            let mut seen_optional = false;
            for o in c.args {
                assert!((1..=100).contains(&o.en.chars().count()), "{}", o.name);
                assert!((1..=100).contains(&o.zh.chars().count()), "{}", o.name);
                // Discord requires required options before optional ones.
                assert!(!(o.required && seen_optional), "{}", c.name);
                seen_optional |= !o.required;
            }
        }
        assert_eq!(COMMANDS.len(), 14);
    }

    #[test]
    fn choices_stay_within_limits_and_never_cut_a_value() {
        let items: Vec<TopicItem> = (0..40)
            .map(|i| TopicItem {
                id: format!("t{i}"),
                name: "N".repeat(i * 5),
                subscribed: i % 2 == 0,
            })
            .chain([TopicItem {
                id: "q".repeat(150),
                name: "long".into(),
                subscribed: false,
            }])
            .collect();
        let c = choices(&items);
        assert_eq!(c.len(), MAX_CHOICES);
        assert!(
            c.iter()
                .all(|(l, v)| l.chars().count() <= 100 && v.len() <= 100)
        );
        assert!(c.iter().all(|(_, v)| !v.starts_with('q')));
        assert_eq!(c[0], ("✓ t0".into(), "t0".into()));
    }
}

//! Pure parsing of what Telegram sends: command texts (`/recent@paperbell_bot nerf 10`) into
//! the contract's `Command`, and Telegram's 64-byte limit on button data (the
//! buttons and the flood limit themselves are shared, in `paperbell_chat`). No I/O, no clock (`now` is passed).

use paperbell_chat::Command;
pub use paperbell_chat::buttons::{Callback, CallbackTable};
pub use paperbell_chat::flood::{FloodLimit, Verdict};

/// Telegram's limit on `callback_data`.
pub const MAX_CALLBACK_BYTES: usize = 64;

/// What a message text means to this bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Command(Command),
    /// `/something` we do not know; `addressed` when it named this bot (`/x@paperbell_bot`).
    Unknown {
        name: String,
        addressed: bool,
    },
    /// A command for another bot in the same group (`/start@otherbot`).
    NotForUs,
    /// Plain text.
    NotACommand,
}

/// Parses a message text. `bot_username` is compared case-insensitively, without the `@`.
pub fn parse_command(text: &str, bot_username: &str) -> Parsed {
    let text = text.trim_start();
    let Some(rest) = text.strip_prefix('/') else {
        return Parsed::NotACommand;
    };
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, addressed) = match head.split_once('@') {
        Some((n, bot)) if bot.eq_ignore_ascii_case(bot_username) => (n, true),
        Some(_) => return Parsed::NotForUs,
        None => (head, false),
    };
    if name.is_empty() {
        return Parsed::NotACommand;
    }
    let name = name.to_ascii_lowercase();
    let cmd = match name.as_str() {
        "start" | "help" => Command::Help,
        "subscribe" | "sub" => Command::Subscribe { topic: args.into() },
        "unsubscribe" | "unsub" => Command::Unsubscribe { topic: args.into() },
        "list" => Command::List,
        "topics" => Command::Topics {
            // People count pages from 1.
            page: args.parse::<u32>().map_or(0, |p| p.saturating_sub(1)),
        },
        "recent" => {
            let (topic, count) = split_count(args);
            Command::Recent {
                topic: topic.into(),
                count,
                page: 0,
            }
        }
        "paper" => Command::Paper { id: args.into() },
        "search" => Command::Search {
            words: args.into(),
            page: 0,
        },
        "similar" => Command::Similar {
            id: args.into(),
            page: 0,
        },
        "digest" => Command::Digest,
        "saved" => Command::Saved {
            page: args.parse::<u32>().map_or(0, |p| p.saturating_sub(1)),
            bibtex: ["bib", "bibtex"]
                .iter()
                .any(|b| b.eq_ignore_ascii_case(args)),
        },
        // A document sent with the command is fetched by the bot and put in `file`.
        "import" => Command::Import {
            text: args.to_string(),
            file: None,
        },
        "forget" => Command::Forget,
        "settings" => Command::Settings {
            change: (!args.is_empty()).then(|| match args.split_once(char::is_whitespace) {
                Some((k, v)) => (k.to_string(), v.trim().to_string()),
                None => (args.to_string(), String::new()),
            }),
        },
        _ => return Parsed::Unknown { name, addressed },
    };
    Parsed::Command(cmd)
}

/// `nerf 10` -> (`nerf`, Some(10)); a lone number stays the topic (`/recent 2407`).
fn split_count(args: &str) -> (&str, Option<u32>) {
    if let Some((topic, last)) = args.rsplit_once(char::is_whitespace)
        && let Ok(n) = last.parse::<u32>()
    {
        return (topic.trim_end(), Some(n));
    }
    (args, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "paperbell_bot";

    fn cmd(s: &str) -> Command {
        match parse_command(s, BOT) {
            Parsed::Command(c) => c,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn commands_parse_with_and_without_the_bot_name() {
        assert_eq!(
            cmd("/subscribe@PaperBell_Bot  nerf "),
            Command::Subscribe {
                topic: "nerf".into()
            }
        );
        assert_eq!(cmd("/start"), Command::Help);
        assert_eq!(
            cmd("/recent \"diffusion\" AND video 7"),
            Command::Recent {
                topic: "\"diffusion\" AND video".into(),
                count: Some(7),
                page: 0
            }
        );
        assert_eq!(
            cmd("/recent 2407"),
            Command::Recent {
                topic: "2407".into(),
                count: None,
                page: 0
            }
        );
        assert_eq!(cmd("/topics 2"), Command::Topics { page: 1 });
        assert_eq!(
            cmd("/settings tz Asia/Shanghai"),
            Command::Settings {
                change: Some(("tz".into(), "Asia/Shanghai".into()))
            }
        );
        assert_eq!(cmd("/settings"), Command::Settings { change: None });
        assert_eq!(
            cmd("/settings cats cs.CV cs.RO"),
            Command::Settings {
                change: Some(("cats".into(), "cs.CV cs.RO".into()))
            }
        );
        assert_eq!(
            cmd("/saved bib"),
            Command::Saved {
                page: 0,
                bibtex: true
            }
        );
        assert_eq!(
            cmd("/saved 2"),
            Command::Saved {
                page: 1,
                bibtex: false
            }
        );
        assert_eq!(
            cmd("/import 2407.11422 https://arxiv.org/abs/2003.08934"),
            Command::Import {
                text: "2407.11422 https://arxiv.org/abs/2003.08934".into(),
                file: None
            }
        );
        assert_eq!(
            cmd("/settings\ntime\n08:30"),
            Command::Settings {
                change: Some(("time".into(), "08:30".into()))
            }
        );
    }

    #[test]
    fn other_bots_and_unknown_commands_are_told_apart() {
        assert_eq!(parse_command("/start@otherbot", BOT), Parsed::NotForUs);
        assert_eq!(parse_command("hello /start", BOT), Parsed::NotACommand);
        assert_eq!(parse_command("/", BOT), Parsed::NotACommand);
        assert_eq!(
            parse_command("/frobnicate@paperbell_bot", BOT),
            Parsed::Unknown {
                name: "frobnicate".into(),
                addressed: true
            }
        );
    }
}

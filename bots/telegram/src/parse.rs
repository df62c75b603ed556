//! Pure parsing of what Telegram sends: command texts (`/recent@paperbell_bot nerf 10`) into
//! the contract's `Command`, inline-button data into `Callback` and back (Telegram allows 1-64
//! bytes of `callback_data`), and the per-person flood limit. No I/O, no clock (`now` is passed).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use paperbell_chat::Command;

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
        "search" => Command::Search { words: args.into() },
        "digest" => Command::Digest,
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

/// What an inline button does when tapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    Subscribe(String),
    Unsubscribe(String),
    TopicsPage(u32),
    /// The next page of `/recent`.
    More {
        topic: String,
        count: u32,
        page: u32,
    },
    /// Data too long for Telegram's 64 bytes, kept in the bot's memory under this key.
    Stored(u64),
}

/// Telegram's limit on `callback_data`.
pub const MAX_CALLBACK_BYTES: usize = 64;

impl Callback {
    pub fn encode(&self) -> String {
        match self {
            Callback::Subscribe(t) => format!("s:{t}"),
            Callback::Unsubscribe(t) => format!("u:{t}"),
            Callback::TopicsPage(p) => format!("t:{p}"),
            Callback::More { topic, count, page } => format!("r:{page}:{count}:{topic}"),
            Callback::Stored(k) => format!("k:{k}"),
        }
    }

    pub fn decode(data: &str) -> Option<Callback> {
        let (kind, rest) = data.split_once(':')?;
        Some(match kind {
            "s" if !rest.is_empty() => Callback::Subscribe(rest.into()),
            "u" if !rest.is_empty() => Callback::Unsubscribe(rest.into()),
            "t" => Callback::TopicsPage(rest.parse().ok()?),
            "r" => {
                let mut it = rest.splitn(3, ':');
                let page = it.next()?.parse().ok()?;
                let count = it.next()?.parse().ok()?;
                let topic = it.next().filter(|t| !t.is_empty())?.to_string();
                Callback::More { topic, count, page }
            }
            "k" => Callback::Stored(rest.parse().ok()?),
            _ => return None,
        })
    }

    /// The command a tap runs.
    pub fn command(&self) -> Option<Command> {
        Some(match self {
            Callback::Subscribe(t) => Command::Subscribe { topic: t.clone() },
            Callback::Unsubscribe(t) => Command::Unsubscribe { topic: t.clone() },
            Callback::TopicsPage(p) => Command::Topics { page: *p },
            Callback::More { topic, count, page } => Command::Recent {
                topic: topic.clone(),
                count: Some(*count),
                page: *page,
            },
            Callback::Stored(_) => return None,
        })
    }
}

/// Button data that do not fit in 64 bytes (an ad-hoc query as a topic) live here, newest
/// `capacity` kept; a tap on an evicted one (or after a restart) is answered as expired.
#[derive(Debug)]
pub struct CallbackTable {
    next: u64,
    capacity: usize,
    map: HashMap<u64, Callback>,
}

impl CallbackTable {
    pub fn new(capacity: usize) -> Self {
        CallbackTable {
            next: 0,
            capacity,
            map: HashMap::new(),
        }
    }

    /// The data to put on a button: the callback itself when it fits, else a table key.
    pub fn data(&mut self, cb: Callback) -> String {
        let direct = cb.encode();
        if direct.len() <= MAX_CALLBACK_BYTES {
            return direct;
        }
        self.next += 1;
        self.map.insert(self.next, cb);
        let oldest = self.next.saturating_sub(self.capacity as u64);
        if self.map.len() > self.capacity {
            self.map.retain(|k, _| *k > oldest);
        }
        Callback::Stored(self.next).encode()
    }

    /// Resolves tapped data; `None` for unknown, malformed or expired data.
    pub fn resolve(&self, data: &str) -> Option<Callback> {
        match Callback::decode(data)? {
            Callback::Stored(k) => self.map.get(&k).cloned(),
            cb => Some(cb),
        }
    }
}

/// What the flood limit says about one more command from a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit: answer once, politely.
    Warn,
    /// Still over the limit and already told: stay quiet.
    Drop,
}

/// A token bucket per person: `burst` commands at once, then one per `every`.
#[derive(Debug)]
pub struct FloodLimit {
    burst: f64,
    every: Duration,
    buckets: HashMap<i64, (f64, Instant, bool)>,
}

impl FloodLimit {
    pub fn new(burst: u32, every: Duration) -> Self {
        FloodLimit {
            burst: f64::from(burst),
            every,
            buckets: HashMap::new(),
        }
    }

    pub fn check(&mut self, who: i64, now: Instant) -> Verdict {
        let (burst, every) = (self.burst, self.every.as_secs_f64());
        if self.buckets.len() > 10_000 {
            // Forget people whose bucket is full again: they are indistinguishable from new.
            self.buckets.retain(|_, (tokens, at, _)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() / every < burst
            });
        }
        let (tokens, at, warned) = self.buckets.entry(who).or_insert((burst, now, false));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() / every).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            *warned = false;
            Verdict::Allow
        } else if *warned {
            Verdict::Drop
        } else {
            *warned = true;
            Verdict::Warn
        }
    }
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

    #[test]
    fn callbacks_round_trip_and_long_ones_go_through_the_table() {
        for cb in [
            Callback::Subscribe("nerf".into()),
            Callback::Unsubscribe("q:nerf OR gaussian".into()),
            Callback::TopicsPage(3),
            Callback::More {
                topic: "cs.CV".into(),
                count: 5,
                page: 2,
            },
        ] {
            assert_eq!(Callback::decode(&cb.encode()), Some(cb));
        }
        let mut table = CallbackTable::new(2);
        let long = Callback::Subscribe(format!("q:{}", "x".repeat(100)));
        let data = table.data(long.clone());
        assert!(data.len() <= MAX_CALLBACK_BYTES);
        assert_eq!(table.resolve(&data), Some(long));
        table.data(Callback::Subscribe("y".repeat(80)));
        table.data(Callback::Subscribe("z".repeat(80)));
        assert_eq!(table.resolve(&data), None, "evicted: answered as expired");
        assert_eq!(table.resolve("garbage"), None);
        assert_eq!(table.resolve("r:x:1:nerf"), None);
    }

    #[test]
    fn flood_limit_allows_a_burst_warns_once_then_refills() {
        let mut f = FloodLimit::new(3, Duration::from_secs(2));
        let t0 = Instant::now();
        let v: Vec<Verdict> = (0..6).map(|_| f.check(7, t0)).collect();
        use Verdict::*;
        assert_eq!(v, [Allow, Allow, Allow, Warn, Drop, Drop]);
        assert_eq!(f.check(8, t0), Allow, "another person is not affected");
        assert_eq!(f.check(7, t0 + Duration::from_secs(2)), Allow);
        assert_eq!(f.check(7, t0 + Duration::from_secs(2)), Warn);
    }
}

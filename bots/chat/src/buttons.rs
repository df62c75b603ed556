//! Buttons under bot messages, platform-neutral: what a tap means (`Callback`), its compact
//! text form for the platform's button data, and a bounded table for data too long for the
//! platform's limit. Pure: no I/O.

use std::collections::HashMap;

use crate::{Command, Lang, t};

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
    /// The next page of `/search`.
    MoreFound {
        words: String,
        page: u32,
    },
    /// Papers like one (the button under `/paper`), or their next page.
    Similar {
        id: String,
        page: u32,
    },
    /// Data too long for the platform's limit, kept in the bot's memory under this key.
    Stored(u64),
}

impl Callback {
    pub fn encode(&self) -> String {
        match self {
            Callback::Subscribe(t) => format!("s:{t}"),
            Callback::Unsubscribe(t) => format!("u:{t}"),
            Callback::TopicsPage(p) => format!("t:{p}"),
            Callback::More { topic, count, page } => format!("r:{page}:{count}:{topic}"),
            Callback::MoreFound { words, page } => format!("q:{page}:{words}"),
            Callback::Similar { id, page } => format!("m:{page}:{id}"),
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
            "q" => {
                let (page, words) = page_and_text(rest)?;
                Callback::MoreFound { words, page }
            }
            "m" => {
                let (page, id) = page_and_text(rest)?;
                Callback::Similar { id, page }
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
            Callback::MoreFound { words, page } => Command::Search {
                words: words.clone(),
                page: *page,
            },
            Callback::Similar { id, page } => Command::Similar {
                id: id.clone(),
                page: *page,
            },
            Callback::Stored(_) => return None,
        })
    }
}

/// The "More" button for a reply that has a next page (`Reply::Papers::more`).
pub fn more_button(lang: Lang, more: Option<&Command>) -> Option<(String, Callback)> {
    let label = format!("{} ▶", t(lang, "More", "更多"));
    match more? {
        // Under one paper: papers like it; under a page of them: the next page.
        Command::Similar { id, page } => Some((
            if *page == 0 {
                format!("{} ▶", t(lang, "Similar papers", "相似论文"))
            } else {
                label
            },
            Callback::Similar {
                id: id.clone(),
                page: *page,
            },
        )),
        Command::Search { words, page } => Some((
            label,
            Callback::MoreFound {
                words: words.clone(),
                page: *page,
            },
        )),
        Command::Recent { topic, count, page } => Some((
            label,
            Callback::More {
                topic: topic.clone(),
                count: count.unwrap_or(5),
                page: *page,
            },
        )),
        _ => None,
    }
}

/// The Back / Next buttons under a paged list (`/topics`), as (label, callback); empty for a
/// single page.
pub fn page_buttons(lang: Lang, page: u32, pages: u32) -> Vec<(String, Callback)> {
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((
            format!("◀ {}", t(lang, "Back", "上一页")),
            Callback::TopicsPage(page - 1),
        ));
    }
    if page + 1 < pages {
        nav.push((
            format!("{} ▶", t(lang, "Next", "下一页")),
            Callback::TopicsPage(page + 1),
        ));
    }
    nav
}

/// Button data that do not fit the platform's limit (an ad-hoc query as a topic) live here,
/// newest `capacity` kept; a tap on an evicted one (or after a restart) is answered as expired.
#[derive(Debug)]
pub struct CallbackTable {
    next: u64,
    capacity: usize,
    max_bytes: usize,
    map: HashMap<u64, Callback>,
}

impl CallbackTable {
    /// `max_bytes`: the platform's limit on button data (Telegram 64 bytes, Discord 100).
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        CallbackTable {
            next: 0,
            capacity,
            max_bytes,
            map: HashMap::new(),
        }
    }

    /// The data to put on a button: the callback itself when it fits, else a table key.
    pub fn data(&mut self, cb: Callback) -> String {
        let direct = cb.encode();
        if direct.len() <= self.max_bytes {
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

/// `PAGE:TEXT` of a button's data, the text not empty.
fn page_and_text(rest: &str) -> Option<(u32, String)> {
    let (page, text) = rest.split_once(':')?;
    Some((
        page.parse().ok()?,
        Some(text).filter(|t| !t.is_empty())?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Callback::MoreFound {
                words: "ti:nerf after:2025-06-01 \"a: b\"".into(),
                page: 1,
            },
            Callback::Similar {
                id: "2407.11422".into(),
                page: 3,
            },
        ] {
            assert_eq!(Callback::decode(&cb.encode()), Some(cb.clone()));
            let cmd = cb.command().unwrap();
            let (_, button) =
                more_button(Lang::En, Some(&cmd)).unwrap_or((String::new(), cb.clone()));
            assert_eq!(button, cb, "a More button for {cmd:?} runs it again");
        }
        assert_eq!(Callback::decode("q:1:"), None);
        assert_eq!(Callback::decode("m:x:2407.11422"), None);
        let mut table = CallbackTable::new(2, 64);
        let long = Callback::Subscribe(format!("q:{}", "x".repeat(100)));
        let data = table.data(long.clone());
        assert!(data.len() <= 64);
        assert_eq!(table.resolve(&data), Some(long));
        table.data(Callback::Subscribe("y".repeat(80)));
        table.data(Callback::Subscribe("z".repeat(80)));
        assert_eq!(table.resolve(&data), None, "evicted: answered as expired");
        assert_eq!(table.resolve("garbage"), None);
        assert_eq!(table.resolve("r:x:1:nerf"), None);
    }
}

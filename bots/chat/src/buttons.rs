//! Buttons under bot messages, platform-neutral: what a tap means (`Callback`), its compact
//! text form for the platform's button data, and a bounded table for data too long for the
//! platform's limit. Pure: no I/O.

use std::collections::HashMap;

use crate::{Command, Lang, PaperItem, Rate, Rated, t};

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
    /// The next page of `/saved`.
    SavedPage(u32),
    /// A paper's rating buttons: open its row (the paper's number), or rate it.
    Rate {
        id: String,
        tap: RateTap,
    },
    /// Data too long for the platform's limit, kept in the bot's memory under this key.
    Stored(u64),
}

/// What a tap on a paper's rating buttons does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateTap {
    /// The paper's number: shows its 👍 👎 ⭐ row under the message.
    Open,
    Rate(Rate),
    /// ✕: hides the row.
    Close,
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
            Callback::Rate { id, tap } => {
                let t = match tap {
                    RateTap::Open => 'o',
                    RateTap::Rate(Rate::Up) => 'u',
                    RateTap::Rate(Rate::Down) => 'd',
                    RateTap::Rate(Rate::Save) => 's',
                    RateTap::Close => 'c',
                };
                format!("v:{t}:{id}")
            }
            Callback::SavedPage(p) => format!("a:{p}"),
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
            "a" => Callback::SavedPage(rest.parse().ok()?),
            "v" => {
                let (t, id) = rest.split_once(':')?;
                let tap = match t {
                    "o" => RateTap::Open,
                    "u" => RateTap::Rate(Rate::Up),
                    "d" => RateTap::Rate(Rate::Down),
                    "s" => RateTap::Rate(Rate::Save),
                    "c" => RateTap::Close,
                    _ => return None,
                };
                if id.is_empty() {
                    return None;
                }
                Callback::Rate {
                    id: id.to_string(),
                    tap,
                }
            }
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
            Callback::SavedPage(p) => Command::Saved {
                page: *p,
                bibtex: false,
            },
            Callback::Stored(_) | Callback::Rate { .. } => return None,
        })
    }
}

/// Papers' number buttons per row (Discord allows five; phones show five comfortably).
pub const NUMBERS_PER_ROW: usize = 5;

/// A paper's number button: its number in the message's list and the chat's ratings so far.
pub fn number_label(n: usize, rated: &Rated) -> String {
    let mut s = n.to_string();
    for (count, mark) in [(rated.up, "👍"), (rated.down, "👎"), (rated.saved, "⭐")] {
        if count > 0 {
            s.push_str(&format!(" {mark}{count}"));
        }
    }
    s
}

/// The number buttons under a message showing `count` of a list's `papers` from `from` on
/// (numbered from `from + 1`, with the chat's ratings so far): a tap opens the paper's rating
/// row, the second tap rates.
pub fn number_rows(
    papers: &[PaperItem],
    from: usize,
    count: usize,
) -> Vec<Vec<(String, Callback)>> {
    let shown: Vec<(usize, &PaperItem)> =
        papers.iter().enumerate().skip(from).take(count).collect();
    shown
        .chunks(NUMBERS_PER_ROW)
        .map(|row| {
            row.iter()
                .map(|(i, p)| {
                    (
                        number_label(i + 1, &p.rated),
                        Callback::Rate {
                            id: p.id.clone(),
                            tap: RateTap::Open,
                        },
                    )
                })
                .collect()
        })
        .collect()
}

/// A paper's rating row: 👍 👎 ⭐ and ✕, headed by its number.
pub fn rating_row(n: usize, id: &str, lang: Lang) -> Vec<(String, Callback)> {
    let cb = |tap| Callback::Rate {
        id: id.to_string(),
        tap,
    };
    vec![
        (format!("{n}: 👍"), cb(RateTap::Rate(Rate::Up))),
        ("👎".into(), cb(RateTap::Rate(Rate::Down))),
        (
            format!("⭐ {}", t(lang, "save", "收藏")),
            cb(RateTap::Rate(Rate::Save)),
        ),
        ("✕".into(), cb(RateTap::Close)),
    ]
}

/// A keyboard as a platform hands it back with a tap: label and data of each button.
pub type Keyboard = Vec<Vec<(String, String)>>;

/// The papers whose number buttons a keyboard holds, in order.
pub fn numbered_papers(keyboard: &Keyboard) -> Vec<String> {
    keyboard
        .iter()
        .flatten()
        .filter_map(|(_, d)| match Callback::decode(d) {
            Some(Callback::Rate {
                id,
                tap: RateTap::Open,
            }) => Some(id),
            _ => None,
        })
        .collect()
}

/// The keyboard after a tap on a rating button (pure): every number shows the chat's tally
/// from `tallies` (the store's, read after the tap: the keyboard a tap hands back may be older
/// than another member's tap); `Open` shows the paper's rating row under the row of its
/// number (one rating row at a time); a rating or `Close` hides it. Other buttons (More,
/// Unsubscribe) stay as they are.
pub fn after_rating_tap(
    keyboard: &Keyboard,
    tap: &Callback,
    tallies: &[(String, Rated)],
    lang: Lang,
) -> Keyboard {
    let Callback::Rate { id, tap } = tap else {
        return keyboard.clone();
    };
    let is_rating_row = |row: &Vec<(String, String)>| {
        !row.is_empty()
            && row.iter().all(|(_, d)| {
                matches!(
                    Callback::decode(d),
                    Some(Callback::Rate { tap, .. }) if tap != RateTap::Open
                )
            })
    };
    let number = |label: &str| -> usize {
        label
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let mut out: Keyboard = keyboard
        .iter()
        .filter(|r| !is_rating_row(r))
        .cloned()
        .collect();
    for (label, d) in out.iter_mut().flatten() {
        if let Some(Callback::Rate {
            id,
            tap: RateTap::Open,
        }) = Callback::decode(d)
            && let Some((_, rated)) = tallies.iter().find(|(p, _)| *p == id)
        {
            *label = number_label(number(label), rated);
        }
    }
    let open = Callback::Rate {
        id: id.clone(),
        tap: RateTap::Open,
    }
    .encode();
    if *tap == RateTap::Open
        && let Some(row_at) = out.iter().position(|r| r.iter().any(|(_, d)| *d == open))
    {
        let n = out[row_at]
            .iter()
            .find(|(_, d)| *d == open)
            .map_or(0, |(l, _)| number(l));
        let row = rating_row(n, id, lang)
            .into_iter()
            .map(|(l, cb)| (l, cb.encode()))
            .collect();
        out.insert(row_at + 1, row);
    }
    out
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
        Command::Saved {
            page,
            bibtex: false,
        } => Some((label, Callback::SavedPage(*page))),
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
            Callback::SavedPage(2),
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

    #[test]
    fn two_taps_rate_a_paper_and_its_number_shows_the_tally() {
        let papers = [
            PaperItem {
                id: "2401.00001".into(),
                ..PaperItem::default()
            },
            PaperItem {
                id: "2401.00002".into(),
                rated: Rated {
                    up: 1,
                    ..Rated::default()
                },
                ..PaperItem::default()
            },
        ];
        let rows = number_rows(&papers, 0, 2);
        assert_eq!(
            number_rows(&papers, 1, 5)[0][0].0,
            "2 👍1",
            "numbered in the list"
        );
        let mut kb: Keyboard = rows
            .iter()
            .map(|r| r.iter().map(|(l, cb)| (l.clone(), cb.encode())).collect())
            .collect();
        kb.push(vec![("More ▶".into(), "r:1:5:nerf".into())]);
        assert_eq!(kb[0][1].0, "2 👍1");
        for cb in [
            Callback::Rate {
                id: "2401.00002".into(),
                tap: RateTap::Open,
            },
            Callback::Rate {
                id: "hep-th/9901001".into(),
                tap: RateTap::Rate(Rate::Save),
            },
            Callback::Rate {
                id: "2401.00002".into(),
                tap: RateTap::Close,
            },
        ] {
            assert_eq!(Callback::decode(&cb.encode()), Some(cb.clone()));
            assert!(cb.encode().len() <= 64, "fits Telegram's callback data");
            assert_eq!(cb.command(), None);
        }
        // First tap: the rating row appears under the numbers.
        let open = Callback::Rate {
            id: "2401.00002".into(),
            tap: RateTap::Open,
        };
        let kb2 = after_rating_tap(&kb, &open, &[], Lang::En);
        assert_eq!(kb2.len(), 3);
        assert_eq!(kb2[1][0].0, "2: 👍");
        assert_eq!(kb2[2], kb[1], "other buttons stay");
        // Opening another paper's row replaces it.
        let other = Callback::Rate {
            id: "2401.00001".into(),
            tap: RateTap::Open,
        };
        let kb3 = after_rating_tap(&kb2, &other, &[], Lang::En);
        assert_eq!(kb3.len(), 3);
        assert_eq!(kb3[1][0].0, "1: 👍");
        // Second tap: rated, the row goes, the number shows the chat's tally.
        let up = Callback::Rate {
            id: "2401.00001".into(),
            tap: RateTap::Rate(Rate::Up),
        };
        assert_eq!(numbered_papers(&kb3), ["2401.00001", "2401.00002"]);
        let tallies = [
            (
                "2401.00001".to_string(),
                Rated {
                    up: 2,
                    saved: 1,
                    down: 0,
                },
            ),
            // Another member's tap since: the store's tally wins over the old label.
            (
                "2401.00002".to_string(),
                Rated {
                    up: 1,
                    down: 1,
                    saved: 0,
                },
            ),
        ];
        let kb4 = after_rating_tap(&kb3, &up, &tallies, Lang::En);
        assert_eq!(kb4.len(), 2);
        assert_eq!(kb4[0][0].0, "1 👍2 ⭐1");
        assert_eq!(kb4[0][1].0, "2 👍1 👎1");
        let close = Callback::Rate {
            id: "2401.00002".into(),
            tap: RateTap::Close,
        };
        assert_eq!(after_rating_tap(&kb2, &close, &[], Lang::En), kb);
    }
}

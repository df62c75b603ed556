//! Values of the config parsed into their types as the file is read (serde), so a bad value
//! is an error naming its key at load time and nothing parses a string again later: time
//! zones, times of day, the listener's address, URLs, Discord ids, the platforms' modes.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::ops::Deref;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::model::chat;

/// An IANA time zone (`Europe/Berlin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(pub Tz);

/// A time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(pub NaiveTime);

/// The HTTP listener: an address, or none (`off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Off,
    At(SocketAddr),
}

impl Listen {
    /// The address to listen on, or `None` when the listener is off.
    pub fn address(self) -> Option<SocketAddr> {
        match self {
            Listen::Off => None,
            Listen::At(a) => Some(a),
        }
    }
}

/// An http(s) URL with a host, checked when the config is read. It reads as the text the
/// config gave (so joining paths onto it is as written), and `url()` gives it parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    text: String,
    url: reqwest::Url,
}

impl HttpUrl {
    pub fn parse(s: &str) -> Option<HttpUrl> {
        let text = s.trim();
        let url = reqwest::Url::parse(text).ok()?;
        (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then(|| HttpUrl {
            text: text.to_string(),
            url,
        })
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// A URL written in the code (a default).
    pub fn known(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap_or_else(|| panic!("`{s}` is an http(s) URL"))
    }
}

impl Deref for HttpUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

/// A Discord id (a snowflake: digits, never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscordId(pub NonZeroU64);

/// How Telegram's updates arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TelegramMode {
    /// Long polling: no public URL needed.
    #[default]
    Polling,
    /// Telegram POSTs to `webhook_url`.
    Webhook,
}

/// How Discord's interactions arrive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscordMode {
    /// The gateway WebSocket: no public URL needed.
    #[default]
    Gateway,
    /// Discord POSTs interactions to `/discord/interactions`.
    Http,
}

/// Reads a string and parses it with `parse`, or says what it should look like.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| de::Error::custom(format!("`{s}` is not {expected}")))
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(
            d,
            |s| chat::parse_zone(s).map(Zone),
            "an IANA time zone (e.g. Europe/Berlin)",
        )
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(
            d,
            |s| chat::parse_time(s).map(TimeOfDay),
            "a time like 08:30",
        )
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(
            d,
            |s| {
                let s = s.trim();
                if s.is_empty() || s.eq_ignore_ascii_case("off") {
                    Some(Listen::Off)
                } else {
                    s.parse().ok().map(Listen::At)
                }
            },
            "an address like 127.0.0.1:8080, or off",
        )
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(d, HttpUrl::parse, "an http(s) URL like https://example.org")
    }
}

/// An optional URL, where an empty string (the environment cannot unset a key) is none.
pub fn optional_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpUrl>, D::Error> {
    parsed(
        d,
        |s| match s.trim() {
            "" => Some(None),
            s => HttpUrl::parse(s).map(Some),
        },
        "an http(s) URL like https://example.org, or empty",
    )
}

/// An optional URL written back as `optional_url` reads it: none is empty.
pub fn optional_url_text<S: Serializer>(u: &Option<HttpUrl>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(u.as_deref().unwrap_or(""))
}

impl<'de> Deserialize<'de> for DiscordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        parsed(
            d,
            |s| s.trim().parse().ok().map(DiscordId),
            "a Discord id (digits, from Developer Mode > Copy ID)",
        )
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for DiscordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::At(a) => write!(f, "{a}"),
        }
    }
}

macro_rules! serialize_as_text {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    )*};
}
serialize_as_text!(Zone, TimeOfDay, Listen, HttpUrl, DiscordId);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct T {
        zone: Zone,
        at: TimeOfDay,
        listen: Listen,
        mode: TelegramMode,
    }

    #[test]
    fn values_parse_into_their_types_and_print_back() {
        let t: T = toml::from_str(
            "zone = \"Asia/Shanghai\"\nat = \"07:05\"\nlisten = \"0.0.0.0:8080\"\nmode = \"webhook\"",
        )
        .unwrap();
        assert_eq!(t.zone.0, chrono_tz::Asia::Shanghai);
        assert_eq!(t.at.to_string(), "07:05");
        assert_eq!(t.listen.address().unwrap().port(), 8080);
        assert_eq!(t.mode, TelegramMode::Webhook);
        assert_eq!(
            toml::from_str::<T>(&toml::to_string(&t).unwrap()).unwrap(),
            t
        );
        let off: Listen = toml::from_str::<std::collections::BTreeMap<String, Listen>>(
            "l = \"off\"",
        )
        .unwrap()["l"];
        assert_eq!(off.address(), None);
    }

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct U {
        url: HttpUrl,
        #[serde(deserialize_with = "optional_url", default)]
        maybe: Option<HttpUrl>,
        id: DiscordId,
    }

    #[test]
    fn urls_and_ids_parse_and_keep_their_text() {
        let u: U = toml::from_str("url = \" https://rss.arxiv.org \"\nmaybe = \"\"\nid = \"1234\"")
            .unwrap();
        assert_eq!(&*u.url, "https://rss.arxiv.org", "as written, trimmed");
        assert_eq!(u.url.url().host_str(), Some("rss.arxiv.org"));
        assert_eq!((u.maybe, u.id.0.get()), (None, 1234));
        for (text, says) in [
            ("url = \"ftp://x.org\"\nid = \"1\"", "not an http(s) URL"),
            ("url = \"https://\"\nid = \"1\"", "not an http(s) URL"),
            ("url = \"example.org\"\nid = \"1\"", "not an http(s) URL"),
            (
                "url = \"http://a\"\nmaybe = \"nope\"\nid = \"1\"",
                "or empty",
            ),
            ("url = \"http://a\"\nid = \"0\"", "not a Discord id"),
            ("url = \"http://a\"\nid = \"12ab\"", "not a Discord id"),
        ] {
            let e = toml::from_str::<U>(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_bad_value_says_what_it_should_be() {
        for (text, says) in [
            (
                "zone = \"Mars/Base\"\nat = \"07:05\"\nlisten = \"off\"\nmode = \"polling\"",
                "`Mars/Base` is not an IANA time zone",
            ),
            (
                "zone = \"UTC\"\nat = \"25:00\"\nlisten = \"off\"\nmode = \"polling\"",
                "`25:00` is not a time like 08:30",
            ),
            (
                "zone = \"UTC\"\nat = \"08:00\"\nlisten = \"localhost\"\nmode = \"polling\"",
                "not an address like 127.0.0.1:8080",
            ),
            (
                "zone = \"UTC\"\nat = \"08:00\"\nlisten = \"off\"\nmode = \"pigeon\"",
                "unknown variant `pigeon`",
            ),
        ] {
            let e = toml::from_str::<T>(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}

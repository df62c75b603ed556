//! A chat as the core knows it: its record, its typed settings (parsed once, with their
//! defaults in one place) and its subscriptions. Values only; `store` keeps them.

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use paperbell_chat::{ChatRef, Lang};

pub use super::categories::CategorySet;

/// A digest's layout, as `/settings format` chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DigestFormat {
    /// A message per topic, each paper with its TL;DR and links.
    #[default]
    Full,
    /// A message per topic, titles and links only.
    Compact,
    /// One message for all of the chat's topics.
    Combined,
}

impl DigestFormat {
    pub const ALL: [DigestFormat; 3] = [
        DigestFormat::Full,
        DigestFormat::Compact,
        DigestFormat::Combined,
    ];

    pub fn parse(s: &str) -> Option<DigestFormat> {
        DigestFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DigestFormat::Full => "full",
            DigestFormat::Compact => "compact",
            DigestFormat::Combined => "combined",
        }
    }
}

/// How often a chat's digest comes, as `/settings every` chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cadence {
    /// Every local day at the chat's time.
    #[default]
    Daily,
    /// Once a week, on this local weekday at the chat's time, with the week's best.
    Weekly(Weekday),
}

impl Cadence {
    /// `day` (or `daily`), or a weekday: `mon`, `Monday`.
    pub fn parse(s: &str) -> Option<Cadence> {
        let s = s.trim();
        if ["day", "daily"].iter().any(|d| d.eq_ignore_ascii_case(s)) {
            return Some(Cadence::Daily);
        }
        s.parse::<Weekday>().ok().map(Cadence::Weekly)
    }

    /// Whether the chat's digest comes on local `day`.
    pub fn includes(self, day: NaiveDate) -> bool {
        use chrono::Datelike;
        match self {
            Cadence::Daily => true,
            Cadence::Weekly(w) => day.weekday() == w,
        }
    }

    /// `day` or the weekday's three letters, as `/settings` shows it and the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "day",
            Cadence::Weekly(d) => match d {
                Weekday::Mon => "mon",
                Weekday::Tue => "tue",
                Weekday::Wed => "wed",
                Weekday::Thu => "thu",
                Weekday::Fri => "fri",
                Weekday::Sat => "sat",
                Weekday::Sun => "sun",
            },
        }
    }
}

/// Papers per topic in a digest unless the chat says otherwise.
pub const DEFAULT_MAX_PER_TOPIC: u32 = 10;
/// What `/settings max` accepts.
pub const MAX_PER_TOPIC: std::ops::RangeInclusive<u32> = 1..=50;

/// A chat's own settings; `None` means "the default" (`ChatDefaults`, then the built-in one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ChatSettings {
    pub time: Option<NaiveTime>,
    pub tz: Option<Tz>,
    pub lang: Option<Lang>,
    pub max: Option<u32>,
    pub format: Option<DigestFormat>,
    /// The categories `for-you` looks in; empty: the categories of the chat's topics.
    pub cats: CategorySet,
    pub every: Option<Cadence>,
}

/// The defaults the operator configures (`[schedule] delivery_time`, `delivery_timezone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatDefaults {
    pub time: NaiveTime,
    pub tz: Tz,
}

impl Default for ChatDefaults {
    fn default() -> Self {
        ChatDefaults {
            time: NaiveTime::from_hms_opt(8, 0, 0).expect("a valid time"),
            tz: Tz::UTC,
        }
    }
}

/// A chat's settings as they apply: its own, else the configured defaults (and, for the
/// language, the client's locale), else the built-in ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Effective {
    pub time: NaiveTime,
    pub tz: Tz,
    pub lang: Lang,
    pub max: u32,
    pub format: DigestFormat,
    pub cats: CategorySet,
    pub every: Cadence,
}

/// A setting a person gave that does not parse; `commands` words the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("time is HH:MM")]
    Time,
    #[error("tz is an IANA time zone")]
    Zone,
    #[error("lang is en or zh")]
    Lang,
    #[error("max is a number from 1 to 50")]
    Max,
    #[error("format is full, compact or combined")]
    Format,
    #[error("cats is arXiv categories, or off")]
    Cats,
    #[error("every is day or a weekday")]
    Every,
    #[error("no such setting")]
    UnknownKey,
}

/// `HH:MM`, as settings and the config write a time of day.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    // The stored form, read for every chat of a planning run, without the format machinery.
    if let [h1, h2, b':', m1, m2] = s.as_bytes()
        && [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit())
    {
        let two = |a: &u8, b: &u8| u32::from((a - b'0') * 10 + (b - b'0'));
        return NaiveTime::from_hms_opt(two(h1, h2), two(m1, m2), 0);
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

/// An IANA zone name (`Europe/Berlin`).
pub fn parse_zone(s: &str) -> Option<Tz> {
    s.trim().parse().ok()
}

/// A digest size within `MAX_PER_TOPIC`.
pub fn parse_max(s: &str) -> Option<u32> {
    s.trim().parse().ok().filter(|n| MAX_PER_TOPIC.contains(n))
}

impl ChatSettings {
    pub fn effective(&self, defaults: &ChatDefaults, locale: Option<&str>) -> Effective {
        Effective {
            time: self.time.unwrap_or(defaults.time),
            tz: self.tz.unwrap_or(defaults.tz),
            lang: self
                .lang
                .or_else(|| locale.and_then(Lang::from_code))
                .unwrap_or(Lang::En),
            max: self.max.unwrap_or(DEFAULT_MAX_PER_TOPIC),
            format: self.format.unwrap_or_default(),
            cats: self.cats,
            every: self.every.unwrap_or_default(),
        }
    }

    /// Sets `key` (`time`, `tz`, `lang`, `max`, `format`, `cats`, `every`) from what a person
    /// typed.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let v = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "time" => self.time = Some(parse_time(v).ok_or(SettingError::Time)?),
            "tz" => self.tz = Some(parse_zone(v).ok_or(SettingError::Zone)?),
            "lang" => self.lang = Some(Lang::from_code(v).ok_or(SettingError::Lang)?),
            "max" => self.max = Some(parse_max(v).ok_or(SettingError::Max)?),
            "format" => self.format = Some(DigestFormat::parse(v).ok_or(SettingError::Format)?),
            "cats" if v.eq_ignore_ascii_case("off") => self.cats = CategorySet::default(),
            "cats" => {
                let cats = CategorySet::parse(v).map_err(|_| SettingError::Cats)?;
                if cats.is_empty() {
                    return Err(SettingError::Cats);
                }
                self.cats = cats;
            }
            "every" => self.every = Some(Cadence::parse(v).ok_or(SettingError::Every)?),
            _ => return Err(SettingError::UnknownKey),
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub platform: String,
    pub id: String,
    pub title: Option<String>,
    /// False once the platform said the chat is gone or blocked the bot; subscriptions stay.
    pub active: bool,
    pub settings: ChatSettings,
}

impl ChatRecord {
    /// A chat seen for the first time: active, with the configured defaults.
    pub fn new(c: &ChatRef) -> ChatRecord {
        ChatRecord {
            platform: c.platform.as_str().to_string(),
            id: c.id.clone(),
            title: None,
            active: true,
            settings: ChatSettings::default(),
        }
    }
}

/// A chat's subscription to one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub topic_id: String,
    pub topic_name: String,
    /// For ad-hoc topics: the query text, so the topic can be rebuilt.
    pub query: Option<String>,
    /// The latest announcement day when the subscription was made: digests start after it.
    pub since: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_once_and_defaults_fill_the_rest() {
        let mut s = ChatSettings::default();
        s.set("time", " 07:05 ").unwrap();
        s.set("TZ", "Asia/Shanghai").unwrap();
        s.set("format", "Combined").unwrap();
        assert_eq!(s.set("max", "51"), Err(SettingError::Max));
        assert_eq!(s.set("time", "7 am"), Err(SettingError::Time));
        assert_eq!(s.set("time", "24:00"), Err(SettingError::Time));
        assert_eq!(parse_time("7:05"), NaiveTime::from_hms_opt(7, 5, 0));
        assert_eq!(parse_time("23:59"), NaiveTime::from_hms_opt(23, 59, 0));
        assert_eq!(s.set("tz", "Mars/Olympus"), Err(SettingError::Zone));
        assert_eq!(s.set("colour", "red"), Err(SettingError::UnknownKey));
        let e = s.effective(&ChatDefaults::default(), Some("zh-hans"));
        assert_eq!(e.time, NaiveTime::from_hms_opt(7, 5, 0).unwrap());
        assert_eq!(e.tz, chrono_tz::Asia::Shanghai);
        assert_eq!(
            e.lang,
            Lang::Zh,
            "the locale speaks when the chat set no language"
        );
        assert_eq!(e.max, DEFAULT_MAX_PER_TOPIC);
        assert_eq!(e.format, DigestFormat::Combined);
        s.set("cats", "cs.cv cs.RO").unwrap();
        assert_eq!(s.cats.text(), "cs.CV cs.RO");
        assert_eq!(s.set("cats", "cs.CV cs.XX"), Err(SettingError::Cats));
        assert_eq!(s.set("cats", ""), Err(SettingError::Cats));
        assert_eq!(
            s.cats.text(),
            "cs.CV cs.RO",
            "a refused change changes nothing"
        );
        s.set("every", "Monday").unwrap();
        assert_eq!(s.every, Some(Cadence::Weekly(Weekday::Mon)));
        assert_eq!(Cadence::parse("mon").map(Cadence::as_str), Some("mon"));
        assert_eq!(s.set("every", "fortnight"), Err(SettingError::Every));
        s.set("cats", "OFF").unwrap();
        assert!(s.cats.is_empty());
        let d = ChatSettings::default().effective(&ChatDefaults::default(), None);
        assert_eq!(d.every, Cadence::Daily);
        assert_eq!((d.time.to_string(), d.tz), ("08:00:00".into(), Tz::UTC));
    }
}

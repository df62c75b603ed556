//! On-disk encoding of store records: one version byte, then postcard. A record whose version
//! byte this build does not know is an error, never silently misread, so the format can migrate.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::StoreError;
use paperbell_chat::Lang;

use crate::model::chat::{self, ChatRecord, ChatSettings, Subscription};
use crate::model::enrichment::HfInfo;
use crate::model::paper::{AnnounceType, Category, Paper, PaperId, StoredPaper};

pub const PAPER_V1: u8 = 1;
/// A chat record as written before `cats` and `every` (read, converted on the next write).
pub const CHAT_V1: u8 = 1;
/// A chat record v2: the settings gained `cats` and `every`.
pub const CHAT_V2: u8 = 2;
/// A subscription as written before subscription records (one key per subscription).
pub const SUB_V1: u8 = 1;
/// A chat's subscriptions v1: postcard `Vec<Subscription>`, by topic id.
pub const SUBS_V1: u8 = 1;
/// Posting list v1: postcard `Vec<String>` of paper ids, oldest first.
pub const LIST_V1: u8 = 1;
pub const OUTBOX_V1: u8 = 1;
/// Outbox item v2: the planned message carries its overview line.
pub const OUTBOX_V2: u8 = 2;
/// Outbox batch v3: a planning run's distinct messages once, then its items.
pub const OUTBOX_V3: u8 = 3;
pub const DELIVERY_STATE_V1: u8 = 1;
/// Hugging Face's facts before they kept the paper's media (`HfInfoV1`).
pub const HF_V1: u8 = 1;
/// Hugging Face's facts with the paper's first image (`model::enrichment::HfInfo`).
pub const HF_V2: u8 = 2;
pub const SUMMARY_V1: u8 = 1;
/// One member's rating of a paper in a chat, before ratings kept their tap (`RatingV1`).
pub const RATING_V1: u8 = 1;
/// One member's rating of a paper in a chat (`model::rating::Rating`, with the tap that made it).
pub const RATING_V2: u8 = 2;
/// A chat's taste model (`taste::Taste`).
pub const TASTE_V1: u8 = 1;
/// A paper's embedding: its model, scale and bytes.
pub const EMBEDDING_V1: u8 = 1;
/// What a paper version's HTML edition gave (`model::enrichment::FigureLookup`).
pub const FIGURE_V1: u8 = 1;
/// A topic day's overview keywords: the papers they were worked out from, and the keywords.
pub const KEYWORDS_V1: u8 = 1;
/// A paper's similar papers (`store::SimilarList`).
pub const SIMILAR_V1: u8 = 1;
/// v1 with whether the paper's embedding weighed in.
pub const SIMILAR_V2: u8 = 2;

pub fn encode<T: Serialize>(version: u8, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![version];
    out.extend(postcard::to_stdvec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(
    expected: u8,
    what: &str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&v, rest)) if v == expected => {
            postcard::from_bytes(rest).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
        }
        Some((&v, _)) => Err(StoreError::UnknownRecordVersion {
            what: what.to_string(),
            version: v,
        }),
        None => Err(StoreError::Corrupt(format!("{what}: empty record"))),
    }
}

/// Day as `yyyymmdd`, big-endian in keys so that byte order is date order.
pub fn day_key(d: NaiveDate) -> [u8; 4] {
    use chrono::Datelike;
    (d.year() as u32 * 10000 + d.month() * 100 + d.day()).to_be_bytes()
}

pub fn day_from_key(b: &[u8]) -> Option<NaiveDate> {
    let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    NaiveDate::from_ymd_opt((n / 10000) as i32, (n / 100) % 100, n % 100)
}

/// `#[serde(with)]` for a day stored as days since 0001-01-01 (an `i32`): records written
/// once per chat and run, where formatting and parsing a date string per entry showed in
/// planning's profile.
pub mod day_num {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(super::days(Some(*d)).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        Ok(super::from_days(Some(i32::deserialize(d)?)).unwrap_or_default())
    }
}

/// `day_num` for an optional day.
pub mod opt_day_num {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        super::days(*d).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        Ok(super::from_days(Option::<i32>::deserialize(d)?))
    }
}

fn days(d: Option<NaiveDate>) -> Option<i32> {
    d.map(|d| (d - NaiveDate::default()).num_days() as i32)
}

fn from_days(n: Option<i32>) -> Option<NaiveDate> {
    n.map(|n| NaiveDate::default() + chrono::Duration::days(n as i64))
}

/// The borrowed twin of `PaperRecordV1` for writing without copying every string; postcard
/// encodes `&str`/`&[T]` exactly like `String`/`Vec<T>`, so both read the same bytes.
#[derive(Serialize)]
pub struct PaperRecordRef<'a> {
    id: &'a str,
    version: u32,
    title: &'a str,
    authors: &'a [String],
    primary_category: Option<&'a str>,
    categories: Vec<&'a str>,
    published: Option<i64>,
    updated: Option<i64>,
    abstract_text: &'a str,
    comment: Option<&'a str>,
    doi: Option<&'a str>,
    journal_ref: Option<&'a str>,
    pdf_url: Option<&'a str>,
    announce_type: Option<u8>,
    first_announced: Option<i32>,
    topics: Vec<(&'a str, i32)>,
}

impl<'a> From<&'a StoredPaper> for PaperRecordRef<'a> {
    fn from(s: &'a StoredPaper) -> Self {
        let p = &s.paper;
        let derived = p.pdf_url.as_deref().is_some_and(|u| {
            // Stored as "" when it is the derived https://arxiv.org/pdf/<id>v<N>.
            u.strip_prefix("https://arxiv.org/pdf/")
                .and_then(|r| r.strip_prefix(p.id.as_str()))
                .and_then(|r| r.strip_prefix('v'))
                .is_some_and(|v| v.parse() == Ok(p.version))
        });
        PaperRecordRef {
            id: p.id.as_str(),
            version: p.version,
            title: &p.title,
            authors: &p.authors,
            primary_category: p.primary_category.as_ref().map(|c| c.0.as_str()),
            categories: p.categories.iter().map(|c| c.0.as_str()).collect(),
            published: ts(p.published),
            updated: ts(p.updated),
            abstract_text: &p.abstract_text,
            comment: p.comment.as_deref(),
            doi: p.doi.as_deref(),
            journal_ref: p.journal_ref.as_deref(),
            pdf_url: if derived {
                Some("")
            } else {
                p.pdf_url.as_deref()
            },
            announce_type: p
                .announce_type
                .and_then(|a| TYPES.iter().position(|t| *t == a).map(|i| i as u8)),
            first_announced: days(s.first_announced),
            topics: s
                .topics
                .iter()
                .map(|(t, d)| (t.as_str(), days(Some(*d)).unwrap_or(0)))
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub struct PaperRecordV1 {
    id: String,
    version: u32,
    title: String,
    authors: Vec<String>,
    primary_category: Option<String>,
    categories: Vec<String>,
    published: Option<i64>,
    updated: Option<i64>,
    abstract_text: String,
    comment: Option<String>,
    doi: Option<String>,
    journal_ref: Option<String>,
    /// Only stored when it differs from the derived `https://arxiv.org/pdf/<id>v<N>`.
    pdf_url: Option<String>,
    announce_type: Option<u8>,
    first_announced: Option<i32>,
    topics: Vec<(String, i32)>,
}

fn ts(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

fn from_ts(n: Option<i64>) -> Option<DateTime<Utc>> {
    n.and_then(|n| DateTime::from_timestamp(n, 0))
}

const TYPES: [AnnounceType; 4] = [
    AnnounceType::New,
    AnnounceType::Cross,
    AnnounceType::Replace,
    AnnounceType::ReplaceCross,
];

impl TryFrom<PaperRecordV1> for StoredPaper {
    type Error = StoreError;
    fn try_from(r: PaperRecordV1) -> Result<Self, StoreError> {
        let id =
            PaperId::parse(&r.id).ok_or_else(|| StoreError::Corrupt(format!("bad id {}", r.id)))?;
        let pdf_url = match r.pdf_url {
            Some(u) if u.is_empty() => Some(id.pdf_url(r.version)),
            other => other,
        };
        Ok(StoredPaper {
            paper: Paper {
                id,
                version: r.version,
                title: r.title,
                authors: r.authors,
                primary_category: r.primary_category.map(Category),
                categories: r.categories.into_iter().map(Category).collect(),
                published: from_ts(r.published),
                updated: from_ts(r.updated),
                abstract_text: r.abstract_text,
                comment: r.comment,
                doi: r.doi,
                journal_ref: r.journal_ref,
                pdf_url,
                announce_type: r.announce_type.and_then(|i| TYPES.get(i as usize).copied()),
            },
            first_announced: from_days(r.first_announced),
            topics: r
                .topics
                .into_iter()
                .map(|(t, d)| (t, from_days(Some(d)).unwrap_or_default()))
                .collect(),
        })
    }
}

/// Hugging Face's facts as `HF_V1` wrote them: v2 without `media`.
#[derive(Serialize, Deserialize)]
pub struct HfInfoV1 {
    found: bool,
    upvotes: Option<u32>,
    github_repo: Option<String>,
    github_stars: Option<u32>,
    project_page: Option<String>,
    ai_summary: Option<String>,
    ai_keywords: Vec<String>,
    fetched_at: i64,
}

/// A Hugging Face record in either layout.
pub fn decode_hf(bytes: &[u8]) -> Result<HfInfo, StoreError> {
    match bytes.first() {
        Some(&HF_V1) => {
            let h: HfInfoV1 = decode(HF_V1, "hugging face", bytes)?;
            Ok(HfInfo {
                found: h.found,
                upvotes: h.upvotes,
                github_repo: h.github_repo,
                github_stars: h.github_stars,
                project_page: h.project_page,
                ai_summary: h.ai_summary,
                ai_keywords: h.ai_keywords,
                fetched_at: h.fetched_at,
                media: None,
            })
        }
        _ => decode(HF_V2, "hugging face", bytes),
    }
}

/// A rating as `RATING_V1` wrote it: v2 without its tap.
#[derive(Serialize, Deserialize)]
pub struct RatingV1 {
    vote: i8,
    saved: bool,
    imported: bool,
    at: i64,
}

/// `RatingV1` records as the first layout wrote them, for tests of reading them.
#[cfg(test)]
pub struct RatingV1Fixture;

#[cfg(test)]
impl RatingV1Fixture {
    /// A 👍 changed at `at`, encoded as `RATING_V1`.
    pub fn liked_at(at: i64) -> Vec<u8> {
        let r = RatingV1 {
            vote: 1,
            saved: false,
            imported: false,
            at,
        };
        encode(RATING_V1, &r).expect("encodes")
    }
}

/// A rating record in either layout.
pub fn decode_rating(bytes: &[u8]) -> Result<crate::model::rating::Rating, StoreError> {
    match bytes.first() {
        Some(&RATING_V1) => {
            let r: RatingV1 = decode(RATING_V1, "rating", bytes)?;
            Ok(crate::model::rating::Rating {
                vote: r.vote,
                saved: r.saved,
                imported: r.imported,
                at: r.at,
                tap: 0,
            })
        }
        _ => decode(RATING_V2, "rating", bytes),
    }
}

/// A chat record as stored: settings as the texts a person typed, so that a value a later
/// build cannot parse is reported and migrated (`Store::migrate_chat_settings`), never misread.
#[derive(Serialize, Deserialize)]
pub struct ChatRecordV2 {
    platform: String,
    id: String,
    title: Option<String>,
    active: bool,
    settings: ChatSettingsV2,
}

#[derive(Default, Serialize, Deserialize)]
struct ChatSettingsV2 {
    time: Option<String>,
    tz: Option<String>,
    lang: Option<String>,
    max: Option<u32>,
    format: Option<String>,
    cats: Option<String>,
    every: Option<String>,
}

/// A chat record as `CHAT_V1` wrote it: v2 without `cats` and `every`.
#[derive(Serialize, Deserialize)]
pub struct ChatRecordV1 {
    platform: String,
    id: String,
    title: Option<String>,
    active: bool,
    settings: ChatSettingsV1,
}

#[derive(Default, Serialize, Deserialize)]
struct ChatSettingsV1 {
    time: Option<String>,
    tz: Option<String>,
    lang: Option<String>,
    max: Option<u32>,
    format: Option<String>,
}

impl From<ChatRecordV1> for ChatRecordV2 {
    fn from(c: ChatRecordV1) -> Self {
        let s = c.settings;
        ChatRecordV2 {
            platform: c.platform,
            id: c.id,
            title: c.title,
            active: c.active,
            settings: ChatSettingsV2 {
                time: s.time,
                tz: s.tz,
                lang: s.lang,
                max: s.max,
                format: s.format,
                cats: None,
                every: None,
            },
        }
    }
}

impl From<&ChatRecord> for ChatRecordV2 {
    fn from(c: &ChatRecord) -> Self {
        let s = &c.settings;
        ChatRecordV2 {
            platform: c.platform.clone(),
            id: c.id.clone(),
            title: c.title.clone(),
            active: c.active,
            settings: ChatSettingsV2 {
                time: s.time.map(|t| t.format("%H:%M").to_string()),
                tz: s.tz.map(|z| z.name().to_string()),
                lang: s.lang.map(|l| l.code().to_string()),
                max: s.max,
                format: s.format.map(|f| f.as_str().to_string()),
                cats: (!s.cats.is_empty()).then(|| s.cats.text()),
                every: s.every.map(|e| e.as_str().to_string()),
            },
        }
    }
}

impl ChatRecordV2 {
    /// A chat record in either layout.
    pub fn decode(bytes: &[u8]) -> Result<ChatRecordV2, StoreError> {
        match bytes.first() {
            Some(&CHAT_V1) => Ok(decode::<ChatRecordV1>(CHAT_V1, "chat", bytes)?.into()),
            _ => decode(CHAT_V2, "chat", bytes),
        }
    }

    /// The record, and each stored setting that does not parse (name, text): those are left
    /// at their defaults.
    pub fn into_record(self) -> (ChatRecord, Vec<(&'static str, String)>) {
        let mut bad = Vec::new();
        let s = self.settings;
        let time = setting("time", s.time, chat::parse_time, &mut bad);
        let tz = setting("tz", s.tz, chat::parse_zone, &mut bad);
        let lang = setting("lang", s.lang, Lang::from_code, &mut bad);
        let format = setting("format", s.format, chat::DigestFormat::parse, &mut bad);
        let every = setting("every", s.every, chat::Cadence::parse, &mut bad);
        let cats = setting(
            "cats",
            s.cats,
            |t| chat::CategorySet::parse(t).ok(),
            &mut bad,
        )
        .unwrap_or_default();
        let max = s.max.filter(|n| chat::MAX_PER_TOPIC.contains(n));
        if let (Some(n), None) = (s.max, max) {
            bad.push(("max", n.to_string()));
        }
        let record = ChatRecord {
            platform: self.platform,
            id: self.id,
            title: self.title,
            active: self.active,
            settings: ChatSettings {
                time,
                tz,
                lang,
                max,
                format,
                cats,
                every,
            },
        };
        (record, bad)
    }
}

/// A stored setting, parsed; its text goes to `bad` only when it does not parse (every chat of
/// a planning run is read through here).
fn setting<T>(
    name: &'static str,
    raw: Option<String>,
    parse: impl FnOnce(&str) -> Option<T>,
    bad: &mut Vec<(&'static str, String)>,
) -> Option<T> {
    let raw = raw?;
    let value = parse(&raw);
    if value.is_none() {
        bad.push((name, raw));
    }
    value
}

/// One subscription inside a chat's subscriptions record (`SUBS_V1`), the day as a number.
#[derive(Serialize, Deserialize)]
pub struct SubscriptionRecord {
    topic_id: String,
    topic_name: String,
    query: Option<String>,
    #[serde(with = "opt_day_num")]
    since: Option<NaiveDate>,
}

impl From<&Subscription> for SubscriptionRecord {
    fn from(s: &Subscription) -> Self {
        SubscriptionRecord {
            topic_id: s.topic_id.clone(),
            topic_name: s.topic_name.clone(),
            query: s.query.clone(),
            since: s.since,
        }
    }
}

impl From<SubscriptionRecord> for Subscription {
    fn from(s: SubscriptionRecord) -> Self {
        Subscription {
            topic_id: s.topic_id,
            topic_name: s.topic_name,
            query: s.query,
            since: s.since,
        }
    }
}

/// A subscription as stores before subscription records kept it (an `s` key each, the day as
/// text); read only to convert them.
#[derive(Serialize, Deserialize)]
pub struct SubscriptionV1 {
    topic_id: String,
    topic_name: String,
    query: Option<String>,
    since: Option<NaiveDate>,
}

impl From<SubscriptionV1> for Subscription {
    fn from(s: SubscriptionV1) -> Subscription {
        Subscription {
            topic_id: s.topic_id,
            topic_name: s.topic_name,
            query: s.query,
            since: s.since,
        }
    }
}

#[cfg(test)]
impl From<&Subscription> for SubscriptionV1 {
    fn from(s: &Subscription) -> SubscriptionV1 {
        SubscriptionV1 {
            topic_id: s.topic_id.clone(),
            topic_name: s.topic_name.clone(),
            query: s.query.clone(),
            since: s.since,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paper::normalize_ws;

    #[test]
    fn hugging_face_records_of_either_layout_read() {
        let v1 = HfInfoV1 {
            found: true,
            upvotes: Some(5),
            github_repo: Some("https://github.com/a/b".into()),
            github_stars: None,
            project_page: None,
            ai_summary: None,
            ai_keywords: vec!["k".into()],
            fetched_at: 9,
        };
        let old = decode_hf(&encode(HF_V1, &v1).unwrap()).unwrap();
        assert_eq!(
            (old.upvotes, old.media.clone(), old.fetched_at),
            (Some(5), None, 9)
        );
        let new = HfInfo {
            media: Some("https://cdn.example/a.png".into()),
            ..old.clone()
        };
        assert_eq!(decode_hf(&encode(HF_V2, &new).unwrap()).unwrap(), new);
    }

    #[test]
    fn a_stored_setting_that_no_longer_parses_is_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        let chat = paperbell_chat::ChatRef {
            platform: paperbell_chat::Platform::Telegram,
            id: "42".into(),
        };
        {
            let store = crate::store::Store::open(dir.path()).unwrap();
            // As an older build could have written it: a zone this build does not know.
            let old = ChatRecordV1 {
                platform: "telegram".into(),
                id: "42".into(),
                title: None,
                active: true,
                settings: ChatSettingsV1 {
                    time: Some("07:30".into()),
                    tz: Some("Mars/Olympus".into()),
                    ..ChatSettingsV1::default()
                },
            };
            store
                .db
                .insert(b"htelegram:42", encode(CHAT_V1, &old).unwrap())
                .unwrap();
            // Last opened by that older build: this one has not checked the records yet.
            store.db.remove(b"mchat_settings_checked").unwrap();
            store.flush().unwrap();
        }
        let store = crate::store::reopen(dir.path());
        let settings = store.chat(&chat).unwrap().unwrap().settings;
        assert_eq!(settings.tz, None, "the default zone applies");
        assert_eq!(settings.time, chat::parse_time("07:30"), "the rest is kept");
        // Rewritten: the record now reads back clean.
        let raw = store.db.get(b"htelegram:42").unwrap().unwrap();
        assert_eq!(raw[0], CHAT_V2, "rewritten in the current layout");
        let (_, bad) = ChatRecordV2::decode(&raw).unwrap().into_record();
        assert!(bad.is_empty(), "{bad:?}");
    }

    fn stored(pdf: Option<&str>) -> StoredPaper {
        StoredPaper {
            paper: Paper {
                id: PaperId::parse("hep-th/9901001").unwrap(),
                version: 2,
                title: normalize_ws("A  title"),
                authors: vec!["Zoë".into()],
                primary_category: Some(Category("hep-th".into())),
                categories: vec![Category("hep-th".into()), Category("gr-qc".into())],
                published: DateTime::from_timestamp(1_000_000_000, 0),
                updated: None,
                abstract_text: "$a<b$".into(),
                comment: Some("5 pages".into()),
                doi: None,
                journal_ref: None,
                pdf_url: pdf.map(str::to_string),
                announce_type: Some(AnnounceType::ReplaceCross),
            },
            first_announced: NaiveDate::from_ymd_opt(1999, 1, 4),
            topics: vec![("nerf".into(), NaiveDate::from_ymd_opt(1999, 1, 5).unwrap())],
        }
    }

    #[test]
    fn records_round_trip_with_derived_and_odd_pdf_urls() {
        for pdf in [
            Some("https://arxiv.org/pdf/hep-th/9901001v2"),
            Some("http://arxiv.org/pdf/hep-th/9901001v2"),
            None,
        ] {
            let s = stored(pdf);
            let bytes = encode(PAPER_V1, &PaperRecordRef::from(&s)).unwrap();
            let back: StoredPaper = decode::<PaperRecordV1>(PAPER_V1, "paper", &bytes)
                .unwrap()
                .try_into()
                .unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn unknown_record_versions_are_refused() {
        let mut bytes = encode(PAPER_V1, &PaperRecordRef::from(&stored(None))).unwrap();
        bytes[0] = 9;
        let err = decode::<PaperRecordV1>(PAPER_V1, "paper", &bytes)
            .err()
            .unwrap();
        assert!(
            matches!(err, StoreError::UnknownRecordVersion { version: 9, .. }),
            "{err}"
        );
        assert!(decode::<PaperRecordV1>(PAPER_V1, "paper", &[]).is_err());
    }

    #[test]
    fn day_keys_sort_by_date() {
        let a = day_key(NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
        let b = day_key(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        assert!(a < b);
        assert_eq!(day_from_key(&b), NaiveDate::from_ymd_opt(2025, 1, 1));
    }
}

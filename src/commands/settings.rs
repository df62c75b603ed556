//! `/settings`: show a chat's settings, or change one (parsed once, in `model::chat`).

use paperbell_chat::{Caller, Reply};

use super::{CommandError, Commands, user};
use crate::i18n::{Lang, t};
use crate::model::categories::{CATEGORIES, CategorySet, UnknownCategory, closest};
use crate::model::chat::{Cadence, ChatRecord, Effective, SettingError};

impl Commands<'_> {
    pub(super) fn change_setting(
        &self,
        caller: &Caller,
        record: Option<ChatRecord>,
        lang: Lang,
        key: &str,
        value: &str,
    ) -> Result<Reply, CommandError> {
        let mut rec = record.unwrap_or_else(|| ChatRecord::new(&caller.chat));
        if let Err(e) = rec.settings.set(key, value) {
            // Which category is not one, and what was probably meant.
            if let (SettingError::Cats, Err(UnknownCategory(bad))) = (e, CategorySet::parse(value))
            {
                let near = closest(&bad, CATEGORIES.iter().copied(), 1);
                let mut text = format!(
                    "{bad}: {}",
                    t(lang, "not an arXiv category", "不是 arXiv 分类")
                );
                if let Some(n) = near.first() {
                    text.push_str(&format!(
                        " ({} {n}?)",
                        t(lang, "did you mean", "是否想输入")
                    ));
                }
                return Ok(user(format!("{text}. {}", refusal(lang, e))));
            }
            return Ok(user(refusal(lang, e)));
        }
        self.store.put_chat(&rec)?;
        let eff = rec
            .settings
            .effective(&self.defaults, caller.locale.as_deref());
        Ok(Reply::Text(format!(
            "{}\n{}",
            t(eff.lang, "Saved.", "已保存。"),
            show(&eff)
        )))
    }
}

/// What a person reads when a setting does not parse.
fn refusal(lang: Lang, e: SettingError) -> &'static str {
    match e {
        SettingError::Time => t(
            lang,
            "Give the time as HH:MM, e.g. time 08:30",
            "时间格式为 HH:MM，例如 time 08:30",
        ),
        SettingError::Zone => t(
            lang,
            "That is not an IANA time zone; try tz Europe/Berlin or tz Asia/Shanghai",
            "这不是 IANA 时区；试试 tz Europe/Berlin 或 tz Asia/Shanghai",
        ),
        SettingError::Lang => t(
            lang,
            "Languages: lang en or lang zh",
            "可选语言：lang en 或 lang zh",
        ),
        SettingError::Max => t(
            lang,
            "max takes a number from 1 to 50",
            "max 取 1 到 50 之间的数字",
        ),
        SettingError::Format => t(
            lang,
            "format is full (a message per topic), compact (titles and links) or combined (one message for all topics)",
            "format 为 full（每个主题一条）、compact（仅标题和链接）或 combined（所有主题合为一条）",
        ),
        SettingError::Cats => t(
            lang,
            "cats takes arXiv categories, e.g. cats cs.CV cs.RO (what for-you looks in); cats off follows your topics' categories",
            "cats 取 arXiv 分类，例如 cats cs.CV cs.RO（for-you 的范围）；cats off 则沿用所订主题的分类",
        ),
        SettingError::Every => t(
            lang,
            "every is day (a digest each day) or a weekday, e.g. every mon (one digest a week with the week's best)",
            "every 为 day（每日一份）或星期几，例如 every mon（每周一份，汇总本周最佳）",
        ),
        SettingError::UnknownKey => t(
            lang,
            "Settings: time HH:MM, tz <zone>, lang en|zh, max <1-50>, format full|compact|combined, every day|mon..sun, cats <categories>|off",
            "设置项：time HH:MM、tz <时区>、lang en|zh、max <1-50>、format full|compact|combined、every day|mon..sun、cats <分类>|off",
        ),
    }
}

/// The settings as they apply, as `/settings` and `/list` show them.
pub(super) fn show(e: &Effective) -> String {
    let l = e.lang;
    let when = match e.every {
        Cadence::Daily => t(l, "daily digest", "每日摘要").to_string(),
        Cadence::Weekly(_) => format!(
            "{} {}",
            t(l, "weekly digest on", "每周摘要，"),
            e.every.as_str()
        ),
    };
    let cats = if e.cats.is_empty() {
        t(
            l,
            "off (your topics' categories)",
            "off（沿用所订主题的分类）",
        )
        .to_string()
    } else {
        e.cats.text()
    };
    format!(
        "{}\n• time {} ({when})\n• every {}\n• tz {}\n• lang {}\n• max {}\n• format {}\n• cats {cats}",
        t(l, "Settings:", "设置："),
        e.time.format("%H:%M"),
        e.every.as_str(),
        e.tz.name(),
        e.lang.code(),
        e.max,
        e.format.as_str()
    )
}

//! The bot's own languages: English and Simplified Chinese. Texts live next to where they are
//! used as `t(lang, english, chinese)` pairs, so a missing translation is a compile-time gap
//! nobody can overlook.

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// From a setting (`en`, `zh`) or a client locale (`zh-hans`, `zh-CN`, `en-US`).
    pub fn from_code(code: &str) -> Option<Lang> {
        let c = code.trim().to_ascii_lowercase();
        if c == "en" || c.starts_with("en-") || c.starts_with("en_") {
            Some(Lang::En)
        } else if c == "zh" || c.starts_with("zh-") || c.starts_with("zh_") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

/// Picks the text for `lang`.
pub fn t(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_map_to_languages() {
        assert_eq!(Lang::from_code("zh-hans"), Some(Lang::Zh));
        assert_eq!(Lang::from_code("zh_CN"), Some(Lang::Zh));
        assert_eq!(Lang::from_code("EN-us"), Some(Lang::En));
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(t(Lang::Zh, "Hello", "你好"), "你好");
    }
}

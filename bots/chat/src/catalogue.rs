//! The command catalogue: every command paperbell answers, with its arguments, its English and
//! Chinese descriptions and whether it changes the chat. Telegram's command menu, Discord's
//! slash commands and `/help` are all derived from this one list, so a command added here
//! shows up everywhere and nowhere else needs its words.

use crate::i18n::{Lang, t};

/// The kind of one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// Text, with suggestions over topics when `topic` is set.
    Text {
        topic: bool,
    },
    Integer {
        min: u32,
        max: u32,
    },
    /// One of fixed values: (value, English label, Chinese label).
    Choice(&'static [(&'static str, &'static str, &'static str)]),
    /// A file the person attaches (Discord's attachment option; a document on Telegram).
    File,
}

#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// `[a-z]+`, valid as a Telegram command and a Discord slash command.
    pub name: &'static str,
    /// What it does, in a few words (Discord allows 100 characters).
    pub en: &'static str,
    pub zh: &'static str,
    /// Its arguments as `/help` writes them after the name (empty: none).
    pub usage_en: &'static str,
    pub usage_zh: &'static str,
    /// A typical call, shown in Telegram's menu.
    pub example: Option<&'static str>,
    pub args: &'static [ArgSpec],
    /// Changes the chat's subscriptions or settings: administrators only in groups, Manage
    /// Channels on Discord.
    pub manage: bool,
}

impl CommandSpec {
    pub fn describe(&self, lang: Lang) -> &'static str {
        t(lang, self.en, self.zh)
    }

    /// The text of a command menu entry: the description, and an example when there is one.
    pub fn menu_text(&self, lang: Lang) -> String {
        match self.example {
            Some(e) => format!("{}: {e}", self.describe(lang)),
            None => self.describe(lang).to_string(),
        }
    }
}

const TOPIC: ArgSpec = ArgSpec {
    name: "topic",
    en: "A topic id, an arXiv category (cs.CV) or a query (\"diffusion\" AND video)",
    zh: "主题 id、arXiv 分类（cs.CV）或查询（\"diffusion\" AND video）",
    kind: ArgKind::Text { topic: true },
    required: true,
};

/// The names `/settings` takes, in the order `/help` lists them.
/// A paper by its arXiv id or URL (`/paper`, `/similar`).
const PAPER_ID: ArgSpec = ArgSpec {
    name: "id",
    en: "An arXiv id such as 2407.11422, or its URL",
    zh: "arXiv id（如 2407.11422）或其链接",
    kind: ArgKind::Text { topic: false },
    required: true,
};

pub const SETTINGS: [&str; 7] = ["time", "tz", "lang", "max", "format", "every", "cats"];

/// Every command, in the order menus and `/help` show them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "subscribe",
        en: "Follow a topic here",
        zh: "在此订阅主题",
        usage_en: "<topic>",
        usage_zh: "<主题>",
        example: Some("/subscribe nerf"),
        args: &[TOPIC],
        manage: true,
    },
    CommandSpec {
        name: "unsubscribe",
        en: "Stop following a topic here",
        zh: "在此取消订阅主题",
        usage_en: "<topic>",
        usage_zh: "<主题>",
        example: None,
        args: &[TOPIC],
        manage: true,
    },
    CommandSpec {
        name: "list",
        en: "The topics and settings here",
        zh: "此处的主题和设置",
        usage_en: "",
        usage_zh: "",
        example: None,
        args: &[],
        manage: false,
    },
    CommandSpec {
        name: "topics",
        en: "Topics to pick from",
        zh: "可选主题",
        usage_en: "",
        usage_zh: "",
        example: None,
        args: &[],
        manage: false,
    },
    CommandSpec {
        name: "recent",
        en: "Newest stored papers of a topic",
        zh: "主题最新已存储论文",
        usage_en: "<topic> [n]",
        usage_zh: "<主题> [n]",
        example: Some("/recent nerf 10"),
        args: &[
            TOPIC,
            ArgSpec {
                name: "count",
                en: "How many papers (1-20)",
                zh: "论文数量（1-20）",
                kind: ArgKind::Integer { min: 1, max: 20 },
                required: false,
            },
        ],
        manage: false,
    },
    CommandSpec {
        name: "paper",
        en: "One paper by its arXiv id or URL",
        zh: "按 arXiv id 或链接查看论文",
        usage_en: "<arXiv id or URL>",
        usage_zh: "<arXiv id 或链接>",
        example: Some("/paper 2407.11422"),
        args: &[PAPER_ID],
        manage: false,
    },
    CommandSpec {
        name: "search",
        en: "Search stored papers, best matches first",
        zh: "搜索已存储的论文，最相关的在前",
        usage_en: "<query>",
        usage_zh: "<查询>",
        example: None,
        args: &[ArgSpec {
            name: "query",
            en: "Words to look for",
            zh: "要搜索的词",
            kind: ArgKind::Text { topic: false },
            required: true,
        }],
        manage: false,
    },
    CommandSpec {
        name: "similar",
        en: "Stored papers most like one",
        zh: "与某篇论文最相似的已存储论文",
        usage_en: "<arXiv id or URL>",
        usage_zh: "<arXiv id 或链接>",
        example: Some("/similar 2407.11422"),
        args: &[PAPER_ID],
        manage: false,
    },
    CommandSpec {
        name: "digest",
        en: "The digest here, now",
        zh: "立即查看此处的摘要",
        usage_en: "",
        usage_zh: "",
        example: None,
        args: &[],
        manage: false,
    },
    CommandSpec {
        name: "saved",
        en: "The papers saved here (⭐), or all of them as a BibTeX file",
        zh: "此处收藏的论文（⭐），或导出为 BibTeX 文件",
        usage_en: "[bib]",
        usage_zh: "[bib]",
        example: Some("/saved bib"),
        args: &[ArgSpec {
            name: "as",
            en: "A list here, or a BibTeX file",
            zh: "在此列出，或导出 BibTeX 文件",
            kind: ArgKind::Choice(&[
                ("list", "List", "列表"),
                ("bib", "BibTeX file", "BibTeX 文件"),
            ]),
            required: false,
        }],
        manage: false,
    },
    CommandSpec {
        name: "import",
        en: "Seed this chat's taste: arXiv ids, or a BibTeX file (Zotero, Scholar)",
        zh: "导入偏好：arXiv id，或 BibTeX 文件（Zotero、Scholar）",
        usage_en: "<ids or URLs> | a .bib file with /import as its caption",
        usage_zh: "<id 或链接> | 以 /import 为说明发送 .bib 文件",
        example: Some("/import 2407.11422 2003.08934"),
        args: &[
            ArgSpec {
                name: "ids",
                en: "arXiv ids or URLs, separated by spaces",
                zh: "arXiv id 或链接，以空格分隔",
                kind: ArgKind::Text { topic: false },
                required: false,
            },
            ArgSpec {
                name: "file",
                en: "A BibTeX export (Zotero, Mendeley, Google Scholar) or a list of ids, up to 2 MB",
                zh: "BibTeX 导出文件（Zotero、Mendeley、Google Scholar）或 id 列表，最大 2 MB",
                kind: ArgKind::File,
                required: false,
            },
        ],
        manage: true,
    },
    CommandSpec {
        name: "forget",
        en: "Delete this chat's ratings, imports and taste model",
        zh: "删除此处的评分、导入和偏好模型",
        usage_en: "",
        usage_zh: "",
        example: None,
        args: &[],
        manage: true,
    },
    CommandSpec {
        name: "settings",
        en: "Show or change delivery time, time zone, language, max, format, weekly, categories",
        zh: "查看或修改推送时间、时区、语言、数量、格式、每周、分类",
        usage_en: "[time 08:30 | tz Asia/Shanghai | lang en|zh | max 10 | format full|compact|combined | every day|mon | cats cs.CV cs.RO|off]",
        usage_zh: "[time 08:30 | tz Asia/Shanghai | lang en|zh | max 10 | format full|compact|combined | every day|mon | cats cs.CV cs.RO|off]",
        example: None,
        args: &[
            ArgSpec {
                name: "time",
                en: "Local delivery time, HH:MM",
                zh: "本地推送时间，HH:MM",
                kind: ArgKind::Text { topic: false },
                required: false,
            },
            ArgSpec {
                name: "tz",
                en: "IANA time zone, e.g. Europe/Berlin",
                zh: "IANA 时区，如 Asia/Shanghai",
                kind: ArgKind::Text { topic: false },
                required: false,
            },
            ArgSpec {
                name: "lang",
                en: "The bot's language here",
                zh: "机器人在此使用的语言",
                kind: ArgKind::Choice(&[("en", "English", "英语"), ("zh", "简体中文", "简体中文")]),
                required: false,
            },
            ArgSpec {
                name: "max",
                en: "Most papers per topic in a digest (1-50)",
                zh: "每个主题每期最多论文数（1-50）",
                kind: ArgKind::Integer { min: 1, max: 50 },
                required: false,
            },
            ArgSpec {
                name: "format",
                en: "Full papers, a compact list, or one message for all topics",
                zh: "完整、紧凑列表，或所有主题合为一条",
                kind: ArgKind::Choice(&[
                    ("full", "Full", "完整"),
                    ("compact", "Compact", "紧凑"),
                    ("combined", "Combined", "合并"),
                ]),
                required: false,
            },
            ArgSpec {
                name: "every",
                en: "A digest every day, or one a week on this day with the week's best",
                zh: "每天一份，或每周在这一天一份（本周最佳）",
                kind: ArgKind::Choice(&[
                    ("day", "Every day", "每天"),
                    ("mon", "Mondays", "周一"),
                    ("tue", "Tuesdays", "周二"),
                    ("wed", "Wednesdays", "周三"),
                    ("thu", "Thursdays", "周四"),
                    ("fri", "Fridays", "周五"),
                    ("sat", "Saturdays", "周六"),
                    ("sun", "Sundays", "周日"),
                ]),
                required: false,
            },
            ArgSpec {
                name: "cats",
                en: "Categories for-you looks in (cs.CV cs.RO), or off for your topics' ones",
                zh: "for-you 的分类范围（cs.CV cs.RO），off 则沿用主题的分类",
                kind: ArgKind::Text { topic: false },
                required: false,
            },
        ],
        manage: true,
    },
    CommandSpec {
        name: "help",
        en: "What this bot does",
        zh: "使用说明",
        usage_en: "",
        usage_zh: "",
        example: None,
        args: &[],
        manage: false,
    },
];

/// `/start` and `/help`: what the bot does, every command of the catalogue but `/help`
/// itself, and what a topic can be.
pub fn help(lang: Lang) -> String {
    let mut out = t(
        lang,
        "paperbell rings when new arXiv papers land: one digest per topic, at this chat's time.",
        "paperbell 在新的 arXiv 论文发布时提醒你：每个主题一份摘要，按本聊天的时间发送。",
    )
    .to_string();
    out.push_str("\n\n");
    for c in COMMANDS.iter().filter(|c| c.name != "help") {
        let usage = t(lang, c.usage_en, c.usage_zh);
        out.push('/');
        out.push_str(c.name);
        if !usage.is_empty() {
            out.push(' ');
            out.push_str(usage);
        }
        out.push_str(" — ");
        out.push_str(c.describe(lang));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(t(
        lang,
        "A topic is a topic id (nerf, llm), an arXiv category (cs.CV), or a query:",
        "主题可以是主题 id（nerf、llm）、arXiv 分类（cs.CV）或查询：",
    ));
    out.push_str(
        "\n\"diffusion\" AND video -survey   ·   nerf OR \"gaussian splatting\"   ·   au:\"Kaiming He\" cat:cs.CV",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_valid_on_both_platforms_and_in_help() {
        for lang in [Lang::En, Lang::Zh] {
            let help = help(lang);
            for c in COMMANDS {
                // Telegram: [a-z0-9_]{1,32}, description 1-256; Discord: description 1-100.
                assert!(
                    (1..=32).contains(&c.name.len())
                        && c.name.bytes().all(|b| b.is_ascii_lowercase()),
                    "{}",
                    c.name
                );
                assert!(
                    (1..=100).contains(&c.describe(lang).chars().count()),
                    "{}",
                    c.name
                );
                assert!(
                    (1..=256).contains(&c.menu_text(lang).chars().count()),
                    "{}",
                    c.name
                );
                for a in c.args {
                    assert!(
                        (1..=100).contains(&t(lang, a.en, a.zh).chars().count()),
                        "{}",
                        a.name
                    );
                }
                assert_eq!(
                    help.contains(&format!("/{} ", c.name)),
                    c.name != "help",
                    "{}",
                    c.name
                );
            }
        }
        let settings = COMMANDS.iter().find(|c| c.name == "settings").unwrap();
        let names: Vec<&str> = settings.args.iter().map(|a| a.name).collect();
        assert_eq!(names, SETTINGS);
        assert!(help(Lang::En).contains("/subscribe <topic> — Follow a topic here\n"));
    }
}

//! `/start` and `/help`: derived from the shared command catalogue, as both platforms' menus are.

use crate::i18n::Lang;

/// The help text in `lang`.
pub fn help(lang: Lang) -> String {
    paperbell_chat::catalogue::help(lang)
}

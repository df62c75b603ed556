//! `paperbell rate`, `import` and `for-you`: a chat's ratings and library from the terminal,
//! and one day's papers in the chat's order (chat `local`, the terminal reader's, by default).

use serde_json::Value;

use crate::compose::for_you::ForYou;
use crate::compose::taste::reason_text;
use crate::learn::import::Imported;
use crate::model::paper::PaperId;
use crate::model::rating::RatingChange;
use crate::store::{Store, StoreError, chat_ref};
use paperbell_chat::Lang;

/// The terminal reader's chat: what `paperbell run` without a chat platform ranks by.
pub use crate::compose::LOCAL_CHAT as LOCAL;
/// Who rates from the command line.
pub const CLI_MEMBER: &str = "cli";

#[derive(Debug, thiserror::Error)]
pub enum TasteCommandError {
    #[error("--chat `{0}` is not a chat: local, telegram:ID or discord:ID")]
    Chat(String),
    #[error("`{0}` is not an arXiv id (e.g. 2407.11422 or https://arxiv.org/abs/2407.11422)")]
    NotAnId(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store's key of `--chat` (default `local`).
pub fn chat_key(arg: Option<&str>) -> Result<String, TasteCommandError> {
    match arg.map(str::trim) {
        None | Some(LOCAL) => Ok(LOCAL.to_string()),
        Some(s) => match chat_ref(s) {
            Some(c) if !c.id.is_empty() => Ok(c.to_string()),
            _ => Err(TasteCommandError::Chat(s.to_string())),
        },
    }
}

/// `paperbell rate`: sets (not toggles) the command line's rating of `id` in `chat`, retrains
/// the chat's model, and says what it now knows.
pub fn rate(
    store: &Store,
    chat: &str,
    id: &str,
    change: RatingChange,
    now: i64,
) -> Result<String, TasteCommandError> {
    let pid = PaperId::parse(id).ok_or_else(|| TasteCommandError::NotAnId(id.to_string()))?;
    let tally = store.rate(chat, pid.as_str(), CLI_MEMBER, change, now, false)?;
    let learnt = crate::learn::retrain(store, chat)?;
    let what = match change {
        RatingChange::Up => "rated up",
        RatingChange::Down => "rated down",
        RatingChange::Save => "saved",
        RatingChange::Clear | RatingChange::Import => "cleared",
    };
    let mut out = format!(
        "{pid}: {what} in chat {chat} (chat's tally: {} up, {} down, {} saved)\n",
        tally.up, tally.down, tally.saved
    );
    match learnt {
        Some(l) => out.push_str(&format!(
            "model: learnt from {} liked and {} disliked paper(s){}\n",
            l.liked,
            l.disliked,
            if l.missing > 0 {
                format!(
                    "; {} rated paper(s) are not stored and wait until they are",
                    l.missing
                )
            } else {
                String::new()
            }
        )),
        None => out.push_str("model: none (nothing rated): the chat ranks as everyone does\n"),
    }
    if store.paper(&pid)?.is_none() {
        out.push_str(&format!(
            "note: {pid} is not stored; it counts once it is (`paperbell paper {pid}` fetches it)\n"
        ));
    }
    Ok(out)
}

/// What an import did, as the command line and chats say it.
pub fn import_report(done: &Imported) -> String {
    let mut out = format!(
        "found {} entr{}; matched {} to arXiv papers ({} fetched from arXiv); not matched {}\n",
        done.found,
        if done.found == 1 { "y" } else { "ies" },
        done.matched,
        done.fetched,
        done.not_matched.len()
    );
    for label in done.not_matched.iter().take(20) {
        out.push_str(&format!("  not matched: {label}\n"));
    }
    if done.not_matched.len() > 20 {
        out.push_str(&format!("  … and {} more\n", done.not_matched.len() - 20));
    }
    if done.over_limit > 0 {
        out.push_str(&format!(
            "{} title(s) were not looked up: at most {} per import (arXiv asks for a slow pace)\n",
            done.over_limit, done.lookup_limit
        ));
    }
    if let Some(e) = &done.arxiv_failed {
        out.push_str(&format!("arXiv could not be asked: {e}\n"));
    }
    out
}

/// `for-you` as text: rank, relevance, id, title and why.
pub fn for_you_text(store: &Store, list: &[ForYou]) -> Result<String, StoreError> {
    let mut out = String::new();
    for (i, f) in list.iter().enumerate() {
        let p = &f.paper.paper;
        let mark = f.lift.map(crate::taste::mark).unwrap_or("");
        out.push_str(&format!(
            "{:>2}. {mark}{}{}v{}  {}\n",
            i + 1,
            if mark.is_empty() { "" } else { " " },
            p.id,
            p.version,
            p.title
        ));
        if let Some(why) = reason_text(store, &f.reason, &f.paper, Lang::En)? {
            out.push_str(&format!("    why: {why}\n"));
        }
    }
    Ok(out)
}

/// `for-you --json`: `recent --json`'s keys plus `score` (higher is better; null without a
/// model) and `why` (null when nothing speaks for it).
pub fn for_you_json(store: &Store, list: &[ForYou]) -> Result<Value, StoreError> {
    let mut v = Vec::with_capacity(list.len());
    for f in list {
        let mut o = super::export::paper_json(store, &f.paper)?;
        if let Value::Object(m) = &mut o {
            m.insert(
                "score".into(),
                f.score.map_or(Value::Null, |s| (s as f64).into()),
            );
            m.insert(
                "why".into(),
                reason_text(store, &f.reason, &f.paper, Lang::En)?.map_or(Value::Null, Value::from),
            );
        }
        v.push(o);
    }
    Ok(Value::Array(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chats_are_local_or_a_platform_and_id() {
        assert_eq!(chat_key(None).unwrap(), "local");
        assert_eq!(chat_key(Some("local")).unwrap(), "local");
        assert_eq!(
            chat_key(Some("telegram:-100123")).unwrap(),
            "telegram:-100123"
        );
        assert_eq!(chat_key(Some("discord:42")).unwrap(), "discord:42");
        assert!(chat_key(Some("irc:1")).is_err());
        assert!(chat_key(Some("telegram:")).is_err());
        assert!(chat_key(Some("me")).is_err());
    }
}

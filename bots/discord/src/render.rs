//! Discord rendering, pure: digests and paper lists to messages of embeds within every Discord
//! limit (embed title 256, description 4096, 25 fields of 1024, footer 2048, 6000 characters in
//! all embeds of a message, 10 embeds per message, content 2000). Lengths are counted in UTF-16
//! units, which is never less than Discord's character count, so the limits hold either way.
//! Markdown from arXiv or people is escaped. Plain values here; serenity types come later.

use paperbell_chat::{DigestMessage, PaperItem};

pub const MAX_CONTENT: usize = 2000;
pub const MAX_TITLE: usize = 256;
pub const MAX_DESCRIPTION: usize = 4096;
pub const MAX_FOOTER: usize = 2048;
pub const MAX_EMBEDS: usize = 10;
pub const MAX_MESSAGE_EMBED_CHARS: usize = 6000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub title: String,
    pub url: Option<String>,
    pub description: String,
    pub footer: Option<String>,
}

impl Embed {
    /// What Discord counts toward the 6000-per-message limit.
    pub fn size(&self) -> usize {
        len(&self.title) + len(&self.description) + self.footer.as_deref().map_or(0, len)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub content: String,
    pub embeds: Vec<Embed>,
}

pub fn len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Backslash-escapes Discord Markdown so titles like `a*b_c` show as written.
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*'
                | '_'
                | '~'
                | '`'
                | '|'
                | '>'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '-'
                | '<'
                | '@'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// At most `max` UTF-16 units, cut at a character boundary (and not inside an escape), with `…`.
pub fn cut(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        if n + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        out.push(c);
        n += c.len_utf16();
    }
    // An odd run of trailing backslashes would escape the ellipsis's neighbour: drop one.
    if out.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

/// One paper as one embed: linked title; authors, TL;DR and links in the description;
/// categories (and the topics it matched) in the footer.
pub fn paper_embed(p: &PaperItem) -> Embed {
    let authors = if p.authors.len() > 3 {
        format!("{} et al.", p.authors[..3].join(", "))
    } else {
        p.authors.join(", ")
    };
    let mut links = vec![format!("[arXiv:{}]({})", p.id, p.abs_url)];
    if let Some(pdf) = &p.pdf_url {
        links.push(format!("[PDF]({pdf})"));
    }
    links.extend(p.code_urls.iter().take(3).map(|u| format!("[code]({u})")));
    let links = links.join(" · ");
    // The links are never cut; the texts give way to them.
    let room = MAX_DESCRIPTION - len(&links) - 4;
    let mut text = cut(&escape_md(&authors), 400);
    if let Some(tldr) = &p.tldr {
        text.push_str("\n\n");
        text.push_str(&escape_md(tldr));
    }
    let description = format!("{}\n\n{links}", cut(&text, room.min(1500)));
    let mut footer = p
        .categories
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    if p.topics.len() > 1 {
        footer.push_str(&format!(" · {}", p.topics.join(", ")));
    }
    Embed {
        title: cut(&escape_md(&p.title), MAX_TITLE),
        url: Some(p.abs_url.clone()),
        description,
        footer: (!footer.is_empty()).then(|| cut(&footer, 300)),
    }
}

/// Packs embeds into messages: at most 10 embeds and 6000 embed characters each; the first
/// message carries `content`, the others a "(continued)" line.
pub fn pack(content: &str, embeds: Vec<Embed>) -> Vec<Message> {
    let content = cut(content, MAX_CONTENT - 20);
    let mut out = Vec::new();
    let mut cur = Message {
        content: content.clone(),
        embeds: Vec::new(),
    };
    let mut size = 0;
    for e in embeds {
        if !cur.embeds.is_empty()
            && (cur.embeds.len() == MAX_EMBEDS || size + e.size() > MAX_MESSAGE_EMBED_CHARS)
        {
            out.push(std::mem::replace(
                &mut cur,
                Message {
                    content: format!("{content} (continued)"),
                    embeds: Vec::new(),
                },
            ));
            size = 0;
        }
        size += e.size();
        cur.embeds.push(e);
    }
    out.push(cur);
    out
}

/// A digest: a header line, one embed per paper, and "+N more" when the chat's max cut it.
pub fn digest(d: &DigestMessage) -> Vec<Message> {
    let mut content = format!(
        "**{}** · {} · {}",
        escape_md(&d.title),
        d.day,
        d.papers.len() + d.more
    );
    if let Some(o) = &d.overview {
        content.push('\n');
        content.push_str(&cut(&escape_md(o), 1200));
    }
    let mut messages = pack(&content, d.papers.iter().map(paper_embed).collect());
    if d.more > 0 {
        let more = format!(
            "\n+{} more: /recent {}",
            d.more,
            d.unsubscribe_topic.as_deref().unwrap_or("")
        );
        if let Some(last) = messages.last_mut() {
            last.content = cut(&format!("{}{more}", last.content), MAX_CONTENT);
        }
    }
    messages
}

/// A list of papers under a heading (`/recent`, `/search`, `/paper`).
pub fn papers(heading: &str, papers: &[PaperItem]) -> Vec<Message> {
    pack(
        &format!("**{}**", escape_md(heading)),
        papers.iter().map(paper_embed).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(escape_md("a*b_c [x](y)"), "a\\*b\\_c \\[x\\]\\(y\\)");
    }

    #[test]
    fn cut_never_leaves_a_dangling_escape() {
        let s = cut(&escape_md("**********"), 6);
        assert!(len(&s) <= 6);
        assert_eq!(
            s.chars().rev().skip(1).take_while(|c| *c == '\\').count() % 2,
            0,
            "{s}"
        );
    }
}

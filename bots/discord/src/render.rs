//! Discord rendering, pure: digests and paper lists to messages of embeds within every Discord
//! limit (embed title 256, description 4096, 25 fields of 1024, footer 2048, 6000 characters in
//! all embeds of a message, 10 embeds per message, content 2000). Lengths are counted in UTF-16
//! units, which is never less than Discord's character count, so the limits hold either way.
//! Markdown from arXiv or people is escaped, and its TeX read as Unicode (`paperbell_chat::tex`;
//! `\textbf` as `**`). Each paper's embed carries its figure (compact lists: the first figure
//! as the thumbnail). Plain values here; `bot` turns them into serenity builders.

use paperbell_chat::buttons::{Callback, more_button, number_rows, page_buttons};
use paperbell_chat::tex;
use paperbell_chat::{Answer, DigestMessage, Lang, PaperItem, Reply, TopicItem, t};

pub const MAX_CONTENT: usize = 2000;
pub const MAX_TITLE: usize = 256;
pub const MAX_DESCRIPTION: usize = 4096;
pub const MAX_FOOTER: usize = 2048;
pub const MAX_EMBEDS: usize = 10;
pub const MAX_MESSAGE_EMBED_CHARS: usize = 6000;
/// Button labels (80) and rows of buttons per message (5, five buttons each).
pub const MAX_LABEL: usize = 80;
pub const MAX_ROWS: usize = 5;
pub const MAX_BUTTONS_PER_ROW: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub title: String,
    pub url: Option<String>,
    pub description: String,
    pub footer: Option<String>,
    /// A large image under the text (a paper's figure).
    pub image: Option<String>,
    /// A small image beside the text (a compact list's first figure).
    pub thumbnail: Option<String>,
}

impl Embed {
    /// What Discord counts toward the 6000-per-message limit.
    pub fn size(&self) -> usize {
        len(&self.title) + len(&self.description) + self.footer.as_deref().map_or(0, len)
    }
}

/// Rows of buttons: a label and what a tap does.
pub type Buttons = Vec<Vec<(String, Callback)>>;

/// One Discord message to send: content, embeds and buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub content: String,
    pub embeds: Vec<Embed>,
    pub buttons: Buttons,
    /// Seen only by the person who ran the command (interaction replies only).
    pub ephemeral: bool,
    /// Files attached (name, contents): sent as a follow-up, which can carry them.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Message {
    fn text(content: String) -> Message {
        Message {
            content,
            embeds: Vec::new(),
            buttons: Vec::new(),
            ephemeral: false,
            files: Vec::new(),
        }
    }
}

pub use paperbell_chat::text::utf16_len as len;

/// Backslash-escapes Discord Markdown so titles like `a*b_c` show as written: emphasis, code,
/// spoilers, links and `<...>` (mentions, timestamps) anywhere, `@` (no `@everyone` look-alike
/// even though mentions are off), and headings, quotes and lists only where they count, at the
/// start of a line. Dates and ids (`2024-11-19`, `cs.CV`) stay readable in notifications.
pub fn escape_md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut line_start = true;
    for c in s.chars() {
        let special = matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<' | '@'
        ) || (line_start && matches!(c, '>' | '#' | '-' | '+'));
        if special {
            out.push('\\');
        }
        out.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out
}

/// At most `max` UTF-16 units, cut at a character boundary (and not inside an escape), with `…`.
pub fn cut(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_string();
    }
    let mut out = paperbell_chat::text::cut(s, max);
    out.pop(); // the ellipsis: put back once no escape is left open
    // An odd run of trailing backslashes would escape the ellipsis's neighbour: drop one.
    if out.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

/// TeX as Discord shows it, at most `max` UTF-16 units: formulas in Unicode, `\textbf` and
/// `\emph` as `**` and `*` (each run cut inside its marks, so none is left open), everything
/// else escaped Markdown.
fn tex_md(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut room = max;
    for (text, style) in tex::styled_runs(s) {
        let mark = match (style.bold, style.italic) {
            (true, _) => "**",
            (false, true) => "*",
            _ => "",
        };
        // Emphasis round nothing but spaces would show its stars.
        let mark = if text.trim().is_empty() { "" } else { mark };
        let inner = escape_md(if mark.is_empty() { &text } else { text.trim() });
        let budget = room.saturating_sub(2 * mark.len());
        if budget == 0 {
            break;
        }
        let shown = cut(&inner, budget);
        room = room.saturating_sub(len(&shown) + 2 * mark.len());
        out.push_str(mark);
        out.push_str(&shown);
        out.push_str(mark);
        if !mark.is_empty() && text.ends_with(' ') {
            out.push(' ');
            room = room.saturating_sub(1);
        }
        if shown != inner || room == 0 {
            break;
        }
    }
    out
}

/// One paper as one embed: linked title; the translated title, authors, the TL;DR with its
/// kind (and translation), key takeaways and links in the description; categories (and the
/// topics it matched) in the footer.
pub fn paper_embed(p: &PaperItem, lang: Lang) -> Embed {
    let authors = if p.authors.len() > 3 {
        format!("{} et al.", p.authors[..3].join(", "))
    } else {
        p.authors.join(", ")
    };
    let mut links = vec![format!("[arXiv:{}]({})", p.id, p.abs_url)];
    if let Some(pdf) = &p.pdf_url {
        links.push(format!("[PDF]({pdf})"));
    }
    if let Some(html) = &p.html_url {
        links.push(format!("[HTML]({html})"));
    }
    links.extend(p.code_urls.iter().take(3).map(|u| format!("[code]({u})")));
    if let Some(page) = &p.project_url {
        links.push(format!("[{}]({page})", t(lang, "project", "项目主页")));
    }
    if let Some(n) = p.stars {
        links.push(format!("★{n}"));
    }
    if let Some(n) = p.upvotes {
        links.push(format!("▲{n}"));
    }
    let links = links.join(" · ");
    // The links are never cut; the texts give way to them.
    let room = MAX_DESCRIPTION - len(&links) - 4;
    let mut text = String::new();
    if let Some(tt) = &p.title_translated {
        text.push_str(&format!("**{}**\n", cut(&escape_md(&tex::plain(tt)), 300)));
    }
    text.push_str(&cut(&escape_md(&authors), 400));
    if let Some(r) = &p.relevance {
        text.push_str(&format!("\n{}", cut(&escape_md(&r.line(lang)), 120)));
    }
    if let Some(m) = &p.matched {
        text.push_str("\n🔎 …");
        for (piece, marked) in m.pieces() {
            let piece = escape_md(&tex::plain(&piece.replace('\n', " ")));
            if marked {
                text.push_str(&format!("**{piece}**"));
            } else {
                text.push_str(&piece);
            }
        }
        text.push('…');
    }
    if let Some(tldr) = &p.tldr {
        text.push_str(&format!(
            "\n\n**{}** {}",
            p.tldr_source.label(lang),
            tex_md(tldr, 600)
        ));
    }
    if let Some(tr) = &p.tldr_translated {
        text.push_str(&format!("\n{}", cut(&escape_md(&tex::plain(tr)), 600)));
    }
    if !p.takeaways.is_empty() {
        text.push('\n');
        for k in p.takeaways.iter().take(5) {
            text.push_str(&format!("\n• {}", cut(&escape_md(&tex::plain(k)), 200)));
        }
    }
    let description = format!("{}\n\n{links}", cut(&text, room.min(2500)));
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
        title: cut(&escape_md(&tex::plain(&p.title)), MAX_TITLE),
        url: Some(p.abs_url.clone()),
        description,
        footer: (!footer.is_empty()).then(|| cut(&footer, 300)),
        image: paperbell_chat::chat_figure(p).map(|f| f.url.clone()),
        thumbnail: None,
    }
}

/// Packs embeds into messages: at most 10 embeds and 6000 embed characters each; the first
/// message carries `content`, the others a "(continued)" line.
pub fn pack(content: &str, embeds: Vec<Embed>) -> Vec<Message> {
    let content = cut(content, MAX_CONTENT - 20);
    let mut out = Vec::new();
    let mut cur = Message::text(content.clone());
    let mut size = 0;
    for e in embeds {
        if !cur.embeds.is_empty()
            && (cur.embeds.len() == MAX_EMBEDS || size + e.size() > MAX_MESSAGE_EMBED_CHARS)
        {
            out.push(std::mem::replace(
                &mut cur,
                Message::text(format!("{content} (continued)")),
            ));
            size = 0;
        }
        size += e.size();
        cur.embeds.push(e);
    }
    out.push(cur);
    out
}

/// One line of a compact digest: its number, linked title, id and code link.
fn compact_line(n: usize, p: &PaperItem) -> String {
    let mark = p
        .relevance
        .as_ref()
        .map(|r| format!("{} ", r.mark))
        .unwrap_or_default();
    let mut line = format!(
        "{n}. {mark}[{}]({}) · `{}`",
        // One line per paper, whatever whitespace the title carries.
        cut(
            &escape_md(
                &tex::plain(&p.title)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            200
        ),
        p.abs_url,
        p.id
    );
    if let Some(code) = p.code_urls.first() {
        line.push_str(&format!(" · [code]({code})"));
    }
    line
}

/// Compact lines grouped into list embeds within the description limit.
fn compact_embeds(title: &str, papers: &[PaperItem]) -> Vec<Embed> {
    let mut out: Vec<Embed> = Vec::new();
    for line in papers
        .iter()
        .enumerate()
        .map(|(i, p)| compact_line(i + 1, p))
    {
        match out.last_mut() {
            Some(e) if len(&e.description) + 1 + len(&line) <= MAX_DESCRIPTION => {
                e.description.push('\n');
                e.description.push_str(&line);
            }
            _ => out.push(Embed {
                title: cut(title, MAX_TITLE),
                url: None,
                description: line,
                footer: None,
                image: None,
                thumbnail: None,
            }),
        }
    }
    // Each list shows the first figure among its papers, small: a glance, not a gallery.
    let mut figures = papers.iter().filter_map(paperbell_chat::chat_figure);
    if let (Some(first), Some(f)) = (out.first_mut(), figures.next()) {
        first.thumbnail = Some(f.url.clone());
    }
    out
}

/// A digest: a header line, one embed per paper (or compact list embeds), "+N more" when the
/// chat's max cut it, and the Unsubscribe button under the last message.
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
    let embeds = if d.compact {
        compact_embeds(&escape_md(&d.title), &d.papers)
    } else {
        numbered_embeds(&d.papers, d.lang)
    };
    let mut messages = pack(&content, embeds);
    with_numbers(&mut messages, &d.papers, d.compact);
    if let Some(last) = messages.last_mut() {
        if d.more > 0 {
            let more = format!(
                "\n+{} {}: /recent {}",
                d.more,
                t(d.lang, "more", "篇更多"),
                escape_md(d.unsubscribe_topic.as_deref().unwrap_or(""))
            );
            last.content = cut(&format!("{}{more}", last.content), MAX_CONTENT);
        }
        last.buttons.extend(unsubscribe_button(d));
    }
    messages
}

/// One embed per paper, its number in front of its title (its rating button's number).
fn numbered_embeds(papers: &[PaperItem], lang: Lang) -> Vec<Embed> {
    papers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut e = paper_embed(p, lang);
            e.title = cut(&format!("{}. {}", i + 1, e.title), MAX_TITLE);
            e
        })
        .collect()
}

/// Rows of number buttons a message keeps for its papers (the last row is for the message's
/// own button: More or Unsubscribe).
const NUMBER_ROWS: usize = MAX_ROWS - 1;

/// Each message gets the number buttons of the papers it shows (at most `NUMBER_ROWS` rows).
fn with_numbers(messages: &mut [Message], papers: &[PaperItem], compact: bool) {
    let mut at = 0;
    for m in messages {
        let count: usize = if compact {
            m.embeds.iter().map(|e| e.description.lines().count()).sum()
        } else {
            m.embeds.len()
        };
        m.buttons = number_rows(papers, at, count);
        at += count;
        m.buttons.truncate(NUMBER_ROWS);
    }
}

/// The Unsubscribe button under a digest.
pub fn unsubscribe_button(d: &DigestMessage) -> Buttons {
    match &d.unsubscribe_topic {
        Some(id) => vec![vec![(
            cut(
                &format!("{} {}", t(d.lang, "Unsubscribe", "取消订阅"), d.title),
                MAX_LABEL,
            ),
            Callback::Unsubscribe(id.clone()),
        )]],
        None => vec![],
    }
}

/// A list of papers under a heading (`/recent`, `/search`, `/paper`).
pub fn papers(heading: &str, papers: &[PaperItem], lang: Lang) -> Vec<Message> {
    let mut messages = pack(
        &format!("**{}**", escape_md(heading)),
        numbered_embeds(papers, lang),
    );
    with_numbers(&mut messages, papers, false);
    messages
}

/// Plain text (a reply of the core) as messages within 2000 characters, split at line breaks,
/// and inside a line only when one line alone is too long. Markdown in it is escaped.
pub fn text(s: &str) -> Vec<Message> {
    split_text(&escape_md(s), MAX_CONTENT)
        .into_iter()
        .map(Message::text)
        .collect()
}

/// Splits at line breaks into pieces of at most `max` UTF-16 units, never inside an escape.
pub fn split_text(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in s.split_inclusive('\n') {
        let mut line = line;
        while !line.is_empty() {
            if len(&cur) + len(line) <= max {
                cur.push_str(line);
                break;
            }
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            // One line longer than a message: cut it at a character boundary, not after a
            // lone backslash (it would escape the next piece's first character).
            let mut units = 0;
            let mut at = line
                .char_indices()
                .find(|(_, c)| {
                    units += c.len_utf16();
                    units > max
                })
                .map_or(line.len(), |(i, _)| i);
            if line[..at].chars().rev().take_while(|c| *c == '\\').count() % 2 == 1 {
                at -= 1;
            }
            out.push(line[..at].to_string());
            line = &line[at..];
        }
    }
    if !cur.trim().is_empty() || out.is_empty() {
        if cur.trim().is_empty() {
            cur = "…".into();
        }
        out.push(cur);
    }
    out
}

/// The topic list as one embed (a line per topic, ✓ when subscribed), a button per topic (tap
/// to subscribe) and page buttons.
pub fn topics(lang: Lang, heading: &str, items: &[TopicItem], page: u32, pages: u32) -> Message {
    let lines: Vec<String> = items
        .iter()
        .map(|it| {
            format!(
                "{} **{}** — `{}`",
                if it.subscribed { "✓" } else { "•" },
                cut(&escape_md(&it.name), 100),
                cut(&it.id.replace('`', "'"), 100)
            )
        })
        .collect();
    let mut buttons: Buttons = items
        .chunks(MAX_BUTTONS_PER_ROW)
        .take(MAX_ROWS - 1)
        .map(|row| {
            row.iter()
                .map(|it| {
                    let mark = if it.subscribed { "✓" } else { "+" };
                    (
                        cut(&format!("{mark} {}", it.name), MAX_LABEL),
                        Callback::Subscribe(it.id.clone()),
                    )
                })
                .collect()
        })
        .collect();
    let nav = page_buttons(lang, page, pages);
    if !nav.is_empty() {
        buttons.push(nav);
    }
    let description = if lines.is_empty() {
        "—".to_string()
    } else {
        cut(&lines.join("\n"), MAX_DESCRIPTION)
    };
    Message {
        content: String::new(),
        embeds: vec![Embed {
            title: cut(
                &format!("{} ({}/{})", escape_md(heading), page + 1, pages.max(1)),
                MAX_TITLE,
            ),
            url: None,
            description,
            footer: None,
            image: None,
            thumbnail: None,
        }],
        buttons,
        ephemeral: false,
        files: Vec::new(),
    }
}

/// Any reply of the core as Discord messages. Mistakes the person can fix are ephemeral: only
/// they see them.
pub fn reply(answer: &Answer) -> Vec<Message> {
    let lang = answer.lang;
    match &answer.reply {
        Reply::Text(s) => text(s),
        Reply::UserError(s) => text(s)
            .into_iter()
            .map(|m| Message {
                ephemeral: true,
                ..m
            })
            .collect(),
        Reply::Papers {
            heading,
            papers: items,
            more,
        } => {
            let mut out = papers(heading, items, lang);
            if let (Some(button), Some(last)) = (more_button(lang, more.as_ref()), out.last_mut()) {
                last.buttons.push(vec![button]);
            }
            out
        }
        Reply::Topics {
            heading,
            topics: items,
            page,
            pages,
        } => vec![topics(lang, heading, items, *page, *pages)],
        Reply::Digests(ds) => ds.iter().flat_map(digest).collect(),
        // The caption answers; the file follows in a message of its own (an interaction's
        // first answer, when it is the HTTP response, cannot carry a file).
        Reply::File {
            name,
            bytes,
            caption,
        } => {
            let mut out = text(caption);
            out.push(Message {
                files: vec![(name.clone(), bytes.clone())],
                ..Message::text(String::new())
            });
            out
        }
    }
}

/// A Discord limit a message breaks, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OverLimit(pub String);

/// Every limit Discord enforces on one message this module builds; `Err` names the first
/// broken one. Used by tests and as a last guard before sending.
pub fn check(m: &Message) -> Result<(), OverLimit> {
    if len(&m.content) > MAX_CONTENT {
        return Err(OverLimit(format!(
            "content {} > {MAX_CONTENT}",
            len(&m.content)
        )));
    }
    if m.content.is_empty() && m.embeds.is_empty() && m.files.is_empty() {
        return Err(OverLimit("empty message".into()));
    }
    if m.embeds.len() > MAX_EMBEDS {
        return Err(OverLimit(format!(
            "{} embeds > {MAX_EMBEDS}",
            m.embeds.len()
        )));
    }
    let mut total = 0;
    for e in &m.embeds {
        if len(&e.title) > MAX_TITLE {
            return Err(OverLimit(format!(
                "embed title {} > {MAX_TITLE}",
                len(&e.title)
            )));
        }
        if len(&e.description) > MAX_DESCRIPTION {
            return Err(OverLimit(format!(
                "embed description {}",
                len(&e.description)
            )));
        }
        if e.footer.as_deref().map_or(0, len) > MAX_FOOTER {
            return Err(OverLimit("embed footer".into()));
        }
        total += e.size();
    }
    if total > MAX_MESSAGE_EMBED_CHARS {
        return Err(OverLimit(format!(
            "embeds total {total} > {MAX_MESSAGE_EMBED_CHARS}"
        )));
    }
    if m.buttons.len() > MAX_ROWS || m.buttons.iter().any(|r| r.len() > MAX_BUTTONS_PER_ROW) {
        return Err(OverLimit("too many buttons".into()));
    }
    if m.buttons
        .iter()
        .flatten()
        .any(|(l, _)| len(l) > MAX_LABEL || l.is_empty())
    {
        return Err(OverLimit("button label".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tex_reads_with_bold_and_no_run_is_left_open_when_cut() {
        assert_eq!(
            tex_md(
                r"Uses \textbf{few} queries on $\mathbb{R}^d$ and *stars*",
                600
            ),
            r"Uses **few** queries on ℝᵈ and \*stars\*"
        );
        let cut_bold = tex_md(r"We \textbf{propose a very long bold claim} here", 12);
        assert_eq!(
            cut_bold, "We **prop…**",
            "the marks count toward the limit too"
        );
    }

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(escape_md("a*b_c [x](y)"), "a\\*b\\_c \\[x\\](y)");
        assert_eq!(escape_md("# x - y\n> q"), "\\# x - y\n\\> q");
        assert_eq!(escape_md("2024-11-19 (cs.CV)"), "2024-11-19 (cs.CV)");
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

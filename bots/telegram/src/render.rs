//! Telegram HTML rendering, pure: digests and paper lists to messages that Telegram accepts.
//! Every text from arXiv or a person is escaped (`< > &`, and `"` in attributes); tags nest;
//! each message is at most 4096 UTF-16 units of *visible* text (Telegram counts after entity
//! parsing), split at paper boundaries; an over-long paper block is shortened, never dropped.
//! TeX in titles and summaries reads as Unicode (`paperbell_chat::tex`), `\textbf` as `<b>`;
//! a message's link preview is the figure of its first paper that has one (above the text).

use paperbell_chat::{Answer, DigestMessage, Lang, PaperItem, Reply, TopicItem, t};

use crate::parse::Callback;
use paperbell_chat::buttons::{more_button, number_rows, page_buttons};
use paperbell_chat::tex;
use paperbell_chat::text::{cut, utf16_len};

/// Telegram's limit on message text after entity parsing, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;
/// Caps that bound one paper block far below the message limit.
const MAX_TITLE_CHARS: usize = 600;
const MAX_TLDR_CHARS: usize = 600;
const MAX_TRANSLATED_TITLE_CHARS: usize = 300;
const MAX_TAKEAWAY_CHARS: usize = 200;
const MAX_TAKEAWAYS: usize = 5;
/// A relevance line (mark and reason) at most.
const MAX_RELEVANCE_CHARS: usize = 120;
/// Most visible UTF-16 units of one paper block: with the longest header (title and overview)
/// it still fits one message.
const MAX_BLOCK_UTF16: usize = 2600;
const MAX_AUTHORS: usize = 3;
const MAX_CATEGORIES: usize = 8;
const MAX_CODE_LINKS: usize = 3;

/// `< > &` escaped for text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped for a double-quoted attribute value.
pub fn escape_attr(s: &str) -> String {
    escape(s).replace('"', "&quot;")
}

/// HTML under construction, tracking the visible length Telegram will count.
#[derive(Debug, Default, Clone)]
pub struct Html {
    pub html: String,
    pub visible: usize,
}

impl Html {
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.html.push_str(&escape(s));
        self.visible += utf16_len(s);
        self
    }

    pub fn tagged(&mut self, tag: &str, s: &str) -> &mut Self {
        self.html.push_str(&format!("<{tag}>"));
        self.text(s);
        self.html.push_str(&format!("</{tag}>"));
        self
    }

    pub fn link(&mut self, href: &str, s: &str) -> &mut Self {
        self.html
            .push_str(&format!("<a href=\"{}\">", escape_attr(href)));
        self.text(s);
        self.html.push_str("</a>");
        self
    }

    /// TeX as Telegram can show it: formulas in Unicode, `\textbf` and `\emph` as `<b>` and
    /// `<i>`, at most `max` visible characters (cut with `…`).
    pub fn tex(&mut self, s: &str, max: usize) -> &mut Self {
        let mut room = max;
        for (text, style) in tex::styled_runs(s) {
            let text = text.replace(['\n', '\r'], " ");
            if text.is_empty() {
                continue;
            }
            let shown = cut(&text, room);
            room = room.saturating_sub(utf16_len(&shown));
            match (style.bold, style.italic) {
                (true, _) => self.tagged("b", &shown),
                (false, true) => self.tagged("i", &shown),
                _ => self.text(&shown),
            };
            if room == 0 || shown.ends_with('…') && shown != text {
                break;
            }
        }
        self
    }

    fn append(&mut self, other: &Html) {
        self.html.push_str(&other.html);
        self.visible += other.visible;
    }
}

/// A paper in a compact digest: linked title and links (its number, in front, is its bullet).
pub fn compact_block(p: &PaperItem) -> Html {
    let mut h = Html::default();
    if let Some(r) = &p.relevance {
        h.text(&r.mark).text(" ");
    }
    h.link(&p.abs_url, &cut(&tex::plain(&p.title), MAX_TITLE_CHARS));
    h.text(" · ").link(&p.abs_url, &format!("arXiv:{}", p.id));
    for code in p.code_urls.iter().take(MAX_CODE_LINKS) {
        h.text(" · ").link(code, "code");
    }
    h
}

/// One paper: linked title (and its translation), first authors, the TL;DR with its kind
/// (and translation), key takeaways, links, categories. At most `MAX_BLOCK_UTF16` visible: the
/// translation and takeaways give way first, so any header and one block fit a message.
pub fn paper_block(p: &PaperItem, lang: Lang) -> Html {
    // The end of the block, which is never left out: links, categories, topics.
    let mut tail = Html::default();
    tail.link(&p.abs_url, &format!("arXiv:{}", p.id));
    if let Some(pdf) = &p.pdf_url {
        tail.text(" · ").link(pdf, "PDF");
    }
    if let Some(html) = &p.html_url {
        tail.text(" · ").link(html, "HTML");
    }
    for code in p.code_urls.iter().take(MAX_CODE_LINKS) {
        tail.text(" · ").link(code, "code");
    }
    if let Some(page) = &p.project_url {
        tail.text(" · ").link(page, t(lang, "project", "项目主页"));
    }
    if let Some(n) = p.stars {
        tail.text(&format!(" · ★{n}"));
    }
    if let Some(n) = p.upvotes {
        tail.text(&format!(" · ▲{n}"));
    }
    if !p.categories.is_empty() {
        let cats: Vec<&str> = p
            .categories
            .iter()
            .take(MAX_CATEGORIES)
            .map(String::as_str)
            .collect();
        tail.text("\n").tagged("code", &cut(&cats.join(" "), 120));
    }
    if p.topics.len() > 1 {
        tail.text("\n")
            .text(&format!("↳ {}", cut(&p.topics.join(", "), 200)));
    }
    let mut h = Html::default();
    h.html.push_str("<b>");
    h.link(&p.abs_url, &cut(&tex::plain(&p.title), MAX_TITLE_CHARS));
    h.html.push_str("</b>");
    h.text("\n");
    let fits = |h: &Html, extra: usize| h.visible + extra + tail.visible <= MAX_BLOCK_UTF16;
    let authors = if p.authors.len() > MAX_AUTHORS {
        format!("{} et al.", p.authors[..MAX_AUTHORS].join(", "))
    } else {
        p.authors.join(", ")
    };
    let translated_title = p
        .title_translated
        .as_ref()
        .map(|tt| cut(&tex::plain(tt), MAX_TRANSLATED_TITLE_CHARS));
    if let Some(tt) = translated_title.filter(|tt| fits(&h, utf16_len(tt) + 1 + 1200)) {
        h.tagged("b", &tt).text("\n");
    }
    if !authors.is_empty() {
        h.tagged("i", &cut(&authors, 300)).text("\n");
    }
    if let Some(r) = &p.relevance {
        h.text(&cut(&r.line(lang), MAX_RELEVANCE_CHARS)).text("\n");
    }
    if let Some(m) = &p.matched {
        // Where the search's words are, before the TL;DR: it is why this paper was found.
        let mut found = Html::default();
        found.text("🔎 …");
        for (piece, marked) in m.pieces() {
            let piece = cut(&tex::plain(&piece.replace('\n', " ")), MAX_TLDR_CHARS);
            if marked {
                found.tagged("b", &piece);
            } else {
                found.text(&piece);
            }
        }
        found.text("…\n");
        if fits(&h, found.visible) {
            h.append(&found);
        }
    }
    if let Some(tldr) = &p.tldr {
        h.tagged("b", p.tldr_source.label(lang))
            .text(" ")
            .tex(tldr, MAX_TLDR_CHARS)
            .text("\n");
    }
    if let Some(tr) = &p.tldr_translated {
        let tr = cut(&tex::plain(tr), MAX_TLDR_CHARS);
        if fits(&h, utf16_len(&tr) + 1) {
            h.text(&tr).text("\n");
        }
    }
    for k in p.takeaways.iter().take(MAX_TAKEAWAYS) {
        let line = format!("• {}", cut(&tex::plain(k), MAX_TAKEAWAY_CHARS));
        if !fits(&h, utf16_len(&line) + 1) {
            break;
        }
        h.text(&line).text("\n");
    }
    h.append(&tail);
    h
}

/// Packs a header, blocks and a footer into messages within the limit. The header starts the
/// first message; each following message repeats it with "(continued)".
pub fn pack(header: &Html, blocks: &[Html], footer: Option<&Html>) -> Vec<String> {
    pack_counted(header, blocks, footer)
        .into_iter()
        .map(|(html, _)| html)
        .collect()
}

/// `pack`, with how many of `blocks` each message holds (the footer not counted).
fn pack_counted(header: &Html, blocks: &[Html], footer: Option<&Html>) -> Vec<(String, usize)> {
    let sep = "\n\n";
    let sep_len = utf16_len(sep);
    let mut messages = Vec::new();
    let mut cur = header.clone();
    let mut in_cur = 0;
    let continued = {
        let mut c = header.clone();
        c.text(" (continued)");
        c
    };
    let mut counted = 0;
    let all = blocks
        .iter()
        .map(|b| (b, true))
        .chain(footer.map(|f| (f, false)));
    for (b, is_block) in all {
        if in_cur > 0 && cur.visible + sep_len + b.visible > MAX_MESSAGE_UTF16 {
            messages.push((std::mem::replace(&mut cur, continued.clone()).html, counted));
            in_cur = 0;
            counted = 0;
        }
        cur.text(sep);
        cur.append(b);
        in_cur += 1;
        counted += usize::from(is_block);
    }
    messages.push((cur.html, counted));
    messages
}

/// A paper's block with its number in front (its rating buttons carry the same number).
fn numbered(n: usize, block: Html) -> Html {
    let mut h = Html::default();
    h.tagged("b", &format!("{n}.")).text(" ");
    h.append(&block);
    h
}

/// Messages of numbered papers, each with its papers' number buttons (the rating buttons) and
/// the figure of its first paper that has one as its link preview.
fn with_numbers(parts: Vec<(String, usize)>, papers: &[PaperItem]) -> Vec<Out> {
    let mut at = 0;
    parts
        .into_iter()
        .map(|(html, count)| {
            let buttons = number_rows(papers, at, count);
            let preview = papers
                .iter()
                .skip(at)
                .take(count)
                .find_map(paperbell_chat::chat_figure)
                .map(|f| f.url.clone());
            at += count;
            Out {
                html,
                buttons,
                document: None,
                preview,
            }
        })
        .collect()
}

/// A digest as Telegram messages (HTML parse mode, link previews off by the sender).
pub fn digest(d: &DigestMessage) -> Vec<String> {
    digest_parts(d).into_iter().map(|(html, _)| html).collect()
}

/// `digest`, with how many papers each message holds.
fn digest_parts(d: &DigestMessage) -> Vec<(String, usize)> {
    let mut header = Html::default();
    header.tagged("b", &cut(&d.title, 200));
    header.text(&format!(" · {} · {}", d.day, d.papers.len() + d.more));
    if let Some(o) = &d.overview {
        header.text("\n").tagged("i", &cut(o, 800));
    }
    let blocks: Vec<Html> = d
        .papers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            numbered(
                i + 1,
                if d.compact {
                    compact_block(p)
                } else {
                    paper_block(p, d.lang)
                },
            )
        })
        .collect();
    let footer = (d.more > 0).then(|| {
        let mut f = Html::default();
        f.text(&format!(
            "+{} {}: /recent {}",
            d.more,
            t(d.lang, "more", "篇更多"),
            d.unsubscribe_topic.as_deref().unwrap_or("")
        ));
        f
    });
    pack_counted(&header, &blocks, footer.as_ref())
}

/// A list of papers under a heading (`/recent`, `/search`, `/paper`).
pub fn papers(heading: &str, papers: &[PaperItem], lang: Lang) -> Vec<String> {
    papers_parts(heading, papers, lang)
        .into_iter()
        .map(|(html, _)| html)
        .collect()
}

fn papers_parts(heading: &str, papers: &[PaperItem], lang: Lang) -> Vec<(String, usize)> {
    let mut header = Html::default();
    header.tagged("b", &cut(heading, 300));
    let blocks: Vec<Html> = papers
        .iter()
        .enumerate()
        .map(|(i, p)| numbered(i + 1, paper_block(p, lang)))
        .collect();
    pack_counted(&header, &blocks, None)
}

/// Plain text (a reply of the core) as escaped messages within the limit, split at line
/// breaks, and inside a line only when one line alone is too long.
pub fn text(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = Html::default();
    for line in s.split_inclusive('\n') {
        let mut line = line;
        while !line.is_empty() {
            let room = MAX_MESSAGE_UTF16 - cur.visible;
            let fits = utf16_len(line) <= room;
            if fits {
                cur.text(line);
                break;
            }
            if cur.visible > 0 {
                out.push(std::mem::take(&mut cur).html);
                continue;
            }
            // One line longer than a message: cut it at a character boundary.
            let mut units = 0;
            let at = line
                .char_indices()
                .find(|(_, c)| {
                    units += c.len_utf16();
                    units > MAX_MESSAGE_UTF16
                })
                .map_or(line.len(), |(i, _)| i);
            cur.text(&line[..at]);
            out.push(std::mem::take(&mut cur).html);
            line = &line[at..];
        }
    }
    if cur.visible > 0 || out.is_empty() {
        if cur.html.trim().is_empty() {
            cur.text("…");
        }
        out.push(cur.html);
    }
    out
}

/// One Telegram message to send: HTML text and inline buttons (rows of label and callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    /// The message's text; with a document, its caption.
    pub html: String,
    pub buttons: Vec<Vec<(String, Callback)>>,
    /// A file to send (name, contents), `html` as its caption.
    pub document: Option<(String, Vec<u8>)>,
    /// An image to show as the message's link preview (a paper's figure), above the text.
    pub preview: Option<String>,
}

/// Plain text as messages without buttons.
pub fn text_out(s: &str) -> Vec<Out> {
    text(s)
        .into_iter()
        .map(|html| Out {
            html,
            buttons: vec![],
            document: None,
            preview: None,
        })
        .collect()
}

/// The Unsubscribe button under a digest.
pub fn unsubscribe_button(d: &DigestMessage) -> Vec<Vec<(String, Callback)>> {
    match &d.unsubscribe_topic {
        Some(id) => vec![vec![(
            format!(
                "{} {}",
                t(d.lang, "Unsubscribe", "取消订阅"),
                cut(&d.title, 40)
            ),
            Callback::Unsubscribe(id.clone()),
        )]],
        None => vec![],
    }
}

/// A digest as messages, each with its papers' rating buttons, the Unsubscribe button under
/// the last.
pub fn digest_out(d: &DigestMessage) -> Vec<Out> {
    let mut outs = with_numbers(digest_parts(d), &d.papers);
    if let Some(last) = outs.last_mut() {
        last.buttons.extend(unsubscribe_button(d));
    }
    outs
}

/// The topic list: a line per topic and a button per topic (tap to subscribe), with paging.
pub fn topics(lang: Lang, heading: &str, items: &[TopicItem], page: u32, pages: u32) -> Out {
    let mut h = Html::default();
    h.tagged("b", &cut(heading, 300));
    h.text(&format!(" ({}/{})", page + 1, pages.max(1)));
    let mut buttons = Vec::new();
    for it in items {
        h.text("\n");
        h.text(if it.subscribed { "✓ " } else { "• " });
        h.tagged("b", &cut(&it.name, 100))
            .text(" — ")
            .tagged("code", &cut(&it.id, 100));
        let mark = if it.subscribed { "✓" } else { "+" };
        buttons.push(vec![(
            format!("{mark} {}", cut(&it.name, 40)),
            Callback::Subscribe(it.id.clone()),
        )]);
    }
    let nav = page_buttons(lang, page, pages);
    if !nav.is_empty() {
        buttons.push(nav);
    }
    Out {
        html: h.html,
        buttons,
        document: None,
        preview: None,
    }
}

/// Any reply of the core as Telegram messages.
pub fn reply(answer: &Answer) -> Vec<Out> {
    let lang = answer.lang;
    match &answer.reply {
        Reply::Text(s) | Reply::UserError(s) => text_out(s),
        Reply::Papers {
            heading,
            papers: items,
            more,
        } => {
            let mut outs = with_numbers(papers_parts(heading, items, lang), items);
            if let (Some(last), Some(b)) = (outs.last_mut(), more_button(lang, more.as_ref())) {
                last.buttons.push(vec![b]);
            }
            outs
        }
        Reply::Topics {
            heading,
            topics: items,
            page,
            pages,
        } => vec![topics(lang, heading, items, *page, *pages)],
        Reply::Digests(ds) => ds.iter().flat_map(digest_out).collect(),
        Reply::File {
            name,
            bytes,
            caption,
        } => vec![Out {
            html: escape(caption),
            buttons: vec![],
            document: Some((name.clone(), bytes.clone())),
            preview: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        assert_eq!(escape("$a<b$ & c>d"), "$a&lt;b$ &amp; c&gt;d");
        assert_eq!(
            escape_attr("https://x.org/?a=1&b=\"2\""),
            "https://x.org/?a=1&amp;b=&quot;2&quot;"
        );
    }

    #[test]
    fn visible_length_counts_utf16_units_not_markup() {
        let mut h = Html::default();
        h.tagged("b", "a<b")
            .link("https://example.org/very/long/url", "😀");
        assert_eq!(
            h.visible,
            3 + 2,
            "an emoji is two UTF-16 units; tags and hrefs are free"
        );
    }

    #[test]
    fn cut_marks_what_it_shortened() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}

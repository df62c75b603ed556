//! Telegram HTML rendering, pure: digests and paper lists to messages that Telegram accepts.
//! Every text from arXiv or a person is escaped (`< > &`, and `"` in attributes); tags nest;
//! each message is at most 4096 UTF-16 units of *visible* text (Telegram counts after entity
//! parsing), split at paper boundaries; an over-long paper block is shortened, never dropped.

use paperbell_chat::{DigestMessage, PaperItem};

/// Telegram's limit on message text after entity parsing, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;
/// Caps that bound one paper block far below the message limit.
const MAX_TITLE_CHARS: usize = 600;
const MAX_TLDR_CHARS: usize = 1000;
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

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
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

    fn append(&mut self, other: &Html) {
        self.html.push_str(&other.html);
        self.visible += other.visible;
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// One paper: linked title, first authors, TL;DR, links, categories.
pub fn paper_block(p: &PaperItem) -> Html {
    let mut h = Html::default();
    h.html.push_str("<b>");
    h.link(&p.abs_url, &cut(&p.title, MAX_TITLE_CHARS));
    h.html.push_str("</b>");
    h.text("\n");
    let authors = if p.authors.len() > MAX_AUTHORS {
        format!("{} et al.", p.authors[..MAX_AUTHORS].join(", "))
    } else {
        p.authors.join(", ")
    };
    if !authors.is_empty() {
        h.tagged("i", &cut(&authors, 300)).text("\n");
    }
    if let Some(tldr) = &p.tldr {
        h.text(&cut(tldr, MAX_TLDR_CHARS)).text("\n");
    }
    h.link(&p.abs_url, &format!("arXiv:{}", p.id));
    if let Some(pdf) = &p.pdf_url {
        h.text(" · ").link(pdf, "PDF");
    }
    for code in p.code_urls.iter().take(MAX_CODE_LINKS) {
        h.text(" · ").link(code, "code");
    }
    if !p.categories.is_empty() {
        let cats: Vec<&str> = p
            .categories
            .iter()
            .take(MAX_CATEGORIES)
            .map(String::as_str)
            .collect();
        h.text("\n").tagged("code", &cats.join(" "));
    }
    if p.topics.len() > 1 {
        h.text("\n")
            .text(&format!("↳ {}", cut(&p.topics.join(", "), 200)));
    }
    h
}

/// Packs a header, blocks and a footer into messages within the limit. The header starts the
/// first message; each following message repeats it with "(continued)".
pub fn pack(header: &Html, blocks: &[Html], footer: Option<&Html>) -> Vec<String> {
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
    let all = blocks.iter().chain(footer);
    for b in all {
        if in_cur > 0 && cur.visible + sep_len + b.visible > MAX_MESSAGE_UTF16 {
            messages.push(std::mem::replace(&mut cur, continued.clone()).html);
            in_cur = 0;
        }
        cur.text(sep);
        cur.append(b);
        in_cur += 1;
    }
    messages.push(cur.html);
    messages
}

/// A digest as Telegram messages (HTML parse mode, link previews off by the sender).
pub fn digest(d: &DigestMessage) -> Vec<String> {
    let mut header = Html::default();
    header.tagged("b", &cut(&d.title, 200));
    header.text(&format!(" · {} · {}", d.day, d.papers.len() + d.more));
    if let Some(o) = &d.overview {
        header.text("\n").tagged("i", &cut(o, 800));
    }
    let blocks: Vec<Html> = d.papers.iter().map(paper_block).collect();
    let footer = (d.more > 0).then(|| {
        let mut f = Html::default();
        f.text(&format!(
            "+{} more: /recent {}",
            d.more,
            d.unsubscribe_topic.as_deref().unwrap_or("")
        ));
        f
    });
    pack(&header, &blocks, footer.as_ref())
}

/// A list of papers under a heading (`/recent`, `/search`, `/paper`).
pub fn papers(heading: &str, papers: &[PaperItem]) -> Vec<String> {
    let mut header = Html::default();
    header.tagged("b", &cut(heading, 300));
    let blocks: Vec<Html> = papers.iter().map(paper_block).collect();
    pack(&header, &blocks, None)
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

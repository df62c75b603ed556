//! A paper's figure from its arXiv HTML edition (LaTeXML's pages on arxiv.org/html and ar5iv),
//! pure: the first top-level `<figure>` whose class list holds `ltx_figure` and that has an
//! image (`<img src>` or an SVG `<object data>`), its nested `ltx_figure_panel`s counting as
//! its own; tables (`ltx_table`) and drawings without an image are passed over. The image's
//! address is resolved as a browser would: against `<base href>` when the page has one, else
//! against the page's own address. The caption is read without its "Figure 1:" tag, its math
//! (`<math alttext>`) through the TeX reader, as plain text.

use paperbell_chat::tex;
use reqwest::Url;
use scraper::node::Node;
use scraper::{CaseSensitivity, ElementRef, Html, Selector};

use crate::model::enrichment::Figure;

/// Longest caption kept (characters): a digest shows a line of it, the web a paragraph.
pub const MAX_CAPTION_CHARS: usize = 1000;

/// The page's first figure with an image, or `None` when it has none.
pub fn first_figure(html: &str, page_url: &Url) -> Option<Figure> {
    read_prefix(html, page_url, true).flatten()
}

/// The first figure of a page read so far (`complete`: all of it): `Some(figure or none)`
/// once that is decided, `None` while the figure found may still be cut off (read on).
pub fn read_prefix(html: &str, page_url: &Url, complete: bool) -> Option<Option<Figure>> {
    let doc = Html::parse_document(html);
    let base = Selector::parse("base[href]").expect("a valid selector");
    let base_url = doc
        .select(&base)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page_url.join(h.trim()).ok())
        .unwrap_or_else(|| page_url.clone());
    let figures = Selector::parse("figure").expect("a valid selector");
    for fig in doc.select(&figures) {
        if !has_class(fig, "ltx_figure") || has_class(fig, "ltx_table") {
            continue;
        }
        // A panel belongs to the figure around it, and a figure inside a table to the table.
        let nested = fig
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "figure");
        if nested {
            continue;
        }
        if let Some(f) = figure_of(fig, &base_url) {
            // Something after the figure means its end tag came: the caption is whole.
            let closed =
                fig.ancestors().any(|a| a.next_sibling().is_some()) || fig.next_sibling().is_some();
            return (complete || closed).then_some(Some(f));
        }
    }
    complete.then_some(None)
}

fn has_class(el: ElementRef, class: &str) -> bool {
    el.value()
        .has_class(class, CaseSensitivity::AsciiCaseInsensitive)
}

/// The figure's first image (outside its caption), resolved, with the caption.
fn figure_of(fig: ElementRef, base: &Url) -> Option<Figure> {
    let mut image = None;
    for node in fig.descendants() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let src = match el.value().name() {
            "img" => el.value().attr("src"),
            "object" => el.value().attr("data"),
            _ => None,
        };
        let Some(src) = src.map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        let in_caption = el
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| a.id() != fig.id())
            .any(|a| a.value().name() == "figcaption");
        if in_caption {
            continue;
        }
        let Ok(url) = base.join(src) else { continue };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        image = Some((url, el));
        break;
    }
    let (url, el) = image?;
    let size = |name: &str| {
        el.value()
            .attr(name)
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    Some(Figure {
        url: url.to_string(),
        caption: caption(fig),
        width: size("width"),
        height: size("height"),
    })
}

/// The figure's own caption (a child `<figcaption>`, else the first one inside it) as text.
fn caption(fig: ElementRef) -> String {
    let own = fig
        .children()
        .filter_map(ElementRef::wrap)
        .find(|c| c.value().name() == "figcaption");
    let cap = own.or_else(|| {
        fig.descendants()
            .filter_map(ElementRef::wrap)
            .find(|c| c.value().name() == "figcaption")
    });
    let Some(cap) = cap else {
        return String::new();
    };
    // Walked with a stack, not recursion: a page's nesting depth is not ours to choose.
    let mut source = String::new();
    let mut stack: Vec<_> = cap.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => push_escaped_text(&mut source, t),
            Node::Element(e) => {
                if e.has_class("ltx_tag", CaseSensitivity::AsciiCaseInsensitive) {
                    continue;
                }
                if e.name() == "math" {
                    if let Some(alt) = e.attr("alttext") {
                        source.push('$');
                        source.push_str(&alt.replace('$', ""));
                        source.push('$');
                    }
                    continue;
                }
                // `km s<sup>-1</sup>`: a short script reads as one (km s⁻¹).
                if matches!(e.name(), "sup" | "sub") {
                    let inner: String = ElementRef::wrap(node)
                        .map(|el| el.text().collect())
                        .unwrap_or_default();
                    let inner = inner.trim();
                    if !inner.is_empty()
                        && inner.len() <= 12
                        && inner.chars().all(|c| {
                            c.is_alphanumeric() || matches!(c, '+' | '-' | '−' | '.' | ',')
                        })
                    {
                        let mark = if e.name() == "sup" { '^' } else { '_' };
                        source.push_str(&format!("${mark}{{{inner}}}$"));
                        continue;
                    }
                }
                let at = stack.len();
                stack.extend(node.children());
                stack[at..].reverse();
            }
            _ => {}
        }
    }
    let text = tex::plain(&source);
    let text = text.trim_start_matches([':', '.', ' ']).trim();
    match text.char_indices().nth(MAX_CAPTION_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The page's text is already text (LaTeXML wrote `$`, `\` and braces as characters): they are
/// escaped so the TeX reader shows them as they are and reads only the formulas.
fn push_escaped_text(out: &mut String, t: &str) {
    for c in t.chars() {
        match c {
            '$' | '%' | '&' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\textbackslash{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests;

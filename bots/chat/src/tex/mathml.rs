//! One formula as MathML Core for the web, by pulldown-latex's renderer, with its TeX kept in
//! `<annotation encoding="application/x-tex">` (copy and paste, screen readers). `None` when the
//! formula does not parse: the page then shows its source as text.

use pulldown_latex::config::{DisplayMode, RenderConfig};
use pulldown_latex::{Storage, push_mathml};

use super::math::events;

/// `<`, `>`, `&` and `"` escaped for HTML text (runs between them copied whole).
pub fn escape_html(s: &str, out: &mut String) {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let with = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        out.push_str(with);
        from = i + 1;
    }
    out.push_str(&s[from..]);
}

/// `tex` (math mode) as a `<math>` element, safe to put in HTML as it is.
pub fn to_mathml(tex: &str, display: bool) -> Option<String> {
    let storage = Storage::new();
    let events = events(tex, &storage)?;
    let mut annotation = String::with_capacity(tex.len());
    escape_html(tex.trim(), &mut annotation);
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        annotation: Some(&annotation),
        ..RenderConfig::default()
    };
    let mut raw = String::new();
    push_mathml(
        &mut raw,
        events.into_iter().map(Ok::<_, std::convert::Infallible>),
        config,
    )
    .ok()?;
    Some(escape_stray(&raw))
}

/// The renderer writes operator characters as they are (`<mo><</mo>`, `<mi>&</mi>`); a `<` that
/// opens no tag and a `&` that starts no entity are escaped, so the markup is well-formed.
fn escape_stray(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len() + 8);
    let mut last = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let stray = match b {
            b'<' => !bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == b'/'),
            b'&' => !entity_at(&bytes[i + 1..]),
            _ => false,
        };
        if stray {
            out.push_str(&raw[last..i]);
            out.push_str(if b == b'<' { "&lt;" } else { "&amp;" });
            last = i + 1;
        }
    }
    out.push_str(&raw[last..]);
    out
}

/// Whether `rest` (after a `&`) is an entity's name or number and its `;`.
fn entity_at(rest: &[u8]) -> bool {
    let n = rest
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'#')
        .count();
    n > 0 && rest.get(n) == Some(&b';')
}

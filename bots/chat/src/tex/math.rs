//! One math formula (the TeX between `$...$`) as Unicode text, read by pulldown-latex's parser:
//! `\mathcal{N}(0, \sigma^2)` reads 𝒩(0, σ²), `\frac{a+b}{2}` (a+b)/2, `\sqrt{x}` √x, and a
//! script Unicode lacks keeps a readable caret (`x^{Q}` x^Q). `None` when the formula does not
//! parse or is past the bounds that keep the work linear: the caller then shows its source.

use pulldown_latex::event::{
    Content, EnvironmentFlow, Event, Font, Grouping, ScriptPosition, ScriptType, StateChange,
    Visual,
};
use pulldown_latex::{Parser, Storage};

use unicode_normalization::UnicodeNormalization;

use super::symbols::{Alphabet, in_alphabet, math_accent, subscript, superscript};

/// Longest formula read (longer ones are shown as their source). Titles' and abstracts' math
/// is a few dozen characters; the bound keeps a hostile input's cost flat.
pub const MAX_FORMULA_BYTES: usize = 2000;
/// Deepest nesting of braces read: the parser's cost grows faster than linearly with depth.
pub const MAX_DEPTH: usize = 12;

/// Whether `tex` is within the bounds the reader takes on.
pub fn within_bounds(tex: &str) -> bool {
    if tex.len() > MAX_FORMULA_BYTES {
        return false;
    }
    let mut depth = 0usize;
    let mut escaped = false;
    for b in tex.bytes() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Every event of `tex`, or `None` when any part of it does not parse.
pub fn events<'a>(tex: &'a str, storage: &'a Storage) -> Option<Vec<Event<'a>>> {
    if !within_bounds(tex) {
        return None;
    }
    let mut out = Vec::new();
    for e in Parser::new(tex, storage) {
        out.push(e.ok()?);
    }
    Some(out)
}

/// `tex` (math mode) as Unicode text, or `None` when it does not parse.
pub fn to_unicode(tex: &str) -> Option<String> {
    let storage = Storage::new();
    let events = events(tex, &storage)?;
    let mut r = Reader {
        events: events.into_iter(),
        fonts: vec![None],
    };
    let mut out = Run::default();
    while let Some(s) = r.element(0)? {
        out.push(s);
    }
    // Composed (Õ, ≠), so search and keywords see the letters people type.
    let text = out.text.trim();
    Some(if super::has_combining(text) {
        text.nfc().collect()
    } else {
        text.to_string()
    })
}

struct Reader<'a, I: Iterator<Item = Event<'a>>> {
    events: I,
    /// The font of each open group, innermost last.
    fonts: Vec<Option<Font>>,
}

/// One element's text, and whether it is a function's name (`log`), which keeps a space from
/// the letters around it (`n log n`, not `nlogn`).
type Element = (String, bool);

/// Elements read one after another.
#[derive(Default)]
struct Run {
    text: String,
    after_word: bool,
}

impl Run {
    fn push(&mut self, (s, word): Element) {
        let touching = self.text.chars().last().is_some_and(char::is_alphanumeric)
            && s.chars().next().is_some_and(char::is_alphanumeric);
        if touching && (word || self.after_word) {
            self.text.push(' ');
        }
        self.text.push_str(&s);
        if !s.is_empty() {
            self.after_word = word;
        }
    }
}

/// One token the scripts and fractions may show without parentheses: a single character, a
/// number or a word.
fn atomic(s: &str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (None, _) | (Some(_), None) => true,
        _ => s.chars().all(|c| c.is_alphanumeric() || c == '.'),
    }
}

fn wrapped(s: &str) -> String {
    if atomic(s) || (s.starts_with('(') && s.ends_with(')')) {
        s.to_string()
    } else {
        format!("({s})")
    }
}

/// `s` as a superscript (or subscript): Unicode's small forms when every character has one,
/// else a caret (underscore) before it.
fn script(s: &str, small: fn(char) -> Option<char>, mark: char) -> String {
    if let Some(raised) = s.chars().map(small).collect::<Option<String>>() {
        return raised;
    }
    format!("{mark}{}", wrapped(s))
}

impl<'a, I: Iterator<Item = Event<'a>>> Reader<'a, I> {
    fn font(&self) -> Option<Font> {
        self.fonts.last().copied().flatten()
    }

    fn letter(&self, c: char) -> char {
        let alphabet = match self.font() {
            Some(Font::DoubleStruck) => Alphabet::DoubleStruck,
            Some(Font::Script) => Alphabet::Script,
            Some(Font::BoldScript) => Alphabet::BoldScript,
            Some(Font::Fraktur) => Alphabet::Fraktur,
            Some(Font::BoldFraktur) => Alphabet::BoldFraktur,
            _ => return c,
        };
        in_alphabet(alphabet, c)
    }

    fn content(&self, c: Content<'a>, depth: usize) -> String {
        match c {
            Content::Text(t) => t.to_string(),
            Content::Number(n) => n.chars().map(|c| self.letter(c)).collect(),
            Content::Function(f) => f.to_string(),
            Content::Ordinary { content, .. } => self.letter(content).to_string(),
            Content::LargeOp { content, .. } | Content::BinaryOp { content, .. } => {
                content.to_string()
            }
            Content::Relation { content, .. } => {
                let mut buf = [0u8; 8];
                let rel =
                    String::from_utf8_lossy(content.encode_utf8_to_buf(&mut buf)).into_owned();
                // Relations breathe at the top level (x ≤ y), not inside scripts (i=1).
                if depth == 0 { format!(" {rel} ") } else { rel }
            }
            Content::Delimiter { content, .. } => content.to_string(),
            Content::Punctuation(c) => {
                if depth == 0 && c == ',' {
                    ", ".into()
                } else {
                    c.to_string()
                }
            }
        }
    }

    /// The next element as text: `Ok(None)` at the end of the formula or of the enclosing
    /// group (its `End` is consumed); `None` (the outer option) on a malformed stream.
    fn element(&mut self, depth: usize) -> Option<Option<Element>> {
        let Some(event) = self.events.next() else {
            return Some(None);
        };
        if let Event::Content(Content::Function(f)) = event {
            return Some(Some((f.to_string(), true)));
        }
        Some(Some((
            match event {
                Event::End => return Some(None),
                Event::Content(c) => self.content(c, depth),
                Event::Begin(g) => self.group(g, depth)?,
                Event::Visual(v) => self.visual(v, depth)?,
                Event::Script { ty, position } => self.scripted(ty, position, depth)?,
                Event::Space { .. } => " ".into(),
                Event::StateChange(StateChange::Font(f)) => {
                    if let Some(top) = self.fonts.last_mut() {
                        *top = f;
                    }
                    String::new()
                }
                Event::StateChange(_) => String::new(),
                Event::EnvironmentFlow(EnvironmentFlow::NewLine { .. }) => "; ".into(),
                Event::EnvironmentFlow(_) => " ".into(),
            },
            false,
        )))
    }

    /// An element that must be there (a script, a numerator).
    fn argument(&mut self, depth: usize) -> Option<String> {
        self.element(depth)?.map(|(s, _)| s)
    }

    fn group(&mut self, g: Grouping, depth: usize) -> Option<String> {
        let inherited = match g {
            Grouping::Normal | Grouping::LeftRight(..) => self.font(),
            _ => None,
        };
        self.fonts.push(inherited);
        let mut run = Run::default();
        while let Some(s) = self.element(depth)? {
            run.push(s);
        }
        self.fonts.pop();
        let inner = run.text;
        Some(match g {
            Grouping::LeftRight(open, close) => {
                let mut s = String::new();
                s.extend(open);
                s.push_str(inner.trim());
                s.extend(close);
                s
            }
            Grouping::Cases { .. } => format!("{{{}}}", inner.trim()),
            Grouping::Matrix { .. } | Grouping::Array(_) => format!("[{}]", inner.trim()),
            _ => inner,
        })
    }

    fn visual(&mut self, v: Visual, depth: usize) -> Option<String> {
        Some(match v {
            Visual::SquareRoot => format!("√{}", wrapped(self.argument(depth + 1)?.trim())),
            Visual::Root => {
                let radicand = self.argument(depth + 1)?;
                let index = self.argument(depth + 1)?;
                let sign = match index.trim() {
                    "3" => "∛".to_string(),
                    "4" => "∜".to_string(),
                    i => format!("{}√", script(i, superscript, '^')),
                };
                format!("{sign}{}", wrapped(radicand.trim()))
            }
            Visual::Fraction(_) => {
                let num = self.argument(depth + 1)?;
                let den = self.argument(depth + 1)?;
                format!("{}/{}", wrapped(num.trim()), wrapped(den.trim()))
            }
            Visual::Negation => {
                let Some(mut s) = self.argument(depth) else {
                    return Some(String::new());
                };
                // The slash goes over the relation itself, not its spacing: ≠, ∉.
                let trimmed = s.trim_end().len();
                s.insert(trimmed, '\u{338}');
                s
            }
        })
    }

    fn scripted(
        &mut self,
        ty: ScriptType,
        position: ScriptPosition,
        depth: usize,
    ) -> Option<String> {
        let base = self.argument(depth)?;
        let (sub, sup) = match ty {
            ScriptType::Subscript => (Some(self.argument(depth + 1)?), None),
            ScriptType::Superscript => (None, Some(self.argument(depth + 1)?)),
            ScriptType::SubSuperscript => {
                let sub = self.argument(depth + 1)?;
                (Some(sub), Some(self.argument(depth + 1)?))
            }
        };
        // `\hat{x}`, `\tilde{O}`, `\vec{v}`, `\overline{x}`: a mark over (or under) the base.
        if position == ScriptPosition::AboveBelow {
            let mark = sup.as_deref().or(sub.as_deref()).unwrap_or("");
            let mut marks = mark.chars();
            if let (Some(m), None) = (marks.next(), marks.next())
                && let Some(combining) = math_accent(m)
            {
                let mut chars = base.trim().chars();
                return Some(match (chars.next(), chars.next()) {
                    (Some(c), None) if sup.is_some() => format!("{c}{combining}"),
                    _ => base.trim().to_string(),
                });
            }
        }
        let mut out = base;
        if let Some(s) = sub {
            out.push_str(&script(s.trim(), subscript, '_'));
        }
        if let Some(s) = sup {
            out.push_str(&script(s.trim(), superscript, '^'));
        }
        Some(out)
    }
}

//! TeX in titles, abstracts, TL;DRs, captions and comments, read for people: `pieces` splits a
//! text into styled text (`\textbf{..}`, `\emph{..}`, accents, `--`, `\%` already read) and
//! formulas (`$..$`, `$$..$$`, `\(..\)`, `\[..\]`); `plain` gives the whole as Unicode text for
//! chat and the terminal, `html` as HTML with MathML formulas for the web. Pure, linear in the
//! input, never an error: what does not parse is shown as its source (without the `$`s), and
//! `\href`, `\url`, `<`, `>` stay text. The source TeX stays in the store and in `--json`.

mod math;
mod mathml;
mod symbols;

use mathml::escape_html;

use symbols::{TextStyle, text_accent, text_command, text_symbol};
use unicode_normalization::UnicodeNormalization;

/// How a run of text is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub bold: bool,
    pub italic: bool,
}

/// A part of a text: prose (its TeX read) or one formula (its TeX as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(String, Style),
    Math { tex: &'a str, display: bool },
}

/// Whether `s` may hold TeX at all: most titles hold none and are returned as they are. One
/// pass: pages ask this of every title, TL;DR and abstract they show.
pub fn may_hold_tex(s: &str) -> bool {
    let mut prev = 0u8;
    for b in s.bytes() {
        match b {
            b'$' | b'\\' | b'{' | b'}' | b'~' | b'`' => return true,
            b'-' | b'\'' if prev == b => return true,
            _ => prev = b,
        }
    }
    false
}

/// Whether the scanner has anything to do at this byte (every other byte is copied as it is).
fn special(b: u8) -> bool {
    matches!(b, b'$' | b'\\' | b'{' | b'}' | b'~' | b'-' | b'`' | b'\'')
}

/// `s` as Unicode text: formulas read (`$\mathcal{N}$` 𝒩), text commands applied, bold and
/// italics dropped (the caller that can show them uses `pieces`).
pub fn plain(s: &str) -> String {
    if !may_hold_tex(s) {
        return s.to_string();
    }
    let read: String = styled_runs(s).into_iter().map(|(t, _)| t).collect();
    tidy_spaces(&read)
}

/// A formula as Unicode text, or its source when it does not parse. A `$` inside a formula is
/// a stray delimiter (`\[$\]`), never shown.
pub fn push_formula(out: &mut String, tex: &str) {
    match math::to_unicode(tex) {
        Some(u) => out.extend(u.chars().filter(|c| *c != '$')),
        None => out.extend(tex.trim().chars().filter(|c| *c != '$')),
    }
}

/// `s` as runs of Unicode text and their style, formulas read (plain style): what a chat
/// platform with bold and italics shows.
pub fn styled_runs(s: &str) -> Vec<(String, Style)> {
    pieces(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t, style) => (t, style),
            Piece::Math { tex, .. } => {
                let mut u = String::new();
                push_formula(&mut u, tex);
                (u, Style::default())
            }
        })
        .collect()
}

/// `s` as HTML: text escaped (bold and italics as `<b>`, `<i>`), formulas as MathML.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    if !may_hold_tex(s) {
        escape_html(s, &mut out);
        return out;
    }
    for p in pieces(s) {
        match p {
            Piece::Text(t, style) => {
                let t = tidy_spaces_keep_ends(&t);
                let tags: &[&str] = match (style.bold, style.italic) {
                    (true, true) => &["b", "i"],
                    (true, false) => &["b"],
                    (false, true) => &["i"],
                    (false, false) => &[],
                };
                for tag in tags {
                    out.push_str(&format!("<{tag}>"));
                }
                escape_html(&t, &mut out);
                for tag in tags.iter().rev() {
                    out.push_str(&format!("</{tag}>"));
                }
            }
            Piece::Math { tex, display } => match mathml::to_mathml(tex, display) {
                Some(m) => out.extend(m.chars().filter(|c| *c != '$')),
                None => escape_html(&tex.trim().replace('$', ""), &mut out),
            },
        }
    }
    out
}

/// Runs of white space as one space, trimmed.
fn tidy_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs of white space as one space, a space at either end kept.
fn tidy_spaces_keep_ends(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    if space {
        out.push(' ');
    }
    out
}

/// `s` split into prose and formulas, prose's TeX read.
pub fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut sc = Scanner {
        s,
        pos: 0,
        out: Vec::new(),
        buf: String::new(),
        styles: vec![Style::default()],
        no_close: [false; 3],
    };
    sc.run();
    sc.flush();
    sc.out
}

/// Longest braced argument a command takes (a URL, a citation key).
const MAX_ARGUMENT_BYTES: usize = 1000;

/// Which closing delimiter a search found missing (so it is never searched for again: linear).
const DOLLAR: usize = 0;
const PAREN: usize = 1;
const BRACKET: usize = 2;

struct Scanner<'a> {
    s: &'a str,
    pos: usize,
    out: Vec<Piece<'a>>,
    buf: String,
    /// The style of each open brace group, innermost last.
    styles: Vec<Style>,
    no_close: [bool; 3],
}

impl<'a> Scanner<'a> {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            // Composed only when an accent was put on a letter: NFC is most of the cost of a
            // long abstract and changes nothing else the scanner writes.
            let text: String = if has_combining(&buf) {
                buf.nfc().collect()
            } else {
                buf
            };
            let style = self.style();
            match self.out.last_mut() {
                Some(Piece::Text(t, s)) if *s == style => t.push_str(&text),
                _ => self.out.push(Piece::Text(text, style)),
            }
        }
    }

    fn restyle(&mut self, f: impl FnOnce(&mut Style)) {
        self.flush();
        if let Some(top) = self.styles.last_mut() {
            f(top);
        }
    }

    fn open(&mut self, style: Style) {
        self.flush();
        self.styles.push(style);
    }

    fn close(&mut self) {
        self.flush();
        if self.styles.len() > 1 {
            self.styles.pop();
        }
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn math(&mut self, open: usize, close: &str, which: usize, display: bool) -> bool {
        if self.no_close[which] {
            return false;
        }
        let start = self.pos + open;
        let Some(end) = find_close(&self.s[start..], close) else {
            self.no_close[which] = true;
            return false;
        };
        self.flush();
        let tex = &self.s[start..start + end];
        if !tex.trim().is_empty() {
            self.out.push(Piece::Math { tex, display });
        }
        self.pos = start + end + close.len();
        true
    }

    fn run(&mut self) {
        while let Some(c) = self.rest().chars().next() {
            let rest = self.rest();
            // Plain prose up to the next byte that may start TeX, copied in one go.
            let plain_run = rest.bytes().position(special).unwrap_or(rest.len());
            if plain_run > 0 {
                self.buf.push_str(&rest[..plain_run]);
                self.pos += plain_run;
                continue;
            }
            match c {
                '$' if rest.starts_with("$$") => {
                    if !self.math(2, "$$", DOLLAR, true) {
                        self.pos += 2;
                    }
                }
                '$' => {
                    if !self.math(1, "$", DOLLAR, false) {
                        // A lone `$` opens nothing: it is dropped, the rest reads as prose.
                        self.pos += 1;
                    }
                }
                '\\' => self.command(),
                '{' => {
                    self.pos += 1;
                    let s = self.style();
                    self.open(s);
                }
                '}' => {
                    self.pos += 1;
                    self.close();
                }
                '~' => {
                    self.pos += 1;
                    self.buf.push(' ');
                }
                '-' if rest.starts_with("---") => {
                    self.pos += 3;
                    self.buf.push('—');
                }
                '-' if rest.starts_with("--") => {
                    self.pos += 2;
                    self.buf.push('–');
                }
                '`' if rest.starts_with("``") => {
                    self.pos += 2;
                    self.buf.push('“');
                }
                '\'' if rest.starts_with("''") => {
                    self.pos += 2;
                    self.buf.push('”');
                }
                c => {
                    self.pos += c.len_utf8();
                    self.buf.push(c);
                }
            }
        }
    }

    /// At a backslash: a formula, an escaped character, an accent or a command.
    fn command(&mut self) {
        let rest = self.rest();
        let after = &rest[1..];
        let Some(next) = after.chars().next() else {
            self.pos += 1;
            return;
        };
        if next == '(' && self.math(2, "\\)", PAREN, false) {
            return;
        }
        if next == '[' && self.math(2, "\\]", BRACKET, true) {
            return;
        }
        if !next.is_ascii_alphabetic() {
            self.pos += 1 + next.len_utf8();
            let name = &after[..next.len_utf8()];
            if let Some(mark) = text_accent(name) {
                self.accent(mark);
                return;
            }
            match next {
                '\\' | ',' | ';' | ':' | '!' | ' ' | '\n' | '\t' => self.buf.push(' '),
                '-' | '/' | '@' => {}
                c => self.buf.push(c),
            }
            return;
        }
        let len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let name = &after[..len];
        let star = after[len..].starts_with('*');
        self.pos += 1 + len + usize::from(star);
        // A letter accent (`\v{c}`, `\c c`) needs its letter.
        if len == 1
            && let Some(mark) = text_accent(name)
        {
            self.accent(mark);
            return;
        }
        if let Some(style) = text_command(name) {
            self.styled(name, style);
            return;
        }
        if let Some(sym) = text_symbol(name) {
            self.skip_empty_braces();
            self.buf.push_str(sym);
            // `\ie.` at a sentence's end: one full stop, not two.
            if sym.ends_with('.') && self.rest().starts_with('.') {
                self.pos += 1;
            }
            return;
        }
        if name == "href" {
            // `\href{url}{text}`: the text reads on as prose; the address is not shown (a link
            // a reader cannot follow is noise, and code links are found in the source anyway).
            self.skip_braced();
            return;
        }
        // `\alpha`, `\times`, `\sim` outside `$`: read as math when the parser knows them.
        let source = &self.s[self.pos - 1 - len - usize::from(star)..self.pos];
        match math::to_unicode(source) {
            Some(u) if !u.is_empty() => self.buf.push_str(&u),
            _ => self.buf.push_str(source),
        }
    }

    /// `\bf`, `\em` switch the current group; `\textbf{..}`, `\emph{..}` style their argument.
    fn styled(&mut self, name: &str, style: TextStyle) {
        let switch = matches!(
            name,
            "bf" | "bfseries"
                | "em"
                | "it"
                | "itshape"
                | "sl"
                | "slshape"
                | "tt"
                | "sf"
                | "sc"
                | "rm"
        );
        let apply = |s: &mut Style| match style {
            TextStyle::Bold => s.bold = true,
            TextStyle::Italic => s.italic = true,
            TextStyle::Plain | TextStyle::Hidden => {}
        };
        if switch && !self.rest().trim_start().starts_with('{') {
            self.restyle(apply);
            return;
        }
        if style == TextStyle::Hidden {
            self.skip_braced();
            return;
        }
        let trimmed = self.rest().len() - self.rest().trim_start().len();
        if self.rest()[trimmed..].starts_with('{') {
            self.pos += trimmed + 1;
            let mut s = self.style();
            apply(&mut s);
            self.open(s);
        }
    }

    /// An accent over the next letter (`\"o`, `\"{o}`, `\v c`).
    fn accent(&mut self, mark: char) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        let skip = rest.len() - trimmed.len();
        let (letter, used) = if let Some(inner) = trimmed.strip_prefix('{') {
            match inner.find('}') {
                Some(end) if end <= 8 => (&inner[..end], 2 + end),
                _ => ("", 0),
            }
        } else {
            match trimmed.chars().next() {
                Some(c) if c.is_alphabetic() => (&trimmed[..c.len_utf8()], c.len_utf8()),
                // `\"$`: an accent over nothing is dropped; what follows reads as usual.
                _ => return,
            }
        };
        self.pos += skip + used;
        // `\"{\i}`: the dotless i carries the accent.
        let letter = match letter {
            "\\i" => "ı",
            "\\j" => "ȷ",
            l => l,
        };
        self.buf.push_str(letter);
        self.buf.push(mark);
    }

    /// Passes over the next `{...}` (balanced), if one follows.
    fn skip_braced(&mut self) {
        let rest = self.rest();
        let trimmed = rest.trim_start();
        let Some(inner) = trimmed.strip_prefix('{') else {
            return;
        };
        let mut depth = 1usize;
        // Bounded, so a text of unclosed `\cite{` costs a constant each, not the rest of it.
        for (i, b) in inner.bytes().take(MAX_ARGUMENT_BYTES).enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += rest.len() - trimmed.len() + 1 + i + 1;
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// `\ldots{}` and `\LaTeX{}` end with an empty group.
    fn skip_empty_braces(&mut self) {
        if self.rest().starts_with("{}") {
            self.pos += 2;
        }
    }
}

/// Whether `s` holds a combining mark (an accent the reader put on a letter, a negation).
pub(crate) fn has_combining(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{300}'..='\u{36f}' | '\u{20d0}'..='\u{20ff}'))
}

/// Where `close` first occurs in `s` outside a backslash escape (`\$` does not close a formula).
fn find_close(s: &str, close: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Bytes, not `str`: after an escape `i` may sit inside a multi-byte character.
        if bytes[i..].starts_with(close.as_bytes()) {
            return Some(i);
        }
        // A backslash escapes the next character (`\$`), unless it begins `close` (`\)`).
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    None
}

#[cfg(test)]
mod tests;

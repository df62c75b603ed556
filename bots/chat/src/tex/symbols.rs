//! The Unicode tables the TeX reader needs and no crate gives: super- and subscript forms,
//! the letters of math alphabets (`\mathbb`, `\mathcal`, `\mathfrak`), text-mode accents and
//! the text-mode commands of titles and abstracts (`\ss`, `\ldots`, `\LaTeX`).

/// The superscript form of `c`, when Unicode has one that reads as such.
pub fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '+' => '⁺',
        '-' | '−' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        'a' => 'ᵃ',
        'b' => 'ᵇ',
        'c' => 'ᶜ',
        'd' => 'ᵈ',
        'e' => 'ᵉ',
        'f' => 'ᶠ',
        'g' => 'ᵍ',
        'h' => 'ʰ',
        'i' => 'ⁱ',
        'j' => 'ʲ',
        'k' => 'ᵏ',
        'l' => 'ˡ',
        'm' => 'ᵐ',
        'n' => 'ⁿ',
        'o' => 'ᵒ',
        'p' => 'ᵖ',
        'r' => 'ʳ',
        's' => 'ˢ',
        't' => 'ᵗ',
        'u' => 'ᵘ',
        'v' => 'ᵛ',
        'w' => 'ʷ',
        'x' => 'ˣ',
        'y' => 'ʸ',
        'z' => 'ᶻ',
        'A' => 'ᴬ',
        'B' => 'ᴮ',
        'D' => 'ᴰ',
        'E' => 'ᴱ',
        'G' => 'ᴳ',
        'H' => 'ᴴ',
        'I' => 'ᴵ',
        'J' => 'ᴶ',
        'K' => 'ᴷ',
        'L' => 'ᴸ',
        'M' => 'ᴹ',
        'N' => 'ᴺ',
        'O' => 'ᴼ',
        'P' => 'ᴾ',
        'R' => 'ᴿ',
        'T' | '⊤' => 'ᵀ',
        'U' => 'ᵁ',
        'V' => 'ⱽ',
        'W' => 'ᵂ',
        'α' => 'ᵅ',
        'β' => 'ᵝ',
        'γ' => 'ᵞ',
        'δ' => 'ᵟ',
        'θ' => 'ᶿ',
        'φ' | 'ϕ' => 'ᵠ',
        'χ' => 'ᵡ',
        // Marks that already sit high: `x^*`, `x^\dagger`, `x^\prime` read as x*, x†, x′.
        '*' | '∗' => '*',
        '′' => '′',
        '″' => '″',
        '†' => '†',
        '‡' => '‡',
        '∘' | '°' => '°',
        _ => return None,
    })
}

/// The subscript form of `c`, when Unicode has one.
pub fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '₀',
        '1' => '₁',
        '2' => '₂',
        '3' => '₃',
        '4' => '₄',
        '5' => '₅',
        '6' => '₆',
        '7' => '₇',
        '8' => '₈',
        '9' => '₉',
        '+' => '₊',
        '-' | '−' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        'a' => 'ₐ',
        'e' => 'ₑ',
        'h' => 'ₕ',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'k' => 'ₖ',
        'l' => 'ₗ',
        'm' => 'ₘ',
        'n' => 'ₙ',
        'o' => 'ₒ',
        'p' => 'ₚ',
        'r' => 'ᵣ',
        's' => 'ₛ',
        't' => 'ₜ',
        'u' => 'ᵤ',
        'v' => 'ᵥ',
        'x' => 'ₓ',
        'β' => 'ᵦ',
        'γ' => 'ᵧ',
        'ρ' => 'ᵨ',
        'φ' | 'ϕ' => 'ᵩ',
        'χ' => 'ᵪ',
        _ => return None,
    })
}

/// A math alphabet whose letters mean something of their own (ℝ is not R): the others
/// (bold, italic, sans-serif, monospace) read as plain letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alphabet {
    DoubleStruck,
    Script,
    BoldScript,
    Fraktur,
    BoldFraktur,
}

fn offset(base: u32, i: u32) -> char {
    char::from_u32(base + i).unwrap_or('?')
}

/// `c` in `alphabet` (Unicode's Mathematical Alphanumeric Symbols and the letterlike symbols
/// that stand in for their holes); characters the alphabet lacks are kept.
pub fn in_alphabet(alphabet: Alphabet, c: char) -> char {
    let (upper, lower) = match c {
        'A'..='Z' => (Some(c as u32 - 'A' as u32), None),
        'a'..='z' => (None, Some(c as u32 - 'a' as u32)),
        _ => (None, None),
    };
    match alphabet {
        Alphabet::DoubleStruck => match c {
            'C' => 'ℂ',
            'H' => 'ℍ',
            'N' => 'ℕ',
            'P' => 'ℙ',
            'Q' => 'ℚ',
            'R' => 'ℝ',
            'Z' => 'ℤ',
            '0'..='9' => offset(0x1D7D8, c as u32 - '0' as u32),
            _ => upper
                .map(|i| offset(0x1D538, i))
                .or(lower.map(|i| offset(0x1D552, i)))
                .unwrap_or(c),
        },
        Alphabet::Script => match c {
            'B' => 'ℬ',
            'E' => 'ℰ',
            'F' => 'ℱ',
            'H' => 'ℋ',
            'I' => 'ℐ',
            'L' => 'ℒ',
            'M' => 'ℳ',
            'R' => 'ℛ',
            'e' => 'ℯ',
            'g' => 'ℊ',
            'o' => 'ℴ',
            _ => upper
                .map(|i| offset(0x1D49C, i))
                .or(lower.map(|i| offset(0x1D4B6, i)))
                .unwrap_or(c),
        },
        Alphabet::BoldScript => upper
            .map(|i| offset(0x1D4D0, i))
            .or(lower.map(|i| offset(0x1D4EA, i)))
            .unwrap_or(c),
        Alphabet::Fraktur => match c {
            'C' => 'ℭ',
            'H' => 'ℌ',
            'I' => 'ℑ',
            'R' => 'ℜ',
            'Z' => 'ℨ',
            _ => upper
                .map(|i| offset(0x1D504, i))
                .or(lower.map(|i| offset(0x1D51E, i)))
                .unwrap_or(c),
        },
        Alphabet::BoldFraktur => upper
            .map(|i| offset(0x1D56C, i))
            .or(lower.map(|i| offset(0x1D586, i)))
            .unwrap_or(c),
    }
}

/// The combining mark of a text-mode accent command (`\"` `\'` `\v` ...).
pub fn text_accent(cmd: &str) -> Option<char> {
    Some(match cmd {
        "\"" => '\u{308}',
        "'" => '\u{301}',
        "`" => '\u{300}',
        "^" => '\u{302}',
        "~" => '\u{303}',
        "=" => '\u{304}',
        "." => '\u{307}',
        "u" => '\u{306}',
        "v" => '\u{30C}',
        "H" => '\u{30B}',
        "r" => '\u{30A}',
        "c" => '\u{327}',
        "k" => '\u{328}',
        "d" => '\u{323}',
        "b" => '\u{331}',
        _ => return None,
    })
}

/// The combining mark a math accent (`\hat{x}`, `\tilde{O}`, `\vec{v}`) puts over one letter,
/// from the character the parser gives for it.
pub fn math_accent(c: char) -> Option<char> {
    Some(match c {
        '^' | 'ˆ' => '\u{302}',
        '~' | '˜' => '\u{303}',
        '¯' | '‾' | '_' => '\u{305}',
        '˙' | '.' => '\u{307}',
        '¨' => '\u{308}',
        '→' | '⃗' => '\u{20D7}',
        'ˇ' => '\u{30C}',
        '˘' => '\u{306}',
        '´' => '\u{301}',
        '`' => '\u{300}',
        '˚' => '\u{30A}',
        _ => return None,
    })
}

/// Text-mode commands without arguments that titles and abstracts use.
pub fn text_symbol(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "ss" => "ß",
        "o" => "ø",
        "O" => "Ø",
        "aa" => "å",
        "AA" => "Å",
        "ae" => "æ",
        "AE" => "Æ",
        "oe" => "œ",
        "OE" => "Œ",
        "l" => "ł",
        "L" => "Ł",
        "i" => "ı",
        "j" => "ȷ",
        "ldots" | "dots" | "textellipsis" => "…",
        "LaTeX" => "LaTeX",
        "TeX" => "TeX",
        "BibTeX" => "BibTeX",
        "textasciitilde" => "~",
        "textbackslash" => "\\",
        "textendash" => "–",
        "textemdash" => "—",
        "textquoteleft" => "‘",
        "textquoteright" => "’",
        "textquotedblleft" => "“",
        "textquotedblright" => "”",
        "textbullet" => "•",
        "textregistered" => "®",
        "texttrademark" => "™",
        "copyright" | "textcopyright" => "©",
        "S" => "§",
        "P" => "¶",
        "dag" => "†",
        "ddag" => "‡",
        "pounds" => "£",
        "euro" => "€",
        "textdegree" | "degree" => "°",
        "textperthousand" => "‰",
        "textpertenthousand" => "‱",
        // The shorthands computer-vision papers define in their preambles (arXiv keeps the
        // uses, not the definitions, in the abstract).
        "ie" => "i.e.",
        "eg" => "e.g.",
        "etal" => "et al.",
        "etc" => "etc.",
        "wrt" => "w.r.t.",
        "vs" => "vs.",
        "cf" => "cf.",
        "aka" => "a.k.a.",
        "iid" => "i.i.d.",
        "textmu" => "µ",
        "quad" | "qquad" | "enspace" | "thinspace" | "space" | "newline" | "linebreak" | "par"
        | "noindent" | "smallskip" | "medskip" | "bigskip" | "hfill" | "vfill" => " ",
        "xspace" | "/" | "relax" | "protect" | "centering" | "maketitle" | "sc" | "rm" | "sf"
        | "tt" | "normalfont" | "upshape" | "mdseries" | "footnotesize" | "small" | "large"
        | "Large" | "LARGE" | "huge" | "Huge" | "normalsize" | "scriptsize" | "tiny" => "",
        _ => return None,
    })
}

/// How a text-mode command with one braced argument shows that argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStyle {
    Bold,
    Italic,
    Plain,
    /// Dropped with its argument (`\cite{...}`, `\label{...}`).
    Hidden,
}

/// Text-mode commands that take one braced argument: `\textbf{..}`, `\emph{..}`, `\url{..}`.
pub fn text_command(cmd: &str) -> Option<TextStyle> {
    Some(match cmd {
        "textbf" | "bm" | "bf" | "bfseries" | "mathbf" | "boldsymbol" => TextStyle::Bold,
        "textit" | "emph" | "em" | "it" | "itshape" | "textsl" | "sl" | "slshape" | "mathit" => {
            TextStyle::Italic
        }
        "textrm" | "textsf" | "texttt" | "textsc" | "textup" | "textmd" | "textnormal" | "text"
        | "mbox" | "hbox" | "url" | "mathrm" | "mathsf" | "mathtt" | "uppercase" | "underline"
        | "textsuperscript" | "textsubscript" | "footnote" | "thanks" | "fbox" | "framebox"
        | "makebox" | "ensuremath" | "tt" | "sf" | "sc" | "rm" => TextStyle::Plain,
        "cite" | "citep" | "citet" | "label" | "ref" | "eqref" | "vspace" | "hspace"
        | "vspace*" | "hspace*" | "footnotemark" | "nocite" | "pageref" | "input" | "include"
        | "color" | "textcolor" | "bibliographystyle" | "bibliography" => TextStyle::Hidden,
        _ => return None,
    })
}

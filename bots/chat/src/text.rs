//! Text lengths as both platforms count them (UTF-16 code units) and cutting to a limit; pure.

/// Length in UTF-16 code units: what Telegram counts, and never less than Discord's count.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// At most `max` UTF-16 units, cut at a character boundary with `…` when it had to be cut.
pub fn cut(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
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
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_utf16_units_at_character_boundaries() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        // 😀 is two units: it does not fit in the three left before the ellipsis.
        assert_eq!(cut("a😀😀", 4), "a😀…");
        assert_eq!(utf16_len(&cut(&"😀".repeat(10), 7)), 7);
    }
}

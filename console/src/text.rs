//! Making untrusted text safe to print: what a reporter wrote, and what a
//! server says, reaches a handler's terminal only through here.
//!
//! It owns replacing control characters (terminal escape sequences could
//! otherwise rewrite the screen, hide lines or set the window title) and
//! bidirectional overrides (which can make text read differently from what it
//! is). It does not escape HTML (see [`crate::export`]) or JSON (serde does).

/// Whether a character must not reach a terminal as is.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Multi-line text with every unsafe character replaced by `�`; newlines and tabs kept.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if is_unsafe(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// One line: like [`clean`], with newlines and tabs turned into spaces, runs of
/// whitespace collapsed, and cut to at most `max` characters (with `…`).
pub fn clean_line(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    let mut last_space = true;
    for c in s.chars() {
        let c = if c.is_whitespace() {
            ' '
        } else if is_unsafe(c) {
            '\u{FFFD}'
        } else {
            c
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count + 1 > max {
            out.pop();
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Indent every line of `s` by `n` spaces (after cleaning it).
pub fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    clean(s)
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_are_neutralised() {
        assert_eq!(clean("a\x1b[2Jb\nc\u{202E}d"), "a\u{FFFD}[2Jb\nc\u{FFFD}d");
        assert_eq!(clean_line("  one\n two\tthree  ", 80), "one two three");
        assert_eq!(clean_line("abcdef", 4), "abc…");
        assert_eq!(clean_line("abcd", 4), "abcd");
    }
}

//! Making untrusted text safe to print: what a reporter wrote, and what a
//! server says, reaches a handler's terminal only through here.
//!
//! It owns the one definition of an unsafe character ([`is_unsafe`]): control
//! characters, C0 and C1 and DEL (terminal escape sequences — including the
//! 8-bit CSI U+009B and OSC U+009D — could otherwise rewrite the screen, hide
//! lines or set the window title) and bidirectional controls (overrides,
//! embeddings, isolates and marks, which can make a line read differently
//! from what it is). Terminal text replaces them with `�` here; the JSON
//! export escapes them as `\uXXXX` and the HTML export replaces them with `�`
//! (see [`crate::export`]), both with this same test.

/// Whether a character must not reach a terminal (or a printed page) as is:
/// every control character except newline and tab (U+0000–U+001F, U+007F,
/// U+0080–U+009F) and the bidirectional controls (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C).
pub fn is_unsafe(c: char) -> bool {
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
        for c in [
            '\u{7f}', '\u{80}', '\u{9b}', '\u{9d}', '\u{9f}', '\u{202A}', '\u{202E}', '\u{2066}',
            '\u{2069}',
        ] {
            assert!(is_unsafe(c), "{:04x}", c as u32);
        }
        for c in ['\n', '\t', 'a', 'é', '\u{a0}', '\u{5d0}'] {
            assert!(!is_unsafe(c), "{:04x}", c as u32);
        }
    }
}

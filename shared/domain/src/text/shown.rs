//! Input echoed in messages, logs and terminal output, made safe to print: a file name holding a
//! newline or a terminal escape must not forge a line or recolour a terminal (issue 17).

/// At most this many characters of any input are quoted in a message.
pub const SHOWN_CHARS: usize = 80;

/// Input quoted in a message: control characters (and DEL, and the C1 range) written as escapes,
/// cut to `SHOWN_CHARS` characters with an ellipsis.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS * 4));
    for (n, c) in text.chars().enumerate() {
        if n == SHOWN_CHARS {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// A whole message on one line: control characters escaped as in `shown`, nothing cut.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    text.chars().for_each(|c| push_escaped(&mut out, c));
    out
}

fn push_escaped(out: &mut String, c: char) {
    if c.is_control() {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_escapes_controls_and_truncates() {
        assert_eq!(shown("a\nb\x1b[31mc\u{0}"), "a\\nb\\u{1b}[31mc\\u{0}");
        let s = shown(&"x".repeat(1000));
        assert_eq!(s.chars().count(), SHOWN_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(shown("Côté Marie-Ève"), "Côté Marie-Ève");
        assert_eq!(one_line(&format!("a\r\n{}", "y".repeat(200))).len(), 205);
    }
}

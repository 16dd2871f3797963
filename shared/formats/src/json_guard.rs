//! Bounds for JSON read with `struson`, which buffers every string, member name and number
//! whole and keeps member names in its path: a `Read` adapter below the parser counts, as the
//! bytes pass, the length of the string or number being read and the nesting depth, and stops
//! the read with `Exceeded` once one passes its bound (`Limits::field_bytes`, `Limits::depth`),
//! so the parser never holds more than a bounded value. Both JSON readers use it (the India
//! push-alert reader and the JSON profile reader).

use std::fmt;
use std::io::{self, Read};

use struson::reader::ReaderError;

use crate::{shown, Limits, Location, ParseError};

/// A bound passed: which one, its value, and the byte offset where the value began.
#[derive(Debug)]
pub(crate) struct Exceeded {
    pub what: &'static str,
    pub limit: usize,
    pub unit: &'static str,
    pub offset: u64,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} exceeds {} {}", self.what, self.limit, self.unit)
    }
}

impl std::error::Error for Exceeded {}

/// The reader under the JSON parser. Raw bytes are counted: an escape (`\u00e9`) counts as
/// written, so a decoded string is never longer than the bound.
pub(crate) struct Guarded<R> {
    inner: R,
    string_bytes: usize,
    depth_limit: usize,
    /// Bytes handed to the parser so far.
    pos: u64,
    in_string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// Length so far of the run of number characters being read.
    run: usize,
    /// Where the string (its opening quote) or the number being read began.
    run_start: u64,
    depth: usize,
    tripped: bool,
}

impl<R: Read> Guarded<R> {
    pub(crate) fn new(inner: R, limits: &Limits) -> Self {
        Self {
            inner,
            string_bytes: limits.field_bytes,
            depth_limit: limits.depth,
            pos: 0,
            in_string: false,
            escaped: false,
            run: 0,
            run_start: 0,
            depth: 0,
            tripped: false,
        }
    }

    fn trip(&mut self, what: &'static str, limit: usize, unit: &'static str, offset: u64) -> io::Error {
        self.tripped = true;
        io::Error::other(Exceeded { what, limit, unit, offset })
    }

    /// Follows the bytes the parser is about to see; an error as soon as a bound is passed.
    /// Inside a string only quotes and backslashes matter, and its length is the distance
    /// from its opening quote, so the common path is a tight search for those two bytes.
    fn scan(&mut self, bytes: &[u8]) -> io::Result<()> {
        let n = bytes.len();
        let mut k = 0;
        if self.escaped && n > 0 {
            // The escape's second byte, whatever it is, belongs to the string.
            self.escaped = false;
            k = 1;
        }
        while k < n {
            if self.in_string {
                match memchr::memchr2(b'"', b'\\', &bytes[k..]) {
                    Some(p) => k += p,
                    None => break,
                }
                if bytes[k] == b'\\' {
                    k += 2;
                    if k > n {
                        self.escaped = true;
                    }
                    continue;
                }
                self.in_string = false;
                self.check_string(self.pos + k as u64)?;
                k += 1;
                continue;
            }
            let b = bytes[k];
            if matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                if self.run == 0 {
                    self.run_start = self.pos + k as u64;
                }
                self.run += 1;
                if self.run > self.string_bytes {
                    let start = self.run_start;
                    return Err(self.trip("JSON number length", self.string_bytes, "bytes", start));
                }
            } else {
                self.run = 0;
                match b {
                    b'"' => {
                        self.in_string = true;
                        self.run_start = self.pos + k as u64;
                    }
                    b'{' | b'[' => {
                        self.depth += 1;
                        if self.depth > self.depth_limit {
                            let at = self.pos + k as u64;
                            return Err(self.trip("JSON nesting depth", self.depth_limit, "levels", at));
                        }
                    }
                    b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
            }
            k += 1;
        }
        if self.in_string {
            self.check_string(self.pos + n as u64)?;
        }
        Ok(())
    }

    /// The string open since `run_start` has reached `end` (exclusive; its quotes not counted).
    fn check_string(&mut self, end: u64) -> io::Result<()> {
        let len = end.saturating_sub(self.run_start + 1);
        if len > self.string_bytes as u64 {
            let at = self.run_start;
            return Err(self.trip("JSON string or member name length", self.string_bytes, "bytes", at));
        }
        Ok(())
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n])?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The bound a parser error stands for, if it is one of ours.
fn exceeded(e: &ReaderError) -> Option<&Exceeded> {
    match e {
        ReaderError::IoError { error, .. } => error.get_ref()?.downcast_ref::<Exceeded>(),
        _ => None,
    }
}

/// `ParseError::Limit` for a bound passed, at `path` (already safe to show).
pub(crate) fn limit_error(file: &str, path: String, e: &ReaderError) -> Option<ParseError> {
    let x = exceeded(e)?;
    Some(ParseError::limit(
        file,
        Location::Element { path, offset: x.offset },
        x.what,
        format!("{} {}", x.limit, x.unit),
    ))
}

/// What went wrong, without the parser's location (which quotes member names whole): the
/// caller names the place itself.
pub(crate) fn describe(e: &ReaderError) -> String {
    match e {
        ReaderError::SyntaxError(s) => format!("syntax error {}", s.kind),
        ReaderError::UnexpectedValueType { expected, actual, .. } => {
            format!("expected {expected}, found {actual}")
        }
        ReaderError::UnexpectedStructure { kind, .. } => {
            format!("unexpected structure {}", shown(&kind.to_string()))
        }
        ReaderError::MaxNestingDepthExceeded { max_nesting_depth, .. } => {
            format!("nesting deeper than {max_nesting_depth} levels")
        }
        ReaderError::UnsupportedNumberValue { number, .. } => {
            format!("unsupported number value {}", shown(number))
        }
        ReaderError::IoError { error, .. } => shown(&error.to_string()),
        other => shown(&other.to_string()),
    }
}

/// The first C0 control (other than tab) or DEL in a decoded text: JSON lets one in only
/// escaped (`\u0000`), and a text field keeps none. Its character position (0-based) and byte.
pub(crate) fn control_in(text: &str) -> Option<(usize, u8)> {
    let at = text.bytes().position(|b| b < 0x20 && b != b'\t' || b == 0x7f)?;
    Some((text[..at].chars().count(), text.as_bytes()[at]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(json: &[u8], chunk: usize) -> Result<(), String> {
        let limits = Limits { field_bytes: 8, depth: 3, ..Limits::default() };
        let mut g = Guarded::new(json, &limits);
        let mut buf = vec![0u8; chunk];
        loop {
            match g.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    #[test]
    fn bounds_strings_names_numbers_and_depth_whatever_the_chunk_size() {
        for chunk in [1, 2, 3, 7, 1024] {
            assert_eq!(scan_all(br#"{"12345678":[["12345678",12345678]]}"#, chunk), Ok(()), "{chunk}");
            assert_eq!(scan_all(br#"{"a\"\\bcd":1}"#, chunk), Ok(()), "escapes counted raw: 8 bytes");
            assert!(scan_all(br#"{"a\"\\bcde":1}"#, chunk).is_err(), "an escaped quote does not end it");
            let long = scan_all(br#"{"a":"123456789"}"#, chunk).unwrap_err();
            assert!(long.contains("string or member name length exceeds 8 bytes"), "{long}");
            assert!(scan_all(br#"{"123456789":1}"#, chunk).is_err());
            assert!(scan_all(br#"{"a":123456789}"#, chunk).unwrap_err().contains("number length"));
            assert!(scan_all(br#"[[[[1]]]]"#, chunk).unwrap_err().contains("nesting depth exceeds 3"));
            assert_eq!(scan_all(br#"[[["[[[[",1]],[]]"#, chunk), Ok(()), "brackets in strings do not nest");
        }
    }

    #[test]
    fn controls_in_decoded_text() {
        assert_eq!(control_in("Ravi\tKumar"), None);
        assert_eq!(control_in("Ré\u{0}x"), Some((2, 0)));
        assert_eq!(control_in("a\u{1b}[31m"), Some((1, 0x1b)));
        assert_eq!(control_in("a\u{7f}"), Some((1, 0x7f)));
    }
}

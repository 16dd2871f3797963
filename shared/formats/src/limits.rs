//! Bounds every reader enforces while it reads, so that a hostile or broken file is refused
//! with a clear reason (`ParseError::Limit`) instead of costing unbounded memory or time. The
//! defaults are far above any real remittance file; runners may lower them per market.

/// What a reader may be asked to hold or walk. All sizes in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole file as stored (compressed, if it is).
    pub file_bytes: u64,
    /// The file once gzip or zip is removed.
    pub decompressed_bytes: u64,
    /// Decompressed bytes per compressed byte, past the first `decompressed_bytes_free`.
    pub compression_ratio: u64,
    /// Decompressed bytes always allowed whatever the ratio (small files compress well).
    pub decompressed_bytes_free: u64,
    /// Entries in a zip archive.
    pub archive_entries: u64,
    /// One text line (CSV, MT940) or fixed-width record, line end excluded.
    pub line_bytes: usize,
    /// One field's value (a CSV cell, an MT940 field with its continuation lines, a JSON
    /// string or an XML text node).
    pub field_bytes: usize,
    /// Nesting depth of XML elements or JSON containers.
    pub depth: usize,
    /// Attributes on one XML element.
    pub attributes: usize,
    /// One XML tag, name and attributes included.
    pub tag_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            file_bytes: remit_domain::ingest::MAX_FILE_BYTES,
            decompressed_bytes: 4 << 30,
            compression_ratio: 200,
            decompressed_bytes_free: 64 << 20,
            archive_entries: 64,
            line_bytes: 64 << 10,
            field_bytes: 64 << 10,
            depth: 64,
            attributes: 32,
            tag_bytes: 16 << 10,
        }
    }
}

pub use remit_domain::text::shown::{shown, SHOWN_CHARS};

/// `shown` for bytes that may not be UTF-8.
pub fn shown_bytes(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SHOWN_CHARS * 4)];
    let text = String::from_utf8_lossy(cut);
    let mut s = shown(&text);
    if cut.len() < bytes.len() && !s.ends_with('…') {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_bytes_replaces_what_is_not_utf8() {
        assert_eq!(shown_bytes(b"ab\xffc"), "ab\u{fffd}c");
        assert!(shown_bytes(&[b'x'; 1000]).ends_with('…'));
    }
}

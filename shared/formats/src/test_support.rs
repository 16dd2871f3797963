//! What every reader's unit tests need: a context and a way to read bytes in a given format.

use remit_domain::{FileId, Payment};

use crate::{open_as, Format, ParseError, SourceContext};

/// A context for a file called `name` (its id is the hash of the name).
pub(crate) fn ctx(name: &str) -> SourceContext {
    SourceContext { file_id: FileId::of_bytes(name.as_bytes()), file_name: name.into() }
}

/// Everything the `format` reader yields for `bytes`, errors included.
pub(crate) fn read(format: Format, name: &str, bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    open_as(format, ctx(name), bytes).collect()
}

/// The payments of a file that must read cleanly; panics with the error otherwise.
pub(crate) fn read_ok(format: Format, name: &str, bytes: &[u8]) -> Vec<Payment> {
    read(format, name, bytes).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

/// A stored (method 0) zip of `entries` (name, bytes), each with its local header, then the
/// start of a central directory (what the streaming reader stops at).
pub(crate) fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = Vec::new();
    for (name, data) in entries {
        zip.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(data);
    }
    zip.extend_from_slice(b"PK\x05\x06");
    zip
}

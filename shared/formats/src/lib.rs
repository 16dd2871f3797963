//! Streaming readers for remittance files. Each reader is an iterator over a `BufRead` that
//! yields canonical `Payment`s and never holds the whole file; `open` detects the format from
//! the content and returns the right reader.

pub mod accounts;
pub mod camt;
pub mod cpa005;
mod csv_rows;
pub mod detect;
pub mod error;
pub mod india;
mod json_guard;
pub mod limits;
pub mod mt940;
pub mod profile;
pub mod source;
mod synth;
#[cfg(test)]
mod test_support;
mod wrap;

use std::io::{self, BufRead, Read};

use remit_domain::{FileId, Payment};

pub use detect::{detect, Format};
pub use error::{Location, ParseError};
pub use limits::{shown, Limits};
pub use source::{Source, SourceRouter};

/// What every reader knows about the file it reads.
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// SHA-256 of the file's bytes.
    pub file_id: FileId,
    /// Name the file arrived under; every error names it. Shared by every payment's provenance.
    pub file_name: std::sync::Arc<str>,
}

/// A boxed stream of payments, whatever the format.
pub type PaymentStream<'a> = Box<dyn Iterator<Item = Result<Payment, ParseError>> + 'a>;

/// Detects the format from the first bytes and returns its streaming reader. Gzip and zip
/// wrappers are removed first (one level), so a zipped statement reads like a plain one; what
/// they expand to is bounded by `Limits` (size, ratio, entries) and refused with `ParseError::Limit`.
pub fn open<'a, R: BufRead + 'a>(
    ctx: SourceContext,
    reader: R,
) -> Result<(Format, PaymentStream<'a>), ParseError> {
    let mut reader = peek(reader, source::HEAD_BYTES).map_err(|e| ParseError::io(&ctx.file_name, e))?;
    let head = head(&mut reader).map_err(|e| ParseError::io(&ctx.file_name, e))?;
    if head.starts_with(wrap::GZIP) {
        return wrap::open_gzip(ctx, reader, Limits::default());
    }
    if head.starts_with(wrap::ZIP) {
        return wrap::open_zip(ctx, reader, Limits::default());
    }
    open_plain(ctx, reader)
}

/// `open` without unwrapping.
fn open_plain<'a, R: BufRead + 'a>(
    ctx: SourceContext,
    reader: R,
) -> Result<(Format, PaymentStream<'a>), ParseError> {
    let mut reader = peek(reader, source::HEAD_BYTES).map_err(|e| ParseError::io(&ctx.file_name, e))?;
    let head = head(&mut reader).map_err(|e| ParseError::io(&ctx.file_name, e))?;
    let format = detect(head).ok_or_else(|| ParseError::UnknownFormat {
        file: ctx.file_name.to_string(),
        reason: "not CPA-005, camt.052, camt.053, camt.054, MT940, or an India e-collect CSV/JSON".into(),
    })?;
    Ok((format, open_as(format, ctx, reader)))
}

/// A reader with its first bytes set apart for detection (see `peek`).
type Peeked<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// `reader` with at least `n` bytes at its front for `head`, or the whole input when it is
/// shorter: one `fill_buf` may return a few bytes (the end of a gzip member, a zip entry that
/// starts at the end of the source's buffer), and detection must not decide on those alone.
/// Nothing is copied when the reader's own buffer already holds `n` bytes.
fn peek<R: BufRead>(mut reader: R, n: usize) -> io::Result<Peeked<R>> {
    let mut head = Vec::new();
    loop {
        let buf = fill_buf(&mut reader)?;
        if buf.is_empty() || (head.is_empty() && buf.len() >= n) {
            break;
        }
        let take = buf.len().min(n - head.len());
        head.extend_from_slice(&buf[..take]);
        reader.consume(take);
        if head.len() >= n {
            break;
        }
    }
    Ok(io::Cursor::new(head).chain(reader))
}

/// The first bytes of a peeked reader, without consuming them.
fn head<R: BufRead>(reader: &mut Peeked<R>) -> io::Result<&[u8]> {
    let (copied, rest) = reader.get_mut();
    if copied.get_ref().is_empty() {
        fill_buf(rest)
    } else {
        Ok(copied.get_ref())
    }
}

/// Returns the reader for a known format.
pub fn open_as<'a, R: BufRead + 'a>(format: Format, ctx: SourceContext, reader: R) -> PaymentStream<'a> {
    match format {
        Format::Cpa005 => Box::new(cpa005::Cpa005Reader::new(reader, ctx)),
        // One reader for both: it tells a statement from a notification by the root element.
        Format::Camt052 | Format::Camt053 | Format::Camt054 => Box::new(camt::CamtReader::new(reader, ctx)),
        // One reader for both: it tells a report from a statement by its fields.
        Format::Mt940 | Format::Mt942 => Box::new(mt940::Mt940Reader::new(reader, ctx)),
        Format::IndiaCsv => Box::new(india::IndiaCsvReader::new(reader, ctx)),
        Format::IndiaJson => Box::new(india::IndiaJsonReader::new(reader, ctx)),
    }
}

/// Writes a synthetic file of a format (`cpa005`, `camt054`, `mt940`, `india-csv`, `india-json`), for
/// benchmarks and load tests.
pub fn generate(format: &str, w: &mut impl std::io::Write, payments: u64, seed: u64) -> std::io::Result<()> {
    match format {
        "cpa005" => cpa005::generate::write(w, payments, seed),
        "camt054" => camt::generate::write(w, payments, seed),
        "india-csv" => india::generate::write_csv(w, payments, seed),
        "india-json" => india::generate::write_json(w, payments, seed),
        "mt940" => mt940::generate::write(w, payments, seed),
        other => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "no generator for format {other:?} (expected cpa005, camt054, mt940, india-csv, india-json)"
            ),
        )),
    }
}

/// `BufRead::fill_buf`, retried when a signal interrupts it (as `read_until` does); the readers
/// that frame records themselves use it.
pub(crate) fn fill_buf<R: BufRead + ?Sized>(r: &mut R) -> std::io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    r.fill_buf()
}

/// Skips a UTF-8 byte order mark (Excel-exported CSV, some XML and JSON); returns its length so
/// byte offsets still count from the file's first byte.
pub(crate) fn strip_bom<R: BufRead>(r: &mut R) -> std::io::Result<u64> {
    if fill_buf(r)?.starts_with(b"\xEF\xBB\xBF") {
        r.consume(3);
        Ok(3)
    } else {
        Ok(0)
    }
}

/// One step of a reader that stops for good at the end or at its first error: the whole file
/// is quarantined upstream, so nothing after an error matters.
pub(crate) fn end_at_first_error(
    done: &mut bool,
    step: Result<Option<Payment>, ParseError>,
) -> Option<Result<Payment, ParseError>> {
    let item = step.transpose();
    if !matches!(item, Some(Ok(_))) {
        *done = true;
    }
    item
}

/// A date some banks print that no calendar has (30 February, 31 April), read as the last day of
/// its month, as the bank most likely meant (and as other MT940 readers do); `None` when the
/// month or day is out of any month's range.
pub(crate) fn clamp_to_month_end(year: i32, month: u32, day: u32) -> Option<chrono::NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    (1..=day).rev().find_map(|d| chrono::NaiveDate::from_ymd_opt(year, month, d))
}

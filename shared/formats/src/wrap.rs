//! Gzip and zip wrappers around remittance files, unwrapped while streaming (no `Seek`, no
//! temporary file): banks send zipped statements, and a 1 GB file must not land in memory.
//!
//! What a wrapper expands to is bounded while it is read (`Limits::decompressed_bytes`, the
//! compression ratio past `decompressed_bytes_free`, `archive_entries`): a 1 GB gzip of one
//! repeated byte is refused after a few megabytes, not expanded. A bound passed ends the stream
//! with `ParseError::Limit`, whatever error the reader above it made of the failed read.
//!
//! Zip is read front to back through its local file headers with flate2's `DeflateDecoder`
//! (the `zip` crate's streaming reader borrows its source, so it cannot be handed out as an
//! owned payment stream). Every entry is read in turn, each detected on its own; directories
//! are skipped; encrypted entries and methods other than stored/deflate are refused by name.

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::{DeflateDecoder, MultiGzDecoder};
use remit_domain::{FileId, Payment};

use crate::{Format, Limits, Location, ParseError, PaymentStream, SourceContext};

/// Gzip member magic.
pub(crate) const GZIP: &[u8] = b"\x1f\x8b";
/// Zip local file header signature.
pub(crate) const ZIP: &[u8] = b"PK\x03\x04";
const ZIP_CENTRAL: &[u8] = b"PK\x01\x02";
const ZIP_END: &[u8] = b"PK\x05\x06";
const ZIP_DESCRIPTOR: &[u8] = b"PK\x07\x08";

/// Read buffer above a decompressor.
const INNER_BUFFER: usize = 64 * 1024;

/// A bound a wrapper went past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exceeded {
    Size(u64),
    Ratio { ratio: u64, free: u64 },
    Entries(u64),
}

impl Exceeded {
    /// The limit's name and value, as `ParseError::Limit` shows them.
    fn what(self) -> (&'static str, String) {
        match self {
            Exceeded::Size(n) => ("decompressed size", format!("{n} bytes")),
            Exceeded::Ratio { ratio, free } => {
                ("compression ratio", format!("{ratio} to 1 (past the first {free} decompressed bytes)"))
            }
            Exceeded::Entries(n) => ("number of zip archive entries", n.to_string()),
        }
    }
}

/// The compressed bytes a wrapper has taken in and the bytes it has given out, checked against
/// `Limits` as they grow. Shared by `Counted` below the decompressor and `Bounded` above it
/// (single-threaded, as the payment stream is): once a bound is passed every later read fails.
#[derive(Debug)]
struct Guard {
    limits: Limits,
    taken: Cell<u64>,
    given: Cell<u64>,
    exceeded: Cell<Option<Exceeded>>,
}

impl Guard {
    fn new(limits: Limits) -> Rc<Self> {
        Rc::new(Guard { limits, taken: Cell::new(0), given: Cell::new(0), exceeded: Cell::new(None) })
    }

    fn took(&self, n: usize) {
        self.taken.set(self.taken.get().saturating_add(n as u64));
    }

    /// Counts `n` bytes given out; an error once a bound is passed.
    fn gave(&self, n: usize) -> io::Result<()> {
        let given = self.given.get().saturating_add(n as u64);
        self.given.set(given);
        let l = &self.limits;
        if given > l.decompressed_bytes {
            self.exceed(Exceeded::Size(l.decompressed_bytes));
        } else if given > l.decompressed_bytes_free
            && given > self.taken.get().saturating_mul(l.compression_ratio)
        {
            self.exceed(Exceeded::Ratio { ratio: l.compression_ratio, free: l.decompressed_bytes_free });
        }
        self.check()
    }

    fn exceed(&self, what: Exceeded) {
        if self.exceeded.get().is_none() {
            self.exceeded.set(Some(what));
        }
    }

    /// An error once a bound has been passed, for the reader above.
    fn check(&self) -> io::Result<()> {
        match self.exceeded.get() {
            None => Ok(()),
            Some(x) => {
                let (what, limit) = x.what();
                Err(io::Error::other(format!("{what} exceeds the limit of {limit}")))
            }
        }
    }

    /// The refusal to report instead of whatever a reader made of the failed read.
    fn refusal(&self, file: &str) -> Option<ParseError> {
        self.exceeded.get().map(|x| {
            let (what, limit) = x.what();
            ParseError::limit(file, Location::File, what, limit)
        })
    }

    /// `e`, unless a bound was passed: then the bound, which is why `e` happened.
    fn explain(&self, file: &str, e: ParseError) -> ParseError {
        self.refusal(file).unwrap_or(e)
    }
}

/// The compressed source, counting what the decompressor takes from it.
struct Counted<R> {
    inner: R,
    guard: Rc<Guard>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.guard.took(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.guard.took(amt);
        self.inner.consume(amt);
    }
}

/// A decompressor's output, refused past the guard's bounds.
struct Bounded<D> {
    inner: D,
    guard: Rc<Guard>,
}

impl<D: Read> Read for Bounded<D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.guard.check()?;
        let n = self.inner.read(buf)?;
        self.guard.gave(n)?;
        Ok(n)
    }
}

/// Opens a gzip file (every member, as `cat a.gz b.gz` makes: `gunzip` reads them all).
pub(crate) fn open_gzip<'a, R: BufRead + 'a>(
    ctx: SourceContext,
    reader: R,
    limits: Limits,
) -> Result<(Format, PaymentStream<'a>), ParseError> {
    let guard = Guard::new(limits);
    let counted = Counted { inner: reader, guard: Rc::clone(&guard) };
    let bounded = Bounded { inner: MultiGzDecoder::new(counted), guard: Rc::clone(&guard) };
    let file = ctx.file_name.clone();
    let (format, stream) = crate::open_plain(ctx, BufReader::with_capacity(INNER_BUFFER, bounded))
        .map_err(|e| guard.explain(&file, e))?;
    Ok((format, Box::new(stream.map(move |item| item.map_err(|e| guard.explain(&file, e))))))
}

enum Body<R> {
    /// Positioned at the next local header (or the central directory).
    Between(R),
    Stored(io::Take<R>, bool),
    Deflate(Box<DeflateDecoder<R>>, bool),
    /// After an error: nothing more is read.
    Gone,
}

/// The archive as a sequence of entries sharing one underlying stream.
struct ZipCursor<R> {
    body: Body<Counted<R>>,
    file: String,
    guard: Rc<Guard>,
    /// Local file headers read so far, directories included.
    headers: u64,
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl<R: BufRead> ZipCursor<R> {
    fn bad(&self, problem: impl Into<String>) -> ParseError {
        ParseError::structure(&self.file, Location::File, problem)
    }

    fn io(&self, e: io::Error) -> ParseError {
        ParseError::io(&self.file, e)
    }

    /// Finishes the current entry and moves to the next file entry; `None` at the central
    /// directory or the end of the stream.
    fn next_entry(&mut self) -> Result<Option<String>, ParseError> {
        loop {
            let mut r = match std::mem::replace(&mut self.body, Body::Gone) {
                Body::Between(r) => r,
                Body::Stored(mut take, descriptor) => {
                    drain(&mut take, &self.guard).map_err(|e| self.io(e))?;
                    let mut r = take.into_inner();
                    if descriptor {
                        skip_descriptor(&mut r).map_err(|e| self.io(e))?;
                    }
                    r
                }
                Body::Deflate(mut d, descriptor) => {
                    drain(&mut d, &self.guard).map_err(|e| match self.guard.refusal(&self.file) {
                        Some(refused) => refused,
                        None => self.bad(format!("zip entry is not valid deflate data: {e}")),
                    })?;
                    let mut r = d.into_inner();
                    if descriptor {
                        skip_descriptor(&mut r).map_err(|e| self.io(e))?;
                    }
                    r
                }
                Body::Gone => return Ok(None),
            };
            let mut header = [0u8; 30];
            let got = read_up_to(&mut r, &mut header[..4]).map_err(|e| self.io(e))?;
            if got == 0 || header[..4] == *ZIP_CENTRAL || header[..4] == *ZIP_END {
                return Ok(None);
            }
            if got < 4 || header[..4] != *ZIP {
                return Err(self.bad("zip: expected a local file header (PK\\x03\\x04): archive damaged"));
            }
            self.headers += 1;
            let most = self.guard.limits.archive_entries;
            if self.headers > most {
                self.guard.exceed(Exceeded::Entries(most));
                return Err(self
                    .guard
                    .refusal(&self.file)
                    .unwrap_or_else(|| self.bad("zip: too many entries")));
            }
            r.read_exact(&mut header[4..]).map_err(|_| self.bad("zip: local file header cut short"))?;
            let flags = le16(&header[6..]);
            let method = le16(&header[8..]);
            let csize = le32(&header[18..]);
            let name_len = le16(&header[26..]) as usize;
            let extra_len = le16(&header[28..]) as u64;
            let mut name = vec![0u8; name_len];
            r.read_exact(&mut name).map_err(|_| self.bad("zip: entry name cut short"))?;
            let name = crate::shown(&String::from_utf8_lossy(&name));
            io::copy(&mut (&mut r).take(extra_len), &mut io::sink()).map_err(|e| self.io(e))?;
            let descriptor = flags & 0x08 != 0;
            if flags & 0x01 != 0 {
                return Err(self.bad(format!("zip entry {name} is encrypted: send it unencrypted")));
            }
            self.body = match method {
                0 if descriptor => {
                    return Err(self.bad(format!(
                    "zip entry {name} is stored with a data descriptor: its length is unknown when streaming"
                )))
                }
                0 => Body::Stored(r.take(csize as u64), false),
                8 => Body::Deflate(Box::new(DeflateDecoder::new(r)), descriptor),
                m => {
                    return Err(self.bad(format!(
                    "zip entry {name} uses compression method {m}; only stored (0) and deflate (8) are read"
                )))
                }
            };
            if name.ends_with('/') {
                continue; // a directory
            }
            return Ok(Some(name));
        }
    }
}

/// Reads an entry's rest that its reader left (a reader may stop at its trailer), counted
/// against the guard like everything else the entry expands to.
fn drain(r: &mut impl Read, guard: &Guard) -> io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        guard.check()?;
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => guard.gave(n)?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads as many bytes as are there, up to `buf.len()`.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The optional-signature data descriptor after an entry (CRC and 32-bit sizes).
fn skip_descriptor(r: &mut impl BufRead) -> io::Result<()> {
    let head = r.fill_buf()?;
    let len = if head.starts_with(ZIP_DESCRIPTOR) { 16 } else { 12 };
    io::copy(&mut r.take(len), &mut io::sink())?;
    Ok(())
}

/// The current entry's decompressed bytes.
struct EntryReader<R>(Rc<RefCell<ZipCursor<R>>>);

impl<R: BufRead> Read for EntryReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut cursor = self.0.borrow_mut();
        cursor.guard.check()?;
        let n = match &mut cursor.body {
            Body::Stored(t, _) => t.read(buf)?,
            Body::Deflate(d, _) => d.read(buf)?,
            Body::Between(_) | Body::Gone => 0,
        };
        cursor.guard.gave(n)?;
        Ok(n)
    }
}

/// The payments of every entry of a zip archive, in archive order.
struct ZipPayments<'a, R> {
    cursor: Rc<RefCell<ZipCursor<R>>>,
    ctx: SourceContext,
    current: Option<PaymentStream<'a>>,
    entries: u32,
    done: bool,
}

impl<'a, R: BufRead + 'a> ZipPayments<'a, R> {
    /// `e`, or the bound passed that caused it.
    fn explain(&self, e: ParseError) -> ParseError {
        let cursor = self.cursor.borrow();
        cursor.guard.explain(&cursor.file, e)
    }

    /// Opens the next entry; `Ok(None)` when there is none.
    fn open_next(&mut self) -> Result<Option<Format>, ParseError> {
        let name = self.cursor.borrow_mut().next_entry()?;
        let Some(name) = name else { return Ok(None) };
        self.entries += 1;
        // The first entry keeps the archive's id; later ones get their own, because payment keys
        // of file-positioned formats are (file id, record): two entries must not collide.
        let file_id = if self.entries == 1 {
            self.ctx.file_id
        } else {
            FileId::of_bytes(format!("{}!{}:{name}", self.ctx.file_id.to_hex(), self.entries).as_bytes())
        };
        let ctx = SourceContext { file_id, file_name: format!("{}!{name}", self.ctx.file_name).into() };
        let reader = BufReader::with_capacity(INNER_BUFFER, EntryReader(Rc::clone(&self.cursor)));
        let (format, stream) = crate::open_plain(ctx, reader).map_err(|e| self.explain(e))?;
        self.current = Some(stream);
        Ok(Some(format))
    }
}

impl<'a, R: BufRead + 'a> Iterator for ZipPayments<'a, R> {
    type Item = Result<Payment, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(cur) = self.current.as_mut() {
                match cur.next() {
                    Some(Err(e)) => {
                        self.done = true;
                        self.current = None;
                        return Some(Err(self.explain(e)));
                    }
                    Some(ok) => return Some(ok),
                    None => self.current = None,
                }
            }
            if self.done {
                return None;
            }
            match self.open_next() {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(self.explain(e)));
                }
            }
        }
    }
}

/// Opens a zip archive: the format is the first entry's; an archive with no file is refused.
pub(crate) fn open_zip<'a, R: BufRead + 'a>(
    ctx: SourceContext,
    reader: R,
    limits: Limits,
) -> Result<(Format, PaymentStream<'a>), ParseError> {
    let file = ctx.file_name.clone();
    let guard = Guard::new(limits);
    let body = Body::Between(Counted { inner: reader, guard: Rc::clone(&guard) });
    let cursor = Rc::new(RefCell::new(ZipCursor { body, file: file.to_string(), guard, headers: 0 }));
    let mut z = ZipPayments { cursor, ctx, current: None, entries: 0, done: false };
    match z.open_next()? {
        Some(format) => Ok((format, Box::new(z))),
        None => Err(ParseError::structure(&file, Location::File, "zip archive holds no file")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    fn generated(payments: u64) -> Vec<u8> {
        let mut xml = Vec::new();
        crate::generate("camt054", &mut xml, payments, 3).unwrap();
        xml
    }

    fn read_gzip(bytes: &[u8], limits: Limits) -> Result<usize, ParseError> {
        let (_, stream) = open_gzip(crate::test_support::ctx("x.gz"), bytes, limits)?;
        stream.map(|r| r.map(|_| ())).collect::<Result<Vec<()>, _>>().map(|v| v.len())
    }

    #[test]
    fn the_decompressed_size_is_bounded() {
        let xml = generated(200);
        let gz = gzip(&xml);
        let roomy = Limits { decompressed_bytes: xml.len() as u64, ..Limits::default() };
        assert_eq!(read_gzip(&gz, roomy).unwrap(), 200);
        let tight = Limits { decompressed_bytes: xml.len() as u64 / 2, ..Limits::default() };
        let e = read_gzip(&gz, tight).unwrap_err();
        assert!(matches!(&e, ParseError::Limit { what, .. } if what == "decompressed size"), "{e}");
        // Before detection already: the limit, not "format not recognised".
        let tiny = Limits { decompressed_bytes: 100, ..Limits::default() };
        let e = read_gzip(&gz, tiny).unwrap_err();
        assert!(matches!(&e, ParseError::Limit { .. }), "{e}");
    }

    #[test]
    fn the_ratio_applies_past_the_free_allowance_only() {
        let xml = generated(200);
        let gz = gzip(&xml);
        let ratio = xml.len() as u64 / gz.len() as u64;
        assert!(ratio >= 4, "generated files compress like real ones: {ratio}");
        let strict = Limits { compression_ratio: 2, decompressed_bytes_free: 0, ..Limits::default() };
        let e = read_gzip(&gz, strict).unwrap_err();
        assert!(matches!(&e, ParseError::Limit { what, .. } if what == "compression ratio"), "{e}");
        let free =
            Limits { compression_ratio: 2, decompressed_bytes_free: xml.len() as u64, ..Limits::default() };
        assert_eq!(read_gzip(&gz, free).unwrap(), 200);
    }

    #[test]
    fn zip_entries_count_against_the_same_bounds() {
        // A stored zip of three copies: three entries, each the size of the XML.
        let xml = generated(20);
        let zip = crate::test_support::stored_zip(&[("a.xml", &xml), ("b.xml", &xml), ("c.xml", &xml)]);
        let read = |limits: Limits| -> Result<usize, ParseError> {
            let (_, s) = open_zip(crate::test_support::ctx("x.zip"), &zip[..], limits)?;
            s.collect::<Result<Vec<_>, _>>().map(|v| v.len())
        };
        assert_eq!(read(Limits::default()).unwrap(), 60);
        let e = read(Limits { archive_entries: 2, ..Limits::default() }).unwrap_err();
        assert!(e.to_string().contains("number of zip archive entries exceeds the limit of 2"), "{e}");
        let e = read(Limits { decompressed_bytes: 2 * xml.len() as u64, ..Limits::default() }).unwrap_err();
        assert!(matches!(&e, ParseError::Limit { what, .. } if what == "decompressed size"), "{e}");
    }
}

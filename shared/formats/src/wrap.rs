//! Gzip and zip wrappers around remittance files, unwrapped while streaming (no `Seek`, no
//! temporary file): banks send zipped statements, and a 1 GB file must not land in memory.
//!
//! Zip is read front to back through its local file headers with flate2's `DeflateDecoder`
//! (the `zip` crate's streaming reader borrows its source, so it cannot be handed out as an
//! owned payment stream). Every entry is read in turn, each detected on its own; directories
//! are skipped; encrypted entries and methods other than stored/deflate are refused by name.

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use flate2::bufread::DeflateDecoder;
use remit_domain::{FileId, Payment};

use crate::{Format, Location, ParseError, PaymentStream, SourceContext};

/// Gzip member magic.
pub(crate) const GZIP: &[u8] = b"\x1f\x8b";
/// Zip local file header signature.
pub(crate) const ZIP: &[u8] = b"PK\x03\x04";
const ZIP_CENTRAL: &[u8] = b"PK\x01\x02";
const ZIP_END: &[u8] = b"PK\x05\x06";
const ZIP_DESCRIPTOR: &[u8] = b"PK\x07\x08";

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
    body: Body<R>,
    file: String,
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
                    io::copy(&mut take, &mut io::sink()).map_err(|e| self.io(e))?;
                    let mut r = take.into_inner();
                    if descriptor {
                        skip_descriptor(&mut r).map_err(|e| self.io(e))?;
                    }
                    r
                }
                Body::Deflate(mut d, descriptor) => {
                    io::copy(&mut d, &mut io::sink())
                        .map_err(|e| self.bad(format!("zip entry is not valid deflate data: {e}")))?;
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
            r.read_exact(&mut header[4..]).map_err(|_| self.bad("zip: local file header cut short"))?;
            let flags = le16(&header[6..]);
            let method = le16(&header[8..]);
            let csize = le32(&header[18..]);
            let name_len = le16(&header[26..]) as usize;
            let extra_len = le16(&header[28..]) as u64;
            let mut name = vec![0u8; name_len];
            r.read_exact(&mut name).map_err(|_| self.bad("zip: entry name cut short"))?;
            let name = String::from_utf8_lossy(&name).into_owned();
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
        match &mut self.0.borrow_mut().body {
            Body::Stored(t, _) => t.read(buf),
            Body::Deflate(d, _) => d.read(buf),
            Body::Between(_) | Body::Gone => Ok(0),
        }
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
        let reader = BufReader::with_capacity(64 * 1024, EntryReader(Rc::clone(&self.cursor)));
        let (format, stream) = crate::open_plain(ctx, reader)?;
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
                        return Some(Err(e));
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
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Opens a zip archive: the format is the first entry's; an archive with no file is refused.
pub(crate) fn open_zip<'a, R: BufRead + 'a>(
    ctx: SourceContext,
    reader: R,
) -> Result<(Format, PaymentStream<'a>), ParseError> {
    let file = ctx.file_name.clone();
    let cursor = Rc::new(RefCell::new(ZipCursor { body: Body::Between(reader), file: file.to_string() }));
    let mut z = ZipPayments { cursor, ctx, current: None, entries: 0, done: false };
    match z.open_next()? {
        Some(format) => Ok((format, Box::new(z))),
        None => Err(ParseError::structure(&file, Location::File, "zip archive holds no file")),
    }
}

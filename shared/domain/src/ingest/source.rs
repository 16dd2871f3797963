//! Where a file's bytes come from, as the orchestrator sees them: a `FileSource` the runner
//! adapts (a local file, an S3 object), a `PaymentReader` the formats layer provides, and the
//! tap the first pass reads through, which hashes the bytes as they pass and marks the source's
//! own failures so that a reader's error says whose fault it is.

use std::cell::RefCell;
use std::error::Error as StdError;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::model::ids::FileId;
use crate::model::payment::Payment;
use crate::ports::{ObjectError, ObjectRef, Objects};

/// A file as a runner serves it: a local file, an S3 object.
pub trait FileSource {
    /// The name the file arrived under (a path, an object key), as reports show it.
    fn name(&self) -> &str;
    /// The key routing looks at: the S3 object key, or the path under the drop folder.
    fn route_key(&self) -> &str;
    /// A fresh read of the bytes from the first one. Every error of this reader is the
    /// source's: the orchestrator marks it so (`SourceFailed`).
    fn open(&self) -> Result<Box<dyn Read + '_>, OpenError>;
}

/// Why a source could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not there (an S3 object an earlier run moved away, a path that does not exist).
    #[error("{0}: not found")]
    Gone(String),
    /// Not something a runner reads (a FIFO, a device, a directory): refused, never retried.
    #[error("{0}")]
    Refused(String),
    /// The disk or the object store failed: a retry may succeed.
    #[error("{0}")]
    Unavailable(String),
}

/// Reads payments from a file's bytes: the formats layer, which picks the reader from the
/// file's route key and first bytes.
pub trait PaymentReader {
    /// The reader's error; it says whether the source failed under it (`ReadFailure`).
    type Error: StdError + ReadFailure + 'static;

    /// The payments in `bytes`, each carrying `file` and `name` as its provenance, and the name
    /// of the reader the route picked.
    fn read<'a>(
        &'a self,
        route_key: &str,
        file: FileId,
        name: &str,
        bytes: Box<dyn Read + 'a>,
    ) -> Result<Routed<'a, Self::Error>, Self::Error>;
}

/// A payment stream and the reader that yields it (`detect`, `cpa005`, `profile:NAME`).
pub struct Routed<'a, E> {
    pub route: String,
    pub payments: Box<dyn Iterator<Item = Result<Payment, E>> + 'a>,
}

/// Whether a reader's error is its source failing (a read that broke off, a timeout) rather
/// than the content being wrong: the first is retried, the second quarantines the file.
pub trait ReadFailure {
    fn source_failed(&self) -> bool;
}

/// An I/O error of a file's source, carried inside the `io::Error` a reader sees: a reader
/// that turns I/O errors into its own asks `is_source_failure`.
#[derive(Debug)]
pub struct SourceFailed(pub io::Error);

impl fmt::Display for SourceFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for SourceFailed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

/// True when `e` is a failure of the source under the reader (`SourceFailed`).
pub fn is_source_failure(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<SourceFailed>())
}

fn mark(e: io::Error) -> io::Error {
    if is_source_failure(&e) {
        e
    } else {
        io::Error::other(SourceFailed(e))
    }
}

/// A source's bytes with each error marked `SourceFailed` (the second pass reads through it).
pub struct Marked<R>(pub R);

impl<R: Read> Read for Marked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(mark)
    }
}

/// What the tap saw of the first pass.
struct TapState<'a> {
    inner: Box<dyn Read + 'a>,
    hasher: Sha256,
    bytes: u64,
    max: u64,
}

/// The first pass's bytes: hashed and counted as the reader pulls them, refused past `max`,
/// each error of the source marked. `Tap::finish` reads what the reader left (after an error,
/// or after a trailer) so that the identity covers every byte.
pub struct Tap<'a>(Rc<RefCell<TapState<'a>>>);

/// Why the first pass could not identify a file.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// More bytes than any runner reads.
    #[error("file size exceeds the limit of {0} bytes")]
    TooLarge(u64),
    /// The source failed while the rest was read.
    #[error("{0}")]
    Source(io::Error),
}

impl<'a> Tap<'a> {
    /// A tap over `inner`, refusing more than `max` bytes.
    pub fn new(inner: Box<dyn Read + 'a>, max: u64) -> Self {
        Tap(Rc::new(RefCell::new(TapState { inner, hasher: Sha256::new(), bytes: 0, max })))
    }

    /// A reader for the first pass (it shares the tap's state).
    pub fn reader(&self) -> TapReader<'a> {
        TapReader(self.0.clone())
    }

    /// True once more than `max` bytes passed.
    pub fn too_large(&self) -> bool {
        let s = self.0.borrow();
        s.bytes > s.max
    }

    /// Reads the rest of the bytes through the hash, and returns the file's identity and size.
    pub fn finish(self) -> Result<(FileId, u64), TapError> {
        let mut reader = TapReader(self.0.clone());
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) if self.too_large() => break,
                Err(e) => return Err(TapError::Source(e)),
            }
        }
        let s = self.0.borrow();
        if s.bytes > s.max {
            return Err(TapError::TooLarge(s.max));
        }
        Ok((FileId::of_digest(s.hasher.clone()), s.bytes))
    }
}

/// The first pass's reader over a `Tap`.
pub struct TapReader<'a>(Rc<RefCell<TapState<'a>>>);

impl Read for TapReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut s = self.0.borrow_mut();
        if s.bytes > s.max {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("file size exceeds the limit of {} bytes", s.max),
            ));
        }
        // One byte past the limit is enough to know.
        let room = (s.max - s.bytes).saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = s.inner.read(&mut buf[..want]).map_err(mark)?;
        s.hasher.update(&buf[..n]);
        s.bytes += n as u64;
        if s.bytes > s.max {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("file size exceeds the limit of {} bytes", s.max),
            ));
        }
        Ok(n)
    }
}

/// One object of an object store (the S3 landing bucket, a local folder) as the orchestrator
/// reads it: named and routed by its key.
pub struct ObjectFile<'a, O: ?Sized> {
    pub objects: &'a O,
    pub object: &'a ObjectRef,
}

impl<O: Objects + ?Sized> FileSource for ObjectFile<'_, O> {
    fn name(&self) -> &str {
        &self.object.key
    }

    fn route_key(&self) -> &str {
        &self.object.key
    }

    fn open(&self) -> Result<Box<dyn std::io::Read + '_>, OpenError> {
        match self.objects.open(self.object) {
            Ok(r) => Ok(Box::new(r)),
            Err(ObjectError::NotFound(key)) => Err(OpenError::Gone(key)),
            Err(e @ ObjectError::Invalid { .. }) => Err(OpenError::Refused(e.to_string())),
            Err(e @ ObjectError::Unavailable(_)) => Err(OpenError::Unavailable(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails after `ok` bytes.
    struct Breaks {
        ok: usize,
    }

    impl Read for Breaks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let n = buf.len().min(self.ok);
            buf[..n].fill(b'x');
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn the_tap_hashes_every_byte_even_those_the_reader_left() {
        let data = b"hello world, a file".to_vec();
        let tap = Tap::new(Box::new(&data[..]), 1 << 20);
        let mut head = [0u8; 5];
        tap.reader().read_exact(&mut head).unwrap();
        assert_eq!((tap.finish().unwrap()), (FileId::of_bytes(&data), data.len() as u64));
    }

    #[test]
    fn a_source_error_is_marked_and_a_decoders_is_not() {
        let tap = Tap::new(Box::new(Breaks { ok: 3 }), 1 << 20);
        let mut buf = [0u8; 8];
        let mut r = tap.reader();
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        let e = r.read(&mut buf).unwrap_err();
        assert!(is_source_failure(&e), "{e}");
        assert!(matches!(tap.finish(), Err(TapError::Source(_))));
        assert!(!is_source_failure(&io::Error::new(io::ErrorKind::InvalidData, "bad gzip")));
        let mut m = Marked(Breaks { ok: 0 });
        assert!(is_source_failure(&m.read(&mut buf).unwrap_err()));
    }

    #[test]
    fn past_the_limit_the_file_is_too_large() {
        let data = [b'a'; 100];
        let tap = Tap::new(Box::new(&data[..]), 10);
        let mut sink = Vec::new();
        let e = tap.reader().read_to_end(&mut sink).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(!is_source_failure(&e));
        assert!(matches!(tap.finish(), Err(TapError::TooLarge(10))));
        let exact = Tap::new(Box::new(&data[..10]), 10);
        assert_eq!(exact.finish().unwrap().1, 10);
    }
}

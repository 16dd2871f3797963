//! How an object's payments are read: its reader picked by routing (key prefix and first bytes)
//! and opened over any `BufRead`, an S3 body included.
//!
//! This mirrors `remit::local::{Source, open_payments}`, which take a path: both belong in
//! `remit_formats` over a generic reader, and this module goes once they move there.

use std::io::BufRead;

use remit_domain::pipeline::FileMeta;
use remit_formats::profile::{Profile, ProfileError, Route, Routing};
use remit_formats::{Format, ParseError, PaymentStream, SourceContext};

use crate::s3::{ObjectRef, S3Files};

/// How a file's payments are read: detected from content, a native format, or a bank profile.
pub enum Source {
    Detect,
    Native(Format),
    Profile(Box<Profile>),
}

impl Source {
    /// The source `routing` picks for a file at `key` whose first bytes (`S3Files::head`, 8 KB)
    /// are `head`. A routed profile that does not load is a deployment fault, not the file's.
    pub fn routed(routing: &Routing, key: &str, head: &[u8]) -> Result<Self, ProfileError> {
        Ok(match routing.route(key, head) {
            Route::Profile(p) => Source::Profile(Box::new(Profile::load(&p)?)),
            Route::Native(f) => Source::Native(f),
            Route::Unknown => Source::Detect,
        })
    }
}

/// Opens a payment stream over `reader`, read as `source` says; the native format it is read as
/// (none for a profile). Errors name `meta.name`.
pub fn open_payments<R: BufRead + Send + 'static>(
    reader: R,
    meta: &FileMeta,
    source: &Source,
) -> Result<(Option<Format>, PaymentStream<'static>), ParseError> {
    let ctx = SourceContext { file_id: meta.id, file_name: meta.name.as_str().into() };
    match source {
        Source::Detect => remit_formats::open(ctx, reader).map(|(f, s)| (Some(f), s)),
        Source::Native(fmt) => Ok((Some(*fmt), remit_formats::open_as(*fmt, ctx, reader))),
        Source::Profile(p) => Ok((None, p.open(ctx, reader))),
    }
}

impl S3Files {
    /// A payment stream over the object (one GET, streamed), for `ingest_file`'s `open`: each
    /// call reads the object again. A failed GET is an I/O error naming the file.
    pub fn open_payments(
        &self,
        obj: &ObjectRef,
        meta: &FileMeta,
        source: &Source,
    ) -> Result<(Option<Format>, PaymentStream<'static>), ParseError> {
        let reader = self.reader(obj).map_err(|e| ParseError::io(&meta.name, std::io::Error::other(e)))?;
        open_payments(reader, meta, source)
    }
}

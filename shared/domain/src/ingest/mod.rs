//! The one ingest orchestrator: every runner (the `remit` CLI, the ingest and chunk Lambdas)
//! calls `Orchestrator::ingest` (and, for a split file, `process_chunk` and `complete_parts`)
//! with its own `FileSource` adapter and the formats layer's `PaymentReader`.
//!
//! A file is read at most twice. The first pass hashes the bytes while the reader validates
//! every record (routing looks at the first bytes of that same read); then the file is
//! registered under its hash: a file completed before is answered from its record (nothing is
//! read again), a file that failed is quarantined. The second pass decides and records each
//! payment exactly once, whole or in chunks. A source that fails (a read that broke off) is
//! told from bad content by the reader's error (`ReadFailure`), never guessed.
//!
//! Its parts, all used as `crate::ingest::NAME`: `source` (where the bytes come from, the tap),
//! `config` (`IngestConfig` and the limits of a file), `file` (a file's registration, quarantine,
//! completion and report), `process` (each payment decided and recorded exactly once), `chunks`
//! (a large file's work cut into chunks).

mod chunks;
mod config;
mod file;
mod process;
mod source;

use chrono::{DateTime, Utc};

use crate::model::ids::FileId;
use crate::ports::{FileRecord, FileStatus, FileSummary, Store, StoreError};
pub use chunks::{sum_summaries, Chunk, ChunkPlan};
pub use config::{IngestConfig, IngestLimits, LimitError, ValidationError, MAX_FILE_BYTES};
pub use file::{complete, quarantine, register_file, FileMeta, FileReport};
pub use process::{process_payment, process_records, research_item, PaymentResult};
pub use source::{
    is_source_failure, FileSource, Marked, ObjectFile, OpenError, PaymentReader, ReadFailure, Routed,
    SourceFailed, Tap, TapError,
};

/// Why ingesting a file failed as a whole. Bad content is not an error here: it quarantines the
/// file and is reported in the `FileReport`.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The second read of the file disagreed with the first: the source changed under us.
    #[error("file {file} changed between validation and processing: {detail}")]
    Unstable { file: String, detail: String },
    /// The bytes could not be read for a reason that may pass (a network read broke off, a
    /// timeout): nothing was posted and the file is not quarantined, so a retry reads it again.
    #[error("file {file} could not be read, retry: {detail}")]
    Unreadable { file: String, detail: String },
    /// The file is not there (moved away by an earlier run of the same event).
    #[error("file {file} is not there")]
    Gone { file: String },
    /// Not something a runner reads (a FIFO, a device, a directory).
    #[error("file {file} cannot be read: {detail}")]
    Refused { file: String, detail: String },
    /// More bytes than any runner reads (`MAX_FILE_BYTES`): no identity, so not registered.
    #[error("file {file} cannot be read: {detail}")]
    TooLarge { file: String, detail: String },
}

impl IngestError {
    /// Whether running the same ingest again may succeed (Lambda and SQS retry these).
    pub fn is_retryable(&self) -> bool {
        match self {
            IngestError::Store(e) => e.is_retryable(),
            IngestError::Unstable { .. } | IngestError::Unreadable { .. } => true,
            IngestError::Gone { .. } | IngestError::Refused { .. } | IngestError::TooLarge { .. } => false,
        }
    }
}

/// The second read of a file (or a chunk's saved result) disagreed with the first: the one
/// constructor of `IngestError::Unstable`, for the orchestrator and the chunk worker.
pub fn unstable(file: &FileMeta, detail: String) -> IngestError {
    IngestError::Unstable { file: file.name.clone(), detail }
}

/// A file that read whole and valid in the first pass, registered, ready for the second.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub meta: FileMeta,
    /// Payments in the file (lines of zero amount included: positions, as chunks count them).
    pub payments: u64,
    /// These bytes had been received before (a run that died, a quarantined drop).
    pub seen_before: bool,
    /// The reader the route picked (`PaymentReader`'s `Routed::route`): the second pass must
    /// pick the same.
    pub route: String,
}

/// What the orchestrator did with a file.
#[derive(Debug)]
pub enum Ingested {
    /// Processed whole and completed, or refused and quarantined: the report says which.
    Done(FileReport),
    /// The same bytes completed before, under `first.name`: nothing was posted or read again.
    AlreadyIngested { report: FileReport, first: Box<FileRecord> },
    /// Valid and registered, and larger than one run should process: the caller hands its
    /// chunks to workers (`process_part`, then `complete_parts`).
    Split { file: Admitted, plan: ChunkPlan },
}

/// What every run of the orchestrator needs: the store, the formats layer's reader, the
/// configuration. The runners differ only in these adapters and in their `FileSource`.
pub struct Orchestrator<'a, S: ?Sized, R> {
    pub store: &'a S,
    pub reader: &'a R,
    pub config: &'a IngestConfig,
}

impl<S: Store + ?Sized, R: PaymentReader> Orchestrator<'_, S, R> {
    /// Ingests one file: first pass (hash, route, validate), register, then quarantine, answer
    /// a re-drop, split (when `chunk_payments` is given and the file holds more payments), or
    /// process it whole and complete it. `on_result` sees each payment's outcome.
    pub fn ingest(
        &self,
        source: &dyn FileSource,
        now: DateTime<Utc>,
        chunk_payments: Option<u64>,
        on_result: impl FnMut(&PaymentResult),
    ) -> Result<Ingested, IngestError> {
        ingest(self.store, source, self.reader, now, self.config, chunk_payments, on_result)
    }

    /// The second pass over the payments `range` of an admitted file (see `process_part`).
    pub fn process_part(
        &self,
        source: &dyn FileSource,
        file: &Admitted,
        range: std::ops::Range<u64>,
        now: DateTime<Utc>,
        on_result: impl FnMut(&PaymentResult),
    ) -> Result<FileSummary, IngestError> {
        process_part(self.store, source, self.reader, file, range, now, self.config, on_result)
    }

    /// Chunk `chunk` of `plan` for an admitted file, refused when the plan does not hold it.
    pub fn process_chunk(
        &self,
        source: &dyn FileSource,
        file: &Admitted,
        plan: &ChunkPlan,
        chunk: &Chunk,
        now: DateTime<Utc>,
    ) -> Result<FileSummary, IngestError> {
        if !plan.contains(chunk) || plan.payments != file.payments {
            return Err(unstable(&file.meta, format!("chunk {chunk:?} is not part of the plan {plan:?}")));
        }
        self.process_part(source, file, chunk.range(), now, |_| {})
    }

    /// Completes a split file once every chunk is done: its summary is the chunks' summaries
    /// added in chunk order.
    pub fn complete_parts<'p>(
        &self,
        file: &FileMeta,
        seen_before: bool,
        parts: impl IntoIterator<Item = &'p FileSummary>,
    ) -> Result<FileReport, IngestError> {
        Ok(complete(self.store, file, sum_summaries(parts), seen_before)?)
    }
}

/// The sequence every runner goes through: register → validate → process → complete
/// (`Orchestrator::ingest` calls it).
fn ingest<S, R>(
    store: &S,
    source: &dyn FileSource,
    reader: &R,
    now: DateTime<Utc>,
    config: &IngestConfig,
    chunk_payments: Option<u64>,
    on_result: impl FnMut(&PaymentResult),
) -> Result<Ingested, IngestError>
where
    S: Store + ?Sized,
    R: PaymentReader,
{
    let file = match admit(store, source, reader, now, config)? {
        Admission::Admitted(file) => file,
        Admission::Quarantined(report) => return Ok(Ingested::Done(report)),
        Admission::AlreadyIngested { report, first } => {
            return Ok(Ingested::AlreadyIngested { report, first })
        }
    };
    if let Some(size) = chunk_payments {
        let plan = ChunkPlan::new(file.payments, size);
        if plan.splits() {
            return Ok(Ingested::Split { file, plan });
        }
    }
    let summary = process_part(store, source, reader, &file, 0..file.payments, now, config, on_result)?;
    Ok(Ingested::Done(complete(store, &file.meta, summary, file.seen_before)?))
}

/// What the first pass decided.
enum Admission {
    Admitted(Admitted),
    Quarantined(FileReport),
    AlreadyIngested { report: FileReport, first: Box<FileRecord> },
}

/// The first pass: reads the file once through a `Tap` (hash and size), routed and validated
/// record by record against the configured limits; then registers it.
fn admit<S, R>(
    store: &S,
    source: &dyn FileSource,
    reader: &R,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Result<Admission, IngestError>
where
    S: Store + ?Sized,
    R: PaymentReader,
{
    let name = source.name();
    let bytes = source.open().map_err(|e| opened(name, e))?;
    let tap = Tap::new(bytes, MAX_FILE_BYTES);
    let mut route = String::new();
    let mut payments = 0u64;
    let mut market = None;
    // The provenance of the first pass's payments names no file yet (the hash is known at its
    // end); they are counted and checked, never stored.
    let checked: Result<(), ValidationError<R::Error>> = (|| {
        let routed = reader.read(source.route_key(), FileId::PENDING, name, Box::new(tap.reader()));
        let routed = routed.map_err(ValidationError::Read)?;
        route = routed.route;
        for p in routed.payments {
            let p = p.map_err(ValidationError::Read)?;
            config.limits.check_amount(&p).map_err(ValidationError::Limit)?;
            market.get_or_insert(p.market);
            payments += 1;
        }
        Ok(())
    })();
    if let Err(ValidationError::Read(e)) = &checked {
        if e.source_failed() {
            return Err(unreadable(name, &e.to_string()));
        }
    }
    let (id, size) = match tap.finish() {
        Ok(identity) => identity,
        Err(TapError::TooLarge(max)) => {
            return Err(IngestError::TooLarge {
                file: name.to_string(),
                detail: format!("file size exceeds the limit of {max} bytes"),
            })
        }
        Err(TapError::Source(e)) => return Err(unreadable(name, &e.to_string())),
    };
    let meta = FileMeta { id, name: name.to_string(), size };
    let checked = checked.and_then(|()| match market {
        Some(m) => config.limits.check_file_size(m, name, size).map_err(ValidationError::Limit),
        None => Ok(()),
    });
    let prior = register_file(store, &meta, now)?;
    if let Some(first) = prior.clone().filter(|f| f.status == FileStatus::Completed) {
        let report = FileReport {
            file: meta.name.clone(),
            file_id: meta.id,
            status: FileStatus::Completed,
            seen_before: true,
            reason: Some(already_ingested(&first, &meta)),
            summary: FileSummary::default(),
        };
        tracing::info!(file = %crate::text::shown::shown(name), file_id = %meta.id.short(), "already ingested: not read again");
        return Ok(Admission::AlreadyIngested { report, first: Box::new(first) });
    }
    let seen_before = prior.is_some();
    match checked {
        Ok(()) => Ok(Admission::Admitted(Admitted { meta, payments, seen_before, route })),
        Err(e) => Ok(Admission::Quarantined(quarantine(store, &meta, &e, seen_before)?)),
    }
}

/// The reason a re-dropped file is not ingested again.
fn already_ingested(first: &FileRecord, meta: &FileMeta) -> String {
    let first_name = crate::text::shown::shown(&crate::text::masking::mask_card_numbers(&first.name));
    format!("the same bytes as {first_name} (file {}), ingested before: nothing posted", meta.id.short())
}

/// The second pass over the payments `range` of an admitted file (all of them, or one chunk):
/// opens the source again, checks the route picks the same reader, and decides and records
/// each payment exactly once. The range that ends the file also checks nothing follows it.
#[allow(clippy::too_many_arguments)]
fn process_part<S, R>(
    store: &S,
    source: &dyn FileSource,
    reader: &R,
    file: &Admitted,
    range: std::ops::Range<u64>,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileSummary, IngestError>
where
    S: Store + ?Sized,
    R: PaymentReader,
{
    let meta = &file.meta;
    let bytes = source.open().map_err(|e| opened(&meta.name, e))?;
    let routed = reader
        .read(source.route_key(), meta.id, &meta.name, Box::new(Marked(bytes)))
        .map_err(|e| second_read(meta, &e))?;
    if routed.route != file.route {
        return Err(unstable(meta, format!("validated as {}, routed now to {}", file.route, routed.route)));
    }
    let mut stream = routed.payments;
    let summary = process_records(store, meta, &mut stream, range.clone(), now, config, on_result)?;
    if range.end == file.payments {
        if let Some(next) = stream.next() {
            return Err(match next {
                Err(e) => second_read(meta, &e),
                Ok(_) => unstable(
                    meta,
                    format!("{} payments validated, more found when processing", file.payments),
                ),
            });
        }
    }
    Ok(summary)
}

fn opened(name: &str, e: OpenError) -> IngestError {
    match e {
        OpenError::Gone(_) => IngestError::Gone { file: name.to_string() },
        OpenError::Refused(detail) => IngestError::Refused { file: name.to_string(), detail },
        OpenError::Unavailable(detail) => unreadable(name, &detail),
    }
}

fn unreadable(name: &str, detail: &str) -> IngestError {
    let detail = crate::text::masking::mask_card_numbers(detail);
    tracing::warn!(file = %crate::text::shown::shown(name), %detail, "read failed: not quarantined, retry");
    IngestError::Unreadable { file: name.to_string(), detail }
}

/// An error of the second read: the source's (retry), or content that changed since the
/// first (the bytes are not the ones validated).
fn second_read<E: ReadFailure + std::fmt::Display>(meta: &FileMeta, e: &E) -> IngestError {
    if e.source_failed() {
        unreadable(&meta.name, &e.to_string())
    } else {
        unstable(meta, e.to_string())
    }
}

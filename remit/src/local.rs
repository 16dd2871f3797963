//! The local runner: files on disk, the SQLite store, the domain pipeline.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use remit_domain::pipeline::{ingest_file, FileMeta, FileReport, IngestConfig, PaymentResult};
use remit_domain::ports::{AccountDirectory, Store};
use remit_domain::FileId;
use remit_formats::{Format, ParseError, PaymentStream, SourceContext};

/// Read buffer for every reader: large enough that syscalls do not dominate.
const BUFFER: usize = 256 * 1024;

/// Identifies a file on disk by the SHA-256 of its bytes, streaming.
pub fn file_meta(path: &Path) -> Result<FileMeta> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let size = f.metadata()?.len();
    let id = FileId::of_reader(f).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(FileMeta { id, name: path.display().to_string(), size })
}

/// Opens a payment stream over a file, detecting its format (or using `format`).
pub fn open_payments(
    path: &Path,
    meta: &FileMeta,
    format: Option<Format>,
) -> Result<(Format, PaymentStream<'static>), ParseError> {
    let name = meta.name.clone();
    let f = File::open(path).map_err(|e| ParseError::io(&name, e))?;
    let reader = BufReader::with_capacity(BUFFER, f);
    let ctx = SourceContext { file_id: meta.id, file_name: name.into() };
    match format {
        Some(fmt) => Ok((fmt, remit_formats::open_as(fmt, ctx, reader))),
        None => remit_formats::open(ctx, reader),
    }
}

/// Ingests one file from disk through the whole pipeline.
pub fn ingest_path<S: Store + ?Sized>(
    store: &S,
    path: &Path,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport> {
    let meta = file_meta(path)?;
    let report = ingest_file(
        store,
        &meta,
        || open_payments(path, &meta, None).map(|(_, s)| s),
        now,
        config,
        on_result,
    )?;
    Ok(report)
}

/// Loads a directory CSV into the store; returns how many accounts were loaded.
pub fn import_accounts<S: AccountDirectory + ?Sized>(store: &S, path: &Path) -> Result<u64> {
    let name = path.display().to_string();
    let f = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let mut n = 0;
    for account in remit_formats::accounts::read_accounts(&name, BufReader::new(f))? {
        store.put_account(&account?)?;
        n += 1;
    }
    Ok(n)
}

//! The local runner: files on disk, the SQLite store, the domain pipeline.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use remit_domain::ingest::{
    FileMeta, FileReport, FileSource, IngestConfig, IngestError, Ingested, OpenError, Orchestrator,
    PaymentResult, MAX_FILE_BYTES,
};
use remit_domain::ports::{AccountDirectory, ObjectRef, Objects, Store};
use remit_formats::{ParseError, PaymentStream, SourceContext};

use crate::objects::LocalObjects;

/// `O_NONBLOCK` where it is known: opening a FIFO then returns at once instead of waiting for a
/// writer (the file is refused just after); it changes nothing for a regular file.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
const OPEN_NONBLOCK: i32 = 0o4000;
#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
const OPEN_NONBLOCK: i32 = 0;

/// Opens `path` for reading if it is a regular file (a symlink to one is fine). A FIFO, a
/// device or a directory is refused by name: reading one blocks, never ends (`/dev/zero`) or
/// fails obscurely. Checked before opening (opening a FIFO blocks) and again on the open file,
/// in case the path changed in between.
pub fn open_regular(path: &Path) -> Result<File> {
    open_regular_io(path).with_context(|| format!("{}: cannot open", path.display()))
}

fn open_regular_io(path: &Path) -> std::io::Result<File> {
    refuse_unless_regular(&std::fs::metadata(path)?)?;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, OPEN_NONBLOCK);
    let f = options.open(path)?;
    refuse_unless_regular(&f.metadata()?)?;
    Ok(f)
}

fn refuse_unless_regular(meta: &std::fs::Metadata) -> std::io::Result<()> {
    if meta.is_file() {
        return Ok(());
    }
    let kind = file_kind(meta.file_type());
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("not a regular file ({kind}): only regular files are read"),
    ))
}

/// What a non-regular file is, for the message refusing it.
fn file_kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

pub use remit_formats::{Source, SourceRouter};

/// A file on disk as the orchestrator reads it: named by its path as given, routed by `key`
/// (its path under the drop folder, standing for an S3 object key).
#[derive(Clone, Debug)]
pub struct LocalFile {
    path: PathBuf,
    name: String,
    key: String,
}

impl LocalFile {
    /// The file at `path`, routed by the path as given (run from the drop folder for S3-style keys).
    pub fn new(path: &Path) -> Self {
        Self { path: path.to_path_buf(), name: path.display().to_string(), key: object_key(path) }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file at `path` under the drop folder `root`, routed by its path under `root`.
    pub fn under(root: &Path, path: &Path) -> Self {
        let key = path.strip_prefix(root).map_or_else(|_| object_key(path), object_key);
        Self { key, ..Self::new(path) }
    }
}

impl FileSource for LocalFile {
    fn name(&self) -> &str {
        &self.name
    }

    fn route_key(&self) -> &str {
        &self.key
    }

    fn open(&self) -> Result<Box<dyn Read + '_>, OpenError> {
        match open_regular_io(&self.path) {
            Ok(f) => Ok(Box::new(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(OpenError::Gone(self.name.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                Err(OpenError::Refused(format!("{}: {e}", self.name)))
            }
            Err(e) => Err(OpenError::Unavailable(format!("{}: {e}", self.name))),
        }
    }
}

/// The files dropped under `prefix` (a market folder, an S3 prefix) of the local bucket, in key
/// order; notes and scripts (`.md`, `.py`, dot files) are not drops.
pub fn drops(bucket: &LocalObjects, prefix: &str) -> Result<Vec<ObjectRef>> {
    let keys = bucket.list(prefix).with_context(|| format!("{}: cannot list", bucket.root().display()))?;
    let is_drop = |key: &str| {
        let name = key.rsplit('/').next().unwrap_or(key);
        !(name.starts_with('.') || name.ends_with(".md") || name.ends_with(".py"))
    };
    Ok(keys.into_iter().filter(|k| is_drop(k)).map(|k| ObjectRef::new("local", k)).collect())
}

/// A local path as the S3 object key it stands for: `/`-separated, without a leading `./`.
pub fn object_key(path: &Path) -> String {
    let key = path.to_string_lossy().replace('\\', "/");
    key.strip_prefix("./").unwrap_or(&key).to_string()
}

/// Identifies a file on disk by the SHA-256 of its bytes, streaming, for the commands that
/// show payments without ingesting them (`remit parse`). Only a regular file is read, and only
/// up to `MAX_FILE_BYTES`.
pub fn file_meta(path: &Path) -> Result<FileMeta> {
    let f = open_regular(path)?;
    FileMeta::read_at_most(path.display().to_string(), f, MAX_FILE_BYTES)
        .with_context(|| format!("{}: cannot read", path.display()))
}

/// Opens a payment stream over a file identified by `meta`, read as `router` picks; the
/// route's name.
pub fn open_payments<'a>(
    file: &'a LocalFile,
    meta: &FileMeta,
    router: &SourceRouter,
) -> Result<(String, PaymentStream<'a>), ParseError> {
    let bytes = file.open().map_err(|e| ParseError::io(&file.name, std::io::Error::other(e.to_string())))?;
    let ctx = SourceContext { file_id: meta.id, file_name: file.name.as_str().into() };
    router.open(&file.key, ctx, bytes)
}

/// Ingests one file from disk through the orchestrator (`remit_domain::ingest`), read as
/// `router` picks. A file seen and completed before is answered from its record.
pub fn ingest<S: Store + ?Sized>(
    store: &S,
    file: &dyn FileSource,
    router: &SourceRouter,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport, IngestError> {
    let orchestrator = Orchestrator { store, reader: router, config };
    match orchestrator.ingest(file, now, None, on_result)? {
        Ingested::Done(report) | Ingested::AlreadyIngested { report, .. } => Ok(report),
        // Never without a chunk size.
        Ingested::Split { file, .. } => {
            Err(IngestError::Unstable { file: file.meta.name, detail: "split".into() })
        }
    }
}

/// `ingest` of the file at `path`, its reader picked by content detection.
pub fn ingest_path<S: Store + ?Sized>(
    store: &S,
    path: &Path,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport> {
    Ok(ingest(store, &LocalFile::new(path), &SourceRouter::default(), now, config, on_result)?)
}

/// The pipeline configuration in `path` (TOML: `[matching]`, `[sla]`; see `config/remit.toml`),
/// checked; the built-in defaults (the values that file ships with) without one.
pub fn load_config(path: Option<&Path>) -> Result<IngestConfig> {
    let Some(path) = path else { return Ok(IngestConfig::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let config: IngestConfig =
        toml::from_str(&text).with_context(|| format!("{}: not a valid configuration", path.display()))?;
    config.validate().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(config)
}

/// Loads a directory CSV into the store, each card tokenised under the store's key; returns how
/// many accounts were loaded.
pub fn import_accounts<S: AccountDirectory + ?Sized>(store: &S, path: &Path) -> Result<u64> {
    let name = path.display().to_string();
    let f = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let mut n = 0;
    for account in remit_formats::accounts::read_accounts(&name, BufReader::new(f), store.card_key())? {
        store.put_account(&account?)?;
        n += 1;
    }
    Ok(n)
}

//! The local runner: files on disk, the SQLite store, the domain pipeline.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use remit_domain::pipeline::{ingest_file, FileMeta, FileReport, IngestConfig, PaymentResult};
use remit_domain::ports::{AccountDirectory, Store};
use remit_formats::profile::Routing;
use remit_formats::source::HEAD_BYTES;
use remit_formats::{Format, Limits, ParseError, PaymentStream, SourceContext};

/// Read buffer for every reader: large enough that syscalls do not dominate.
const BUFFER: usize = 256 * 1024;

/// Identifies a file on disk by the SHA-256 of its bytes, streaming. Only a regular file is
/// read, and only up to `Limits::file_bytes`.
pub fn file_meta(path: &Path) -> Result<FileMeta> {
    let f = open_regular(path)?;
    let limit = Limits::default().file_bytes;
    FileMeta::read_at_most(path.display().to_string(), f, limit)
        .with_context(|| format!("{}: cannot read", path.display()))
}

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

pub use remit_formats::Source;

/// The source `routing` picks for a file landing at `key` (an S3 object key, or a path relative
/// to a drop folder), looking at the file's first bytes as the Lambda does.
pub fn routed(routing: &Routing, key: &str, path: &Path) -> Result<Source> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    open_regular(path)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(Source::for_route(routing.route(key, &head))?)
}

/// A local folder standing for the landing bucket: a file's key is its path under the folder,
/// and the routing rules (when given) pick its reader from that key and its first bytes.
pub struct DropFolder {
    root: PathBuf,
    routing: Option<Routing>,
}

impl DropFolder {
    /// A drop folder at `root`, routed by `routing` (content detection alone without).
    pub fn new(root: &Path, routing: Option<Routing>) -> Self {
        Self { root: root.to_path_buf(), routing }
    }

    /// The files under `sub` and its subfolders (a subfolder is an S3 prefix), sorted by path;
    /// notes and scripts (`.md`, `.py`, dot files) are not drops.
    pub fn files(&self, sub: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![self.root.join(sub)];
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else { continue };
            for path in rd.filter_map(|e| e.ok().map(|e| e.path())) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if name.starts_with('.') || name.ends_with(".md") || name.ends_with(".py") {
                    continue;
                }
                if path.is_dir() {
                    dirs.push(path);
                } else if path.is_file() {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// How `path` (a file under the folder) is read.
    pub fn source(&self, path: &Path) -> Result<Source> {
        match (&self.routing, path.strip_prefix(&self.root)) {
            (Some(r), Ok(key)) => routed(r, &object_key(key), path),
            _ => Ok(Source::Detect),
        }
    }
}

/// A local path as the S3 object key it stands for: `/`-separated, without a leading `./`.
pub fn object_key(path: &Path) -> String {
    let key = path.to_string_lossy().replace('\\', "/");
    key.strip_prefix("./").unwrap_or(&key).to_string()
}

/// Opens a payment stream over a file, read as `source` says; the native format it is read as
/// (none for a profile).
pub fn open_payments(
    path: &Path,
    meta: &FileMeta,
    source: &Source,
) -> Result<(Option<Format>, PaymentStream<'static>), ParseError> {
    let name = meta.name.clone();
    let f = open_regular_io(path).map_err(|e| ParseError::io(&name, e))?;
    let reader = BufReader::with_capacity(BUFFER, f);
    source.open(SourceContext { file_id: meta.id, file_name: name.into() }, reader)
}

/// Ingests one file from disk through the whole pipeline, its format detected from content.
pub fn ingest_path<S: Store + ?Sized>(
    store: &S,
    path: &Path,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport> {
    ingest_source(store, path, &Source::Detect, now, config, on_result)
}

/// Ingests one file from disk through the whole pipeline, read as `source` says.
pub fn ingest_source<S: Store + ?Sized>(
    store: &S,
    path: &Path,
    source: &Source,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport> {
    ingest_read(store, path, &file_meta(path)?, source, now, config, on_result)
}

/// `ingest_source` of a file already identified (`file_meta`): a runner that goes on past a file
/// it cannot read hashes first, then ingests.
pub fn ingest_read<S: Store + ?Sized>(
    store: &S,
    path: &Path,
    meta: &FileMeta,
    source: &Source,
    now: DateTime<Utc>,
    config: &IngestConfig,
    on_result: impl FnMut(&PaymentResult),
) -> Result<FileReport> {
    let report = ingest_file(
        store,
        meta,
        || open_payments(path, meta, source).map(|(_, s)| s),
        now,
        config,
        on_result,
    )?;
    Ok(report)
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

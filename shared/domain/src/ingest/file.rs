//! A file's life in the registry: its identity (`FileMeta`), registration by content hash,
//! quarantine or completion, and the `FileReport` a runner gets back.

use std::error::Error as StdError;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::ids::FileId;
use crate::ports::{FileRecord, FileRegistration, FileStatus, FileSummary, Store, StoreError};

/// The outcome for one file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub file_id: FileId,
    pub status: FileStatus,
    /// True when these bytes had been received before.
    pub seen_before: bool,
    /// The reason a quarantined file was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub summary: FileSummary,
}

/// Identifies the file being ingested.
#[derive(Clone, Debug)]
pub struct FileMeta {
    pub id: FileId,
    pub name: String,
    pub size: u64,
}

impl FileMeta {
    /// A file's identity from one streaming read of its bytes: their SHA-256 and their count
    /// (the size as hashed, whatever a listing said), named `name`.
    pub fn read(name: impl Into<String>, bytes: impl std::io::Read) -> std::io::Result<Self> {
        Self::read_at_most(name, bytes, u64::MAX)
    }

    /// `read`, refused once more than `max_bytes` have been read: an endless source (a device,
    /// a pipe that keeps writing) ends with an error instead of being hashed forever. The error
    /// is of kind `FileTooLarge` and names the limit.
    pub fn read_at_most(
        name: impl Into<String>,
        bytes: impl std::io::Read,
        max_bytes: u64,
    ) -> std::io::Result<Self> {
        let limited = std::io::Read::take(bytes, max_bytes.saturating_add(1));
        let mut counted = Counting { inner: limited, bytes: 0 };
        let id = FileId::of_reader(&mut counted)?;
        if counted.bytes > max_bytes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("file size exceeds the limit of {max_bytes} bytes"),
            ));
        }
        Ok(Self { id, name: name.into(), size: counted.bytes })
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Records the file by content hash, in state processing when it is new. Returns what the store
/// knew of these bytes before (they may have come under another name), if anything.
pub fn register_file<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    now: DateTime<Utc>,
) -> Result<Option<FileRecord>, StoreError> {
    let record = FileRecord {
        id: file.id,
        name: file.name.clone(),
        size: file.size,
        received_at: now,
        status: FileStatus::Processing,
        reason: None,
        summary: None,
    };
    Ok(match store.register_file(&record)? {
        FileRegistration::New => None,
        FileRegistration::Seen(first) => Some(first),
    })
}

/// Quarantines a file that failed validation with `error` (its text masked: it may quote a
/// field; and on one line: it may quote a file name holding a newline) and reports it.
pub fn quarantine<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    error: &dyn StdError,
    seen_before: bool,
) -> Result<FileReport, StoreError> {
    let reason = crate::text::shown::one_line(&crate::text::masking::mask_card_numbers(&error.to_string()));
    tracing::warn!(file = %crate::text::shown::shown(&file.name), file_id = %file.id.short(), %reason, "file quarantined");
    store.quarantine_file(&file.id, &reason)?;
    Ok(FileReport {
        file: file.name.clone(),
        file_id: file.id,
        status: FileStatus::Quarantined,
        seen_before,
        reason: Some(reason),
        summary: FileSummary::default(),
    })
}

/// Marks the file completed with its summary (a file completed before keeps its first one) and
/// reports it.
pub fn complete<S: Store + ?Sized>(
    store: &S,
    file: &FileMeta,
    summary: FileSummary,
    seen_before: bool,
) -> Result<FileReport, StoreError> {
    store.complete_file(&file.id, &summary)?;
    tracing::info!(
        file = %crate::text::shown::shown(&file.name), file_id = %file.id.short(), payments = summary.payments,
        applied = summary.applied, queued = summary.queued, duplicates = summary.duplicates,
        rejected = summary.rejected, "file ingested"
    );
    Ok(FileReport {
        file: file.name.clone(),
        file_id: file.id,
        status: FileStatus::Completed,
        seen_before,
        reason: None,
        summary,
    })
}

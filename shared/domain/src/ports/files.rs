//! The file registry (files by content hash, with their summaries) and the file log the daily
//! control report reads.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::ids::FileId;
use crate::ports::{FileSummary, StoreError};

/// Where a file is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Processing,
    Completed,
    Quarantined,
}

impl FileStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileStatus::Processing => "processing",
            FileStatus::Completed => "completed",
            FileStatus::Quarantined => "quarantined",
        }
    }
}

/// A file the pipeline has seen, by content hash.
#[derive(Clone, Debug, Serialize)]
pub struct FileRecord {
    pub id: FileId,
    pub name: String,
    pub size: u64,
    pub received_at: DateTime<Utc>,
    pub status: FileStatus,
    /// Why the file was quarantined.
    pub reason: Option<String>,
    pub summary: Option<FileSummary>,
}

/// What registering a file found.
// One value per file registered: the size of the record it may carry costs nothing that boxing
// it would save.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum FileRegistration {
    /// First time these bytes arrive.
    New,
    /// These bytes arrived before (perhaps under another name).
    Seen(FileRecord),
}

/// Registry of files by content hash.
pub trait FileRegistry {
    /// Conditional put: records the file unless its id exists, and says which happened.
    fn register_file(&self, file: &FileRecord) -> Result<FileRegistration, StoreError>;
    /// Marks a file completed with its control summary. Conditional: a file already completed
    /// keeps its first summary (a re-delivery of the same bytes posts nothing, and the daily
    /// control report reconciles what the first processing did).
    fn complete_file(&self, id: &FileId, summary: &FileSummary) -> Result<(), StoreError>;
    /// Marks a file quarantined with the reason a bank can act on.
    fn quarantine_file(&self, id: &FileId, reason: &str) -> Result<(), StoreError>;
    /// Key lookup.
    fn file(&self, id: &FileId) -> Result<Option<FileRecord>, StoreError>;
}

/// The files the pipeline saw in a time window, for the daily control report.
///
/// DynamoDB shape: a GSI `files_by_day` (partition `received_day`, the UTC date `YYYY-MM-DD`;
/// sort `received_at`); a window spanning two UTC days is two queries.
pub trait FileLog {
    /// Range query: files received in `from..to`, oldest first, at most `limit`.
    fn files_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FileRecord>, StoreError>;
}

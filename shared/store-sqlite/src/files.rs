//! The file registry (one row per file id, registered once) and the file log the daily control
//! report reads (`files_by_received`).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use remit_domain::ports::FileSummary;
use remit_domain::ports::{FileLog, FileRecord, FileRegistration, FileRegistry, FileStatus, StoreError};
use remit_domain::FileId;
use rusqlite::{params, OptionalExtension};

use crate::codec::{corrupt, json, parse_ts, ts};
use crate::error::db;
use crate::SqliteStore;

/// A files row as stored: id, name, size, received_at, status, reason, summary.
type FileRow = (String, String, i64, String, String, Option<String>, Option<String>);

fn file_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn parse_file_status(s: &str) -> Result<FileStatus, StoreError> {
    Ok(match s {
        "processing" => FileStatus::Processing,
        "completed" => FileStatus::Completed,
        "quarantined" => FileStatus::Quarantined,
        other => return Err(corrupt("file status", other)),
    })
}

impl FileRegistry for SqliteStore {
    fn register_file(&self, f: &FileRecord) -> Result<FileRegistration, StoreError> {
        let inserted = self
            .conn()
            .execute(
                "INSERT INTO files (id, name, size, received_at, status) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO NOTHING",
                params![f.id.to_hex(), f.name, f.size as i64, ts(f.received_at), f.status.as_str()],
            )
            .map_err(db)?;
        if inserted == 1 {
            return Ok(FileRegistration::New);
        }
        match self.file(&f.id)? {
            Some(existing) => Ok(FileRegistration::Seen(existing)),
            None => Err(StoreError::Conflict(format!("file {} vanished", f.id.short()))),
        }
    }

    fn complete_file(&self, id: &FileId, summary: &FileSummary) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE files SET status = 'completed', reason = NULL, summary = ?2
                 WHERE id = ?1 AND status != 'completed'",
                params![id.to_hex(), json(summary)?],
            )
            .map_err(db)?;
        Ok(())
    }

    fn quarantine_file(&self, id: &FileId, reason: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE files SET status = 'quarantined', reason = ?2 WHERE id = ?1",
                params![id.to_hex(), reason],
            )
            .map_err(db)?;
        Ok(())
    }

    fn file(&self, id: &FileId) -> Result<Option<FileRecord>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT id, name, size, received_at, status, reason, summary FROM files WHERE id = ?1",
                [id.to_hex()],
                file_from_row,
            )
            .optional()
            .map_err(db)?;
        let Some((_, name, size, received_at, status, reason, summary)) = row else {
            return Ok(None);
        };
        Ok(Some(FileRecord {
            id: *id,
            name,
            size: size as u64,
            received_at: parse_ts(&received_at)?,
            status: parse_file_status(&status)?,
            reason,
            summary: match summary {
                Some(s) => Some(serde_json::from_str(&s).map_err(|_| corrupt("summary", &s))?),
                None => None,
            },
        }))
    }
}

impl FileLog for SqliteStore {
    fn files_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id FROM files WHERE received_at >= ?1 AND received_at < ?2
                     ORDER BY received_at, id LIMIT ?3",
                )
                .map_err(db)?;
            let rows = stmt.query_map(params![ts(from), ts(to), limit as i64], |r| r.get(0)).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let fid = FileId::from_str(&id).map_err(|_| corrupt("file id", &id))?;
            out.extend(self.file(&fid)?);
        }
        Ok(out)
    }
}

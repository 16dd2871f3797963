//! Files by content hash (`FileRegistry`), and by UTC day received for the daily control report
//! (`FileLog`: the `by-day` index, one query per day of the window).

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use remit_domain::ports::FileSummary;
use remit_domain::ports::{FileLog, FileRecord, FileRegistration, FileRegistry, FileStatus, StoreError};
use remit_domain::FileId;

use crate::calls::{Expr, Query, Write};
use crate::codec::{corrupt, item, json, num, s, sort_key, ts, Item, Read};
use crate::tables::index;
use crate::DynamoStore;

fn file_key(id: &FileId) -> Item {
    item([("id", Some(s(id.to_hex())))])
}

/// The `by-day` index partition of an instant: its UTC date.
fn day(t: DateTime<Utc>) -> String {
    t.date_naive().to_string()
}

fn parse_status(v: &str) -> Result<FileStatus, StoreError> {
    Ok(match v {
        "processing" => FileStatus::Processing,
        "completed" => FileStatus::Completed,
        "quarantined" => FileStatus::Quarantined,
        other => return Err(corrupt("file status", other)),
    })
}

fn file_from(it: &Item) -> Result<FileRecord, StoreError> {
    let r = Read::new(it, "file");
    let id = r.s("id")?;
    Ok(FileRecord {
        id: FileId::from_str(id).map_err(|_| corrupt("file id", id))?,
        name: r.string("name")?,
        size: r.u64("size")?,
        received_at: r.ts("received_at")?,
        status: parse_status(r.s("status")?)?,
        reason: r.opt_string("reason")?,
        summary: match r.opt_s("summary")? {
            Some(_) => Some(r.json::<FileSummary>("summary")?),
            None => None,
        },
    })
}

impl FileRegistry for DynamoStore {
    fn register_file(&self, f: &FileRecord) -> Result<FileRegistration, StoreError> {
        let id = f.id.to_hex();
        let it = item([
            ("id", Some(s(&id))),
            ("name", Some(s(&f.name))),
            ("size", Some(num(f.size))),
            ("received_at", Some(s(ts(f.received_at)))),
            ("received_day", Some(s(day(f.received_at)))),
            ("received_sort", Some(s(sort_key(f.received_at, &id)))),
            ("status", Some(s(f.status.as_str()))),
        ]);
        let cond = Some(Expr::new("attribute_not_exists(#id)"));
        if self.write("register file", Write::Put { table: self.tables.files.clone(), item: it, cond })? {
            return Ok(FileRegistration::New);
        }
        match self.file(&f.id)? {
            Some(existing) => Ok(FileRegistration::Seen(existing)),
            None => Err(StoreError::Conflict(format!("file {} vanished", f.id.short()))),
        }
    }

    fn complete_file(&self, id: &FileId, summary: &FileSummary) -> Result<(), StoreError> {
        // A file already completed keeps its first summary: the condition fails, quietly.
        let w = Write::Update {
            table: self.tables.files.clone(),
            key: file_key(id),
            update: Expr::new("SET #status = :completed, #summary = :summary REMOVE #reason")
                .value(":completed", s(FileStatus::Completed.as_str()))
                .value(":summary", s(json(summary)?)),
            cond: Some(
                Expr::new("attribute_exists(#id) AND #status <> :completed")
                    .value(":completed", s(FileStatus::Completed.as_str())),
            ),
        };
        self.write("complete file", w).map(drop)
    }

    fn quarantine_file(&self, id: &FileId, reason: &str) -> Result<(), StoreError> {
        let w = Write::Update {
            table: self.tables.files.clone(),
            key: file_key(id),
            update: Expr::new("SET #status = :quarantined, #reason = :reason")
                .value(":quarantined", s(FileStatus::Quarantined.as_str()))
                .value(":reason", s(reason)),
            cond: Some(Expr::new("attribute_exists(#id)")),
        };
        self.write("quarantine file", w).map(drop)
    }

    fn file(&self, id: &FileId) -> Result<Option<FileRecord>, StoreError> {
        self.get("file", &self.tables.files, file_key(id))?.as_ref().map(file_from).transpose()
    }
}

impl FileLog for DynamoStore {
    fn files_received(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<FileRecord>, StoreError> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        // `to` is excluded: its sort keys (`to#id`) sort after `to` itself.
        let (lower, upper) = (ts(from), ts(to));
        let last_day = (to - Duration::microseconds(1)).date_naive();
        let mut d = from.date_naive();
        while d <= last_day && out.len() < limit {
            let q = Query {
                table: &self.tables.files,
                index: Some(index::BY_DAY),
                key: Expr::new("#received_day = :d AND #received_sort BETWEEN :from AND :to")
                    .value(":d", s(d.to_string()))
                    .value(":from", s(&lower))
                    .value(":to", s(&upper)),
                consistent: false,
            };
            for it in self.query("files received", &q, limit - out.len())? {
                out.push(file_from(&it)?);
            }
            let Some(next) = d.succ_opt() else { break };
            d = next;
        }
        Ok(out)
    }
}

//! Where card numbers would be if any were stored in clear (issue 15): every text value of every
//! table of a data directory's database, and every file under it. A finding names the place,
//! never the value.

use std::path::Path;

use anyhow::{Context, Result};
use remit_domain::text::masking::holds_card_number;

/// The places under `data_dir` (database cells, files) holding a card-shaped number in clear.
pub fn scan_data_dir(data_dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in walk(data_dir)? {
        let name = entry.strip_prefix(data_dir).unwrap_or(&entry).display().to_string();
        if entry.extension().is_some_and(|e| e == "sqlite") {
            found.extend(scan_sqlite(&entry)?.into_iter().map(|f| format!("{name}: {f}")));
        } else if !name.ends_with("-wal") && !name.ends_with("-shm") {
            let bytes = std::fs::read(&entry).with_context(|| format!("{name}: cannot read"))?;
            if holds_card_number(&String::from_utf8_lossy(&bytes)) {
                found.push(name);
            }
        }
    }
    Ok(found)
}

/// The cells of the database at `path` (table, column, row) holding a card-shaped number.
pub fn scan_sqlite(path: &Path) -> Result<Vec<String>> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let tables: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut found = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            n += 1;
            for (i, column) in columns.iter().enumerate() {
                let text = match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                    _ => continue,
                };
                if holds_card_number(&text) {
                    found.push(format!("{table}.{column} (row {n})"));
                }
            }
        }
    }
    Ok(found)
}

fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

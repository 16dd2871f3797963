//! SQLite errors as store errors: every failure of a call is `StoreError::Unavailable` (a busy or
//! locked database too, after the connection's busy timeout).

use remit_domain::ports::StoreError;

/// A rusqlite error as a store error.
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

//! Alias memory: payer identity to account, learned from resolutions (identity + account key).

use remit_domain::ports::{Alias, AliasMemory, StoreError};
use remit_domain::CardRef;
use rusqlite::params;

use crate::codec::{corrupt, parse_ts, ts};
use crate::error::db;
use crate::SqliteStore;

impl AliasMemory for SqliteStore {
    fn learn_alias(&self, a: &Alias) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO aliases (identity, account, learned_at, learned_by, resolution)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.identity, a.account.stored(), ts(a.learned_at), a.learned_by, a.resolution],
            )
            .map_err(db)?;
        Ok(())
    }

    fn forget_alias(&self, identity: &str, account: &CardRef, resolution: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM aliases WHERE identity = ?1 AND account = ?2 AND resolution = ?3",
                params![identity, account.stored(), resolution],
            )
            .map_err(db)?;
        Ok(())
    }

    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT account, learned_at, learned_by, resolution FROM aliases WHERE identity = ?1
                 ORDER BY account LIMIT 100",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([identity], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for r in rows {
            let (account, at, by, resolution) = r.map_err(db)?;
            out.push(Alias {
                identity: identity.to_string(),
                account: CardRef::from_stored(&account).map_err(|_| corrupt("alias account", "(masked)"))?,
                learned_at: parse_ts(&at)?,
                learned_by: by,
                resolution,
            });
        }
        Ok(out)
    }
}

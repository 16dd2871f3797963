//! Alias memory: one item per (payer identity, account), so learning a pair again replaces it.

use remit_domain::ports::{Alias, AliasMemory, StoreError, MAX_INDEX_RESULTS};

use crate::calls::{Expr, Query, Write};
use crate::codec::{item, s, ts, Read};
use crate::DynamoStore;

impl AliasMemory for DynamoStore {
    fn learn_alias(&self, a: &Alias) -> Result<(), StoreError> {
        let it = item([
            ("identity", Some(s(&a.identity))),
            ("account", Some(s(a.account.stored()))),
            ("learned_at", Some(s(ts(a.learned_at)))),
            ("learned_by", Some(s(&a.learned_by))),
            ("resolution", Some(s(&a.resolution))),
        ]);
        self.write("learn alias", Write::Put { table: self.tables.aliases.clone(), item: it, cond: None })
            .map(drop)
    }

    /// A DeleteItem conditional on the resolution: a failed condition (another resolution's
    /// alias, or none) deletes nothing and is no error.
    fn forget_alias(
        &self,
        identity: &str,
        account: &remit_domain::CardRef,
        resolution: &str,
    ) -> Result<(), StoreError> {
        if identity.is_empty() {
            // DynamoDB refuses an empty key, and nothing is stored under one.
            return Ok(());
        }
        let w = Write::Delete {
            table: self.tables.aliases.clone(),
            key: item([("identity", Some(s(identity))), ("account", Some(s(account.stored())))]),
            cond: Some(Expr::new("#resolution = :r").value(":r", s(resolution))),
        };
        self.write("forget alias", w).map(drop)
    }

    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError> {
        let q = Query {
            table: &self.tables.aliases,
            index: None,
            key: Expr::new("#identity = :i").value(":i", s(identity)),
            consistent: true,
        };
        self.query("aliases", &q, MAX_INDEX_RESULTS)?
            .iter()
            .map(|it| {
                let r = Read::new(it, "alias");
                Ok(Alias {
                    identity: identity.to_string(),
                    account: r.account("account")?,
                    learned_at: r.ts("learned_at")?,
                    learned_by: r.string("learned_by")?,
                    resolution: r.string("resolution")?,
                })
            })
            .collect()
    }
}

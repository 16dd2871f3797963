//! The tables: their names (from the environment in a Lambda), their keys and indexes (one
//! declaration, used by `create_tables` and checked against `infra/template.yaml` by a test).
//! `infra/README.md` explains the design.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use crate::error::DynamoError;

/// The name of each table the store uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableNames {
    /// Card accounts (`AccountDirectory`).
    pub accounts: String,
    /// The holder-name index of the accounts (`AccountDirectory::accounts_by_holder_name`).
    pub account_names: String,
    /// Alias memory (`AliasMemory`).
    pub aliases: String,
    /// Files by content hash (`FileRegistry`, `FileLog`).
    pub files: String,
    /// The payment log (`PaymentLog`, `PaymentHistory`).
    pub payments: String,
    /// Ledger postings and linking references (`Ledger`).
    pub ledger: String,
    /// Research items (`ResearchQueue`, `QueueOps`, `SlaAlerts`).
    pub research_items: String,
    /// The research items' append-only audit trail.
    pub research_audit: String,
    /// Handler idempotency records (`Idempotency`), the one table with a TTL.
    pub idempotency: String,
    /// The payments of each payer identity, newest last in the partition (`PayerPayments`).
    pub payer_payments: String,
}

/// Each table's environment variable and the suffix its name takes after `REMIT_TABLE_PREFIX`
/// (the template names tables `remit-<stage>-<suffix>`).
const TABLE_ENV: [(&str, &str); 10] = [
    ("REMIT_TABLE_ACCOUNTS", "accounts"),
    ("REMIT_TABLE_ACCOUNT_NAMES", "account-names"),
    ("REMIT_TABLE_ALIASES", "aliases"),
    ("REMIT_TABLE_FILES", "files"),
    ("REMIT_TABLE_PAYMENTS", "payments"),
    ("REMIT_TABLE_LEDGER", "ledger"),
    ("REMIT_TABLE_RESEARCH_ITEMS", "research-items"),
    ("REMIT_TABLE_RESEARCH_AUDIT", "research-audit"),
    ("REMIT_TABLE_IDEMPOTENCY", "idempotency"),
    ("REMIT_TABLE_PAYER_PAYMENTS", "payer-payments"),
];

/// The variable that names every table at once: `<prefix><suffix>`, e.g. `remit-dev-`.
pub const TABLE_PREFIX_ENV: &str = "REMIT_TABLE_PREFIX";

impl TableNames {
    /// Names `<prefix><suffix>` for every table: `with_prefix("remit-dev-")` gives the template's.
    pub fn with_prefix(prefix: &str) -> Self {
        Self::resolve(|_| None, Some(prefix))
    }

    /// Names from the environment: `REMIT_TABLE_ACCOUNTS`, `REMIT_TABLE_ACCOUNT_NAMES`,
    /// `REMIT_TABLE_ALIASES`, `REMIT_TABLE_FILES`, `REMIT_TABLE_PAYMENTS`, `REMIT_TABLE_LEDGER`,
    /// `REMIT_TABLE_RESEARCH_ITEMS`, `REMIT_TABLE_RESEARCH_AUDIT`, `REMIT_TABLE_IDEMPOTENCY` and
    /// `REMIT_TABLE_PAYER_PAYMENTS` each name one table; `REMIT_TABLE_PREFIX` names the ones not set (`<prefix><suffix>`).
    pub fn from_env() -> Result<Self, DynamoError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// `from_env` over any variable lookup (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, DynamoError> {
        let prefix = lookup(TABLE_PREFIX_ENV);
        let missing = std::cell::RefCell::new(Vec::new());
        let names = Self::resolve(
            |var| {
                let v = lookup(var);
                if v.is_none() && prefix.is_none() {
                    missing.borrow_mut().push(var.to_string());
                }
                v
            },
            prefix.as_deref(),
        );
        let missing = missing.into_inner();
        if !missing.is_empty() {
            return Err(DynamoError::Config(format!(
                "{} not set (or set {TABLE_PREFIX_ENV} to name every table)",
                missing.join(", ")
            )));
        }
        Ok(names)
    }

    fn resolve(var: impl Fn(&str) -> Option<String>, prefix: Option<&str>) -> Self {
        let name = |i: usize| {
            let (env, suffix) = TABLE_ENV[i];
            var(env).unwrap_or_else(|| format!("{}{suffix}", prefix.unwrap_or_default()))
        };
        Self {
            accounts: name(0),
            account_names: name(1),
            aliases: name(2),
            files: name(3),
            payments: name(4),
            ledger: name(5),
            research_items: name(6),
            research_audit: name(7),
            idempotency: name(8),
            payer_payments: name(9),
        }
    }

    /// Every table's name with its definition.
    pub(crate) fn definitions(&self) -> Vec<(&str, TableDef)> {
        vec![
            (&self.accounts, ACCOUNTS),
            (&self.account_names, ACCOUNT_NAMES),
            (&self.aliases, ALIASES),
            (&self.files, FILES),
            (&self.payments, PAYMENTS),
            (&self.ledger, LEDGER),
            (&self.research_items, RESEARCH_ITEMS),
            (&self.research_audit, RESEARCH_AUDIT),
            (&self.idempotency, IDEMPOTENCY),
            (&self.payer_payments, PAYER_PAYMENTS),
        ]
    }
}

/// Global secondary index names (as in `infra/template.yaml`).
pub(crate) mod index {
    pub const BY_VIRTUAL_ACCOUNT: &str = "by-virtual-account";
    pub const BY_CREDITOR_REFERENCE: &str = "by-creditor-reference";
    pub const BY_CONTROL_ACCOUNT: &str = "by-control-account";
    pub const BY_MARKET_LAST_FIVE: &str = "by-market-last-five";
    pub const BY_MARKET_LAST_FOUR: &str = "by-market-last-four";
    pub const BY_MARKET_BALANCE: &str = "by-market-balance";
    pub const BY_MARKET_MINIMUM_DUE: &str = "by-market-minimum-due";
    pub const BY_DAY: &str = "by-day";
    pub const BY_FINGERPRINT: &str = "by-fingerprint";
    pub const BY_ACCOUNT: &str = "by-account";
    pub const OPEN_BY_DUE: &str = "open-by-due";
    pub const BY_MARKET_DUE: &str = "by-market-due";
    pub const BY_FILE: &str = "by-file";
    pub const WARN_PENDING: &str = "sla-warn-pending";
    pub const BREACH_PENDING: &str = "sla-breach-pending";
    pub const CLOSED_BY_MARKET: &str = "closed-by-market";
}

/// What an index carries besides its keys.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Carries {
    All,
    KeysOnly,
    Include(&'static [&'static str]),
}

/// A global secondary index: name, partition key, optional sort key, projection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexDef {
    pub name: &'static str,
    pub hash: &'static str,
    pub range: Option<&'static str>,
    pub carries: Carries,
}

/// A table: partition key, optional sort key, indexes, and its TTL attribute if any. Key
/// attributes are strings except those listed in `numbers`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableDef {
    pub hash: &'static str,
    pub range: Option<&'static str>,
    pub numbers: &'static [&'static str],
    pub indexes: &'static [IndexDef],
    pub ttl: Option<&'static str>,
}

const fn gsi(
    name: &'static str,
    hash: &'static str,
    range: Option<&'static str>,
    carries: Carries,
) -> IndexDef {
    IndexDef { name, hash, range, carries }
}

/// Card accounts by token (`CardRef::stored`, issue 15). The indexes carry keys only (the last-five one the holder's name
/// too), so a posting's balance update writes no index: lookups get the accounts by key. The
/// workbench's search indexes (issue 16: last four, statement balance, minimum due, each with
/// the market) sort by card, so a page goes on after an account; none carries the current
/// balance, the one attribute a posting changes.
const ACCOUNTS: TableDef = TableDef {
    hash: "card",
    range: None,
    numbers: &[],
    indexes: &[
        gsi(index::BY_VIRTUAL_ACCOUNT, "virtual_account", None, Carries::KeysOnly),
        gsi(index::BY_CREDITOR_REFERENCE, "creditor_reference", None, Carries::KeysOnly),
        gsi(index::BY_CONTROL_ACCOUNT, "control_account", None, Carries::KeysOnly),
        gsi(index::BY_MARKET_LAST_FIVE, "market_last_five", None, Carries::Include(&["holder_name"])),
        gsi(index::BY_MARKET_LAST_FOUR, "market_last_four", Some("card"), Carries::KeysOnly),
        gsi(index::BY_MARKET_BALANCE, "market_balance", Some("card"), Carries::KeysOnly),
        gsi(index::BY_MARKET_MINIMUM_DUE, "market_minimum_due", Some("card"), Carries::KeysOnly),
    ],
    ttl: None,
};

/// The holder-name index: one partition per market and name key (`CA#cote jean pierre`), one
/// item per account under it (sort key: the card's token). A table of its own, like the
/// ledger's reference partitions, so that a lookup is a strongly consistent query, no index.
const ACCOUNT_NAMES: TableDef =
    TableDef { hash: "market_name", range: Some("account"), numbers: &[], indexes: &[], ttl: None };

/// Alias memory: identity, then account.
const ALIASES: TableDef =
    TableDef { hash: "identity", range: Some("account"), numbers: &[], indexes: &[], ttl: None };

/// Files by content hash; by UTC day received, then instant and id.
const FILES: TableDef = TableDef {
    hash: "id",
    range: None,
    numbers: &[],
    indexes: &[gsi(index::BY_DAY, "received_day", Some("received_sort"), Carries::All)],
    ttl: None,
};

/// Payments by key; by duplicate fingerprint, then value date and key (sparse).
const PAYMENTS: TableDef = TableDef {
    hash: "key",
    range: None,
    numbers: &[],
    indexes: &[gsi(
        index::BY_FINGERPRINT,
        "fingerprint",
        Some("value_sort"),
        Carries::Include(&["bank_ref", "value_date"]),
    )],
    ttl: None,
};

/// The ledger: one partition per posting (its entry and split lines) and one per linking
/// reference (the postings that carry it); by account while an entry or line counts toward the
/// account's posted total (sparse: removed on reversal).
const LEDGER: TableDef = TableDef {
    hash: "pk",
    range: Some("part"),
    numbers: &[],
    indexes: &[gsi(index::BY_ACCOUNT, "posted_account", None, Carries::Include(&["amount"]))],
    ttl: None,
};

/// Research items by id; the queue indexes by (market, due time) (one sparse: active items
/// only), by file, the two sparse SLA alert indexes, and the sparse closed index by (market,
/// disposition time) (issue 16: set while the item is resolved, returned or written off).
const RESEARCH_ITEMS: TableDef = TableDef {
    hash: "id",
    range: None,
    numbers: &[],
    indexes: &[
        gsi(index::OPEN_BY_DUE, "open_market", Some("due_sort"), Carries::All),
        gsi(index::BY_MARKET_DUE, "market", Some("due_sort"), Carries::All),
        gsi(index::BY_FILE, "file_id", Some("id"), Carries::All),
        gsi(index::WARN_PENDING, "warn_pending", Some("warn_sort"), Carries::All),
        gsi(index::BREACH_PENDING, "breach_pending", Some("due_sort"), Carries::All),
        gsi(index::CLOSED_BY_MARKET, "closed_market", Some("closed_sort"), Carries::All),
    ],
    ttl: None,
};

/// The append-only audit trail: item, then sequence number.
const RESEARCH_AUDIT: TableDef =
    TableDef { hash: "item", range: Some("seq"), numbers: &["seq"], indexes: &[], ttl: None };

/// The payer history (issue 16): one partition per payer identity, one item per payment under
/// it, sorted by receipt time and payment key (`sort`), read newest first.
const PAYER_PAYMENTS: TableDef =
    TableDef { hash: "identity", range: Some("sort"), numbers: &[], indexes: &[], ttl: None };

/// Handler idempotency records, the only table with a TTL.
const IDEMPOTENCY: TableDef =
    TableDef { hash: "key", range: None, numbers: &[], indexes: &[], ttl: Some("expires_at") };

impl TableDef {
    fn key_type(&self, attr: &str) -> ScalarAttributeType {
        if self.numbers.contains(&attr) {
            ScalarAttributeType::N
        } else {
            ScalarAttributeType::S
        }
    }

    /// Every attribute used in a key of the table or one of its indexes, once each.
    pub(crate) fn key_attributes(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let all = [self.hash]
            .into_iter()
            .chain(self.range)
            .chain(self.indexes.iter().flat_map(|i| [i.hash].into_iter().chain(i.range)));
        for a in all {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }
}

fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>, DynamoError> {
    let mut out = vec![(hash, KeyType::Hash)];
    out.extend(range.map(|r| (r, KeyType::Range)));
    out.into_iter()
        .map(|(a, t)| KeySchemaElement::builder().attribute_name(a).key_type(t).build().map_err(built(a)))
        .collect()
}

fn built(what: &str) -> impl Fn(aws_sdk_dynamodb::error::BuildError) -> DynamoError + '_ {
    move |e| DynamoError::Table { table: what.to_string(), detail: e.to_string() }
}

fn projection(c: Carries) -> Projection {
    match c {
        Carries::All => Projection::builder().projection_type(ProjectionType::All).build(),
        Carries::KeysOnly => Projection::builder().projection_type(ProjectionType::KeysOnly).build(),
        Carries::Include(attrs) => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(attrs.iter().map(|a| a.to_string()).collect()))
            .build(),
    }
}

/// Creates every table that does not exist yet (on demand capacity), waits until each is active,
/// and turns on the idempotency table's TTL. For tests and local emulators; deployments create
/// the same tables from `infra/template.yaml`.
pub async fn create_tables(client: &Client, names: &TableNames) -> Result<(), DynamoError> {
    for (name, def) in names.definitions() {
        create_table(client, name, &def).await?;
    }
    for (name, def) in names.definitions() {
        wait_active(client, name).await?;
        if let Some(attr) = def.ttl {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(attr)
                .enabled(true)
                .build()
                .map_err(built(name))?;
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| table_error(name, e))?;
        }
    }
    Ok(())
}

async fn create_table(client: &Client, name: &str, def: &TableDef) -> Result<(), DynamoError> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(def.hash, def.range)?));
    for a in def.key_attributes() {
        let d = AttributeDefinition::builder()
            .attribute_name(a)
            .attribute_type(def.key_type(a))
            .build()
            .map_err(built(name))?;
        req = req.attribute_definitions(d);
    }
    for i in def.indexes {
        let g = GlobalSecondaryIndex::builder()
            .index_name(i.name)
            .set_key_schema(Some(key_schema(i.hash, i.range)?))
            .projection(projection(i.carries))
            .build()
            .map_err(built(name))?;
        req = req.global_secondary_indexes(g);
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(table_error(name, e)),
    }
}

async fn wait_active(client: &Client, name: &str) -> Result<(), DynamoError> {
    for _ in 0..600 {
        let out = client.describe_table().table_name(name).send().await.map_err(|e| table_error(name, e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        // Only emulators answer within the first second; DynamoDB takes a few.
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(DynamoError::Table { table: name.to_string(), detail: "not active after 60 s".into() })
}

fn table_error<E>(name: &str, e: aws_sdk_dynamodb::error::SdkError<E>) -> DynamoError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    DynamoError::Table {
        table: name.to_string(),
        detail: crate::error::store_error("table setup", e).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn names_come_from_a_prefix_or_one_variable_each() {
        let env: HashMap<&str, &str> =
            [("REMIT_TABLE_PREFIX", "remit-dev-"), ("REMIT_TABLE_LEDGER", "books")].into();
        let n = TableNames::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!((n.accounts.as_str(), n.ledger.as_str()), ("remit-dev-accounts", "books"));
        assert_eq!(n.research_items, "remit-dev-research-items");
        assert_eq!(TableNames::with_prefix("remit-dev-").idempotency, "remit-dev-idempotency");
        let e = TableNames::from_lookup(|k| (k == "REMIT_TABLE_FILES").then(|| "f".to_string())).unwrap_err();
        assert!(e.to_string().contains("REMIT_TABLE_ACCOUNTS") && !e.to_string().contains("FILES"), "{e}");
    }

    /// The template's resource block of the table named `remit-${Stage}-<suffix>`.
    fn block(template: &str, suffix: &str) -> String {
        let mut blocks: Vec<Vec<&str>> = Vec::new();
        for line in template.lines() {
            let header = line.len() > 3
                && line.starts_with("  ")
                && line.as_bytes()[2].is_ascii_alphabetic()
                && line.trim_end().ends_with(':');
            if header || blocks.is_empty() {
                blocks.push(Vec::new());
            }
            if let Some(b) = blocks.last_mut() {
                b.push(line);
            }
        }
        let name = format!("TableName: !Sub \"remit-${{Stage}}-{suffix}\"");
        blocks
            .into_iter()
            .map(|b| b.join("\n"))
            .find(|b| b.contains(&name))
            .unwrap_or_else(|| panic!("infra/template.yaml has no table remit-${{Stage}}-{suffix}"))
    }

    /// `infra/template.yaml` declares the tables `create_tables` creates: same key attributes and
    /// types, same indexes with the same keys and projection, TTL on the idempotency table only.
    #[test]
    fn the_template_declares_the_same_tables() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.yaml");
        let template = std::fs::read_to_string(path).unwrap();
        let names = TableNames::with_prefix("");
        for (suffix, def) in names.definitions() {
            let b = block(&template, suffix);
            let compact: String = b.split_whitespace().collect::<Vec<_>>().join(" ");
            for a in def.key_attributes() {
                let t = if def.numbers.contains(&a) { "N" } else { "S" };
                assert!(
                    compact.contains(&format!("- AttributeName: {a} AttributeType: {t}")),
                    "{suffix}: attribute {a} ({t}) not defined in the template"
                );
            }
            let defined = compact.matches("AttributeType:").count();
            assert_eq!(defined, def.key_attributes().len(), "{suffix}: attribute definitions differ");
            let keys = |hash: &str, range: Option<&str>| {
                let mut k = format!("KeySchema: - AttributeName: {hash} KeyType: HASH");
                if let Some(r) = range {
                    k.push_str(&format!(" - AttributeName: {r} KeyType: RANGE"));
                }
                k
            };
            assert!(compact.contains(&keys(def.hash, def.range)), "{suffix}: table key differs");
            assert_eq!(compact.matches("IndexName:").count(), def.indexes.len(), "{suffix}: index count");
            for i in def.indexes {
                let projection = match i.carries {
                    Carries::All => "Projection: ProjectionType: ALL".to_string(),
                    Carries::KeysOnly => "Projection: ProjectionType: KEYS_ONLY".to_string(),
                    Carries::Include(attrs) => format!(
                        "Projection: ProjectionType: INCLUDE NonKeyAttributes: {}",
                        attrs.iter().map(|a| format!("- {a}")).collect::<Vec<_>>().join(" ")
                    ),
                };
                let want = format!("- IndexName: {} {} {projection}", i.name, keys(i.hash, i.range));
                assert!(compact.contains(&want), "{suffix}: index {} differs from\n{want}", i.name);
            }
            match def.ttl {
                Some(attr) => assert!(
                    compact
                        .contains(&format!("TimeToLiveSpecification: AttributeName: {attr} Enabled: true")),
                    "{suffix}: TTL on {attr} expected"
                ),
                None => assert!(!compact.contains("TimeToLiveSpecification"), "{suffix}: no TTL expected"),
            }
        }
        assert_eq!(template.matches("TimeToLiveSpecification").count(), 1, "one table with a TTL");
    }
}

//! The store as a Lambda uses it: built inside the runtime, called from `spawn_blocking`; and a
//! store with its own runtime dropped from async code. Needs the emulator `scripts/test` starts
//! (`REMIT_TEST_AWS_ENDPOINT`); fails, never skips, without it.

use std::sync::Arc;

use remit_domain::money::Currency;
use remit_domain::ports::AccountDirectory;
use remit_domain::{Account, AccountNumber, AccountStatus, Market};
use remit_store_dynamodb::{local_client, DynamoStore, TableNames};
use rust_decimal::Decimal;

fn endpoint() -> String {
    std::env::var("REMIT_TEST_AWS_ENDPOINT").ok().filter(|e| !e.trim().is_empty()).unwrap_or_else(|| {
        panic!(
            "REMIT_TEST_AWS_ENDPOINT is not set: run scripts/test, which starts the AWS emulator \
             (scripts/moto_server.py) and sets it"
        )
    })
}

fn names(tag: &str) -> TableNames {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    TableNames::with_prefix(&format!("rt-{tag}-{}-{nanos}-", std::process::id()))
}

fn card() -> Account {
    Account {
        number: "378282246310005".parse().unwrap(),
        market: Market::CA,
        currency: Currency::CAD,
        holder_name: "Jean Tremblay".into(),
        status: AccountStatus::Active,
        statement_balance: Decimal::new(100000, 2),
        minimum_due: Decimal::new(5000, 2),
        current_balance: Decimal::new(100000, 2),
        virtual_account: None,
        creditor_reference: None,
        control_account: None,
    }
}

#[test]
fn a_lambda_builds_the_store_in_its_runtime_and_calls_it_from_blocking_tasks() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let number: AccountNumber = card().number;
    let found = rt.block_on(async {
        // As in a handler's `main`: the store takes the current runtime's handle.
        let store = Arc::new(DynamoStore::new(local_client(&endpoint()), names("lambda")).unwrap());
        let s = store.clone();
        tokio::task::spawn_blocking(move || {
            s.create_tables().unwrap();
            s.put_account(&card()).unwrap();
            s.account(&number).unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(found, Some(card()));
}

#[test]
fn a_store_with_its_own_runtime_may_be_dropped_in_async_code() {
    let store = DynamoStore::new(local_client(&endpoint()), names("own")).unwrap();
    store.create_tables().unwrap();
    assert!(store.account(&card().number).unwrap().is_none());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async move { drop(store) });
}

#[test]
fn failures_are_store_errors_retryable_only_when_worth_it() {
    use remit_domain::ports::StoreError;
    // No such tables: a configuration error, not worth retrying.
    let missing = DynamoStore::new(local_client(&endpoint()), names("missing")).unwrap();
    let e = missing.account(&card().number).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt(_)), "{e}");
    // Nothing listening: the call may succeed later.
    let nowhere = DynamoStore::new(local_client("http://127.0.0.1:9"), names("nowhere")).unwrap();
    let e = nowhere.account(&card().number).unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(!e.to_string().contains("378282246310005"), "masked: {e}");
}

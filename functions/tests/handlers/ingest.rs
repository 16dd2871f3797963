//! The ingest function on S3 events.

use remit_domain::ports::{FileRegistry, FileStatus};
use remit_functions::ingest::ObjectStatus;
use remit_functions::settings::ChunkOrder;
use remit_store_sqlite::Table;

use crate::support::{deadline, repo, s3_event, Env};

fn rbc() -> Vec<u8> {
    std::fs::read(repo("samples/ca/cpa005-rbc-20260315.txt")).unwrap()
}

#[test]
fn an_event_delivered_twice_ingests_its_url_encoded_key_once() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/RBC remit (1)+.txt", &rbc());
    let event =
        s3_event("ca/cpa005/RBC+remit+%281%29%2B.txt", Some("3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"), "0062E7");

    let first = env.app.ingest_event(&event, deadline()).unwrap();
    let out = &first.objects[0];
    assert_eq!(out.status, ObjectStatus::Completed, "{out:?}");
    assert_eq!(out.key, "ca/cpa005/RBC remit (1)+.txt");
    let summary = out.summary.clone().unwrap();
    assert!(summary.payments > 0 && summary.balances(), "{summary:?}");
    assert!(summary.applied > 0, "the sample pays known accounts: {summary:?}");
    assert!(env.has("processed/ca/cpa005/RBC remit (1)+.txt") && !env.has("ca/cpa005/RBC remit (1)+.txt"));
    let after_first = env.snapshot();
    let emitted = env.metrics.emitted().len();
    assert_eq!(emitted, 1);

    // The same event again (S3 delivers at least once): the saved answer, no effect.
    let second = env.app.ingest_event(&event, deadline()).unwrap();
    assert_eq!(second, first);
    assert_eq!(env.snapshot(), after_first);
    assert_eq!(env.metrics.emitted().len(), emitted, "a replay reports no counts");
}

#[test]
fn the_same_bytes_dropped_again_under_another_name_post_nothing() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/rbc.txt", &rbc());
    let first = env.app.ingest_event(&s3_event("ca/cpa005/rbc.txt", Some("v1"), "01"), deadline()).unwrap();
    let before = env.snapshot();
    let ledger = env.store.count(Table::Ledger).unwrap();

    env.objects.drop_file("ca/cpa005/rbc-resent.txt", &rbc());
    let again =
        env.app.ingest_event(&s3_event("ca/cpa005/rbc-resent.txt", Some("v1"), "02"), deadline()).unwrap();
    let out = &again.objects[0];
    assert_eq!(out.status, ObjectStatus::Duplicate, "{out:?}");
    assert_eq!(out.summary, first.objects[0].summary, "the first processing's summary");
    assert!(out.reason.as_deref().unwrap().contains("ca/cpa005/rbc.txt"));
    assert_eq!(env.store.count(Table::Ledger).unwrap(), ledger);
    assert_eq!(env.snapshot(), before);
    assert!(env.has("processed/ca/cpa005/rbc-resent.txt"));
}

#[test]
fn a_file_that_fails_validation_is_quarantined_whole() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    let bad = std::fs::read(repo("samples/bad/cpa005-altered-amount.txt")).unwrap();
    env.objects.drop_file("ca/cpa005/altered.txt", &bad);
    let res = env.app.ingest_event(&s3_event("ca/cpa005/altered.txt", None, "0A"), deadline()).unwrap();
    let out = &res.objects[0];
    assert_eq!(out.status, ObjectStatus::Quarantined, "{out:?}");
    assert!(out.reason.as_deref().unwrap().to_lowercase().contains("total"), "{out:?}");
    assert_eq!(env.store.count(Table::Ledger).unwrap(), 0);
    assert_eq!(env.store.count(Table::Payments).unwrap(), 0);
    assert!(env.has("quarantine/ca/cpa005/altered.txt"));
    let id = out.file_id.as_deref().unwrap().parse().unwrap();
    assert_eq!(env.store.file(&id).unwrap().unwrap().status, FileStatus::Quarantined);
}

#[test]
fn a_store_failing_mid_read_is_retried_not_taken_for_a_bad_file() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/rbc.txt", &rbc());
    let event = s3_event("ca/cpa005/rbc.txt", Some("v1"), "01");
    env.objects.fail_after.store(2000, std::sync::atomic::Ordering::SeqCst);
    let err = env.app.ingest_event(&event, deadline()).unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(env.has("ca/cpa005/rbc.txt"), "not moved to quarantine");
    assert_eq!(env.store.count(Table::Payments).unwrap(), 0);

    // Lambda retries the event: the key was freed, the retry runs.
    env.objects.fail_after.store(u64::MAX, std::sync::atomic::Ordering::SeqCst);
    let res = env.app.ingest_event(&event, deadline()).unwrap();
    assert_eq!(res.objects[0].status, ObjectStatus::Completed);
}

#[test]
fn events_the_function_does_not_ingest_are_ignored() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("processed/ca/x.txt", &rbc());
    let own = env.app.ingest_event(&s3_event("processed/ca/x.txt", None, "01"), deadline()).unwrap();
    assert_eq!(own.objects[0].status, ObjectStatus::Ignored);
    let mut other = s3_event("ca/cpa005/x.txt", None, "02");
    other.records[0].s3.bucket.name = Some("someone-else".into());
    assert_eq!(env.app.ingest_event(&other, deadline()).unwrap().objects[0].status, ObjectStatus::Ignored);
    // An object gone by the time the event arrives (moved by an earlier run).
    let gone = env.app.ingest_event(&s3_event("ca/cpa005/none.txt", None, "03"), deadline()).unwrap();
    assert_eq!(gone.objects[0].status, ObjectStatus::Gone);
    assert_eq!(env.store.count(Table::Files).unwrap(), 0);
}

#[tokio::test]
async fn the_lambda_entry_point_runs_the_handler_and_skips_s3_test_events() {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/rbc.txt", &rbc());
    let event = serde_json::to_value(s3_event("ca/cpa005/rbc.txt", None, "01")).unwrap();
    let ctx = lambda_runtime::Context::default();
    let payload = serde_json::from_value(event).unwrap();
    let res =
        remit_functions::handle_s3(env.app.clone(), lambda_runtime::LambdaEvent::new(payload, ctx.clone()))
            .await
            .unwrap();
    assert_eq!(res.objects[0].status, ObjectStatus::Completed);

    let test_event = serde_json::json!({
        "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-03-20T15:00:00.000Z",
        "Bucket": "remit-test-landing", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
    });
    let payload = serde_json::from_value(test_event).unwrap();
    let res = remit_functions::handle_s3(env.app.clone(), lambda_runtime::LambdaEvent::new(payload, ctx))
        .await
        .unwrap();
    assert!(res.objects.is_empty());
}

/// Issue 14: each file is read at most twice. The first read hashes, routes and validates it;
/// the second processes it. The same bytes again are answered after one read; a bad file is
/// quarantined after one. (Before, a file was read four times: hash, head, validate, process.)
#[test]
fn each_file_is_read_at_most_twice() {
    use std::sync::atomic::Ordering;
    let env = Env::new(1000, ChunkOrder::Sequential);
    let reads = || env.objects.opens.swap(0, Ordering::SeqCst);
    env.objects.drop_file("ca/cpa005/rbc.txt", &rbc());
    let out = env.app.ingest_event(&s3_event("ca/cpa005/rbc.txt", Some("v1"), "01"), deadline()).unwrap();
    assert_eq!(out.objects[0].status, ObjectStatus::Completed);
    assert_eq!(reads(), 2, "processed: two reads");

    env.objects.drop_file("ca/cpa005/rbc-again.txt", &rbc());
    let out =
        env.app.ingest_event(&s3_event("ca/cpa005/rbc-again.txt", Some("v1"), "02"), deadline()).unwrap();
    assert_eq!(out.objects[0].status, ObjectStatus::Duplicate);
    assert_eq!(reads(), 1, "the same bytes again: one read");

    let mut bad = rbc();
    bad.truncate(bad.len() / 2);
    env.objects.drop_file("ca/cpa005/cut.txt", &bad);
    let out = env.app.ingest_event(&s3_event("ca/cpa005/cut.txt", Some("v1"), "03"), deadline()).unwrap();
    assert_eq!(out.objects[0].status, ObjectStatus::Quarantined);
    assert_eq!(reads(), 1, "refused: one read");
}

/// Issue 14: the two runners disagreed on a completed file dropped again (the Lambda answered
/// from the file's record, the CLI read it again and reported every payment a duplicate). Both
/// now go through the one orchestrator and give the same answer: already ingested, the first
/// name quoted, nothing decided again.
#[test]
fn a_re_drop_gets_the_same_answer_from_the_cli_and_the_lambda() {
    use remit::local::{self, LocalFile, SourceRouter};
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/rbc.txt", &rbc());
    env.app.ingest_event(&s3_event("ca/cpa005/rbc.txt", Some("v1"), "01"), deadline()).unwrap();
    env.objects.drop_file("ca/cpa005/rbc-again.txt", &rbc());
    let lambda =
        env.app.ingest_event(&s3_event("ca/cpa005/rbc-again.txt", Some("v1"), "02"), deadline()).unwrap();
    let lambda = &lambda.objects[0];
    assert_eq!(lambda.status, ObjectStatus::Duplicate);

    let dir = tempfile::tempdir().unwrap();
    let store = remit_store_sqlite::SqliteStore::in_memory().unwrap();
    let config = remit_domain::ingest::IngestConfig::default();
    let first = dir.path().join("rbc.txt");
    let again = dir.path().join("rbc-again.txt");
    std::fs::write(&first, rbc()).unwrap();
    std::fs::write(&again, rbc()).unwrap();
    let router = SourceRouter::default();
    let now = chrono::Utc::now();
    local::ingest(&store, &LocalFile::new(&first), &router, now, &config, |_| {}).unwrap();
    let mut decided = 0;
    let cli =
        local::ingest(&store, &LocalFile::new(&again), &router, now, &config, |_| decided += 1).unwrap();
    assert_eq!(decided, 0, "no payment decided again");
    assert!(cli.seen_before && cli.status == FileStatus::Completed);

    // The same sentence, naming the first drop, from the same function.
    let said = |reason: &str, first: &str| reason.replace(first, "FIRST");
    let lambda_reason = said(lambda.reason.as_deref().unwrap(), "ca/cpa005/rbc.txt");
    let cli_reason = said(cli.reason.as_deref().unwrap(), &first.display().to_string());
    assert_eq!(lambda_reason, cli_reason);
    assert!(cli_reason.starts_with("the same bytes as FIRST"), "{cli_reason}");
}

//! Very large files: split into chunks over the queue, the same result as one run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use chrono::Duration;
use remit_domain::ports::{FileRegistry, FileStatus, PaymentState};
use remit_domain::FileId;
use remit_functions::chunks::{ChunkMessage, Manifest};
use remit_functions::ingest::ObjectStatus;
use remit_functions::objects::get_json;
use remit_functions::settings::ChunkOrder;
use remit_functions::HandlerError;
use remit_store_sqlite::Table;

use crate::support::{clock_at, cpa005, deadline, now, record_offset, s3_event, sqs_event, Env, Snapshot};

const KEY: &str = "ca/cpa005/bulk 2026-03-20.txt";
const RAW_KEY: &str = "ca/cpa005/bulk+2026-03-20.txt";
const PAYMENTS: u64 = 47;
const CHUNK: u64 = 10;

/// The reference: the same file ingested whole by the same function.
fn unsplit() -> (Snapshot, remit_domain::ports::FileSummary) {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file(KEY, &cpa005(PAYMENTS));
    let res = env.app.ingest_event(&s3_event(RAW_KEY, Some("v1"), "01"), deadline()).unwrap();
    assert_eq!(res.objects[0].status, ObjectStatus::Completed);
    let summary = res.objects[0].summary.clone().unwrap();
    assert_eq!(summary.payments, PAYMENTS);
    assert!(summary.applied > 0 && summary.queued > 0, "a mixed file: {summary:?}");
    (env.snapshot(), summary)
}

/// Drops the file and runs the ingest function on it: split into chunks.
fn split(order: ChunkOrder) -> (Env, FileId) {
    let env = Env::new(CHUNK, order);
    env.objects.drop_file(KEY, &cpa005(PAYMENTS));
    let res = env.app.ingest_event(&s3_event(RAW_KEY, Some("v1"), "01"), deadline()).unwrap();
    let out = &res.objects[0];
    assert_eq!((out.status, out.payments, out.chunks), (ObjectStatus::Split, PAYMENTS, 5), "{out:?}");
    assert_eq!(env.store.count(Table::Payments).unwrap(), 0, "validated only");
    assert!(env.has(KEY), "the file stays until its chunks are done");
    let id = out.file_id.as_deref().unwrap().parse().unwrap();
    (env, id)
}

/// The completed file's summary.
fn file_summary(env: &Env, id: &FileId) -> remit_domain::ports::FileSummary {
    let file = env.store.file(id).unwrap().unwrap();
    assert_eq!(file.status, FileStatus::Completed);
    file.summary.unwrap()
}

#[test]
fn sequential_chunks_delivered_twice_and_out_of_order_give_the_unsplit_result() {
    let (reference, reference_summary) = unsplit();
    let (env, id) = split(ChunkOrder::Sequential);
    let first = env.chunk_queue.drain();
    assert_eq!(first.len(), 1, "sequential: the first chunk only");
    assert_eq!(first[0].chunk.index, 0);

    // A chunk arriving before the one it follows is refused for a redelivery.
    let manifest: Manifest = get_json(&*env.objects, &Manifest::key(&id)).unwrap().unwrap();
    let early = ChunkMessage { chunk: manifest.plan.chunk(3).unwrap(), ..first[0].clone() };
    let res = env.app.chunk_event(&sqs_event(std::slice::from_ref(&early)), deadline());
    assert_eq!(res.batch_item_failures.len(), 1);
    assert!(matches!(
        env.app.chunk_message(&serde_json::to_string(&early).unwrap(), deadline()),
        Err(HandlerError::NotReady(_))
    ));

    // Deliver every message twice (SQS at-least-once), the early one again in between (it runs
    // once its turn has come).
    let mut pending = first;
    let mut delivered = std::collections::BTreeMap::<u64, u32>::new();
    while !pending.is_empty() {
        let mut batch = pending.clone();
        batch.extend(pending.clone());
        for m in &batch {
            let res = env.app.chunk_event(&sqs_event(std::slice::from_ref(m)), deadline());
            assert!(res.batch_item_failures.is_empty(), "chunk {} failed", m.chunk.index);
            *delivered.entry(m.chunk.index).or_default() += 1;
        }
        let _ = env.app.chunk_event(&sqs_event(std::slice::from_ref(&early)), deadline());
        pending = env.chunk_queue.drain();
        pending.dedup();
    }
    assert_eq!(delivered.keys().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    assert!(delivered.values().all(|n| *n >= 2), "every chunk twice or more: {delivered:?}");

    assert!(!env.has(KEY) && env.has(&format!("processed/{KEY}")));
    assert_eq!(file_summary(&env, &id), reference_summary);
    assert_eq!(
        env.snapshot(),
        reference,
        "ledger, payments, research items, balances and the file as unsplit"
    );
    let totals = env.metrics.totals();
    let ca = totals[&remit_domain::Market::CA];
    assert_eq!(
        (ca.applied, ca.queued, ca.rejected),
        (reference_summary.applied, reference_summary.queued, reference_summary.rejected)
    );
}

#[test]
fn parallel_chunks_out_of_order_and_one_twice_decide_every_payment_once() {
    let (reference, reference_summary) = unsplit();
    let (env, id) = split(ChunkOrder::Parallel);
    let mut messages = env.chunk_queue.drain();
    assert_eq!(messages.len(), 5, "parallel: every chunk at once");
    messages.reverse();
    messages.insert(2, messages[0].clone());
    let res = env.app.chunk_event(&sqs_event(&messages), deadline());
    assert!(res.batch_item_failures.is_empty());

    let summary = file_summary(&env, &id);
    assert_eq!(summary.payments, PAYMENTS);
    assert!(summary.balances(), "{summary:?}");
    assert!(!env.has(KEY) && env.has(&format!("processed/{KEY}")));
    let snap = env.snapshot();
    // Every payment decided once, none left undecided; the ledger posts each payment at most once.
    assert_eq!(snap.rows("payments").len(), reference.rows("payments").len());
    assert!(snap.rows("payments").iter().all(|r| !r[2].contains(PaymentState::Received.as_str())));
    assert_eq!(env.store.count(Table::Ledger).unwrap() as usize, snap.rows("ledger").len());
    assert_eq!(
        summary.applied + summary.queued + summary.rejected + summary.duplicates + summary.reversed,
        PAYMENTS
    );
    // This file's decisions do not depend on the order of its lines, so here they agree too.
    assert_eq!(summary, reference_summary);
}

#[test]
fn a_worker_dying_mid_chunk_and_its_retry_post_nothing_twice() {
    let (reference, _) = unsplit();
    let (env, id) = split(ChunkOrder::Sequential);
    let chunk0 = env.chunk_queue.drain();
    assert!(env.app.chunk_event(&sqs_event(&chunk0), deadline()).batch_item_failures.is_empty());
    let chunk1 = env.chunk_queue.drain();
    assert_eq!(chunk1[0].chunk.index, 1);

    // Chunk 1 covers payments 10..20 (CPA-005 records of six payments each); the worker dies
    // reading the record of payment 18, after deciding the chunk's payments before it.
    let records_before = env.store.count(Table::Payments).unwrap();
    env.objects.panic_after.store(record_offset(&cpa005(PAYMENTS), 18), Ordering::SeqCst);
    let body = serde_json::to_string(&chunk1[0]).unwrap();
    let died = catch_unwind(AssertUnwindSafe(|| env.app.chunk_message(&body, deadline())));
    assert!(died.is_err(), "the worker died: {:?}", died.as_ref().ok());
    env.objects.panic_after.store(u64::MAX, Ordering::SeqCst);
    let decided = env.store.count(Table::Payments).unwrap() - records_before;
    assert!(decided > 0 && decided < CHUNK, "died mid-chunk after {decided} payments");

    // SQS redelivers while the dead run's claim lasts: refused, nothing done.
    assert!(matches!(env.app.chunk_message(&body, deadline()), Err(HandlerError::InProgress { .. })));
    // After its deadline a retry takes the chunk over and finishes it; then the rest runs.
    let mut later = env.app.clone();
    let at = now() + Duration::minutes(16);
    later.clock = clock_at(at);
    let retry_deadline = at + Duration::minutes(15);
    later.chunk_message(&body, retry_deadline).unwrap();
    loop {
        let pending = env.chunk_queue.drain();
        if pending.is_empty() {
            break;
        }
        assert!(later.chunk_event(&sqs_event(&pending), retry_deadline).batch_item_failures.is_empty());
    }

    let summary = file_summary(&env, &id);
    assert_eq!(summary.payments, PAYMENTS);
    // The retry finds the payments the dead run decided already decided: counted as
    // duplicates, posted once.
    assert_eq!(summary.duplicates, decided, "{summary:?}");
    let snap = env.snapshot();
    assert_eq!(snap.rows("ledger"), reference.rows("ledger"), "each posting once, as unsplit");
    assert_eq!(snap.rows("accounts"), reference.rows("accounts"), "balances moved once");
    assert_eq!(snap.rows("payments"), reference.rows("payments"));
    assert_eq!(snap.rows("research_items").len(), reference.rows("research_items").len());
}

#[test]
fn the_same_bytes_dropped_while_their_chunks_run_post_nothing() {
    let (env, _) = split(ChunkOrder::Sequential);
    env.objects.drop_file("ca/cpa005/bulk-again.txt", &cpa005(PAYMENTS));
    let res =
        env.app.ingest_event(&s3_event("ca/cpa005/bulk-again.txt", Some("v1"), "02"), deadline()).unwrap();
    assert_eq!(res.objects[0].status, ObjectStatus::Duplicate, "{:?}", res.objects[0]);
    assert_eq!(env.chunk_queue.drain().len(), 1, "only the first drop's chunk");
    assert!(env.has("processed/ca/cpa005/bulk-again.txt"));
}

#[test]
fn a_message_that_matches_no_manifest_is_refused() {
    let (env, _) = split(ChunkOrder::Parallel);
    let mut m = env.chunk_queue.drain().remove(1);
    m.chunk.count += 1;
    let err = env.app.chunk_message(&serde_json::to_string(&m).unwrap(), deadline()).unwrap_err();
    assert!(matches!(err, HandlerError::BadEvent(_)) && !err.is_retryable(), "{err}");
    assert!(matches!(env.app.chunk_message("{not json", deadline()), Err(HandlerError::BadEvent(_))));
    assert_eq!(env.store.count(Table::Payments).unwrap(), 0);
}

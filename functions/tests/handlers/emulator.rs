//! End to end on the AWS emulator (moto, `REMIT_TEST_AWS_ENDPOINT`, started by scripts/test):
//! every sample file dropped in a versioned S3 bucket, S3 events delivered twice to the ingest
//! handler, one file split and its chunks drained from SQS by the chunk handler (one message
//! twice), two sweeps publishing to SNS (read back through a subscribed SQS queue), the state
//! in DynamoDB compared with what the same events give on SQLite and a local folder.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use chrono::Duration;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use remit::objects::LocalObjects;
use remit_aws::logs::{subscriber, LogFormat, LogSettings};
use remit_aws::SqsChunkQueue;
use remit_aws::{S3Files, SnsAlerts};
use remit_domain::ports::ChunkQueue;
use remit_domain::ports::{PaymentState, Store};
use remit_domain::research::sweeper::{MemorySink, Notice};
use remit_domain::text::masking::holds_card_number;
use remit_domain::{mask_card_numbers, FileId, Market};
use remit_formats::SourceContext;
use remit_functions::chunks::MemoryChunkQueue;
use remit_functions::ingest::{IngestApp, ObjectStatus};
use remit_functions::metrics::MemoryMetrics;
use remit_functions::settings::{self, ChunkOrder, SplitPolicy};
use remit_functions::sweeper::{SharedSink, SweeperApp, SweeperEvent};
use remit_functions::{Objects, S3Objects};
use remit_store_dynamodb::{local_client, DynamoStore, TableNames};
use tokio::runtime::Runtime;

use crate::support::{clock_at, deadline, now, repo, s3_event_in};

/// Payments per chunk in this test: only the largest sample file (the bill payment remittance,
/// 8 payments) is split, in two chunks.
const CHUNK_PAYMENTS: u64 = 7;

/// The emulator's URL. Unset is a failure, never a skip.
fn endpoint() -> String {
    match std::env::var("REMIT_TEST_AWS_ENDPOINT") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "REMIT_TEST_AWS_ENDPOINT is not set: run scripts/test, which starts the moto emulator on \
             loopback and sets it (or start `.venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p 5601` \
             and export REMIT_TEST_AWS_ENDPOINT=http://127.0.0.1:5601)"
        ),
    }
}

/// A name no other test run on the same emulator uses.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Characters an S3 event leaves as they are in a key (a space becomes `+`).
const EVENT_KEY: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/').remove(b' ');

/// A key as S3 writes it in an event: form-encoded.
fn event_key(key: &str) -> String {
    utf8_percent_encode(key, EVENT_KEY).to_string().replace(' ', "+")
}

/// Every sample file the CLI demo ingests, by the key it lands under (the path under samples/),
/// one renamed to a key that needs URL-encoding; the bad samples last.
fn samples() -> Vec<(String, Vec<u8>, bool)> {
    let root = repo("samples");
    let bucket = LocalObjects::new(&root).unwrap();
    let mut out = Vec::new();
    for (folder, bad) in [("ca", false), ("in", false), ("eu", false), ("bad", true)] {
        for object in remit::local::drops(&bucket, &format!("{folder}/")).unwrap() {
            let rel = object.key.clone();
            let key = match rel.as_str() {
                "ca/cpa005-rbc-20260315.txt" => "ca/cpa005/Relevé RBC 2026-03-15 (1).txt".to_string(),
                // Dropped under a market prefix: the landing bucket takes files there only.
                r if bad => format!("ca/{r}"),
                r => r.to_string(),
            };
            out.push((key, std::fs::read(root.join(&object.key)).unwrap(), bad));
        }
    }
    out
}

/// What a store holds after the run, read through the ports, in a form both stores share:
/// files with their summaries, payment states, ledger entries (by linking reference),
/// balances, and research items per market.
#[derive(Debug, PartialEq)]
struct State {
    files: Vec<serde_json::Value>,
    payments: Vec<(String, Option<&'static str>)>,
    ledger: Vec<String>,
    balances: Vec<(String, String)>,
    research: BTreeMap<Market, Vec<serde_json::Value>>,
}

impl State {
    fn of<S: Store>(
        store: &S,
        files: &[(String, Vec<u8>, bool)],
        app_router: &remit_formats::SourceRouter,
    ) -> Self {
        let mut file_rows = Vec::new();
        let mut keys = BTreeSet::new();
        let mut refs = BTreeSet::new();
        for (key, bytes, _) in files {
            let id = FileId::of_bytes(bytes);
            if let Some(f) = store.file(&id).unwrap() {
                file_rows.push(serde_json::to_value(&f).unwrap());
            }
            let source = app_router.source(key, &bytes[..bytes.len().min(remit_formats::source::HEAD_BYTES)]);
            let ctx = SourceContext { file_id: id, file_name: key.as_str().into() };
            if let Ok((_, stream)) = source.open(ctx, &bytes[..]) {
                for p in stream.flatten() {
                    keys.insert(p.key());
                    refs.extend(p.linking_refs());
                }
            }
        }
        let payments = keys
            .iter()
            .map(|k| (k.to_string(), store.payment_state(k).unwrap().map(|s: PaymentState| s.as_str())))
            .collect();
        let mut ledger: Vec<String> = refs
            .iter()
            .flat_map(|r| store.entries_by_reference(r).unwrap())
            .map(|e| serde_json::to_string(&e).unwrap())
            .collect();
        ledger.sort();
        ledger.dedup();
        let accounts = std::fs::File::open(repo("samples/accounts.csv")).unwrap();
        let balances = remit_formats::accounts::read_accounts("accounts.csv", accounts, store.card_key())
            .unwrap()
            .map(|a| {
                let a = store.account(&a.unwrap().card).unwrap().unwrap();
                (a.card.masked(), a.current_balance.normalize().to_string())
            })
            .collect();
        let research = Market::ALL
            .into_iter()
            .map(|m| {
                let mut items: Vec<serde_json::Value> = store
                    .open_items(m, 10_000)
                    .unwrap()
                    .iter()
                    .map(|i| serde_json::to_value(i).unwrap())
                    .collect();
                items.sort_by_key(|i| i["id"].to_string());
                (m, items)
            })
            .collect();
        Self { files: file_rows, payments, ledger, balances, research }
    }

    fn applied(&self) -> u64 {
        self.payments.iter().filter(|(_, s)| *s == Some("applied")).count() as u64
    }

    fn open_items(&self) -> usize {
        self.research.values().map(Vec::len).sum()
    }
}

fn app<S, O>(
    store: Arc<S>,
    objects: Arc<O>,
    chunk_queue: Arc<dyn ChunkQueue>,
    bucket: &str,
) -> IngestApp<S, O> {
    IngestApp {
        store,
        objects,
        chunk_queue,
        metrics: Arc::new(MemoryMetrics::default()),
        router: Arc::new(settings::built_in_router().unwrap()),
        config: Arc::new(settings::built_in_config().unwrap()),
        split: SplitPolicy { chunk_payments: CHUNK_PAYMENTS, order: ChunkOrder::Sequential },
        bucket: Some(bucket.to_string()),
        clock: clock_at(now()),
    }
}

fn scheduled(id: &str) -> SweeperEvent {
    serde_json::from_value(serde_json::json!({
        "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": "2026-04-20T15:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/remit-test-sla-sweep"], "detail": {}
    }))
    .unwrap()
}

/// An SQS event carrying received messages, as the event source mapping builds it.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1773932400000" },
                "messageAttributes": {}, "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chunks", "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

/// The instant every sweep runs at: past every SLA deadline of the run's items.
fn sweep_at() -> chrono::DateTime<chrono::Utc> {
    now() + Duration::days(60)
}

/// The same events over SQLite and a local folder: the state to compare with, and the
/// alerts the sweeps raise.
fn reference_run(files: &[(String, Vec<u8>, bool)]) -> (State, Vec<(String, ObjectStatus)>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(crate::support::store_in(dir.path()));
    remit::local::import_accounts(&*store, &repo("samples/accounts.csv")).unwrap();
    let objects = Arc::new(LocalObjects::new(dir.path().join("bucket")).unwrap());
    let queue = Arc::new(MemoryChunkQueue::default());
    let app = app(store.clone(), objects.clone(), queue.clone(), "local");
    let mut statuses = Vec::new();
    for (i, (key, bytes, _)) in files.iter().enumerate() {
        objects.put(key, bytes).unwrap();
        let event = s3_event_in("local", &event_key(key), None, &format!("{i:016X}"), bytes.len() as u64);
        let out = app.ingest_event(&event, deadline()).unwrap();
        statuses.push((key.clone(), out.objects[0].status));
    }
    loop {
        let messages = queue.drain();
        if messages.is_empty() {
            break;
        }
        let event = crate::support::sqs_event(&messages);
        assert!(app.chunk_event(&event, deadline()).batch_item_failures.is_empty());
    }
    let sink = Arc::new(MemorySink::default());
    let sweeper = SweeperApp {
        store: store.clone(),
        alerts: sink.clone(),
        metrics: Arc::new(MemoryMetrics::default()),
        clock: clock_at(sweep_at()),
    };
    sweeper.handle(&scheduled("sweep-1"), sweep_at() + Duration::minutes(5)).unwrap();
    sweeper.handle(&scheduled("sweep-2"), sweep_at() + Duration::minutes(5)).unwrap();
    let state = State::of(&*store, files, &app.router);
    (state, statuses, sink.alerts().len())
}

struct Emulator {
    rt: Runtime,
    config: SdkConfig,
}

impl Emulator {
    fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let config = rt.block_on(remit_aws::sdk_config(Some(&endpoint())));
        Self { rt, config }
    }

    fn s3(&self) -> aws_sdk_s3::Client {
        remit_aws::s3_client(&self.config)
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// A new queue's URL and ARN.
    fn queue(&self, name: &str) -> (String, String) {
        let sqs = self.sqs();
        self.rt.block_on(async {
            let url = sqs.create_queue().queue_name(unique(name)).send().await.unwrap().queue_url.unwrap();
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap();
            let arn = attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
            (url, arn)
        })
    }

    /// Every message waiting in a queue (received and deleted).
    fn drain(&self, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let sqs = self.sqs();
        let mut all = Vec::new();
        loop {
            let got = self
                .rt
                .block_on(sqs.receive_message().queue_url(url).max_number_of_messages(10).send())
                .unwrap();
            let messages = got.messages().to_vec();
            if messages.is_empty() {
                return all;
            }
            for m in &messages {
                self.delete(url, m);
            }
            all.extend(messages);
        }
    }

    fn delete(&self, url: &str, m: &aws_sdk_sqs::types::Message) {
        let sqs = self.sqs();
        self.rt
            .block_on(sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send())
            .unwrap();
    }
}

#[test]
fn every_sample_through_s3_sqs_dynamodb_and_sns_matches_the_sqlite_run() {
    let started = Instant::now();
    // Every log line of the run (any thread), as the Lambda writes them (JSON, debug and up).
    let logs = crate::support::Captured::default();
    let writer = logs.clone();
    let settings = LogSettings { format: LogFormat::Json, filter: "debug".into() };
    let captured =
        tracing::subscriber::set_global_default(subscriber(&settings, move || writer.clone())).is_ok();
    let aws = Emulator::start();
    let files = samples();
    let (expected, expected_statuses, expected_alerts) = reference_run(&files);

    // The landing bucket (versioned), the tables, the chunk queue, the alert topic and a queue
    // subscribed to it.
    let s3 = aws.s3();
    let bucket = unique("landing");
    aws.rt.block_on(async {
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
        s3.put_bucket_versioning().bucket(&bucket).versioning_configuration(on).send().await.unwrap();
    });
    let prefix = format!("{}-", unique("remit-e2e"));
    let names = TableNames::with_prefix(&prefix);
    // The card key as the functions read it: an SSM SecureString parameter (issue 15).
    let key_parameter = format!("/{}/card-key", unique("remit-e2e"));
    let ssm = aws_sdk_ssm::Client::new(&aws.config);
    let key = aws.rt.block_on(async {
        // The reference run's key: the two runs' ledgers then name the same tokens.
        let secret = crate::support::CARD_KEY_HEX;
        let put = ssm.put_parameter().name(&key_parameter).value(secret);
        put.r#type(aws_sdk_ssm::types::ParameterType::SecureString).send().await.unwrap();
        remit_functions::wiring::card_key_from_ssm(&aws.config, &key_parameter).await.unwrap()
    });
    let store =
        Arc::new(DynamoStore::with_handle(local_client(&endpoint()), names, aws.rt.handle().clone(), key));
    store.create_tables().unwrap();
    let (chunk_url, _) = aws.queue("chunks");
    let (alerts_url, alerts_arn) = aws.queue("alerts");
    let sns = remit_aws::sns_client(&aws.config);
    let topic = aws.rt.block_on(async {
        let topic = sns.create_topic().name(unique("alerts")).send().await.unwrap().topic_arn.unwrap();
        sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&alerts_arn).send().await.unwrap();
        topic
    });
    remit::local::import_accounts(&*store, &repo("samples/accounts.csv")).unwrap();

    let files_s3 = S3Files::new(s3.clone(), aws.rt.handle().clone());
    let objects = Arc::new(S3Objects::new(files_s3, &bucket));
    let queue = Arc::new(SqsChunkQueue::new(aws.sqs(), &chunk_url, aws.rt.handle().clone()));
    let app = app(store.clone(), objects.clone(), queue, &bucket);

    // Ingest: each object's event twice, keys URL-encoded, with its version and a sequencer.
    let before = store.writes();
    let mut statuses = Vec::new();
    for (i, (key, bytes, _)) in files.iter().enumerate() {
        let put = aws
            .rt
            .block_on(s3.put_object().bucket(&bucket).key(key).body(ByteStream::from(bytes.clone())).send())
            .unwrap();
        let version = put.version_id().map(str::to_string);
        assert!(version.is_some(), "a versioned bucket names the version");
        let event: S3Event = s3_event_in(
            &bucket,
            &event_key(key),
            version.as_deref(),
            &format!("{i:016X}"),
            bytes.len() as u64,
        );
        let first = app.ingest_event(&event, deadline()).unwrap();
        let again = app.ingest_event(&event, deadline()).unwrap();
        assert_eq!(first, again, "{key}: the second delivery answers the first's result");
        statuses.push((key.clone(), first.objects[0].status));
    }
    assert_eq!(statuses, expected_statuses);
    let split = statuses.iter().filter(|(_, s)| *s == ObjectStatus::Split).count();
    assert_eq!(split, 1, "one file is split: {statuses:?}");

    // Chunks: drained from SQS, the first message delivered twice.
    let mut deliveries = 0;
    let mut duplicated = false;
    loop {
        let got = aws
            .rt
            .block_on(aws.sqs().receive_message().queue_url(&chunk_url).max_number_of_messages(1).send())
            .unwrap();
        let Some(message) = got.messages().first().cloned() else { break };
        let event = sqs_event(std::slice::from_ref(&message));
        assert!(app.chunk_event(&event, deadline()).batch_item_failures.is_empty());
        if !duplicated {
            assert!(app.chunk_event(&event, deadline()).batch_item_failures.is_empty());
            duplicated = true;
        }
        aws.delete(&chunk_url, &message);
        deliveries += 1;
        assert!(deliveries < 100, "the chunk queue drains");
    }
    assert!(deliveries >= 2, "a split file's chunks went through SQS ({deliveries})");
    let writes = store.writes().since(before);

    // Sweeps past every deadline: one event twice, then the next schedule.
    let sweeper = SweeperApp {
        store: store.clone(),
        alerts: Arc::new(SnsAlerts::new(sns.clone(), &topic, aws.rt.handle().clone())) as Arc<dyn SharedSink>,
        metrics: Arc::new(MemoryMetrics::default()),
        clock: clock_at(sweep_at()),
    };
    let later = sweep_at() + Duration::minutes(5);
    let first = sweeper.handle(&scheduled("sweep-1"), later).unwrap();
    assert_eq!(sweeper.handle(&scheduled("sweep-1"), later).unwrap(), first);
    let second = sweeper.handle(&scheduled("sweep-2"), later).unwrap();
    assert_eq!((second.breaches, second.warnings), (0, 0), "nothing raised twice");

    // The store: what SQLite holds after the same events.
    let state = State::of(&*store, &files, &app.router);
    assert_eq!(state.files, expected.files);
    assert_eq!(state.payments, expected.payments);
    assert_eq!(state.ledger, expected.ledger);
    assert_eq!(state.balances, expected.balances);
    assert_eq!(state.research, expected.research);
    assert!(state.applied() > 0 && state.open_items() > 0, "{state:?}");

    // The bucket: every file moved once, the bad ones to quarantine/, nothing left to ingest.
    let keys = |prefix: &str| objects.list(prefix).unwrap();
    for market in ["ca/", "in/", "eu/"] {
        assert_eq!(keys(market), Vec::<String>::new(), "{market} is empty");
    }
    for (key, _, bad) in &files {
        let to = if *bad { "quarantine/" } else { "processed/" };
        assert!(keys(&format!("{to}{key}")).contains(&format!("{to}{key}")), "{key} in {to}");
    }
    let quarantined: Vec<&str> =
        statuses.iter().filter(|(_, s)| *s == ObjectStatus::Quarantined).map(|(k, _)| k.as_str()).collect();
    let bad: Vec<&str> = files.iter().filter(|(_, _, b)| *b).map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(quarantined, bad);

    // The alerts: one breach per open item, none twice, card numbers masked.
    let messages = aws.drain(&alerts_url);
    let mut breached = BTreeSet::new();
    let mut alerts = 0;
    for m in &messages {
        let body = m.body().unwrap();
        let envelope: serde_json::Value = serde_json::from_str(body).unwrap();
        let text = envelope["Message"].as_str().unwrap();
        assert_eq!(mask_card_numbers(text), text, "no card number in {text}");
        if let Notice::SlaAlert(a) = serde_json::from_str::<Notice>(text).unwrap() {
            alerts += 1;
            if a.kind == remit_domain::ports::AlertKind::Breach {
                assert!(breached.insert(a.item.clone()), "breach of {} once", a.item);
            }
        }
    }
    let open: BTreeSet<String> =
        state.research.values().flatten().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(breached, open, "one breach alert per open item");
    assert_eq!(alerts as u64, first.breaches + first.warnings);
    assert_eq!(alerts, expected_alerts, "as many alerts as on SQLite");

    // Issue 15: no card-shaped number in clear in any item of any table, nor in any object the
    // pipeline wrote (the banks' own files, moved as received, are theirs: left out).
    let dynamo = local_client(&endpoint());
    let mut scanned = 0;
    aws.rt.block_on(async {
        let mut tables = Vec::new();
        let mut after = None;
        loop {
            let page = dynamo.list_tables().set_exclusive_start_table_name(after).send().await.unwrap();
            tables.extend(page.table_names().iter().filter(|t| t.starts_with(&prefix)).cloned());
            after = page.last_evaluated_table_name().map(str::to_string);
            if after.is_none() {
                break;
            }
        }
        for table in &tables {
            let mut start = None;
            loop {
                let page =
                    dynamo.scan().table_name(table).set_exclusive_start_key(start).send().await.unwrap();
                for item in page.items() {
                    scanned += 1;
                    assert!(!holds_card_number(&format!("{item:?}")), "a card number in clear in {table}");
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    break;
                }
            }
        }
    });
    assert!(scanned > 100, "the scan read the tables ({scanned} items)");
    let mut written = 0;
    for key in objects.list("").unwrap() {
        if files.iter().any(|(k, _, _)| key.ends_with(k.as_str())) {
            continue;
        }
        let body = aws.rt.block_on(async {
            let got = s3.get_object().bucket(&bucket).key(&key).send().await.unwrap();
            got.body.collect().await.unwrap().into_bytes()
        });
        written += 1;
        assert!(!holds_card_number(&String::from_utf8_lossy(&body)), "a card number in clear in {key}");
    }
    let lines = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    if captured {
        assert!(lines.lines().count() > 50, "the run's logs were captured ({} lines)", lines.lines().count());
        assert!(!holds_card_number(&lines), "a card number in clear in the logs");
    }
    eprintln!(
        "e2e card data scan: {scanned} DynamoDB items, {written} objects the pipeline wrote, {} log lines: none in clear",
        lines.lines().count()
    );

    let applied = state.applied();
    eprintln!(
        "e2e: {} files, {applied} applied payments, {} open items, {deliveries} chunk deliveries; ingest wrote \
         {} items ({} transactional), {} write request units: {:.1} items and {:.1} units per applied payment; \
         {:.1} s",
        files.len(),
        state.open_items(),
        writes.items,
        writes.transactional_items,
        writes.request_units(),
        writes.items as f64 / applied as f64,
        writes.request_units() as f64 / applied as f64,
        started.elapsed().as_secs_f64()
    );
}

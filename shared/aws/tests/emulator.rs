//! The S3 and SNS adapters against the moto emulator (`REMIT_TEST_AWS_ENDPOINT`, set by
//! `scripts/test`). Each test makes its own bucket, topic and queues.

mod common;

use std::fs::File;
use std::io::{BufReader, Read};

use aws_sdk_sqs::types::QueueAttributeName;
use common::{repo, unique, Emulator};
use remit_aws::s3::{Destination, HEAD_BYTES};
use remit_aws::{ObjectRef, S3Error, SnsAlerts};
use remit_domain::ingest::FileMeta;
use remit_domain::ports::AlertKind;
use remit_domain::research::sweeper::{AlertSink, Notice, SlaAlert};
use remit_domain::{FileId, Market};
use remit_formats::profile::Profile;
use remit_formats::{Format, SourceContext};
use remit_formats::{Source, SourceRouter};

const RBC: &str = "samples/ca/cpa005-rbc-20260315.txt";
const BILLPAY: &str = "samples/ca/billpay/ca-billpay-remittance-20260316.txt";

fn bytes_of(path: &str) -> Vec<u8> {
    std::fs::read(repo(path)).unwrap()
}

/// Payments a local file holds, read from disk as `remit` reads it.
fn local_count(path: &str, profile: Option<&Profile>) -> usize {
    let ctx = SourceContext { file_id: FileId::of_bytes(b""), file_name: path.into() };
    let reader = BufReader::new(File::open(repo(path)).unwrap());
    let stream = match profile {
        Some(p) => p.open(ctx, reader),
        None => remit_formats::open(ctx, reader).unwrap().1,
    };
    stream.inspect(|p| assert!(p.is_ok(), "{p:?}")).count()
}

/// Reads an object's tags as `key=value` lines, sorted.
fn tags(aws: &Emulator, obj: &ObjectRef) -> Vec<String> {
    let s3 = aws.s3();
    let out = aws.rt.block_on(s3.get_object_tagging().bucket(&obj.bucket).key(&obj.key).send()).unwrap();
    let mut tags: Vec<String> = out.tag_set().iter().map(|t| format!("{}={}", t.key(), t.value())).collect();
    tags.sort();
    tags
}

fn read_all(aws: &Emulator, obj: &ObjectRef) -> Result<Vec<u8>, S3Error> {
    let mut bytes = Vec::new();
    aws.files().reader(obj)?.read_to_end(&mut bytes).unwrap();
    Ok(bytes)
}

#[test]
fn an_event_key_streams_through_the_readers_and_hashes_like_the_file() {
    let (aws, files, bucket) = Emulator::landing(true);
    let bytes = bytes_of(RBC);
    let key = "ca/Relevé déc+1 (rbc).txt";
    let put = aws.put(&bucket, key, bytes.clone());
    assert!(put.version_id.is_some(), "a versioned bucket names the version");

    // As the event spells it: form-encoded, `%2B` for the plus.
    let raw = "ca/Relev%C3%A9+d%C3%A9c%2B1+%28rbc%29.txt";
    let obj = ObjectRef {
        version_id: put.version_id.clone(),
        size: put.size,
        ..remit_aws::s3::object_from_event_key(&bucket, raw).unwrap()
    };
    assert_eq!(obj, put);

    let meta = files.file_meta(&obj).unwrap();
    assert_eq!(meta.id, FileId::of_bytes(&bytes), "same identity as the file on disk");
    assert_eq!((meta.size, meta.name.as_str()), (bytes.len() as u64, key));

    let (format, stream) = common::open_payments(&files, &obj, &meta, &Source::Detect).unwrap();
    assert_eq!(format, Some(Format::Cpa005));
    let payments: Vec<_> = stream.map(|p| p.unwrap()).collect();
    assert_eq!(payments.len(), local_count(RBC, None));
    assert!(payments.len() >= 3, "the sample has payments");
    assert!(payments.iter().all(|p| p.source.file_id == meta.id));

    // Ranges, for split work and for routing's look at the first bytes.
    let mut first = Vec::new();
    files.range_reader(&obj, 0, 9).unwrap().read_to_end(&mut first).unwrap();
    assert_eq!(first, bytes[..10]);
    let mut rest = Vec::new();
    files.range_reader(&obj, 100, u64::MAX - 1).unwrap().read_to_end(&mut rest).unwrap();
    assert_eq!(rest, bytes[100..]);
    assert!(matches!(files.range_reader(&obj, 9, 0), Err(S3Error::BadRange { .. })));
    assert_eq!(files.head(&obj, HEAD_BYTES).unwrap(), bytes[..bytes.len().min(HEAD_BYTES as usize)]);
    assert_eq!(files.head(&obj, 3).unwrap(), bytes[..3]);
}

#[test]
fn routing_picks_a_profile_from_the_key_and_first_bytes() {
    let (aws, files, bucket) = Emulator::landing(false);
    let key = "ca/billpay/remittance 2026-03-16.txt";
    let obj = aws.put(&bucket, key, bytes_of(BILLPAY));

    // As the ingest function routes: from the key and the first bytes of the one read.
    let router = SourceRouter::load(&repo("profiles/routing.toml")).unwrap();
    let meta = files.file_meta(&obj).unwrap();
    let ctx = SourceContext { file_id: meta.id, file_name: meta.name.as_str().into() };
    let (route, stream) = router.open(&obj.key, ctx, files.reader(&obj).unwrap()).unwrap();
    assert!(route.starts_with("profile:"), "ca/billpay/ routes to a profile: {route}");
    let profile = Profile::load(&repo("profiles/ca-billpay-remittance.toml")).unwrap();
    let n = stream.inspect(|p| assert!(p.is_ok(), "{p:?}")).count();
    assert_eq!(n, local_count(BILLPAY, Some(&profile)));
    assert!(n > 0);
}

#[test]
fn a_move_copies_the_version_read_tags_it_and_spares_a_newer_upload() {
    let (aws, files, bucket) = Emulator::landing(true);
    let key = "ca/Relevé déc+1 (rbc) 100%.txt";
    let obj = aws.put(&bucket, key, b"first upload".to_vec());
    aws.put(&bucket, key, b"second upload, same name".to_vec());

    let meta = files.file_meta(&obj).unwrap();
    assert_eq!(meta.id, FileId::of_bytes(b"first upload"), "the event's version, not the latest");
    let moved = files.move_object(&obj, &Destination::Processed { file_id: meta.id }).unwrap();
    assert_eq!(moved.key, format!("processed/{key}"));
    assert!(moved.is_disposed());
    assert_eq!(read_all(&aws, &ObjectRef::new(&bucket, &moved.key)).unwrap(), b"first upload");
    assert_eq!(tags(&aws, &moved), [format!("remit-file-id={}", meta.id), "remit-status=processed".into()]);
    // The newer upload is still there: not deleted, its own event moves it.
    assert_eq!(read_all(&aws, &ObjectRef::new(&bucket, key)).unwrap(), b"second upload, same name");
    let again = files.move_object(&obj, &Destination::Processed { file_id: meta.id }).unwrap();
    assert_eq!(again.key, moved.key);

    // The latest version read: the key is deleted (a delete marker; the version stays as
    // history, for the functions may not erase versions), and a second move is harmless.
    let latest = aws.put(&bucket, "ca/only.txt", b"only upload".to_vec());
    files.move_object(&latest, &Destination::Processed { file_id: meta.id }).unwrap();
    let gone = read_all(&aws, &ObjectRef::new(&bucket, "ca/only.txt"));
    assert!(matches!(gone, Err(S3Error::NotFound { .. })), "{gone:?}");
    assert_eq!(read_all(&aws, &latest).unwrap(), b"only upload", "the version read stays as history");
    files.move_object(&latest, &Destination::Processed { file_id: meta.id }).unwrap();
    assert_eq!(read_all(&aws, &ObjectRef::new(&bucket, "processed/ca/only.txt")).unwrap(), b"only upload");
}

#[test]
fn small_objects_are_written_once_read_whole_and_listed_across_pages() {
    let (_aws, files, bucket) = Emulator::landing(true);
    let obj = |k: &str| ObjectRef::new(&bucket, k);
    assert!(files.put_if_absent(&obj("manifests/f/chunk-0.json"), b"first").unwrap());
    assert!(!files.put_if_absent(&obj("manifests/f/chunk-0.json"), b"second").unwrap(), "If-None-Match: *");
    assert_eq!(files.get_small(&obj("manifests/f/chunk-0.json")).unwrap().unwrap(), b"first");
    assert_eq!(files.get_small(&obj("manifests/f/none.json")).unwrap(), None);
    for i in 1..1005 {
        files.put_if_absent(&obj(&format!("manifests/f/chunk-{i:05}.json")), b"x").unwrap();
    }
    let keys = files.list(&bucket, "manifests/f/").unwrap();
    assert_eq!(keys.len(), 1005, "every page");
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    assert!(files.list(&bucket, "manifests/none/").unwrap().is_empty());
}

#[test]
fn a_refused_file_goes_to_quarantine_with_its_masked_reason() {
    let (aws, files, bucket) = Emulator::landing(false);
    let key = "eu/camt054/statement (1).xml";
    let obj = aws.put(&bucket, key, b"<not a statement/>".to_vec());
    let meta = files.file_meta(&obj).unwrap();
    let reason = "record 3, field \"reference\": payer wrote 3782 822463 10005".to_string();
    let moved = files.move_object(&obj, &Destination::Quarantined { file_id: meta.id, reason }).unwrap();
    assert_eq!(moved.key, format!("quarantine/{key}"));
    let tags = tags(&aws, &moved);
    assert_eq!(
        tags,
        [
            format!("remit-file-id={}", meta.id),
            "remit-reason=record 3 field reference: payer wrote XXXXXXXXXXX0005".into(),
            "remit-status=quarantined".into()
        ]
    );
    assert!(matches!(read_all(&aws, &obj), Err(S3Error::NotFound { .. })), "unversioned: deleted outright");
}

#[test]
fn missing_and_empty_objects_are_errors_or_nothing_never_panics() {
    let (aws, files, bucket) = Emulator::landing(false);
    let missing = ObjectRef::new(&bucket, "ca/card 378282246310005.txt");
    let e = files.file_meta(&missing).unwrap_err();
    assert!(matches!(e, S3Error::NotFound { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&format!("s3://{bucket}/ca/card ")) && !text.contains("378282246310005"), "{text}");

    let empty = aws.put(&bucket, "ca/empty.txt", Vec::new());
    assert_eq!(files.head(&empty, HEAD_BYTES).unwrap(), b"");
    let meta = files.file_meta(&empty).unwrap();
    assert_eq!((meta.id, meta.size), (FileId::of_bytes(b""), 0));
    let opened = common::open_payments(&files, &empty, &meta, &Source::Detect);
    assert!(opened.is_err(), "an empty file is no known format");

    let nowhere = ObjectRef::new(unique("no-such-bucket"), "ca/x.txt");
    let e = files.file_meta(&nowhere).unwrap_err();
    assert!(matches!(e, S3Error::Request { .. }), "a missing bucket is a fault, not a moved file: {e:?}");
    let meta = FileMeta { id: FileId::of_bytes(b""), name: "ca/x.txt".into(), size: 0 };
    let e = common::open_payments(&files, &nowhere, &meta, &Source::Detect).err().unwrap();
    assert!(e.to_string().contains("ca/x.txt"), "{e}");
}

/// An alert whose reason and reference quote an Amex number, as a payer might write them.
fn alert(kind: AlertKind, market: Market) -> SlaAlert {
    let breach: SlaAlert = serde_json::from_str(include_str!("fixtures/breach.json")).unwrap();
    SlaAlert { kind, market, item: format!("RQ-{market}-000042"), ..breach }
}

/// A queue subscribed to `topic` (with a filter policy when given); its URL.
fn subscribed_queue(aws: &Emulator, topic: &str, filter: Option<&str>) -> String {
    let (sns, sqs) = (remit_aws::sns_client(&aws.config), aws_sdk_sqs::Client::new(&aws.config));
    aws.rt.block_on(async {
        let url = sqs.create_queue().queue_name(unique("alerts")).send().await.unwrap().queue_url.unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attrs.attributes().unwrap()[&QueueAttributeName::QueueArn].clone();
        let mut sub = sns.subscribe().topic_arn(topic).protocol("sqs").endpoint(arn);
        if let Some(f) = filter {
            sub = sub.attributes("FilterPolicy", f);
        }
        sub.send().await.unwrap();
        url
    })
}

/// The SNS envelopes waiting on a queue.
fn received(aws: &Emulator, url: &str) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&aws.config);
    let out = aws
        .rt
        .block_on(sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send())
        .unwrap();
    out.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect()
}

#[test]
fn alerts_reach_subscribers_masked_with_filterable_attributes() {
    let aws = Emulator::start();
    let sns = remit_aws::sns_client(&aws.config);
    let topic =
        aws.rt.block_on(sns.create_topic().name(unique("remit-alerts")).send()).unwrap().topic_arn.unwrap();
    let everything = subscribed_queue(&aws, &topic, None);
    let ca_breaches = subscribed_queue(&aws, &topic, Some(r#"{"kind": ["breach"], "market": ["CA"]}"#));

    let alerts = SnsAlerts::new(sns, &topic, aws.rt.handle().clone());
    alerts.publish(&Notice::SlaAlert(alert(AlertKind::Warning, Market::IN))).unwrap();
    alerts.publish(&Notice::SlaAlert(alert(AlertKind::Breach, Market::CA))).unwrap();

    let all = received(&aws, &everything);
    assert_eq!(all.len(), 2, "{all:?}");
    let breach = all.iter().find(|m| m["Subject"].as_str().is_some_and(|s| s.contains("breach"))).unwrap();
    assert_eq!(breach["Subject"], "SLA breach CA RQ-CA-000042 (no-reference)");
    let body = breach["Message"].as_str().unwrap();
    assert!(!body.contains("378282246310005") && !body.contains("822463"), "{body}");
    let notice: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!((notice["type"].as_str(), notice["kind"].as_str()), (Some("sla-alert"), Some("breach")));
    assert_eq!(notice["reason"], "payer wrote ***********0005");
    assert_eq!(notice["bank_ref"], "***********0005");
    assert_eq!(notice["payer"], "Élodie Tremblay");
    let attr = |name: &str| breach["MessageAttributes"][name]["Value"].as_str().map(str::to_string);
    assert_eq!(
        [attr("type"), attr("market"), attr("kind")],
        [Some("sla-alert".into()), Some("CA".into()), Some("breach".into())]
    );

    let filtered = received(&aws, &ca_breaches);
    assert_eq!(filtered.len(), 1, "the filter policy sees the attributes: {filtered:?}");
    assert_eq!(filtered[0]["Subject"], "SLA breach CA RQ-CA-000042 (no-reference)");

    // A topic that is not there: an error naming it, for the sweep to report.
    let gone = format!("{topic}-gone");
    let e = SnsAlerts::new(remit_aws::sns_client(&aws.config), &gone, aws.rt.handle().clone())
        .publish(&Notice::SlaAlert(alert(AlertKind::Breach, Market::EU)))
        .unwrap_err();
    assert!(e.to_string().contains(&gone), "{e}");
}

//! Issue 17 in the Lambda: an object key holding a newline and a terminal escape is logged as
//! one escaped line, in text logs as in JSON ones.

#[allow(dead_code)]
#[path = "handlers/support.rs"]
mod support;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use remit_aws::logs::{subscriber, LogFormat, LogSettings};
use remit_functions::ingest::ObjectStatus;
use remit_functions::settings::ChunkOrder;

use support::{deadline, repo, s3_event, Captured, Env};

/// A key that, logged raw, ends the line and forges an "object handled" one in red.
const FORGED: &str = "ca/cpa005/rbc.txt\nINFO object handled key=ca/forged.txt status=Completed\u{1b}[31m";

/// Ingests `body` dropped under the forged key with logs captured in `format`; the logs.
fn ingest_logged(format: LogFormat, body: &[u8]) -> (ObjectStatus, String) {
    let env = Env::new(1000, ChunkOrder::Sequential);
    env.objects.drop_file(FORGED, body);
    let raw_key = utf8_percent_encode(FORGED, NON_ALPHANUMERIC).to_string();
    let out = Captured::default();
    let settings = LogSettings { format, filter: "info".into() };
    let writer = out.clone();
    let response = tracing::subscriber::with_default(subscriber(&settings, move || writer.clone()), || {
        env.app.ingest_event(&s3_event(&raw_key, Some("v1"), "01"), deadline()).unwrap()
    });
    let logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (response.objects[0].status, logs)
}

fn assert_one_escaped_line(logs: &str) {
    assert!(!logs.contains('\u{1b}'), "a raw escape: {logs:?}");
    let forged = |l: &str| l.trim_start().starts_with("INFO object handled key=ca/forged");
    assert!(!logs.lines().any(forged), "a forged line: {logs}");
}

#[test]
fn a_hostile_key_is_logged_as_one_escaped_line() {
    let rbc = std::fs::read(repo("samples/ca/cpa005-rbc-20260315.txt")).unwrap();
    let (status, logs) = ingest_logged(LogFormat::Text, &rbc);
    assert_eq!(status, ObjectStatus::Completed, "{logs}");
    assert_one_escaped_line(&logs);
    let handled: Vec<&str> =
        logs.lines().filter(|l| l.trim_start().starts_with("INFO object handled")).collect();
    assert_eq!(handled.len(), 1, "{logs}");
    assert!(handled[0].contains("rbc.txt\\nINFO object handled key=ca/forged.txt"), "{logs}");

    let bad = std::fs::read(repo("samples/bad/cpa005-altered-amount.txt")).unwrap();
    let (status, logs) = ingest_logged(LogFormat::Text, &bad);
    assert_eq!(status, ObjectStatus::Quarantined, "{logs}");
    assert_one_escaped_line(&logs);
    assert!(logs.lines().any(|l| l.contains("file quarantined") && l.contains("\\n")), "{logs}");

    let (_, logs) = ingest_logged(LogFormat::Json, &rbc);
    assert_one_escaped_line(&logs);
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

//! The daily control report on the demo samples: every file reconciles to its own totals.

use std::path::Path;

use remit_domain::ingest::IngestConfig;
use remit_domain::ports::FileStatus;
use rust_decimal::Decimal;

#[test]
fn the_demo_samples_reconcile_in_the_daily_control_report() {
    let dir = tempfile::tempdir().unwrap();
    let config = IngestConfig::default();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let mut sink = Vec::new();
    remit::commands::demo(dir.path(), &config, Some(&samples), &mut sink).unwrap();
    let data = dir.path().join("demo");

    let sections = remit::report::daily_lines(&data, &config, None, None).unwrap();
    let names: Vec<&str> = sections.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(&names[..3], ["CA", "IN", "EU"]);
    for (_, name, lines) in &sections[..3] {
        assert!(!lines.is_empty(), "{name}: no files today");
        for l in lines {
            assert!(l.reconciles, "{name} {}: {:?}", l.file, l.note);
            assert_eq!(l.status, FileStatus::Completed);
            assert_eq!(l.difference, Decimal::ZERO);
            assert_eq!(
                l.applied_count + l.queued_count + l.reversed_count + l.duplicate_count + l.rejected_count,
                l.records
            );
            assert!(l.records > 0);
            // The second delivery of every file was all duplicates; the report keeps the first.
            assert!(
                l.duplicate_count < l.records,
                "{name} {}: the replay's summary replaced the first",
                l.file
            );
        }
    }
    let ca = &sections[0].2;
    assert!(ca.iter().any(|l| l.reversed_count > 0), "the CA returns file reverses postings");
    // The malformed file: quarantined, no market, nothing posted, listed and reconciled.
    let (_, _, unassigned) = sections.iter().find(|(_, n, _)| n.starts_with("no market")).unwrap();
    assert!(unassigned.iter().any(|l| l.status == FileStatus::Quarantined && l.note.is_some()));

    let mut csv = Vec::new();
    let code = remit::report::daily(&data, &config, None, None, true, &mut csv).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("date,market,file,file_id"), "{}", rows[0]);
    let total: usize = sections.iter().map(|(_, _, l)| l.len()).sum();
    assert_eq!(rows.len(), total + 1);
    assert!(rows[1..].iter().all(|r| r.contains(",yes,") || r.ends_with(",yes")), "{csv}");
    let mut text = Vec::new();
    remit::report::daily(&data, &config, None, Some(remit_domain::Market::IN), false, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Daily control report IN") && text.contains("Every file reconciles"), "{text}");
}

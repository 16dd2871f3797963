//! Issue 13: an intraday report (camt.052) then the day's statement (camt.053) repeating its
//! bookings, through the `remit` binary: every payment posts once, the statement's summary
//! counts the repeated ones as duplicates, and both files reconcile in the daily report.

use std::process::Output;

mod support;
use support::{remit, root};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn an_intraday_report_then_the_statement_posts_every_payment_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| root().join(p).display().to_string();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());

    // 11:00: two booked credits (the pending one is no payment yet).
    let o = remit(dir.path(), &["ingest", &path("samples/eu-intraday/camt052-intraday-20261120.xml")]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("payments 2: applied 2, queued 0, duplicates 0"), "{out}");

    // 22:00: the statement repeats both and books the third.
    let o = remit(dir.path(), &["ingest", &path("samples/eu-intraday/camt053-evening-20261120.xml")]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("payments 3: applied 1, queued 0, duplicates 2"), "{out}");
    assert!(out.contains("applied 95.20, queued 0, duplicate 1320.00"), "{out}");

    // Dropping either file again posts nothing more.
    let o = remit(dir.path(), &["ingest", &path("samples/eu-intraday/camt052-intraday-20261120.xml")]);
    assert!(!text(&o).contains("applied 1") && !text(&o).contains("applied 2"), "{}", text(&o));

    let today = chrono::Utc::now().date_naive().to_string();
    let o = remit(dir.path(), &["report", "daily", "--date", &today]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Every file reconciles"), "{out}");
}

//! Issue 13 through the `remit` binary: an intraday report (camt.052, MT942) then the day's
//! statement (camt.053, MT940) repeating its bookings posts every payment once and both files
//! reconcile; a file
//! of undated entries is kept and reported; lines of zero amount are counted apart.

use std::process::Output;

mod support;
use support::{remit, root};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Ingests `intraday` then `evening` (paths under the repository) into a fresh store, checks
/// each summary holds `expect`, that a re-drop posts nothing, and that the day reconciles.
fn intraday_then_statement(intraday: &str, evening: &str, expect: [&[&str]; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| root().join(p).display().to_string();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    for (file, wanted) in [intraday, evening].into_iter().zip(expect) {
        let o = remit(dir.path(), &["ingest", &path(file)]);
        let out = text(&o);
        assert!(o.status.success(), "{out}");
        for w in wanted {
            assert!(out.contains(w), "{file}: {w:?} in\n{out}");
        }
    }
    // Dropping either file again posts nothing more.
    for file in [intraday, evening] {
        let out = text(&remit(dir.path(), &["ingest", &path(file)]));
        assert!(out.contains("applied 0") || out.contains("already"), "{out}");
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let o = remit(dir.path(), &["report", "daily", "--date", &today]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Every file reconciles"), "{out}");
}

#[test]
fn an_intraday_report_then_the_statement_posts_every_payment_once() {
    // 11:00: two booked credits (the pending one is no payment yet). 22:00: the statement
    // repeats both and books the third.
    intraday_then_statement(
        "samples/eu-intraday/camt052-intraday-20261120.xml",
        "samples/eu-intraday/camt053-evening-20261120.xml",
        [
            &["payments 2: applied 2, queued 0, duplicates 0"],
            &["payments 3: applied 1, queued 0, duplicates 2", "applied 95.20, queued 0, duplicate 1320.00"],
        ],
    );
}

/// The same day in SWIFT: an MT942 at 11:00, then the MT940 whose lines come in another order,
/// under another `:20:`, with a fee debit between them. Each credit carries the bank's
/// reference (`:61:` subfield 8), which keys it in both.
#[test]
fn an_mt942_then_the_mt940_posts_every_payment_once() {
    intraday_then_statement(
        "samples/eu-intraday/mt942-intraday-20261120.sta",
        "samples/eu-intraday/mt940-evening-20261120.sta",
        [
            &["payments 2: applied 2, queued 0, duplicates 0"],
            // The fee debit goes to research, as every debit does.
            &[
                "payments 4: applied 1, queued 1, duplicates 2",
                "applied 95.20, queued 2.50, duplicate 1320.00",
            ],
        ],
    );
}

/// Issue 13: a camt.054 whose entries carry no dates was refused whole. It is kept: each
/// payment takes the notification's date, goes to research with the reason, and both the
/// ingest summary and the daily control report say how many records were kept so and why.
#[test]
fn a_file_with_undated_entries_is_kept_and_the_reports_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| root().join(p).display().to_string();
    assert!(remit(dir.path(), &["accounts", "import", &path("samples/accounts.csv")]).status.success());
    // The sample notification with every ValDt and BookgDt taken out.
    let sample = std::fs::read_to_string(root().join("samples/eu/camt054-v08-batch.xml")).unwrap();
    let undated = regex_free_strip(&sample, &["ValDt", "BookgDt"]);
    assert!(!undated.contains("<ValDt>") && !undated.contains("<BookgDt>"));
    let file = dir.path().join("undated.xml");
    std::fs::write(&file, undated).unwrap();
    let o = remit(dir.path(), &["ingest", file.to_str().unwrap()]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("completed") && out.contains("kept with a warning of their record, sent to research"),
        "{out}"
    );
    assert!(out.contains("entry has no ValDt nor BookgDt"), "{out}");
    assert!(out.contains("applied 0"), "a warned payment is never applied automatically: {out}");

    let today = chrono::Utc::now().date_naive().to_string();
    let o = remit(dir.path(), &["report", "daily", "--date", &today, "--market", "EU"]);
    let out = text(&o);
    assert!(out.contains("record(s) kept with a warning, each sent to research"), "{out}");
}

/// `text` without every `<name>...</name>` element of the given names.
fn regex_free_strip(text: &str, names: &[&str]) -> String {
    let mut out = text.to_string();
    for name in names {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        while let Some(start) = out.find(&open) {
            let end = out[start..].find(&close).map(|e| start + e + close.len()).unwrap();
            out.replace_range(start..end, "");
        }
    }
    out
}

/// Issue 13: lines of zero amount (some banks book them) are kept out of the payments and
/// counted in the file summary and the daily control report. SWIFT MT940 `:61:` subfield 5,
/// Amount "15d": a zero amount is well formed; it moves no money and leaves the balance alone.
#[test]
fn lines_of_zero_amount_are_counted_apart_from_the_payments() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zero.sta");
    std::fs::write(
        &file,
        ":20:STMT20261120\r\n:25:NL91ABNA0417164300\r\n:28C:00321/1\r\n:60F:C261119EUR100,00\r\n\
         :61:2611201120C25,00NTRFNONREF//BANKREF001\r\n:86:CARD ENDING 1004\r\n\
         :61:2611201120C0,00NMSCNONREF//BANKREF002\r\n:86:ZERO BOOKING\r\n\
         :62F:C261120EUR125,00\r\n-\r\n",
    )
    .unwrap();
    let o = remit(dir.path(), &["ingest", file.to_str().unwrap()]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("payments 1:"), "{out}");
    assert!(out.contains("lines of zero amount, kept out of the payments: 1"), "{out}");
    let today = chrono::Utc::now().date_naive().to_string();
    let out = text(&remit(dir.path(), &["report", "daily", "--date", &today, "--market", "EU"]));
    assert!(out.contains("1 line(s) of zero amount, kept out of the payments"), "{out}");
    assert!(out.contains("Every file reconciles"), "{out}");
}

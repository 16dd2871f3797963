//! India e-collect files as banks send them (issue 13): every field a reader reads is checked,
//! and a bad one that the payment can do without is an oddity of the record (the payment goes
//! to a person with the reason), not a refusal of the file.

use remit_domain::Payment;
use remit_formats::{open_as, Format, ParseError, SourceContext};

fn read(format: Format, bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    let ctx = SourceContext { file_id: remit_domain::FileId::of_bytes(bytes), file_name: "mis.csv".into() };
    open_as(format, ctx, bytes).collect()
}

/// Issue 13: a transaction date of `32-11-2026` was accepted without a word (only the value
/// date was read). Now it is checked: the payment is read on its value date, with a warning.
#[test]
fn a_bad_transaction_date_is_a_warning_of_the_record() {
    let csv = b"UTR No,Virtual Account No,Amount (INR),Value Date,Transaction Date\n\
HDFCN26325012345,AMEX0100012345,\"45,000.00\",21-11-2026,32-11-2026\n\
HDFCN26325012346,AMEX0100012345,\"1,000.00\",21-11-2026,21-11-2026\n";
    let ps: Vec<Payment> = read(Format::IndiaCsv, csv).into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(ps.len(), 2, "the file is kept");
    assert_eq!(ps[0].value_date.to_string(), "2026-11-21");
    assert!(
        ps[0].warnings[0].contains("transaction date \"32-11-2026\" is not a date"),
        "{:?}",
        ps[0].warnings
    );
    assert_eq!(
        (ps[1].booking_date.map(|d| d.to_string()), ps[1].warnings.len()),
        (Some("2026-11-21".into()), 0)
    );

    // The push alert JSON reads the same field the same way.
    let json =
        br#"{"GenericCorporateAlertRequest": [{"Alert Sequence No": "1", "Virtual Account": "AMEX0100012345",
"Transaction Amount": "500.00", "Value Date": "21-11-2026", "Transaction Date": "32-11-2026",
"User Reference Number": "HDFCN26325054321", "Debit Credit": "C", "Currency": "INR"}]}"#;
    let p = read(Format::IndiaJson, json).remove(0).unwrap();
    assert!(p.warnings[0].contains("transaction date \"32-11-2026\""), "{:?}", p.warnings);
}

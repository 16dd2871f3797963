//! The CPA-005 reader against real files from moov-io/cadeft's test suite (kept outside the
//! repository under `../shared/corpus/`, skipped when absent).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use remit_domain::{Direction, FileId, PayerAccount, Payment};
use remit_formats::cpa005::Cpa005Reader;
use remit_formats::{ParseError, SourceContext};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/ca/cpa005-moov");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("corpus absent, skipping: {} not found", dir.display());
        None
    }
}

fn read(path: &Path) -> Vec<Result<Payment, ParseError>> {
    let file_id = FileId::of_reader(File::open(path).unwrap()).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let ctx = SourceContext { file_id, file_name: name.into() };
    Cpa005Reader::new(BufReader::new(File::open(path).unwrap()), ctx).collect()
}

fn total(payments: &[&Payment]) -> Decimal {
    payments.iter().map(|p| p.amount.amount()).sum()
}

/// CO14821.txt: 58-byte header, a full C record (6 segments), a short D record (5 segments,
/// 1224 bytes), a 112-byte trailer without a final newline, CRLF.
///
/// Its trailer claims 6 credits totalling 722.20, but the first credit segment carries
/// 0000099999 (999.99), so the six credits actually sum to 1601.46. The debits agree (5 = 201.65).
/// All 11 payments are read; the trailer mismatch is then reported with both figures.
#[test]
fn moov_co14821() {
    let Some(dir) = corpus() else { return };
    let items = read(&dir.join("CO14821.txt"));
    assert_eq!(items.len(), 12, "11 payments, then the trailer verdict");
    let payments: Vec<&Payment> = items[..11].iter().map(|r| r.as_ref().unwrap()).collect();

    let credits: Vec<&Payment> =
        payments.iter().copied().filter(|p| p.direction == Direction::Credit).collect();
    let debits: Vec<&Payment> =
        payments.iter().copied().filter(|p| p.direction == Direction::Debit).collect();
    assert_eq!(credits.len(), 6);
    assert_eq!(debits.len(), 5);
    assert_eq!(total(&debits), dec!(201.65));
    assert_eq!(total(&credits), dec!(1601.46));
    assert_eq!(credits[0].amount.amount(), dec!(999.99));
    assert!(payments.iter().all(|p| p.amount.currency().code() == "CAD"));

    let first = credits[0];
    assert_eq!(&*first.source_bank, "0000000610");
    assert_eq!(first.bank_ref, "6121006100001000000006");
    assert_eq!(first.value_date, chrono::NaiveDate::from_ymd_opt(2023, 5, 18).unwrap());
    // A credit's payer is its originator (long name 111-140, account for returns 170-190); the
    // payee, who receives the money, is at 81-110 and 20-40.
    assert_eq!(first.payer_name.as_deref(), Some("SCOTIABANK12345"));
    assert_eq!(
        first.payer_account,
        Some(PayerAccount::Canadian {
            institution: "002".into(),
            transit: "30031".into(),
            account: "8989899".into()
        })
    );
    let other = |k: &str| first.references.other.iter().find(|(key, _)| key == k).map(|(_, v)| v.expose());
    assert_eq!(other("payee_name"), Some("D1-1-OCC ZERO"));
    assert_eq!(other("payee_account"), Some("612-14821/999999"));
    assert_eq!(other("record_type"), Some("C"));
    // A debit's payer is its payor, at 81-110 and 20-40.
    assert_eq!(debits[0].payer_name.as_deref(), Some("D1-1-OCC ZERO"));
    assert!(
        matches!(&debits[0].payer_account, Some(PayerAccount::Canadian { institution, .. }) if institution == "612")
    );
    assert_eq!(first.references.cross_reference.as_ref().map(|r| r.expose()), Some("74"));
    assert_eq!((first.source.record, first.source.offset, first.source.position), (2, 60, 1));
    let last = debits[4];
    assert_eq!((last.source.record, last.source.offset, last.source.position), (3, 60 + 1466, 5));

    let err = items[11].as_ref().expect_err("trailer disagrees with the credits").to_string();
    assert!(err.contains("trailer says 6 credits totalling 722.20, file holds 6 totalling 1601.46"), "{err}");
    assert!(err.contains("CO14821.txt") && err.contains("record 4"), "{err}");
    assert!(!err.contains("debits"), "debits agree: {err}");
}

/// The go fuzz seed is not CPA-005 at all: a clear refusal, not a panic.
#[test]
fn moov_fuzz_seed_is_refused() {
    let Some(dir) = corpus() else { return };
    let items = read(&dir.join("fuzz-eda1f9afe7b01a99"));
    assert_eq!(items.len(), 1);
    let err = items[0].as_ref().expect_err("not a CPA-005 file");
    assert!(matches!(err, ParseError::Structure { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "fuzz-eda1f9afe7b01a99: record 1 (byte 0): file does not start with an A header record: \
         record 1 has type 'g'"
    );
}

/// The project's own samples (`samples/ca/`): every quirk the reader tolerates, payers writing
/// card numbers into the cross-reference field in various ways.
#[test]
fn project_samples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/ca");

    let rbc = read(&dir.join("cpa005-rbc-20260315.txt"));
    let rbc: Vec<Payment> = rbc.into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(rbc.len(), 7);
    assert_eq!(rbc.iter().filter(|p| p.direction == Direction::Debit).count(), 1);
    let names: Vec<&str> = rbc.iter().filter_map(|p| p.payer_name.as_deref()).collect();
    assert!(names.contains(&"Côté Marie-Ève") && names.contains(&"Lévesque Construction Ltée"), "{names:?}");
    assert!(
        !names.contains(&"AMERICAN EXPRESS CANADA"),
        "we are the payee of the credits, never their payer"
    );
    assert_eq!(rbc.iter().filter(|p| p.references.cross_reference.is_none()).count(), 1);
    assert_eq!(rbc[0].source.record, 2, "the routing line is not a record");

    let dj = read(&dir.join("cpa005-desjardins-20260316.txt"));
    let dj: Vec<Payment> = dj.into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(dj.len(), 5);
    assert!(dj.iter().all(|p| p.amount.currency().code() == "CAD"), "blank currency is CAD");
    assert_eq!(total(&dj.iter().collect::<Vec<_>>()), dec!(3235.25));
    assert!(dj.iter().any(|p| p.payer_name.as_deref() == Some("Ouellet Gaétan")));

    // An I (returned credit) and an E (credit reversal) of two of the RBC file's credits.
    let ret = read(&dir.join("cpa005-returns-20260318.txt"));
    let ret: Vec<Payment> = ret.into_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(ret.len(), 2);
    assert!(ret.iter().all(|p| p.reversal && p.direction == Direction::Debit));
    assert_eq!(ret[0].linking_refs(), rbc[0].linking_refs());
    assert_eq!(ret[1].linking_refs(), rbc[5].linking_refs());
    assert_eq!(ret[0].amount, rbc[0].amount);
}

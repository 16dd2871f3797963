//! Unit tests for the CPA-005 reader: one per quirk seen in real files, plus no-panic properties.

use super::*;
use remit_domain::{FileId, PayerAccount};
use rust_decimal_macros::dec;

/// One segment's fields, as a test wants to vary them. `name`, `inst` and `account` are the
/// payer's. In a credit-family segment (`credit`) the payer is the originator: long name at
/// 111-140, short name at 66-80, institution id and account no. for returns at 170-190, and the
/// payee, who receives the money, is us at 20-40 and 81-110. In a debit-family segment the payer
/// is the payor at 20-40 and 81-110, and we are the originator.
struct Seg<'a> {
    credit: bool,
    amount: &'a [u8],
    date: &'a [u8],
    inst: &'a [u8],
    account: &'a [u8],
    trace: &'a [u8],
    name: &'a [u8],
    xref: &'a [u8],
    sundry: &'a [u8],
}

impl Default for Seg<'_> {
    fn default() -> Self {
        Self {
            credit: true,
            amount: b"0000012345",
            date: b"026074",
            inst: b"000312345",
            account: b"1234567",
            trace: b"0003000110000000000001",
            name: b"Tremblay Jean",
            xref: b"3726 018159 08301",
            sundry: b"",
        }
    }
}

/// Our own institution id and account: the payee's in a credit, the originator's in a debit.
const OUR_INST: &[u8] = b"000300011";
const OUR_ACCOUNT: &[u8] = b"0012345";

fn put(out: &mut [u8], from: usize, text: &[u8]) {
    out[from - 1..from - 1 + text.len()].copy_from_slice(text);
}

fn seg(s: Seg) -> Vec<u8> {
    let mut out = vec![b' '; SEGMENT_LEN];
    put(&mut out, 1, b"450");
    put(&mut out, 4, s.amount);
    put(&mut out, 14, s.date);
    put(&mut out, 41, s.trace);
    put(&mut out, 63, b"000");
    if s.credit {
        put(&mut out, 20, OUR_INST);
        put(&mut out, 29, OUR_ACCOUNT);
        put(&mut out, 66, &s.name[..s.name.len().min(15)]);
        put(&mut out, 81, b"AMERICAN EXPRESS CANADA");
        put(&mut out, 111, s.name);
        put(&mut out, 170, s.inst);
        put(&mut out, 179, s.account);
    } else {
        put(&mut out, 20, s.inst);
        put(&mut out, 29, s.account);
        put(&mut out, 66, b"AMEX CANADA");
        put(&mut out, 81, s.name);
        put(&mut out, 111, b"AMERICAN EXPRESS CANADA");
        put(&mut out, 170, OUR_INST);
        put(&mut out, 179, OUR_ACCOUNT);
    }
    put(&mut out, 151, s.xref);
    put(&mut out, 191, s.sundry);
    out
}

fn cents_seg(cents: &[u8], trace: &[u8]) -> Vec<u8> {
    seg(Seg { amount: cents, trace, ..Seg::default() })
}

fn debit_seg(cents: &[u8], trace: &[u8]) -> Vec<u8> {
    seg(Seg { credit: false, amount: cents, trace, ..Seg::default() })
}

fn header(currency: &[u8]) -> Vec<u8> {
    let mut out = vec![b' '; 58];
    put(&mut out, 1, b"A0000000010003012345004202607400310");
    put(&mut out, 56, currency);
    out
}

fn detail(kind: u8, number: u64, segs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("{}{number:09}00030123450042", kind as char).into_bytes();
    for s in segs {
        out.extend_from_slice(s);
    }
    out
}

fn trailer(number: u64, debits: (u64, u64), credits: (u64, u64)) -> Vec<u8> {
    format!(
        "Z{number:09}00030123450042{:014}{:08}{:014}{:08}{}",
        debits.1,
        debits.0,
        credits.1,
        credits.0,
        "0".repeat(44)
    )
    .into_bytes()
}

fn join(records: &[Vec<u8>], eol: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        out.extend_from_slice(r);
        if i + 1 < records.len() {
            out.extend_from_slice(eol);
        }
    }
    out
}

/// A valid file: two credits (123.45, 200.00) in a short C record, one debit (10.00).
fn sample_records() -> Vec<Vec<u8>> {
    vec![
        header(b"CAD"),
        detail(
            b'C',
            2,
            &[
                cents_seg(b"0000012345", b"0003000110000000000001"),
                seg(Seg {
                    amount: b"0000020000",
                    name: b"C\xF4t\xE9 Marie-\xC8ve",
                    xref: b"346613186091396",
                    trace: b"0003000110000000000002",
                    sundry: b"PAIEMENT CARTE",
                    ..Seg::default()
                }),
            ],
        ),
        detail(b'D', 3, &[debit_seg(b"0000001000", b"0003000110000000000003")]),
        trailer(4, (1, 1000), (2, 32345)),
    ]
}

fn read(bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    crate::test_support::read(crate::Format::Cpa005, "test.cpa", bytes)
}

fn read_ok(bytes: &[u8]) -> Vec<Payment> {
    read(bytes).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

fn only_error(bytes: &[u8]) -> String {
    let items = read(bytes);
    let errors: Vec<String> = items.iter().filter_map(|r| r.as_ref().err()).map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    errors[0].clone()
}

#[test]
fn maps_every_field() {
    let bytes = join(&sample_records(), b"\r\n");
    let p = read_ok(&bytes);
    assert_eq!(p.len(), 3);
    let first = &p[0];
    assert_eq!(first.market, Market::CA);
    assert_eq!(first.format, SourceFormat::Cpa005);
    assert_eq!(&*first.source_bank, "0003012345");
    assert_eq!(first.bank_ref, "0003000110000000000001");
    assert_eq!(first.key_basis, KeyBasis::BankReference);
    assert_eq!(first.amount.amount(), dec!(123.45));
    assert_eq!(first.amount.currency(), Currency::CAD);
    assert_eq!(first.direction, Direction::Credit);
    assert!(!first.reversal);
    assert_eq!(first.value_date, chrono::NaiveDate::from_ymd_opt(2026, 3, 15).unwrap());
    assert_eq!(first.booking_date, None);
    assert_eq!(first.payer_name.as_deref(), Some("Tremblay Jean"));
    assert_eq!(
        first.payer_account,
        Some(PayerAccount::Canadian {
            institution: "003".into(),
            transit: "12345".into(),
            account: "1234567".into()
        })
    );
    assert_eq!(first.references.cross_reference.as_ref().map(RefText::expose), Some("3726 018159 08301"));
    let other: Vec<(&str, &str)> =
        first.references.other.iter().map(|(k, v)| (k.as_ref(), v.expose())).collect();
    assert_eq!(
        other,
        [
            ("record_type", "C"),
            ("item_trace", "0003000110000000000001"),
            ("originator_short_name", "Tremblay Jean"),
            ("payee_name", "AMERICAN EXPRESS CANADA"),
            ("payee_account", "003-00011/0012345"),
        ]
    );
    assert_eq!((first.source.record, first.source.offset, first.source.position), (2, 60, 1));
    assert_eq!(&*first.source.file, "test.cpa");
    assert!(first.warnings.is_empty());

    assert_eq!(p[1].source.position, 2);
    assert_eq!(
        p[1].references.other.last().map(|(k, v)| (k.as_ref(), v.expose())),
        Some(("sundry", "PAIEMENT CARTE"))
    );
    assert_eq!(p[2].direction, Direction::Debit);
    assert_eq!((p[2].source.record, p[2].source.position), (3, 1));
    assert_eq!(p[2].source.offset, 60 + (24 + 480 + 2) as u64);
}

#[test]
fn cp1252_names_survive() {
    let p = read_ok(&join(&sample_records(), b"\r\n"));
    assert_eq!(p[1].payer_name.as_deref(), Some("Côté Marie-Ève"));
}

#[test]
fn crlf_lf_and_no_final_newline_read_alike() {
    let records = sample_records();
    let crlf = read_ok(&join(&records, b"\r\n"));
    let mut lf_bytes = join(&records, b"\n");
    lf_bytes.push(b'\n');
    let lf = read_ok(&lf_bytes);
    let mut crlf_final = join(&records, b"\r\n");
    crlf_final.extend_from_slice(b"\r\n\r\n  \n");
    let trailing_blank = read_ok(&crlf_final);
    for other in [&lf, &trailing_blank] {
        assert_eq!(other.len(), crlf.len());
        for (a, b) in crlf.iter().zip(other.iter()) {
            assert_eq!((a.amount, &a.bank_ref, &a.payer_name), (b.amount, &b.bank_ref, &b.payer_name));
        }
    }
}

#[test]
fn routing_line_is_skipped_and_not_counted() {
    let mut bytes = b"$$AAPACPA1464[PROD[NL$$\r\n".to_vec();
    bytes.extend_from_slice(&join(&sample_records(), b"\r\n"));
    let p = read_ok(&bytes);
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].source.record, 2);
    assert_eq!(p[0].source.offset, 25 + 60);
}

#[test]
fn utf8_byte_order_mark_is_skipped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(&join(&sample_records(), b"\r\n"));
    let p = read_ok(&bytes);
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].source.offset, 63);
}

#[test]
fn back_to_back_records_without_line_breaks() {
    let mut bytes = Vec::new();
    for mut r in sample_records() {
        r.resize(RECORD_LEN, b' ');
        bytes.extend_from_slice(&r);
    }
    let p = read_ok(&bytes);
    assert_eq!(p.len(), 3);
    assert_eq!(p[2].source.offset, 2 * RECORD_LEN as u64);
    assert_eq!(p[1].payer_name.as_deref(), Some("Côté Marie-Ève"));
}

#[test]
fn full_length_records_with_line_breaks() {
    let records: Vec<Vec<u8>> = sample_records()
        .into_iter()
        .map(|mut r| {
            r.resize(RECORD_LEN, b' ');
            r
        })
        .collect();
    for eol in [&b"\r\n"[..], b"\n"] {
        let p = read_ok(&join(&records, eol));
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].source.offset, 2 * (RECORD_LEN + eol.len()) as u64);
    }
}

#[test]
fn short_record_of_five_segments() {
    let segs: Vec<Vec<u8>> = (1..=5u8).map(|i| debit_seg(b"0000000100", &[b'0' + i; 22])).collect();
    let records = vec![header(b"CAD"), detail(b'D', 2, &segs), trailer(3, (5, 500), (0, 0))];
    let p = read_ok(&join(&records, b"\r\n"));
    assert_eq!(p.len(), 5);
    assert!(p.iter().all(|p| p.direction == Direction::Debit));
    assert_eq!(p[4].source.position, 5);
}

#[test]
fn empty_and_zero_filled_segments_are_skipped() {
    let mut zeroed = vec![b' '; SEGMENT_LEN];
    put(&mut zeroed, 4, b"0000000000");
    put(&mut zeroed, 14, b"000000");
    let blank = vec![b' '; SEGMENT_LEN];
    let segs = vec![cents_seg(b"0000000100", b"T1"), blank, zeroed, cents_seg(b"0000000200", b"T4")];
    let records = vec![header(b"CAD"), detail(b'C', 2, &segs), trailer(3, (0, 0), (2, 300))];
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p.iter().map(|p| p.source.position).collect::<Vec<_>>(), [1, 4]);
}

#[test]
fn blank_currency_defaults_to_cad_and_usd_is_kept() {
    let mut records = sample_records();
    records[0] = header(b"   ");
    assert_eq!(read_ok(&join(&records, b"\n"))[0].amount.currency(), Currency::CAD);
    records[0] = header(b"USD");
    assert_eq!(read_ok(&join(&records, b"\n"))[0].amount.currency(), Currency::USD);
    records[0] = header(b"EUR");
    let err = only_error(&join(&records, b"\n"));
    assert!(err.contains("currency") && err.contains("EUR"), "{err}");
}

#[test]
fn spaces_in_numeric_filler() {
    let mut records = sample_records();
    records[1] = detail(b'C', 2, &[cents_seg(b"     12345", b"T1"), cents_seg(b"20000     ", b"T2")]);
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].amount.amount(), dec!(123.45));
    assert_eq!(p[1].amount.amount(), dec!(200.00));
}

#[test]
fn blank_trace_falls_back_to_file_position() {
    let mut records = sample_records();
    records[1] = detail(b'C', 2, &[cents_seg(b"0000012345", b""), cents_seg(b"0000020000", b"T2")]);
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].key_basis, KeyBasis::FilePosition);
    assert_ne!(p[0].key(), p[1].key());
}

#[test]
fn trailer_mismatch_names_both_figures() {
    let mut records = sample_records();
    records[3] = trailer(4, (1, 1000), (6, 72220));
    let err = only_error(&join(&records, b"\r\n"));
    assert!(err.contains("trailer says 6 credits totalling 722.20, file holds 2 totalling 323.45"), "{err}");
    assert!(err.contains("record 4"), "{err}");
    assert!(!err.contains("debits"), "debits agree: {err}");

    records[3] = trailer(9, (1, 1000), (2, 32345));
    let err = only_error(&join(&records, b"\r\n"));
    assert!(err.contains("trailer record count says 9, file has 4"), "{err}");
}

#[test]
fn bad_amount_names_the_field_and_value() {
    let mut records = sample_records();
    records[1] = detail(b'C', 2, &[cents_seg(b"0000012345", b"T1"), cents_seg(b"00000012A4", b"T2")]);
    let items = read(&join(&records, b"\n"));
    let err = items[1].as_ref().expect_err("segment 2 is bad").to_string();
    assert!(err.contains("test.cpa"), "{err}");
    assert!(err.contains("record 2 (byte 59)"), "{err}");
    assert!(err.contains("segment 2 amount (positions 268-277)"), "{err}");
    assert!(err.contains("00000012A4"), "{err}");
    // Reading goes on: the debit still comes, then the trailer disagrees (one credit short).
    assert!(items[2].is_ok());
    let last = items.last().unwrap().as_ref().expect_err("trailer no longer adds up").to_string();
    assert!(last.contains("file holds 1 totalling 123.45"), "{last}");
}

#[test]
fn zero_amount_and_bad_date_are_field_errors() {
    let mut records = sample_records();
    records[1] = detail(
        b'C',
        2,
        &[
            cents_seg(b"0000000000", b"T1"),
            seg(Seg { date: b"026400", amount: b"0000020000", ..Seg::default() }),
        ],
    );
    let items = read(&join(&records, b"\n"));
    let e0 = items[0].as_ref().unwrap_err().to_string();
    assert!(e0.contains("amount is zero"), "{e0}");
    let e1 = items[1].as_ref().unwrap_err().to_string();
    assert!(e1.contains("segment 2 date (positions 278-283)") && e1.contains("026400"), "{e1}");
}

#[test]
fn unknown_record_type_ends_the_stream() {
    let mut records = sample_records();
    records.insert(3, b"X000000004".to_vec());
    let bytes = join(&records, b"\n");
    let items = read(&bytes);
    let err = items.last().unwrap().as_ref().unwrap_err().to_string();
    assert!(err.contains("record 4") && err.contains("'X'"), "{err}");
    assert_eq!(items.iter().filter(|r| r.is_err()).count(), 1);

    let ctx = SourceContext { file_id: FileId::of_bytes(&bytes), file_name: "x".into() };
    let mut reader = Cpa005Reader::new(&bytes[..], ctx);
    while let Some(Ok(_)) = reader.next() {}
    assert!(reader.next().is_none(), "nothing after a structural error");
}

#[test]
fn missing_trailer_and_records_after_it() {
    let mut records = sample_records();
    let z = records.pop().unwrap();
    let err = only_error(&join(&records, b"\n"));
    assert!(err.contains("without a Z trailer"), "{err}");

    records.push(z);
    records.push(detail(b'C', 5, &[cents_seg(b"0000000100", b"T9")]));
    let err = only_error(&join(&records, b"\n"));
    assert!(err.contains("record 5") && err.contains("follows the Z trailer"), "{err}");
}

#[test]
fn must_start_with_a_header() {
    let err = only_error(b"go test fuzz v1\nstring(\"C\")\n");
    assert!(err.contains("does not start with an A header record: record 1 has type 'g'"), "{err}");
    let err = only_error(b"");
    assert!(err.contains("file is empty"), "{err}");
    let err = only_error(b"\n\n$$AAPACPA1464[PROD[NL$$\n");
    assert!(err.contains("file is empty"), "{err}");
}

#[test]
fn foreign_detail_record_is_refused() {
    let mut records = sample_records();
    records[2][10..24].copy_from_slice(b"99999999990001");
    let err = only_error(&join(&records, b"\n"));
    assert!(err.contains("record 3 is for originator and file"), "{err}");
}

#[test]
fn unusual_institution_id_is_a_warning() {
    let mut records = sample_records();
    records[1] = detail(
        b'C',
        2,
        &[seg(Seg { inst: b"0003-1234", ..Seg::default() }), cents_seg(b"0000020000", b"T2")],
    );
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].payer_account, Some(PayerAccount::Other("0003-1234 1234567".into())));
    assert_eq!(
        p[0].warnings,
        ["segment 1: institution id for returns \"0003-1234\" (positions 194-202) is not 0 + institution + transit"]
    );
}

/// A return or reversal segment (E/F/I/J): its own trace number, the original item's trace number
/// at 206-227 and the invalid data element id at 230-240.
fn undo_seg(credit: bool, cents: &[u8], trace: &[u8], original: &[u8], invalid: &[u8]) -> Vec<u8> {
    let mut s = seg(Seg { credit, amount: cents, trace, ..Seg::default() });
    put(&mut s, 206, original);
    put(&mut s, 230, invalid);
    s
}

/// A Z trailer with every total: (count, cents) of D+J, C+I, E and F.
fn full_trailer(
    number: u64,
    debits: (u64, u64),
    credits: (u64, u64),
    e: (u64, u64),
    f: (u64, u64),
) -> Vec<u8> {
    let mut z = trailer(number, debits, credits);
    z.truncate(68);
    z.extend_from_slice(format!("{:014}{:08}{:014}{:08}", e.1, e.0, f.1, f.0).as_bytes());
    z
}

const ORIGINAL_CREDIT: &[u8] = b"0003000110000000000001";
const ORIGINAL_DEBIT: &[u8] = b"0003000110000000000003";

/// The sample file's credit and debit, then one record of each type that undoes an item: an E
/// and an I for the first credit (123.45), an F and a J for the debit (10.00).
fn undo_records() -> Vec<Vec<u8>> {
    let mut r = sample_records();
    r.truncate(3);
    r.push(detail(
        b'E',
        4,
        &[undo_seg(true, b"0000012345", b"0009990010000000000001", ORIGINAL_CREDIT, b"")],
    ));
    r.push(detail(
        b'F',
        5,
        &[undo_seg(false, b"0000001000", b"0009990010000000000002", ORIGINAL_DEBIT, b"")],
    ));
    r.push(detail(
        b'I',
        6,
        &[undo_seg(true, b"0000012345", b"0009990010000000000003", ORIGINAL_CREDIT, b"00000000903")],
    ));
    r.push(detail(
        b'J',
        7,
        &[undo_seg(false, b"0000001000", b"0009990010000000000004", ORIGINAL_DEBIT, b"")],
    ));
    // Debits: D 10.00 + J 10.00; credits: C 123.45 + 200.00 + I 123.45; E 123.45; F 10.00.
    r.push(full_trailer(8, (2, 2000), (3, 44690), (1, 12345), (1, 1000)));
    r
}

fn other_ref<'a>(p: &'a Payment, kind: &str) -> Option<&'a str> {
    p.references.other.iter().find(|(k, _)| k == kind).map(|(_, v)| v.expose())
}

#[test]
fn credit_reversal_e_takes_the_credit_back_out() {
    let p = read_ok(&join(&undo_records(), b"\n"));
    assert_eq!(p.len(), 7);
    let (credit, e) = (&p[0], &p[3]);
    assert_eq!((e.direction, e.reversal), (Direction::Debit, true));
    assert_eq!(e.amount, credit.amount);
    assert_eq!(e.bank_ref, "0009990010000000000001", "its own trace number keys it");
    assert_eq!(e.key_basis, KeyBasis::BankReference);
    assert_eq!(other_ref(e, "item_trace"), Some("0003000110000000000001"));
    assert_eq!(other_ref(e, "return_item_trace"), Some("0009990010000000000001"));
    assert_eq!(other_ref(e, "return_reason"), None);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    assert_eq!(e.linking_refs(), credit.linking_refs(), "the pipeline finds the credit from the reversal");
    assert_ne!(e.key(), credit.key());
}

#[test]
fn debit_reversal_f_puts_the_debit_back() {
    let p = read_ok(&join(&undo_records(), b"\n"));
    let (debit, f) = (&p[2], &p[4]);
    assert_eq!((debit.direction, debit.reversal), (Direction::Debit, false));
    assert_eq!((f.direction, f.reversal), (Direction::Credit, true));
    assert_eq!(other_ref(f, "item_trace"), Some("0003000110000000000003"));
    assert_eq!(f.linking_refs(), debit.linking_refs());
}

#[test]
fn returned_credit_i_keeps_the_return_reason() {
    let p = read_ok(&join(&undo_records(), b"\n"));
    let (credit, i) = (&p[0], &p[5]);
    assert_eq!((i.direction, i.reversal), (Direction::Debit, true));
    assert_eq!(i.amount.amount(), dec!(123.45));
    assert_eq!(i.payer_name.as_deref(), Some("Tremblay Jean"));
    assert_eq!(other_ref(i, "item_trace"), Some("0003000110000000000001"));
    assert_eq!(other_ref(i, "return_reason"), Some("00000000903"));
    assert_eq!(i.warnings, ["segment 1: returned credit (I), invalid data element id 00000000903"]);
    assert_eq!(i.linking_refs(), credit.linking_refs());
    assert_eq!((i.source.record, i.source.position), (6, 1));
}

#[test]
fn returned_debit_j_puts_the_money_back() {
    let p = read_ok(&join(&undo_records(), b"\n"));
    let (debit, j) = (&p[2], &p[6]);
    assert_eq!((j.direction, j.reversal), (Direction::Credit, true));
    assert_eq!(other_ref(j, "item_trace"), Some("0003000110000000000003"));
    assert_eq!(other_ref(j, "return_reason"), None, "zero-filled: no reason given");
    assert_eq!(j.linking_refs(), debit.linking_refs());
}

#[test]
fn trailer_counts_i_with_credits_j_with_debits_and_e_f_apart() {
    let mut records = undo_records();
    // Leave E and F out of their own totals, as if they were ordinary credits and debits.
    records[7] = full_trailer(8, (3, 3000), (4, 56935), (0, 0), (0, 0));
    let err = only_error(&join(&records, b"\n"));
    assert!(err.contains("trailer says 4 credits totalling 569.35, file holds 3 totalling 446.90"), "{err}");
    assert!(err.contains("trailer says 3 debits totalling 30.00, file holds 2 totalling 20.00"), "{err}");
    assert!(
        err.contains("trailer says 0 credit reversals (E) totalling 0.00, file holds 1 totalling 123.45"),
        "{err}"
    );
    assert!(
        err.contains("trailer says 0 debit reversals (F) totalling 0.00, file holds 1 totalling 10.00"),
        "{err}"
    );
    assert!(err.contains("record 8"), "{err}");
}

#[test]
fn a_return_without_its_original_trace_number_is_read_with_a_warning() {
    let mut records = sample_records();
    records.truncate(3);
    records.push(detail(
        b'I',
        4,
        &[undo_seg(true, b"0000012345", b"0009990010000000000003", b"0000000000000000000000", b"")],
    ));
    records.push(full_trailer(5, (1, 1000), (3, 44690), (0, 0), (0, 0)));
    let p = read_ok(&join(&records, b"\n"));
    let i = &p[3];
    assert!(i.reversal);
    assert_eq!(other_ref(i, "item_trace"), None);
    assert!(i.linking_refs().is_empty(), "nothing to find: the pipeline sends it to research");
    assert_eq!(
        i.warnings,
        ["segment 1: returned credit (I) without an original item trace number (positions 230-251)"]
    );
}

#[test]
fn zero_filled_trace_numbers_are_not_references() {
    let mut records = sample_records();
    records[1] = detail(
        b'C',
        2,
        &[
            cents_seg(b"0000012345", b"0000000000000000000000"),
            cents_seg(b"0000020000", b"0000000000000000000000"),
        ],
    );
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].key_basis, KeyBasis::FilePosition);
    assert_ne!(p[0].key(), p[1].key(), "two payments, not one");
    assert_eq!(other_ref(&p[0], "item_trace"), None);
}

#[test]
fn notice_of_change_and_error_correction_records_are_refused_by_name() {
    for letter in [b'S', b'U', b'V'] {
        let mut records = sample_records();
        records.insert(3, detail(letter, 4, &[cents_seg(b"0000001000", b"T9")]));
        let err = only_error(&join(&records, b"\n"));
        assert!(err.contains(&format!("record 4 has record type '{}'", letter as char)), "{err}");
        assert!(err.contains("notice-of-change / error-correction record"), "{err}");
    }
}

#[test]
fn french_accents_in_windows_1252_reach_the_payer_name() {
    let mut records = sample_records();
    // é è ç É in Windows-1252: 0xE9 0xE8 0xE7 0xC9; no U+FFFD anywhere.
    records[1] = detail(
        b'C',
        2,
        &[
            seg(Seg { name: b"\xC9lise Fran\xE7ois Ad\xE8le Caf\xE9", ..Seg::default() }),
            cents_seg(b"0000020000", b"T2"),
        ],
    );
    let p = read_ok(&join(&records, b"\r\n"));
    assert_eq!(p[0].payer_name.as_deref(), Some("Élise François Adèle Café"));
    assert!(!p[0].payer_name.as_deref().unwrap_or_default().contains('\u{FFFD}'));
    let json = serde_json::to_string(&p[0]).unwrap();
    assert!(json.contains("Élise François Adèle Café"), "{json}");
}

#[test]
fn a_nul_or_escape_inside_a_name_or_reference_is_a_field_error() {
    for (name, xref, field, position) in [
        (
            &b"Tremblay-Lefebvre Jean\0Paul"[..],
            &b"3726 018159 08301"[..],
            "segment 1 originator's long name",
            24 + 111 + 22,
        ),
        (b"Tremblay Jean", b"INV\x1b[2J42", "segment 1 originator's cross-reference no.", 24 + 151 + 3),
    ] {
        let mut records = sample_records();
        records[1] = detail(b'C', 2, &[seg(Seg { name, xref, ..Seg::default() })]);
        let items = read(&join(&records, b"\n"));
        let e = items[0].as_ref().expect_err("the segment is refused");
        let ParseError::Field { field: f, problem, .. } = e else { panic!("{e}") };
        assert!(f.starts_with(field), "{f}");
        assert!(problem.contains(&format!("at position {position}")), "{problem}");
        assert!(items.iter().all(|i| i.as_ref().map_or(true, |p| !p
            .payer_name
            .as_deref()
            .unwrap_or("")
            .contains('\0'))));
    }
}

#[test]
fn nul_padding_around_text_and_all_nul_fields_stay_blank() {
    let mut records = sample_records();
    let mut s = cents_seg(b"0000012345", b"0003000110000000000001");
    s[150..169].fill(0); // cross-reference all NUL: blank
    s[190..205].fill(0); // sundry all NUL: blank
    s[123..140].fill(0); // NUL padding after the long name's text (111-123)
    records[1] = detail(b'C', 2, &[s, cents_seg(b"0000020000", b"0003000110000000000002")]);
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].references.cross_reference, None);
    assert_eq!(p[0].payer_name.as_deref(), Some("Tremblay Jean"));
}

#[test]
fn a_total_that_would_overflow_is_an_error_not_a_saturated_figure() {
    let mut t = Totals::default();
    t.add(Kind::Credit, u64::MAX - 1).unwrap();
    assert_eq!(t.add(Kind::ReturnedCredit, 2), Err("total value of credits (C and I)"));
    assert_eq!((t.credit_count, t.credit_cents), (1, u64::MAX - 1), "unchanged by the refused item");
    t.add(Kind::Debit, u64::MAX).unwrap();
    assert!(t.add(Kind::ReturnedDebit, 1).is_err());
    // Through the reader: the segment whose amount overflows a total is refused by name.
    let bytes = join(&sample_records(), b"\n");
    let ctx = SourceContext { file_id: FileId::of_bytes(&bytes), file_name: "t".into() };
    let mut r = Cpa005Reader::new(&bytes[..], ctx);
    r.totals.credit_cents = u64::MAX - 100;
    let e = r.next().unwrap().expect_err("the credit total overflows").to_string();
    assert!(e.contains("segment 1 amount (positions 28-37)") && e.contains("overflows"), "{e}");
}

#[test]
fn two_amounts_at_the_field_maximum_read_without_panic() {
    let mut records = sample_records();
    let max = b"9999999999";
    records[1] = detail(b'C', 2, &[cents_seg(max, b"T1"), cents_seg(max, b"T2")]);
    records[3] = trailer(4, (1, 1000), (2, 2 * 9_999_999_999));
    let p = read_ok(&join(&records, b"\n"));
    assert_eq!(p[0].amount.amount(), dec!(99999999.99));
}

/// A reader that hands out one byte at a time, as a slow network stream might.
struct Trickle<'a>(&'a [u8]);

impl io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

#[test]
fn tiny_reads_give_the_same_result() {
    let mut bytes = b"$$AAPACPA1464[PROD[NL$$\r\n".to_vec();
    bytes.extend_from_slice(&join(&sample_records(), b"\r\n"));
    let ctx = SourceContext { file_id: FileId::of_bytes(&bytes), file_name: "t".into() };
    let r = io::BufReader::with_capacity(1, Trickle(&bytes));
    let p: Vec<Payment> = Cpa005Reader::new(r, ctx).collect::<Result<_, _>>().unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p[2].source.offset, read_ok(&bytes)[2].source.offset);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn valid_file() -> Vec<u8> {
        let mut bytes = b"$$AAPACPA1464[PROD[NL$$\r\n".to_vec();
        bytes.extend_from_slice(&join(&sample_records(), b"\r\n"));
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let _ = read(&bytes);
            let mut with_header = header(b"CAD");
            with_header.push(b'\n');
            with_header.extend_from_slice(&bytes);
            let _ = read(&with_header);
        }

        #[test]
        fn mutations_of_a_valid_file_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = valid_file();
            for (at, b) in edits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if truncate {
                let n = cut.index(bytes.len());
                bytes.truncate(n);
            }
            let items = read(&bytes);
            // Once a structural error is yielded, nothing follows it.
            if let Some(i) = items.iter().position(|r| matches!(r, Err(ParseError::Structure { .. }))) {
                prop_assert_eq!(i, items.len() - 1);
            }
        }
    }
}

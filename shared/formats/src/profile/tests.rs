//! Every shipped profile against its sample, onboarding a layout the code has never seen,
//! and profiles that are wrong (positions off by one, wrong encoding, bad keys).

use std::path::Path;

use proptest::prelude::*;
use remit_domain::{Direction, Market, PayerAccount, Payment, SourceFormat, UtrClass};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::routing::{Route, Routing};
use super::{Profile, ProfileError};
use crate::{Format, Location, ParseError};

macro_rules! shipped {
    ($profile:literal, $sample:literal) => {
        (
            include_str!(concat!("../../../../profiles/", $profile)),
            include_bytes!(concat!("../../../../samples/", $sample)).as_slice(),
        )
    };
}

const BILLPAY: (&str, &[u8]) =
    shipped!("ca-billpay-remittance.toml", "ca/billpay/ca-billpay-remittance-20260316.txt");
const EFT80: (&str, &[u8]) = shipped!("ca-eft80.toml", "ca/eft80/ca-eft80-20260316.dat");
const MIS_A: (&str, &[u8]) = shipped!("in-ecollect-mis-a.toml", "in/mis/in-ecollect-mis-a-20261121.csv");
const MIS_B: (&str, &[u8]) = shipped!("in-ecollect-mis-b.toml", "in/mis/in-ecollect-mis-b-20261121.txt");
const ALERTS: (&str, &[u8]) = shipped!("in-push-alert.toml", "in/alerts/in-push-alert-20261121.json");

fn profile(text: &str) -> Profile {
    Profile::from_toml("test.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn read(profile_text: &str, bytes: &[u8]) -> Vec<Result<Payment, ParseError>> {
    profile(profile_text).open(crate::test_support::ctx("sample"), bytes).collect()
}

fn ok(profile_text: &str, bytes: &[u8]) -> Vec<Payment> {
    read(profile_text, bytes).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

fn err(profile_text: &str, bytes: &[u8]) -> ParseError {
    let r = read(profile_text, bytes);
    match r.into_iter().find_map(Result::err) {
        Some(e) => e,
        None => panic!("expected an error"),
    }
}

fn total(ps: &[Payment]) -> Decimal {
    ps.iter().map(|p| p.amount.amount()).sum()
}

fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn ca_billpay_sample_keeps_french_accents_from_windows_1252() {
    let ps = ok(BILLPAY.0, BILLPAY.1);
    assert_eq!(ps.len(), 8);
    assert_eq!(total(&ps), dec!(22634.31));
    let p = &ps[1];
    assert_eq!(p.payer_name.as_deref(), Some("Marie-Ève Côté"));
    assert_eq!(p.amount.amount(), dec!(310.45));
    assert_eq!(p.amount.currency().code(), "CAD");
    assert_eq!(p.bank_ref, "TD2603160000102");
    assert_eq!(&*p.source_bank, "AMEXCA0001", "biller id from the header");
    assert_eq!(p.references.cross_reference.as_ref().unwrap().expose(), "3466 131860 91396");
    assert_eq!(p.references.other[0].0, "channel");
    assert_eq!(p.references.other[0].1.expose(), "TEL");
    assert_eq!(p.value_date, date(2026, 3, 16));
    assert_eq!((p.source.record, p.source.offset), (3, 244), "record 3, after two 122-byte lines");
    assert_eq!(ps[2].value_date, date(2026, 3, 15));
    assert_eq!(ps[3].payer_name.as_deref(), Some("Lévesque Construction Ltée"));
    assert_eq!(ps[6].payer_name.as_deref(), Some("Zoë Côté-Ouellet"));
    assert!(ps.iter().all(|p| p.market == Market::CA && p.format == SourceFormat::Profile));
}

#[test]
fn ca_eft80_sample_reads_ebcdic_without_line_breaks() {
    let ps = ok(EFT80.0, EFT80.1);
    assert_eq!(ps.len(), 5);
    assert_eq!(total(&ps), dec!(21730.55));
    assert_eq!(ps[1].payer_name.as_deref(), Some("Marie-Ève Côté"));
    assert_eq!(ps[3].direction, Direction::Debit);
    assert_eq!(ps[0].value_date, date(2026, 3, 16));
    assert_eq!(&*ps[0].source_bank, "0123456789");
    assert_eq!(
        ps[1].payer_account,
        Some(PayerAccount::Canadian {
            institution: "815".into(),
            transit: "30101".into(),
            account: "9876543".into()
        })
    );
    assert_eq!(ps[2].references.cross_reference.as_ref().unwrap().expose(), "349378657975439");
    assert_eq!((ps[2].source.record, ps[2].source.offset), (4, 240));
}

#[test]
fn in_mis_a_sample_with_bom_crlf_lakh_and_total_row() {
    let ps = ok(MIS_A.0, MIS_A.1);
    assert_eq!(ps.len(), 6);
    assert_eq!(total(&ps), dec!(1664324.28));
    let p = &ps[1];
    assert_eq!(p.amount.amount(), dec!(123456.78));
    assert_eq!(p.bank_ref, "ICICR52026112100012345");
    assert_eq!(p.references.utr.as_ref().unwrap().class(), UtrClass::Rtgs);
    assert_eq!(p.references.virtual_account.as_ref().unwrap().expose(), "AMEX0100067890");
    assert_eq!(p.references.other[0], ("payer_code".into(), "00067890".into()));
    assert_eq!(p.payer_name.as_deref(), Some("Rajesh Kumar Sharma"));
    assert_eq!(p.value_date, date(2026, 11, 21), "a time after the date is ignored");
    assert_eq!(p.source.record, 3, "physical line");
    assert_eq!(ps[5].value_date, date(2026, 11, 22));
    assert!(matches!(&p.payer_account, Some(PayerAccount::Remitter { ifsc: Some(_), .. })));
}

#[test]
fn in_mis_b_sample_pipe_separated_with_payer_codes() {
    let ps = ok(MIS_B.0, MIS_B.1);
    assert_eq!(ps.len(), 5);
    assert_eq!(total(&ps), dec!(370750.00) - dec!(0.01));
    let p = &ps[1];
    assert_eq!(p.amount.amount(), dec!(350000.00));
    assert_eq!(
        p.references.virtual_account.as_ref().unwrap().expose(),
        "AMEX0100013579",
        "client code + payer code"
    );
    assert_eq!(p.references.utr.as_ref().unwrap().class(), UtrClass::Rtgs);
    assert!(p.references.other.iter().any(|(k, v)| k == "mode" && v.expose() == "RTGS"));
    assert_eq!(p.source.record, 4, "title line and header line come first");
    assert_eq!(ps[4].direction, Direction::Debit);
    assert!(ps[1].references.remittance.is_empty(), "an empty remark is absent");
}

#[test]
fn in_push_alert_sample_with_nested_remitter() {
    let ps = ok(ALERTS.0, ALERTS.1);
    assert_eq!(ps.len(), 4);
    assert_eq!(ps[0].key(), ps[3].key(), "a re-sent alert is the same payment");
    assert_eq!(ps[1].amount.amount(), dec!(275000.50), "a JSON number keeps its exact text");
    assert_eq!(ps[2].value_date, date(2026, 11, 21), "second date format");
    assert_eq!(ps[0].payer_name.as_deref(), Some("Priya Venkataraman"));
    assert!(ps[0]
        .references
        .other
        .iter()
        .any(|(k, v)| k == "alert_sequence" && v.expose() == "000000104571"));
}

/// Done-when: a layout the code has never seen is onboarded by writing one profile file.
#[test]
fn a_new_layout_is_onboarded_with_one_profile_file() {
    // A credit-union export: ISO-8859-1, no line breaks between 60-byte records, Julian dates,
    // amounts with a decimal comma in the detail and cents in the trailer, a trailer that
    // counts every record.
    let toml = r#"
        [profile]
        name = "caisse-populaire-export"
        market = "CA"
        layout = "fixed-width"
        encoding = "iso-8859-1"
        currency = "CAD"
        source_bank = "CAISSE-815"

        [fixed_width]
        record_length = 60
        framing = "fixed"
        record_type = { start = 1, end = 2 }

        [detail]
        code = "20"
        fields.value_date = { start = 3, end = 8, type = "date", format = "0YYDDD" }
        fields.amount = { start = 9, end = 20, type = "amount", decimal = ",", grouping = "none" }
        fields.bank_ref = { start = 21, end = 30 }
        fields.payer_name = { start = 31, end = 60 }

        [trailer]
        code = "99"
        count = "records"
        fields.control_count = { start = 3, end = 8, type = "integer" }
        fields.control_total = { start = 9, end = 22, type = "amount", implied_decimals = 2 }
    "#;
    let rec = |s: String| format!("{s:<60}");
    let mut file = String::new();
    file += &rec(format!("20026075{:>12}{:<10}{}", "1234,50", "CP00000001", "Élodie Bérubé"));
    file += &rec(format!("20026076{:>12}{:<10}{}", "99,99", "CP00000002", "Gaëtan Côté"));
    file += &rec(format!("99000003{:0>14}", 133449));
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&file);
    assert!(!unmappable);
    let ps = ok(toml, &bytes);
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].amount.amount(), dec!(1234.50));
    assert_eq!(ps[0].value_date, date(2026, 3, 16), "Julian 026075");
    assert_eq!(ps[1].payer_name.as_deref(), Some("Gaëtan Côté"));
    assert_eq!(&*ps[1].source_bank, "CAISSE-815");
}

/// Done-when: positions off by one fail on the first file, naming the field and record.
#[test]
fn positions_off_by_one_name_the_field_and_record() {
    // Amount one byte to the left: it takes the credit/debit flag.
    let shifted =
        EFT80.0.replace("start = 3, end = 12, type = \"amount\"", "start = 2, end = 11, type = \"amount\"");
    let e = err(&shifted, EFT80.1).to_string();
    assert!(e.contains("record 2") && e.contains("field amount (cols 2-11)"), "{e}");
    assert!(e.contains("\"C000012500\" is not numeric"), "{e}");

    // Every detail field one byte to the right: the amount still reads, the date does not.
    let mut text = BILLPAY.0.to_string();
    for (from, to) in [(2, 20), (21, 32), (33, 40), (41, 55), (56, 90), (91, 93)] {
        let old = format!("start = {from}, end = {to}");
        assert!(text.contains(&old), "{old}");
        text = text.replacen(&old, &format!("start = {}, end = {}", from + 1, to + 1), 1);
    }
    let e = err(&text, BILLPAY.1);
    let ParseError::Field { location: Location::Record { number, .. }, field, problem, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*number, 2, "{e}");
    assert_eq!(field, "value_date (cols 34-41)", "{e}");
    assert!(problem.contains("\"0260316T\" is not a date in the form YYYYMMDD"), "{e}");
}

#[test]
fn a_control_total_mismatch_names_both_figures() {
    let mut bytes = BILLPAY.1.to_vec();
    // Record 2's amount 000000125000 -> 000000125001.
    let at = 122 + 31;
    assert_eq!(bytes[at], b'0');
    bytes[at] = b'1';
    let e = err(BILLPAY.0, &bytes).to_string();
    assert!(e.contains("record 10") && e.contains("control total mismatch"), "{e}");
    assert!(
        e.contains("control_total (cols 10-23) says 22634.31 but the 8 detail records add up to 22634.32"),
        "{e}"
    );

    let mut dropped = BILLPAY.1.to_vec();
    dropped.drain(122..244);
    let e = err(BILLPAY.0, &dropped).to_string();
    assert!(e.contains("control_count (cols 2-9) says 8 but the file has 7 detail records"), "{e}");

    let mis = String::from_utf8(MIS_A.1.to_vec()).unwrap().replace("16,64,324.28", "16,64,324.29");
    let e = err(MIS_A.0, mis.as_bytes()).to_string();
    assert!(e.contains("line 8") && e.contains("says 1664324.29 but the 6 rows add up to 1664324.28"), "{e}");
}

#[test]
fn wrong_encoding_is_an_error_naming_record_and_field_never_a_replacement_character() {
    let utf8 = BILLPAY.0.replace("encoding = \"windows-1252\"", "encoding = \"utf-8\"");
    let e = err(&utf8, BILLPAY.1).to_string();
    assert!(e.contains("record 3") && e.contains("field payer_name (cols 56-90)"), "{e}");
    assert!(e.contains("byte 0xC8 at col 62 is not a character in UTF-8"), "{e}");
    let latin = BILLPAY.0.replace("encoding = \"windows-1252\"", "encoding = \"iso-8859-1\"");
    assert!(read(&latin, BILLPAY.1).iter().all(Result::is_ok), "no 0x80-0x9F bytes in this sample");
    let ascii_file = EFT80.0.replace("encoding = \"cp037\"", "encoding = \"windows-1252\"");
    let e = err(&ascii_file, EFT80.1).to_string();
    assert!(e.contains("first record must be the header"), "{e}");
}

#[test]
fn structure_errors() {
    let lines: Vec<&[u8]> = BILLPAY.1.split_inclusive(|&b| b == b'\n').collect();
    let no_trailer: Vec<u8> = lines[..lines.len() - 1].concat();
    assert!(err(BILLPAY.0, &no_trailer).to_string().contains("without its trailer record (type \"9\")"));
    let mut unknown = BILLPAY.1.to_vec();
    unknown[122] = b'7';
    let e = err(BILLPAY.0, &unknown).to_string();
    assert!(e.contains("record 2") && e.contains("record type \"7\" is not in the profile"), "{e}");
    let mut long = lines[0].to_vec();
    long.insert(5, b'X');
    assert!(err(BILLPAY.0, &long).to_string().contains("longer than fixed_width.record_length (120)"));
    assert!(err(BILLPAY.0, b"").to_string().contains("file is empty"));
    let mut after = BILLPAY.1.to_vec();
    after.extend_from_slice(lines[1]);
    assert!(err(BILLPAY.0, &after).to_string().contains("record after the trailer"));
}

#[test]
fn profile_errors_name_the_toml_key() {
    let cases = [
        (BILLPAY.0.replace("record_length = 120", "record_lenght = 120"), "record_lenght"),
        (
            BILLPAY.0.replace("start = 56, end = 90", "start = 56, end = 130"),
            "detail.fields.payer_name: end 130 is past record_length 120",
        ),
        (
            BILLPAY.0.replace("start = 56, end = 90", "start = 90, end = 56"),
            "detail.fields.payer_name: start 90 and end 56",
        ),
        (
            BILLPAY.0.replace(
                "type = \"amount\", implied_decimals = 2 }\nfields.value_date",
                "type = \"text\" }\nfields.value_date",
            ),
            "detail.fields.amount.type",
        ),
        (
            BILLPAY.0.replace(
                "format = \"YYYYMMDD\" }\nfields.bank_ref",
                "format = \"YYYYQQ\" }\nfields.bank_ref",
            ),
            "detail.fields.value_date.format",
        ),
        (BILLPAY.0.replace("market = \"CA\"", "market = \"US\""), "profile.market"),
        (BILLPAY.0.replace("code = \"5\"", "code = \"55\""), "detail.code"),
        (BILLPAY.0.replace("encoding = \"windows-1252\"", "encoding = \"cp850\""), "cp850"),
        (MIS_A.0.replace("utr ", "utr_no "), "detail.fields.bank_ref: missing"),
        (MIS_A.0.replace("{ column = \"Mode\" }", "{ column = \"Mode\", start = 3 }"), "detail.fields.mode"),
    ];
    for (text, wanted) in cases {
        let e = Profile::from_toml("p.toml", &text).unwrap_err();
        assert!(matches!(e, ProfileError::Syntax { .. } | ProfileError::InFile { .. }));
        let e = e.to_string();
        assert!(e.starts_with("p.toml") && e.contains(wanted), "{wanted}: {e}");
    }
}

#[test]
fn csv_header_without_a_required_column_lists_what_it_found() {
    let text = String::from_utf8(MIS_A.1.to_vec()).unwrap().replace("UTR No", "Reference");
    let e = err(MIS_A.0, text.as_bytes()).to_string();
    assert!(
        e.contains("line 1") && e.contains("no column for field utr") && e.contains("\"Reference\""),
        "{e}"
    );
    let bad = String::from_utf8(MIS_A.1.to_vec()).unwrap().replace("\"9,800.00\"", "\"98,00.00\"");
    let e = err(MIS_A.0, bad.as_bytes()).to_string();
    assert!(
        e.contains("line 4")
            && e.contains("field amount (column 7 \"Credit Amount\")")
            && e.contains("not numeric"),
        "{e}"
    );
}

#[test]
fn routing_by_prefix_then_content_then_native_detection() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    let routing = Routing::load(&dir.join("routing.toml")).unwrap_or_else(|e| panic!("{e}"));
    let p = |name: &str| Route::Profile(dir.join(name));
    assert_eq!(routing.route("ca/billpay/2026/03/16/f.txt", BILLPAY.1), p("ca-billpay-remittance.toml"));
    assert_eq!(routing.route("ca/cpa005/x", b"A000000001"), Route::Native(Format::Cpa005));
    assert_eq!(routing.route("in/mis/a.csv", MIS_A.1), p("in-ecollect-mis-a.toml"));
    assert_eq!(routing.route("in/mis/b.txt", MIS_B.1), p("in-ecollect-mis-b.toml"));
    assert_eq!(routing.route("in/alerts/x.json", ALERTS.1), p("in-push-alert.toml"));
    let flat = include_bytes!("../../../../samples/in/india_ecollect_alerts_20261121.json");
    assert_eq!(routing.route("in/alerts/y.json", flat), Route::Native(Format::IndiaJson));
    assert_eq!(routing.route("unknown/eft.dat", EFT80.1), p("ca-eft80.toml"), "EBCDIC H by content");
    assert_eq!(routing.route("elsewhere/b.txt", BILLPAY.1), p("ca-billpay-remittance.toml"));
    let camt = include_bytes!("../../../../samples/eu/camt054-v02-sepa-credits.xml");
    assert_eq!(routing.route("eu/other/c.xml", camt), Route::Native(Format::Camt054));
    assert_eq!(routing.route("x", b"hello"), Route::Unknown);
    for (name, text) in [("ca-billpay-remittance.toml", BILLPAY.0), ("in-push-alert.toml", ALERTS.0)] {
        let loaded = Profile::load(&dir.join(name)).unwrap();
        assert_eq!(loaded.plan.name, profile(text).plan.name);
    }
    let bad =
        Routing::from_toml("r.toml", &dir, "[[route]]\nprefix = \"x/\"\nnative = \"bai2\"\n").unwrap_err();
    assert!(bad.to_string().contains("route[0].native"), "{bad}");
}

#[test]
fn every_shipped_profile_has_a_summary() {
    for (text, _) in [BILLPAY, EFT80, MIS_A, MIS_B, ALERTS] {
        let s = profile(text).summary();
        assert!(s.contains("amount"), "{s}");
    }
}

proptest! {
    #[test]
    fn hostile_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), cut in any::<usize>()) {
        for (text, sample) in [BILLPAY, EFT80, MIS_A, MIS_B, ALERTS] {
            prop_assert!(read(text, &bytes).len() < 10_000);
            let mut m = sample.to_vec();
            for (i, b) in bytes.iter().enumerate().take(8) {
                let at = (cut.wrapping_add(i * 7919)) % (m.len() + 1);
                if at < m.len() { m[at] = *b; }
            }
            let _ = read(text, &m[..cut % (m.len() + 1)]);
        }
    }
}

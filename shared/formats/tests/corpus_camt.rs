//! Every camt.053 and camt.054 file of the public conformance corpus (genkgo/camt and OCA bank-statement-import
//! test suites) either parses, compared with that parser's own expected values where practical,
//! or fails for a reason named and defended here.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use remit_domain::{Direction, FileId, PayerAccount, Payment};
use remit_formats::{ParseError, SourceContext};
use rust_decimal::Decimal;
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/eu");
    dir.is_dir().then_some(dir)
}

fn read(path: &Path) -> Result<Vec<Payment>, ParseError> {
    let bytes = std::fs::read(path).unwrap();
    let ctx = SourceContext {
        file_id: FileId::of_bytes(&bytes),
        file_name: path.file_name().unwrap().to_string_lossy().into_owned().into(),
    };
    let reader = BufReader::new(File::open(path).unwrap());
    let (_, stream) = remit_formats::open(ctx, reader)?;
    stream.collect()
}

/// genkgo's JSON holds amounts in minor units, signed by the entry's direction.
fn minor(m: &Value) -> (Decimal, String) {
    let amount: i64 = m["getAmount"].as_str().unwrap().parse().unwrap();
    let code = m["getCurrency"]["getCode"].as_str().unwrap().to_string();
    (Decimal::new(amount.abs(), 2), code)
}

/// genkgo's transaction details: the list's first item is "__RECURSIVITY__" for the singular
/// `getTransactionDetail`.
fn genkgo_details(entry: &Value) -> Vec<Value> {
    entry["getTransactionDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| if d.is_string() { entry["getTransactionDetail"].clone() } else { d.clone() })
        .collect()
}

/// Checks our payments against genkgo's expected JSON: count, amounts, currency, references.
fn compare_with_genkgo(xml: &Path, payments: &[Payment]) {
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(xml.with_extension("json")).unwrap()).unwrap();
    let entries = json["getEntries"].as_array().unwrap();
    let mut expected = Vec::new();
    for e in entries {
        let details = genkgo_details(e);
        if details.is_empty() {
            expected.push((e.clone(), None));
        } else {
            expected.extend(details.into_iter().map(|d| (e.clone(), Some(d))));
        }
    }
    assert_eq!(payments.len(), expected.len(), "{}: payment count", xml.display());
    for (p, (e, d)) in payments.iter().zip(&expected) {
        let amount_json =
            d.as_ref().and_then(|d| d.get("getAmount").filter(|a| !a.is_null())).unwrap_or(&e["getAmount"]);
        let (amount, ccy) = minor(amount_json);
        assert_eq!(p.amount.amount(), amount, "{}: amount", xml.display());
        assert_eq!(p.amount.currency().code(), ccy, "{}: currency", xml.display());
        let Some(d) = d else { continue };
        let refs = &d["getReference"];
        let e2e = refs.get("getEndToEndId").and_then(Value::as_str);
        assert_eq!(p.references.end_to_end_id.as_ref().map(|r| r.expose()), e2e);
        if let Some(uetr) = refs.get("getUuidEndToEndReference").and_then(Value::as_str) {
            assert!(p.references.other.iter().any(|(k, v)| k == "uetr" && v.expose() == uetr));
        }
        let rmt = &d["getRemittanceInformation"];
        if let Some(blocks) = rmt.get("getUnstructuredBlocks").and_then(Value::as_array) {
            let lines: Vec<String> = blocks
                .iter()
                .map(|b| {
                    let block = if b.is_string() { &rmt["getUnstructuredBlock"] } else { b };
                    block["getMessage"].as_str().unwrap().to_string()
                })
                .collect();
            let ours: Vec<&str> = p.references.remittance.iter().map(|r| r.expose()).collect();
            assert_eq!(ours, lines, "{}: remittance lines", xml.display());
        }
    }
}

/// The `'amount': X` values of an OCA golden file (Python literal dump), in order.
fn oca_amounts(golden: &Path) -> Vec<Decimal> {
    let text = std::fs::read_to_string(golden).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("'amount': "))
        .map(|v| v.trim_end_matches(',').parse::<f64>().unwrap())
        .map(|f| Decimal::from_f64_retain(f).unwrap().round_dp(2))
        .collect()
}

fn signed(p: &Payment) -> Decimal {
    match p.direction {
        Direction::Credit => p.amount.amount(),
        Direction::Debit => -p.amount.amount(),
    }
}

/// A refusal: the stream's last item is an error containing every `needle`.
fn refused(name: &str, result: Result<Vec<Payment>, ParseError>, needles: &[&str]) {
    let err = result.expect_err(name).to_string();
    for n in needles {
        assert!(err.contains(n), "{name}: {err} lacks {n:?}");
    }
}

#[test]
fn every_corpus_camt_file_parses_or_is_refused_for_a_known_reason() {
    let Some(dir) = corpus() else {
        eprintln!("corpus absent, skipping");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("camt-genkgo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("camt05") && name.ends_with(".xml")
        })
        .collect();
    files.sort();
    for oca in
        ["test-camt053", "test-camt053-no-ntry", "test-camt053-txdtls", "test-camt053.zip", "test-camt054"]
    {
        files.push(dir.join("camt-oca").join(oca));
    }
    assert_eq!(files.len(), 22, "{files:?}");

    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = read(path);
        match name.as_str() {
            // v2: one SEK entry of 200000.00 holding three TxDtls that carry no amount at all.
            // Splitting the entry amount three ways would invent amounts, and posting it three
            // times would triple it: a record-level oddity (issue 13; the file was refused
            // before). The entry is read as one payment, the details' texts kept, for a person.
            "camt054.v2.xml" => {
                let payments = result.unwrap();
                assert_eq!(payments.len(), 1);
                assert_eq!(payments[0].amount.to_string(), "200000.00 SEK");
                assert_eq!(payments[0].references.remittance.len(), 3, "every detail's text");
                assert!(
                    payments[0].warnings[0].contains("3 TxDtls and 3 carry no amount"),
                    "{:?}",
                    payments[0].warnings
                );
            }
            // These three fixtures are cut down to exercise one feature (account name, UETR,
            // financial-institution creditor) and have neither ValDt nor BookgDt. A record-level
            // oddity, not the file's integrity (issue 13; they were refused before): the
            // entry's value date falls back on the notification's CreDtTm, and the payment
            // carries a warning that sends it to a person.
            "camt054.v2.with-account-name.xml"
            | "camt054.v8-with-UETR.xml"
            | "camt054.v8-with-financial-institution.xml" => {
                let payments = result.unwrap();
                compare_with_genkgo(path, &payments);
                assert_eq!(payments.len(), 1);
                assert_eq!(payments[0].value_date.to_string(), "2007-10-18");
                let w = payments[0].warnings.join("\n");
                assert!(
                    w.contains("no ValDt nor BookgDt: value date 2007-10-18 taken from the Ntfctn's CreDtTm"),
                    "{w}"
                );
            }
            // v4 and v8: the known trap. The batch says 2 transactions totalling 6.3 CHF, holds
            // three TxDtls (3.1 + 3.2 + 3.2 CHF CRDT) under a 200000 SEK DBIT entry. Keep the
            // details, flag every payment for a person.
            "camt054.v4.xml" | "camt054.v8.xml" => {
                let payments = result.unwrap();
                compare_with_genkgo(path, &payments);
                assert_eq!(payments.len(), 3);
                for p in &payments {
                    assert_eq!(p.direction, Direction::Credit, "TxDtls CdtDbtInd overrides");
                    assert_eq!(&*p.source_bank, "UBSWCHZH80A");
                    assert_eq!(p.payer_name.as_deref(), Some("UNIFITS GmbH"));
                    let w = p.warnings.join("\n");
                    assert!(w.contains("NbOfTxs 2 but holds 3"), "{w}");
                    assert!(w.contains("TtlAmt 6.30 CHF"), "{w}");
                    assert!(w.contains("TxDtls says CRDT but the entry says DBIT"), "{w}");
                    assert!(matches!(p.payer_account, Some(PayerAccount::Iban(_))));
                }
                assert_eq!(payments[0].bank_ref, "ACSR160617103200001/1");
                // The first two carry Swiss ISR references (proprietary type), the third claims
                // SCOR but is free text: kept raw, flagged.
                assert!(payments[0].references.other.iter().any(|(k, _)| k == "creditor_ref_proprietary"));
                assert_eq!(
                    payments[2].references.creditor_reference.as_ref().unwrap().expose(),
                    "Ref number V3 block 1"
                );
                assert!(payments[2].warnings.iter().any(|w| w.contains("ISO 11649")));
            }
            // Statements whose balances chain (or that have none to chain): parsed and compared
            // with genkgo's own reading.
            "camt053.v2.with-account-name.xml" => {
                let payments = result.unwrap();
                compare_with_genkgo(path, &payments);
                assert!(payments.iter().all(|p| p.format == remit_domain::SourceFormat::Camt053));
            }
            // Two statements, one entry each; genkgo's JSON lists the last statement's entries
            // only, so that one is compared and the count checked here.
            "camt053.v2.multi.statement.xml" => {
                let payments = result.unwrap();
                assert_eq!(payments.len(), 2);
                assert_eq!((payments[0].source.record, payments[1].source.record), (1, 2));
                compare_with_genkgo(path, &payments[1..]);
            }
            // genkgo's statement fixtures are hand-made: the closing balance is in SEK while the
            // opening balance and the entries are in EUR. Refused: a statement's control total is
            // opening + booked entries = closing; balances in another currency cannot satisfy it,
            // and posting from a statement that does not reconcile is how money goes missing.
            "camt053.v2.minimal.xml"
            | "camt053.v2.minimal.ultimate.xml"
            | "camt053.v2.with-party-ids.xml"
            | "camt053.v3.xml" => {
                refused(&name, result, &["statement 253EURNL26VAYB8060476890", "other currencies"]);
            }
            // Same currency, but the figures do not add up (18.15 + 8.85 = 27.00, not 27.05;
            // 1.01 + 8.85 is not 4.04): refused with both figures named.
            "camt053.v2.five.decimals.xml" => {
                refused(&name, result, &["18.15 EUR", "27.00 EUR", "27.05 EUR", "control total disagrees"]);
            }
            "camt053.v2.all-balance-types.xml" => {
                refused(&name, result, &["CAMT0532015012200001", "9.86 EUR", "4.04 EUR"]);
            }
            // v4 and v8 statements: the transaction details carry a zero amount, a record-level
            // oddity since issue 13 (a line of zero amount is read and counted apart from the
            // payments; it was refused at the amount before). The files are still refused, for
            // their integrity: the same hand-made balances as the v2 and v3 fixtures (OPBD in EUR,
            // CLBD in SEK) cannot form a control total.
            "camt053.v4.xml" | "camt053.v8.xml" => {
                refused(&name, result, &["statement 253EURNL26VAYB8060476890", "other currencies"]);
            }
            // Deliberately broken: BkToCstmrStmt without any Stmt (the schema requires one).
            "camt053.v2.wrong.xml" => refused(&name, result, &["holds no Stmt"]),
            // OCA's statement: 15568.27 - 754.25 - 664.05 + 1405.31 = 15555.28, but CLBD says
            // 15121.12. The zip holds the same statement twice (ids /2 and /3), same figures.
            // Refused for the control total (the payments before the error are not to be posted).
            "test-camt053" => refused(&name, result, &["1234Test/1", "15555.28 EUR", "15121.12 EUR"]),
            "test-camt053.zip" => {
                refused(&name, result, &["test-camt053.zip!test-camt053_02.xml", "control total disagrees"])
            }
            // A statement with balances and no entries: nothing to post, nothing wrong.
            "test-camt053-no-ntry" => assert!(result.unwrap().is_empty()),
            // Swiss statement with batch details: amounts as OCA's golden output has them, and
            // the QRR references kept as proprietary creditor references.
            "test-camt053-txdtls" => {
                let payments = result.unwrap();
                let ours: Vec<Decimal> = payments.iter().map(signed).collect();
                assert_eq!(ours, oca_amounts(&dir.join("camt-oca/golden-camt053-txdtls.pydata")));
                assert!(payments.iter().all(|p| p.amount.currency().code() == "CHF"));
            }
            // OCA: one 5.00 EUR credit whose debtor IBAN fails mod-97: kept, flagged.
            "test-camt054" => {
                let payments = result.unwrap();
                assert_eq!(payments.len(), 1);
                let ours: Vec<Decimal> = payments.iter().map(signed).collect();
                assert_eq!(ours, oca_amounts(&dir.join("camt-oca/golden-camt054.pydata")));
                let p = &payments[0];
                assert_eq!(p.amount.to_string(), "5.00 EUR");
                assert_eq!(&*p.source_bank, "NL77ABNA0574908765");
                assert_eq!(p.bank_ref, "15180015077602405");
                assert_eq!(p.payer_name.as_deref(), Some("Test Customer"));
                assert_eq!(p.payer_account, Some(PayerAccount::Other("NL46ABNA0499998748".into())));
                assert!(p.warnings.iter().any(|w| w.contains("NL46ABNA0499998748")), "{:?}", p.warnings);
                // A Swiss QRR reference (Prtry): a reference, but not an ISO 11649 one.
                assert!(p.references.creditor_reference.is_none());
                assert!(p
                    .references
                    .other
                    .iter()
                    .any(|(k, v)| k == "creditor_ref_proprietary"
                        && v.expose() == "000000000000000000000000003"));
                assert_eq!(p.references.end_to_end_id.as_ref().unwrap().expose(), "ENDTOENDID-01");
                assert_eq!(p.value_date.to_string(), "2022-01-26");
            }
            other => panic!("unexpected corpus file {other}"),
        }
    }
}

use super::*;
use remit_domain::{Direction, PayerAccount};

fn ctx() -> SourceContext {
    crate::test_support::ctx("test.xml")
}

fn parse(xml: impl AsRef<[u8]>) -> Vec<Result<Payment, ParseError>> {
    crate::test_support::read(crate::Format::Camt054, "test.xml", xml.as_ref())
}

fn ok(xml: impl AsRef<[u8]>) -> Vec<Payment> {
    crate::test_support::read_ok(crate::Format::Camt054, "test.xml", xml.as_ref())
}

fn err(xml: impl AsRef<[u8]>) -> String {
    let results = parse(xml);
    let last = results.last().expect("at least one item");
    last.as_ref().expect_err("an error").to_string()
}

/// A whole document of a given version around some `Ntry` elements.
fn doc(version: &str, entries: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">
<BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>
{entries}
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#
    )
}

/// An entry with the usual header and the given details.
fn ntry(amt: &str, details: &str) -> String {
    format!(
        r#"<Ntry><Amt Ccy="EUR">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-19</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt>
<AcctSvcrRef>ASR1</AcctSvcrRef>{details}</Ntry>"#
    )
}

fn tx(amt: &str, inner: &str) -> String {
    format!(r#"<TxDtls><Amt Ccy="EUR">{amt}</Amt>{inner}</TxDtls>"#)
}

#[test]
fn prefixed_namespace_v02() {
    let xml = r#"<?xml version="1.0"?>
<ns2:Document xmlns:ns2="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
<ns2:BkToCstmrDbtCdtNtfctn><ns2:Ntfctn><ns2:Id>N9</ns2:Id>
<ns2:Ntry><ns2:Amt Ccy="EUR">12.50</ns2:Amt><ns2:CdtDbtInd>CRDT</ns2:CdtDbtInd><ns2:Sts>BOOK</ns2:Sts>
<ns2:ValDt><ns2:Dt>2026-11-20</ns2:Dt></ns2:ValDt>
<ns2:NtryDtls><ns2:TxDtls><ns2:Refs><ns2:EndToEndId>E1</ns2:EndToEndId></ns2:Refs>
<ns2:RltdPties><ns2:Dbtr><ns2:Nm>Jürgen Müller</ns2:Nm></ns2:Dbtr></ns2:RltdPties>
<ns2:RmtInf><ns2:Ustrd>Rechnung 1</ns2:Ustrd></ns2:RmtInf></ns2:TxDtls></ns2:NtryDtls>
</ns2:Ntry></ns2:Ntfctn></ns2:BkToCstmrDbtCdtNtfctn></ns2:Document>"#;
    let p = ok(xml);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].amount.to_string(), "12.50 EUR");
    assert_eq!(p[0].payer_name.as_deref(), Some("Jürgen Müller"));
    assert_eq!(p[0].references.remittance[0].expose(), "Rechnung 1");
    assert_eq!(&*p[0].source_bank, "unknown");
    assert_eq!(p[0].bank_ref, "E1", "no AcctSvcrRef: the end-to-end id");
    assert!(p[0].warnings.is_empty(), "{:?}", p[0].warnings);
}

#[test]
fn v02_text_status_and_v08_coded_status() {
    let v02 = doc("02", &ntry("1", "").replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts>PDNG</Sts>"));
    let p = ok(v02);
    assert!(p[0].warnings.iter().any(|w| w == "entry status PDNG: not booked"), "{:?}", p[0].warnings);
    assert!(p[0].references.other.iter().any(|(k, v)| k == "status" && v.expose() == "PDNG"));
    let v08 = doc("08", &ntry("1", "").replace("BOOK", "INFO"));
    let p = ok(v08);
    assert!(p[0].warnings.iter().any(|w| w.contains("INFO: not booked")));
    let booked = ok(doc("08", &ntry("1", "")));
    assert!(booked[0].warnings.is_empty());
    assert_eq!(&*booked[0].source_bank, "COBADEFFXXX");
}

#[test]
fn date_times_give_their_date() {
    let e = ntry("1", "")
        .replace("<Dt>2026-11-19</Dt>", "<DtTm>2026-11-19T23:15:00+01:00</DtTm>")
        .replace("<ValDt><Dt>2026-11-20</Dt></ValDt>", "");
    let p = ok(doc("04", &e));
    assert_eq!(p[0].value_date.to_string(), "2026-11-19", "falls back to BookgDt");
    assert_eq!(p[0].booking_date.unwrap().to_string(), "2026-11-19");
}

#[test]
fn amount_without_decimals() {
    let p = ok(doc("04", &ntry("300", "")));
    assert_eq!(p[0].amount.amount().to_string(), "300.00");
}

#[test]
fn too_many_decimals_names_the_value() {
    let e = err(doc("04", &ntry("1.005", "")));
    assert!(e.contains("1.005"), "{e}");
    assert!(e.contains("Ntfctn/Ntry[1]/Amt"), "{e}");
}

#[test]
fn zero_negative_and_missing_amounts_are_field_errors() {
    // Zero is read (issue 13): the pipeline counts it apart, as a line that moves no money.
    assert!(ok(doc("04", &ntry("0.00", "")))[0].amount.amount().is_zero());
    assert!(err(doc("04", &ntry("-5", ""))).contains("must not be negative"));
    let no_ccy = ntry("5", "").replace(r#" Ccy="EUR""#, "");
    assert!(err(doc("04", &no_ccy)).contains("no Ccy"));
    let two = format!("{}{}", ntry("1", ""), ntry("2", "").replace(r#"<Amt Ccy="EUR">2</Amt>"#, ""));
    let results = parse(doc("04", &two));
    assert_eq!(results.len(), 2, "first entry yields, then the error ends the stream");
    let e = results[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("Ntfctn/Ntry[2]/Amt") && e.contains("missing"), "{e}");
}

#[test]
fn not_provided_end_to_end_id_is_dropped() {
    let d = format!("<NtryDtls>{}</NtryDtls>", tx("1", "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"));
    let p = ok(doc("04", &ntry("1", &d)));
    assert!(p[0].references.end_to_end_id.is_none());
    assert_eq!(p[0].bank_ref, "ASR1/1");
}

#[test]
fn batch_of_three_gives_three_payments() {
    let d = format!(
        r#"<NtryDtls><Btch><NbOfTxs>3</NbOfTxs><TtlAmt Ccy="EUR">60</TtlAmt></Btch>{}{}{}</NtryDtls>"#,
        tx("10", "<Refs><AcctSvcrRef>T1</AcctSvcrRef></Refs>"),
        tx("20", ""),
        tx("30", "")
    );
    let p = ok(doc("08", &ntry("60.00", &d)));
    assert_eq!(p.len(), 3);
    let positions: Vec<u32> = p.iter().map(|p| p.source.position).collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(p[0].bank_ref, "T1");
    assert_eq!(p[1].bank_ref, "ASR1/2");
    assert_eq!(p[2].amount.to_string(), "30.00 EUR");
    assert!(p.iter().all(|p| p.warnings.is_empty() && p.source.record == 1));
}

#[test]
fn batch_that_does_not_add_up_is_flagged_not_refused() {
    let d = format!(
        r#"<NtryDtls><Btch><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">25</TtlAmt></Btch>{}{}{}</NtryDtls>"#,
        tx("10", ""),
        tx("20", ""),
        tx("30", "")
    );
    let p = ok(doc("08", &ntry("60", &d)));
    assert_eq!(p.len(), 3);
    for p in &p {
        let w = p.warnings.join("|");
        assert!(w.contains("NbOfTxs 2 but holds 3"), "{w}");
        assert!(w.contains("TtlAmt 25.00 EUR"), "{w}");
        assert!(!w.contains("entry amount"), "entry amount matches: {w}");
    }
}

#[test]
fn v02_several_entry_details_blocks() {
    let d = format!(
        "<NtryDtls><Btch><NbOfTxs>1</NbOfTxs></Btch>{}</NtryDtls><NtryDtls><Btch><NbOfTxs>1</NbOfTxs></Btch>{}</NtryDtls>",
        r#"<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">4</Amt></TxAmt></AmtDtls></TxDtls>"#,
        r#"<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">6</Amt></TxAmt></AmtDtls></TxDtls>"#
    );
    let p = ok(doc("02", &ntry("10", &d).replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts>BOOK</Sts>")));
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].amount.to_string(), "6.00 EUR");
    assert!(p.iter().all(|p| p.warnings.is_empty()), "{:?}", p[0].warnings);
}

#[test]
fn entry_without_details_is_one_payment() {
    let p = ok(doc("04", &ntry("99.99", "")));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].source.position, 0);
    assert_eq!(p[0].bank_ref, "ASR1");
    assert_eq!(p[0].direction, Direction::Credit);
}

#[test]
fn single_detail_without_amount_takes_the_entry_amount() {
    let d = "<NtryDtls><TxDtls><Refs><UETR>255ae394-9965-4438-ac86-f406feada396</UETR></Refs>\
<RltdPties><UltmtDbtr><Pty><Nm>Rossi SpA</Nm></Pty></UltmtDbtr></RltdPties></TxDtls></NtryDtls>";
    let p = ok(doc("08", &ntry("42", d)));
    assert_eq!(p[0].amount.to_string(), "42.00 EUR");
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi SpA"), "ultimate debtor when no debtor");
    let other: Vec<(&str, &str)> =
        p[0].references.other.iter().map(|(k, v)| (k.as_ref(), v.expose())).collect();
    assert!(other.contains(&("uetr", "255ae394-9965-4438-ac86-f406feada396")), "{other:?}");
    assert!(other.contains(&("ultimate_debtor", "Rossi SpA")));
}

#[test]
fn details_without_amounts_keep_the_file() {
    // Several without amounts: the entry is one payment, for a person (issue 13; refused before).
    let d = "<NtryDtls><TxDtls><RmtInf><Ustrd>A</Ustrd></RmtInf></TxDtls><TxDtls><RmtInf><Ustrd>B</Ustrd></RmtInf></TxDtls></NtryDtls>";
    let p = ok(doc("02", &ntry("42", d)));
    assert_eq!((p.len(), p[0].amount.amount().to_string()), (1, "42.00".to_string()));
    assert!(p[0].warnings[0].contains("2 TxDtls and 2 carry no amount"), "{:?}", p[0].warnings);
    let texts: Vec<&str> = p[0].references.remittance.iter().map(|r| r.expose()).collect();
    assert_eq!(texts, ["A", "B"], "every detail's remittance is kept");
    // One without: the entry's amount less the others'.
    let d = format!("<NtryDtls>{}<TxDtls/></NtryDtls>", tx("40", ""));
    let p = ok(doc("02", &ntry("42", &d)));
    assert_eq!(p[1].amount.amount().to_string(), "2.00");
    assert!(p[1]
        .warnings
        .iter()
        .any(|w| w.contains("TxDtls[2] has no amount: read as the entry amount 42.00 EUR less")));
    // A remainder that is no payment: one payment of the entry.
    let d = format!("<NtryDtls>{}<TxDtls/></NtryDtls>", tx("42", ""));
    assert_eq!(ok(doc("02", &ntry("42", &d))).len(), 1);
}

#[test]
fn invalid_iban_is_kept_and_flagged() {
    let d = format!(
        "<NtryDtls>{}{}</NtryDtls>",
        tx("1", "<RltdPties><DbtrAcct><Id><IBAN>NL46ABNA0499998748</IBAN></Id></DbtrAcct></RltdPties>"),
        tx(
            "1",
            "<RltdPties><DbtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></DbtrAcct></RltdPties>"
        )
    );
    let p = ok(doc("04", &ntry("2", &d)));
    assert_eq!(p[0].payer_account, Some(PayerAccount::Other("NL46ABNA0499998748".into())));
    assert!(p[0].warnings.iter().any(|w| w.contains("NL46ABNA0499998748")), "{:?}", p[0].warnings);
    assert!(matches!(p[1].payer_account, Some(PayerAccount::Iban(_))));
    assert!(p[1].warnings.is_empty());
}

#[test]
fn other_account_ids_are_kept_verbatim() {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx("1", "<RltdPties><DbtrAcct><Id><Othr><Id>0012-3456</Id></Othr></Id></DbtrAcct></RltdPties>")
    );
    let p = ok(doc("04", &ntry("1", &d)));
    assert_eq!(p[0].payer_account, Some(PayerAccount::Other("0012-3456".into())));
}

#[test]
fn party_wrapper_name_and_structured_reference() {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx(
            "1",
            "<RltdPties><Dbtr><Pty><Nm>Anne-Sophie Dubois</Nm></Pty></Dbtr></RltdPties>\
<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>RF49AMX4412003</Ref></CdtrRefInf></Strd></RmtInf>"
        )
    );
    let p = ok(doc("08", &ntry("1", &d)));
    assert_eq!(p[0].payer_name.as_deref(), Some("Anne-Sophie Dubois"));
    assert_eq!(p[0].references.creditor_reference.as_ref().unwrap().expose(), "RF49AMX4412003");
}

#[test]
fn debit_and_reversal() {
    let e = ntry("1", "").replace("CRDT", "DBIT").replace("<RvslInd>false", "<RvslInd>true");
    let p = ok(doc("04", &e));
    assert_eq!(p[0].direction, Direction::Debit);
    assert!(p[0].reversal);
    assert!(err(doc("04", &ntry("1", "").replace("CRDT", "CRED"))).contains("CRDT or DBIT"));
}

#[test]
fn bom_is_accepted_and_offsets_point_at_the_entry() {
    let xml = doc("08", &format!("{}\n{}", ntry("1", ""), ntry("2", "")));
    let mut bytes = BOM.to_vec();
    bytes.extend_from_slice(xml.as_bytes());
    let p = ok(&bytes);
    assert_eq!(p.len(), 2);
    for (i, p) in p.iter().enumerate() {
        let at = p.source.offset as usize;
        assert!(bytes[at..].starts_with(b"<Ntry>"), "entry {i} offset {at}");
        assert_eq!(p.source.record, i as u64 + 1);
    }
}

/// A camt.053 statement around some entries, with opening and closing balances.
fn stmt(id: &str, opening: &str, closing: &str, entries: &str) -> String {
    format!(
        r#"<Stmt><Id>{id}</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-19</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>
{entries}</Stmt>"#
    )
}

fn doc053(stmts: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId></GrpHdr>{stmts}</BkToCstmrStmt></Document>"#
    )
}

#[test]
fn camt053_statement_balances_chain() {
    let entries = format!(
        "{}{}{}",
        ntry("100", ""),
        ntry("30", "").replace("CRDT", "DBIT"),
        ntry("5", "").replace("BOOK", "PDNG")
    );
    let p = ok(doc053(&stmt("S1", "1000", "1070", &entries)));
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|p| p.format == remit_domain::SourceFormat::Camt053));
    assert_eq!(p[1].direction, Direction::Debit);
    let e = err(doc053(&stmt("S1", "1000", "1075", &entries)));
    assert!(e.contains("statement S1") && e.contains("1000.00 EUR") && e.contains("1075.00 EUR"), "{e}");
    assert!(e.contains("control total"), "{e}");
}

#[test]
fn camt053_reversal_counts_as_its_indicator_says() {
    let rev = ntry("40", "").replace("CRDT", "DBIT").replace("<RvslInd>false", "<RvslInd>true");
    let p = ok(doc053(&stmt("S2", "100", "60", &rev)));
    assert!(p[0].reversal && p[0].direction == Direction::Debit);
}

#[test]
fn camt053_several_statements_and_no_balances() {
    let two = format!("{}{}", stmt("A", "0", "10", &ntry("10", "")), stmt("B", "10", "30", &ntry("20", "")));
    let p = ok(doc053(&two));
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].source.record, 2, "records number the file, not the statement");
    let bad = format!("{}{}", stmt("A", "0", "10", &ntry("10", "")), stmt("B", "10", "31", &ntry("20", "")));
    let e = err(doc053(&bad));
    assert!(e.contains("Stmt[2]") && e.contains("statement B"), "{e}");
    // No balances: nothing to check against.
    let p = ok(doc053(&format!("<Stmt><Id>X</Id>{}</Stmt>", ntry("7", ""))));
    assert_eq!(p.len(), 1);
    // Opening from PRCD when there is no OPBD.
    let prcd = stmt("P", "5", "15", &ntry("10", "")).replace("OPBD", "PRCD");
    assert_eq!(ok(doc053(&prcd)).len(), 1);
}

#[test]
fn other_roots_are_refused_clearly() {
    let e = err(r#"<Document><pain.001><x/></pain.001></Document>"#);
    assert!(e.contains("holds no camt.054 notification, camt.053 statement or camt.052 report"), "{e}");
    // A root that is not a Document may be an envelope: refused once no Document was in it.
    assert!(err("<Invoice/>").contains("no camt message in the file"));
    assert!(err("").contains("no camt message"));
    assert!(err("<Document/>").contains("no camt message"));
    assert!(err("hello").contains("not XML"));
    let e = err("<a><b><c><d><e/></d></c></b></a>");
    assert!(e.contains("no Document within 4 envelope elements"), "{e}");
}

#[test]
fn references_for_linking_reversals() {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx(
            "1",
            "<Refs><InstrId>I1</InstrId><EndToEndId>E1</EndToEndId><TxId>T1</TxId><MndtId>M1</MndtId>\
<UETR>255ae394-9965-4438-ac86-f406feada396</UETR></Refs>"
        )
    );
    let p = ok(doc("08", &ntry("1", &d)));
    let other: Vec<(&str, &str)> =
        p[0].references.other.iter().map(|(k, v)| (k.as_ref(), v.expose())).collect();
    for want in [("tx_id", "T1"), ("instr_id", "I1"), ("mandate_id", "M1"), ("acct_svcr_ref", "ASR1")] {
        assert!(other.contains(&want), "{want:?} in {other:?}");
    }
    assert_eq!(p[0].references.end_to_end_id.as_ref().unwrap().expose(), "E1");
}

#[test]
fn creditor_reference_types() {
    let cri = |tp: &str, r: &str| format!("<Strd><CdtrRefInf>{tp}<Ref>{r}</Ref></CdtrRefInf></Strd>");
    let scor = "<Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>";
    let rmt = format!(
        "<RmtInf><Ustrd>line 1</Ustrd><Ustrd>line 2</Ustrd>{}{}{}</RmtInf>",
        cri(scor, "RF18 5390 0754 7034"),
        cri("<Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>", "210000000003139471430009017"),
        cri("<Tp><CdOrPrtry><Cd>DISP</Cd></CdOrPrtry></Tp>", "D-1")
    );
    let p = ok(doc("08", &ntry("1", &format!("<NtryDtls>{}</NtryDtls>", tx("1", &rmt)))));
    let r = &p[0].references;
    assert_eq!(r.creditor_reference.as_ref().unwrap().expose(), "RF18 5390 0754 7034");
    assert_eq!(r.remittance.iter().map(|r| r.expose()).collect::<Vec<_>>(), ["line 1", "line 2"]);
    let prop: Vec<&str> =
        r.other.iter().filter(|(k, _)| k == "creditor_ref_proprietary").map(|(_, v)| v.expose()).collect();
    assert_eq!(prop, ["210000000003139471430009017", "D-1"]);
    assert!(p[0].warnings.is_empty(), "{:?}", p[0].warnings);
    let bad = format!("<RmtInf>{}</RmtInf>", cri(scor, "RF00 1234"));
    let p = ok(doc("08", &ntry("1", &format!("<NtryDtls>{}</NtryDtls>", tx("1", &bad)))));
    assert_eq!(p[0].references.creditor_reference.as_ref().unwrap().expose(), "RF00 1234", "kept raw");
    assert!(
        p[0].warnings.iter().any(|w| w.contains("SCOR") && w.contains("ISO 11649")),
        "{:?}",
        p[0].warnings
    );
}

#[test]
fn latin1_declared_encoding_is_decoded() {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx("1", "<RltdPties><Dbtr><Nm>Jürgen Müller</Nm></Dbtr></RltdPties>")
    );
    let xml = doc("04", &ntry("1", &d)).replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&xml);
    assert!(bytes.contains(&0xFC), "really latin-1 bytes");
    let p = ok(&bytes[..]);
    assert_eq!(p[0].payer_name.as_deref(), Some("Jürgen Müller"));
}

#[test]
fn escaped_text_and_cdata() {
    let d = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx("1", "<RltdPties><Dbtr><Nm>Smith &amp; Sons</Nm></Dbtr></RltdPties><RmtInf><Ustrd><![CDATA[a<b]]></Ustrd></RmtInf>")
    );
    let p = ok(doc("08", &ntry("1", &d)));
    assert_eq!(p[0].payer_name.as_deref(), Some("Smith & Sons"));
    assert_eq!(p[0].references.remittance[0].expose(), "a<b");
}

#[test]
fn amounts_up_to_the_currency_precision() {
    assert_eq!(ok(doc("04", &ntry("1.5", "")))[0].amount.to_string(), "1.50 EUR");
    let jpy = ntry("1500", "").replace("EUR", "JPY");
    assert_eq!(ok(doc("04", &jpy))[0].amount.to_string(), "1500 JPY");
    let e = err(doc("04", &ntry("1500.5", "").replace("EUR", "JPY")));
    assert!(e.contains("1500.5") && e.contains("JPY"), "{e}");
    let bhd = ntry("1.125", "").replace("EUR", "BHD");
    assert_eq!(ok(doc("04", &bhd))[0].amount.to_string(), "1.125 BHD");
}

#[test]
fn malformed_and_truncated_xml_are_structure_errors() {
    let xml = doc("04", &ntry("1", ""));
    let cut = &xml[..xml.find("<ValDt>").unwrap() + 12];
    let e = err(cut);
    assert!(e.contains("Ntfctn/Ntry[1]/ValDt") || e.contains("end of file"), "{e}");
    let bad = xml.replace("</CdtDbtInd>", "</CdtDbtIndX>");
    let e = err(bad);
    assert!(e.contains("malformed XML") && e.contains("Ntry[1]"), "{e}");
    let results = parse(doc("04", &format!("{}<Ntry><Amt", ntry("1", ""))));
    assert!(results[0].is_ok() && results.last().unwrap().is_err());
}

#[test]
fn generated_files_parse_back() {
    let mut out = Vec::new();
    generate::write(&mut out, 500, 7).unwrap();
    let mut again = Vec::new();
    generate::write(&mut again, 500, 7).unwrap();
    assert_eq!(out, again, "deterministic");
    let p = ok(&out);
    assert_eq!(p.len(), 500);
    assert!(p.iter().all(|p| p.warnings.is_empty()), "{:?}", p.iter().find(|p| !p.warnings.is_empty()));
    assert!(p.iter().any(|p| p.source.position == 0), "some entries without details");
    assert!(p.iter().any(|p| p.source.position >= 2), "some batches");
    assert!(p.iter().any(|p| p.references.creditor_reference.is_some()));
    assert!(p
        .iter()
        .all(|p| matches!(p.payer_account, Some(PayerAccount::Iban(_))) || p.source.position == 0));
}

#[test]
fn project_samples_parse() {
    for (name, bytes, count) in [
        ("v02", &include_bytes!("../../../../samples/eu/camt054-v02-sepa-credits.xml")[..], 4),
        ("v04", &include_bytes!("../../../../samples/eu/camt054-v04-card-payments.xml")[..], 4),
        ("v08", &include_bytes!("../../../../samples/eu/camt054-v08-batch.xml")[..], 5),
    ] {
        let p = ok(bytes);
        assert_eq!(p.len(), count, "{name}");
        for p in &p {
            assert!(
                p.warnings.iter().all(|w| w.contains("PDNG")),
                "{name}: only the pending entry warns: {:?}",
                p.warnings
            );
        }
    }
}

#[test]
fn leaf_text_is_unescaped_and_trimmed_on_every_path() {
    let names = [
        ("<Nm>Smith &amp; Sons</Nm>", "Smith & Sons"),
        ("<Nm>\n   Smith &amp; Sons \t</Nm>", "Smith & Sons"),
        ("<Nm>  Plain Name\n</Nm>", "Plain Name"),
        ("<Nm>\u{a0}Jürgen Müller\u{a0}</Nm>", "Jürgen Müller"),
        ("<Nm>&#x20;&lt;Acme&gt;&#32;</Nm>", "<Acme>"),
        ("<Nm>A<!-- note -->B</Nm>", "AB"),
        ("<Nm>X</Nm>", "X"),
    ];
    for (nm, want) in names {
        let d =
            format!("<NtryDtls>{}</NtryDtls>", tx("1", &format!("<RltdPties><Dbtr>{nm}</Dbtr></RltdPties>")));
        let p = ok(doc("08", &ntry("1", &d)));
        assert_eq!(p[0].payer_name.as_deref(), Some(want), "{nm}");
    }
    let bad = format!(
        "<NtryDtls>{}</NtryDtls>",
        tx("1", "<RltdPties><Dbtr><Nm>a &bogus; b</Nm></Dbtr></RltdPties>")
    );
    let e = err(doc("08", &ntry("1", &bad)));
    assert!(e.contains("bad escape") && e.contains("Nm"), "{e}");
    let blank =
        format!("<NtryDtls>{}</NtryDtls>", tx("1", "<RltdPties><Dbtr><Nm>  </Nm></Dbtr></RltdPties>"));
    assert_eq!(ok(doc("08", &ntry("1", &blank)))[0].payer_name, None);
}

#[test]
fn skipped_elements_are_still_checked() {
    let bk =
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>";
    let xml = doc("08", &ntry("1", bk));
    assert_eq!(ok(&xml).len(), 1);
    // Nested elements of the skipped element's own name, empty ones, prefixed ones.
    let odd = "<BkTxCd><BkTxCd><BkTxCd/></BkTxCd><x:Y xmlns:x=\"urn:x\"><x:Z/></x:Y></BkTxCd><AddtlNtryInf/>";
    assert_eq!(ok(doc("08", &ntry("1", odd))).len(), 1);
    let bad = xml.replace("</SubFmlyCd>", "</SubFmly>");
    let e = err(bad);
    assert!(e.contains("malformed XML") && e.contains("Ntfctn/Ntry[1]/…"), "{e}");
    let cut = &xml[..xml.find("<SubFmlyCd>").unwrap() + 11];
    let e = err(cut);
    assert!(e.contains("unexpected end of file inside Ntfctn/Ntry[1]/…"), "{e}");
    let cut = &xml[..xml.find("<GrpHdr>").unwrap() + 15];
    let e = err(cut);
    assert!(
        e.contains("unexpected end of file inside BkToCstmrDbtCdtNtfctn/…") || e.contains("end of file"),
        "{e}"
    );
}

#[test]
fn ccy_attribute_forms() {
    for amt in [
        r#"<Amt Ccy='EUR'>5</Amt>"#,
        r#"<Amt Ccy = "EUR">5</Amt>"#,
        r#"<Amt  Ccy="EUR">5</Amt>"#,
        r#"<Amt Ccy=" EUR ">5</Amt>"#,
        r#"<Amt xmlns:c="urn:c" c:Ccy="EUR">5</Amt>"#,
        r#"<Amt Ccy="EUR" Other="x">5</Amt>"#,
    ] {
        let x = doc("08", &ntry("5", "").replace(r#"<Amt Ccy="EUR">5</Amt>"#, amt));
        assert_eq!(ok(&x)[0].amount.to_string(), "5.00 EUR", "{amt}");
    }
    let none = doc("08", &ntry("5", "").replace(r#" Ccy="EUR""#, ""));
    assert!(err(none).contains("has no Ccy attribute"));
    let unquoted = doc("08", &ntry("5", "").replace(r#"Ccy="EUR""#, "Ccy=EUR"));
    assert!(err(unquoted).contains("malformed XML attribute"));
    let unknown = doc("08", &ntry("5", "").replace(r#"Ccy="EUR""#, r#"Ccy="ZZZ""#));
    assert!(err(unknown).contains("ZZZ"));
}

#[test]
fn currencies_change_between_amounts() {
    let d = format!(
        "<NtryDtls>{}{}</NtryDtls>",
        tx("1", "").replace("EUR", "CHF"),
        r#"<TxDtls><Amt Ccy="JPY">100</Amt></TxDtls>"#
    );
    let p = ok(doc("08", &format!("{}{}", ntry("2", &d), ntry("3", ""))));
    let amounts: Vec<String> = p.iter().map(|p| p.amount.to_string()).collect();
    assert_eq!(amounts, ["1.00 CHF", "100 JPY", "3.00 EUR"]);
    assert!(p[0].warnings.iter().any(|w| w.contains("mix currencies")), "{:?}", p[0].warnings);
}

#[test]
fn every_payment_of_an_entry_carries_its_status_and_bank() {
    let d = format!("<NtryDtls>{}{}{}</NtryDtls>", tx("1", ""), tx("2", ""), tx("3", ""));
    let p = ok(doc("08", &ntry("6", &d).replace("BOOK", "PDNG")));
    assert_eq!(p.len(), 3);
    for p in &p {
        assert!(p.references.other.iter().any(|(k, v)| k == "status" && v.expose() == "PDNG"));
        assert!(p.warnings.iter().any(|w| w == "entry status PDNG: not booked"), "{:?}", p.warnings);
        assert_eq!(&*p.source_bank, "COBADEFFXXX");
    }
    // A second notification names another bank: its payments say so.
    let second = "<Ntfctn><Id>N2</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>";
    let xml = doc("08", &ntry("1", "")).replace(
        "</Ntfctn>",
        &format!("</Ntfctn>{second}<Acct><Svcr><FinInstnId><BIC>DEUTDEFFXXX</BIC></FinInstnId></Svcr></Acct>{}</Ntfctn>", ntry("2", "")),
    );
    let banks: Vec<String> = ok(xml).iter().map(|p| p.source_bank.to_string()).collect();
    assert_eq!(banks, ["COBADEFFXXX", "DEUTDEFFXXX"]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((0usize..4000, proptest::num::u8::ANY, 0u8..3), 1..6),
    ) {
        let d = format!(
            r#"<NtryDtls><Btch><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="EUR">3</TtlAmt></Btch>{}{}</NtryDtls>"#,
            tx("1", "<Refs><EndToEndId>E</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>Zoë</Nm></Pty></Dbtr></RltdPties>"),
            tx("2", "<RmtInf><Ustrd>3466 712768 42680</Ustrd></RmtInf>")
        );
        let mut bytes = doc("08", &ntry("3", &d)).into_bytes();
        for (at, b, op) in edits {
            if bytes.is_empty() { break; }
            let at = at % bytes.len();
            match op {
                0 => bytes[at] = b,
                1 => { bytes.remove(at); }
                _ => bytes.insert(at, b),
            }
        }
        let results = parse(&bytes);
        // After an error the stream ends.
        if let Some(i) = results.iter().position(Result::is_err) {
            proptest::prop_assert_eq!(i, results.len() - 1);
        }
    }
}

#[test]
fn open_unwraps_gzip_and_stored_zip_and_detects_camt053() {
    use std::io::Write;
    let xml = doc("08", &ntry("3", ""));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(xml.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (f, s) = crate::open(ctx(), &gz[..]).unwrap();
    assert_eq!(f, crate::Format::Camt054);
    assert_eq!(s.filter_map(Result::ok).count(), 1);

    // A stored (method 0) zip with two entries: both are read, in order.
    let zip = crate::test_support::stored_zip(&[("a.xml", xml.as_bytes()), ("b.xml", xml.as_bytes())]);
    let (_, s) = crate::open(ctx(), &zip[..]).unwrap();
    let p: Vec<Payment> = s.collect::<Result<_, _>>().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(&*p[1].source.file, "test.xml!b.xml");
    assert_ne!(p[0].source.file_id, p[1].source.file_id, "entries do not share payment keys");
    // Cut short: an error, not a panic.
    assert!(crate::open(ctx(), &zip[..40]).map(|(_, s)| s.last().unwrap().is_err()).unwrap_or(true));

    let stmt053 = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>"#;
    assert_eq!(crate::detect(stmt053.as_bytes()), Some(crate::Format::Camt053));
}

/// Every result (payments and errors, with their offsets) as one comparable string.
fn windowed(xml: &[u8], chunk: u64) -> Vec<String> {
    CamtReader::new(xml, ctx())
        .with_chunk(chunk)
        .map(|r| match r {
            Ok(p) => format!("{p:?} @{} {:?}", p.source.offset, p.warnings),
            Err(e) => format!("error: {e}"),
        })
        .collect()
}

/// A document with what a window cut can land in: comments and CDATA holding `<`, a
/// processing instruction, an empty element, entities, a skipped subtree, a prefixed name.
fn awkward_doc() -> String {
    let d = format!(
        "<NtryDtls>{}{}</NtryDtls>",
        tx(
            "1",
            "<!-- a < b --><RltdPties><Dbtr><Nm>Smith &amp; Sons</Nm></Dbtr></RltdPties>\
             <RmtInf><Ustrd><![CDATA[x<y]]> and <![CDATA[<z>]]></Ustrd></RmtInf>"
        ),
        tx("2", "<?pi a<b?><AddtlTxInf><a><b/><c>skip &lt; me</c></a></AddtlTxInf><Purp/>")
    );
    doc("08", &format!("{}{}", ntry("3", &d), ntry("4", "")))
}

#[test]
fn window_cuts_never_change_the_result() {
    let xml = awkward_doc();
    let whole = windowed(xml.as_bytes(), CHUNK);
    assert_eq!(whole.len(), 3, "{whole:?}");
    assert!(whole.iter().all(|r| !r.starts_with("error")), "{whole:?}");
    for chunk in 1..=80 {
        assert_eq!(windowed(xml.as_bytes(), chunk), whole, "window of {chunk} bytes");
    }
}

#[test]
fn window_cuts_keep_errors_and_their_offsets() {
    let xml = awkward_doc();
    let cases = [
        xml.replace("</Nm>", "</Nme>"),                 // end tag that does not match
        xml.replace("<!-- a < b -->", "<!-- a < b"),    // comment never closed
        xml.replacen("</Ntry>", "</Ntry></Ntfctn>", 1), // closes too early
        xml.replace("</Document>", ""),                 // truncated
        format!("{xml}</Document>"),                    // end tag with nothing open
    ];
    for bad in cases {
        let whole = windowed(bad.as_bytes(), CHUNK);
        assert!(whole.last().unwrap().starts_with("error"), "{whole:?}");
        for chunk in [1, 2, 3, 7, 16, 61] {
            assert_eq!(windowed(bad.as_bytes(), chunk), whole, "window of {chunk} bytes");
        }
    }
}

proptest::proptest! {
    #[test]
    fn any_window_size_reads_generated_files_alike(seed in 0u64..1000, chunk in 1u64..4096) {
        let mut xml = Vec::new();
        generate::write(&mut xml, 20, seed).unwrap();
        proptest::prop_assert_eq!(windowed(&xml, chunk), windowed(&xml, CHUNK));
    }
}

fn other<'a>(p: &'a Payment, key: &str) -> Option<&'a str> {
    p.references.other.iter().find(|(k, _)| k == key).map(|(_, v)| v.expose())
}

/// A DBIT entry debits the account: its debtor is the account's own side, never the payer; the
/// counterparty is the creditor. Kept as `debtor_*` references, nothing read is lost.
#[test]
fn a_debits_debtor_is_our_side_and_its_creditor_the_counterparty() {
    let pties = "<RltdPties><Dbtr><Nm>Us</Nm></Dbtr>\
<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><UltmtDbtr><Nm>Us Ltd</Nm></UltmtDbtr></RltdPties>";
    let d = format!("<NtryDtls>{}</NtryDtls>", tx("1", pties));
    let p = ok(doc("04", &ntry("1", &d).replace("CRDT", "DBIT")));
    assert_eq!((p[0].payer_name.as_deref(), p[0].payer_account.as_ref()), (None, None));
    assert_eq!(other(&p[0], "debtor_name"), Some("Us"));
    assert_eq!(other(&p[0], "debtor_ultimate"), Some("Us Ltd"));
    assert_eq!(other(&p[0], "debtor_account"), Some("DE89370400440532013000"));
    assert_eq!(
        other(&p[0], "ultimate_debtor"),
        None,
        "the matcher's on-behalf name is the payer's side only"
    );
}

/// The project's recall sample: the 225.00 EUR goes back to the original credit's debtor, named
/// as the creditor of the DBIT reversal, with the cardholder as ultimate creditor.
#[test]
fn the_recall_sample_names_who_the_money_goes_back_to() {
    let p = ok(&include_bytes!("../../../../samples/eu/camt054-v08-reversal.xml")[..]);
    assert!(p[0].reversal && p[0].direction == Direction::Debit);
    assert_eq!(p[0].payer_name.as_deref(), Some("Rossi Costruzioni S.r.l."));
    assert_eq!(
        p[0].payer_account.as_ref().map(ToString::to_string).as_deref(),
        Some("IT59X0306909606100000063112")
    );
    assert_eq!(other(&p[0], "ultimate_creditor"), Some("Luca Rossi"));
    assert_eq!(other(&p[0], "debtor_name"), Some("American Express Europe S.A."));
    assert!(p[0].warnings.is_empty(), "{:?}", p[0].warnings);
}

/// The bounds give the same refusal wherever the window is cut, and a stretch without `<` is
/// searched once, not once per refill (a refill of one byte over 100 KB stays fast).
#[test]
fn bounds_refuse_alike_whatever_the_window() {
    let long_text = doc("08", &ntry("1", &format!("<AddtlNtryInf>{}</AddtlNtryInf>", "t".repeat(100_000))));
    let deep = doc("08", &ntry("1", &format!("{}{}", "<a>".repeat(70), "</a>".repeat(70))));
    let attrs: String = (0..40).map(|i| format!(" a{i}=\"1\"")).collect();
    let many = doc("08", &ntry("1", &format!("<AddtlNtryInf{attrs}/>")));
    for (xml, what) in [
        (long_text, "XML text length exceeds the limit of 65536"),
        (deep, "XML element depth exceeds the limit of 64"),
        (many, "attributes on one XML element exceeds the limit of 32"),
    ] {
        let whole = windowed(xml.as_bytes(), CHUNK);
        assert!(whole.last().unwrap().contains(what), "{whole:?}");
        for chunk in [1, 2, 7, 61, 4096] {
            assert_eq!(windowed(xml.as_bytes(), chunk), whole, "window of {chunk} bytes");
        }
    }
}

//! camt files as banks send them (issue 13): written here from the ISO 20022 message
//! definitions (camt.052.001.08, camt.053.001.08, camt.054.001.08, head.001.001.02), each
//! element quoted where a test depends on it. A record's oddity keeps the file (the payment goes
//! to a person with the reason); only the file's integrity refuses it.

use remit_domain::{Payment, SourceFormat};
use remit_formats::{detect, open_as, Format, ParseError, SourceContext};

fn ctx(name: &str) -> SourceContext {
    SourceContext { file_id: remit_domain::FileId::of_bytes(name.as_bytes()), file_name: name.into() }
}

fn read(format: Format, xml: &str) -> Vec<Result<Payment, ParseError>> {
    open_as(format, ctx("bank.xml"), xml.as_bytes()).collect()
}

fn payments(format: Format, xml: &str) -> Vec<Payment> {
    read(format, xml).into_iter().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{e}"))
}

/// A camt.054.001.08 notification. `GrpHdr/CreDtTm` "Date and time at which the message was
/// created" [1..1]; `Ntfctn/CreDtTm` "Date and time at which the message was created" [0..1].
fn camt054(ntfctn_created: Option<&str>, entries: &str) -> String {
    let created = ntfctn_created.map(|d| format!("<CreDtTm>{d}</CreDtTm>")).unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>NTF-20261120-01</MsgId><CreDtTm>2026-11-20T18:00:00+01:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-1</Id>{created}
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>
{entries}
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"#
    )
}

/// A credit entry with one `TxDtls`. `Ntry/BookgDt` and `Ntry/ValDt` are both [0..1] in
/// ReportEntry10; `TxDtls/RltdDts/IntrBkSttlmDt` "Date on which the amount of money ceases to
/// be available to the agent that owes it and when the amount of money becomes available to
/// the agent to which it is due" [0..1].
fn credit(n: usize, dates: &str, settlement: Option<&str>) -> String {
    let rltd = settlement
        .map(|d| format!("<RltdDts><IntrBkSttlmDt>{d}</IntrBkSttlmDt></RltdDts>"))
        .unwrap_or_default();
    format!(
        r#"<Ntry><NtryRef>{n}</NtryRef><Amt Ccy="EUR">{n}.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>{dates}
<AcctSvcrRef>ASR-{n}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{n}</EndToEndId></Refs><Amt Ccy="EUR">{n}.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<RltdPties><Dbtr><Pty><Nm>Payer {n}</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>CARD ENDING 1004</Ustrd></RmtInf>{rltd}</TxDtls></NtryDtls></Ntry>
"#
    )
}

/// Issue 13: six real camt files whose entries carry no `Sts`, `BookgDt` or `ValDt` were refused
/// whole. 500 entries without dates: every one is read; half take their transaction's
/// interbank settlement date, half the notification's creation date, each with a warning.
#[test]
fn five_hundred_entries_without_dates_are_read_with_fallback_dates_and_warnings() {
    let entries: String =
        (1..=500).map(|n| credit(n, "", if n % 2 == 0 { Some("2026-11-19") } else { None })).collect();
    let ps = payments(Format::Camt054, &camt054(Some("2026-11-20T17:59:00+01:00"), &entries));
    assert_eq!(ps.len(), 500);
    for (i, p) in ps.iter().enumerate() {
        let w = p.warnings.join("\n");
        if (i + 1) % 2 == 0 {
            assert_eq!(p.value_date.to_string(), "2026-11-19");
            assert!(w.contains("taken from TxDtls/RltdDts/IntrBkSttlmDt"), "{w}");
        } else {
            assert_eq!(p.value_date.to_string(), "2026-11-20");
            assert!(w.contains("taken from the Ntfctn's CreDtTm"), "{w}");
        }
        assert!(w.contains("entry has no ValDt nor BookgDt"), "{w}");
    }
    // Without the report's date, the message's `GrpHdr/CreDtTm`.
    let ps = payments(Format::Camt054, &camt054(None, &credit(1, "", None)));
    assert!(ps[0].warnings[0].contains("taken from the message's GrpHdr/CreDtTm"), "{:?}", ps[0].warnings);
    // An entry with its own date carries no such warning.
    let dated = credit(1, "<ValDt><Dt>2026-11-18</Dt></ValDt>", Some("2026-11-19"));
    let ps = payments(Format::Camt054, &camt054(None, &dated));
    assert_eq!((ps[0].value_date.to_string(), ps[0].warnings.len()), ("2026-11-18".to_string(), 0));
}

/// `ValDt/Dt` is an ISODate; some banks print dates no calendar has. The record is read with
/// the last day of that month (30 February), or without the date when no month has it (falling
/// back as for a missing date), and goes to a person, naming the text.
#[test]
fn a_date_no_calendar_has_is_a_warning_of_the_record() {
    let entry = credit(7, "<BookgDt><Dt>2026-02-30</Dt></BookgDt><ValDt><Dt>2026-02-30</Dt></ValDt>", None);
    let ps = payments(Format::Camt054, &camt054(Some("2026-03-02T09:00:00"), &entry));
    let w = ps[0].warnings.join("\n");
    assert!(
        w.contains(
            "ValDt \"2026-02-30\" is not a calendar date: read as 2026-02-28, the last day of its month"
        ),
        "{w}"
    );
    assert!(w.contains("BookgDt \"2026-02-30\" is not a calendar date"), "{w}");
    assert_eq!(ps[0].value_date.to_string(), "2026-02-28");
    let entry = credit(7, "<ValDt><Dt>2026-13-01</Dt></ValDt>", None);
    let ps = payments(Format::Camt054, &camt054(Some("2026-03-02T09:00:00"), &entry));
    let w = ps[0].warnings.join("\n");
    assert!(w.contains("ValDt \"2026-13-01\" is not a calendar date: read without it"), "{w}");
    assert!(w.contains("value date 2026-03-02 taken from the Ntfctn's CreDtTm"), "{w}");
}

/// An entry with no date of its own and nothing to fall back on (no `IntrBkSttlmDt`, no report
/// date, no message date: the schema requires `GrpHdr/CreDtTm`, so the file is broken).
#[test]
fn no_date_anywhere_refuses_the_file() {
    let xml = camt054(None, &credit(1, "", None)).replace("<CreDtTm>2026-11-20T18:00:00+01:00</CreDtTm>", "");
    let e = read(Format::Camt054, &xml).pop().unwrap().unwrap_err().to_string();
    assert!(e.contains("Ntfctn/Ntry[1]/ValDt") && e.contains("no report or message date"), "{e}");
}

/// head.001.001.02 `AppHdr`: `BizMsgIdr` "Unambiguously identifies the Business Message to the
/// MessagingEndpoint that has created the Business Message" [1..1]; `MsgDefIdr` "Contains the
/// MessageIdentifier that defines the BusinessMessage" [1..1]; `CreDt` [1..1]. Banks deliver
/// the header and the `Document` side by side under an envelope element.
#[test]
fn a_document_inside_an_envelope_with_an_application_header_is_read() {
    let doc = camt054(None, &credit(3, "<ValDt><Dt>2026-11-20</Dt></ValDt>", None));
    let doc = doc.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let enveloped = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<env:BizMsgEnvlp xmlns:env="urn:example:envelope">
<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
<Fr><FIId><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></FIId></Fr>
<To><OrgId><Id><OrgId><AnyBIC>AMEXCATTXXX</AnyBIC></OrgId></Id></OrgId></To>
<BizMsgIdr>BMI-20261120-0042</BizMsgIdr><MsgDefIdr>camt.054.001.08</MsgDefIdr>
<CreDt>2026-11-20T18:00:01Z</CreDt></AppHdr>
{doc}
</env:BizMsgEnvlp>"#
    );
    assert_eq!(detect(enveloped.as_bytes()), Some(Format::Camt054));
    let ps = payments(Format::Camt054, &enveloped);
    let plain = payments(Format::Camt054, doc);
    assert_eq!(ps.len(), 1);
    assert_eq!((ps[0].key(), ps[0].amount), (plain[0].key(), plain[0].amount), "the same payment");
    let other: Vec<(&str, &str)> =
        ps[0].references.other.iter().map(|(k, v)| (k.as_ref(), v.expose())).collect();
    assert!(other.contains(&("business_message_id", "BMI-20261120-0042")), "{other:?}");
    assert!(other.contains(&("message_definition", "camt.054.001.08")), "{other:?}");
    // An error inside the enveloped document names its place below the message, as without.
    let bad = enveloped.replace("<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CREDIT</CdtDbtInd>");
    let e = read(Format::Camt054, &bad).pop().unwrap().unwrap_err().to_string();
    assert!(e.contains("bank.xml: element Ntfctn/Ntry[1]/CdtDbtInd"), "{e}");
    // A transport wrapper around the envelope is looked through too.
    let wrapped = format!(
        "<Transport><Payload>{}</Payload></Transport>",
        enveloped.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
    );
    assert_eq!(payments(Format::Camt054, &wrapped).len(), 1);
}

/// camt.052.001.08 `BkToCstmrAcctRpt/Rpt` [1..*], the intraday account report. `Ntry/Sts/Cd`
/// is an ExternalEntryStatus1Code: BOOK "Booked", PDNG "Pending: booking on the account owner's
/// account in the account servicer's ledger has not been completed", INFO "Information". A
/// booked credit is a payment; a pending one is not (it comes again, booked).
#[test]
fn an_intraday_report_yields_its_booked_credits_only() {
    let xml = intraday(&[("ASR-1", "BOOK", "120.00"), ("ASR-2", "PDNG", "75.00"), ("ASR-3", "INFO", "9.00")]);
    assert_eq!(detect(xml.as_bytes()), Some(Format::Camt052));
    let ps = payments(Format::Camt052, &xml);
    assert_eq!(ps.len(), 1, "only the booked entry");
    assert_eq!((ps[0].bank_ref.as_str(), ps[0].format), ("ASR-1/1", SourceFormat::Camt052));
    assert!(ps[0].warnings.is_empty(), "{:?}", ps[0].warnings);
}

/// The intraday report and the evening statement carry the same booking (same servicer, same
/// `AcctSvcrRef`): both readings give the same payment key, so it posts once.
#[test]
fn the_intraday_and_the_statement_reading_of_one_booking_share_a_key() {
    let intraday = payments(Format::Camt052, &intraday(&[("ASR-1", "BOOK", "120.00")]));
    let statement = payments(Format::Camt053, &statement("120.00"));
    assert_eq!(intraday[0].key(), statement[0].key());
    assert_eq!(statement[0].format, SourceFormat::Camt053);
}

/// A camt.052 with booked and pending entries: `entries` are (AcctSvcrRef, status, amount).
pub fn intraday(entries: &[(&str, &str, &str)]) -> String {
    let ntry: String = entries
        .iter()
        .map(|(asr, sts, amt)| {
            format!(
                r#"<Ntry><Amt Ccy="EUR">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>{sts}</Cd></Sts>
<BookgDt><DtTm>2026-11-20T10:15:00+01:00</DtTm></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>{asr}</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E-{asr}</EndToEndId></Refs><Amt Ccy="EUR">{amt}</Amt>
<RltdPties><Dbtr><Pty><Nm>Marie Dupont</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>CARD ENDING 1004</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08">
<BkToCstmrAcctRpt><GrpHdr><MsgId>RPT-20261120-1100</MsgId><CreDtTm>2026-11-20T11:00:00+01:00</CreDtTm></GrpHdr>
<Rpt><Id>RPT-1</Id><CreDtTm>2026-11-20T11:00:00+01:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>
<Bal><Tp><CdOrPrtry><Cd>ITBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1120.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>2026-11-20T11:00:00+01:00</DtTm></Dt></Bal>
{ntry}</Rpt></BkToCstmrAcctRpt></Document>"#
    )
}

/// The evening camt.053 repeating the booking `ASR-1` of `amount`, with balances that chain
/// (OPBD 1000.00 + amount = CLBD).
pub fn statement(amount: &str) -> String {
    let closing = 1000 + amount.split('.').next().unwrap().parse::<u32>().unwrap();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
<BkToCstmrStmt><GrpHdr><MsgId>STMT-20261120</MsgId><CreDtTm>2026-11-20T22:00:00+01:00</CreDtTm></GrpHdr>
<Stmt><Id>STMT-1</Id><CreDtTm>2026-11-20T22:00:00+01:00</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Svcr><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></Svcr></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt><AcctSvcrRef>ASR-1</AcctSvcrRef>
<NtryDtls><TxDtls><Refs><EndToEndId>E-ASR-1</EndToEndId></Refs><Amt Ccy="EUR">{amount}</Amt>
<RltdPties><Dbtr><Pty><Nm>Marie Dupont</Nm></Pty></Dbtr></RltdPties><RmtInf><Ustrd>CARD ENDING 1004</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"#
    )
}

/// Without an `AcctSvcrRef`, the `UETR` ("Universally unique identifier to provide an
/// end-to-end reference of a payment transaction", `Refs/UETR` [0..1]) keys the payment, so the
/// intraday and the statement readings still agree. With neither, the intraday payment is keyed
/// by its place in the file, and waits for a person instead of risking a second posting.
#[test]
fn without_a_servicer_reference_the_uetr_keys_the_payment_across_reports() {
    let uetr = "<UETR>8A562C67-CA16-48BA-B074-65581BE6F001</UETR>";
    let no_asr = |xml: String| xml.replace("<AcctSvcrRef>ASR-1</AcctSvcrRef>", "");
    let intraday_xml = no_asr(intraday(&[("ASR-1", "BOOK", "120.00")]))
        .replace("<EndToEndId>", &format!("{uetr}<EndToEndId>"));
    let statement_xml = no_asr(statement("120.00")).replace("<EndToEndId>", &format!("{uetr}<EndToEndId>"));
    let a = payments(Format::Camt052, &intraday_xml);
    let b = payments(Format::Camt053, &statement_xml);
    assert_eq!(a[0].key(), b[0].key());
    assert!(a[0].warnings.is_empty(), "{:?}", a[0].warnings);

    let bare = no_asr(intraday(&[("ASR-1", "BOOK", "120.00")]));
    let p = payments(Format::Camt052, &bare);
    assert!(p[0].warnings.iter().any(|w| w.contains("without AcctSvcrRef or UETR")), "{:?}", p[0].warnings);
}

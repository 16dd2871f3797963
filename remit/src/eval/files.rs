//! Writes the workload into each market's real formats. `remit-formats` only has bulk
//! generators with fixed content, so the files are written here, field by field, to the
//! layouts its readers (and the banks) use.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use remit_domain::Market;
use rust_decimal::Decimal;

use super::workload::{
    files, iban, individual_account, Corporate, GenAccount, GenPayment, PayerAccount, Workload,
};

/// Writes `accounts.csv` and every market's files under `dir`; returns the files in ingest order
/// (a corporate or PAD file only when the workload has payments for it).
pub fn write_all(dir: &Path, w: &Workload, seed: u64) -> Result<Vec<String>> {
    for sub in ["ca", "in", "eu"] {
        fs::create_dir_all(dir.join(sub)).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    write_file(dir, "accounts.csv", accounts_csv(&w.accounts).as_bytes())?;
    let mut order = Vec::new();
    for file in files::ORDER {
        let of: Vec<&GenPayment> = w.payments.iter().filter(|p| p.deliveries.contains(&file)).collect();
        if files::optional(file) && of.is_empty() {
            continue;
        }
        let bytes = match file {
            files::CA_CAD => cpa005_bill_payments(&of, "CAD", b"0101"),
            files::CA_USD => cpa005_bill_payments(&of, "USD", b"0102"),
            files::CA_RESENT => cpa005_bill_payments(&of, "CAD", b"0103"),
            files::CA_PAD => cpa005_pad(&of, b"D", b"0201"),
            files::CA_PAD_RETURNS => cpa005_pad(&of, b"J", b"0202"),
            files::IN_CSV => india_csv(&of).into_bytes(),
            files::IN_JSON => india_json(&w.payments)?.into_bytes(),
            files::EU_MAIN => camt054(&of, &format!("EVAL-{seed}-1")).into_bytes(),
            files::EU_RESENT => camt054(&of, &format!("EVAL-{seed}-RESENT")).into_bytes(),
            corporate => {
                let (corp, round) = w
                    .corporates
                    .iter()
                    .find_map(|c| c.files.iter().position(|f| *f == corporate).map(|r| (c, r)))
                    .with_context(|| format!("{corporate}: no corporate sends it"))?;
                match corp.market {
                    Market::CA => cpa005_corporate(&of, corp, round),
                    _ => camt054(&of, &format!("EVAL-{seed}-CORP{}-{}", corp.originator_id, round + 1))
                        .into_bytes(),
                }
            }
        };
        write_file(dir, file, &bytes)?;
        order.push(file.to_string());
    }
    Ok(order)
}

fn write_file(dir: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(rel);
    fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn money(minor: u64) -> String {
    Decimal::new(minor as i64, 2).to_string()
}

/// The directory CSV `remit accounts import` reads.
pub fn accounts_csv(accounts: &[GenAccount]) -> String {
    let mut s = remit_formats::accounts::HEADER.join(",");
    s.push('\n');
    for a in accounts {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{}",
            a.number,
            a.market.code(),
            a.currency,
            csv_field(&a.holder_name()),
            a.status,
            money(a.statement_minor),
            money(a.minimum_minor),
            a.virtual_account.as_deref().unwrap_or(""),
            a.creditor_reference.as_deref().unwrap_or(""),
            a.control_account.as_deref().unwrap_or(""),
        );
    }
    s
}

// ---- CPA-005 -----------------------------------------------------------------------------
//
// Written from the standard's field definitions (CPA Standard 005, 1464-byte logical records;
// positions 1-based and inclusive, as the standard numbers them). Who is who in a segment: the
// file belongs to its originator (A header 11-20); 20-40 and 81-110 name the other party, the
// payee of a credit (`C`, who receives the money) or the payor of a debit (`D`, whose account is
// debited); 66-80, 111-140 and 170-190 are the originator's. So a client's credit file paying our
// cards names *us* as the payee in every segment, and the payer is its originator; a PAD file we
// originate names the cardmember as the payor.

/// Our name as a client's bank writes the payee of a credit, and as we write the originator of
/// our PAD files (long name).
pub const OUR_NAME: &str = "AMERICAN EXPRESS CANADA";
/// Our originator's short name in our PAD files.
pub const OUR_SHORT_NAME: &str = "AMEX CANADA";

/// Our Canadian bank account (credits are paid into it, PAD returns go to it) and the originator
/// id of the CPA-005 files we send, as the shipped configuration declares them (the first of
/// `own.CA.accounts` and of `own.CA.originator_ids`): the files name us as the pipeline knows us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ours {
    pub institution: String,
    pub transit: String,
    pub account: String,
    pub originator_id: String,
}

impl Ours {
    pub fn ca() -> Self {
        let own = remit_domain::matching::own::OwnPolicy::default().ca;
        let written = own.accounts.first().map(String::as_str).unwrap_or("003-00011-1000019");
        let parts: Vec<&str> = written.split('-').map(str::trim).collect();
        let (institution, transit, account) = match parts.as_slice() {
            [i, t, a] => (i.to_string(), t.to_string(), a.to_string()),
            _ => ("003".into(), "00011".into(), written.chars().filter(char::is_ascii_digit).collect()),
        };
        let originator_id = own.originator_ids.first().cloned().unwrap_or_else(|| "0003099001".into());
        Self { institution, transit, account, originator_id }
    }

    /// `0IIITTTTT/account`: institution id and account no. as a segment writes them.
    fn segment_account(&self) -> String {
        format!("0{}{}/{}", self.institution, self.transit, self.account)
    }
}
/// The bill payment consolidator whose files forward cardmembers' bill payments.
pub const CONSOLIDATOR_ID: &str = "0004120001";

const RECORD_LEN: usize = 1464;
/// Segments start at record position 25 (1-based), six per C/D/J record.
const FIRST_SEGMENT: usize = 25;
const SEGMENT_LEN: usize = 240;
const SEGMENTS: usize = 6;
/// The day the files are created: 2026-11-29.
const CREATION_DAY: u32 = 29;

/// Writes `text` left-justified into positions `from..=to` (1-based) of `buf`, cut to fit; the
/// rest of the field stays blank.
fn alpha(buf: &mut [u8], from: usize, to: usize, text: &[u8]) {
    let n = text.len().min(to + 1 - from);
    buf[from - 1..from - 1 + n].copy_from_slice(&text[..n]);
}

/// Writes `v` right-justified and zero-filled into positions `from..=to` (1-based).
fn numeric(buf: &mut [u8], from: usize, to: usize, mut v: u64) {
    for b in buf[from - 1..to].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Windows-1252 for the Latin-1 range (the same code points), `?` beyond it.
fn cp1252(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 0x100 { c as u32 as u8 } else { b'?' }).collect()
}

/// `0YYDDD` for 2026-11-`day`.
fn julian(day: u32) -> u64 {
    26_000 + 304 + u64::from(day)
}

/// A bank account as `0IIITTTTT/account` (institution id, then account no.), split.
fn institution_and_account(s: &str) -> (&str, &str) {
    s.split_once('/').unwrap_or(("", s))
}

/// The party the originator fields (66-80, 111-140, 141-150, 170-190) name.
struct Originator<'a> {
    name: &'a str,
    user_id: &'a str,
    /// `0IIITTTTT/account`, or empty.
    account: &'a str,
}

/// The party the payee / payor fields (20-40, 81-110) name.
struct Counterparty<'a> {
    name: &'a str,
    /// `0IIITTTTT/account`.
    account: &'a str,
}

/// One payment segment, field by field.
fn segment(
    seg: &mut [u8],
    p: &GenPayment,
    transaction_code: &[u8; 3],
    other: &Counterparty<'_>,
    originator: &Originator<'_>,
) {
    // 1-3 "transaction code" (CPA Standard 007: 450 miscellaneous payments, 701 bill payment PAD).
    alpha(seg, 1, 3, transaction_code);
    // 4-13 "amount", in cents, zero-filled.
    numeric(seg, 4, 13, p.minor);
    // 14-19 "date funds to be available / due date", 0YYDDD.
    numeric(seg, 14, 19, julian(p.day));
    // 20-28 "institution id number" of the payee (credit) / payor (debit): 0 + institution +
    // transit; 29-40 "payee's / payor's account number".
    let (inst, account) = institution_and_account(other.account);
    alpha(seg, 20, 28, inst.as_bytes());
    alpha(seg, 29, 40, account.as_bytes());
    // 41-62 "item trace number".
    alpha(seg, 41, 62, p.bank_ref.as_bytes());
    // 63-65 "stored transaction type": zero-filled by originators.
    numeric(seg, 63, 65, 0);
    // 66-80 "originator's short name".
    alpha(seg, 66, 80, &cp1252(originator.name));
    // 81-110 "payee name" (credit) / "payor name" (debit).
    alpha(seg, 81, 110, &cp1252(other.name));
    // 111-140 "originator's long name".
    alpha(seg, 111, 140, &cp1252(originator.name));
    // 141-150 "originating direct clearer's user's id".
    alpha(seg, 141, 150, originator.user_id.as_bytes());
    // 151-169 "originator's cross reference no." (payers put their card number here).
    if let Some(x) = &p.refs.structured {
        alpha(seg, 151, 169, x.as_bytes());
    }
    // 170-178 "institution id number for returns", 179-190 "account number for returns": the
    // originator's own account.
    let (inst, account) = institution_and_account(originator.account);
    alpha(seg, 170, 178, inst.as_bytes());
    alpha(seg, 179, 190, account.as_bytes());
    // 191-205 "originator's sundry information".
    if let Some(x) = &p.refs.text {
        alpha(seg, 191, 205, &cp1252(x));
    }
    // 206-227 "original item trace number" (returns and reversals only; filler in C/D).
    if let Some(t) = &p.original_trace {
        alpha(seg, 206, 227, t.as_bytes());
    }
    // 228-229 "settlement code", 230-240 "invalid data element id": left blank.
}

/// A CPA-005 file of `record_type` (`C`, `D` or `J`) records, one segment per payment, with
/// its A header and Z trailer.
fn cpa005(
    originator_id: &str,
    file_number: &[u8; 4],
    currency: &str,
    record_type: u8,
    segments: &[(&GenPayment, Vec<u8>)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rec = vec![b' '; RECORD_LEN];
    let mut count = 1u64;
    // A header: 1 "logical record type id"; 2-10 "logical record count"; 11-20 "originator's id";
    // 21-24 "file creation number"; 25-30 "creation date" 0YYDDD; 31-35 "destination data
    // centre"; 56-58 "currency code identifier".
    rec[0] = b'A';
    numeric(&mut rec, 2, 10, count);
    alpha(&mut rec, 11, 20, originator_id.as_bytes());
    alpha(&mut rec, 21, 24, file_number);
    numeric(&mut rec, 25, 30, julian(CREATION_DAY));
    alpha(&mut rec, 31, 35, b"00310");
    alpha(&mut rec, 56, 58, currency.as_bytes());
    out.extend_from_slice(&rec);
    out.extend_from_slice(b"\r\n");
    let (mut items, mut cents) = (0u64, 0u64);
    for chunk in segments.chunks(SEGMENTS) {
        count += 1;
        rec.fill(b' ');
        // Detail: 1 "logical record type id"; 2-10 "logical record count"; 11-24 "originator's
        // id" + "file creation number"; six 240-byte segments from 25.
        rec[0] = record_type;
        numeric(&mut rec, 2, 10, count);
        alpha(&mut rec, 11, 20, originator_id.as_bytes());
        alpha(&mut rec, 21, 24, file_number);
        for (s, (p, seg)) in chunk.iter().enumerate() {
            let at = FIRST_SEGMENT - 1 + s * SEGMENT_LEN;
            rec[at..at + SEGMENT_LEN].copy_from_slice(seg);
            items += 1;
            cents += p.minor;
        }
        out.extend_from_slice(&rec);
        out.extend_from_slice(b"\r\n");
    }
    count += 1;
    rec.fill(b' ');
    // Z trailer: 2-10 "logical record count" (A and Z included); 11-24 as the details; 25-38
    // "total value of debit transactions", 39-46 "total number of debit transactions" (returned
    // debits J count here); 47-60 / 61-68 the same for credits; 69-112 the E and F totals (none).
    let debits = matches!(record_type, b'D' | b'J');
    rec[0] = b'Z';
    numeric(&mut rec, 2, 10, count);
    alpha(&mut rec, 11, 20, originator_id.as_bytes());
    alpha(&mut rec, 21, 24, file_number);
    numeric(&mut rec, 25, 38, if debits { cents } else { 0 });
    numeric(&mut rec, 39, 46, if debits { items } else { 0 });
    numeric(&mut rec, 47, 60, if debits { 0 } else { cents });
    numeric(&mut rec, 61, 68, if debits { 0 } else { items });
    numeric(&mut rec, 69, 112, 0);
    out.extend_from_slice(&rec);
    out.extend_from_slice(b"\r\n");
    out
}

/// The payer's own account in `0IIITTTTT/account` form (empty when none is written).
fn payer_account(p: &GenPayment) -> String {
    match &p.payer_account {
        PayerAccount::Own => individual_account(p.market, p.index),
        PayerAccount::Fixed(a) => a.clone(),
        PayerAccount::Blank => String::new(),
    }
}

/// Credits to our account (payee: us, 20-40 and 81-110), one per payment.
fn credit_segments<'a>(
    payments: &[&'a GenPayment],
    originator: impl Fn(&GenPayment) -> (String, String, String),
) -> Vec<(&'a GenPayment, Vec<u8>)> {
    let ours = Ours::ca().segment_account();
    let payee = Counterparty { name: OUR_NAME, account: &ours };
    payments
        .iter()
        .map(|p| {
            let (name, user_id, account) = originator(p);
            let o = Originator { name: &name, user_id: &user_id, account: &account };
            let mut seg = vec![b' '; SEGMENT_LEN];
            segment(&mut seg, p, b"450", &payee, &o);
            (*p, seg)
        })
        .collect()
}

/// Cardmembers' bill payments forwarded by a consolidator: the file is the consolidator's, and
/// each segment names the cardmember who paid as its originator (66-80, 111-140) with the
/// cardmember's own account for returns (170-190); the payee is us, as in every credit.
fn cpa005_bill_payments(payments: &[&GenPayment], currency: &str, file_number: &[u8; 4]) -> Vec<u8> {
    let segments = credit_segments(payments, |p| {
        (p.payer_name.clone().unwrap_or_default(), CONSOLIDATOR_ID.to_string(), payer_account(p))
    });
    cpa005(CONSOLIDATOR_ID, file_number, currency, b'C', &segments)
}

/// A corporate's own credit file: it is the originator of every segment, under its originator id.
fn cpa005_corporate(payments: &[&GenPayment], corp: &Corporate, round: usize) -> Vec<u8> {
    let segments =
        credit_segments(payments, |_| (corp.name.clone(), corp.originator_id.clone(), corp.account.clone()));
    let number = format!("{:04}", round + 1);
    let number: [u8; 4] = number.as_bytes().try_into().unwrap_or(*b"0001");
    cpa005(&corp.originator_id, &number, "CAD", b'C', &segments)
}

/// Our PAD file (`D`: collections from cardmembers' bank accounts) or its returns (`J`): we are
/// the originator (66-80 short name, 111-140 long name, 170-190 our account), the cardmember the
/// payor (20-40, 81-110), the card in the cross-reference (151-169).
fn cpa005_pad(payments: &[&GenPayment], record_type: &[u8; 1], file_number: &[u8; 4]) -> Vec<u8> {
    let us = Ours::ca();
    let ours = us.segment_account();
    let segments: Vec<(&GenPayment, Vec<u8>)> = payments
        .iter()
        .map(|p| {
            let account = payer_account(p);
            let payor = Counterparty { name: p.payer_name.as_deref().unwrap_or(""), account: &account };
            let o = Originator { name: OUR_NAME, user_id: &us.originator_id, account: &ours };
            let mut seg = vec![b' '; SEGMENT_LEN];
            segment(&mut seg, p, b"701", &payor, &o);
            // 66-80: our short name, where the long name does not fit.
            seg[65..80].fill(b' ');
            alpha(&mut seg, 66, 80, OUR_SHORT_NAME.as_bytes());
            (*p, seg)
        })
        .collect();
    cpa005(&us.originator_id, file_number, "CAD", record_type[0], &segments)
}

// ---- India e-collect ---------------------------------------------------------------------

/// Rupees with Indian lakh grouping: `1,23,456.78`.
pub fn lakh(minor: u64) -> String {
    let rupees = (minor / 100).to_string();
    let mut s = String::new();
    if rupees.len() <= 3 {
        s.push_str(&rupees);
    } else {
        let (head, last3) = rupees.split_at(rupees.len() - 3);
        let first = head.len() % 2;
        if first == 1 {
            s.push_str(&head[..1]);
            s.push(',');
        }
        for pair in head.as_bytes()[first..].chunks(2) {
            s.push_str(std::str::from_utf8(pair).unwrap_or(""));
            s.push(',');
        }
        s.push_str(last3);
    }
    let _ = write!(s, ".{:02}", minor % 100);
    s
}

fn mode(p: &GenPayment) -> &'static str {
    match p.bank_ref.len() {
        12 => "IMPS",
        16 => "NEFT",
        _ => "RTGS",
    }
}

fn remitter(p: &GenPayment) -> (String, &'static str) {
    let ifsc = ["HDFC0001234", "ICIC0000456", "SBIN0004567", "UTIB0000123", "KKBK0000789", "PUNB0123400"];
    (format!("5010{:010}", p.index as u64 * 7_654_321 % 10_000_000_000), ifsc[p.index % ifsc.len()])
}

/// A bank MIS CSV: BOM, CRLF, lakh-grouped quoted amounts, `Total` row.
fn india_csv(payments: &[&GenPayment]) -> String {
    let mut s = String::from("\u{feff}Sr No,UTR No,Virtual Account No,Remitter Name,Remitter A/c No,Remitter IFSC,Amount (INR),Txn Date,Mode,Narration\r\n");
    let mut total = 0u64;
    for (i, p) in payments.iter().enumerate() {
        let (acct, ifsc) = remitter(p);
        total += p.minor;
        let _ = write!(
            s,
            "{},{},{},{},{},{},\"{}\",{:02}-11-2026,{},{}\r\n",
            i + 1,
            p.bank_ref,
            p.refs.structured.as_deref().unwrap_or(""),
            csv_field(p.payer_name.as_deref().unwrap_or("")),
            acct,
            ifsc,
            lakh(p.minor),
            p.day,
            mode(p),
            csv_field(p.refs.text.as_deref().unwrap_or("")),
        );
    }
    if !payments.is_empty() {
        let _ = write!(s, "Total,,,,,,\"{}\",,,\r\n", lakh(total));
    }
    s
}

/// Push alerts: every JSON delivery of every India payment, in payment order (a retried alert
/// follows its first alert).
fn india_json(payments: &[GenPayment]) -> Result<String> {
    let mut alerts = Vec::new();
    let mut seq = 104_000u64;
    for p in payments.iter().filter(|p| p.market == Market::IN) {
        for _ in p.deliveries.iter().filter(|d| **d == files::IN_JSON) {
            seq += 1;
            let (acct, ifsc) = remitter(p);
            let amount = Decimal::new(p.minor as i64, 2).to_string();
            let mut alert = serde_json::Map::new();
            let mut put = |k: &str, v: serde_json::Value| {
                alert.insert(k.to_string(), v);
            };
            put("Alert Sequence No", format!("{seq:012}").into());
            put("Virtual Account", p.refs.structured.clone().unwrap_or_default().into());
            put("Account Number", "000405099999".into());
            put("Debit Credit", "C".into());
            put("Mnemonic Code", mode(p).into());
            put("Transaction Amount", amount.into());
            put("Transaction Description", p.refs.text.clone().unwrap_or_default().into());
            put("Value Date", format!("{:02}-11-2026 10:{:02}:00", p.day, seq % 60).into());
            put("Remitter Name", p.payer_name.clone().unwrap_or_default().into());
            put("Remitter Account", acct.into());
            put("Remitter IFSC", ifsc.into());
            put("User Reference Number", p.bank_ref.clone().into());
            put("Currency", p.currency.into());
            alerts.push(serde_json::Value::Object(alert));
        }
    }
    let doc = serde_json::json!({ "GenericCorporateAlertRequest": alerts });
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

// ---- camt.054 ------------------------------------------------------------------------------

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A camt.054.001.08 notification: one booked credit entry with one `TxDtls` per payment.
fn camt054(payments: &[&GenPayment], msg_id: &str) -> String {
    let own = iban("DE", "500700100093764321");
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\n\
<BkToCstmrDbtCdtNtfctn>\n\
<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>\n\
<Ntfctn>\n<Id>{msg_id}-N1</Id><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm>\n\
<Acct><Id><IBAN>{own}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BICFI>DEUTDEFFXXX</BICFI></FinInstnId></Svcr></Acct>\n"
    );
    for p in payments {
        let amount = Decimal::new(p.minor as i64, 2);
        let date = format!("2026-11-{:02}", p.day);
        let debtor_iban = match &p.payer_account {
            PayerAccount::Own => Some(individual_account(Market::EU, p.index)),
            PayerAccount::Fixed(a) => Some(a.clone()),
            PayerAccount::Blank => None,
        };
        let e2e = match &p.refs.end_to_end {
            Some(e) => xml(e),
            None if p.index % 3 == 0 => "NOTPROVIDED".to_string(),
            None => format!("E2E{:010}", p.index),
        };
        let _ = write!(
            s,
            "<Ntry><Amt Ccy=\"{cur}\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>\
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt>\
<AcctSvcrRef>{r}-E</AcctSvcrRef>\
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\
<NtryDtls><TxDtls><Refs><AcctSvcrRef>{r}</AcctSvcrRef><EndToEndId>{e2e}</EndToEndId></Refs>\
<Amt Ccy=\"{cur}\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>",
            cur = p.currency,
            r = xml(&p.bank_ref),
        );
        if let Some(name) = &p.payer_name {
            let _ = write!(s, "<Dbtr><Pty><Nm>{}</Nm></Pty></Dbtr>", xml(name));
        }
        if let Some(iban) = debtor_iban {
            let _ = write!(s, "<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>");
        }
        s.push_str("</RltdPties>");
        if p.refs.structured.is_some() || p.refs.text.is_some() {
            s.push_str("<RmtInf>");
            if let Some(t) = &p.refs.text {
                let _ = write!(s, "<Ustrd>{}</Ustrd>", xml(t));
            }
            if let Some(rf) = &p.refs.structured {
                let _ = write!(
                    s,
                    "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{}</Ref></CdtrRefInf></Strd>",
                    xml(rf)
                );
            }
            s.push_str("</RmtInf>");
        }
        s.push_str("</TxDtls></NtryDtls></Ntry>\n");
    }
    s.push_str("</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n");
    s
}

#[cfg(test)]
mod tests {
    use remit_domain::model::ids::FileId;
    use remit_domain::{PayerAccount as Account, Payment, RECORD_TYPE};
    use remit_formats::cpa005::Cpa005Reader;
    use remit_formats::SourceContext;

    use super::super::workload::{build, scenario as sc};
    use super::*;

    /// The segments of a written CPA-005 file: (record type, segment bytes).
    fn segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for rec in bytes.split(|b| *b == b'\n').map(|r| r.strip_suffix(b"\r").unwrap_or(r)) {
            if !matches!(rec.first(), Some(b'C' | b'D' | b'J')) {
                continue;
            }
            assert_eq!(rec.len(), RECORD_LEN);
            for s in 0..SEGMENTS {
                let at = FIRST_SEGMENT - 1 + s * SEGMENT_LEN;
                let seg = &rec[at..at + SEGMENT_LEN];
                if seg.iter().any(|b| *b != b' ') {
                    out.push((rec[0], seg.to_vec()));
                }
            }
        }
        out
    }

    /// Positions `from..=to` (1-based) of a segment, trimmed.
    fn field(seg: &[u8], from: usize, to: usize) -> String {
        String::from_utf8_lossy(&seg[from - 1..to]).trim().to_string()
    }

    fn written() -> (tempfile::TempDir, Workload) {
        let dir = tempfile::tempdir().unwrap();
        let w = build(300, 4);
        write_all(dir.path(), &w, 4).unwrap();
        (dir, w)
    }

    fn read(dir: &Path, file: &str) -> Vec<Payment> {
        let bytes = fs::read(dir.join(file)).unwrap();
        let ctx = SourceContext { file_id: FileId::of_bytes(&bytes), file_name: file.into() };
        Cpa005Reader::new(std::io::BufReader::new(&bytes[..]), ctx).map(|p| p.unwrap()).collect()
    }

    fn canadian(account: &str) -> Account {
        let (inst, account) = institution_and_account(account);
        Account::Canadian {
            institution: inst[1..4].into(),
            transit: inst[4..9].into(),
            account: account.into(),
        }
    }

    /// Field by field, by the standard's definitions: in every credit we are the payee (20-40,
    /// 81-110) and the payer the originator (66-80, 111-140, 170-190); in our PAD file we are the
    /// originator and the cardmember the payor.
    #[test]
    fn segments_put_each_party_where_the_standard_defines_it() {
        let (dir, w) = written();
        let corp = w.corporates.iter().find(|c| c.market == Market::CA).unwrap();
        let bytes = fs::read(dir.path().join(corp.files[0])).unwrap();
        assert_eq!(&bytes[10..20], corp.originator_id.as_bytes(), "A header 11-20: the corporate's id");
        let us = Ours::ca();
        for (kind, seg) in segments(&bytes) {
            assert_eq!(kind, b'C');
            assert_eq!(field(&seg, 20, 28), format!("0{}{}", us.institution, us.transit), "payee: ours");
            assert_eq!(field(&seg, 29, 40), us.account);
            assert_eq!(field(&seg, 81, 110), OUR_NAME, "payee name: ours");
            assert_eq!(field(&seg, 111, 140), corp.name, "originator's long name: the payer");
            assert_eq!(field(&seg, 66, 80), corp.name[..15].trim_end());
            assert_eq!(format!("{}/{}", field(&seg, 170, 178), field(&seg, 179, 190)), corp.account);
        }
        let bills = fs::read(dir.path().join(files::CA_CAD)).unwrap();
        assert_eq!(&bills[10..20], CONSOLIDATOR_ID.as_bytes());
        let payers: Vec<&GenPayment> =
            w.payments.iter().filter(|p| p.deliveries.first() == Some(&files::CA_CAD)).collect();
        let segs = segments(&bills);
        assert_eq!(segs.len(), payers.len());
        for ((_, seg), p) in segs.iter().zip(&payers) {
            assert_eq!(field(seg, 81, 110), OUR_NAME);
            assert_eq!(field(seg, 41, 62), p.bank_ref);
            match &p.payer_name {
                Some(name) => {
                    let name = cp1252(name);
                    let n = name.len().min(30);
                    assert_eq!(seg[110..110 + n], name[..n], "originator's long name: the payer");
                }
                None => assert_eq!(field(seg, 66, 80) + &field(seg, 111, 140) + &field(seg, 170, 190), ""),
            }
        }
        let pad = fs::read(dir.path().join(files::CA_PAD)).unwrap();
        assert_eq!(&pad[10..20], us.originator_id.as_bytes());
        for (kind, seg) in segments(&pad) {
            assert_eq!(kind, b'D');
            assert_eq!(field(&seg, 111, 140), OUR_NAME, "originator: us");
            assert_eq!(field(&seg, 66, 80), OUR_SHORT_NAME);
            assert_eq!(
                field(&seg, 170, 190),
                us.segment_account().replace('/', ""),
                "returns to our account"
            );
            assert_ne!(field(&seg, 81, 110), OUR_NAME, "payor: the cardmember");
            assert_eq!(field(&seg, 151, 169).len(), 15, "the card in the cross-reference");
        }
        let returns = segments(&fs::read(dir.path().join(files::CA_PAD_RETURNS)).unwrap());
        assert!(!returns.is_empty());
        let traces: Vec<String> = segments(&pad).iter().map(|(_, s)| field(s, 41, 62)).collect();
        for (kind, seg) in returns {
            assert_eq!(kind, b'J');
            assert!(traces.contains(&field(&seg, 206, 227)), "the original item trace at 206-227");
        }
    }

    /// The crate's reader takes a credit's payer from the originator's fields and a debit's from
    /// the payor's, and marks the record type (the CPA-005 reader fix; fails before it lands).
    #[test]
    fn the_reader_reads_a_credits_payer_as_its_originator() {
        let (dir, w) = written();
        for corp in w.corporates.iter().filter(|c| c.market == Market::CA) {
            for p in read(dir.path(), corp.files[0]) {
                assert_eq!(p.payer_name.as_deref(), Some(corp.name.as_str()));
                assert_eq!(p.payer_account, Some(canadian(&corp.account)));
                assert!(p.references.other.iter().any(|(k, v)| k == RECORD_TYPE && v.expose() == "C"));
            }
        }
        let by_ref: std::collections::HashMap<&str, &GenPayment> =
            w.payments.iter().map(|p| (p.bank_ref.as_str(), p)).collect();
        let mut own_only = 0;
        for p in read(dir.path(), files::CA_CAD) {
            let g = by_ref[p.bank_ref.as_str()];
            assert_eq!(p.payer_name, g.payer_name, "{}", g.scenario);
            if g.scenario == sc::OWN_IDENTITY_PAYEE {
                own_only += 1;
                assert_eq!(p.payer_account, None, "only our fields are filled");
            } else {
                assert_eq!(p.payer_account, Some(canadian(&individual_account(Market::CA, g.index))));
            }
        }
        assert!(own_only > 0);
        for p in read(dir.path(), files::CA_PAD) {
            let g = by_ref[p.bank_ref.as_str()];
            assert_eq!(p.payer_name, g.payer_name, "the payor");
            assert!(p.references.other.iter().any(|(k, v)| k == RECORD_TYPE && v.expose() == "D"));
        }
    }
}

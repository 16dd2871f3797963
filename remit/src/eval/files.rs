//! Writes the workload into each market's real formats. `remit-formats` only has bulk
//! generators with fixed content, so the files are written here, field by field, to the
//! layouts its readers (and the banks) use.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use remit_domain::Market;
use rust_decimal::Decimal;

use super::workload::{files, GenAccount, GenPayment, Workload};

/// Writes `accounts.csv` and every market's files under `dir`; returns the files in ingest order.
pub fn write_all(dir: &Path, w: &Workload, seed: u64) -> Result<Vec<String>> {
    for sub in ["ca", "in", "eu"] {
        fs::create_dir_all(dir.join(sub)).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    write_file(dir, "accounts.csv", accounts_csv(&w.accounts).as_bytes())?;
    let of = |market: Market, file: &str| -> Vec<&GenPayment> {
        w.payments.iter().filter(|p| p.market == market && p.deliveries.contains(&file)).collect()
    };
    write_file(dir, files::CA_CAD, &cpa005(&of(Market::CA, files::CA_CAD), "CAD", b"0101", seed))?;
    write_file(dir, files::CA_USD, &cpa005(&of(Market::CA, files::CA_USD), "USD", b"0102", seed))?;
    write_file(dir, files::CA_RESENT, &cpa005(&of(Market::CA, files::CA_RESENT), "CAD", b"0103", seed))?;
    write_file(dir, files::IN_CSV, india_csv(&of(Market::IN, files::IN_CSV)).as_bytes())?;
    write_file(dir, files::IN_JSON, india_json(&w.payments)?.as_bytes())?;
    write_file(
        dir,
        files::EU_MAIN,
        camt054(&of(Market::EU, files::EU_MAIN), &format!("EVAL-{seed}-1")).as_bytes(),
    )?;
    write_file(
        dir,
        files::EU_RESENT,
        camt054(&of(Market::EU, files::EU_RESENT), &format!("EVAL-{seed}-RESENT")).as_bytes(),
    )?;
    Ok(files::ORDER.iter().map(|s| s.to_string()).collect())
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

const RECORD_LEN: usize = 1464;
const FIRST_SEGMENT: usize = 24;
const SEGMENT_LEN: usize = 240;
const ORIGINATOR: &[u8; 10] = b"0003099001";

fn put(rec: &mut [u8], at: usize, len: usize, text: &[u8]) {
    let n = text.len().min(len);
    rec[at..at + n].copy_from_slice(&text[..n]);
}

fn put_num(rec: &mut [u8], at: usize, len: usize, mut v: u64) {
    for b in rec[at..at + len].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Windows-1252 for the Latin-1 range (the same code points), `?` beyond it.
fn cp1252(s: &str) -> Vec<u8> {
    s.chars().map(|c| if (c as u32) < 0x100 { c as u32 as u8 } else { b'?' }).collect()
}

/// Day of year of 2026-11-`day`.
fn julian(day: u32) -> u64 {
    304 + u64::from(day)
}

/// A CPA-005 file of credits (transaction code 450), six segments per `C` record.
fn cpa005(payments: &[&GenPayment], currency: &str, file_number: &[u8; 4], seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rec = vec![b' '; RECORD_LEN];
    let mut count = 1u64;
    rec[0] = b'A';
    put_num(&mut rec, 1, 9, count);
    put(&mut rec, 10, 10, ORIGINATOR);
    put(&mut rec, 20, 4, file_number);
    rec[24] = b'0';
    put_num(&mut rec, 25, 2, 26);
    put_num(&mut rec, 27, 3, 333);
    put(&mut rec, 30, 5, b"00310");
    put(&mut rec, 55, 3, currency.as_bytes());
    out.extend_from_slice(&rec);
    out.extend_from_slice(b"\r\n");
    let (mut credits, mut credit_cents) = (0u64, 0u64);
    for chunk in payments.chunks(6) {
        count += 1;
        rec.fill(b' ');
        rec[0] = b'C';
        put_num(&mut rec, 1, 9, count);
        put(&mut rec, 10, 10, ORIGINATOR);
        put(&mut rec, 20, 4, file_number);
        for (s, p) in chunk.iter().enumerate() {
            let seg = FIRST_SEGMENT + s * SEGMENT_LEN;
            put(&mut rec, seg, 3, b"450");
            put_num(&mut rec, seg + 3, 10, p.minor);
            rec[seg + 13] = b'0';
            put_num(&mut rec, seg + 14, 2, 26);
            put_num(&mut rec, seg + 16, 3, julian(p.day));
            put(&mut rec, seg + 19, 9, b"000300011");
            put_num(&mut rec, seg + 28, 12, 5_000_000 + (p.index as u64 * 7919 + seed) % 90_000_000);
            put(&mut rec, seg + 40, 22, p.bank_ref.as_bytes());
            put(&mut rec, seg + 62, 3, b"000");
            put(&mut rec, seg + 65, 15, b"AMEX CANADA");
            put(&mut rec, seg + 80, 30, &cp1252(p.payer_name.as_deref().unwrap_or("")));
            put(&mut rec, seg + 110, 30, b"AMERICAN EXPRESS CANADA");
            put(&mut rec, seg + 140, 10, ORIGINATOR);
            if let Some(x) = &p.refs.structured {
                put(&mut rec, seg + 150, 19, x.as_bytes());
            }
            if let Some(x) = &p.refs.text {
                put(&mut rec, seg + 190, 15, x.as_bytes());
            }
            credits += 1;
            credit_cents += p.minor;
        }
        out.extend_from_slice(&rec);
        out.extend_from_slice(b"\r\n");
    }
    count += 1;
    rec.fill(b' ');
    rec[0] = b'Z';
    put_num(&mut rec, 1, 9, count);
    put(&mut rec, 10, 10, ORIGINATOR);
    put(&mut rec, 20, 4, file_number);
    put_num(&mut rec, 24, 14, 0);
    put_num(&mut rec, 38, 8, 0);
    put_num(&mut rec, 46, 14, credit_cents);
    put_num(&mut rec, 60, 8, credits);
    rec[68..112].fill(b'0');
    out.extend_from_slice(&rec);
    out.extend_from_slice(b"\r\n");
    out
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

/// ISO 13616 check digits for a country code and BBAN.
fn iban(cc: &str, bban: &str) -> String {
    let mut rem: u32 = 0;
    for c in bban.chars().chain(cc.chars()).chain("00".chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("{cc}{:02}{bban}", 98 - rem)
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
        let debtor_iban = iban("DE", &format!("{:018}", 500_105_170_000_000_000u64 + p.index as u64 * 7919));
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
            e2e = if p.index % 3 == 0 { "NOTPROVIDED".to_string() } else { format!("E2E{:010}", p.index) },
        );
        if let Some(name) = &p.payer_name {
            let _ = write!(s, "<Dbtr><Pty><Nm>{}</Nm></Pty></Dbtr>", xml(name));
        }
        let _ = write!(s, "<DbtrAcct><Id><IBAN>{debtor_iban}</IBAN></Id></DbtrAcct></RltdPties>");
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

//! Synthetic camt.054.001.08 notifications, deterministic from a seed, for benchmarks and load
//! tests (100 MB files): no rand crate, one buffered write per entry.

use crate::synth::Rng;
use std::io::{self, Write};

/// The EU card accounts of `samples/accounts.csv`: card number as payers write it, RF
/// reference, holder. Some generated payments point at them so matching has hits.
const ACCOUNTS: [(&str, &str, &str); 5] = [
    ("3466 712768 42680", "RF06AMX4412001", "Sophie Müller"),
    ("3765 632122 33079", "RF76AMX4412002", "Luca Rossi"),
    ("3444 026852 95287", "RF49AMX4412003", "Anne-Sophie Dubois"),
    ("3478 666617 60310", "RF22AMX4412004", "Jan de Vries"),
    ("3472 159010 92813", "RF92AMX4412005", "Ewa Kowalska"),
];

/// Given names of EU payers, accents and all; shared with other generators of test data.
pub const FIRST: [&str; 16] = [
    "Sophie", "Luca", "Anne", "Jan", "Ewa", "José", "Zoë", "Björn", "Łukasz", "Chloé", "Jürgen", "Inês",
    "Søren", "Dragan", "Aurélie", "Matteo",
];
/// Family names of EU payers (particles, apostrophes, non-Latin-1 letters).
pub const LAST: [&str; 20] = [
    "Müller",
    "Rossi",
    "Dubois",
    "de Vries",
    "Kowalska",
    "García",
    "Novák",
    "Nielsen",
    "Papadopoulos",
    "Schmidt",
    "Lefèvre",
    "Fernández",
    "Horváth",
    "Jansen",
    "Wiśniewski",
    "Moreau",
    "Bianchi",
    "Weber",
    "O'Brien",
    "Van den Berg",
];
const COUNTRIES: [(&str, usize); 6] =
    [("DE", 18), ("FR", 23), ("NL", 14), ("AT", 16), ("ES", 20), ("BE", 12)];

/// A valid IBAN (mod-97 check digits computed) with a numeric BBAN: NL wants letters, so its
/// bank code is a fixed `ABNA`.
fn iban(rng: &mut Rng) -> String {
    let (cc, len) = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
    let mut bban = String::with_capacity(len);
    if cc == "NL" {
        bban.push_str("ABNA");
    }
    while bban.len() < len {
        bban.push(char::from(b'0' + rng.below(10) as u8));
    }
    with_check_digits(cc, &bban)
}

/// Computes ISO 13616 check digits for a country code and BBAN.
pub(crate) fn with_check_digits(cc: &str, bban: &str) -> String {
    let mut rem: u32 = 0;
    for c in bban.chars().chain(cc.chars()).chain("00".chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("{cc}{:02}{bban}", 98 - rem)
}

fn amount(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Writes a camt.054.001.08 notification with `payments` payments (one `TxDtls` each, or an
/// entry without details), batches of 2-6 among them. Same seed, same bytes.
pub fn write(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let dates: Vec<String> = (1..=28).map(|d| format!("2026-11-{d:02}")).collect();
    let own_iban = with_check_digits("DE", "500700100093764321");
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\">\n\
<BkToCstmrDbtCdtNtfctn>\n\
<GrpHdr><MsgId>GEN-{seed}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>\n\
<Ntfctn>\n<Id>GEN-{seed}-1</Id><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm>\n\
<Acct><Id><IBAN>{own_iban}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BICFI>DEUTDEFFXXX</BICFI></FinInstnId></Svcr></Acct>\n"
    )?;
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut left = payments;
    let mut entry = 0u64;
    let mut txs: Vec<u64> = Vec::with_capacity(8);
    while left > 0 {
        entry += 1;
        out.clear();
        let kind = rng.below(40);
        let n = match kind {
            0 => 0,
            1..=5 => (2 + rng.below(5)).min(left),
            _ => 1,
        };
        txs.clear();
        for _ in 0..n.max(1) {
            txs.push(100 + rng.below(250_000));
        }
        let total: u64 = txs.iter().sum();
        let date = &dates[rng.below(28) as usize];
        write!(
            out,
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>\
<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt>\
<AcctSvcrRef>GEN{seed}E{entry}</AcctSvcrRef>\
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>",
            amount(total)
        )?;
        out.push(b'\n');
        if n > 0 {
            out.extend_from_slice(b"<NtryDtls>");
            if n > 1 {
                write!(
                    out,
                    "<Btch><NbOfTxs>{n}</NbOfTxs><TtlAmt Ccy=\"EUR\">{}</TtlAmt><CdtDbtInd>CRDT</CdtDbtInd></Btch>",
                    amount(total)
                )?;
            }
            for (i, cents) in txs.iter().enumerate() {
                let first = FIRST[rng.below(16) as usize];
                let last = LAST[rng.below(16) as usize]; // the first 16: keeps generated files as they were
                let debtor_iban = iban(&mut rng);
                write!(
                    out,
                    "\n<TxDtls><Refs><AcctSvcrRef>GEN{seed}E{entry}T{}</AcctSvcrRef><EndToEndId>E2E{:012}</EndToEndId></Refs>\
<Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
<RltdPties><Dbtr><Pty><Nm>{first} {last}</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>{debtor_iban}</IBAN></Id></DbtrAcct></RltdPties><RmtInf>",
                    i + 1,
                    rng.next() % 1_000_000_000_000,
                    amount(*cents)
                )?;
                let (card, rf, _) = ACCOUNTS[rng.below(5) as usize];
                match rng.below(10) {
                    0 => write!(
                        out,
                        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{rf}</Ref></CdtrRefInf></Strd>"
                    )?,
                    1 => write!(out, "<Ustrd>AMEX {card} payment</Ustrd>")?,
                    2 => write!(out, "<Ustrd>{rf}</Ustrd>")?,
                    _ => write!(out, "<Ustrd>INV-{:08} {last}</Ustrd>", rng.below(100_000_000))?,
                }
                out.extend_from_slice(b"</RmtInf></TxDtls>");
            }
            out.extend_from_slice(b"</NtryDtls>");
        }
        out.extend_from_slice(b"</Ntry>\n");
        w.write_all(&out)?;
        left -= n.max(1);
    }
    w.write_all(b"</Ntfctn>\n</BkToCstmrDbtCdtNtfctn>\n</Document>\n")?;
    w.flush()
}

//! Inputs for the benchmarks: the synthetic card directory of the matcher and directory-search
//! benchmarks (`directory`), and for the EU reader benchmarks (issue 3) a small deterministic
//! MT940 generator, used when the `remit generate` CLI has no `mt940` format yet (and by the
//! tests that check the peers accept our inputs). The EU benchmark's driver is `scripts/bench-eu`.

pub mod directory;

use std::io::{self, Write};

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const FIRST: [&str; 8] = ["Sophie", "Luca", "Anne", "Jan", "Ewa", "Jose", "Bjoern", "Chloe"];
const LAST: [&str; 8] = ["Mueller", "Rossi", "Dubois", "de Vries", "Kowalska", "Garcia", "Novak", "Nielsen"];
/// Card numbers and RF references of `samples/accounts.csv`, as payers write them.
const REFS: [(&str, &str); 3] = [
    ("3466 712768 42680", "RF06AMX4412001"),
    ("3765 632122 33079", "RF76AMX4412002"),
    ("3444 026852 95287", "RF49AMX4412003"),
];

fn amount(cents: u64) -> String {
    format!("{},{:02}", cents / 100, cents % 100)
}

/// Writes a SWIFT MT940 file with exactly `payments` `:61:` lines (each with a German-style
/// structured `:86:` of `?20`.. sub-fields), in statements of 50 to 250 lines, CRLF line ends,
/// a `-` line after each statement. Opening balance plus lines equals the closing balance.
/// ASCII only. Same seed, same bytes; about 300 bytes per payment.
pub fn write_mt940(w: &mut impl Write, payments: u64, seed: u64) -> io::Result<()> {
    let mut rng = Rng(seed);
    let mut left = payments;
    let mut stmt = 0u64;
    let mut out: Vec<u8> = Vec::with_capacity(128 * 1024);
    while left > 0 {
        stmt += 1;
        out.clear();
        let n = (50 + rng.below(201)).min(left);
        let day = 1 + (stmt - 1) % 28;
        let date = format!("2611{day:02}");
        let opening = 1_000_000 + rng.below(100_000_000);
        let mut balance = opening as i64;
        write!(
            out,
            ":20:G{}S{stmt:06}\r\n:25:DE89370400440532013000\r\n:28C:{:05}/00001\r\n:60F:C{date}EUR{}\r\n",
            seed % 1000,
            stmt % 100_000,
            amount(opening)
        )?;
        for t in 0..n {
            let cents = 100 + rng.below(250_000);
            let debit = rng.below(10) == 0 && balance > cents as i64;
            balance += if debit { -(cents as i64) } else { cents as i64 };
            let first = FIRST[rng.below(8) as usize];
            let last = LAST[rng.below(8) as usize];
            let (card, rf) = REFS[rng.below(3) as usize];
            let e2e = rng.below(1_000_000_000_000);
            write!(
                out,
                ":61:{date}{}{}{}NTRFE2E{:012}//G{stmt}T{t}\r\n:86:{}?00{}?100931?20EREF+E2E{e2e:012}\r\n",
                &date[2..],
                if debit { "D" } else { "C" },
                amount(cents),
                e2e,
                if debit { "109" } else { "166" },
                if debit { "SEPA-RUECKLASTSCHRIFT" } else { "SEPA-GUTSCHRIFT" },
            )?;
            match rng.below(4) {
                0 => write!(out, "?21SVWZ+AMEX {card} payment\r\n")?,
                1 => write!(out, "?21SVWZ+{rf}\r\n")?,
                _ => write!(out, "?21SVWZ+INV-{:08} {last}\r\n", rng.below(100_000_000))?,
            }
            write!(out, "?30DEUTDEFFXXX?31DE{:020}\r\n?32{first} {last}\r\n", rng.below(u64::MAX / 2))?;
        }
        write!(out, ":62F:C{date}EUR{}\r\n-\r\n", amount(balance as u64))?;
        w.write_all(&out)?;
        left -= n;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mt940(payments: u64) -> String {
        let mut v = Vec::new();
        write_mt940(&mut v, payments, 7).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_and_exact_count() {
        let a = mt940(300);
        assert_eq!(a, mt940(300));
        assert_eq!(a.matches("\r\n:61:").count(), 300);
        assert!(a.is_ascii());
    }

    /// The `mt940` crate (with its sanitizer) reads our file and finds every line, and
    /// balances add up, so a peer that gives up early cannot pass as fast.
    #[test]
    fn mt940_crate_reads_every_line() {
        let text = mt940(400);
        let messages = mt940::parse_mt940(&mt940::sanitizers::sanitize(&text)).unwrap();
        let lines: usize = messages.iter().map(|m| m.statement_lines.len()).sum();
        assert_eq!(lines, 400);
        for m in &messages {
            let mut bal = m.opening_balance.amount;
            for l in &m.statement_lines {
                match l.ext_debit_credit_indicator {
                    mt940::ExtDebitOrCredit::Credit => bal += l.amount,
                    _ => bal -= l.amount,
                }
            }
            assert_eq!(bal, m.closing_balance.amount);
        }
    }

    /// Why the bench sanitizes: the strict parser alone refuses a file of several statements.
    #[test]
    fn mt940_crate_needs_its_sanitizer() {
        assert!(mt940::parse_mt940(&mt940(400)).is_err());
    }

    /// The `sepa` crate reads our generated camt.054.001.08 and finds every payment (one per
    /// `TxDtls`, or the entry itself when it has none), once its default limits are raised.
    #[test]
    fn sepa_crate_reads_every_camt054_payment() {
        let mut v = Vec::new();
        remit_formats::generate("camt054", &mut v, 500, 7).unwrap();
        let xml = String::from_utf8(v).unwrap();
        let doc = sepa::parse_camt054(&xml).unwrap();
        let n: usize =
            doc.notifications.iter().flat_map(|n| n.entries.iter()).map(|e| e.details.len().max(1)).sum();
        assert_eq!(n, 500);
    }
}

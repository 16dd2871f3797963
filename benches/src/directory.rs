//! The synthetic card directory both directory benchmarks build (`matcher`, `directory_search`):
//! deterministic accounts with realistic name sharing, tokenised under a given key.

use remit_domain::model::money::Currency;
use remit_domain::text::luhn::luhn_check_digit;
use remit_domain::{Account, AccountStatus, CardKey, Market};
use rust_decimal::Decimal;

const FIRST: [&str; 24] = [
    "Jean",
    "Marie",
    "François",
    "Émilie",
    "Luc",
    "Chloé",
    "Ramesh",
    "Priya",
    "Anil",
    "Lakshmi",
    "Suresh",
    "Kavya",
    "Sophie",
    "Hans",
    "Giulia",
    "Pieter",
    "Ana",
    "Jörg",
    "Élodie",
    "Marco",
    "Deepak",
    "Meera",
    "Olivier",
    "Nathalie",
];
const LAST: [&str; 24] = [
    "Tremblay",
    "Côté",
    "Gagnon",
    "Bélanger",
    "Roy",
    "Lévesque",
    "Kumar",
    "Sharma",
    "Iyer",
    "Reddy",
    "Nair",
    "Gupta",
    "Müller",
    "Schmidt",
    "Rossi",
    "De Vries",
    "García",
    "Weiß",
    "Dubois",
    "Bianchi",
    "Patel",
    "Menon",
    "Lefèvre",
    "Moreau",
];

/// The i-th synthetic account number: 37 + 12 scrambled digits + check digit, distinct per i.
pub fn number(i: u64) -> String {
    let body = (i.wrapping_mul(0x2545_F493) % 1_000_000_000_000) as u128;
    let mut digits = vec![3u8, 7];
    digits.extend(format!("{body:012}").bytes().map(|b| b - b'0'));
    let c = luhn_check_digit(&digits);
    digits.push(c);
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// The i-th account's market: the three in turn.
pub fn market(i: u64) -> Market {
    Market::ALL[(i % 3) as usize]
}

/// A market's card currency.
pub fn currency(m: Market) -> Currency {
    match m {
        Market::CA => Currency::CAD,
        Market::IN => Currency::INR,
        Market::EU => Currency::EUR,
    }
}

/// About 14,000 distinct names (first name, one or two last names): the common ones are shared
/// by hundreds of accounts per market, as in a real directory.
pub fn holder(i: u64) -> String {
    let f = FIRST[(i / 7 % 24) as usize];
    let l = LAST[(i / 173 % 24) as usize];
    let l2 = LAST[(i / 4153 % 24) as usize];
    if i.is_multiple_of(2) && l != l2 {
        format!("{f} {l}-{l2}")
    } else {
        format!("{f} {l}")
    }
}

/// The i-th account (one in 97 closed), without virtual account or RF reference.
pub fn account(i: u64, key: &CardKey) -> Account {
    let m = market(i);
    let balance = Decimal::new(((i * 7919) % 500_000) as i64 + 1000, 2);
    Account {
        status: if i.is_multiple_of(97) { AccountStatus::Closed } else { AccountStatus::Active },
        statement_balance: balance,
        minimum_due: Decimal::new(2500, 2),
        current_balance: balance,
        ..Account::new(key, &number(i).parse().expect("valid by construction"), m, currency(m), &holder(i))
    }
}

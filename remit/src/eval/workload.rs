//! The labelled workload: a card directory with the awkward accounts real directories hold
//! (twins one digit apart, closed and blocked cards, other currencies, corporate control
//! accounts, India virtual accounts, EU RF references), and payments carrying the noise real
//! remittances have, each with the truth about it.

use std::collections::{HashMap, HashSet};

use remit_domain::Market;
use remit_formats::camt::generate::{FIRST as EU_FIRST, LAST as EU_LAST};
use rust_decimal::Decimal;

use super::{Expected, Label};

/// Scenario tags, as they appear in `labels.jsonl` and the score tables.
pub mod scenario {
    /// Scenarios whose payment names the payer's own account (its number, formatted, mistyped
    /// or cut to the last five digits with the name; a closed account's or another currency's):
    /// sent to research, the workbench must offer that account among the candidates.
    pub const NAMES_THE_ACCOUNT: &[&str] = &[
        CLEAN,
        FORMATTED,
        TYPO_NAME_AGREES,
        TRANSPOSITION,
        TYPO_NAME_DIFFERS,
        PARTIAL_LAST5_NAME,
        CLOSED_ACCOUNT,
        WRONG_CURRENCY,
        OTHER_CURRENCY,
        TWIN,
        TWIN_TYPO,
    ];
    /// The account number, plain, in the field made for it (CA cross-reference, EU SCOR RF
    /// reference, India virtual account).
    pub const CLEAN: &str = "clean";
    /// The account number with spaces, dashes, dots or words around it.
    pub const FORMATTED: &str = "formatted";
    /// One wrong digit (Luhn-invalid), one edit from exactly one account; the name agrees.
    pub const TYPO_NAME_AGREES: &str = "typo_name_agrees";
    /// Two adjacent digits swapped (Luhn-invalid), one edit from exactly one account; the name agrees.
    pub const TRANSPOSITION: &str = "transposition";
    /// One wrong digit, one edit from exactly one account, but the payer is someone else.
    pub const TYPO_NAME_DIFFERS: &str = "typo_name_differs";
    /// No reference at all, paid by a third party.
    pub const MISSING_REFERENCE: &str = "missing_reference";
    /// No reference; the payer's name is the cardmember's.
    pub const NAME_ONLY: &str = "name_only";
    /// Only the last five digits, and the cardmember's name.
    pub const PARTIAL_LAST5_NAME: &str = "partial_last5_name";
    /// Only the last five digits, and somebody else's name.
    pub const PARTIAL_LAST5_OTHER_NAME: &str = "partial_last5_other_name";
    /// A clean reference to a closed or blocked account.
    pub const CLOSED_ACCOUNT: &str = "closed_account";
    /// A clean reference, but the payment's currency is not the account's.
    pub const WRONG_CURRENCY: &str = "wrong_currency";
    /// Canada: a USD payment to a USD card account (clean).
    pub const OTHER_CURRENCY: &str = "other_currency";
    /// A clean reference to one of two accounts whose numbers differ in one body digit.
    pub const TWIN: &str = "twin";
    /// A Luhn-invalid number one edit from both twins: ambiguous.
    pub const TWIN_TYPO: &str = "twin_typo";
    /// A valid card number that is not ours.
    pub const UNKNOWN_ACCOUNT: &str = "unknown_account";
    /// Two of our account numbers in one payment: ambiguous.
    pub const TWO_ACCOUNTS: &str = "two_accounts";
    /// A corporate control account's number (clean): applies to the control account.
    pub const CONTROL_ACCOUNT: &str = "control_account";
    /// EU: a payment to a control account whose remittance lists two of its cards with amounts
    /// that add up to the payment: split across the cards, labelled with the control account
    /// (the account the decision names). Every second control-account payment in the EU.
    pub const CONTROL_SPLIT: &str = "control_split";
    /// A clean payment the bank delivers again (India: same UTR in the MIS and in push alerts,
    /// sometimes alerted twice; Canada and EU: a re-sent file holding the same items).
    pub const REDELIVERED: &str = "redelivered";
    /// EU: the RF reference written in the remittance text, compact or in print groups.
    pub const RF_IN_TEXT: &str = "rf_in_text";
    /// India: a virtual account we never issued.
    pub const VA_UNKNOWN: &str = "va_unknown";
    /// A corporate (one payer name, one bank account) paying many of its cards in one file, each
    /// with a clean reference (CA: the card number in the cross-reference; EU: the card's RF
    /// reference, or the card number in the end-to-end id); some pay the same amount (allowances).
    pub const CORPORATE_MANY_CARDS: &str = "corporate_many_cards";
    /// In the same corporate file, a payment with no reference: research. The runner resolves it
    /// to the card in its label, as an analyst would, before the corporate's next file.
    pub const CORPORATE_NO_REFERENCE: &str = "corporate_no_reference";
    /// The corporate's next file of clean payments, after the analyst's resolution taught alias
    /// memory the corporate: it must apply as many as the corporate's first file did.
    pub const AFTER_RESOLUTION: &str = "after_resolution";
    /// Canada: a credit with no reference whose only name and account are ours (the payee's
    /// fields): research; the runner resolves it, and our identity must never be learned.
    pub const OWN_IDENTITY_PAYEE: &str = "own_identity_payee";
    /// No reference; the payer's name is the holder's (written differently), no other active
    /// account in the market has it, and the amount is its statement balance or minimum due.
    pub const NAME_BALANCE_UNIQUE: &str = "name_balance_unique";
    /// The same, but two active accounts share the holder's name: research.
    pub const NAME_BALANCE_SHARED: &str = "name_balance_shared";
    /// Canada: a pre-authorized debit (D) in a PAD file we originate, the card in the
    /// cross-reference. Research unless `own.CA.collect_debits`; then applied to the card.
    pub const PAD_COLLECTION: &str = "pad_collection";
    /// Canada: the collection returned (J, the original item trace at 206-227). Research unless
    /// `own.CA.collect_debits`; then it reverses the collection's posting.
    pub const PAD_RETURN: &str = "pad_return";

    /// Scenarios whose applied payments make up the "typo with agreeing name" rate.
    pub const TYPO_AGREEING: [&str; 2] = [TYPO_NAME_AGREES, TRANSPOSITION];
}

use scenario as sc;

/// Where a payment is delivered, by file.
pub mod files {
    /// Cardmembers' bill payments, forwarded by a bill payment consolidator (its originator id).
    pub const CA_CAD: &str = "ca/cpa005-eval-cad.txt";
    pub const CA_USD: &str = "ca/cpa005-eval-usd.txt";
    pub const CA_RESENT: &str = "ca/cpa005-eval-cad-resent.txt";
    /// Each corporate's own credit files (its originator id): the first, then the next one.
    pub const CA_CORPORATE: [[&str; 2]; 2] = [
        ["ca/cpa005-corporate-1-first.txt", "ca/cpa005-corporate-1-next.txt"],
        ["ca/cpa005-corporate-2-first.txt", "ca/cpa005-corporate-2-next.txt"],
    ];
    /// The PAD file we originate, and the returns our bank sends back for it.
    pub const CA_PAD: &str = "ca/cpa005-pad-collections.txt";
    pub const CA_PAD_RETURNS: &str = "ca/cpa005-pad-returns.txt";
    pub const IN_CSV: &str = "in/ecollect-mis-eval.csv";
    pub const IN_JSON: &str = "in/ecollect-alerts-eval.json";
    pub const EU_MAIN: &str = "eu/camt054-eval.xml";
    pub const EU_RESENT: &str = "eu/camt054-eval-resent.xml";
    pub const EU_CORPORATE: [[&str; 2]; 2] = [
        ["eu/camt054-corporate-1-first.xml", "eu/camt054-corporate-1-next.xml"],
        ["eu/camt054-corporate-2-first.xml", "eu/camt054-corporate-2-next.xml"],
    ];
    /// Ingest order: originals first, then re-deliveries, then the corporates' next files (the
    /// runner resolves research items between files), then the PAD returns.
    pub const ORDER: [&str; 17] = [
        CA_CAD,
        CA_USD,
        CA_CORPORATE[0][0],
        CA_CORPORATE[1][0],
        CA_PAD,
        IN_CSV,
        EU_MAIN,
        EU_CORPORATE[0][0],
        EU_CORPORATE[1][0],
        CA_RESENT,
        IN_JSON,
        EU_RESENT,
        CA_CORPORATE[0][1],
        CA_CORPORATE[1][1],
        EU_CORPORATE[0][1],
        EU_CORPORATE[1][1],
        CA_PAD_RETURNS,
    ];
    /// Files written only when they hold payments (small workloads have no corporate or PAD
    /// blocks); the others are always written.
    pub fn optional(file: &str) -> bool {
        CA_CORPORATE.iter().chain(EU_CORPORATE.iter()).any(|f| f.contains(&file))
            || file == CA_PAD
            || file == CA_PAD_RETURNS
    }
}

/// Scenario weights per market (relative frequencies).
fn weights(market: Market) -> Vec<(&'static str, u32)> {
    let mut w = vec![
        (sc::CLEAN, 28),
        (sc::FORMATTED, 10),
        (sc::TYPO_NAME_AGREES, 8),
        (sc::TRANSPOSITION, 5),
        (sc::TYPO_NAME_DIFFERS, 4),
        (sc::MISSING_REFERENCE, 4),
        (sc::NAME_ONLY, 4),
        (sc::PARTIAL_LAST5_NAME, 4),
        (sc::PARTIAL_LAST5_OTHER_NAME, 2),
        (sc::CLOSED_ACCOUNT, 4),
        (sc::WRONG_CURRENCY, 3),
        (sc::TWIN, 3),
        (sc::TWIN_TYPO, 3),
        (sc::UNKNOWN_ACCOUNT, 3),
        (sc::TWO_ACCOUNTS, 2),
        (sc::REDELIVERED, 6),
        (sc::NAME_BALANCE_UNIQUE, 4),
        (sc::NAME_BALANCE_SHARED, 2),
    ];
    match market {
        Market::CA => {
            w.extend([(sc::OTHER_CURRENCY, 3), (sc::CONTROL_ACCOUNT, 2), (sc::OWN_IDENTITY_PAYEE, 2)])
        }
        Market::EU => w.extend([(sc::RF_IN_TEXT, 4), (sc::CONTROL_ACCOUNT, 2)]),
        Market::IN => w.push((sc::VA_UNKNOWN, 3)),
    }
    w
}

/// A card account of the generated directory.
#[derive(Clone, Debug)]
pub struct GenAccount {
    pub number: String,
    pub market: Market,
    pub currency: &'static str,
    /// First name(s), empty for companies.
    pub first: String,
    /// Surname, or the company name.
    pub last: String,
    pub status: &'static str,
    pub statement_minor: u64,
    pub minimum_minor: u64,
    pub virtual_account: Option<String>,
    pub creditor_reference: Option<String>,
    pub control_account: Option<String>,
    pub kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Regular,
    /// `twin` is the index of the other twin.
    Twin {
        twin: usize,
    },
    Control,
    CorporateCard,
    /// One of two active accounts whose holders have the same name (namesakes).
    Namesake,
}

impl GenAccount {
    pub fn holder_name(&self) -> String {
        if self.first.is_empty() {
            self.last.clone()
        } else {
            format!("{} {}", self.first, self.last)
        }
    }

    fn active(&self) -> bool {
        self.status == "active"
    }
}

/// Where, in the market's format, a payment's references go.
#[derive(Clone, Debug, Default)]
pub struct Refs {
    /// CA: cross-reference (19 chars); EU: SCOR creditor reference; IN: virtual account.
    pub structured: Option<String>,
    /// CA: sundry information (15 chars); EU: unstructured remittance line; IN: narration.
    pub text: Option<String>,
    /// EU: the end-to-end id, when the payer put a reference there (a corporate's ERP writes
    /// the card number); the writer makes one up otherwise.
    pub end_to_end: Option<String>,
}

/// The payer's own bank account, as the payer's bank writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayerAccount {
    /// An individual's account, made up from the payment's index by the writer.
    Own,
    /// A corporate's account, the same in each of its payments: CA `institution id/account`
    /// (`0IIITTTTT/AAAAAAA`), EU IBAN.
    Fixed(String),
    /// None written (CA: the originator's fields are blank, only the payee's, ours, are filled).
    Blank,
}

/// A corporate client paying its cards from one bank account, in files of its own.
#[derive(Clone, Debug)]
pub struct Corporate {
    pub market: Market,
    /// `CA/corporate-1`: how labels name the payer (`Label::payer_group`).
    pub group: String,
    /// The company's name, as its bank writes it.
    pub name: String,
    /// CA: the A header originator id (11-20) of its files.
    pub originator_id: String,
    /// CA `0IIITTTTT/account`, EU IBAN.
    pub account: String,
    /// Its first and next files.
    pub files: [&'static str; 2],
    /// The control account (index into the directory) and its cards.
    pub control: usize,
    pub cards: Vec<usize>,
}

/// One payment of the workload, before it is written into a file.
#[derive(Clone, Debug)]
pub struct GenPayment {
    pub index: usize,
    pub market: Market,
    pub scenario: &'static str,
    pub bank_ref: String,
    pub currency: &'static str,
    pub minor: u64,
    pub payer_name: Option<String>,
    pub refs: Refs,
    pub deliveries: Vec<&'static str>,
    pub account: Option<String>,
    pub expected: Expected,
    pub ambiguous: bool,
    /// Day of November 2026.
    pub day: u32,
    pub payer_account: PayerAccount,
    /// The corporate paying (`Corporate::group`).
    pub group: Option<String>,
    /// The runner resolves its research item to `account`, as an analyst would.
    pub resolve: bool,
    /// What must happen when `own.CA.collect_debits` is on, when it differs.
    pub expected_collecting: Option<Expected>,
    /// A returned item (J): the item trace number of the item it returns.
    pub original_trace: Option<String>,
}

impl GenPayment {
    pub fn amount(&self) -> Decimal {
        Decimal::new(self.minor as i64, 2)
    }

    pub fn label(&self) -> Label {
        Label {
            id: format!("{}-{:06}", self.market.code(), self.index),
            market: self.market.code().to_string(),
            scenario: self.scenario.to_string(),
            file: self.deliveries[0].to_string(),
            deliveries: self.deliveries.iter().map(|s| s.to_string()).collect(),
            bank_ref: self.bank_ref.clone(),
            account: self.account.clone(),
            expected: self.expected,
            ambiguous: self.ambiguous,
            amount: self.amount().to_string(),
            currency: self.currency.to_string(),
            payer_group: self.group.clone(),
            resolve: self.resolve,
            expected_collecting: self.expected_collecting,
        }
    }
}

/// The whole workload.
pub struct Workload {
    pub accounts: Vec<GenAccount>,
    pub payments: Vec<GenPayment>,
    pub corporates: Vec<Corporate>,
}

const CA_FIRST: [&str; 16] = [
    "Jean",
    "Marie-Ève",
    "François",
    "Sylvie",
    "Hélène",
    "Stéphane",
    "Pierre",
    "Gaétan",
    "Michael",
    "Harpreet",
    "Émilie",
    "Luc",
    "Nathalie",
    "David",
    "Sarah",
    "Mathieu",
];
const CA_LAST: [&str; 20] = [
    "Tremblay",
    "Côté",
    "Bélanger",
    "Gagnon",
    "Lévesque",
    "Roy",
    "Gauthier",
    "Morin",
    "Bouchard",
    "Ouellet",
    "Wong",
    "Singh",
    "Pelletier",
    "Bergeron",
    "Leblanc",
    "Fortin",
    "Girard",
    "MacDonald",
    "Nguyen",
    "Chen",
];
const IN_FIRST: [&str; 16] = [
    "Priya",
    "Rajesh Kumar",
    "Ananya",
    "Mohammed Farhan",
    "Suresh",
    "Kavita",
    "Arjun",
    "Lakshmi",
    "Vikram Singh",
    "Deepa",
    "Harpreet Kaur",
    "Sanjay",
    "Venkata Ramana",
    "Meera",
    "Abdul",
    "Sunita",
];
const IN_LAST: [&str; 20] = [
    "Venkataraman",
    "Sharma",
    "Iyer",
    "Qureshi",
    "Reddy",
    "Deshpande",
    "Nair",
    "Subramanian",
    "Rathore",
    "Chatterjee",
    "Gill",
    "Patil",
    "Rao",
    "Menon",
    "Khan",
    "Agarwal",
    "Banerjee",
    "Pillai",
    "Joshi",
    "Mehta",
];
const COMPANIES: [&str; 8] = [
    "Gagnon Holdings Inc.",
    "Lévesque Construction Ltée",
    "Nordlicht Logistik GmbH",
    "Atelier Moreau SARL",
    "Maple Leaf Freight Ltd",
    "Rossi Trasporti S.p.A.",
    "Boréal Consultants Inc.",
    "Hansa Maschinenbau AG",
];
/// Third parties paying for a cardmember without saying whom for.
const THIRD_PARTIES: [&str; 6] = [
    "PAYROLL SERVICES LTD",
    "J SMITH HOLDINGS",
    "EXPENSE REIMBURSEMENT",
    "ESTATE OF THE LATE R MILLER",
    "FAMILY TRUST ACCOUNT",
    "ONLINE BILL PAYMENT",
];

fn names(market: Market) -> (&'static [&'static str], &'static [&'static str]) {
    match market {
        Market::CA => (&CA_FIRST, &CA_LAST),
        Market::EU => (&EU_FIRST, &EU_LAST),
        Market::IN => (&IN_FIRST, &IN_LAST),
    }
}

/// How the matcher's name index keys a name.
fn name_key(name: &str) -> String {
    remit_domain::text::names::NormalName::new(name).key()
}

/// The Luhn check digit (ASCII) that makes `body` (ASCII digits) a valid number.
pub fn luhn_check_digit(body: &[u8]) -> u8 {
    let values: Vec<u8> = body.iter().map(|b| b - b'0').collect();
    b'0' + remit_domain::text::luhn::luhn_check_digit(&values)
}

/// ISO 11649 RF reference for a payload: `RF` + check digits + payload.
pub fn rf_reference(payload: &str) -> String {
    let mut rem: u32 = 0;
    for c in payload.chars().chain("RF00".chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("RF{:02}{payload}", 98 - rem)
}

/// Every number one substitution or one adjacent transposition away from `n`.
fn one_edit(n: &str) -> Vec<String> {
    let b = n.as_bytes();
    let mut out = Vec::with_capacity(150);
    for i in 0..b.len() {
        for d in b'0'..=b'9' {
            if d != b[i] {
                let mut v = b.to_vec();
                v[i] = d;
                out.push(String::from_utf8(v).expect("digits"));
            }
        }
        if i + 1 < b.len() && b[i] != b[i + 1] {
            let mut v = b.to_vec();
            v.swap(i, i + 1);
            out.push(String::from_utf8(v).expect("digits"));
        }
    }
    out
}

fn luhn_ok(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() == 15 && luhn_check_digit(&b[..14]) == b[14]
}

/// Writes a number the way payers do: plain, 4-6-5 with spaces, dashes, dots, or 4-4-4-3.
fn styled(n: &str, style: u32) -> String {
    match style % 5 {
        0 => n.to_string(),
        1 => format!("{} {} {}", &n[..4], &n[4..10], &n[10..]),
        2 => format!("{}-{}-{}", &n[..4], &n[4..10], &n[10..]),
        3 => format!("{}.{}.{}", &n[..4], &n[4..10], &n[10..]),
        _ => format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..]),
    }
}

/// Strips the accents a Latin alphabet keyboard or an old bank system would drop.
pub fn fold_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'À' | 'Á' | 'Â' | 'Ä' => 'A',
            'ç' => 'c',
            'Ç' => 'C',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' | 'Ê' => 'E',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'ø' => 'o',
            'Ø' | 'Ö' => 'O',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'Ü' => 'U',
            'ł' => 'l',
            'Ł' => 'L',
            'ś' => 's',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

struct Gen {
    rng: fastrand::Rng,
    accounts: Vec<GenAccount>,
    numbers: HashSet<String>,
    by_number: HashMap<String, usize>,
    holder_names: HashSet<(Market, String)>,
    next_va: u64,
    next_rf: u64,
}

impl Gen {
    fn fresh_number(&mut self) -> String {
        loop {
            let mut body = Vec::with_capacity(15);
            body.extend_from_slice(if self.rng.bool() { b"34" } else { b"37" });
            for _ in 0..12 {
                body.push(b'0' + self.rng.u8(0..10));
            }
            body.push(luhn_check_digit(&body));
            let n = String::from_utf8(body).expect("digits");
            // No account one edit away: the typo scenarios check their own neighbourhoods.
            if !self.numbers.contains(&n) && self.neighbours(&n).is_empty() {
                return n;
            }
        }
    }

    /// Accounts one edit from `n` (and `n` itself when it is one).
    fn neighbours(&self, n: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self.by_number.get(n).copied().into_iter().collect();
        for x in one_edit(n) {
            if let Some(&i) = self.by_number.get(&x) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// A holder name whose name key (`NormalName::key`: accents, case, order and titles aside,
    /// as the matcher's name index compares names) no other holder of the market has.
    fn fresh_name(&mut self, market: Market, surname: Option<&str>) -> (String, String) {
        let (firsts, lasts) = names(market);
        for _ in 0..10_000 {
            let first = firsts[self.rng.usize(..firsts.len())];
            let last = surname.unwrap_or_else(|| lasts[self.rng.usize(..lasts.len())]);
            // Directories hold many people; middle initials keep our holders distinct ("M." is
            // read as a title, so "Jean M. Tremblay" is no more distinct than "Jean Tremblay").
            let first = if self.holder_names.contains(&(market, name_key(&format!("{first} {last}")))) {
                format!("{first} {}.", char::from(b'A' + self.rng.u8(0..26)))
            } else {
                first.to_string()
            };
            if self.holder_names.insert((market, name_key(&format!("{first} {last}")))) {
                return (first, last.to_string());
            }
        }
        unreachable!("names run out")
    }

    fn push(&mut self, a: GenAccount) -> usize {
        let i = self.accounts.len();
        self.numbers.insert(a.number.clone());
        self.by_number.insert(a.number.clone(), i);
        self.accounts.push(a);
        i
    }

    fn balance(&mut self, market: Market) -> (u64, u64) {
        let statement = match market {
            Market::IN => 50_000 + self.rng.u64(..50_000_000),
            _ => 2_000 + self.rng.u64(..2_000_000),
        };
        let minimum = (statement / 20).max(2_500.min(statement));
        (statement, minimum)
    }

    fn account(&mut self, market: Market, currency: &'static str, status: &'static str, kind: Kind) -> usize {
        let number = self.fresh_number();
        let (first, last) = self.fresh_name(market, None);
        self.account_with(number, market, currency, status, kind, first, last)
    }

    #[allow(clippy::too_many_arguments)]
    fn account_with(
        &mut self,
        number: String,
        market: Market,
        currency: &'static str,
        status: &'static str,
        kind: Kind,
        first: String,
        last: String,
    ) -> usize {
        let (statement_minor, minimum_minor) = if status == "closed" { (0, 0) } else { self.balance(market) };
        let virtual_account = (market == Market::IN).then(|| {
            self.next_va += 1;
            format!("AMEX01{:08}", self.next_va)
        });
        let creditor_reference = (market == Market::EU).then(|| {
            self.next_rf += 1;
            rf_reference(&format!("AMX{:09}", self.next_rf))
        });
        self.push(GenAccount {
            number,
            market,
            currency,
            first,
            last,
            status,
            statement_minor,
            minimum_minor,
            virtual_account,
            creditor_reference,
            control_account: None,
            kind,
        })
    }

    /// A pair of accounts whose numbers differ in one body digit (and so in the check digit).
    fn twins(&mut self, market: Market, currency: &'static str) {
        let a = self.fresh_number();
        let b = loop {
            let mut body = a.as_bytes()[..14].to_vec();
            let i = 2 + self.rng.usize(..12);
            let d = b'0' + self.rng.u8(0..10);
            if d == body[i] {
                continue;
            }
            body[i] = d;
            body.push(luhn_check_digit(&body));
            let b = String::from_utf8(body).expect("digits");
            if !self.numbers.contains(&b) && self.neighbours(&b).is_empty() {
                break b;
            }
        };
        let (first_a, last) = self.fresh_name(market, None);
        let (first_b, _) = self.fresh_name(market, Some(&last));
        let ia = self.accounts.len();
        self.account_with(a, market, currency, "active", Kind::Twin { twin: ia + 1 }, first_a, last.clone());
        self.account_with(b, market, currency, "active", Kind::Twin { twin: ia }, first_b, last);
    }

    /// A control account for `company` and its `cards` cards; returns the control's index.
    fn corporate(&mut self, market: Market, currency: &'static str, company: &str, cards: usize) -> usize {
        let number = self.fresh_number();
        let control = self.account_with(
            number,
            market,
            currency,
            "active",
            Kind::Control,
            String::new(),
            company.to_string(),
        );
        let control_number = self.accounts[control].number.clone();
        for _ in 0..cards {
            let i = self.account(market, currency, "active", Kind::CorporateCard);
            self.accounts[i].control_account = Some(control_number.clone());
        }
        control
    }

    /// Two active accounts whose holders have the same name.
    fn namesakes(&mut self, market: Market, currency: &'static str) {
        let (first, last) = self.fresh_name(market, None);
        for _ in 0..2 {
            let number = self.fresh_number();
            self.account_with(
                number,
                market,
                currency,
                "active",
                Kind::Namesake,
                first.clone(),
                last.clone(),
            );
        }
    }

    /// The market's directory; `corporate_cards` cards per corporate client.
    fn directory(&mut self, market: Market, regular: usize, corporate_cards: usize) -> Vec<Corporate> {
        let currency = match market {
            Market::CA => "CAD",
            Market::EU => "EUR",
            Market::IN => "INR",
        };
        for i in 0..regular {
            let status = match i % 25 {
                0 => "closed",
                1 if i % 2 == 1 => "blocked",
                _ => "active",
            };
            self.account(market, currency, status, Kind::Regular);
        }
        if market == Market::CA {
            for _ in 0..(regular / 12).max(4) {
                self.account(market, "USD", "active", Kind::Regular);
            }
        }
        for _ in 0..(regular / 30).max(3) {
            self.twins(market, currency);
        }
        for _ in 0..(regular / 50).max(3) {
            self.namesakes(market, currency);
        }
        let (companies, files) = match market {
            Market::CA => ([COMPANIES[0], COMPANIES[4]], files::CA_CORPORATE),
            Market::EU => ([COMPANIES[2], COMPANIES[7]], files::EU_CORPORATE),
            Market::IN => return Vec::new(),
        };
        let mut out = Vec::new();
        for (k, company) in companies.into_iter().enumerate() {
            let control = self.corporate(market, currency, company, corporate_cards);
            let cards = (0..self.accounts.len())
                .filter(|&i| {
                    self.accounts[i].control_account.as_ref() == Some(&self.accounts[control].number)
                })
                .collect();
            let (name, account) = match market {
                // Canadian banks print the originator's registered name, upper case, no accents.
                Market::CA => (
                    fold_ascii(company).to_uppercase(),
                    format!("{}/{}", ["000200345", "000400678"][k], 4_100_000 + 7_013 * k as u64),
                ),
                _ => (
                    company.to_string(),
                    iban("DE", &format!("{:018}", 370_400_440_532_013_000u64 + k as u64)),
                ),
            };
            out.push(Corporate {
                market,
                group: format!("{}/corporate-{}", market.code(), k + 1),
                name,
                originator_id: format!("00007700{:02}", k + 1),
                account,
                files: files[k],
                control,
                cards,
            });
        }
        out
    }

    fn pick(&mut self, market: Market, ok: impl Fn(&GenAccount) -> bool) -> usize {
        let pool: Vec<usize> = (0..self.accounts.len())
            .filter(|&i| self.accounts[i].market == market && ok(&self.accounts[i]))
            .collect();
        pool[self.rng.usize(..pool.len())]
    }

    /// An ordinary active account of the market's home currency.
    fn pick_regular(&mut self, market: Market) -> usize {
        let home = home_currency(market);
        self.pick(market, |a| a.active() && a.kind == Kind::Regular && a.currency == home)
    }

    /// The cardmember's name as payers write it: order, case, initials, honorifics, accents.
    fn agreeing_name(&mut self, a: &GenAccount) -> String {
        if a.first.is_empty() {
            return match self.rng.u32(..3) {
                0 => a.last.clone(),
                1 => fold_ascii(&a.last).to_uppercase(),
                _ => fold_ascii(&a.last),
            };
        }
        let initials: String =
            a.first.split([' ', '-']).filter_map(|w| w.chars().next()).map(|c| format!("{c} ")).collect();
        let honorific = match a.market {
            Market::IN => *["Mr ", "Mrs ", "Shri ", "Smt ", "Dr "].get(self.rng.usize(..5)).unwrap_or(&""),
            Market::CA => *["M. ", "Mme ", "Mr ", "Dr "].get(self.rng.usize(..4)).unwrap_or(&""),
            Market::EU => *["Herr ", "Frau ", "Mr ", "Dr "].get(self.rng.usize(..4)).unwrap_or(&""),
        };
        match self.rng.u32(..6) {
            0 => format!("{} {}", a.first, a.last),
            1 => fold_ascii(&format!("{} {}", a.last, a.first)).to_uppercase(),
            2 => format!("{initials}{}", a.last),
            3 => format!("{honorific}{} {}", a.first, a.last),
            4 => fold_ascii(&format!("{} {}", a.first, a.last)).to_uppercase(),
            _ => format!("{}, {}", a.last, a.first),
        }
    }

    /// A name that is not the cardmember's: another holder's sharing no word with it, and no
    /// word that one of its initials could stand for ("François Gagnon" is not other than
    /// "François G. Gauthier").
    fn other_name(&mut self, a: &GenAccount) -> String {
        fn words(name: &str) -> Vec<String> {
            name.split([' ', '-', ','])
                .map(|w| w.trim_end_matches('.').to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        }
        let mine = words(&a.holder_name());
        let close = |w: &String, x: &String| {
            w == x
                || (x.chars().count() == 1 && w.starts_with(x.as_str()))
                || (w.chars().count() == 1 && x.starts_with(w.as_str()))
        };
        loop {
            let j = self.rng.usize(..self.accounts.len());
            let b = &self.accounts[j];
            if b.market != a.market || b.first.is_empty() {
                continue;
            }
            let name = b.holder_name();
            if !words(&name).iter().any(|w| mine.iter().any(|x| close(w, x))) {
                return name;
            }
        }
    }

    /// One wrong digit (positions after the 34/37 prefix), one edit from exactly `target`.
    fn typo(&mut self, target: usize) -> String {
        let n = self.accounts[target].number.clone();
        loop {
            let mut b = n.as_bytes().to_vec();
            let i = 2 + self.rng.usize(..13);
            let d = b'0' + self.rng.u8(0..10);
            if d == b[i] {
                continue;
            }
            b[i] = d;
            let x = String::from_utf8(b).expect("digits");
            if !luhn_ok(&x) && self.neighbours(&x) == [target] {
                return x;
            }
        }
    }

    /// Two adjacent digits swapped, Luhn-invalid, one edit from exactly `target`.
    fn transposition(&mut self, target: usize) -> String {
        let n = self.accounts[target].number.clone();
        for _ in 0..1000 {
            let mut b = n.as_bytes().to_vec();
            let i = 2 + self.rng.usize(..12);
            if b[i] == b[i + 1] {
                continue;
            }
            b.swap(i, i + 1);
            let x = String::from_utf8(b).expect("digits");
            if !luhn_ok(&x) && self.neighbours(&x) == [target] {
                return x;
            }
        }
        self.typo(target)
    }

    /// A valid card number nobody in the directory holds, not one edit from any account.
    fn stranger_number(&mut self) -> String {
        self.fresh_number()
    }

    fn amount(&mut self, a: &GenAccount) -> u64 {
        match self.rng.u32(..10) {
            0..=2 if a.statement_minor > 0 => a.statement_minor,
            3..=4 if a.minimum_minor > 0 => a.minimum_minor,
            _ => match a.market {
                Market::IN => 10_000 + self.rng.u64(..20_000_000),
                _ => 1_000 + self.rng.u64(..500_000),
            },
        }
    }

    /// The account's statement balance or minimum due (autopay, or a name-and-balance payment).
    fn amount_due(&mut self, a: &GenAccount) -> u64 {
        if self.rng.bool() && a.minimum_minor > 0 {
            a.minimum_minor
        } else {
            a.statement_minor
        }
    }

    /// An amount that is none of the account's balances.
    fn amount_not_due(&mut self, a: &GenAccount) -> u64 {
        loop {
            let m = match a.market {
                Market::IN => 10_000 + self.rng.u64(..20_000_000),
                _ => 1_000 + self.rng.u64(..500_000),
            };
            if m != a.statement_minor && m != a.minimum_minor {
                return m;
            }
        }
    }

    /// The holder's name as another system writes it: upper case, surname first, accents folded.
    fn name_written_otherwise(&mut self, a: &GenAccount) -> String {
        match self.rng.u32(..3) {
            0 => fold_ascii(&format!("{} {}", a.last, a.first)).to_uppercase(),
            1 => fold_ascii(&a.holder_name()).to_uppercase(),
            _ => format!("{}, {}", fold_ascii(&a.last).to_uppercase(), fold_ascii(&a.first)),
        }
    }

    fn last5_unique(&self, i: usize) -> bool {
        let tail = &self.accounts[i].number[10..];
        self.accounts
            .iter()
            .filter(|a| a.market == self.accounts[i].market && &a.number[10..] == tail)
            .count()
            == 1
    }
}

fn home_currency(market: Market) -> &'static str {
    match market {
        Market::CA => "CAD",
        Market::EU => "EUR",
        Market::IN => "INR",
    }
}

/// Markets with fewer payments than this have no corporate or PAD blocks.
const BLOCKS_FROM: usize = 80;
/// Days of November 2026: corporates' first and next files, PAD collections and their returns.
const CORPORATE_DAYS: [u32; 2] = [6, 20];
const PAD_DAY: u32 = 25;
const PAD_RETURN_DAY: u32 = 27;

/// A payment with nothing decided yet: no amount, payer, references or deliveries.
fn blank(market: Market, scenario: &'static str, index: usize, day: u32, bank_ref: String) -> GenPayment {
    GenPayment {
        index,
        market,
        scenario,
        bank_ref,
        currency: home_currency(market),
        minor: 0,
        payer_name: None,
        refs: Refs::default(),
        deliveries: Vec::new(),
        account: None,
        expected: Expected::Research,
        ambiguous: false,
        day,
        payer_account: PayerAccount::Own,
        group: None,
        resolve: false,
        expected_collecting: None,
        original_trace: None,
    }
}

/// An individual payer's own bank account, from the payment's index: CA `0IIITTTTT/account`
/// (institution id and account no.), EU IBAN, IN account number.
pub fn individual_account(market: Market, index: usize) -> String {
    let i = index as u64;
    match market {
        Market::CA => {
            let institutions = ["000100210", "000200345", "000400678", "001000125", "081530001", "000300042"];
            format!("{}/{}", institutions[index % institutions.len()], 5_000_000 + i * 7_919 % 90_000_000)
        }
        Market::EU => iban("DE", &format!("{:018}", 500_105_170_000_000_000u64 + i * 7_919)),
        Market::IN => format!("5010{:010}", i * 7_654_321 % 10_000_000_000),
    }
}

/// ISO 13616 check digits for a country code and BBAN.
pub fn iban(cc: &str, bban: &str) -> String {
    let mut rem: u32 = 0;
    for c in bban.chars().chain(cc.chars()).chain("00".chars()) {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    format!("{cc}{:02}{bban}", 98 - rem)
}

/// How many payments a market's corporate and PAD blocks hold.
fn block_size(market: Market, n: usize, corporates: &[Corporate]) -> usize {
    if n < BLOCKS_FROM {
        return 0;
    }
    let corporate: usize = corporates
        .iter()
        .filter(|c| c.market == market)
        .enumerate()
        .map(|(k, c)| 2 * c.cards.len() + resolutions(k))
        .sum();
    let pad = if market == Market::CA { pad_collections(n) + pad_collections(n).div_ceil(3) } else { 0 };
    corporate + pad
}

/// The first corporate of a market has one no-reference payment resolved, the second two (to
/// two cards: a shared payer from then on).
fn resolutions(corporate: usize) -> usize {
    corporate % 2 + 1
}

fn pad_collections(n: usize) -> usize {
    (n / 100).clamp(2, 30)
}

/// A corporate's first file (one clean payment per card, some the same allowance, and its
/// no-reference payments), then its next file (one clean payment per card).
fn corporate_block(g: &mut Gen, corp: &Corporate, k: usize, out: &mut Vec<GenPayment>) {
    let market = corp.market;
    let allowance = [25_000, 40_000][k % 2];
    for (round, file) in corp.files.into_iter().enumerate() {
        let scenario = if round == 0 { sc::CORPORATE_MANY_CARDS } else { sc::AFTER_RESOLUTION };
        let mut payments: Vec<(usize, &'static str)> = corp.cards.iter().map(|&c| (c, scenario)).collect();
        if round == 0 {
            for r in 0..resolutions(k) {
                // Among the clean ones, as a client's system would list them.
                let at = (r * 7 + 3).min(payments.len());
                payments.insert(at, (corp.cards[r], sc::CORPORATE_NO_REFERENCE));
            }
        }
        for (j, (card, scenario)) in payments.into_iter().enumerate() {
            let a = g.accounts[card].clone();
            let index = out.len() + 1;
            let day = CORPORATE_DAYS[round];
            let trace = match market {
                // The item trace of the corporate's bank: its institution id + a sequence.
                Market::CA => format!("{}{:013}", &corp.account[..9], 7_000_000_000_000u64 + index as u64),
                _ => bank_ref(market, index, &mut g.rng, day),
            };
            let mut p = blank(market, scenario, index, day, trace);
            p.payer_name = Some(corp.name.clone());
            p.payer_account = PayerAccount::Fixed(corp.account.clone());
            p.group = Some(corp.group.clone());
            p.account = Some(a.number.clone());
            p.deliveries = vec![file];
            if scenario == sc::CORPORATE_NO_REFERENCE {
                let control = g.accounts[corp.control].clone();
                p.minor = g.amount_not_due(&control);
                p.refs = no_refs(g, market);
                p.resolve = true;
            } else {
                p.minor = if j % 3 == 0 { allowance } else { 1_000 + g.rng.u64(..500_000) };
                p.refs = match market {
                    Market::EU if j % 2 == 1 => {
                        Refs { end_to_end: Some(a.number.clone()), ..Refs::default() }
                    }
                    _ => clean_refs(&a),
                };
                p.expected = Expected::Apply;
            }
            out.push(p);
        }
    }
}

/// Collections of a PAD file we originate (autopay of the statement balance or minimum due),
/// then the returns of one in three of them.
fn pad_block(g: &mut Gen, collections: usize, out: &mut Vec<GenPayment>) {
    let market = Market::CA;
    let mut made = Vec::with_capacity(collections);
    for _ in 0..collections {
        let target = g.pick_regular(market);
        let a = g.accounts[target].clone();
        let index = out.len() + 1;
        let trace = format!("000300011{:013}", 8_000_000_000_000u64 + index as u64);
        let mut p = blank(market, sc::PAD_COLLECTION, index, PAD_DAY, trace);
        p.minor = g.amount_due(&a);
        // Our PAD system writes the payor from our directory.
        p.payer_name = Some(fold_ascii(&a.holder_name()).to_uppercase());
        p.payer_account = PayerAccount::Fixed(individual_account(market, index));
        p.refs =
            Refs { structured: Some(a.number.clone()), text: Some("AMEX AUTOPAY".into()), ..Refs::default() };
        p.account = Some(a.number.clone());
        p.expected_collecting = Some(Expected::Apply);
        p.deliveries = vec![files::CA_PAD];
        made.push(p.clone());
        out.push(p);
    }
    for original in made.iter().take(collections.div_ceil(3)) {
        let index = out.len() + 1;
        let trace = format!("000300011{:013}", 8_500_000_000_000u64 + index as u64);
        let mut p = GenPayment {
            index,
            scenario: sc::PAD_RETURN,
            bank_ref: trace,
            day: PAD_RETURN_DAY,
            original_trace: Some(original.bank_ref.clone()),
            expected_collecting: Some(Expected::Reversed),
            deliveries: vec![files::CA_PAD_RETURNS],
            ..original.clone()
        };
        p.expected = Expected::Research;
        out.push(p);
    }
}

/// Builds the directory and `payments` labelled payments (split evenly across the markets).
pub fn build(payments: usize, seed: u64) -> Workload {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(seed),
        accounts: Vec::new(),
        numbers: HashSet::new(),
        by_number: HashMap::new(),
        holder_names: HashSet::new(),
        next_va: 10_000 + seed % 1000 * 10_000,
        next_rf: 4_000_000 + seed % 1000 * 10_000,
    };
    let per_market = payments / 3;
    let corporate_cards = (per_market / 50).clamp(3, 40);
    let mut corporates = Vec::new();
    for market in Market::ALL {
        corporates.extend(g.directory(market, (per_market / 2).clamp(40, 20_000), corporate_cards));
    }
    let mut out = Vec::with_capacity(payments);
    for (k, market) in Market::ALL.into_iter().enumerate() {
        let total_n = if k == 2 { payments - 2 * per_market } else { per_market };
        let blocks = block_size(market, total_n, &corporates);
        let n = total_n - blocks;
        let w = weights(market);
        let total: u32 = w.iter().map(|x| x.1).sum();
        for i in 0..n {
            // Every scenario appears at least once when the market has room for it.
            let scen = if i < w.len() && n >= 2 * w.len() {
                w[i].0
            } else {
                let mut r = g.rng.u32(..total);
                let mut chosen = w[0].0;
                for (s, weight) in &w {
                    if r < *weight {
                        chosen = s;
                        break;
                    }
                    r -= weight;
                }
                chosen
            };
            let index = out.len() + 1;
            out.push(payment(&mut g, market, scen, index));
        }
        if blocks > 0 {
            for (c, corp) in corporates.iter().filter(|c| c.market == market).enumerate() {
                corporate_block(&mut g, corp, c, &mut out);
            }
            if market == Market::CA {
                pad_block(&mut g, pad_collections(total_n), &mut out);
            }
        }
    }
    Workload { accounts: g.accounts, payments: out, corporates }
}

fn bank_ref(market: Market, index: usize, rng: &mut fastrand::Rng, day: u32) -> String {
    match market {
        // CPA-005 item trace: 0 + institution + transit + 13-digit sequence.
        Market::CA => format!("0003000110{:012}", 500_000_000_000u64 + index as u64),
        Market::EU => format!("EVAL-EU-{index:07}"),
        // UTRs: NEFT 16 characters, IMPS 12 digits, RTGS 22 characters; upper case.
        Market::IN => {
            let banks = ["HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB"];
            let bank = banks[rng.usize(..banks.len())];
            match index % 3 {
                0 => format!("{bank}N26{:03}{:06}", 304 + day, index % 1_000_000),
                1 => format!("6{:03}{:08}", 304 + day, index % 100_000_000),
                _ => format!("{bank}R52026110{}{:08}", day % 10, index % 100_000_000),
            }
        }
    }
}

/// The reference text that names `number` (as a card number) in the market's usual place.
fn number_refs(g: &mut Gen, market: Market, number: &str) -> Refs {
    let style = g.rng.u32(..5);
    let s = styled(number, style);
    match market {
        Market::CA => Refs { structured: Some(s), text: None, ..Refs::default() },
        Market::EU => {
            let words = ["AMEX", "Card no.", "Kartennummer", "Carte", "Amex account", "Payment card"];
            let w = words[g.rng.usize(..words.len())];
            Refs { structured: None, text: Some(format!("{w} {s} Nov 2026")), ..Refs::default() }
        }
        Market::IN => {
            let words = ["AMEX CARD", "CC PAYMENT", "AMEX", "CARD NO"];
            let w = words[g.rng.usize(..words.len())];
            Refs { structured: None, text: Some(format!("{w} {s}")), ..Refs::default() }
        }
    }
}

/// The clean reference for an account: CA plain number, EU SCOR RF, India virtual account.
/// A remittance listing two cards of control account `a` with amounts adding up to `minor`,
/// written one of two ways.
fn split_text(g: &Gen, a: &GenAccount, minor: u64, index: usize) -> Option<String> {
    let cards: Vec<&GenAccount> = g
        .accounts
        .iter()
        .filter(|c| c.control_account.as_deref() == Some(a.number.as_str()))
        .take(2)
        .collect();
    let [c1, c2] = cards.as_slice() else { return None };
    let first = minor * 3 / 5;
    let second = minor.checked_sub(first).filter(|s| *s > 0 && first > 0)?;
    let dot = |m: u64| format!("{}.{:02}", m / 100, m % 100);
    let comma = |m: u64| format!("{},{:02}", m / 100, m % 100);
    Some(if index.is_multiple_of(4) {
        format!("{} {}; {} {}", styled(&c1.number, 1), dot(first), styled(&c2.number, 2), dot(second))
    } else {
        format!(
            "Karte {} Betrag EUR {}; Karte {} Betrag EUR {}",
            c1.number,
            comma(first),
            c2.number,
            comma(second)
        )
    })
}

fn clean_refs(a: &GenAccount) -> Refs {
    match a.market {
        Market::CA => Refs { structured: Some(a.number.clone()), text: None, ..Refs::default() },
        Market::EU => Refs { structured: a.creditor_reference.clone(), text: None, ..Refs::default() },
        Market::IN => Refs {
            structured: a.virtual_account.clone(),
            text: Some("AMEX CARD PAYMENT".into()),
            ..Refs::default()
        },
    }
}

fn no_refs(g: &mut Gen, market: Market) -> Refs {
    let text = match market {
        Market::CA => ["PAYMENT", "BILL PAYMENT", "", "VISA/AMEX"][g.rng.usize(..4)],
        Market::EU => ["Rechnung November", "Invoice 2026-11", "Payment", "Merci"][g.rng.usize(..4)],
        Market::IN => ["CARD PAYMENT", "Credit card dues", "", "BILL PAY"][g.rng.usize(..4)],
    };
    Refs { structured: None, text: Some(text.to_string()).filter(|t| !t.is_empty()), ..Refs::default() }
}

fn payment(g: &mut Gen, market: Market, scenario: &'static str, index: usize) -> GenPayment {
    let day = 1 + g.rng.u32(..28);
    let home = home_currency(market);
    let mut p = GenPayment {
        currency: home,
        ..blank(market, scenario, index, day, bank_ref(market, index, &mut g.rng, day))
    };
    let target = match scenario {
        sc::CLOSED_ACCOUNT => g.pick(market, |a| !a.active()),
        sc::TWIN | sc::TWIN_TYPO => g.pick(market, |a| matches!(a.kind, Kind::Twin { .. })),
        sc::CONTROL_ACCOUNT => g.pick(market, |a| a.kind == Kind::Control),
        sc::OTHER_CURRENCY => g.pick(market, |a| a.active() && a.currency == "USD"),
        sc::NAME_BALANCE_SHARED => g.pick(market, |a| a.kind == Kind::Namesake),
        sc::PARTIAL_LAST5_NAME | sc::PARTIAL_LAST5_OTHER_NAME => loop {
            let i = g.pick_regular(market);
            if g.last5_unique(i) {
                break i;
            }
        },
        _ => g.pick_regular(market),
    };
    let a = g.accounts[target].clone();
    p.minor = g.amount(&a);
    p.account = Some(a.number.clone());
    p.payer_name = Some(g.agreeing_name(&a));
    match scenario {
        sc::CLEAN | sc::REDELIVERED | sc::TWIN | sc::CONTROL_ACCOUNT | sc::OTHER_CURRENCY => {
            p.refs = clean_refs(&a);
            if market == Market::EU && scenario != sc::CLEAN && g.rng.bool() {
                // EU payers write the card number as often as the RF reference.
                p.refs = number_refs(g, market, &a.number);
            }
            if market == Market::CA && scenario == sc::OTHER_CURRENCY {
                p.currency = "USD";
            }
            if market == Market::EU && scenario == sc::CONTROL_ACCOUNT && index.is_multiple_of(2) {
                // No random draws here: the rest of the workload stays as it was.
                if let Some(text) = split_text(g, &a, p.minor, index) {
                    p.scenario = sc::CONTROL_SPLIT;
                    p.refs = Refs { text: Some(text), ..clean_refs(&a) };
                }
            }
            p.expected = Expected::Apply;
        }
        sc::FORMATTED => {
            let style = 1 + g.rng.u32(..4);
            p.refs = match market {
                Market::CA => {
                    Refs { structured: Some(styled(&a.number, style)), text: None, ..Refs::default() }
                }
                _ => number_refs(g, market, &a.number),
            };
            p.expected = Expected::Apply;
        }
        sc::RF_IN_TEXT => {
            let rf = a.creditor_reference.clone().unwrap_or_default();
            let printed = if g.rng.bool() {
                rf.clone()
            } else {
                rf.as_bytes()
                    .chunks(4)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            p.refs = Refs { structured: None, text: Some(format!("Ref {printed}")), ..Refs::default() };
            p.expected = Expected::Apply;
        }
        sc::TYPO_NAME_AGREES | sc::TYPO_NAME_DIFFERS | sc::TRANSPOSITION => {
            let n = if scenario == sc::TRANSPOSITION { g.transposition(target) } else { g.typo(target) };
            p.refs = number_refs(g, market, &n);
            if scenario == sc::TYPO_NAME_DIFFERS {
                p.payer_name = Some(g.other_name(&a));
                p.expected = Expected::Research;
            } else {
                p.expected = Expected::Either;
            }
        }
        sc::MISSING_REFERENCE => {
            p.refs = no_refs(g, market);
            p.payer_name = Some(THIRD_PARTIES[g.rng.usize(..THIRD_PARTIES.len())].to_string());
        }
        sc::NAME_ONLY => {
            // Not a balance: a name with the statement balance or minimum due may apply.
            p.minor = g.amount_not_due(&a);
            p.refs = no_refs(g, market);
            p.payer_name = Some(a.holder_name());
        }
        sc::NAME_BALANCE_UNIQUE | sc::NAME_BALANCE_SHARED => {
            p.minor = g.amount_due(&a);
            p.refs = no_refs(g, market);
            p.payer_name = Some(g.name_written_otherwise(&a));
            if scenario == sc::NAME_BALANCE_UNIQUE {
                p.expected = Expected::Either;
            } else {
                // The name points at two accounts: never to be applied.
                p.ambiguous = true;
            }
        }
        sc::OWN_IDENTITY_PAYEE => {
            // Only the payee's fields are filled, and they are ours.
            p.refs = no_refs(g, market);
            p.payer_name = None;
            p.payer_account = PayerAccount::Blank;
            p.resolve = true;
        }
        sc::PARTIAL_LAST5_NAME | sc::PARTIAL_LAST5_OTHER_NAME => {
            let tail = &a.number[10..];
            let text = match market {
                Market::CA => format!("ACCT END {tail}"),
                Market::EU => format!("Karte endet auf {tail}"),
                Market::IN => format!("AMEX ENDING {tail}"),
            };
            p.refs = match market {
                Market::CA => Refs { structured: Some(text), text: None, ..Refs::default() },
                _ => Refs { structured: None, text: Some(text), ..Refs::default() },
            };
            if scenario == sc::PARTIAL_LAST5_OTHER_NAME {
                p.payer_name = Some(g.other_name(&a));
            } else {
                p.expected = Expected::Either;
            }
        }
        sc::CLOSED_ACCOUNT => p.refs = clean_refs(&a),
        sc::WRONG_CURRENCY => {
            p.refs = clean_refs(&a);
            p.currency = match market {
                Market::CA => "USD",
                Market::EU => "USD",
                Market::IN => "USD",
            };
        }
        sc::TWIN_TYPO => {
            let Kind::Twin { twin } = a.kind else { unreachable!("a twin") };
            let other = &g.accounts[twin];
            // Our body with the twin's check digit: one edit from each.
            let n = format!("{}{}", &a.number[..14], &other.number[14..]);
            debug_assert_eq!(g.neighbours(&n).len(), 2);
            p.refs = number_refs(g, market, &n);
            p.ambiguous = true;
        }
        sc::UNKNOWN_ACCOUNT => {
            let n = g.stranger_number();
            p.refs = number_refs(g, market, &n);
            p.account = None;
            p.payer_name = Some(g.other_name(&a));
        }
        sc::TWO_ACCOUNTS => {
            let other = loop {
                let j = g.pick_regular(market);
                if j != target {
                    break j;
                }
            };
            let second = g.accounts[other].number.clone();
            p.refs = match market {
                Market::CA => {
                    Refs { structured: Some(a.number.clone()), text: Some(second), ..Refs::default() }
                }
                Market::EU => Refs {
                    structured: None,
                    text: Some(format!("Cards {} and {}", styled(&a.number, 1), styled(&second, 1))),
                    ..Refs::default()
                },
                Market::IN => Refs {
                    structured: None,
                    text: Some(format!("AMEX {} {}", a.number, second)),
                    ..Refs::default()
                },
            };
            p.ambiguous = true;
        }
        sc::VA_UNKNOWN => {
            p.refs = Refs {
                structured: Some(format!("AMEX09{:08}", index)),
                text: Some("AMEX CARD".into()),
                ..Refs::default()
            };
            p.account = None;
            p.payer_name = Some(g.other_name(&a));
        }
        other => unreachable!("scenario {other}"),
    }
    p.deliveries = deliveries(g, &p);
    p
}

fn deliveries(g: &mut Gen, p: &GenPayment) -> Vec<&'static str> {
    use files::*;
    let redelivered = p.scenario == sc::REDELIVERED;
    match p.market {
        Market::CA => {
            let first = if p.currency == "USD" { CA_USD } else { CA_CAD };
            if redelivered {
                vec![first, CA_RESENT]
            } else {
                vec![first]
            }
        }
        Market::EU => {
            if redelivered {
                vec![EU_MAIN, EU_RESENT]
            } else {
                vec![EU_MAIN]
            }
        }
        Market::IN => {
            if redelivered {
                // The MIS and the alert, and now and then the alert retried.
                if g.rng.u32(..3) == 0 {
                    vec![IN_CSV, IN_JSON, IN_JSON]
                } else {
                    vec![IN_CSV, IN_JSON]
                }
            } else if p.currency != "INR" || g.rng.u32(..3) == 0 {
                // The MIS has no currency column: foreign-currency credits arrive as alerts.
                vec![IN_JSON]
            } else {
                vec![IN_CSV]
            }
        }
    }
}

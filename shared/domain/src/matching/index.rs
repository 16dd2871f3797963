//! `AccountIndex`: the card directory in memory, compact enough for tens of millions of
//! accounts, behind the same ports the matcher reads (`AccountDirectory`, `AliasMemory`,
//! `PaymentHistory`). For a matcher that must not be the bottleneck (issue 5: 200,000
//! payments per second per core against 10 million accounts).
//!
//! Layout: one fixed-size `Row` per account (the card's token and last four, balances in
//! hundredths as `i64`, holder name interned, virtual account, RF reference and account id as
//! spans of one shared string arena, control account and last-five tag interned); open-addressing
//! tables of `u32` row numbers for the token, virtual account, RF reference and control account
//! keys (the key itself is read back from the row, never stored twice); one `Vec` of (row,
//! interned name) per last-five tag (market and last five digits, keyed), with each interned
//! name's initials, so a name filter runs before any row is read. Like the stores, the index
//! holds no card number: it is built under the directory's `CardKey`. The holder-name
//! index maps each (market, `names::holder_name_keys` key) to interned names, and each
//! (interned name, market) to its rows through a chain of row numbers (4 bytes per row), so
//! namesakes cost nothing more per key. Alias memory and recent payments, small, sit behind
//! locks.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::model::account::{Account, AccountStatus};
use crate::model::card::{CardKey, CardRef, LastFive};
use crate::model::identifiers::CreditorReference;
use crate::model::money::Currency;
use crate::model::payment::{Market, Payment};
use crate::ports::{
    AccountDirectory, Alias, AliasMemory, PaymentHistory, SimilarPayment, StoreError, MAX_INDEX_RESULTS,
};

#[derive(Clone, Copy)]
struct Span {
    off: u32,
    len: u32,
}

impl Span {
    const EMPTY: Span = Span { off: 0, len: 0 };
}

struct Row {
    card: CardRef,
    /// Index into `controls` (`NO_ROW`: none).
    control: u32,
    /// The last-five bucket (index into `by_last5`).
    last5: u32,
    statement_balance: i64,
    minimum_due: i64,
    current_balance: i64,
    name: u32,
    va: Span,
    rf: Span,
    currency: Currency,
    market: Market,
    status: AccountStatus,
}

/// Open addressing over `u32` row numbers, each slot tagged with 32 bits of its key's hash so
/// that a probe rarely has to read a row; keys live in the rows. Linear probing; several rows
/// may share a key (virtual accounts, control accounts): a lookup collects every one.
struct Table {
    slots: Vec<u64>,
    len: usize,
}

const EMPTY: u64 = u64::MAX;

/// The end of a chain of rows (no row).
const NO_ROW: u32 = u32::MAX;

/// The tag bits of a slot (the high 32 bits of its key's hash).
const TAG: u64 = 0xFFFF_FFFF_0000_0000;

/// A hash whose position bits repeat its tag bits: a table of such hashes regrows from its
/// slots alone, for entries (interned names) that stand under several keys.
fn tag_positioned(hash: u64) -> u64 {
    (hash & TAG) | (hash >> 32)
}

fn slot(hash: u64, row: u32) -> u64 {
    (hash & 0xFFFF_FFFF_0000_0000) | u64::from(row)
}

impl Table {
    fn new() -> Self {
        Self { slots: vec![EMPTY; 16], len: 0 }
    }

    fn with_slots(n: usize) -> Self {
        Self { slots: vec![EMPTY; n], len: 0 }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Adds `row` under `hash`; `rehash` gives the hash of an existing slot's entry when the
    /// table grows.
    fn insert(&mut self, hash: u64, row: u32, rehash: impl Fn(u64) -> u64) {
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            let grown = vec![EMPTY; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for s in old.into_iter().filter(|&s| s != EMPTY) {
                self.place(rehash(s), s as u32);
            }
        }
        self.place(hash, row);
        self.len += 1;
    }

    fn place(&mut self, hash: u64, row: u32) {
        let mask = self.mask();
        let mut i = (hash as usize) & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot(hash, row);
    }

    /// Rows under `hash` for which `is_key` holds.
    fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool, out: &mut Vec<u32>) {
        let mask = self.mask();
        let tag = hash & TAG;
        let mut i = (hash as usize) & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return;
            }
            if s & 0xFFFF_FFFF_0000_0000 == tag && is_key(s as u32) {
                out.push(s as u32);
            }
            i = (i + 1) & mask;
        }
    }

    fn bytes(&self) -> usize {
        self.slots.capacity() * 8
    }
}

/// A map hashed with foldhash: these lookups run for every payment (SipHash cost them ~5%), and
/// their keys are tokens and tags, keyed hashes already (nothing for an attacker to aim at).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A card's table hash: its token is already a keyed hash, so its first bytes are uniform.
fn hash_card(c: &CardRef) -> u64 {
    u64::from_le_bytes(c.token()[..8].try_into().expect("8 bytes"))
}

/// True when row card `row` is `card`, whose table hash is `hash`: the first eight bytes decide
/// almost always (a slot's tag already matched 32 bits), the whole card only confirms.
#[inline]
fn same_card(row: &CardRef, card: &CardRef, hash: u64) -> bool {
    hash_card(row) == hash && row == card
}

fn hash_u64(x: u64) -> u64 {
    // Fibonacci hashing, then the high bits folded down so the mask sees them.
    let h = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// FNV-1a, then mixed: a fixed hash (the table is rebuilt from rows with it).
fn hash_str(s: &str) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x100_0000_01b3);
    }
    hash_u64(x)
}

/// The holder-name index hash of (market, key): `hash_str` of `CA#<key>`, without building it.
fn name_key_hash(market: Market, key: &str) -> u64 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in market.code().bytes().chain([b'#']).chain(key.bytes()) {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x100_0000_01b3);
    }
    tag_positioned(hash_u64(x))
}

/// The in-memory directory. Build it with `insert`; read it through the ports.
pub struct AccountIndex {
    key: CardKey,
    rows: Vec<Row>,
    by_number: Table,
    by_va: Table,
    by_rf: Table,
    by_control: Table,
    /// Rows per last-five tag (its bucket number in `last5_ids`), each with its holder's interned name,
    /// so a name filter runs without reading rows.
    by_last5: Vec<Vec<(u32, u32)>>,
    last5_ids: FastMap<LastFive, u32>,
    /// Interned control accounts (few: the corporate programmes).
    controls: Vec<CardRef>,
    control_ids: FastMap<CardRef, u32>,
    /// The account ids the directory gave, by row (few accounts have one; the row stays small).
    account_ids: FastMap<u32, Box<str>>,
    arena: String,
    names: Vec<Arc<str>>,
    /// `names::initials` of each interned name.
    name_initials: Vec<u32>,
    name_ids: HashMap<Arc<str>, u32>,
    /// Holder-name index: interned name ids under `name_key_hash(market, key)` for each of
    /// their `names::holder_name_keys`. A slot is only a hint: a lookup recomputes the keys.
    by_name_key: Table,
    /// Per interned name, the markets (bit `market_slot`) whose keys are in `by_name_key`.
    name_keyed: Vec<u8>,
    /// Per interned name and market, the first row of its chain (`NO_ROW`: none).
    name_heads: Vec<[u32; 3]>,
    /// Per row, the next row with the same interned name and market (`NO_ROW`: the last).
    name_next: Vec<u32>,
    aliases: RwLock<HashMap<String, Vec<Alias>>>,
    history: RwLock<HashMap<String, Vec<SimilarPayment>>>,
}

fn market_slot(m: Market) -> usize {
    match m {
        Market::CA => 0,
        Market::IN => 1,
        Market::EU => 2,
    }
}

fn hundredths(d: Decimal) -> Result<i64, StoreError> {
    (d * Decimal::ONE_HUNDRED)
        .to_i64()
        .filter(|v| Decimal::new(*v, 2) == d)
        .ok_or_else(|| StoreError::Conflict(format!("amount {d} needs more than two decimals")))
}

impl AccountIndex {
    /// An empty index of cards tokenised under `key`.
    pub fn new(key: CardKey) -> Self {
        Self {
            key,
            rows: Vec::new(),
            by_number: Table::new(),
            by_va: Table::new(),
            by_rf: Table::new(),
            by_control: Table::new(),
            by_last5: Vec::new(),
            last5_ids: FastMap::default(),
            controls: Vec::new(),
            control_ids: FastMap::default(),
            account_ids: FastMap::default(),
            arena: String::new(),
            names: Vec::new(),
            name_initials: Vec::new(),
            name_ids: HashMap::new(),
            by_name_key: Table::new(),
            name_keyed: Vec::new(),
            name_heads: Vec::new(),
            name_next: Vec::new(),
            aliases: RwLock::new(HashMap::new()),
            history: RwLock::new(HashMap::new()),
        }
    }

    /// Room for `n` accounts without regrowing the row vector.
    pub fn with_capacity(key: CardKey, n: usize) -> Self {
        let mut s = Self::new(key);
        s.rows.reserve_exact(n);
        s.name_next.reserve_exact(n);
        let slots = (n * 10 / 7 + 1).next_power_of_two().max(16);
        s.by_number = Table::with_slots(slots);
        s
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn span(&mut self, s: Option<&str>) -> Span {
        match s {
            Some(s) if !s.is_empty() => {
                let off = self.arena.len() as u32;
                self.arena.push_str(s);
                Span { off, len: s.len() as u32 }
            }
            _ => Span::EMPTY,
        }
    }

    fn text(&self, s: Span) -> Option<&str> {
        (s.len > 0).then(|| &self.arena[s.off as usize..(s.off + s.len) as usize])
    }

    fn row_of(&self, card: &CardRef) -> Option<u32> {
        let t = &self.by_number;
        let mask = t.mask();
        let hash = hash_card(card);
        let tag = hash & 0xFFFF_FFFF_0000_0000;
        let mut i = (hash as usize) & mask;
        loop {
            let s = t.slots[i];
            if s == EMPTY {
                return None;
            }
            if s & 0xFFFF_FFFF_0000_0000 == tag && same_card(&self.rows[s as u32 as usize].card, card, hash) {
                return Some(s as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// Interns a last-five tag, giving its bucket.
    fn last5_id(&mut self, tag: LastFive) -> u32 {
        if let Some(&id) = self.last5_ids.get(&tag) {
            return id;
        }
        let id = self.by_last5.len() as u32;
        self.last5_ids.insert(tag, id);
        self.by_last5.push(Vec::new());
        id
    }

    fn control_id(&mut self, control: Option<&CardRef>) -> u32 {
        let Some(c) = control else { return NO_ROW };
        if let Some(&id) = self.control_ids.get(c) {
            return id;
        }
        let id = self.controls.len() as u32;
        self.controls.push(*c);
        self.control_ids.insert(*c, id);
        id
    }

    /// Adds an account, or replaces the one with the same card. A replacement may change
    /// the holder's name (and market): the name index and the last-five bucket follow. Its other
    /// index keys (virtual account, RF reference, control account) must not change: a
    /// directory reload builds a new index.
    pub fn insert(&mut self, a: &Account) -> Result<(), StoreError> {
        let card = a.card;
        let name = match self.name_ids.get(a.holder_name.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.names.len() as u32;
                let s: Arc<str> = a.holder_name.as_str().into();
                self.names.push(s.clone());
                self.name_initials.push(crate::text::names::initials(&s));
                self.name_ids.insert(s, id);
                self.name_keyed.push(0);
                self.name_heads.push([NO_ROW; 3]);
                id
            }
        };
        let va = self.span(a.virtual_account.as_deref());
        let rf = self.span(a.creditor_reference.as_ref().map(CreditorReference::as_str));
        let tag = a.last_five.ok_or_else(|| {
            StoreError::Conflict(
                "an account is indexed with its last-five tag (the directory import makes it)".into(),
            )
        })?;
        let last5 = self.last5_id(tag);
        let row = Row {
            card,
            control: self.control_id(a.control_account.as_ref()),
            last5,
            statement_balance: hundredths(a.statement_balance)?,
            minimum_due: hundredths(a.minimum_due)?,
            current_balance: hundredths(a.current_balance)?,
            name,
            va,
            rf,
            currency: a.currency,
            market: a.market,
            status: a.status,
        };
        let existing = self.row_of(&card);
        let r = existing.unwrap_or(self.rows.len() as u32);
        match &a.account_id {
            Some(id) => {
                self.account_ids.insert(r, id.as_str().into());
            }
            None => {
                self.account_ids.remove(&r);
            }
        }
        if let Some(r) = existing {
            let old = &self.rows[r as usize];
            let (old_name, old_market, old_last5) = (old.name, old.market, old.last5);
            self.rows[r as usize] = row;
            if (old_name, old_market) != (name, a.market) {
                self.unchain(r, old_name, old_market);
                self.chain(r, name, a.market);
                let (old, new) = (old_last5 as usize, last5 as usize);
                if old == new {
                    // The bucket's interned name drives the last-five name filter.
                    for pair in self.by_last5[old].iter_mut().filter(|p| p.0 == r) {
                        pair.1 = name;
                    }
                } else {
                    self.by_last5[old].retain(|&(x, _)| x != r);
                    self.by_last5[new].push((r, name));
                }
            }
            return Ok(());
        }
        let (va_key, rf_key, control) =
            (self.text(va).map(hash_str), self.text(rf).map(hash_str), row.control);
        self.rows.push(row);
        self.name_next.push(NO_ROW);
        let rows = &self.rows;
        let row_at = |s: u64| &rows[s as u32 as usize];
        self.by_number.insert(hash_card(&card), r, |s| hash_card(&row_at(s).card));
        let arena = &self.arena;
        let text = |s: Span| &arena[s.off as usize..(s.off + s.len) as usize];
        if let Some(h) = va_key {
            self.by_va.insert(h, r, |s| hash_str(text(row_at(s).va)));
        }
        if let Some(h) = rf_key {
            self.by_rf.insert(h, r, |s| hash_str(text(row_at(s).rf)));
        }
        if control != NO_ROW {
            self.by_control
                .insert(hash_u64(u64::from(control)), r, |s| hash_u64(u64::from(row_at(s).control)));
        }
        self.by_last5[last5 as usize].push((r, name));
        self.chain(r, name, a.market);
        Ok(())
    }

    /// Puts row `r` at the head of the chain of (`name`, `market`), indexing the name's keys in
    /// that market the first time.
    fn chain(&mut self, r: u32, name: u32, market: Market) {
        let (n, m) = (name as usize, market_slot(market));
        if self.name_keyed[n] & (1 << m) == 0 {
            // Once per (name, market): namesakes share the entries.
            for key in crate::text::names::holder_name_keys(&self.names[n]) {
                self.by_name_key.insert(name_key_hash(market, &key), name, |s| tag_positioned(s & TAG));
            }
            self.name_keyed[n] |= 1 << m;
        }
        self.name_next[r as usize] = self.name_heads[n][m];
        self.name_heads[n][m] = r;
    }

    /// Takes row `r` out of the chain of (`name`, `market`). The name's keys stay in the
    /// table (open addressing keeps no tombstones); a lookup then finds no row there.
    fn unchain(&mut self, r: u32, name: u32, market: Market) {
        let (n, m) = (name as usize, market_slot(market));
        let next = self.name_next[r as usize];
        if self.name_heads[n][m] == r {
            self.name_heads[n][m] = next;
            return;
        }
        let mut at = self.name_heads[n][m];
        while at != NO_ROW {
            if self.name_next[at as usize] == r {
                self.name_next[at as usize] = next;
                return;
            }
            at = self.name_next[at as usize];
        }
    }

    fn account_at(&self, r: u32) -> Account {
        let row = &self.rows[r as usize];
        Account {
            card: row.card,
            last_five: None,
            account_id: if self.account_ids.is_empty() {
                None
            } else {
                self.account_ids.get(&r).map(|id| id.to_string())
            },
            market: row.market,
            currency: row.currency,
            holder_name: self.names[row.name as usize].to_string(),
            status: row.status,
            statement_balance: Decimal::new(row.statement_balance, 2),
            minimum_due: Decimal::new(row.minimum_due, 2),
            current_balance: Decimal::new(row.current_balance, 2),
            virtual_account: self.text(row.va).map(str::to_string),
            creditor_reference: self.text(row.rf).map(CreditorReference::from_stored_unchecked),
            control_account: (row.control != NO_ROW).then(|| self.controls[row.control as usize]),
        }
    }

    fn collect(&self, rows: Vec<u32>) -> Vec<Account> {
        rows.into_iter().take(MAX_INDEX_RESULTS).map(|r| self.account_at(r)).collect()
    }

    /// Bytes held by the directory (rows, tables, arena, names, the holder-name index),
    /// excluding allocator overhead.
    pub fn bytes(&self) -> usize {
        let last5: usize = self.by_last5.iter().map(|v| v.capacity() * 8).sum::<usize>()
            + self.by_last5.capacity() * std::mem::size_of::<Vec<(u32, u32)>>()
            + self.last5_ids.capacity() * (16 + 4 + 1)
            + self.controls.capacity() * std::mem::size_of::<CardRef>()
            + self.control_ids.capacity() * (std::mem::size_of::<CardRef>() + 4 + 1)
            + self.account_ids.values().map(|id| id.len() + 16 + 4).sum::<usize>();
        let names: usize = self.names.iter().map(|n| n.len() + 16).sum::<usize>()
            + self.names.capacity() * 16
            + self.name_initials.capacity() * 4
            + self.name_ids.capacity() * (16 + 4 + 1);
        self.rows.capacity() * std::mem::size_of::<Row>()
            + self.by_number.bytes()
            + self.by_va.bytes()
            + self.by_rf.bytes()
            + self.by_control.bytes()
            + last5
            + self.arena.capacity()
            + names
            + self.name_index_bytes()
    }

    /// Bytes of the holder-name index alone (part of `bytes`).
    pub fn name_index_bytes(&self) -> usize {
        self.by_name_key.bytes()
            + self.name_keyed.capacity()
            + self.name_heads.capacity() * 12
            + self.name_next.capacity() * 4
    }

    /// Records a payment for duplicate suspicion (the SQLite store does it in `receive_payment`).
    pub fn remember_payment(&self, payment: &Payment) {
        if let Some(fp) = crate::matching::payer::duplicate_fingerprint(payment) {
            let mut h = self.history.write().unwrap_or_else(|p| p.into_inner());
            h.entry(fp).or_default().push(SimilarPayment {
                payment_key: payment.key(),
                bank_ref: payment.bank_ref.clone(),
                value_date: payment.value_date,
            });
        }
    }
}

impl AccountDirectory for AccountIndex {
    /// The index is built with `insert` (it needs `&mut`); through the port it is read-only.
    fn put_account(&self, _: &Account) -> Result<(), StoreError> {
        Err(StoreError::Conflict("the in-memory account index is built with AccountIndex::insert".into()))
    }

    fn card_key(&self) -> &CardKey {
        &self.key
    }

    fn account(&self, card: &CardRef) -> Result<Option<Account>, StoreError> {
        Ok(self.row_of(card).map(|r| self.account_at(r)))
    }

    fn accounts_by_virtual_account(&self, va: &str) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        self.by_va.find(hash_str(va), |r| self.text(self.rows[r as usize].va) == Some(va), &mut out);
        Ok(self.collect(out))
    }

    fn accounts_by_creditor_reference(&self, rf: &CreditorReference) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        let key = rf.as_str();
        self.by_rf.find(hash_str(key), |r| self.text(self.rows[r as usize].rf) == Some(key), &mut out);
        Ok(self.collect(out))
    }

    /// The tag names the market: a bucket holds one market's rows.
    fn accounts_by_last_digits(&self, _market: Market, last5: &LastFive) -> Result<Vec<Account>, StoreError> {
        let Some(&id) = self.last5_ids.get(last5) else { return Ok(Vec::new()) };
        Ok(self.collect(self.by_last5[id as usize].iter().map(|&(r, _)| r).collect()))
    }

    /// Filters the bucket by interned name (once per distinct name) before reading any row.
    fn accounts_by_last_digits_where(
        &self,
        _market: Market,
        last5: &LastFive,
        keep: &mut dyn FnMut(&str, u32) -> bool,
    ) -> Result<Vec<Account>, StoreError> {
        let Some(&id) = self.last5_ids.get(last5) else { return Ok(Vec::new()) };
        let bucket = &self.by_last5[id as usize];
        let mut verdicts: Vec<(u32, bool)> = Vec::new();
        let mut out = Vec::new();
        for &(r, name) in bucket.iter().take(MAX_INDEX_RESULTS) {
            let kept = match verdicts.iter().find(|v| v.0 == name) {
                Some(&(_, k)) => k,
                None => {
                    let k = keep(&self.names[name as usize], self.name_initials[name as usize]);
                    verdicts.push((name, k));
                    k
                }
            };
            if kept {
                out.push(self.account_at(r));
            }
        }
        Ok(out)
    }

    /// Several numbers at once: every probe's first slot is loaded before any is examined (the
    /// loads do not depend on each other, so the cache misses of a typo's ~25 neighbours
    /// overlap instead of queueing), and most absent numbers stop at that slot.
    fn accounts(&self, cards: &[CardRef]) -> Result<Vec<Account>, StoreError> {
        let t = &self.by_number;
        let mask = t.mask();
        let probes: Vec<(&CardRef, u64, usize)> = cards
            .iter()
            .map(|c| {
                let hash = hash_card(c);
                (c, hash, (hash as usize) & mask)
            })
            .collect();
        let first: Vec<u64> = probes.iter().map(|p| t.slots[p.2]).collect();
        let mut out = Vec::new();
        for (&(key, hash, start), &s) in probes.iter().zip(&first) {
            if s == EMPTY {
                continue;
            }
            let tag = hash & 0xFFFF_FFFF_0000_0000;
            let mut i = start;
            loop {
                let s = t.slots[i];
                if s == EMPTY {
                    break;
                }
                if s & 0xFFFF_FFFF_0000_0000 == tag
                    && same_card(&self.rows[s as u32 as usize].card, key, hash)
                {
                    out.push(self.account_at(s as u32));
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        Ok(out)
    }

    /// Candidate names from the key table, each confirmed by recomputing its keys (a slot is
    /// a 32-bit tag), then their chains in `market`, in stored card order (token) as the
    /// stores' indexes return them.
    fn accounts_by_holder_name(
        &self,
        market: Market,
        name_key: &str,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let limit = limit.min(crate::ports::MAX_INDEX_RESULTS);
        if name_key.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut ids = Vec::new();
        self.by_name_key.find(name_key_hash(market, name_key), |_| true, &mut ids);
        ids.sort_unstable();
        ids.dedup();
        let m = market_slot(market);
        let mut rows = Vec::new();
        'names: for id in ids {
            let name = &self.names[id as usize];
            // Once per distinct name, not per account: a hash collision is told apart here.
            if !crate::text::names::holder_name_keys(name).iter().any(|k| k == name_key) {
                continue;
            }
            let mut r = self.name_heads[id as usize][m];
            while r != NO_ROW {
                if rows.len() == limit {
                    break 'names;
                }
                rows.push(r);
                r = self.name_next[r as usize];
            }
        }
        rows.sort_unstable_by_key(|&r| self.rows[r as usize].card);
        Ok(self.collect(rows))
    }

    fn accounts_by_control_account(&self, control: &CardRef) -> Result<Vec<Account>, StoreError> {
        let Some(&c) = self.control_ids.get(control) else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        self.by_control.find(hash_u64(u64::from(c)), |r| self.rows[r as usize].control == c, &mut out);
        Ok(self.collect(out))
    }
}

impl AliasMemory for AccountIndex {
    fn learn_alias(&self, alias: &Alias) -> Result<(), StoreError> {
        let mut m = self.aliases.write().unwrap_or_else(|p| p.into_inner());
        let list = m.entry(alias.identity.clone()).or_default();
        list.retain(|a| a.account != alias.account);
        list.push(alias.clone());
        Ok(())
    }

    fn forget_alias(&self, identity: &str, account: &CardRef, resolution: &str) -> Result<(), StoreError> {
        let mut m = self.aliases.write().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = m.get_mut(identity) {
            list.retain(|a| !(a.account == *account && a.resolution == resolution));
            if list.is_empty() {
                m.remove(identity);
            }
        }
        Ok(())
    }

    fn aliases_for(&self, identity: &str) -> Result<Vec<Alias>, StoreError> {
        let m = self.aliases.read().unwrap_or_else(|p| p.into_inner());
        Ok(m.get(identity).map(|v| v.iter().take(MAX_INDEX_RESULTS).cloned().collect()).unwrap_or_default())
    }
}

impl PaymentHistory for AccountIndex {
    fn similar_payments(
        &self,
        fingerprint: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SimilarPayment>, StoreError> {
        let h = self.history.read().unwrap_or_else(|p| p.into_inner());
        Ok(h.get(fingerprint)
            .map(|v| {
                v.iter()
                    .filter(|p| p.value_date >= from && p.value_date <= to)
                    .take(MAX_INDEX_RESULTS)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::card::test_key;
    use crate::model::identifiers::AccountNumber;

    fn acct(n: &str) -> Account {
        Account {
            statement_balance: Decimal::new(123456, 2),
            minimum_due: Decimal::new(5000, 2),
            current_balance: Decimal::new(123456, 2),
            virtual_account: Some("AMEX0100012345".into()),
            ..Account::new(&test_key(), &n.parse().unwrap(), Market::IN, Currency::INR, "Ramesh Kumar")
        }
    }

    /// `a` moved to `market`: its last-five tag is the new market's, as a directory load makes it.
    fn in_market(a: &Account, market: Market, number: &AccountNumber) -> Account {
        Account { market, last_five: Some(test_key().last_five_of(market, number)), ..a.clone() }
    }

    /// `a` as the index gives it back: without its last-five tag.
    fn indexed(a: &Account) -> Account {
        Account { last_five: None, ..a.clone() }
    }

    fn tag(market: Market, last5: &str) -> LastFive {
        test_key().last_five(market, last5)
    }

    #[test]
    fn round_trips_accounts_and_indexes() {
        let mut ix = AccountIndex::new(test_key());
        let a = acct("378282246310005");
        let mut b = acct("371449635398431");
        b.virtual_account = None;
        b.creditor_reference = Some("RF18539007547034".parse().unwrap());
        b.control_account = Some(a.card);
        b = in_market(&b, Market::EU, &"371449635398431".parse().unwrap());
        ix.insert(&a).unwrap();
        ix.insert(&b).unwrap();
        for i in 0..100u64 {
            // Enough rows to make the tables grow.
            let digits: String = format!("37{:012}", i * 7919);
            let check = (0..10).find(|d| format!("{digits}{d}").parse::<AccountNumber>().is_ok()).unwrap();
            let mut c = acct(&format!("{digits}{check}"));
            c.virtual_account = None;
            ix.insert(&c).unwrap();
        }
        assert_eq!(ix.account(&a.card).unwrap().unwrap(), indexed(&a));
        assert_eq!(ix.account(&b.card).unwrap().unwrap(), indexed(&b));
        assert_eq!(ix.accounts_by_virtual_account("AMEX0100012345").unwrap(), vec![indexed(&a)]);
        assert_eq!(
            ix.accounts_by_creditor_reference(&"RF18539007547034".parse().unwrap()).unwrap(),
            vec![indexed(&b)]
        );
        assert_eq!(ix.accounts_by_control_account(&a.card).unwrap(), vec![indexed(&b)]);
        assert_eq!(
            ix.accounts_by_last_digits(Market::IN, &tag(Market::IN, "10005")).unwrap(),
            vec![indexed(&a)]
        );
        assert!(ix.accounts_by_last_digits(Market::CA, &tag(Market::CA, "10005")).unwrap().is_empty());
        assert!(ix.account(&test_key().card(&"378734493671000".parse().unwrap())).unwrap().is_none());
        assert_eq!(ix.len(), 102);
        let mut a2 = a.clone();
        a2.status = AccountStatus::Closed;
        ix.insert(&a2).unwrap();
        assert_eq!(ix.len(), 102, "replaced, not added");
        assert_eq!(ix.account(&a.card).unwrap().unwrap().status, AccountStatus::Closed);
        assert!(ix.bytes() > 0);
    }

    /// A valid account number for `i` (37, twelve digits, check digit).
    fn number(i: u64) -> AccountNumber {
        let digits = format!("37{:012}", i * 7919 + 1);
        (0..10).find_map(|d| format!("{digits}{d}").parse().ok()).unwrap()
    }

    fn named(i: u64, market: Market, holder: &str) -> Account {
        Account {
            virtual_account: None,
            ..Account::new(&test_key(), &number(i), market, Currency::INR, holder)
        }
    }

    /// Cards, sorted as the stores' indexes return them (stored token order).
    fn numbers(found: Vec<Account>) -> Vec<CardRef> {
        found.iter().map(|a| a.card).collect()
    }

    /// The cards of `market` under holder-name key `key`, as the index returns them.
    fn by_name(ix: &AccountIndex, market: Market, key: &str) -> Vec<CardRef> {
        numbers(ix.accounts_by_holder_name(market, key, crate::ports::MAX_INDEX_RESULTS).unwrap())
    }

    fn card(i: u64) -> CardRef {
        test_key().card(&number(i))
    }

    #[test]
    fn holder_names_are_found_by_every_key_in_their_market() {
        use crate::text::names::NormalName;
        let mut ix = AccountIndex::new(test_key());
        let cote = named(1, Market::CA, "Jean-Pierre Côté");
        let twin = named(2, Market::CA, "Jean-Pierre Côté");
        let titled = named(3, Market::CA, "M. Jean Pierre COTE");
        let elsewhere = named(4, Market::EU, "Jean-Pierre Côté");
        for a in [&cote, &twin, &titled, &elsewhere] {
            ix.insert(a).unwrap();
        }
        // Enough other names to make the key table grow (it regrows from its tags).
        for i in 10..400 {
            ix.insert(&named(i, Market::CA, &format!("Holder{i} Family{}", i % 7))).unwrap();
        }
        let mut all = vec![cote.card, twin.card, titled.card];
        all.sort_unstable();
        let lookup = |payer: &str| {
            let key = NormalName::new(payer).lookup_key().unwrap();
            numbers(ix.accounts_by_holder_name(Market::CA, &key, crate::ports::MAX_INDEX_RESULTS).unwrap())
        };
        assert_eq!(lookup("Jean Pierre Côté"), all, "full key: twins and the titled spelling");
        assert_eq!(lookup("COTE JEAN-PIERRE"), all, "word order, case, accents");
        assert_eq!(lookup("Mr Jean Pierre Cote"), all, "honorific");
        assert_eq!(lookup("J.P. Côté"), all, "initials key");
        assert_eq!(lookup("J P COTE"), all);
        assert!(lookup("Marie Côté").is_empty());
        let key = NormalName::new("Jean Pierre Cote").lookup_key().unwrap();
        assert_eq!(
            numbers(ix.accounts_by_holder_name(Market::EU, &key, crate::ports::MAX_INDEX_RESULTS).unwrap()),
            vec![elsewhere.card]
        );
        assert!(
            ix.accounts_by_holder_name(Market::IN, &key, crate::ports::MAX_INDEX_RESULTS).unwrap().is_empty(),
            "other market"
        );
        assert!(ix
            .accounts_by_holder_name(Market::CA, "", crate::ports::MAX_INDEX_RESULTS)
            .unwrap()
            .is_empty());
        for i in 10..400 {
            let found = ix
                .accounts_by_holder_name(
                    Market::CA,
                    &format!("family{} holder{i}", i % 7),
                    crate::ports::MAX_INDEX_RESULTS,
                )
                .unwrap();
            assert_eq!(numbers(found), vec![card(i)], "holder{i}");
        }
        assert!(ix.name_index_bytes() > 0 && ix.name_index_bytes() < ix.bytes());
    }

    #[test]
    fn an_account_put_again_under_a_new_name_moves_in_the_name_index() {
        let mut ix = AccountIndex::new(test_key());
        let before = named(1, Market::CA, "Jean Tremblay");
        let twin = named(2, Market::CA, "Jean Tremblay");
        ix.insert(&before).unwrap();
        ix.insert(&twin).unwrap();
        let renamed = Account { holder_name: "Marie Côté".into(), ..before.clone() };
        ix.insert(&renamed).unwrap();
        assert_eq!(by_name(&ix, Market::CA, "jean tremblay"), vec![card(2)]);
        assert_eq!(
            ix.accounts_by_holder_name(Market::CA, "cote marie", crate::ports::MAX_INDEX_RESULTS).unwrap(),
            vec![indexed(&renamed)]
        );
        assert_eq!(
            ix.accounts_by_holder_name(Market::CA, "cote m", crate::ports::MAX_INDEX_RESULTS).unwrap(),
            vec![indexed(&renamed)]
        );
        // Back to the first name: found there again, once.
        ix.insert(&before).unwrap();
        let back = by_name(&ix, Market::CA, "jean tremblay");
        let mut both = vec![card(1), card(2)];
        both.sort_unstable();
        assert_eq!(back, both);
        assert!(ix
            .accounts_by_holder_name(Market::CA, "cote marie", crate::ports::MAX_INDEX_RESULTS)
            .unwrap()
            .is_empty());
        // The last-five name filter sees the new name too.
        let last5 = test_key().last_five_of(Market::CA, &number(1));
        let mut seen = Vec::new();
        ix.accounts_by_last_digits_where(Market::CA, &last5, &mut |n, _| {
            seen.push(n.to_string());
            true
        })
        .unwrap();
        assert_eq!(seen, vec!["Jean Tremblay".to_string()]);
        // Another market: out of the old market's chain and bucket.
        let moved = in_market(&before, Market::EU, &number(1));
        ix.insert(&moved).unwrap();
        assert_eq!(by_name(&ix, Market::CA, "jean tremblay"), vec![card(2)]);
        assert_eq!(
            ix.accounts_by_holder_name(Market::EU, "jean tremblay", crate::ports::MAX_INDEX_RESULTS).unwrap(),
            vec![indexed(&moved)]
        );
        assert!(ix.accounts_by_last_digits(Market::CA, &last5).unwrap().is_empty());
        assert_eq!(ix.len(), 2);
    }

    #[test]
    fn forget_alias_removes_only_what_that_resolution_taught() {
        let ix = AccountIndex::new(test_key());
        let a = acct("378282246310005");
        let b = acct("371449635398431");
        let alias = |account: &Account, resolution: &str| Alias {
            identity: "name:CA:jean tremblay".into(),
            account: account.card,
            learned_at: chrono::DateTime::UNIX_EPOCH,
            learned_by: "ann".into(),
            resolution: resolution.into(),
        };
        ix.learn_alias(&alias(&a, "RQ-1")).unwrap();
        ix.learn_alias(&alias(&b, "RQ-1")).unwrap();
        ix.forget_alias("name:CA:jean tremblay", &a.card, "RQ-2").unwrap();
        assert_eq!(ix.aliases_for("name:CA:jean tremblay").unwrap().len(), 2, "another resolution's");
        ix.forget_alias("name:CA:jean tremblay", &a.card, "RQ-1").unwrap();
        assert_eq!(ix.aliases_for("name:CA:jean tremblay").unwrap(), vec![alias(&b, "RQ-1")]);
        // Taught again by a later resolution: the earlier one's reversal leaves it.
        ix.learn_alias(&alias(&b, "RQ-3")).unwrap();
        ix.forget_alias("name:CA:jean tremblay", &b.card, "RQ-1").unwrap();
        assert_eq!(ix.aliases_for("name:CA:jean tremblay").unwrap(), vec![alias(&b, "RQ-3")]);
        ix.forget_alias("name:CA:jean tremblay", &b.card, "RQ-3").unwrap();
        assert!(ix.aliases_for("name:CA:jean tremblay").unwrap().is_empty());
        ix.forget_alias("name:CA:nobody", &b.card, "RQ-3").unwrap();
    }
}

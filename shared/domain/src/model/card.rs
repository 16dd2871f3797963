//! How the pipeline names a card at rest (issue 15, PCI DSS 4.0 3.5.1): never by its number.
//!
//! A card is stored as a `CardRef`: an HMAC-SHA-256 token of its number under the directory's
//! secret `CardKey`, and its last four digits (the most PCI DSS 3.4.1 lets a screen show). The
//! partial-number lookup ("ending 10005") works on a `LastFive` tag, an HMAC under a second key
//! derived from the same secret: unlike a plain truncation, it cannot be joined with the token
//! (3.5.1.1/2) by anyone who lacks the secret. Numbers read from payments or typed by an analyst
//! (`AccountNumber`, held only in memory) are hashed the same way to be looked up.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Serialize, Serializer};
use sha2_hmac::block_api::compress256;
use sha2_hmac::Sha256;

use crate::model::identifiers::AccountNumber;
use crate::model::payment::Market;

type HmacSha256 = Hmac<Sha256>;

/// Why a card key or a stored card reference was refused. Never quotes a secret or a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardKeyError {
    #[error("the card key must be at least {MIN_SECRET_BYTES} bytes of secret (got {0})")]
    TooShort(usize),
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("stored card reference is not `ct:` + 64 letters a-p + `:` + four digits")]
    StoredRef,
    #[error("stored last-five tag is not 32 letters a-p")]
    StoredTag,
}

/// The least secret a card key accepts: 256 bits, the HMAC-SHA-256 output size.
pub const MIN_SECRET_BYTES: usize = 32;

/// The directory's secret: keys the card tokens and the last-five tags. Cheap to clone (shared);
/// Debug shows nothing of it. Build one per process (cold start) from the key file or the secret.
#[derive(Clone)]
pub struct CardKey(Arc<Keys>);

struct Keys {
    token: ShortMac,
    last_five: ShortMac,
}

/// HMAC-SHA-256 (RFC 2104) of messages of at most 55 bytes, with the key's inner and outer pad
/// blocks absorbed once: a token is then two SHA-256 compressions and nothing else (the matcher
/// hashes every one-edit neighbour of a mistyped number, so this runs ~15 times per typo). The
/// `hmac` crate gives the same bytes (unit test); it is a third slower per call.
struct ShortMac {
    inner: [u32; 8],
    outer: [u32; 8],
    /// The CPU has the SHA extensions: `mac2` runs two messages' compressions interleaved.
    two_lanes: bool,
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// The longest message `ShortMac` takes: one block less the padding's marker and length.
const SHORT_MAC_MAX: usize = 55;

impl ShortMac {
    /// From a 32-byte key (shorter than a block: zero-padded, as HMAC pads it).
    fn new(key: &[u8; 32]) -> Self {
        let pad = |byte: u8| {
            let mut block = [byte; 64];
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut state = SHA256_IV;
            compress256(&mut state, &[block]);
            state
        };
        Self { inner: pad(0x36), outer: pad(0x5c), two_lanes: two_lanes::available() }
    }

    /// The MAC of `msg` (at most `SHORT_MAC_MAX` bytes).
    fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut inner = self.inner;
        compress256(&mut inner, &[inner_block(msg)]);
        let mut outer = self.outer;
        compress256(&mut outer, &[outer_block(&inner)]);
        digest_bytes(&outer)
    }

    /// The MACs of two messages: the same as `mac` of each (unit test). With the SHA
    /// extensions, the two messages' compressions run interleaved: one SHA-256 compression is a
    /// chain of dependent rounds (latency-bound), two messages' chains are independent.
    fn mac2(&self, a: &[u8], b: &[u8]) -> [[u8; 32]; 2] {
        if !self.two_lanes {
            return [self.mac(a), self.mac(b)];
        }
        let (mut inner_a, mut inner_b) = (self.inner, self.inner);
        two_lanes::compress2(&mut inner_a, &inner_block(a), &mut inner_b, &inner_block(b), self.two_lanes);
        let (mut outer_a, mut outer_b) = (self.outer, self.outer);
        two_lanes::compress2(
            &mut outer_a,
            &outer_block(&inner_a),
            &mut outer_b,
            &outer_block(&inner_b),
            self.two_lanes,
        );
        [digest_bytes(&outer_a), digest_bytes(&outer_b)]
    }
}

/// The inner hash's one block: the message (after the 64-byte pad block), padded.
fn inner_block(msg: &[u8]) -> [u8; 64] {
    assert!(msg.len() <= SHORT_MAC_MAX, "ShortMac takes at most {SHORT_MAC_MAX} bytes");
    let mut block = [0u8; 64];
    block[..msg.len()].copy_from_slice(msg);
    block[msg.len()] = 0x80;
    block[56..].copy_from_slice(&(((64 + msg.len()) * 8) as u64).to_be_bytes());
    block
}

/// The outer hash's one block: the 32-byte inner digest (after the outer pad block), padded.
fn outer_block(inner: &[u32; 8]) -> [u8; 64] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&digest_bytes(inner));
    block[32] = 0x80;
    block[56..].copy_from_slice(&(((64 + 32) * 8) as u64).to_be_bytes());
    block
}

/// A SHA-256 state written out as the digest's bytes (big-endian words).
fn digest_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Two SHA-256 compressions at once with the x86 SHA extensions (`ShortMac::mac2`), the same
/// instruction sequence as the `sha2` crate's SHA-NI backend, for two independent states with
/// their instructions interleaved. Used only when the CPU has them (`available`, checked once
/// per key); elsewhere `mac2` is two calls of `mac`.
#[cfg(target_arch = "x86_64")]
mod two_lanes {
    use core::arch::x86_64::*;

    /// SHA-256 round constants (FIPS 180-4, 4.2.2).
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// True when the CPU has the SHA extensions and the SSE levels the code below uses.
    pub(super) fn available() -> bool {
        std::is_x86_feature_detected!("sha")
            && std::is_x86_feature_detected!("sse2")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1")
    }

    /// Compresses `block_a` into `a` and `block_b` into `b`. `detected` must be `available()`
    /// (the caller keeps it from construction); without the extensions this panics rather than
    /// run an instruction the CPU lacks.
    pub(super) fn compress2(
        a: &mut [u32; 8],
        block_a: &[u8; 64],
        b: &mut [u32; 8],
        block_b: &[u8; 64],
        detected: bool,
    ) {
        assert!(detected, "compress2 needs the SHA extensions");
        // SAFETY: `detected` is `available()`: the CPU has every feature `compress2_sha` enables.
        unsafe { compress2_sha(a, block_a, b, block_b) }
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_state(s: &[u32; 8]) -> (__m128i, __m128i) {
        // SAFETY: `s` is 32 readable bytes; `loadu` takes any alignment.
        let (dcba, hgfe) =
            unsafe { (_mm_loadu_si128(s.as_ptr().cast()), _mm_loadu_si128(s.as_ptr().add(4).cast())) };
        let cdab = _mm_shuffle_epi32(dcba, 0xB1);
        let efgh = _mm_shuffle_epi32(hgfe, 0x1B);
        (_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0))
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn store_state(s: &mut [u32; 8], abef: __m128i, cdgh: __m128i) {
        let feba = _mm_shuffle_epi32(abef, 0x1B);
        let dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        let dcba = _mm_blend_epi16(feba, dchg, 0xF0);
        let hgef = _mm_alignr_epi8(dchg, feba, 8);
        // SAFETY: `s` is 32 writable bytes; `storeu` takes any alignment.
        unsafe {
            _mm_storeu_si128(s.as_mut_ptr().cast(), dcba);
            _mm_storeu_si128(s.as_mut_ptr().add(4).cast(), hgef);
        }
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load_block(block: &[u8; 64]) -> [__m128i; 4] {
        let mask = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0B, 0x0405_0607_0001_0203);
        // SAFETY: `block` is 64 readable bytes, four unaligned 16-byte loads within it.
        core::array::from_fn(|i| {
            _mm_shuffle_epi8(unsafe { _mm_loadu_si128(block.as_ptr().add(16 * i).cast()) }, mask)
        })
    }

    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn k4(r: usize) -> __m128i {
        _mm_set_epi32(K[4 * r + 3] as i32, K[4 * r + 2] as i32, K[4 * r + 1] as i32, K[4 * r] as i32)
    }

    /// Four rounds with `wk` (four message words plus their constants).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn rounds4(abef: &mut __m128i, cdgh: &mut __m128i, wk: __m128i) {
        *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
        *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }

    /// The next four message words from the last sixteen (`w0` the oldest).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
        let t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
        _mm_sha256msg2_epu32(t, w3)
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn compress2_sha(a: &mut [u32; 8], block_a: &[u8; 64], b: &mut [u32; 8], block_b: &[u8; 64]) {
        let (mut abef_a, mut cdgh_a) = load_state(a);
        let (mut abef_b, mut cdgh_b) = load_state(b);
        let (save_abef_a, save_cdgh_a, save_abef_b, save_cdgh_b) = (abef_a, cdgh_a, abef_b, cdgh_b);
        let mut wa = load_block(block_a);
        let mut wb = load_block(block_b);
        // Sixteen groups of four rounds; group r >= 4 first extends the schedule into slot r % 4.
        macro_rules! group {
            ($r:expr, $i:expr) => {{
                if $r >= 4 {
                    wa[$i] = schedule(wa[$i], wa[($i + 1) % 4], wa[($i + 2) % 4], wa[($i + 3) % 4]);
                    wb[$i] = schedule(wb[$i], wb[($i + 1) % 4], wb[($i + 2) % 4], wb[($i + 3) % 4]);
                }
                let k = k4($r);
                rounds4(&mut abef_a, &mut cdgh_a, _mm_add_epi32(wa[$i], k));
                rounds4(&mut abef_b, &mut cdgh_b, _mm_add_epi32(wb[$i], k));
            }};
        }
        group!(0, 0);
        group!(1, 1);
        group!(2, 2);
        group!(3, 3);
        group!(4, 0);
        group!(5, 1);
        group!(6, 2);
        group!(7, 3);
        group!(8, 0);
        group!(9, 1);
        group!(10, 2);
        group!(11, 3);
        group!(12, 0);
        group!(13, 1);
        group!(14, 2);
        group!(15, 3);
        store_state(a, _mm_add_epi32(abef_a, save_abef_a), _mm_add_epi32(cdgh_a, save_cdgh_a));
        store_state(b, _mm_add_epi32(abef_b, save_abef_b), _mm_add_epi32(cdgh_b, save_cdgh_b));
    }
}

/// Elsewhere than x86-64: never available, `mac2` is two calls of `mac`.
#[cfg(not(target_arch = "x86_64"))]
mod two_lanes {
    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn compress2(_: &mut [u32; 8], _: &[u8; 64], _: &mut [u32; 8], _: &[u8; 64], _: bool) {
        unreachable!("two lanes only on x86-64")
    }
}

impl CardKey {
    /// Derives the token and last-five keys from `secret` (two HMACs of fixed labels), so one
    /// secret serves both and neither key can be computed from the other's outputs.
    pub fn from_secret(secret: &[u8]) -> Result<Self, CardKeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(CardKeyError::TooShort(secret.len()));
        }
        let derive = |label: &[u8]| {
            let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length");
            mac.update(label);
            let key: [u8; 32] = mac.finalize().into_bytes().into();
            ShortMac::new(&key)
        };
        Ok(Self(Arc::new(Keys {
            token: derive(b"remit card token v1"),
            last_five: derive(b"remit last five v1"),
        })))
    }

    /// A fresh random secret of `MIN_SECRET_BYTES` (for a new key file, or a test's store).
    pub fn generate_secret() -> Result<[u8; MIN_SECRET_BYTES], CardKeyError> {
        let mut secret = [0u8; MIN_SECRET_BYTES];
        getrandom::fill(&mut secret).map_err(|e| CardKeyError::Random(e.to_string()))?;
        Ok(secret)
    }

    /// A key of fresh random secret, kept nowhere: for in-memory stores and tests.
    pub fn ephemeral() -> Self {
        // The OS random source failing is not something a test or an in-memory store recovers
        // from; a fixed secret would make tokens guessable, so fall back to the clock and the
        // address space only as a last resort (such a store holds no real data).
        let secret = Self::generate_secret().unwrap_or_else(|_| {
            let mut s = [7u8; MIN_SECRET_BYTES];
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            s[..16].copy_from_slice(&t.to_le_bytes());
            s
        });
        Self::from_secret(&secret).expect("32 bytes")
    }

    /// The card's reference at rest: its token and last four digits.
    pub fn card(&self, number: &AccountNumber) -> CardRef {
        let digits = number.expose().as_bytes();
        CardRef { token: self.0.token.mac(digits), last4: last4_of(digits) }
    }

    /// The cards of several numbers (the one-edit neighbours of a mistyped number): the same as
    /// `card` of each, hashed two at a time.
    pub fn cards(&self, numbers: &[AccountNumber]) -> Vec<CardRef> {
        let mut out = Vec::with_capacity(numbers.len());
        let mut pairs = numbers.chunks_exact(2);
        for pair in &mut pairs {
            let (a, b) = (pair[0].expose().as_bytes(), pair[1].expose().as_bytes());
            let [ta, tb] = self.0.token.mac2(a, b);
            out.push(CardRef { token: ta, last4: last4_of(a) });
            out.push(CardRef { token: tb, last4: last4_of(b) });
        }
        if let [n] = pairs.remainder() {
            out.push(self.card(n));
        }
        out
    }

    /// The tag under which the cards of `market` ending in `last5` (five ASCII digits) are found.
    pub fn last_five(&self, market: Market, last5: &str) -> LastFive {
        // `CA#10005`; a longer text than five digits is cut (the tag is of five digits).
        let mut msg = [0u8; SHORT_MAC_MAX];
        let code = market.code().as_bytes();
        let digits = &last5.as_bytes()[..last5.len().min(SHORT_MAC_MAX - code.len() - 1)];
        msg[..code.len()].copy_from_slice(code);
        msg[code.len()] = b'#';
        msg[code.len() + 1..code.len() + 1 + digits.len()].copy_from_slice(digits);
        let full = self.0.last_five.mac(&msg[..code.len() + 1 + digits.len()]);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&full[..16]);
        LastFive(tag)
    }

    /// The last-five tag of a card number in `market`.
    pub fn last_five_of(&self, market: Market, number: &AccountNumber) -> LastFive {
        let d = number.expose();
        self.last_five(market, &d[d.len() - 5..])
    }
}

/// The last four digits of a number's digits.
fn last4_of(digits: &[u8]) -> [u8; 4] {
    let mut last4 = [0u8; 4];
    last4.copy_from_slice(&digits[digits.len() - 4..]);
    last4
}

/// The key the crate's unit tests tokenise with (a fixed secret: tests compare tokens).
#[cfg(test)]
pub(crate) fn test_key() -> CardKey {
    CardKey::from_secret(&[7u8; MIN_SECRET_BYTES]).expect("32 bytes")
}

/// The card of `number` under `test_key`.
#[cfg(test)]
pub(crate) fn test_card(number: &str) -> CardRef {
    test_key().card(&number.parse().expect("a valid test number"))
}

impl fmt::Debug for CardKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardKey(secret)")
    }
}

/// A card at rest: the keyed token of its number and its last four digits. Display, Debug and
/// Serialize show the masked form (`***********1234`); `stored` gives the store's key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardRef {
    token: [u8; 32],
    last4: [u8; 4],
}

/// Token bytes written as letters `a`-`p` (one per half-byte): no digit at all, so a stored
/// token can never look like a card number to a scanner or to `mask_card_numbers`.
fn letters(bytes: &[u8], out: &mut String) {
    for b in bytes {
        out.push(char::from(b'a' + (b >> 4)));
        out.push(char::from(b'a' + (b & 0x0f)));
    }
}

fn from_letters(text: &str, out: &mut [u8]) -> bool {
    let t = text.as_bytes();
    if t.len() != out.len() * 2 || !t.iter().all(|b| (b'a'..=b'p').contains(b)) {
        return false;
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = ((t[2 * i] - b'a') << 4) | (t[2 * i + 1] - b'a');
    }
    true
}

impl CardRef {
    /// The store's key for this card: `ct:<token as 64 letters>:<last four>`.
    pub fn stored(&self) -> String {
        let mut s = String::with_capacity(72);
        s.push_str("ct:");
        letters(&self.token, &mut s);
        s.push(':');
        s.extend(self.last4.iter().map(|&b| char::from(b)));
        s
    }

    /// Reads `stored`'s form back.
    pub fn from_stored(text: &str) -> Result<Self, CardKeyError> {
        let rest = text.strip_prefix("ct:").ok_or(CardKeyError::StoredRef)?;
        let (token_text, last) = rest.split_once(':').ok_or(CardKeyError::StoredRef)?;
        let mut token = [0u8; 32];
        if !from_letters(token_text, &mut token)
            || last.len() != 4
            || !last.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(CardKeyError::StoredRef);
        }
        let mut last4 = [0u8; 4];
        last4.copy_from_slice(last.as_bytes());
        Ok(Self { token, last4 })
    }

    /// The token's bytes (an index key; not the number, not reversible without the secret).
    pub fn token(&self) -> &[u8; 32] {
        &self.token
    }

    /// The last four digits, the one part of the number a screen may show.
    pub fn last4(&self) -> &str {
        std::str::from_utf8(&self.last4).expect("ASCII digits")
    }

    /// The masked form, the same as `AccountNumber::masked` shows: eleven stars, last four.
    pub fn masked(&self) -> String {
        let mut s = String::with_capacity(15);
        s.push_str("***********");
        s.push_str(self.last4());
        s
    }
}

impl fmt::Display for CardRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for CardRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardRef({})", self.masked())
    }
}

impl Serialize for CardRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

/// The keyed tag of a card's market and last five digits: the partial-number index key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LastFive([u8; 16]);

impl LastFive {
    /// The store's form: 32 letters `a`-`p`.
    pub fn stored(&self) -> String {
        let mut s = String::with_capacity(32);
        letters(&self.0, &mut s);
        s
    }

    /// Reads `stored`'s form back.
    pub fn from_stored(text: &str) -> Result<Self, CardKeyError> {
        let mut tag = [0u8; 16];
        if from_letters(text, &mut tag) {
            Ok(Self(tag))
        } else {
            Err(CardKeyError::StoredTag)
        }
    }
}

impl fmt::Debug for LastFive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LastFive(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(s: &str) -> AccountNumber {
        s.parse().unwrap()
    }

    // 378282246310005: American Express's published test number (not a real card).
    const TEST_CARD: &str = "3782 822463 10005";

    #[test]
    fn a_token_is_stable_under_one_key_and_differs_under_another() {
        let key = CardKey::from_secret(&[1u8; 32]).unwrap();
        let other = CardKey::from_secret(&[2u8; 32]).unwrap();
        let n = number(TEST_CARD);
        assert_eq!(key.card(&n), key.card(&n));
        assert_ne!(key.card(&n).token(), other.card(&n).token());
        assert_eq!(key.card(&n).last4(), "0005");
        assert_eq!(key.card(&n).masked(), "***********0005");
    }

    #[test]
    fn the_stored_form_reads_back_and_holds_no_digit_but_the_last_four() {
        let key = CardKey::from_secret(&[9u8; 40]).unwrap();
        let card = key.card(&number(TEST_CARD));
        let stored = card.stored();
        assert_eq!(CardRef::from_stored(&stored).unwrap(), card);
        assert_eq!(stored.bytes().filter(u8::is_ascii_digit).count(), 4, "{stored}");
        assert!(!stored.contains("3782"));
        let tag = key.last_five_of(Market::CA, &number(TEST_CARD));
        assert_eq!(LastFive::from_stored(&tag.stored()).unwrap(), tag);
        assert!(tag.stored().bytes().all(|b| b.is_ascii_lowercase()));
        assert!(CardRef::from_stored("ct:abc:0005").is_err());
    }

    #[test]
    fn last_five_tags_are_per_market_and_not_the_token() {
        let key = CardKey::from_secret(&[3u8; 32]).unwrap();
        let n = number(TEST_CARD);
        assert_eq!(key.last_five_of(Market::CA, &n), key.last_five(Market::CA, "10005"));
        assert_ne!(key.last_five(Market::CA, "10005"), key.last_five(Market::IN, "10005"));
        assert_ne!(&key.last_five(Market::CA, "10005").0[..], &key.card(&n).token()[..16]);
    }

    /// RFC 4231, 4.3 "Test Case 2": Key = "Jefe", Data = "what do ya want for nothing?",
    /// HMAC-SHA-256 = 5bdcc146...64ec3843. A key shorter than a block is zero-padded (RFC 2104),
    /// so "Jefe" padded to 32 bytes is the same key.
    #[test]
    fn the_short_mac_gives_rfc_4231_test_case_2() {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = ShortMac::new(&key).mac(b"what do ya want for nothing?");
        assert_eq!(hex::encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn the_short_mac_is_hmac_sha256() {
        // RFC 4231 test case 2 has a 4-byte key; ShortMac takes 32 (zero-padded like HMAC).
        let key = [0x0bu8; 32];
        let short = ShortMac::new(&key);
        for msg in [&b""[..], b"3", b"378282246310005", b"CA#10005", &[0xa5u8; 55][..]] {
            let mut reference = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
            reference.update(msg);
            let expected: [u8; 32] = reference.finalize().into_bytes().into();
            assert_eq!(short.mac(msg), expected, "{} bytes", msg.len());
        }
    }

    /// Two lanes give what one gives: the RFC 4231 vector in either lane, and every length a
    /// `ShortMac` takes, against `mac` and against the `hmac` crate.
    #[test]
    fn two_lanes_give_the_single_lane_macs() {
        let mut jefe = [0u8; 32];
        jefe[..4].copy_from_slice(b"Jefe");
        let short = ShortMac::new(&jefe);
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let [a, b] = short.mac2(b"what do ya want for nothing?", b"x");
        assert_eq!(hex::encode(a), expected);
        assert_eq!(b, short.mac(b"x"));
        let [a, b] = short.mac2(b"", b"what do ya want for nothing?");
        assert_eq!((a, hex::encode(b)), (short.mac(b""), expected.to_string()));

        let key = [0x5au8; 32];
        let short = ShortMac::new(&key);
        let msgs: Vec<Vec<u8>> =
            (0..=SHORT_MAC_MAX).map(|n| (0..n).map(|i| (i * 37 + n) as u8).collect()).collect();
        for (x, y) in msgs.iter().zip(msgs.iter().rev()) {
            let [mx, my] = short.mac2(x, y);
            assert_eq!(mx, short.mac(x), "{} bytes", x.len());
            assert_eq!(my, short.mac(y), "{} bytes", y.len());
            let mut reference = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
            reference.update(x);
            let expected: [u8; 32] = reference.finalize().into_bytes().into();
            assert_eq!(mx, expected);
        }
        // The portable path gives the same (where the CPU has the extensions, both are tested).
        let portable = ShortMac { two_lanes: false, ..ShortMac::new(&key) };
        assert_eq!(portable.mac2(&msgs[15], &msgs[8]), short.mac2(&msgs[15], &msgs[8]));
    }

    #[test]
    fn cards_are_card_of_each() {
        let key = CardKey::from_secret(&[4u8; 32]).unwrap();
        // The two published Amex test numbers used elsewhere in the crate's tests.
        let numbers: Vec<AccountNumber> =
            [TEST_CARD, "371449635398431", TEST_CARD].iter().map(|n| number(n)).collect();
        for k in 0..=numbers.len() {
            let one: Vec<CardRef> = numbers[..k].iter().map(|n| key.card(n)).collect();
            assert_eq!(key.cards(&numbers[..k]), one);
        }
    }

    #[test]
    fn no_short_secret_and_nothing_shown() {
        assert_eq!(CardKey::from_secret(&[0u8; 16]).unwrap_err(), CardKeyError::TooShort(16));
        let key = CardKey::ephemeral();
        assert_eq!(format!("{key:?}"), "CardKey(secret)");
        let card = key.card(&number(TEST_CARD));
        assert_eq!(format!("{card} {card:?}"), "***********0005 CardRef(***********0005)");
        assert_eq!(serde_json::to_string(&card).unwrap(), "\"***********0005\"");
    }
}

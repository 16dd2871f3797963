//! Identities that make effects exactly-once: a file by its bytes, a payment by its bank's key.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A file's identity: the SHA-256 of its bytes, so a re-dropped file under another name is
/// recognised as the same file.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId([u8; 32]);

impl FileId {
    /// The id a first pass's payments carry while the file is being hashed: they are counted
    /// and checked, never stored.
    pub const PENDING: FileId = FileId([0; 32]);

    /// Hashes a whole byte slice.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Hashes a stream without holding it in memory.
    pub fn of_reader(mut r: impl std::io::Read) -> std::io::Result<Self> {
        let mut h = Sha256::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(Self(h.finalize().into()))
    }

    /// The identity a hasher fed with a file's bytes gives (the first pass hashes as it reads).
    pub(crate) fn of_digest(h: Sha256) -> Self {
        Self(h.finalize().into())
    }

    /// Lower-case hex, the form stores and messages use.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// First twelve hex digits, enough for a person to tell files apart.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }
}

impl FromStr for FileId {
    type Err = hex::FromHexError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b)?;
        Ok(Self(b))
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileId({})", self.short())
    }
}

impl Serialize for FileId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// A payment's deterministic identity across files and deliveries: the same payment delivered
/// twice has the same key, so it posts once.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PaymentKey(String);

impl Serialize for PaymentKey {
    /// Masked: a key embeds the bank's reference, which a payer may have filled with a card number.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::text::masking::serialize_masked(&self.0, s)
    }
}

impl PaymentKey {
    /// Builds a key from parts joined by `|` (parts never contain it after escaping).
    pub fn from_parts(parts: &[&str]) -> Self {
        let escaped: Vec<String> = parts.iter().map(|p| p.trim().replace('|', "¦")).collect();
        Self(escaped.join("|"))
    }

    /// Wraps a key read back from a store.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::masking::mask_card_numbers(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_id_is_content_hash() {
        let a = FileId::of_bytes(b"abc");
        assert_eq!(a, FileId::of_reader(&b"abc"[..]).unwrap());
        assert_eq!(a.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(a.to_hex().parse::<FileId>().unwrap(), a);
    }
}

//! Who is calling: bearer tokens, stored as SHA-256 hashes and compared in constant time, each
//! naming an analyst, a role and the markets the caller works.
//!
//! The token file (TOML) lists one `[[token]]` table per token:
//!
//! ```toml
//! [[token]]
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # or: token = "..."
//! analyst = "amelie.ca"
//! role = "analyst"            # analyst | lead | leadership
//! markets = ["CA"]            # leadership reads every market whatever this says
//! ```
//!
//! A plain `token` is hashed on load and never kept; `sha256` (lowercase hex) keeps the secret
//! out of the file altogether (`printf %s TOKEN | sha256sum`).

use std::path::Path;

use remit_domain::research::queue::check_analyst;
use remit_domain::Market;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and works the queues of their markets.
    Analyst,
    /// An analyst who may also approve or reject write-offs (the second pair of eyes).
    Lead,
    /// Reads every market's queue and may add notes; changes nothing else.
    Leadership,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub analyst: String,
    pub role: Role,
    pub markets: Vec<Market>,
}

impl Caller {
    /// Whether the caller may read `market`'s queue and items.
    pub fn can_read(&self, market: Market) -> bool {
        self.role == Role::Leadership || self.markets.contains(&market)
    }

    /// Whether the caller may change items of `market` (claim, resolve, ...; notes aside).
    pub fn can_act(&self, market: Market) -> bool {
        self.role != Role::Leadership && self.markets.contains(&market)
    }

    /// The markets the caller reads.
    pub fn readable_markets(&self) -> Vec<Market> {
        Market::ALL.into_iter().filter(|m| self.can_read(*m)).collect()
    }
}

/// A token table: SHA-256 of each token and who it stands for.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    entries: Vec<([u8; 32], Caller)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    token: Option<String>,
    sha256: Option<String>,
    analyst: String,
    role: Role,
    #[serde(default)]
    markets: Vec<String>,
}

/// SHA-256 of a token.
/// The example token file shipped with the repository: its tokens are public.
const EXAMPLE_TOKENS: &str = include_str!("../../../config/tokens.example.toml");

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Tokens {
    /// An empty table (every request is refused with 401).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token (kept hashed only).
    pub fn insert(&mut self, token: &str, caller: Caller) {
        self.entries.push((hash_token(token), caller));
    }

    /// Adds a token given by its SHA-256.
    pub fn insert_hashed(&mut self, sha256: [u8; 32], caller: Caller) {
        self.entries.push((sha256, caller));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses a token file (TOML, see the module documentation).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: TokenFile = toml::from_str(text).map_err(|e| format!("not a valid token file: {e}"))?;
        let mut tokens = Tokens::new();
        for (i, e) in file.token.into_iter().enumerate() {
            let at = format!("token {} ({})", i + 1, e.analyst);
            check_analyst(&e.analyst).map_err(|err| format!("{at}: {err}"))?;
            let mut markets = Vec::new();
            for m in &e.markets {
                markets.push(m.parse::<Market>().map_err(|err| format!("{at}: {err}"))?);
            }
            if markets.is_empty() && e.role != Role::Leadership {
                return Err(format!("{at}: an {:?} needs at least one market", e.role));
            }
            let hash = match (&e.token, &e.sha256) {
                (Some(t), None) if t.len() >= 16 => hash_token(t),
                (Some(_), None) => return Err(format!("{at}: a token must be at least 16 characters")),
                (None, Some(h)) => {
                    let bytes = hex::decode(h.trim()).map_err(|_| format!("{at}: sha256 is not hex"))?;
                    bytes.try_into().map_err(|_| format!("{at}: sha256 must be 32 bytes (64 hex digits)"))?
                }
                _ => return Err(format!("{at}: give exactly one of `token` and `sha256`")),
            };
            if tokens.entries.iter().any(|(h, _)| *h == hash) {
                return Err(format!("{at}: the same token twice"));
            }
            tokens.insert_hashed(hash, Caller { analyst: e.analyst, role: e.role, markets });
        }
        Ok(tokens)
    }

    /// Reads a token file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The analysts whose token is one of the published examples (`config/tokens.example.toml`):
    /// anyone who read the repository can use them (issue 15). Empty for a real token file.
    pub fn example_analysts(&self) -> Vec<String> {
        let examples = Tokens::parse(EXAMPLE_TOKENS).unwrap_or_default();
        let mut out: Vec<String> = self
            .entries
            .iter()
            .filter(|(h, _)| examples.entries.iter().any(|(e, _)| bool::from(e.ct_eq(h))))
            .map(|(_, c)| c.analyst.clone())
            .collect();
        out.dedup();
        out
    }

    /// The caller a token stands for. Every entry is compared, in constant time, whatever
    /// matches, so timing tells nothing about which hash is close.
    pub fn authenticate(&self, token: &str) -> Option<&Caller> {
        let h = hash_token(token);
        let mut found = None;
        for (stored, caller) in &self.entries {
            if bool::from(stored.ct_eq(&h)) {
                found = Some(caller);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: the example tokens loaded without a word; they are public.
    #[test]
    fn the_example_tokens_are_told_apart_from_real_ones() {
        let examples = Tokens::parse(EXAMPLE_TOKENS).unwrap();
        assert!(examples.example_analysts().contains(&"amelie.ca".to_string()));
        let own = Tokens::parse(
            "[[token]]\ntoken = \"a-token-of-our-own-0001\"\nanalyst = \"amelie.ca\"\nrole = \"analyst\"\nmarkets = [\"CA\"]\n",
        )
        .unwrap();
        assert!(own.example_analysts().is_empty());
    }

    #[test]
    fn parses_and_authenticates() {
        let hashed = hex::encode(hash_token("leadership-token-0001"));
        let text = format!(
            r#"
[[token]]
token = "canada-token-0000001"
analyst = "amelie.ca"
role = "analyst"
markets = ["CA"]

[[token]]
sha256 = "{hashed}"
analyst = "dana.lead"
role = "leadership"
"#
        );
        let t = Tokens::parse(&text).unwrap();
        assert_eq!(t.len(), 2);
        let ca = t.authenticate("canada-token-0000001").unwrap();
        assert!(ca.can_read(Market::CA) && !ca.can_read(Market::IN));
        let boss = t.authenticate("leadership-token-0001").unwrap();
        assert!(boss.can_read(Market::IN) && !boss.can_act(Market::IN));
        assert!(t.authenticate("canada-token-0000002").is_none());
        assert!(t.authenticate("").is_none());
    }

    #[test]
    fn refuses_bad_files() {
        for bad in [
            "[[token]]\ntoken = \"short\"\nanalyst = \"a\"\nrole = \"analyst\"\nmarkets = [\"CA\"]",
            "[[token]]\ntoken = \"long-enough-token-1\"\nanalyst = \"a\"\nrole = \"analyst\"",
            "[[token]]\ntoken = \"long-enough-token-1\"\nanalyst = \"a\"\nrole = \"analyst\"\nmarkets = [\"XX\"]",
            "[[token]]\nsha256 = \"zz\"\nanalyst = \"a\"\nrole = \"lead\"\nmarkets = [\"CA\"]",
            "[[token]]\ntoken = \"long-enough-token-1\"\nanalyst = \"a b\"\nrole = \"lead\"\nmarkets = [\"CA\"]",
        ] {
            assert!(Tokens::parse(bad).is_err(), "{bad}");
        }
    }
}

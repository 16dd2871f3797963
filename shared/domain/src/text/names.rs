//! Person and company names as evidence: folded to ASCII, honorifics and kinship clauses
//! dropped, compared word by word in any order, initials agreeing with the word they abbreviate.
//!
//! "TREMBLAY JEAN" = "Jean Tremblay"; "M. J. Tremblay" ~ "Jean Tremblay"; "Côté" = "COTE";
//! "Shri R. Kumar S/O Suresh" ~ "Ramesh Kumar"; "RAMESHKUMAR" ~ "Ramesh Kumar".

use deunicode::deunicode;

/// Titles and honorifics dropped before comparing (lower case, dots removed): `is_honorific`
/// matches exactly these (unit test).
#[cfg(test)]
const HONORIFICS: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "m", "mme", "mlle", "dr", "prof", "sir", "dame", "shri", "sri", "shree",
    "smt", "srimati", "kum", "kumari", "km", "herr", "frau", "fr", "hr", "dhr", "mevr", "sig", "sra", "sr",
    "sgr", "mons", "messrs", "mssrs", "the", "late", "jr", "snr", "jnr",
];

/// `HONORIFICS.contains(w)`, as one `match` (this runs for every word of every name compared).
fn is_honorific(w: &str) -> bool {
    matches!(
        w,
        "mr" | "mrs"
            | "ms"
            | "miss"
            | "mx"
            | "m"
            | "mme"
            | "mlle"
            | "dr"
            | "prof"
            | "sir"
            | "dame"
            | "shri"
            | "sri"
            | "shree"
            | "smt"
            | "srimati"
            | "kum"
            | "kumari"
            | "km"
            | "herr"
            | "frau"
            | "fr"
            | "hr"
            | "dhr"
            | "mevr"
            | "sig"
            | "sra"
            | "sr"
            | "sgr"
            | "mons"
            | "messrs"
            | "mssrs"
            | "the"
            | "late"
            | "jr"
            | "snr"
            | "jnr"
    )
}

/// Clauses that introduce someone else's name ("son of ..."): the rest of the name is dropped.
const KINSHIP: &[&str] = &["s/o", "d/o", "w/o", "c/o", "h/o", "son of", "daughter of", "wife of", "care of"];

/// A name prepared for comparison: ASCII lower-case words without honorifics.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NormalName {
    words: Vec<String>,
}

impl NormalName {
    /// Folds accents, lower-cases, drops honorifics and anything from "S/O", "D/O"... on.
    pub fn new(raw: &str) -> Self {
        let mut folded = if raw.is_ascii() { raw.to_string() } else { deunicode(raw) };
        folded.make_ascii_lowercase();
        if folded.contains('/') || folded.contains(" of ") {
            for k in KINSHIP {
                if let Some(at) = find_clause(&folded, k) {
                    folded.truncate(at);
                }
            }
        }
        let dotted = folded.contains('.');
        let mut words = Vec::with_capacity(4);
        // Words are runs of ASCII letters, digits, dots and apostrophes (byte by byte: any
        // other byte, a non-ASCII one included, only separates).
        let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'\'';
        let bytes = folded.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if !word_byte(bytes[at]) {
                at += 1;
                continue;
            }
            let start = at;
            let mut quoted = false;
            while at < bytes.len() && word_byte(bytes[at]) {
                quoted |= bytes[at] == b'\'';
                at += 1;
            }
            let w = &folded[start..at];
            let w = if dotted || quoted { w.replace(['.', '\''], "") } else { w.to_string() };
            if w.is_empty() || is_honorific(&w) {
                continue;
            }
            // "J.P." became "jp": two initials.
            if dotted && w.len() == 2 && raw_was_dotted(&folded, &w) {
                words.extend(w.chars().map(String::from));
            } else {
                words.push(w);
            }
        }
        Self { words }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Words sorted and joined: the same key for "TREMBLAY JEAN" and "Jean Tremblay" (alias keys).
    pub fn key(&self) -> String {
        let mut out = String::new();
        self.push_key(&mut out);
        out
    }

    /// Appends `key` to `out` (without copying the words to sort them).
    pub fn push_key(&self, out: &mut String) {
        let mut few: [&str; 8] = [""; 8];
        let mut many: Vec<&str> = Vec::new();
        let sorted: &mut [&str] = if self.words.len() <= few.len() {
            for (slot, w) in few.iter_mut().zip(&self.words) {
                *slot = w;
            }
            &mut few[..self.words.len()]
        } else {
            many.extend(self.words.iter().map(String::as_str));
            &mut many
        };
        sorted.sort_unstable();
        out.reserve(sorted.iter().map(|w| w.len() + 1).sum());
        for (i, w) in sorted.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(w);
        }
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// At most this many keys per holder name in the name index (a name of many words still
/// costs a bounded number of index entries).
pub const MAX_NAME_KEYS: usize = 4;

impl NormalName {
    /// The key a payer's name is looked up under in the holder-name index: the sorted words
    /// (`key`), so "TREMBLAY JEAN", "M. Jean Tremblay" and "Jean Tremblay" look up the same,
    /// and "J Tremblay" looks up the initials form `holder_name_keys` writes.
    pub fn lookup_key(&self) -> Option<String> {
        // A single word or initials alone never identify anyone.
        let full = self.words.iter().filter(|w| w.len() > 1).count();
        (self.words.len() >= 2 && full >= 1).then(|| self.key())
    }
}

/// The holder-name index keys of an account holder's name: the full key, and the forms a
/// payer writes with initials (each full word kept, every other word cut to its initial:
/// "jean pierre tremblay" also under "j p tremblay", "j pierre t", "jean p t"), at most
/// `MAX_NAME_KEYS`. Both stores and the in-memory index write exactly these.
pub fn holder_name_keys(holder: &str) -> Vec<String> {
    let n = NormalName::new(holder);
    let mut out: Vec<String> = Vec::new();
    let Some(full) = n.lookup_key() else { return out };
    out.push(full);
    // Longest words first: a surname kept whole is the likeliest payer's spelling.
    let mut order: Vec<usize> = (0..n.words.len()).filter(|&i| n.words[i].len() > 1).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(n.words[i].len()));
    for keep in order {
        if out.len() >= MAX_NAME_KEYS {
            break;
        }
        let mut w: Vec<String> = n
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == keep { w.clone() } else { w[..1].to_string() })
            .collect();
        w.sort();
        let k = w.join(" ");
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// Where a kinship clause starts, as a whole word ("s/o" not inside "gus/os").
fn find_clause(text: &str, clause: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(clause) {
        let at = from + i;
        let before_ok = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        let end = at + clause.len();
        let after_ok = end >= text.len() || !text.as_bytes()[end].is_ascii_alphanumeric();
        if before_ok && after_ok && at > 0 {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// True when `word` (two letters) was written with dots ("J.P."): initials, not a name.
fn raw_was_dotted(folded: &str, word: &str) -> bool {
    let b = word.as_bytes();
    let pattern = format!("{}.{}", b[0] as char, b[1] as char);
    folded.replace(' ', "").contains(&pattern)
}

/// How well two names agree, in [0, 1]: 1 the same person's name written differently,
/// around 0.85 with initials or a missing middle name, below 0.5 someone else.
pub fn similarity(a: &NormalName, b: &NormalName) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Concatenated forms: "RAMESHKUMAR" vs "Ramesh Kumar", in either order.
    // (Compared byte by byte, without building the joined strings.)
    if a.words.len() != b.words.len() {
        let len = |n: &NormalName| n.words.iter().map(String::len).sum::<usize>();
        let joined_a = || a.words.iter().flat_map(|w| w.bytes());
        if len(a) == len(b)
            && (joined_a().eq(b.words.iter().flat_map(|w| w.bytes()))
                || joined_a().eq(b.words.iter().rev().flat_map(|w| w.bytes())))
        {
            return 0.95;
        }
    }
    let (short, long) = if a.words.len() <= b.words.len() { (a, b) } else { (b, a) };
    let mut few = [false; 8];
    let mut many = Vec::new();
    let used: &mut [bool] = if long.words.len() <= few.len() {
        &mut few[..long.words.len()]
    } else {
        many.resize(long.words.len(), false);
        &mut many
    };
    let mut word_scores = 0.0;
    let mut full_words = 0;
    for w in &short.words {
        let mut best = (0.0, None);
        for (j, v) in long.words.iter().enumerate() {
            if used[j] {
                continue;
            }
            let s = word_score(w, v);
            if s > best.0 {
                best = (s, Some(j));
            }
        }
        if let (s, Some(j)) = best {
            if s > 0.0 {
                used[j] = true;
                word_scores += s;
                if s >= 0.9 && w.len() > 1 && long.words[j].len() > 1 {
                    full_words += 1;
                }
            }
        }
    }
    let extra = (long.words.len() - short.words.len()) as f64;
    // A name similarity in 0..=1 (no money here): words matched over words to match.
    let score = word_scores / (short.words.len() as f64 + 0.25 * extra);
    if full_words == 0 {
        // Initials alone never identify anyone.
        return score.min(0.5);
    }
    score.min(1.0)
}

/// One word against another: equal 1, a likely misspelling by Jaro-Winkler, an initial 0.8.
fn word_score(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.len() == 1 || b.len() == 1 {
        return if a.as_bytes()[0] == b.as_bytes()[0] { 0.8 } else { 0.0 };
    }
    // German umlauts written out: "Mueller" for "Müller" (folded to "muller"). Words without
    // those pairs fold to themselves, and differ.
    let fold = |w: &str| w.replace("ae", "a").replace("oe", "o").replace("ue", "u");
    let foldable = |w: &str| w.contains("ae") || w.contains("oe") || w.contains("ue");
    if a.len() != b.len()
        && a.as_bytes()[0] == b.as_bytes()[0]
        && (foldable(a) || foldable(b))
        && fold(a) == fold(b)
    {
        return 0.95;
    }
    if a.len().min(b.len()) < 4 || !may_be_misspelling(a, b) {
        return 0.0;
    }
    let jw = strsim::jaro_winkler(a, b);
    if jw >= 0.92 {
        jw * 0.95
    } else {
        0.0
    }
}

/// False when Jaro-Winkler cannot reach 0.92 whatever the order of the letters: Jaro is at
/// most (m/|a| + m/|b| + 1) / 3 with m the letters the words share (counted with
/// multiplicity), and Winkler's prefix bonus at most 0.4 of what is left. Most word pairs of
/// different names stop here, without the full comparison.
fn may_be_misspelling(a: &str, b: &str) -> bool {
    let mut counts = [0i16; 128];
    for &c in a.as_bytes() {
        counts[usize::from(c & 0x7f)] += 1;
    }
    let mut shared = 0u32;
    for &c in b.as_bytes() {
        let k = &mut counts[usize::from(c & 0x7f)];
        if *k > 0 {
            *k -= 1;
            shared += 1;
        }
    }
    let (m, la, lb) = (f64::from(shared), a.chars().count() as f64, b.chars().count() as f64);
    let jaro = (m / la + m / lb + 1.0) / 3.0;
    jaro + 0.4 * (1.0 - jaro) >= 0.92 - 1e-9
}

/// First letters of a name's words, folded to ASCII lower case, as a set of 26 bits: a cheap
/// filter before the full comparison (names that agree at 0.85 or more share their words'
/// first letters). Indexes may keep it per holder name.
pub fn initials(name: &str) -> u32 {
    let mut set = 0u32;
    let mut at_start = true;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if at_start {
                let folded = if c.is_ascii() {
                    c
                } else {
                    deunicode::deunicode_char(c).and_then(|s| s.chars().next()).unwrap_or(c)
                };
                let l = folded.to_ascii_lowercase();
                if l.is_ascii_lowercase() {
                    set |= 1 << (l as u32 - 'a' as u32);
                }
            }
            at_start = false;
        } else {
            at_start = true;
        }
    }
    set
}

/// Name similarity of two raw names.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    similarity(&NormalName::new(a), &NormalName::new(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_name_keys_cover_order_accents_titles_and_initials() {
        let keys = holder_name_keys("Jean-Pierre Côté");
        assert_eq!(keys[0], "cote jean pierre");
        for payer in ["COTE JEAN PIERRE", "M. Jean Pierre Côté", "J P COTE", "J.P. Côté"] {
            let k = NormalName::new(payer).lookup_key().unwrap();
            assert!(keys.contains(&k), "{payer}: {k} not in {keys:?}");
        }
        assert!(keys.len() <= MAX_NAME_KEYS);
        assert_eq!(NormalName::new("Tremblay").lookup_key(), None, "one word names nobody");
        assert_eq!(NormalName::new("J T").lookup_key(), None, "initials alone name nobody");
        assert!(holder_name_keys("Cher").is_empty());
    }

    #[test]
    fn accents_and_word_order() {
        assert_eq!(name_similarity("TREMBLAY JEAN", "Jean Tremblay"), 1.0);
        assert_eq!(name_similarity("COTE MARIE-EVE", "Marie-Ève Côté"), 1.0);
        assert!(name_similarity("Müller Sophie", "Sophie MUELLER") >= 0.95);
        assert!(name_similarity("BELANGER FRANCOIS", "François Bélanger") == 1.0);
    }

    #[test]
    fn honorifics_are_dropped() {
        for payer in ["Mr Jean Tremblay", "M. Jean Tremblay", "Dr. TREMBLAY Jean", "Herr Jean Tremblay"] {
            assert_eq!(name_similarity(payer, "Jean Tremblay"), 1.0, "{payer}");
        }
        assert_eq!(name_similarity("Mme Marie Côté", "Marie Cote"), 1.0);
        assert_eq!(name_similarity("Frau Sophie Müller", "Sophie Muller"), 1.0);
        assert_eq!(name_similarity("SHRI RAMESH KUMAR", "Ramesh Kumar"), 1.0);
        assert_eq!(name_similarity("Smt. Lakshmi Iyer", "LAKSHMI IYER"), 1.0);
    }

    #[test]
    fn initials_agree_with_the_words_they_abbreviate() {
        let s = name_similarity("J TREMBLAY", "Jean Tremblay");
        assert!((0.85..1.0).contains(&s), "{s}");
        let s = name_similarity("J.P. Tremblay", "Jean Pierre Tremblay");
        assert!((0.85..1.0).contains(&s), "{s}");
        assert!(name_similarity("J T", "Jean Tremblay") <= 0.5, "initials alone");
        assert!(name_similarity("K TREMBLAY", "Jean Tremblay") < 0.7);
    }

    #[test]
    fn indian_naming() {
        // Father's name after S/O or D/O is someone else's.
        assert_eq!(name_similarity("RAMESH KUMAR S/O SURESH KUMAR", "Ramesh Kumar"), 1.0);
        assert_eq!(name_similarity("PRIYA SHARMA D/O R SHARMA", "Priya Sharma"), 1.0);
        let s = name_similarity("K. RAMESH", "Ramesh Kumar");
        assert!(s >= 0.85, "initial of the family name first: {s}");
        assert!(name_similarity("RAMESHKUMAR", "Ramesh Kumar") >= 0.9);
        assert!(name_similarity("Sri R Venkatesh", "Venkatesh Raghavan") >= 0.85);
    }

    #[test]
    fn different_people_disagree() {
        assert!(name_similarity("Marie Côté", "Jean Tremblay") < 0.3);
        assert!(name_similarity("Jean Côté", "Jean Tremblay") <= 0.5);
        assert!(name_similarity("", "Jean Tremblay") == 0.0);
    }

    #[test]
    fn is_honorific_is_the_list() {
        for h in HONORIFICS {
            assert!(is_honorific(h), "{h}");
            assert!(!is_honorific(&format!("{h}x")) || HONORIFICS.contains(&format!("{h}x").as_str()));
        }
        for w in ["jean", "mrx", "", "tremblay", "s", "srim"] {
            assert!(!is_honorific(w), "{w}");
        }
    }

    #[test]
    fn keys_ignore_order_and_titles() {
        assert_eq!(NormalName::new("TREMBLAY JEAN").key(), NormalName::new("Mr. Jean Tremblay").key());
    }
}

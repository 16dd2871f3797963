//! Source routing: which reader a file gets, from its S3 key prefix or from detection rules on
//! its first bytes, pointing either at a profile file or at a native reader (CPA-005, camt,
//! MT940, India CSV/JSON keep their hand-written fast paths). Configured in
//! `profiles/routing.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ProfileError;
use crate::Format;

/// What to read a file with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A profile file (path resolved against the routing file's folder).
    Profile(PathBuf),
    /// A native reader.
    Native(Format),
    /// Nothing matched and content detection failed.
    Unknown,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingDoc {
    #[serde(default)]
    route: Vec<RuleDoc>,
}

/// One `[[route]]`: conditions (all must hold) and a target (profile or native).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    /// S3 key prefix, e.g. `ca/rbc/billpay/`.
    prefix: Option<String>,
    /// The file starts with this text (after a UTF-8 BOM).
    starts_with: Option<String>,
    /// The file starts with these bytes, in hex (for EBCDIC files).
    starts_with_hex: Option<String>,
    /// Every one of these texts appears in the first 8 KiB (header names, say).
    #[serde(default)]
    contains: Vec<String>,
    profile: Option<String>,
    native: Option<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    prefix: Option<String>,
    starts_with: Option<Vec<u8>>,
    contains: Vec<Vec<u8>>,
    target: Route,
}

/// The compiled routing table.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    rules: Vec<Rule>,
}

fn native(name: &str) -> Option<Format> {
    Some(match name {
        "cpa005" => Format::Cpa005,
        "camt052" => Format::Camt052,
        "camt053" => Format::Camt053,
        "camt054" => Format::Camt054,
        "mt940" => Format::Mt940,
        "mt942" => Format::Mt942,
        "india-csv" => Format::IndiaCsv,
        "india-json" => Format::IndiaJson,
        _ => return None,
    })
}

fn hex(text: &str) -> Option<Vec<u8>> {
    let t: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    t.chunks(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok()).collect()
}

impl Routing {
    /// Parses routing TOML; profile paths are resolved against `base`.
    pub fn from_toml(file: &str, base: &Path, text: &str) -> Result<Self, ProfileError> {
        let doc: RoutingDoc = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.into(),
            message: e.to_string().trim_end().into(),
        })?;
        let bad = |i: usize, key: &str, problem: String| ProfileError::InFile {
            file: file.into(),
            key: format!("route[{i}].{key}"),
            problem,
        };
        let mut rules = Vec::new();
        for (i, r) in doc.route.into_iter().enumerate() {
            let target = match (&r.profile, &r.native) {
                (Some(p), None) => Route::Profile(base.join(p)),
                (None, Some(n)) => Route::Native(native(n).ok_or_else(|| {
                    bad(
                        i,
                        "native",
                        format!("{n:?} is not cpa005, camt052, camt053, camt054, mt940, mt942, india-csv or india-json"),
                    )
                })?),
                _ => return Err(bad(i, "profile", "a route needs exactly one of profile or native".into())),
            };
            let starts_with = match (r.starts_with, r.starts_with_hex) {
                (Some(t), None) => Some(t.into_bytes()),
                (None, Some(h)) => {
                    Some(hex(&h).ok_or_else(|| bad(i, "starts_with_hex", format!("{h:?} is not hex")))?)
                }
                (None, None) => None,
                (Some(_), Some(_)) => {
                    return Err(bad(i, "starts_with", "starts_with or starts_with_hex, not both".into()))
                }
            };
            if r.prefix.is_none() && starts_with.is_none() && r.contains.is_empty() {
                return Err(bad(i, "prefix", "a route needs prefix, starts_with(_hex) or contains".into()));
            }
            rules.push(Rule {
                prefix: r.prefix,
                starts_with,
                contains: r.contains.into_iter().map(String::into_bytes).collect(),
                target,
            });
        }
        Ok(Self { rules })
    }

    /// Reads a routing file.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ProfileError::Io { file: file.clone(), source })?;
        Self::from_toml(&file, path.parent().unwrap_or(Path::new(".")), &text)
    }

    /// The profile files the rules point at, each once, in rule order (to compile them up front).
    pub fn profile_paths(&self) -> Vec<&Path> {
        let mut out: Vec<&Path> = Vec::new();
        for r in &self.rules {
            if let Route::Profile(p) = &r.target {
                if !out.contains(&p.as_path()) {
                    out.push(p);
                }
            }
        }
        out
    }

    /// Chooses a reader for an object key and its first bytes: the longest matching prefix
    /// rule (its content conditions must hold too; the first of equals), else the first content-only rule that
    /// matches, else native content detection.
    /// The route of a file at `key` when its key alone decides it: every prefix rule that
    /// matches has no content condition (so no first bytes need be looked at).
    pub fn route_by_key(&self, key: &str) -> Option<Route> {
        let matching =
            || self.rules.iter().filter(|r| r.prefix.as_ref().is_some_and(|p| key.starts_with(p.as_str())));
        if matching().any(|r| r.starts_with.is_some() || !r.contains.is_empty()) {
            return None;
        }
        matching().rev().max_by_key(|r| r.prefix.as_ref().map_or(0, String::len)).map(|r| r.target.clone())
    }

    pub fn route(&self, key: &str, head: &[u8]) -> Route {
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let window = &body[..body.len().min(8192)];
        let content_ok = |r: &Rule| {
            r.starts_with.as_ref().is_none_or(|s| body.starts_with(s))
                && r.contains.iter().all(|c| window.windows(c.len().max(1)).any(|w| w == c.as_slice()))
        };
        // `rev` so that of equally long prefixes the first in the file wins.
        let by_prefix = self
            .rules
            .iter()
            .rev()
            .filter(|r| r.prefix.as_ref().is_some_and(|p| key.starts_with(p.as_str())) && content_ok(r))
            .max_by_key(|r| r.prefix.as_ref().map_or(0, String::len));
        if let Some(r) = by_prefix {
            return r.target.clone();
        }
        if let Some(r) = self.rules.iter().find(|r| r.prefix.is_none() && content_ok(r)) {
            return r.target.clone();
        }
        crate::detect(head).map_or(Route::Unknown, Route::Native)
    }
}

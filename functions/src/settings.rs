//! What the functions read from their environment and what is built into them: the pipeline
//! configuration (`config/remit.toml`) and the routing table with its bank profiles
//! (`profiles/`), the same files the `remit` CLI reads.

use remit_domain::ingest::IngestConfig;
use remit_formats::profile::ProfileError;
use remit_formats::SourceRouter;
use serde::{Deserialize, Serialize};

mod built_in {
    include!(concat!(env!("OUT_DIR"), "/profiles.rs"));
}

/// The landing bucket's name: events from any other bucket are ignored.
pub const ENV_LANDING_BUCKET: &str = "REMIT_LANDING_BUCKET";
/// The chunk queue's URL (SQS).
pub const ENV_CHUNK_QUEUE_URL: &str = "REMIT_CHUNK_QUEUE_URL";
/// Payments per chunk; a file with more is split (`DEFAULT_CHUNK_PAYMENTS`).
pub const ENV_CHUNK_PAYMENTS: &str = "REMIT_CHUNK_PAYMENTS";
/// `sequential` (default) or `parallel`: see `ChunkOrder`.
pub const ENV_CHUNK_ORDER: &str = "REMIT_CHUNK_ORDER";
/// The SLA alert topic (SNS).
pub const ENV_ALERTS_TOPIC_ARN: &str = "REMIT_ALERTS_TOPIC_ARN";
/// The ops API's token file (TOML, as `remit serve --tokens` reads), given inline.
pub const ENV_OPS_TOKENS: &str = "REMIT_OPS_TOKENS";
/// The name of an SSM SecureString parameter holding the ops API's token file.
pub const ENV_OPS_TOKENS_PARAMETER: &str = "REMIT_OPS_TOKENS_PARAMETER";
/// The SSM SecureString parameter holding the card key's secret (hex, 32 bytes or more).
pub const ENV_CARD_KEY_PARAMETER: &str = "REMIT_CARD_KEY_PARAMETER";

/// Payments per chunk by default. A DynamoDB-backed payment takes a few round trips (receive,
/// match lookups, the posting transaction): some tens of milliseconds, so a chunk of 5 000 ends
/// in a few minutes, well inside the 15-minute limit, retries included.
pub const DEFAULT_CHUNK_PAYMENTS: u64 = 5_000;

/// In which order a split file's chunks run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkOrder {
    /// One after another, each chunk's worker sending the next: the file's payments are decided
    /// in file order, exactly as an unsplit run decides them (balances, duplicate suspicion and
    /// reversals of earlier lines see what came before).
    #[default]
    Sequential,
    /// Every chunk at once, for throughput. Decisions that depend on earlier lines of the same
    /// file (a payment matched on an account's balance after another payment to it, a suspected
    /// duplicate of another line, a reversal of a line in another chunk) then see whatever ran
    /// first; each payment still posts at most once.
    Parallel,
}

/// How large files are split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPolicy {
    /// A file with more payments than this is split into chunks of this many.
    pub chunk_payments: u64,
    pub order: ChunkOrder,
}

impl Default for SplitPolicy {
    fn default() -> Self {
        Self { chunk_payments: DEFAULT_CHUNK_PAYMENTS, order: ChunkOrder::Sequential }
    }
}

/// A setting the environment got wrong, named.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct SettingError {
    pub name: &'static str,
    pub problem: String,
}

impl SplitPolicy {
    /// From `REMIT_CHUNK_PAYMENTS` and `REMIT_CHUNK_ORDER` (`var` looks a name up), defaults for
    /// what is unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingError> {
        let mut p = Self::default();
        if let Some(v) = var(ENV_CHUNK_PAYMENTS) {
            p.chunk_payments = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| SettingError {
                name: ENV_CHUNK_PAYMENTS,
                problem: format!("{v:?} is not a positive number"),
            })?;
        }
        if let Some(v) = var(ENV_CHUNK_ORDER) {
            p.order = match v.trim() {
                "sequential" => ChunkOrder::Sequential,
                "parallel" => ChunkOrder::Parallel,
                other => {
                    return Err(SettingError {
                        name: ENV_CHUNK_ORDER,
                        problem: format!("{other:?} is not sequential or parallel"),
                    })
                }
            };
        }
        Ok(p)
    }
}

/// The pipeline configuration shipped in `config/remit.toml`, checked.
pub fn built_in_config() -> Result<IngestConfig, SettingError> {
    let bad = |problem: String| SettingError { name: "config/remit.toml", problem };
    let config: IngestConfig =
        toml::from_str(include_str!("../../config/remit.toml")).map_err(|e| bad(e.to_string()))?;
    config.validate().map_err(bad)?;
    Ok(config)
}

/// The routing table `profiles/routing.toml` with every profile it names, compiled.
pub fn built_in_router() -> Result<SourceRouter, ProfileError> {
    let routing = built_in::PROFILE_FILES
        .iter()
        .find(|(n, _)| *n == "routing.toml")
        .map(|(_, t)| *t)
        .unwrap_or_default();
    SourceRouter::from_texts("profiles/routing.toml", routing, built_in::PROFILE_FILES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_files_load() {
        built_in_config().unwrap();
        let router = built_in_router().unwrap();
        assert_eq!(router.source("ca/cpa005/x.txt", b"A0000").describe(), "cpa005");
        assert!(router.source("ca/eft80/x.txt", b"").describe().starts_with("profile:"));
    }

    #[test]
    fn split_settings_are_read_and_checked() {
        let none = |_: &str| None;
        assert_eq!(SplitPolicy::from_vars(none).unwrap(), SplitPolicy::default());
        let set = |n: &str| match n {
            ENV_CHUNK_PAYMENTS => Some("200".to_string()),
            ENV_CHUNK_ORDER => Some("parallel".to_string()),
            _ => None,
        };
        assert_eq!(
            SplitPolicy::from_vars(set).unwrap(),
            SplitPolicy { chunk_payments: 200, order: ChunkOrder::Parallel }
        );
        let zero = |n: &str| (n == ENV_CHUNK_PAYMENTS).then(|| "0".to_string());
        assert!(SplitPolicy::from_vars(zero).unwrap_err().to_string().contains(ENV_CHUNK_PAYMENTS));
        let odd = |n: &str| (n == ENV_CHUNK_ORDER).then(|| "random".to_string());
        assert!(SplitPolicy::from_vars(odd).is_err());
    }
}

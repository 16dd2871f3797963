//! The SLA sweeper function: an EventBridge schedule (every few minutes) runs
//! `remit_domain::research::sweeper::sweep`, which raises each warning and breach once (conditional
//! marks in the store); a daily schedule whose input is `{"action": "digest"}` publishes each
//! market's digest. Each scheduled event runs once under `run_once` (key: the event id); a digest
//! runs once per UTC day whatever the deliveries.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use remit_domain::idempotency::{run_once, IdempotencyError, IdempotencyKey, DEFAULT_RECORD_TTL};
use remit_domain::ports::Store;
use remit_domain::research::sweeper::{self, AlertSink};
use remit_domain::Market;
use serde::{Deserialize, Serialize};

use crate::error::HandlerError;
use remit_domain::ports::{CountKind, Metrics};

use crate::metrics::counts_of_sweep;
use crate::Clock;

/// An alert sink the sweeper can share across invocations (SNS in Lambda).
pub trait SharedSink: AlertSink + Send + Sync {}

impl<T: AlertSink + Send + Sync + ?Sized> SharedSink for T {}

/// What the sweeper handler uses, built once per cold start.
pub struct SweeperApp<S> {
    pub store: Arc<S>,
    pub alerts: Arc<dyn SharedSink>,
    pub metrics: Arc<dyn Metrics>,
    pub clock: Clock,
}

impl<S> Clone for SweeperApp<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            alerts: self.alerts.clone(),
            metrics: self.metrics.clone(),
            clock: self.clock.clone(),
        }
    }
}

/// What a schedule sends: the scheduled event itself (a sweep), or a constant input naming the
/// action (the daily digest's rule).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SweeperEvent {
    Command(SweeperCommand),
    Scheduled(Box<EventBridgeEvent<serde_json::Value>>),
}

/// A schedule's constant input.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweeperCommand {
    pub action: SweeperAction,
}

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SweeperAction {
    Sweep,
    Digest,
}

/// What the sweeper did (or, for a repeated event, what the first run did).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweeperOutcome {
    /// The idempotency key the run was recorded under.
    pub key: String,
    pub warnings: u64,
    pub breaches: u64,
    pub already_claimed: u64,
    /// Markets whose digest was published.
    pub digests: Vec<Market>,
    /// True when another invocation was running the same event: this one did nothing.
    #[serde(default)]
    pub in_progress: bool,
}

impl<S: Store + Send + Sync + 'static> SweeperApp<S> {
    /// Handles one scheduled event.
    pub fn handle(
        &self,
        event: &SweeperEvent,
        deadline: DateTime<Utc>,
    ) -> Result<SweeperOutcome, HandlerError> {
        let now = (self.clock)();
        let (action, key) = match event {
            SweeperEvent::Command(c) if c.action == SweeperAction::Digest => {
                (SweeperAction::Digest, IdempotencyKey::daily_digest(now.date_naive()))
            }
            SweeperEvent::Command(_) => (SweeperAction::Sweep, IdempotencyKey::sweep_minute(now)),
            SweeperEvent::Scheduled(e) => {
                let id =
                    e.id.clone()
                        .or_else(|| e.time.map(|t| t.to_rfc3339()))
                        .unwrap_or_else(|| now.to_rfc3339());
                (SweeperAction::Sweep, IdempotencyKey::sweep(&id))
            }
        };
        let result = run_once(&*self.store, &key, now, deadline, DEFAULT_RECORD_TTL, || match action {
            SweeperAction::Sweep => self.sweep(key.as_str(), now),
            SweeperAction::Digest => self.digest(key.as_str(), now),
        });
        match result {
            Ok(out) => Ok(out),
            Err(IdempotencyError::InProgress { .. }) => {
                Ok(SweeperOutcome { key: key.to_string(), in_progress: true, ..Default::default() })
            }
            Err(e) => Err(e.into()),
        }
    }

    fn sweep(&self, key: &str, now: DateTime<Utc>) -> Result<SweeperOutcome, HandlerError> {
        let sink: &dyn SharedSink = &*self.alerts;
        let report = sweeper::sweep(&*self.store, &sink, now);
        for (market, counts) in counts_of_sweep(&report) {
            self.metrics.emit(market, CountKind::Alerts, &counts);
        }
        if !report.ok() {
            // Alerts claimed but not delivered are not raised again by a retry (at-most-once
            // after the claim): failing the invocation makes the error alarm say so.
            return Err(HandlerError::Alerts(report.failed.join("; ")));
        }
        Ok(SweeperOutcome {
            key: key.to_string(),
            warnings: report.warnings,
            breaches: report.breaches,
            already_claimed: report.already_claimed,
            ..Default::default()
        })
    }

    fn digest(&self, key: &str, now: DateTime<Utc>) -> Result<SweeperOutcome, HandlerError> {
        let sink: &dyn SharedSink = &*self.alerts;
        let digests = sweeper::publish_digests(&*self.store, &sink, &Market::ALL, now)
            .map_err(|e| HandlerError::Alerts(e.to_string()))?;
        Ok(SweeperOutcome {
            key: key.to_string(),
            digests: digests.iter().map(|d| d.market).collect(),
            ..Default::default()
        })
    }
}

/// Publishes notices as log lines (masked): the sink of a local run without a topic.
#[derive(Debug, Default)]
pub struct LogSink;

impl AlertSink for LogSink {
    fn publish(&self, notice: &sweeper::Notice) -> Result<(), sweeper::AlertError> {
        let text = serde_json::to_string(notice).map_err(|e| sweeper::AlertError(e.to_string()))?;
        tracing::warn!(notice = %remit_domain::mask_card_numbers(&text), "alert");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_parse_as_sweeps_and_the_digest_input_as_a_digest() {
        let scheduled = serde_json::json!({
            "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012", "time": "2026-11-21T10:00:00Z",
            "region": "eu-west-1", "resources": ["arn:aws:events:eu-west-1:123456789012:rule/sweep"], "detail": {}
        });
        assert!(matches!(serde_json::from_value(scheduled).unwrap(), SweeperEvent::Scheduled(_)));
        let digest: SweeperEvent = serde_json::from_value(serde_json::json!({"action": "digest"})).unwrap();
        assert!(matches!(digest, SweeperEvent::Command(SweeperCommand { action: SweeperAction::Digest })));
        assert!(serde_json::from_value::<SweeperEvent>(serde_json::json!({"action": "explode"})).is_err());
    }
}

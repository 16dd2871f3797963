//! The ingest function: S3 `ObjectCreated` → the orchestrator (`remit_domain::ingest`: hash,
//! route and validate in one read, register, then process in a second read or, past
//! `SplitPolicy::chunk_payments`, plan chunks for the chunk worker) → move the object to
//! `processed/` or `quarantine/`.
//!
//! Exactly-once: each object version runs once under `run_once` (key: bucket, key, version or
//! sequencer), so a duplicate event answers from the saved result; the file is identified by
//! the SHA-256 of its bytes, so the same bytes dropped again under any name post nothing; and
//! every payment is exactly-once by its key underneath.

use std::sync::Arc;

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use chrono::{DateTime, Utc};
use remit_domain::idempotency::{run_once, IdempotencyError, IdempotencyKey, DEFAULT_RECORD_TTL};
use remit_domain::ingest::{Admitted, Ingested, ObjectFile, Orchestrator};
use remit_domain::ingest::{IngestConfig, IngestError};
use remit_domain::ports::FileSummary;
use remit_domain::ports::{FileStatus, Store};
use remit_domain::FileId;
use remit_domain::{ingest::ChunkPlan, mask_card_numbers};
use remit_formats::{shown, SourceRouter};
use serde::{Deserialize, Serialize};

use crate::error::HandlerError;
use crate::objects::{self, Destination, ObjectError, ObjectRef, Objects, MANIFESTS, PROCESSED, QUARANTINE};
use crate::settings::{ChunkOrder, SplitPolicy};
use crate::split::{send_chunks, ChunkMessage, Manifest};
use crate::Clock;
use remit_domain::ports::{ChunkQueue, CountKind, MarketCounts, Metrics};

/// What the ingest and chunk handlers share, built once per cold start.
pub struct IngestApp<S, O> {
    pub store: Arc<S>,
    pub objects: Arc<O>,
    pub chunk_queue: Arc<dyn ChunkQueue>,
    pub metrics: Arc<dyn Metrics>,
    pub router: Arc<SourceRouter>,
    pub config: Arc<IngestConfig>,
    pub split: SplitPolicy,
    /// The landing bucket; events about another bucket are ignored. `None` accepts any.
    pub bucket: Option<String>,
    pub clock: Clock,
}

impl<S, O> Clone for IngestApp<S, O> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            objects: self.objects.clone(),
            chunk_queue: self.chunk_queue.clone(),
            metrics: self.metrics.clone(),
            router: self.router.clone(),
            config: self.config.clone(),
            split: self.split,
            bucket: self.bucket.clone(),
            clock: self.clock.clone(),
        }
    }
}

/// What became of one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectStatus {
    /// Processed whole and moved to `processed/`.
    Completed,
    /// Refused (the reason says why) and moved to `quarantine/`.
    Quarantined,
    /// These bytes were ingested before (perhaps under another name): nothing posted, moved to
    /// `processed/`.
    Duplicate,
    /// Validated and split: the chunk worker processes it and moves it when all chunks are done.
    Split,
    /// The object is no longer there (an old duplicate event after the file was moved).
    Gone,
    /// Another invocation is ingesting this object version now; this duplicate event leaves it.
    InProgress,
    /// Not an object this function ingests (another bucket, the pipeline's own prefixes, not a
    /// creation event).
    Ignored,
}

/// The outcome for one object of an event. Card numbers are masked in every text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectOutcome {
    pub key: String,
    pub status: ObjectStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Payments in the file (0 when not read).
    #[serde(default)]
    pub payments: u64,
    /// Chunks the file was split into (0 when processed whole).
    #[serde(default)]
    pub chunks: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The file's summary (for a duplicate: the first processing's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<FileSummary>,
}

impl ObjectOutcome {
    fn new(key: &str, status: ObjectStatus) -> Self {
        Self {
            key: mask_card_numbers(key),
            status,
            file_id: None,
            payments: 0,
            chunks: 0,
            reason: None,
            summary: None,
        }
    }

    fn of_file(key: &str, status: ObjectStatus, file_id: FileId) -> Self {
        Self { file_id: Some(file_id.to_hex()), ..Self::new(key, status) }
    }
}

/// The ingest function's answer: one outcome per record of the event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestResponse {
    pub objects: Vec<ObjectOutcome>,
}

/// What S3 sends: an event with records, or the test event it sends once when a notification
/// is configured (no records: nothing to do). A payload with records that do not parse is an
/// error, not "something else".
#[derive(Clone, Debug)]
pub enum S3Notification {
    Event(S3Event),
    Other(serde_json::Value),
}

impl<'de> Deserialize<'de> for S3Notification {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        if value.get("Records").is_none() {
            return Ok(S3Notification::Other(value));
        }
        serde_json::from_value(value).map(S3Notification::Event).map_err(serde::de::Error::custom)
    }
}

/// True for keys the pipeline itself writes: never ingested, whatever the notification filter.
fn own_key(key: &str) -> bool {
    [PROCESSED, QUARANTINE, MANIFESTS].iter().any(|p| key.starts_with(p))
}

impl<S, O> IngestApp<S, O>
where
    S: Store + Send + Sync + 'static,
    O: Objects + 'static,
{
    /// Handles an S3 event: each record's object once. Every record is tried; the first failure
    /// fails the invocation afterwards (Lambda retries the event; the records that succeeded
    /// answer from their saved results).
    pub fn ingest_event(
        &self,
        event: &S3Event,
        deadline: DateTime<Utc>,
    ) -> Result<IngestResponse, HandlerError> {
        let mut response = IngestResponse::default();
        let mut failure = None;
        for record in &event.records {
            match self.ingest_record(record, deadline) {
                Ok(outcome) => {
                    tracing::info!(key = %shown(&outcome.key), status = ?outcome.status, payments = outcome.payments,
                        chunks = outcome.chunks, "object handled");
                    response.objects.push(outcome);
                }
                Err(e) => {
                    // Debug: the error may quote a key holding a newline; it stays one escaped line.
                    tracing::error!(error = ?e.masked(), retryable = e.is_retryable(), "object failed");
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(response),
        }
    }

    fn ingest_record(
        &self,
        record: &S3EventRecord,
        deadline: DateTime<Utc>,
    ) -> Result<ObjectOutcome, HandlerError> {
        let raw = record.s3.object.key.as_deref().unwrap_or_default();
        let bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
        let mut object = remit_aws::s3::object_from_event_key(bucket, raw)
            .map_err(|e| HandlerError::BadEvent(e.to_string()))?;
        let key = object.key.clone();
        let created = record.event_name.as_deref().is_some_and(|n| n.starts_with("ObjectCreated:"));
        let other_bucket = self.bucket.as_deref().is_some_and(|b| b != bucket);
        if !created || other_bucket || own_key(&key) || key.ends_with('/') {
            return Ok(ObjectOutcome::new(&key, ObjectStatus::Ignored));
        }
        // An unversioned bucket's events say "null" where a version would be.
        object.version_id = record.s3.object.version_id.clone().filter(|v| v != "null");
        object.size = record.s3.object.size.and_then(|n| u64::try_from(n).ok()).unwrap_or_default();
        let marker = object.version_id.as_deref().or(record.s3.object.sequencer.as_deref());
        let id = IdempotencyKey::object_version(bucket, &object.key, marker);
        let now = (self.clock)();
        match run_once(&*self.store, &id, now, deadline, DEFAULT_RECORD_TTL, || {
            self.ingest_object(&object, now)
        }) {
            Ok(outcome) => Ok(outcome),
            // A duplicate event while the first is still running: the first finishes the job
            // (or, if it dies, Lambda retries it and the retry takes the key over).
            Err(IdempotencyError::InProgress { .. }) => {
                Ok(ObjectOutcome::new(&object.key, ObjectStatus::InProgress))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Ingests one object, without the idempotency record (`ingest_event` adds it), through the
    /// orchestrator (`remit_domain::ingest`): then moves it, or splits it into chunks.
    pub fn ingest_object(
        &self,
        object: &ObjectRef,
        now: DateTime<Utc>,
    ) -> Result<ObjectOutcome, HandlerError> {
        let file = ObjectFile { objects: &*self.objects, object };
        let ingested = self.orchestrator().ingest(&file, now, Some(self.split.chunk_payments), |_| {});
        let ingested = match ingested {
            Ok(i) => i,
            Err(IngestError::Gone { .. }) => return Ok(ObjectOutcome::new(&object.key, ObjectStatus::Gone)),
            // No identity to register it under (its bytes were not all read): named by its key
            // and set aside, so that no retry reads 4 GiB again.
            Err(IngestError::TooLarge { detail, .. } | IngestError::Refused { detail, .. }) => {
                let reason = format!("{}: {detail}", shown(&mask_card_numbers(&object.key)));
                let file_id = FileId::of_bytes(object.key.as_bytes());
                self.move_to(object, &Destination::Quarantined { file_id, reason: reason.clone() })?;
                let mut out = ObjectOutcome::new(&object.key, ObjectStatus::Quarantined);
                out.reason = Some(reason);
                return Ok(out);
            }
            Err(e) => return Err(e.into()),
        };
        match ingested {
            Ingested::AlreadyIngested { report, first } => {
                self.move_to(object, &Destination::Processed { file_id: report.file_id })?;
                let mut out = ObjectOutcome::of_file(&object.key, ObjectStatus::Duplicate, report.file_id);
                out.summary = first.summary;
                out.reason = report.reason;
                Ok(out)
            }
            Ingested::Done(report) if report.status == FileStatus::Quarantined => {
                let reason = report.reason.clone().unwrap_or_default();
                self.move_to(object, &Destination::Quarantined { file_id: report.file_id, reason })?;
                let mut out = ObjectOutcome::of_file(&object.key, ObjectStatus::Quarantined, report.file_id);
                out.reason = report.reason;
                Ok(out)
            }
            Ingested::Done(report) => {
                self.emit(&report.summary);
                self.move_to(object, &Destination::Processed { file_id: report.file_id })?;
                let mut out = ObjectOutcome::of_file(&object.key, ObjectStatus::Completed, report.file_id);
                out.payments = report.summary.payments + report.summary.zero_amount;
                out.summary = Some(report.summary);
                Ok(out)
            }
            Ingested::Split { file, plan } => self.split(object, &file, plan, now),
        }
    }

    /// Writes the file's manifest and hands its chunks to the queue: all of them (parallel) or
    /// the first, each worker then sending the next (sequential).
    fn split(
        &self,
        object: &ObjectRef,
        file: &Admitted,
        plan: ChunkPlan,
        now: DateTime<Utc>,
    ) -> Result<ObjectOutcome, HandlerError> {
        let meta = &file.meta;
        let manifest = Manifest {
            file_id: meta.id,
            name: meta.name.clone(),
            size: meta.size,
            object: object.clone(),
            source: file.route.clone(),
            plan,
            order: self.split.order,
            seen_before: file.seen_before,
            created_at: now,
        };
        let kept = objects::put_json_if_absent(&*self.objects, &Manifest::key(&meta.id), manifest)?;
        let mut out = ObjectOutcome::of_file(&object.key, ObjectStatus::Split, meta.id);
        out.payments = plan.payments;
        if kept.object != *object {
            // The same bytes dropped again under another key while the first drop is split and
            // running: that one finishes the file.
            self.move_to(object, &Destination::Processed { file_id: meta.id })?;
            out.status = ObjectStatus::Duplicate;
            out.reason =
                Some(format!("the same bytes as {}, being processed", shown(&mask_card_numbers(&kept.name))));
            return Ok(out);
        }
        let chunks: Vec<ChunkMessage> = match kept.order {
            ChunkOrder::Sequential => {
                kept.plan.chunk(0).into_iter().map(|c| ChunkMessage::of(&kept, c)).collect()
            }
            ChunkOrder::Parallel => kept.plan.iter().map(|c| ChunkMessage::of(&kept, c)).collect(),
        };
        send_chunks(&*self.chunk_queue, &chunks)?;
        tracing::info!(file = %shown(&mask_card_numbers(&meta.name)), file_id = %meta.id.short(), payments = plan.payments,
            chunks = plan.chunks(), order = ?kept.order, "file split into chunks");
        out.chunks = kept.plan.chunks();
        Ok(out)
    }

    /// The orchestrator over this app's store, router and configuration.
    pub(crate) fn orchestrator(&self) -> Orchestrator<'_, S, SourceRouter> {
        Orchestrator { store: &*self.store, reader: &*self.router, config: &self.config }
    }

    /// Moves an object; one already moved (gone) is fine.
    pub(crate) fn move_to(&self, object: &ObjectRef, to: &Destination) -> Result<(), HandlerError> {
        match self.objects.move_to(object, to) {
            Ok(_) | Err(ObjectError::NotFound(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reports a file's (or chunk's) payment outcomes under its market.
    pub(crate) fn emit(&self, summary: &FileSummary) {
        if let Some(market) = summary.market {
            self.metrics.emit(market, CountKind::Payments, &MarketCounts::of_summary(summary));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_with_records_must_parse() {
        let test_event = serde_json::json!({"Service": "Amazon S3", "Event": "s3:TestEvent"});
        assert!(matches!(serde_json::from_value(test_event).unwrap(), S3Notification::Other(_)));
        let broken = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put"}]});
        assert!(serde_json::from_value::<S3Notification>(broken).is_err());
    }
}

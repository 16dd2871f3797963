//! The domain's chunk queue port on SQS: `SendMessageBatch` in batches of ten, blocking on the runtime from
//! the handler's blocking thread (the `ChunkQueue` port is synchronous like the store's).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use tokio::runtime::Handle;

use remit_domain::ports::{ChunkQueue, ChunkQueueError};

/// SQS takes at most ten messages per batch.
const BATCH: usize = 10;

/// A chunk queue on one SQS queue.
#[derive(Clone, Debug)]
pub struct SqsChunkQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    runtime: Handle,
}

impl SqsChunkQueue {
    /// The queue at `url`; `runtime` is the handle the sends block on: the binary's
    /// multi-threaded runtime (a current-thread runtime's handle cannot drive I/O from the
    /// blocking thread the handlers run on).
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>, runtime: Handle) -> Self {
        Self { client, url: url.into(), runtime }
    }
}

impl ChunkQueue for SqsChunkQueue {
    fn send(&self, bodies: &[String]) -> Result<(), ChunkQueueError> {
        for batch in bodies.chunks(BATCH) {
            let mut entries = Vec::with_capacity(batch.len());
            for (i, body) in batch.iter().enumerate() {
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body.as_str())
                    .build()
                    .map_err(|e| ChunkQueueError(e.to_string()))?;
                entries.push(entry);
            }
            let sent = self
                .runtime
                .block_on(
                    self.client.send_message_batch().queue_url(&self.url).set_entries(Some(entries)).send(),
                )
                .map_err(|e| ChunkQueueError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            if let Some(f) = sent.failed().first() {
                // The whole call fails and is retried: the messages that went through are
                // harmless twice (each chunk runs once).
                return Err(ChunkQueueError(format!(
                    "{} of {} messages refused, first: {} {}",
                    sent.failed().len(),
                    batch.len(),
                    f.code(),
                    f.message().unwrap_or_default()
                )));
            }
        }
        Ok(())
    }
}

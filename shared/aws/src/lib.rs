//! AWS adapters other than the store (issue 7): S3 objects streamed into the synchronous readers
//! and the landing bucket as the domain's `Objects` port (`objects`), the SQS chunk queue
//! (`sqs`), SNS alerts, and the Lambda logs (masked) and metrics (CloudWatch EMF, `EmfStdout`).
//!
//! Calling context: the pipeline and its ports are synchronous, so the adapters that serve them
//! (`s3::S3Files`, `sns::SnsAlerts`) hold a Tokio runtime handle and `block_on` it. Call them from
//! `tokio::task::spawn_blocking` or a plain thread, never from inside an async task (Tokio
//! panics on `block_on` there).

pub mod logs;
pub mod metrics;
pub mod objects;
pub mod s3;
pub mod sns;
pub mod sqs;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::error::DisplayErrorContext;
use remit_domain::mask_card_numbers;

pub use objects::S3Objects;
pub use s3::{Destination, ObjectReader, ObjectRef, S3Error, S3Files};
pub use sns::SnsAlerts;
pub use sqs::SqsChunkQueue;

/// Region an emulator endpoint is addressed in: moto accepts any, and ARNs it makes carry it.
pub const EMULATOR_REGION: &str = "us-east-1";

/// The SDK configuration every client is built from. `None`: the Lambda's own environment
/// (region and credentials from the default chain). `Some(url)`: an emulator at `url` (moto in
/// tests), with dummy static credentials and region `us-east-1`.
pub async fn sdk_config(endpoint: Option<&str>) -> SdkConfig {
    let loader = aws_config::defaults(BehaviorVersion::latest());
    match endpoint {
        None => loader.load().await,
        Some(url) => {
            loader
                .endpoint_url(url)
                .region(Region::new(EMULATOR_REGION))
                .credentials_provider(Credentials::new("test", "test", None, None, "remit-emulator"))
                .load()
                .await
        }
    }
}

/// An S3 client for `config`. Path-style addressing when the config names an endpoint: an
/// emulator on loopback has no per-bucket host names.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(s3.build())
}

/// An SNS client for `config`.
pub fn sns_client(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}

/// An SDK error with its whole cause chain (the SDK's own `Display` says only "service error"),
/// card numbers masked: service messages may quote an object key.
pub(crate) fn sdk_message(err: &(dyn std::error::Error + 'static)) -> String {
    mask_card_numbers(&DisplayErrorContext(err).to_string())
}

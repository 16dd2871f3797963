//! What the emulator tests share: the endpoint (never skipped silently), a runtime, unique names.

#![allow(dead_code)] // each test binary uses its own part

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::SdkConfig;
use aws_sdk_s3::primitives::ByteStream;
use remit_aws::{ObjectRef, S3Files};
use remit_domain::ingest::FileMeta;
use remit_formats::{Format, ParseError, PaymentStream, Source, SourceContext};
use tokio::runtime::Runtime;

/// The emulator's URL. Unset is a failure, not a skip: these tests are the adapters' only check.
pub fn endpoint() -> String {
    match std::env::var("REMIT_TEST_AWS_ENDPOINT") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "REMIT_TEST_AWS_ENDPOINT is not set: run scripts/test, which starts the moto emulator on \
             loopback and sets it (or start `.venv/bin/moto_server -H 127.0.0.1 -p 5556` and export \
             REMIT_TEST_AWS_ENDPOINT=http://127.0.0.1:5556)"
        ),
    }
}

/// A runtime and the SDK configuration for the emulator. Tests run on their own thread, outside
/// the runtime, as the Lambda handlers' blocking work does.
pub struct Emulator {
    pub rt: Runtime,
    pub config: SdkConfig,
}

impl Emulator {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let config = rt.block_on(remit_aws::sdk_config(Some(&endpoint())));
        Self { rt, config }
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        remit_aws::s3_client(&self.config)
    }

    pub fn files(&self) -> S3Files {
        S3Files::new(self.s3(), self.rt.handle().clone())
    }

    /// An emulator, S3 for the pipeline, and a new landing bucket (versioned when asked).
    pub fn landing(versioned: bool) -> (Self, S3Files, String) {
        let aws = Self::start();
        let bucket = aws.bucket("landing", versioned);
        let files = aws.files();
        (aws, files, bucket)
    }

    /// A new bucket, versioned when asked (the landing bucket is).
    pub fn bucket(&self, prefix: &str, versioned: bool) -> String {
        let name = unique(prefix);
        let s3 = self.s3();
        self.rt.block_on(async {
            s3.create_bucket().bucket(&name).send().await.unwrap();
            if versioned {
                let on = aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build();
                s3.put_bucket_versioning().bucket(&name).versioning_configuration(on).send().await.unwrap();
            }
        });
        name
    }

    /// Puts an object; the object as an event would name it (version, size).
    pub fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) -> ObjectRef {
        let (s3, size) = (self.s3(), bytes.len() as u64);
        let out = self
            .rt
            .block_on(s3.put_object().bucket(bucket).key(key).body(ByteStream::from(bytes)).send())
            .unwrap();
        ObjectRef { version_id: out.version_id().map(str::to_string), size, ..ObjectRef::new(bucket, key) }
    }
}

/// A name no other test (nor another run on the same emulator) uses: lower case, S3-safe.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A file of the repository (samples, profiles).
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// A payment stream over the object (one GET, streamed), read as `source` says.
pub fn open_payments(
    files: &S3Files,
    obj: &ObjectRef,
    meta: &FileMeta,
    source: &Source,
) -> Result<(Option<Format>, PaymentStream<'static>), ParseError> {
    let reader = files.reader(obj).map_err(|e| ParseError::io(&meta.name, std::io::Error::other(e)))?;
    source.open(SourceContext { file_id: meta.id, file_name: meta.name.as_str().into() }, reader)
}

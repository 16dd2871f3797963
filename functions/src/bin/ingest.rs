//! The ingest function: S3 `ObjectCreated` events (see `remit_functions::ingest`).

use lambda_runtime::{service_fn, LambdaEvent};
use remit_functions::{handle_s3, wiring};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    remit_aws::logs::init_lambda_logging();
    let app = wiring::ingest_app("ingest").await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle_s3(app.clone(), event))).await
}

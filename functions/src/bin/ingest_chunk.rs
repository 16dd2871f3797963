//! The chunk worker: SQS messages, one chunk of a split file each (see `remit_functions::chunks`).

use lambda_runtime::{service_fn, LambdaEvent};
use remit_functions::{handle_chunks, wiring};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    remit_aws::logs::init_lambda_logging();
    let app = wiring::ingest_app("ingest-chunk").await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle_chunks(app.clone(), event))).await
}

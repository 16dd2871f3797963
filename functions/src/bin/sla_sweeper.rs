//! The SLA sweeper: EventBridge schedules (see `remit_functions::sweeper`).

use lambda_runtime::{service_fn, LambdaEvent};
use remit_functions::{handle_schedule, wiring};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    remit_aws::logs::init_lambda_logging();
    let app = wiring::sweeper_app().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| handle_schedule(app.clone(), event))).await
}

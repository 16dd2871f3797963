//! The ops API behind API Gateway (see `remit_functions::ops_api`).

use lambda_http::{service_fn, Request, RequestExt};
use remit_functions::{deadline_of, wiring};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    remit_aws::logs::init_lambda_logging();
    let api = wiring::ops_api().await?;
    lambda_http::run(service_fn(|request: Request| {
        let api = api.clone();
        async move {
            let now = chrono::Utc::now();
            let deadline = request
                .lambda_context_ref()
                .map(|c| deadline_of(c, now))
                .unwrap_or(now + chrono::Duration::seconds(30));
            let (parts, body) = request.into_parts();
            let request = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
            Ok::<_, std::convert::Infallible>(api.handle(request, deadline).await)
        }
    }))
    .await
}

//! SDK errors as the ports see them: throttling, timeouts, lost connections and 5xx are
//! `StoreError::Unavailable` (retryable); a failed condition is the caller's to interpret; the
//! rest (validation, a missing table, access denied) is `StoreError::Corrupt`, not retried.
//! Every message is passed through `mask_card_numbers`: keys are card numbers here.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use remit_domain::mask_card_numbers;
use remit_domain::ports::StoreError;

/// Setting the store up failed (runtime, configuration, tables).
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// The store's own Tokio runtime could not start.
    #[error("cannot start the DynamoDB store's runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// A table name is not configured (see `TableNames::from_env`).
    #[error("table names: {0}")]
    Config(String),
    /// Creating or waiting for a table failed.
    #[error("table {table}: {detail}")]
    Table { table: String, detail: String },
    /// A call made while setting up failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Error codes DynamoDB answers when it is busy or briefly failing: worth retrying.
const RETRYABLE_CODES: [&str; 9] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "LimitExceededException",
    "ThrottlingError",
];

/// What a failed call means.
pub(crate) enum Failure {
    /// The call's condition expression was false (`ConditionalCheckFailedException`).
    Condition,
    /// Anything else, already a store error.
    Store(StoreError),
}

/// Classifies a failed SDK call `op` (the operation's name, for the message).
pub(crate) fn classify<E>(op: &str, e: SdkError<E>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    match e {
        SdkError::ServiceError(se) => {
            let err = se.into_err();
            let code = err.code().unwrap_or("").to_string();
            if code == "ConditionalCheckFailedException" {
                return Failure::Condition;
            }
            let text = format!("{op}: {code}: {}", err.message().unwrap_or(""));
            Failure::Store(service_failure(&code, status, text))
        }
        SdkError::ConstructionFailure(_) => {
            Failure::Store(StoreError::Corrupt(masked(format!("{op}: request not built: {}", detail(&e)))))
        }
        // Timeouts, connection failures, unreadable responses: the call may succeed later.
        other => Failure::Store(StoreError::Unavailable(masked(format!("{op}: {}", detail(&other))))),
    }
}

/// The store error of a failed call whose condition failures the caller does not expect.
pub(crate) fn store_error<E>(op: &str, e: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify(op, e) {
        Failure::Store(e) => e,
        Failure::Condition => StoreError::Conflict(format!("{op}: condition failed")),
    }
}

/// The store error of a cancelled transaction none of whose reasons the caller interprets:
/// retryable when DynamoDB says so (conflicts with a concurrent transaction, throttling).
pub(crate) fn cancelled_error(op: &str, codes: &[Option<String>]) -> StoreError {
    let failed: Vec<&str> = codes.iter().flatten().map(String::as_str).filter(|c| *c != "None").collect();
    let text = format!("{op}: transaction cancelled: [{}]", failed.join(", "));
    if failed.iter().any(|c| is_retryable_reason(c)) {
        StoreError::Unavailable(text)
    } else if failed.contains(&"ConditionalCheckFailed") {
        StoreError::Conflict(text)
    } else {
        StoreError::Corrupt(text)
    }
}

/// True for a cancellation reason that a later attempt may not meet.
pub(crate) fn is_retryable_reason(code: &str) -> bool {
    matches!(code, "TransactionConflict" | "ProvisionedThroughputExceeded" | "ThrottlingError")
}

fn service_failure(code: &str, status: Option<u16>, text: String) -> StoreError {
    let text = masked(text);
    if RETRYABLE_CODES.contains(&code) || status.is_some_and(|s| s >= 500) {
        StoreError::Unavailable(text)
    } else {
        StoreError::Corrupt(text)
    }
}

fn detail<E: std::error::Error + 'static>(e: &E) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
}

fn masked(text: String) -> String {
    mask_card_numbers(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellations_are_retryable_only_when_dynamodb_says_so() {
        let codes = |c: &[&str]| c.iter().map(|c| Some(c.to_string())).collect::<Vec<_>>();
        assert!(cancelled_error("t", &codes(&["None", "TransactionConflict"])).is_retryable());
        assert!(matches!(
            cancelled_error("t", &codes(&["ConditionalCheckFailed", "None"])),
            StoreError::Conflict(_)
        ));
        assert!(matches!(cancelled_error("t", &codes(&["ValidationError"])), StoreError::Corrupt(_)));
    }

    #[test]
    fn throttling_and_5xx_are_unavailable_and_masked() {
        let e = service_failure("ThrottlingException", Some(400), "card 378282246310005".into());
        assert!(e.is_retryable());
        assert!(!e.to_string().contains("378282246310005"), "{e}");
        assert!(service_failure("Whatever", Some(503), String::new()).is_retryable());
        assert!(!service_failure("ValidationException", Some(400), String::new()).is_retryable());
    }
}

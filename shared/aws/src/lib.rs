//! AWS adapters other than the store (issue 7): S3, SNS, and the Lambda logs and metrics.

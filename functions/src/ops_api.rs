//! The ops API function: the ops API with idempotent retries (`remit_ops_api::OpsApi`, which
//! `remit serve` serves too), behind API Gateway through `lambda_http`; and its token table.

use remit_ops_api::Tokens;

pub use remit_ops_api::idempotent::{OpsApi, IDEMPOTENCY_KEY, MAX_BODY};

/// Why the token table could not be read.
#[derive(Debug, thiserror::Error)]
#[error("ops API tokens: {0}")]
pub struct TokensError(pub String);

/// The token table from its TOML text (the `remit serve --tokens` file format), refusing an
/// empty one: every request would be refused.
pub fn tokens_from_text(text: &str) -> Result<Tokens, TokensError> {
    let tokens = Tokens::parse(text).map_err(TokensError)?;
    if tokens.is_empty() {
        return Err(TokensError("the token table names no token".into()));
    }
    let public = tokens.example_analysts();
    if !public.is_empty() {
        tracing::warn!(analysts = %public.join(", "), "a token of config/tokens.example.toml is loaded: it is public");
    }
    Ok(tokens)
}

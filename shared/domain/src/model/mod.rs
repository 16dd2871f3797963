//! What a payment and an account are: `Payment` (`payment`), `Money` (`money`), validated
//! identifiers (`identifiers`), payment and file ids (`ids`), card accounts (`account`), how a card
//! is named at rest (`card`: tokens, never numbers) and the decision made for a payment (`decision`). Depends only on `crate::text`.

pub mod account;
pub mod card;
pub mod decision;
pub mod identifiers;
pub mod ids;
pub mod money;
pub mod payment;

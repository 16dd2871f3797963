//! Text utilities at the bottom of the domain, depending on nothing else in it: card numbers
//! masked (`masking`), input made safe to echo (`shown`), person and company names folded, keyed
//! and compared (`names`), and the Luhn check (`luhn`).

pub mod luhn;
pub mod masking;
pub mod names;
pub mod shown;

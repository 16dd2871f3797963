//! The matcher and everything it weighs: candidates, log-odds confidence and blockers
//! (`matcher`), payer identities (`payer`), our own identities, never payer evidence (`own`),
//! corporate control-account splits (`control`), the in-memory `AccountIndex` (`index`), and
//! alias memory taught by analysts' resolutions (`alias`). Written against `crate::ports`.

pub mod alias;
pub mod control;
pub mod index;
pub mod matcher;
pub mod own;
pub mod payer;

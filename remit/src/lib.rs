//! The `remit` program's library: the local runner and the commands, so tests drive them
//! without a subprocess.

pub mod card_scan;
pub mod commands;
pub mod eval;
pub mod local;
pub mod objects;
pub mod queue;
pub mod report;
pub mod serve;
pub mod sla;

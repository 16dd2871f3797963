//! The research queues: the item lifecycle and analysts' operations (`queue`), research SLAs
//! (`sla`) counted on each market's business calendar (`calendar`), and the SLA sweeper and
//! leadership digest (`sweeper`).

pub mod calendar;
pub mod queue;
pub mod sla;
pub mod sweeper;

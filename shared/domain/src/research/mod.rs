//! The research queues: the item lifecycle and analysts' operations (`queue`), research SLAs
//! (`sla`) counted on each market's business calendar (`calendar`), and the SLA sweeper and
//! leadership digest (`sweeper`). The analyst's workbench reads (issue 16): directory search
//! (`search`), the payer's earlier payments (`history`) and the team view (`team`).

pub mod calendar;
pub mod history;
pub mod queue;
pub mod search;
pub mod sla;
pub mod sweeper;
pub mod team;

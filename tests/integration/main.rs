//! Cross-crate integration tests, one binary: the store conformance suite (run against every
//! adapter), pipeline flows on synthetic payments, and the sample files end to end.

mod ca_flows;
mod control_flows;
mod daily_report;
mod eu_flows;
mod fixtures;
mod india_flows;
mod matcher_flows;
mod payer_flows;
mod pipeline_flows;
mod samples_end_to_end;
mod sla_sweep;
mod store_conformance;

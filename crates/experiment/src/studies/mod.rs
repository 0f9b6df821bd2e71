//! Study kinds, one folder each: `spec.rs` (the RON types), the cells, the report.

pub mod attack_study;
pub mod convergence;
pub mod experiment;
pub mod influence;
pub mod multiclass;
pub mod trusted_size;

//! Study kinds on the study frame ([`crate::frame`]), one folder each.

pub mod convergence;

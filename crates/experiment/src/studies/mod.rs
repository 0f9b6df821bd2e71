//! Study kinds on the frame ([`crate::frame`]), one folder each.

pub mod influence;

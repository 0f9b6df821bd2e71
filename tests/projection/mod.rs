//! floral-projection's public contract: the projector conformance suite and the Clarabel oracle.

mod clarabel_oracle;
mod common;
mod conformance;

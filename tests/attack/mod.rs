//! floral-attack's public contract: the attacker and poisoner conformance suites, the optimised
//! poisoners against random flips, the zero-sum and look-ahead attackers.

mod common;
mod conformance;
mod hurts;
mod lookahead;

//! floral-experiment: RON experiment specs → checked `Plan` → built players → run → report.
//!
//! It is the only crate that knows every concrete type; it re-exports the lower crates so the
//! command-line front end depends on this crate alone.

pub use floral_attack as attack;
pub use floral_data as data;
pub use floral_defense as defense;
pub use floral_game as game;
pub use floral_projection as projection;
pub use floral_report as report;
pub use floral_svm as svm;

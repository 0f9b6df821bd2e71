//! floral: label-poisoning attacks and defences on kernel SVMs, built around FLORAL
//! (Bal, Cevher, Muehlebach, ICLR 2025).
//!
//! This facade re-exports the workspace crates under short names.

pub use floral_attack as attack;
pub use floral_data as data;
pub use floral_defense as defense;
pub use floral_experiment as experiment;
pub use floral_game as game;
pub use floral_projection as projection;
pub use floral_report as report;
pub use floral_stability as stability;
pub use floral_svm as svm;

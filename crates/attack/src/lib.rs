//! floral-attack: attackers that flip training labels.
//!
//! In-game attackers (implement [`floral_game::Attacker`]):
//! - [`RandomTopK`]: FLORAL's randomized top-k attacker (FLORAL.md §3).
//!
//! ```
//! use floral_attack::{RandomTopK, RandomTopKParams};
//! let a = RandomTopK::new(RandomTopKParams { k: 2, pool: None, sv_threshold: 1e-5 }).unwrap();
//! assert_eq!(a.pool(), 4);
//! ```

mod error;
mod random_top_k;

pub use error::AttackError;
pub use random_top_k::{RandomTopK, RandomTopKParams};

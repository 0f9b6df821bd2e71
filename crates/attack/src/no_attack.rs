//! The attacker that never flips: plain projected gradient descent on the given labels.

use floral_data::{FlipSet, FloralRng};
use floral_game::{Attacker, GameError, RoundView};

/// Never flips a label (budget k = 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAttack;

impl Attacker for NoAttack {
    fn name(&self) -> &'static str {
        "none"
    }

    fn attack(&mut self, view: &RoundView<'_>, _rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        Ok(FlipSet::empty(view.clean.len()))
    }
}

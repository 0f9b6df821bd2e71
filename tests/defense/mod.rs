//! floral-defense's public contract: the defence conformance suite, the baselines, the FLORAL
//! learner, Platt scaling against scikit-learn, the game-solver learners.

mod baselines;
mod conformance;
mod floral;
mod platt;
mod solvers;

use floral_data::{FlipSet, FloralRng};
use floral_game::{Attacker, GameError, RoundView};

/// An in-game attacker for the learner tests: flips 3 labels drawn uniformly each round.
#[derive(Debug)]
pub(crate) struct Flipper;
impl Attacker for Flipper {
    fn name(&self) -> &'static str {
        "flipper"
    }
    fn attack(&mut self, v: &RoundView<'_>, rng: &mut FloralRng) -> Result<FlipSet, GameError> {
        let n = v.clean.len();
        Ok(FlipSet::new(rand::seq::index::sample(rng, n, 3).into_vec(), n)?)
    }
}

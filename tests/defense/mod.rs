//! floral-defense's public contract: the defence conformance suite, the baselines, the FLORAL
//! learner, Platt scaling against scikit-learn, the game-solver learners.

mod baselines;
mod conformance;
mod floral;
mod platt;
mod solvers;

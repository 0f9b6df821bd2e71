//! floral-stability's public contract: the analyzers, the monitor and the game-solver Jacobians.

mod analyzers;
mod solvers;

//! floral-game's public contract: the play loop.

mod play;

//! floral-game (under construction).

//! floral-defense (under construction).

//! floral-attack (under construction).

//! floral-projection (under construction).

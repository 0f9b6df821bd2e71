//! floral-report (under construction).

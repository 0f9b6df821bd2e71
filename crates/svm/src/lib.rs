//! floral-svm (under construction).

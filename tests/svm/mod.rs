//! floral-svm's public contract: errors, status values and edge cases, SMO against LIBSVM, and
//! math invariants on random small problems.

mod contract;
mod libsvm_reference;
mod properties;

//! Numerical checks of the claims stated in `proofs/*.md`; each test names its file.

mod projection;
mod stability;

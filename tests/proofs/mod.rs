//! Numerical checks of the claims stated in `proofs/*.md`; each test names its file.

mod influence;
mod projection;
mod stability;

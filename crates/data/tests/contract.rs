//! Public contract of floral-data: loaders, generators, splitting and standardisation, and the
//! shipped data sets (one test binary).

// `cfg(test)` lets clippy's allow-{unwrap,expect,panic}-in-tests cover the test helpers too.
#[cfg(test)]
mod contract {
    pub mod generators;
    pub mod loaders;
    pub mod npy;
    pub mod shipped;
    pub mod split;
}

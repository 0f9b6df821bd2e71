//! floral-data's public contract: loaders, generators, splitting and standardisation, `.npy`
//! reading, and the shipped data sets.

mod generators;
mod loaders;
mod npy;
mod shipped;
mod split;

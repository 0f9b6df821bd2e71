//! floral-data: the data types every other floral crate builds on.
//!
//! - [`Labels`]: binary labels, each exactly ±1; [`FlipSet`]: sorted, unique, in-range flips.
//! - [`Dataset`]: n×d `f64` features (faer) with labels; [`Split`]: train / validation / test.
//! - [`FloralRng`] and [`stream`]: one seeded ChaCha stream per role ([`Stream`]).
//!
//! ```
//! use floral_data::{FlipSet, Labels};
//! let y = Labels::new(vec![1.0, -1.0, 1.0]).unwrap();
//! let flipped = y.apply(&FlipSet::new(vec![2], 3).unwrap()).unwrap();
//! assert_eq!(flipped.as_slice(), &[1.0, -1.0, -1.0]);
//! ```

mod dataset;
mod error;
mod labels;
mod rng;

pub use dataset::{Dataset, Split};
pub use error::DataError;
pub use labels::{FlipSet, Labels};
pub use rng::{FloralRng, Stream, Streams, stream};

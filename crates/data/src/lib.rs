//! floral-data: the data types every other floral crate builds on, the file loaders, the
//! synthetic generators, splitting and standardisation, and the data sets shipped in `data/`.
//!
//! Types:
//! - [`Labels`]: binary labels, each exactly ±1; [`FlipSet`]: sorted, unique, in-range flips.
//! - [`Dataset`]: n×d `f64` features (faer) with labels; [`Split`]: train / validation / test.
//! - [`FloralRng`] and [`stream`]: one seeded ChaCha stream per role ([`Stream`], [`Streams`]).
//!
//! Loaders (typed errors with file and 1-based line, never a panic; gzip read transparently):
//! - [`read_libsvm`] / [`parse_libsvm_reader`]: LIBSVM / svmlight text.
//! - [`read_csv`] / [`parse_csv_reader`]: CSV with a header and a `label` column.
//! - [`read_data_file`]: dispatch by name (`.csv`, `.csv.gz` → CSV, else LIBSVM).
//! - [`RawData`]: labels as read; [`RawData::into_binary`] ({+1, −1} or {1, 0} → [`Labels`]),
//!   [`RawData::classes`]; [`pad_features`] and [`align_dims`] widen with zero columns.
//! - [`read_libsvm_multiclass`]: a multi-class LIBSVM file as [`MulticlassData`] (features and
//!   [`ClassLabels`], one class index per point; the labels as written kept as class names).
//! - [`read_npy_features`] / [`parse_npy_features`]: a 2-D float32/float64 NumPy `.npy` array
//!   (C or Fortran order, either byte order) as an n×d matrix.
//! - [`read_npy_labels`] / [`parse_npy_labels`]: 1-D integer, bool or float `.npy` labels.
//! - [`read_embeddings`]: features and labels from two `.npy` files as [`RawData`];
//!   [`read_npz`]: both from one `.npz` archive (`numpy.savez`, stored or deflated) by name.
//!
//! Generators (scikit-learn geometry, Box–Muller noise via [`standard_normal`]):
//! [`moons`], [`circles`], [`blobs`]; [`gaussian_mixture`] ([`GaussianMixtureParams`]): a
//! balanced two-class mixture of Gaussian components in d dimensions, a stand-in for
//! embeddings at scale (n = 20,000, d = 768).
//!
//! Preparation: [`stratified_split`] (per-class shuffle and cut) and [`Standardizer`]
//! (z = (x − mean) / population std, fitted on train only by [`Standardizer::transform_split`]).
//!
//! Shipped data ([`shipped`]): `moon_floral_seed42` (the FLORAL authors' Moon sheets, clean and
//! poisoned), `mnist_1v7`, `mnist_5k`, `breast_cancer`; [`shipped::moon_floral`] builds the
//! paper's Moon split and [`shipped::resolve`] reads `name:sheet` or a file path.
//!
//! ```
//! use floral_data::{FlipSet, Labels, Standardizer, Stream, moons, stratified_split, stream};
//!
//! let y = Labels::new(vec![1.0, -1.0, 1.0]).unwrap();
//! let flipped = y.apply(&FlipSet::new(vec![2], 3).unwrap()).unwrap();
//! assert_eq!(flipped.as_slice(), &[1.0, -1.0, -1.0]);
//!
//! let mut rng = stream(42, Stream::Data);
//! let data = moons(40, 0.1, &mut rng).unwrap();
//! let split = stratified_split(&data, 0.25, 0.25, &mut rng).unwrap();
//! assert_eq!(split.train.n() + split.validation.as_ref().unwrap().n() + split.test.n(), 40);
//! let split = Standardizer::transform_split(split).unwrap();
//! let mean0: f64 = (0..split.train.n()).map(|i| split.train.x()[(i, 0)]).sum::<f64>();
//! assert!(mean0.abs() < 1e-9);
//! ```

mod csv;
mod dataset;
mod error;
mod generators;
mod labels;
mod libsvm;
mod multiclass;
mod npy;
mod read;
mod rng;
pub mod shipped;
mod split;
mod standardize;

pub use csv::{parse_csv_reader, read_csv};
pub use dataset::{Dataset, Split};
pub use error::DataError;
pub use generators::{GaussianMixtureParams, blobs, circles, gaussian_mixture, moons, standard_normal};
pub use labels::{FlipSet, Labels};
pub use libsvm::{parse_libsvm_reader, read_libsvm};
pub use multiclass::{ClassLabels, MulticlassData, read_libsvm_multiclass};
pub use npy::{
    MAX_NPY_HEADER, parse_npy_features, parse_npy_labels, read_embeddings, read_npy_features, read_npy_labels, read_npz,
};
pub use read::{
    MAX_CELLS, MAX_FEATURES, RawData, align_dims, align_dims_checked, pad_features, read_data_file, read_text_file,
};
pub use rng::{FloralRng, NamedStream, Stream, Streams, named_stream, stream};
pub use split::stratified_split;
pub use standardize::Standardizer;

//! Training data for the trainer: the IDX file format, MNIST-style data sets, seeded shuffling
//! and mini-batches, and downloads from public mirrors. Nothing here prints.

pub mod batch;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
#[cfg(test)]
mod testing;

pub use error::DataError;

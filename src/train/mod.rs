//! Training: the executor that runs a network's layers on batches, forward and backward.

pub mod executor;

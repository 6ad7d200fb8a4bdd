//! Training on MNIST-style data: the options (from a description's `train:` section and flags),
//! optimizers, losses on the network's output, the training loop with its per-epoch history,
//! curve plots, weights and optimizer files, the executor that runs a network's layers on batches forward and
//! backward, and the closed-form fit of a linear layer. Nothing here prints or
//! reads the environment: progress goes to a callback, stopping is asked through an `AtomicBool`.

pub mod checkpoint;
pub mod error;
pub mod executor;
pub mod files;
pub mod folder_lock;
pub mod history;
pub mod images;
pub mod loss;
pub mod model;
pub mod normal_equations;
pub mod optimizer;
pub mod optimizer_file;
pub mod options;
pub mod picture;
pub mod plot;
pub mod run;
pub mod session;
pub mod weights;

pub use error::TrainError;
pub use history::{EpochRecord, History};
pub use options::{TrainOptions, TrainOverrides};

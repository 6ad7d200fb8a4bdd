//! Why a training, evaluation or prediction could not be done: bad options, data or weights, a
//! network the trainer cannot use, a kernel's refusal, or a loss that stopped being finite.

use crate::data::DataError;
use crate::error::Locate;
use crate::source::Span;
use crate::tensor::TensorError;
use crate::train::history::HistoryError;
use crate::train::loss::LossError;
use crate::train::weights::WeightsError;

/// An error of the trainer.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data set could not be read or split.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A kernel refused its input.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// The loss cannot be applied to the network's output.
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A weights file could not be written or read, or does not fit the network.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A history file could not be read back.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// An optimizer file is damaged or does not fit the run resumed.
    #[error("cannot resume the optimizer from {}: {reason}", path.display())]
    OptimizerState {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The network does not fit the data or the request.
    #[error("{0}")]
    Network(String),
    /// The run's state (weights, optimizer state, history) could not be saved; the run folder
    /// keeps the previous one.
    #[error(transparent)]
    Save(#[from] crate::train::checkpoint::SaveError),
    /// Another process writes the run folder.
    #[error(transparent)]
    Lock(#[from] crate::train::folder_lock::LockError),
    /// A file of the run could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} in epoch {epoch}, batch {batch}: training stopped; the weights \
         of the last finished epoch and the history are kept"
    )]
    NonFinite {
        /// `NaN`, `inf` or `-inf`.
        value: String,
        /// The epoch (1-based).
        epoch: usize,
        /// The batch in it (1-based).
        batch: usize,
    },
}

impl Locate for TrainError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn help(&self) -> Option<String> {
        match self {
            TrainError::NonFinite { .. } => {
                Some("lower the learning rate (--learning-rate), or check the data".to_string())
            }
            TrainError::Data(error) => error.help(),
            TrainError::Save(error) => Some(format!(
                "{} still holds the state saved before (`--resume {}` continues from it); free \
                 some space, or raise the file-size limit, and resume",
                error.folder.display(),
                error.folder.join("weights.safetensors").display()
            )),
            TrainError::Lock(crate::train::folder_lock::LockError::Busy { .. }) => Some(
                "wait for that run to end, or give this one another folder with --out".to_string(),
            ),
            TrainError::OptimizerState { path, .. } => Some(format!(
                "remove {} to resume with a fresh optimizer (the run then does not continue \
                 exactly)",
                path.display()
            )),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            TrainError::Data(error) => error.code(),
            TrainError::Tensor(error) => error.code(),
            TrainError::Loss(_) => "netcalc::train::loss",
            TrainError::Weights(_) => "netcalc::train::weights",
            TrainError::History(_) => "netcalc::train::history",
            TrainError::OptimizerState { .. } => "netcalc::train::optimizer_state",
            TrainError::Network(_) => "netcalc::train::network",
            TrainError::Write { .. } => "netcalc::train::write",
            TrainError::Save(_) => "netcalc::train::save",
            TrainError::Lock(_) => "netcalc::train::folder_in_use",
            TrainError::NonFinite { .. } => "netcalc::train::non_finite",
        }
    }
}

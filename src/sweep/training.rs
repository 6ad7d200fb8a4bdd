//! One training of a sweep (a fold, the split, or the refit), as `netcalc train` does it: the
//! executor's model, the optimizer of the options, the training loop, and a normal run folder
//! (history, curves, weights, the optimizer's state, options). The weights, the optimizer's
//! state and the history are saved after every epoch, so a training that is stopped (Ctrl-C, a
//! crash, a killed job) continues from its last finished epoch when it is started again, with the
//! same numbers an uninterrupted one gives (crate::train::run).

use crate::analysis::Analysis;
use crate::graph::Network;
use crate::train::TrainError;
use crate::train::history::History;
use crate::train::images::InputLayout;
use crate::train::optimizer;
use crate::train::options::TrainOptions;
use crate::train::run::{self, Data, Ending, Progress};
use crate::train::session::{self, OptimizerResume, RunFolder};
use std::sync::atomic::AtomicBool;

/// How a training ended.
#[derive(Debug)]
pub enum Trained {
    /// Every epoch is done and saved.
    Finished(History),
    /// The stop flag was raised; the finished epochs are saved.
    Interrupted(History),
    /// The loss stopped being finite: the configuration fails (its last good epochs are saved).
    Diverged(History, TrainError),
}

/// What to train.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    /// The network.
    pub network: &'a Network,
    /// Its analysis.
    pub analysis: &'a Analysis,
    /// The training options.
    pub options: &'a TrainOptions,
    /// The images to train on and to evaluate after each epoch.
    pub data: &'a Data,
}

/// Trains a job into `folder`. With `resume`, a folder that holds weights, their history and the
/// optimizer's state for the same epoch (of a training with these very options, which the caller
/// has checked) continues from there; otherwise the training starts afresh.
pub fn train_into(
    folder: &RunFolder,
    job: Job<'_>,
    resume: bool,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Trained, TrainError> {
    let Job {
        network,
        analysis,
        options,
        data,
    } = job;
    let layout: InputLayout =
        session::input_layout(analysis, data.training.rows, data.training.cols)?;
    let mut model = session::build_model(network, analysis, options)?;
    let mut optimizer = optimizer::from_options(options);
    let mut history = History::default();
    let mut done = 0;
    if resume && let Some(saved) = saved_state(folder, &mut model, optimizer.as_mut(), options)? {
        (history, done) = saved;
    } else {
        // Whatever a stopped earlier attempt left is of no use: start from the initial weights.
        model = session::build_model(network, analysis, options)?;
        optimizer = optimizer::from_options(options);
    }
    folder.save_options(options, &network.name)?;
    let remaining = options.epochs.saturating_sub(done);
    let outcome = run::train(
        &mut model,
        optimizer.as_mut(),
        data,
        &layout,
        &TrainOptions {
            epochs: remaining,
            ..options.clone()
        },
        history,
        done,
        stop,
        progress,
        &mut |history, model, optimizer| {
            folder.save_state(
                &model.named_parameters(),
                &network.name,
                Some((optimizer, options)),
                history,
                history.last_epoch(),
            )
        },
    );
    let epochs = outcome.history.last_epoch();
    folder.save_state(
        &model.named_parameters(),
        &network.name,
        Some((optimizer.as_ref(), options)),
        &outcome.history,
        epochs,
    )?;
    folder.save_plots(&outcome.history, &network.name)?;
    match outcome.ending {
        Ending::Finished => Ok(Trained::Finished(outcome.history)),
        Ending::Interrupted { .. } => Ok(Trained::Interrupted(outcome.history)),
        Ending::Failed(error @ TrainError::NonFinite { .. }) => {
            Ok(Trained::Diverged(outcome.history, error))
        }
        Ending::Failed(error) => Err(error),
    }
}

/// The history and the epochs done of a stopped training in `folder`, with its weights and the
/// optimizer's state loaded, when the three agree; `None` when there is nothing to continue.
fn saved_state<M: run::Trainable>(
    folder: &RunFolder,
    model: &mut M,
    optimizer: &mut dyn optimizer::Optimizer,
    options: &TrainOptions,
) -> Result<Option<(History, usize)>, TrainError> {
    let weights = folder.weights_path();
    if !weights.exists() {
        return Ok(None);
    }
    let Ok(Some(history)) = folder.load_history() else {
        return Ok(None);
    };
    let Ok(done) = session::load_weights(model, &weights) else {
        return Ok(None);
    };
    if history.last_epoch() != done || done == 0 || done > options.epochs {
        return Ok(None);
    }
    let lengths = run::trainable_lengths(model);
    match session::resume_optimizer(optimizer, options, &weights, done, &lengths) {
        Ok(OptimizerResume::Restored {
            learning_rate,
            momentum,
            ..
        }) if learning_rate == options.learning_rate
            && (momentum == options.momentum
                || options.optimizer != crate::train::options::OptimizerKind::Sgd) =>
        {
            Ok(Some((history, done)))
        }
        _ => Ok(None),
    }
}

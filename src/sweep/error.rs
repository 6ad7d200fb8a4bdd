//! Why a sweep cannot go on: a grid that is too large or empty after filtering, settings that do
//! not fit the data, a folder that holds another sweep or is in use, tasks that are not done, or
//! the trainer's own errors.

use crate::error::Locate;
use crate::source::Span;
use crate::train::TrainError;
use crate::train::folder_lock::LockError;
use std::path::PathBuf;

/// An error of a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The folder has no `sweep.json`.
    #[error("{} holds no sweep (there is no sweep.json)", folder.display())]
    NotASweep {
        /// The folder.
        folder: PathBuf,
    },
    /// `sweep.json` cannot be read back.
    #[error("{} cannot be read: {reason}", path.display())]
    DamagedSpec {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The folder was prepared for another sweep.
    #[error("{} holds another sweep: {}", folder.display(), differences.join("; "))]
    OtherSweep {
        /// The folder.
        folder: PathBuf,
        /// What differs, one phrase each.
        differences: Vec<String>,
    },
    /// The grid has more configurations than allowed.
    #[error("the grid expands to {count} configurations, more than --max-configs {limit}")]
    TooManyConfigurations {
        /// Configurations in the grid.
        count: u128,
        /// The limit.
        limit: usize,
        /// The sweep section (or grid file) that defines the grid.
        span: Span,
    },
    /// `--samples 0`.
    #[error("--samples must be at least 1")]
    NoSamples,
    /// Nothing passes analysis and the filters.
    #[error(
        "no configuration is left to train: of the {grid} in the grid, {skipped} fail analysis \
         and {filtered} are filtered out"
    )]
    NothingToRun {
        /// Configurations in the grid.
        grid: usize,
        /// Those that fail analysis.
        skipped: usize,
        /// Those the filters remove.
        filtered: usize,
    },
    /// `--folds 0` or `--folds 1`.
    #[error("--folds must be at least 2, got {folds}")]
    TooFewFolds {
        /// The folds asked for.
        folds: usize,
    },
    /// Fewer training images than folds.
    #[error("{images} training images cannot be cut into {folds} folds")]
    TooFewImages {
        /// Images in the pool.
        images: usize,
        /// Folds asked for.
        folds: usize,
    },
    /// A validation split that leaves nothing to train on.
    #[error("--validation split:{count} leaves none of the {images} training images to train on")]
    SplitTooLarge {
        /// Images held out.
        count: usize,
        /// Training images.
        images: usize,
    },
    /// A task index past the end.
    #[error("the sweep in {} has {count} tasks (0 to {}); there is no task {index}", folder.display(), count.saturating_sub(1))]
    NoSuchTask {
        /// The folder.
        folder: PathBuf,
        /// The index asked for.
        index: usize,
        /// Tasks in the sweep.
        count: usize,
    },
    /// Tasks not done when the sweep is to be finished.
    #[error(
        "{} of the {total} tasks of {} are not done: {}",
        missing.len(),
        folder.display(),
        list(missing)
    )]
    Unfinished {
        /// The folder.
        folder: PathBuf,
        /// The tasks not done.
        missing: Vec<usize>,
        /// Tasks in the sweep.
        total: usize,
    },
    /// Tasks that failed in a local run (their errors were printed as they happened).
    #[error("{} of the {total} tasks failed: {}", failed.len(), list(failed))]
    TasksFailed {
        /// The tasks that failed.
        failed: Vec<usize>,
        /// Tasks in the sweep.
        total: usize,
    },
    /// A configuration that passed analysis when the sweep was prepared no longer does.
    #[error("configuration {index}: {message}")]
    Configuration {
        /// Its index in the grid.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The folder (or a fold's folder) is in use.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The trainer failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A file of the sweep cannot be written or read.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `write`, `read`, `create`.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// `0, 3, 5` (at most 20 of them, then `…`).
fn list(indices: &[usize]) -> String {
    let mut text: Vec<String> = indices.iter().take(20).map(usize::to_string).collect();
    if indices.len() > 20 {
        text.push(format!("… ({} more)", indices.len() - 20));
    }
    text.join(", ")
}

impl Locate for SweepError {
    fn span(&self) -> Span {
        match self {
            SweepError::TooManyConfigurations { span, .. } => *span,
            _ => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            SweepError::TooManyConfigurations { count, .. } => {
                format!("{count} configurations")
            }
            _ => "here".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            SweepError::NotASweep { .. } => {
                Some("`netcalc sweep run SPEC --out FOLDER` prepares a sweep folder".to_string())
            }
            SweepError::OtherSweep { folder, .. } => Some(format!(
                "write this sweep to another folder (--out), or remove {} to replace the old one",
                folder.display()
            )),
            SweepError::TooManyConfigurations { .. } => Some(
                "raise --max-configs, or narrow the grid (--max-params and --max-macs prune it \
                 after expansion, --samples draws from it)"
                    .to_string(),
            ),
            SweepError::NothingToRun { .. } => {
                Some("`netcalc sweep expand` lists each configuration and why".to_string())
            }
            SweepError::TooFewFolds { .. } => {
                Some("--validation split:N holds out one part instead".to_string())
            }
            SweepError::TooFewImages { .. } => {
                Some("use more images (--subset) or fewer folds (--folds)".to_string())
            }
            SweepError::Unfinished { .. } | SweepError::TasksFailed { .. } => Some(
                "run the same `netcalc sweep run` command again: it skips the finished folds"
                    .to_string(),
            ),
            SweepError::Lock(_) => {
                Some("wait for it to end, or write this sweep to another folder".to_string())
            }
            SweepError::Train(error) => error.help(),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SweepError::NotASweep { .. } => "netcalc::sweep::not_a_sweep",
            SweepError::DamagedSpec { .. } => "netcalc::sweep::damaged_spec",
            SweepError::OtherSweep { .. } => "netcalc::sweep::other_sweep",
            SweepError::TooManyConfigurations { .. } => "netcalc::sweep::too_many_configurations",
            SweepError::NoSamples => "netcalc::sweep::no_samples",
            SweepError::NothingToRun { .. } => "netcalc::sweep::nothing_to_run",
            SweepError::TooFewFolds { .. } => "netcalc::sweep::too_few_folds",
            SweepError::TooFewImages { .. } => "netcalc::sweep::too_few_images",
            SweepError::SplitTooLarge { .. } => "netcalc::sweep::split_too_large",
            SweepError::NoSuchTask { .. } => "netcalc::sweep::no_such_task",
            SweepError::Unfinished { .. } => "netcalc::sweep::unfinished",
            SweepError::TasksFailed { .. } => "netcalc::sweep::tasks_failed",
            SweepError::Configuration { .. } => "netcalc::sweep::configuration",
            SweepError::Lock(_) => "netcalc::sweep::busy",
            SweepError::Train(error) => error.code(),
            SweepError::Io { .. } => "netcalc::sweep::io",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(list(&[0, 3, 5]), "0, 3, 5");
        let many: Vec<usize> = (0..25).collect();
        assert!(list(&many).ends_with("19, … (5 more)"));
    }
}

//! Grid search over a described architecture (`netcalc sweep`): a description with parameters
//! and a grid is expanded into configurations, each analysed first; those that pass are trained
//! fold by fold as independent, ordinary trainings (crate::train, used as it is), in any order,
//! by any number of processes or machines sharing the sweep folder; the best one is refit and
//! scored on the test images.
//!
//! The parts: [`template`] reads the description and its grid and instantiates configurations;
//! [`selection`] analyses and filters them; [`spec`] is `sweep.json`, everything a task needs;
//! [`folds`] cuts the training images as scikit-learn's `KFold`; [`seeds`] derives each training's
//! seed; [`folder`] knows the sweep folder and where each task stands; [`task`] runs one task
//! ([`training`] is the training itself, [`record`] its `result.json`); [`results`] ranks and
//! reports; [`finish`] refits the best and writes the result files; [`plot`] draws accuracy
//! against parameters; [`slurm`] writes the batch scripts of a Slurm job array (and the plain
//! commands for other runners) and submits them through `sbatch`. Nothing here prints or reads
//! the environment; the command line (crate::cli) runs tasks as child processes.

pub mod digest;
pub mod error;
pub mod finish;
pub mod folder;
pub mod folds;
pub mod plot;
pub mod record;
pub mod results;
pub mod seeds;
pub mod selection;
pub mod slurm;
pub mod spec;
pub mod task;
pub mod template;
pub mod training;

pub use error::SweepError;
pub use folder::{SweepFolder, Task, TaskState};
pub use task::{TaskOutcome, run_task};

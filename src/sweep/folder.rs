//! The sweep folder: `sweep.json`, then one folder per configuration (`configurations/0007/`,
//! named by the configuration's index in the grid) holding its instantiated description
//! (`description.yaml`) and one normal run folder per fold (`fold-1/`, `fold-2/`, … or `split/`),
//! and finally the results, the best configuration and its refit (`refit/`).
//!
//! A task (configuration × fold, numbered configuration-major: task `c·folds + f` for the `c`-th
//! configuration selected) is done when its `result.json` proves it ([`FoldRecord::check`]):
//! the digest of what determines the training must equal what the sweep expects now. That digest
//! covers the instantiated description (printed as YAML), the resolved training options (with
//! the derived seed and the threads), the evaluation, the data folder and image counts and the
//! exact images trained on and held out.

use crate::error::Error;
use crate::sweep::SweepError;
use crate::sweep::digest;
use crate::sweep::folds;
use crate::sweep::record::{self, FoldRecord, Missing};
use crate::sweep::spec::{Purpose, Selected, SweepSpec};
use crate::sweep::template::{Instance, Template};
use crate::train::folder_lock;
use crate::train::options::TrainOptions;
use std::path::{Path, PathBuf};

/// A prepared sweep folder.
#[derive(Debug, Clone)]
pub struct SweepFolder {
    /// The folder.
    pub path: PathBuf,
    /// Its `sweep.json`.
    pub spec: SweepSpec,
    /// The description and grid it holds, read back.
    pub template: Template,
}

/// One task of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Its number.
    pub index: usize,
    /// The position of its configuration among those selected.
    pub position: usize,
    /// Its part (fold) of the evaluation, 0-based.
    pub part: usize,
    /// Its configuration.
    pub configuration: Selected,
    /// Its run folder.
    pub folder: PathBuf,
}

/// What a training of the sweep is expected to be.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The configuration, instantiated.
    pub instance: Instance,
    /// Its training options.
    pub options: TrainOptions,
    /// Everything that determines the training, as JSON (written to `fold.json`).
    pub inputs: serde_json::Value,
    /// The digest of `inputs`.
    pub digest: String,
}

/// Where a task stands.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// Its result proves it done.
    Done(FoldRecord),
    /// A process holds its folder (what the lock file says of it).
    Running(String),
    /// It is not done; why, when something is there (a stopped training, a stale result).
    Missing(Option<String>),
}

impl SweepFolder {
    /// Opens a prepared sweep folder (read only).
    pub fn open(path: &Path) -> Result<SweepFolder, Error> {
        let spec = SweepSpec::read(path).map_err(Error::unplaced)?;
        SweepFolder::with_spec(path, spec)
    }

    fn with_spec(path: &Path, spec: SweepSpec) -> Result<SweepFolder, Error> {
        let grid = spec
            .grid
            .as_ref()
            .map(|grid| (grid.source(), grid.format()));
        let template = Template::read(spec.description.source(), spec.description.format(), grid)?;
        Ok(SweepFolder {
            path: path.to_path_buf(),
            spec,
            template,
        })
    }

    /// Prepares `path` for `spec`: creates it and writes `sweep.json`, or, when the folder
    /// already holds this very sweep, keeps it (its finished folds count). A folder that holds
    /// another sweep is refused, naming what differs. The caller holds the folder's lock.
    pub fn prepare(path: &Path, spec: SweepSpec) -> Result<SweepFolder, Error> {
        match SweepSpec::read(path) {
            Ok(existing) => {
                let differences = existing.differences(&spec);
                if !differences.is_empty() {
                    return Err(Error::unplaced(SweepError::OtherSweep {
                        folder: path.to_path_buf(),
                        differences,
                    }));
                }
            }
            Err(SweepError::NotASweep { .. }) => {
                std::fs::create_dir_all(path).map_err(|source| {
                    Error::unplaced(SweepError::Io {
                        action: "create",
                        path: path.to_path_buf(),
                        source,
                    })
                })?;
                spec.write(path).map_err(Error::unplaced)?;
            }
            Err(error) => return Err(Error::unplaced(error)),
        }
        SweepFolder::with_spec(path, spec)
    }

    /// Tasks in the sweep.
    pub fn task_count(&self) -> usize {
        self.spec.task_count()
    }

    /// The folder of a configuration: `configurations/0007` (at least four digits, as many as
    /// the grid's last index needs).
    pub fn configuration_folder(&self, configuration: &Selected) -> PathBuf {
        let width = self
            .spec
            .selection
            .grid
            .saturating_sub(1)
            .to_string()
            .len()
            .max(4);
        self.path
            .join("configurations")
            .join(format!("{:0width$}", configuration.index))
    }

    /// Task `index`.
    pub fn task(&self, index: usize) -> Result<Task, Error> {
        let (position, part) = self.spec.task(index).ok_or_else(|| {
            Error::unplaced(SweepError::NoSuchTask {
                folder: self.path.clone(),
                index,
                count: self.task_count(),
            })
        })?;
        let configuration = self.spec.configurations[position].clone();
        let folder = self
            .configuration_folder(&configuration)
            .join(self.spec.evaluation.part_name(part));
        Ok(Task {
            index,
            position,
            part,
            configuration,
            folder,
        })
    }

    /// The configuration instantiated again, checked against what the sweep recorded of it.
    pub fn instance(&self, configuration: &Selected) -> Result<Instance, Error> {
        let instance = self
            .template
            .instance(configuration.index)
            .map_err(|refusal| refusal.into_error())?;
        if instance.values != configuration.values {
            return Err(Error::unplaced(SweepError::Configuration {
                index: configuration.index,
                message: format!(
                    "the grid gives it the values {}, but sweep.json records {}",
                    instance.values.join(", "),
                    configuration.values.join(", ")
                ),
            }));
        }
        Ok(instance)
    }

    /// What a training of `configuration` for `purpose` is expected to be.
    pub fn expectation(
        &self,
        configuration: &Selected,
        purpose: Purpose,
    ) -> Result<Expectation, Error> {
        let instance = self.instance(configuration)?;
        let options = self
            .spec
            .options(&instance.description.train, configuration.index, purpose)
            .map_err(|error| Error::new(&self.template.source, error))?;
        let (part, trained_on, held_out) = match purpose {
            Purpose::Part(part) => {
                let (trained_on, held_out) = folds::part_ranges(
                    self.spec.training_images,
                    self.spec.evaluation,
                    self.spec.subset,
                    part,
                );
                let trained_on: Vec<[usize; 2]> = trained_on
                    .into_iter()
                    .filter(|range| !range.is_empty())
                    .map(|range| [range.start, range.end])
                    .collect();
                (
                    self.spec.evaluation.part_name(part),
                    serde_json::json!(trained_on),
                    serde_json::json!([held_out.start, held_out.end]),
                )
            }
            Purpose::Refit => {
                let pool = self
                    .spec
                    .subset
                    .map_or(self.spec.training_images, |subset| {
                        subset.min(self.spec.training_images)
                    });
                (
                    "refit".to_string(),
                    serde_json::json!([[0, pool]]),
                    serde_json::json!("test"),
                )
            }
        };
        let inputs = serde_json::json!({
            "configuration": configuration.index,
            "values": configuration.values,
            "description": crate::syntax::yaml::print(&instance.description),
            "options": options.to_json(),
            "evaluation": self.spec.evaluation,
            "part": part,
            "data": self.spec.data,
            "training_images": self.spec.training_images,
            "trained_on": trained_on,
            "held_out": held_out,
        });
        let digest = digest::of_json(&inputs);
        Ok(Expectation {
            instance,
            options,
            inputs,
            digest,
        })
    }

    /// Where task `task` stands (reads only).
    pub fn state(&self, task: &Task) -> Result<TaskState, Error> {
        let expectation = self.expectation(&task.configuration, Purpose::Part(task.part))?;
        Ok(state_of(&task.folder, &expectation.digest))
    }

    /// Every task's state, in task order.
    pub fn states(&self) -> Result<Vec<(Task, TaskState)>, Error> {
        (0..self.task_count())
            .map(|index| {
                let task = self.task(index)?;
                let state = self.state(&task)?;
                Ok((task, state))
            })
            .collect()
    }

    /// The tasks not done (running ones included), in order.
    pub fn unfinished(&self) -> Result<Vec<usize>, Error> {
        Ok(self
            .states()?
            .into_iter()
            .filter(|(_, state)| !matches!(state, TaskState::Done(_)))
            .map(|(task, _)| task.index)
            .collect())
    }

    /// A one-line summary of the configuration: `7 (filters=[32, 64] kernel_size=3)`.
    pub fn label(&self, configuration: &Selected) -> String {
        if self.spec.parameters.is_empty() {
            return configuration.index.to_string();
        }
        let pairs: Vec<String> = self
            .spec
            .parameters
            .iter()
            .zip(&configuration.values)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        format!("{} ({})", configuration.index, pairs.join(" "))
    }

    /// The line printed when a task is done: configuration, fold, accuracy, seconds.
    pub fn line(&self, task: &Task, record: &FoldRecord) -> String {
        let outcome = match (&record.accuracy, &record.failure) {
            (Some(accuracy), _) => format!(
                "accuracy {accuracy:.4} ({} of {})",
                record.correct.unwrap_or(0),
                record.count
            ),
            (None, Some(failure)) => format!("failed: {failure}"),
            (None, None) => "no accuracy".to_string(),
        };
        format!(
            "Configuration {}, {} of {}: {outcome}, {:.1}s",
            self.label(&task.configuration),
            self.spec.evaluation.part_name(task.part),
            self.spec.evaluation.parts(),
            record.seconds
        )
    }
}

/// The state of a training folder against the digest it should have been made with.
pub fn state_of(folder: &Path, expected: &str) -> TaskState {
    match FoldRecord::check(folder, expected) {
        Ok(record) => TaskState::Done(record),
        Err(missing) => {
            if let Some(holder) = folder_lock::holder(folder) {
                return TaskState::Running(holder);
            }
            match missing {
                Missing::Invalid(reason) => TaskState::Missing(Some(format!(
                    "{} does not count: {reason}",
                    record::FILE_NAME
                ))),
                Missing::NoResult => TaskState::Missing(started(folder, expected)),
            }
        }
    }
}

/// `stopped after epoch 3` for a training of this digest that was stopped, if any.
fn started(folder: &Path, expected: &str) -> Option<String> {
    let inputs = std::fs::read_to_string(folder.join(record::INPUTS_FILE_NAME)).ok()?;
    let inputs: serde_json::Value = serde_json::from_str(&inputs).ok()?;
    if inputs.get("digest").and_then(|digest| digest.as_str()) != Some(expected) {
        return None;
    }
    let history = crate::train::session::RunFolder {
        path: folder.to_path_buf(),
    }
    .load_history()
    .ok()??;
    Some(match history.last_epoch() {
        0 => "stopped before its first epoch ended".to_string(),
        epoch => format!("stopped after epoch {epoch}"),
    })
}

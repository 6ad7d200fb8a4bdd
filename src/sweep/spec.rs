//! `sweep.json`: everything a task needs, written once when a sweep is prepared and read by every
//! task, `status`, `report` and `finish`. It holds the description as written (and the grid
//! file's text), the configurations selected (after analysis, filters and random sampling), how
//! they are scored, the data folder, the seed, the threads per task and the training settings
//! given on the command line. The training options of each task follow from it alone, so a
//! task's numbers do not depend on which machine or job count runs it.

use crate::source::Source;
use crate::sweep::SweepError;
use crate::sweep::folds::Evaluation;
use crate::sweep::seeds::{self, Part};
use crate::syntax::{Attribute, Format};
use crate::train::files::write_atomically;
use crate::train::options::{
    InitializationKind, L2Convention, LossKind, OptimizerKind, OptionsError, TrainOptions,
    TrainOverrides, Validation,
};
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

/// The file's name in the sweep folder.
pub const FILE_NAME: &str = "sweep.json";
/// The value of its `format` field.
pub const FORMAT: &str = "netcalc.sweep.v1";

/// A text file as the sweep was given it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceText {
    /// Its name as given (a path or `builtin:FILE`), for messages.
    pub name: String,
    /// `yaml` or `dsl`.
    pub format: String,
    /// The text.
    pub text: String,
}

impl SourceText {
    /// A source and its format.
    pub fn new(source: &Source, format: Format) -> SourceText {
        SourceText {
            name: source.name.clone(),
            format: match format {
                Format::Yaml => "yaml",
                Format::Dsl => "dsl",
            }
            .to_string(),
            text: source.text.to_string(),
        }
    }

    /// The source again.
    pub fn source(&self) -> Source {
        Source::new(self.name.clone(), self.text.as_str())
    }

    /// Its format.
    pub fn format(&self) -> Format {
        if self.format == "dsl" {
            Format::Dsl
        } else {
            Format::Yaml
        }
    }
}

/// One configuration chosen for training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selected {
    /// Its index in the grid's order.
    pub index: usize,
    /// The swept parameters' values as DSL text, in the grid's order.
    pub values: Vec<String>,
    /// Its parameter count.
    pub parameters: u64,
    /// Its multiply-accumulates per example.
    pub macs: u64,
}

/// How the configurations were chosen from the grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Configurations in the grid.
    pub grid: usize,
    /// Those that failed analysis (or their training settings).
    pub skipped: usize,
    /// `--max-params`.
    pub max_params: Option<u64>,
    /// `--max-macs`.
    pub max_macs: Option<u64>,
    /// Those the two filters removed.
    pub filtered: usize,
    /// `--samples`.
    pub samples: Option<usize>,
}

/// Training settings given on the command line; each one set wins over the description's
/// `train` section, in every configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingFlags {
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--optimizer`.
    pub optimizer: Option<String>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
    /// `--momentum`.
    pub momentum: Option<f64>,
    /// `--loss`.
    pub loss: Option<String>,
    /// `--l2`.
    pub l2: Option<f64>,
    /// `--l2-convention`.
    pub l2_convention: Option<String>,
    /// `--init`.
    pub init: Option<String>,
}

impl TrainingFlags {
    /// The flags of these overrides (the fields a sweep passes on).
    pub fn of(overrides: &TrainOverrides) -> TrainingFlags {
        TrainingFlags {
            epochs: overrides.epochs,
            batch_size: overrides.batch_size.map(NonZeroUsize::get),
            optimizer: overrides.optimizer.map(|kind| kind.name().to_string()),
            learning_rate: overrides.learning_rate,
            momentum: overrides.momentum,
            loss: overrides.loss.map(|kind| kind.name().to_string()),
            l2: overrides.l2,
            l2_convention: overrides.l2_convention.map(|kind| kind.name().to_string()),
            init: overrides.initialization.map(|kind| kind.name().to_string()),
        }
    }

    /// The overrides again; a name that no longer means anything is `None`.
    pub fn overrides(&self) -> TrainOverrides {
        TrainOverrides {
            epochs: self.epochs,
            batch_size: self.batch_size.and_then(NonZeroUsize::new),
            optimizer: self.optimizer.as_deref().and_then(OptimizerKind::from_name),
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            loss: self.loss.as_deref().and_then(LossKind::from_name),
            l2: self.l2,
            l2_convention: self
                .l2_convention
                .as_deref()
                .and_then(L2Convention::from_name),
            initialization: self.init.as_deref().and_then(InitializationKind::from_name),
            ..TrainOverrides::default()
        }
    }
}

/// What a training of the sweep is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Part `part` (0-based) of a configuration's evaluation.
    Part(usize),
    /// The refit of the best configuration.
    Refit,
}

/// The contents of `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    /// [`FORMAT`].
    pub format: String,
    /// The description as written.
    pub description: SourceText,
    /// The grid file, when the grid comes from one (`--grid`).
    pub grid: Option<SourceText>,
    /// The swept parameters, in the grid's order.
    pub parameters: Vec<String>,
    /// How the configurations were chosen.
    pub selection: Selection,
    /// The configurations to train, in the grid's order.
    pub configurations: Vec<Selected>,
    /// How each is scored.
    pub evaluation: Evaluation,
    /// The MNIST folder, absolute.
    pub data: PathBuf,
    /// Images in its training split.
    pub training_images: usize,
    /// Train on (and cut folds from) the first N training images only.
    pub subset: Option<usize>,
    /// The sweep's seed; each training's seed is derived from it (crate::sweep::seeds).
    pub seed: u64,
    /// Threads of each training.
    pub threads_per_task: usize,
    /// Training settings from the command line.
    pub training: TrainingFlags,
}

impl SweepSpec {
    /// Tasks: configurations × parts, numbered configuration-major (task `c·parts + p`).
    pub fn task_count(&self) -> usize {
        self.configurations.len() * self.evaluation.parts()
    }

    /// The position of the configuration and the part of task `index`, if there is one.
    pub fn task(&self, index: usize) -> Option<(usize, usize)> {
        let parts = self.evaluation.parts();
        (index < self.task_count()).then(|| (index / parts, index % parts))
    }

    /// The training options of one training: the description's `train` section (of the
    /// configuration) under the command line's settings, then the sweep's own: the derived seed,
    /// the threads per task, and the images (a fold's are chosen by the sweep, so its options
    /// say no subset and no validation; a split's say `split:N` and the subset, as `netcalc
    /// train` would; the refit trains on the pool and watches the test images).
    pub fn options(
        &self,
        section: &[Attribute],
        configuration: usize,
        purpose: Purpose,
    ) -> Result<TrainOptions, OptionsError> {
        let threads = NonZeroUsize::new(self.threads_per_task).unwrap_or(NonZeroUsize::MIN);
        let mut options = TrainOptions::resolve(section, &self.training.overrides(), threads)?;
        let part = match purpose {
            Purpose::Part(part) => self.evaluation.part_name(part),
            Purpose::Refit => String::new(),
        };
        options.seed = seeds::training_seed(
            self.seed,
            configuration,
            match purpose {
                Purpose::Part(_) => Part::Named(&part),
                Purpose::Refit => Part::Refit,
            },
        );
        options.threads = threads;
        (options.subset, options.validation) = match (purpose, self.evaluation) {
            (Purpose::Part(_), Evaluation::Folds(_)) => (None, Validation::None),
            (Purpose::Part(_), Evaluation::Split(count)) => (self.subset, Validation::Split(count)),
            (Purpose::Refit, _) => (self.subset, Validation::Test),
        };
        Ok(options)
    }

    /// What differs between this sweep and another, one phrase each (empty when they are the
    /// same sweep). Names of files do not count, their texts do.
    pub fn differences(&self, other: &SweepSpec) -> Vec<String> {
        let mut differences = Vec::new();
        let mut differ = |same: bool, phrase: String| {
            if !same {
                differences.push(phrase);
            }
        };
        differ(
            self.description.text == other.description.text,
            format!(
                "the description differs ({} there, {} here)",
                self.description.name, other.description.name
            ),
        );
        differ(
            self.grid.as_ref().map(|grid| &grid.text) == other.grid.as_ref().map(|grid| &grid.text),
            "the grid file differs".to_string(),
        );
        differ(
            self.selection == other.selection && self.configurations == other.configurations,
            format!(
                "other configurations are selected ({} there, {} here)",
                self.configurations.len(),
                other.configurations.len()
            ),
        );
        differ(
            self.evaluation == other.evaluation,
            format!(
                "{} there, {} here",
                self.evaluation.describe(),
                other.evaluation.describe()
            ),
        );
        differ(
            self.data == other.data && self.training_images == other.training_images,
            format!(
                "the data folder is {} there, {} here",
                self.data.display(),
                other.data.display()
            ),
        );
        differ(
            self.subset == other.subset,
            format!(
                "the subset is {} there, {} here",
                subset_text(self.subset),
                subset_text(other.subset)
            ),
        );
        differ(
            self.seed == other.seed,
            format!("the seed is {} there, {} here", self.seed, other.seed),
        );
        differ(
            self.threads_per_task == other.threads_per_task,
            format!(
                "{} threads per task there, {} here",
                self.threads_per_task, other.threads_per_task
            ),
        );
        differ(
            self.training == other.training,
            "the training settings differ".to_string(),
        );
        differ(
            self.format == other.format,
            format!(
                "it was written as {} (this netcalc writes {FORMAT})",
                self.format
            ),
        );
        differences
    }

    /// Writes `FOLDER/sweep.json` atomically.
    pub fn write(&self, folder: &Path) -> Result<(), SweepError> {
        let path = folder.join(FILE_NAME);
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        write_atomically(&path, text.as_bytes()).map_err(|source| SweepError::Io {
            action: "write",
            path,
            source,
        })
    }

    /// Reads `FOLDER/sweep.json`.
    pub fn read(folder: &Path) -> Result<SweepSpec, SweepError> {
        let path = folder.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(SweepError::NotASweep {
                    folder: folder.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(SweepError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let spec: SweepSpec =
            serde_json::from_str(&text).map_err(|error| SweepError::DamagedSpec {
                path: path.clone(),
                reason: error.to_string(),
            })?;
        if spec.format != FORMAT {
            return Err(SweepError::DamagedSpec {
                path,
                reason: format!("its format is `{}`, not `{FORMAT}`", spec.format),
            });
        }
        Ok(spec)
    }
}

fn subset_text(subset: Option<usize>) -> String {
    subset.map_or_else(|| "all images".to_string(), |count| count.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn spec() -> SweepSpec {
        SweepSpec {
            format: FORMAT.to_string(),
            description: SourceText {
                name: "net.yaml".to_string(),
                format: "yaml".to_string(),
                text: "name: net\n".to_string(),
            },
            grid: None,
            parameters: vec!["units".to_string()],
            selection: Selection {
                grid: 2,
                ..Selection::default()
            },
            configurations: vec![
                Selected {
                    index: 0,
                    values: vec!["16".to_string()],
                    parameters: 100,
                    macs: 90,
                },
                Selected {
                    index: 1,
                    values: vec!["32".to_string()],
                    parameters: 200,
                    macs: 180,
                },
            ],
            evaluation: Evaluation::Folds(3),
            data: PathBuf::from("/data/mnist"),
            training_images: 60_000,
            subset: Some(300),
            seed: 1,
            threads_per_task: 1,
            training: TrainingFlags {
                epochs: Some(2),
                optimizer: Some("adam".to_string()),
                ..TrainingFlags::default()
            },
        }
    }

    #[test]
    fn tasks_are_numbered_configuration_major() {
        let spec = spec();
        assert_eq!(spec.task_count(), 6);
        assert_eq!(spec.task(0), Some((0, 0)));
        assert_eq!(spec.task(4), Some((1, 1)));
        assert_eq!(spec.task(5), Some((1, 2)));
        assert_eq!(spec.task(6), None);
    }

    #[test]
    fn the_file_reads_back_and_names_what_differs() {
        let folder = tempfile::tempdir().unwrap();
        let spec = spec();
        spec.write(folder.path()).unwrap();
        let back = SweepSpec::read(folder.path()).unwrap();
        assert_eq!(back, spec);
        assert!(spec.differences(&back).is_empty());
        let other = SweepSpec {
            seed: 7,
            evaluation: Evaluation::Folds(2),
            description: SourceText {
                name: "elsewhere/net.yaml".to_string(),
                ..spec.description.clone()
            },
            ..spec.clone()
        };
        assert_eq!(
            spec.differences(&other),
            vec![
                "3-fold cross-validation there, 2-fold cross-validation here".to_string(),
                "the seed is 1 there, 7 here".to_string(),
            ]
        );
        assert!(matches!(
            SweepSpec::read(&folder.path().join("none")),
            Err(SweepError::NotASweep { .. })
        ));
        std::fs::write(folder.path().join(FILE_NAME), "{").unwrap();
        assert!(matches!(
            SweepSpec::read(folder.path()),
            Err(SweepError::DamagedSpec { .. })
        ));
    }

    #[test]
    fn options_carry_the_sweeps_seed_threads_and_images() {
        let spec = spec();
        let fold = spec.options(&[], 1, Purpose::Part(2)).unwrap();
        assert_eq!(fold.epochs, 2);
        assert_eq!(fold.optimizer, OptimizerKind::Adam);
        assert_eq!(fold.seed, seeds::training_seed(1, 1, Part::Named("fold-3")));
        assert_eq!(fold.threads.get(), 1);
        assert_eq!((fold.subset, fold.validation), (None, Validation::None));
        let refit = spec.options(&[], 1, Purpose::Refit).unwrap();
        assert_eq!(refit.seed, seeds::training_seed(1, 1, Part::Refit));
        assert_eq!(
            (refit.subset, refit.validation),
            (Some(300), Validation::Test)
        );
        let split = SweepSpec {
            evaluation: Evaluation::Split(500),
            ..spec
        };
        let part = split.options(&[], 0, Purpose::Part(0)).unwrap();
        assert_eq!(
            (part.subset, part.validation),
            (Some(300), Validation::Split(500))
        );
        assert_eq!(part.seed, seeds::training_seed(1, 0, Part::Named("split")));
    }
}

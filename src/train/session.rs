//! What a `netcalc train` run does around the loop: loads the images the options ask for (the
//! validation split taken before the subset, as Nielsen's first 1,000 of the 50,000), finds how
//! images enter the network, fits a linear network in closed form when asked, keeps the run
//! folder (history, plots, weights, the optimizer's state, options), every file written
//! atomically, and puts a saved optimizer state back when a run resumes.

use crate::analysis::Analysis;
use crate::data::mnist::{CLASS_COUNT, Dataset};
use crate::error::{Error, Locate};
use crate::graph::Network;
use crate::layers::{Pass, Role};
use crate::source::Span;
use crate::tensor::{Compute, Tensor, elementwise};
use crate::train::checkpoint;
use crate::train::error::TrainError;
use crate::train::executor::Model;
use crate::train::files::write_atomically;
use crate::train::history::{EpochRecord, History};
use crate::train::images::InputLayout;
use crate::train::normal_equations::fit_linear;
use crate::train::optimizer::{self, Optimizer};
use crate::train::optimizer_file::{self, OptimizerFile};
use crate::train::options::{LossKind, OptimizerKind, TrainOptions, Validation};
use crate::train::plot::{self, Curve};
use crate::train::run::{Data, Trainable, evaluate};
use crate::train::weights::{self, EPOCHS_KEY, NETWORK_KEY};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The network a run trains and later evaluates: the description's network without its
/// auxiliary branches, which netcalc does not train (their extra losses, as in GoogLeNet, are not
/// implemented), so the weights hold the inference network's. A network with a dangling layer (a
/// second output) is refused, naming it: training needs one output.
pub fn trained_network(network: Network) -> Result<Network, Error> {
    let outputs = network.outputs();
    if !outputs.dangling.is_empty() {
        let node = |index| network.node(index);
        let first = node(outputs.dangling[0]);
        let error = ExtraOutputs {
            output: node(outputs.main).name.clone(),
            extra: outputs
                .dangling
                .iter()
                .map(|&index| node(index).name.clone())
                .collect(),
            span: first
                .decl
                .name
                .as_ref()
                .map_or(first.decl.kind.span, |name| name.span),
        };
        return Err(Error::new(&network.source, error));
    }
    if outputs.has_auxiliary() {
        network.without_auxiliary()
    } else {
        Ok(network)
    }
}

/// A network with more outputs than its last layer, given to training.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "training needs one output, but besides `{output}` no layer reads {}",
    self.extra.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
)]
pub struct ExtraOutputs {
    /// The network's output.
    pub output: String,
    /// The other layers nothing reads, in declaration order.
    pub extra: Vec<String>,
    /// The first one's declaration.
    pub span: Span,
}

impl Locate for ExtraOutputs {
    fn span(&self) -> Span {
        self.span
    }

    fn label(&self) -> String {
        "read by no layer".to_string()
    }

    fn help(&self) -> Option<String> {
        Some(
            "name it in a later layer's inputs, remove it, or mark a branch that only training \
             uses `auxiliary=true` (netcalc trains without such branches)"
                .to_string(),
        )
    }

    fn code(&self) -> &'static str {
        "netcalc::train::extra_outputs"
    }
}

/// Loads the training images (split and subset as the options say), the validation images if
/// any, and the test images.
pub fn load_data(folder: &Path, options: &TrainOptions) -> Result<(Data, Dataset), TrainError> {
    let full = Dataset::load_training(folder)?;
    let (pool, held_out) = match options.validation {
        Validation::Split(count) => {
            let (training, validation) = full.split_validation(count)?;
            (training, Some(validation))
        }
        Validation::None | Validation::Test => (full, None),
    };
    let training = match options.subset {
        Some(count) => pool.first(count)?,
        None => pool,
    };
    let test = Dataset::load_test(folder)?;
    let validation = match options.validation {
        Validation::Test => Some(test.clone()),
        _ => held_out,
    };
    Ok((
        Data {
            training,
            validation,
        },
        test,
    ))
}

/// How `rows × cols` images enter the network: its one input layer's shape decides.
pub fn input_layout(
    analysis: &Analysis,
    rows: usize,
    cols: usize,
) -> Result<InputLayout, TrainError> {
    let inputs: Vec<_> = analysis
        .layers
        .iter()
        .filter(|layer| layer.inputs.is_empty())
        .collect();
    match inputs.as_slice() {
        [input] => InputLayout::new(&input.output, rows, cols),
        _ => Err(TrainError::Network(format!(
            "the network has {} input layers; training on images needs exactly one",
            inputs.len()
        ))),
    }
}

/// The seeded generator the model's initial weights are drawn from (stream 0 of the seed;
/// epochs draw their dropout masks from streams 1, 2, …).
pub fn initial_generator(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Builds the model of a network with the options' initialisation and seed.
pub fn build_model<'n>(
    network: &'n Network,
    analysis: &Analysis,
    options: &TrainOptions,
) -> Result<Model<'n>, TrainError> {
    let mut random = initial_generator(options.seed);
    Ok(Model::new(
        network,
        analysis,
        crate::train::model::initialization(options.initialization),
        &mut random,
    )?)
}

/// What the closed-form fit found.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedForm {
    /// The record of the fit (epoch 1: training and validation figures, seconds).
    pub record: EpochRecord,
    /// Rank of the augmented image matrix.
    pub rank: usize,
    /// Pixels left out of the fit (zero in every training image, or dependent on others).
    pub dropped_inputs: usize,
}

/// Fits a network whose output is x·W + b (one dense layer with linear activation) by the
/// normal equations on the training images with one-hot targets, loads the weights into the
/// model and evaluates it. Other networks, and losses other than `mse`, are refused.
pub fn fit_normal_equations(
    model: &mut Model<'_>,
    data: &Data,
    layout: &InputLayout,
    options: &TrainOptions,
) -> Result<ClosedForm, TrainError> {
    let started = Instant::now();
    if options.loss != LossKind::MeanSquaredError {
        return Err(TrainError::Network(format!(
            "the normal equations minimise the squared error: use `--loss mse` (not `{}`)",
            options.loss.name()
        )));
    }
    let not_linear = || {
        TrainError::Network(
            "the normal equations fit a network whose output is x·W + b: one dense layer with \
             `activation: linear` after the input"
                .to_string(),
        )
    };
    let inputs = layout.size();
    let classes = usize::from(CLASS_COUNT);
    let mut weights_name = None;
    let mut bias_name = None;
    let mut tensors = 0;
    for (name, tensor, _, spec) in model.parameters_mut() {
        tensors += 1;
        match spec.role {
            Role::Weights { .. } if tensor.shape() == [inputs, classes] => {
                weights_name = Some(name.to_string());
            }
            Role::Bias if tensor.shape() == [classes] => bias_name = Some(name.to_string()),
            _ => {}
        }
    }
    let (Some(weights_name), Some(bias_name), 2) = (weights_name, bias_name, tensors) else {
        return Err(not_linear());
    };
    let training = &data.training;
    let all: Vec<usize> = (0..training.len()).collect();
    let features = layout.batch(training, &all)?;
    let labels: Vec<usize> = training.labels.iter().map(|&l| usize::from(l)).collect();
    let targets = elementwise::one_hot(&labels, classes)?;
    let fit = fit_linear(features.data(), &targets, training.len(), inputs, classes)
        .map_err(|error| TrainError::Network(error.to_string()))?;
    let weights = Tensor::from_vec(
        &[inputs, classes],
        fit.weights.iter().map(|&w| w as f32).collect(),
    )?;
    let bias = Tensor::from_vec(&[classes], fit.bias.iter().map(|&b| b as f32).collect())?;
    // The fit is only the network's optimum if the network computes x·W + b: check on a few
    // images that it does.
    let sample: Vec<usize> = (0..training.len().min(16)).collect();
    let check = layout.batch(training, &sample)?;
    model.load_parameters(vec![
        (weights_name, weights.clone()),
        (bias_name, bias.clone()),
    ])?;
    let mut random = initial_generator(options.seed);
    let mut pass = Pass {
        compute: Compute::new(options.threads.get())?,
        training: false,
        random: &mut random,
    };
    let output = Trainable::forward(model, std::slice::from_ref(&check), &mut pass)?;
    for (row, values) in check.data().chunks_exact(inputs).enumerate() {
        for class in 0..classes {
            let expected: f32 = bias.data()[class]
                + values
                    .iter()
                    .enumerate()
                    .map(|(input, &x)| x * weights.data()[input * classes + class])
                    .sum::<f32>();
            let found = output.data().get(row * classes + class).copied();
            if found.is_none_or(|found| (found - expected).abs() > 1e-3 * expected.abs().max(1.0)) {
                return Err(not_linear());
            }
        }
    }
    let on_training = evaluate(model, training, layout, options, 0.0)?;
    let on_validation = match &data.validation {
        Some(validation) => Some(evaluate(model, validation, layout, options, 0.0)?),
        None => None,
    };
    Ok(ClosedForm {
        record: EpochRecord {
            epoch: 1,
            loss: on_training.loss,
            accuracy: on_training.accuracy,
            validation_loss: on_validation.map(|evaluation| evaluation.loss),
            validation_accuracy: on_validation.map(|evaluation| evaluation.accuracy),
            seconds: started.elapsed().as_secs_f64(),
        },
        rank: fit.rank,
        dropped_inputs: fit.dropped_inputs.len(),
    })
}

/// A run's folder and the files in it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFolder {
    /// The folder.
    pub path: PathBuf,
}

impl RunFolder {
    /// The files a run by gradient descent leaves (the closed-form fit has no optimizer file).
    pub const FILES: [&'static str; 9] = [
        "history.csv",
        "history.json",
        "accuracy.svg",
        "accuracy.png",
        "cost.svg",
        "cost.png",
        "weights.safetensors",
        optimizer_file::FILE_NAME,
        "options.json",
    ];

    /// The files a run leaves, with or without the optimizer's.
    pub fn files(optimizer: bool) -> Vec<&'static str> {
        RunFolder::FILES
            .into_iter()
            .filter(|&name| optimizer || name != optimizer_file::FILE_NAME)
            .collect()
    }

    /// `runs/NETWORK-seedSEED`: a name that depends only on the network and the seed.
    pub fn default_path(network: &str, seed: u64) -> PathBuf {
        Path::new("runs").join(format!("{network}-seed{seed}"))
    }

    /// Creates the folder (and its parents) if needed.
    pub fn create(path: &Path) -> Result<RunFolder, TrainError> {
        std::fs::create_dir_all(path).map_err(|source| TrainError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(RunFolder {
            path: path.to_path_buf(),
        })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), TrainError> {
        let path = self.path.join(name);
        write_atomically(&path, bytes).map_err(|source| TrainError::Write { path, source })
    }

    /// The weights file's path.
    pub fn weights_path(&self) -> PathBuf {
        self.path.join("weights.safetensors")
    }

    /// The optimizer file's path.
    pub fn optimizer_path(&self) -> PathBuf {
        self.path.join(optimizer_file::FILE_NAME)
    }

    /// Saves the run's state after `epochs` epochs as one checkpoint
    /// ([`crate::train::checkpoint`]: a crash or a full disk at any moment leaves the previous
    /// state whole): the weights, with the network's name and the epochs as metadata; the
    /// optimizer's state with the options' learning rate and momentum, when there is an optimizer
    /// (the closed-form fit has none, and the state it saves has no optimizer file, so that an
    /// older run's cannot be resumed with its weights); and the history as JSON and CSV.
    pub fn save_state(
        &self,
        weights: &[(String, &Tensor)],
        network: &str,
        optimizer: Option<(&dyn Optimizer, &TrainOptions)>,
        history: &History,
        epochs: usize,
    ) -> Result<(), TrainError> {
        let metadata = BTreeMap::from([
            (NETWORK_KEY.to_string(), network.to_string()),
            (EPOCHS_KEY.to_string(), epochs.to_string()),
        ]);
        let weights = weights::to_bytes(weights, &metadata).map_err(|reason| {
            TrainError::Weights(weights::WeightsError::Format {
                path: self.weights_path(),
                reason,
            })
        })?;
        let optimizer = match optimizer {
            Some((optimizer, options)) => {
                let file = OptimizerFile {
                    state: optimizer.state(),
                    learning_rate: options.learning_rate,
                    momentum: if optimizer.kind() == OptimizerKind::Sgd {
                        options.momentum
                    } else {
                        0.0
                    },
                    epochs,
                    network: network.to_string(),
                };
                let bytes = optimizer_file::to_bytes(&file).map_err(|reason| {
                    TrainError::OptimizerState {
                        path: self.optimizer_path(),
                        reason,
                    }
                })?;
                Some(bytes)
            }
            None => None,
        };
        let json = history.to_json();
        let csv = history.to_csv();
        let mut files: Vec<(&str, &[u8])> = vec![("weights.safetensors", &weights)];
        if let Some(bytes) = &optimizer {
            files.push((optimizer_file::FILE_NAME, bytes));
        }
        files.push(("history.json", json.as_bytes()));
        files.push(("history.csv", csv.as_bytes()));
        Ok(checkpoint::save(&self.path, epochs, &files)?)
    }

    /// The history read back from `history.json`, if the folder has one.
    pub fn load_history(&self) -> Result<Option<History>, TrainError> {
        let path = self.path.join("history.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(History::from_json(&text)?)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(TrainError::Write { path, source }),
        }
    }

    /// Accuracy and cost curves, SVG and PNG.
    pub fn save_plots(&self, history: &History, title: &str) -> Result<(), TrainError> {
        for curve in [Curve::Accuracy, Curve::Cost] {
            let failed = |error: plot::PlotError| TrainError::Network(error.to_string());
            let svg = plot::svg(history, curve, title).map_err(failed)?;
            self.write(&format!("{}.svg", curve.name()), svg.as_bytes())?;
            let png = plot::png(history, curve, title).map_err(failed)?;
            self.write(&format!("{}.png", curve.name()), &png)?;
        }
        Ok(())
    }

    /// The resolved options and the network's name, as JSON.
    pub fn save_options(&self, options: &TrainOptions, network: &str) -> Result<(), TrainError> {
        let mut json = options.to_json();
        if let Some(object) = json.as_object_mut() {
            object.insert("network".to_string(), network.into());
        }
        let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
        text.push('\n');
        self.write("options.json", text.as_bytes())
    }
}

/// Loads a weights file into a model; returns the epochs it had been trained for.
pub fn load_weights<M: Trainable>(model: &mut M, path: &Path) -> Result<usize, TrainError> {
    let file = weights::read(path)?;
    let epochs = file.epochs();
    model.load_parameters(file.tensors).map_err(|error| {
        TrainError::Network(format!(
            "{} does not fit the network: {error}",
            path.display()
        ))
    })?;
    Ok(epochs)
}

/// What became of the optimizer's saved state when a run resumed. In every case but
/// `Restored` the optimizer starts fresh, and the run does not continue as an uninterrupted one
/// would (unless the optimizer keeps no state: plain SGD).
#[derive(Debug, Clone, PartialEq)]
pub enum OptimizerResume {
    /// The state was put back: the run continues exactly (with the same learning rate and
    /// momentum).
    Restored {
        /// The file.
        path: PathBuf,
        /// The learning rate the state was reached with.
        learning_rate: f64,
        /// SGD's momentum it was reached with (0 for the other optimizers).
        momentum: f64,
    },
    /// There is no optimizer file beside the weights (runs saved before netcalc kept one).
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The file holds another optimizer's state.
    OtherOptimizer {
        /// The file.
        path: PathBuf,
        /// The optimizer it holds (`adam`, `sgd with momentum`).
        saved: String,
        /// The optimizer of this run.
        wanted: String,
    },
    /// The file's state belongs to another epoch than the weights (a run stopped between
    /// writing the two).
    OtherEpoch {
        /// The file.
        path: PathBuf,
        /// The epochs the state has seen.
        saved: usize,
        /// The epochs the weights have seen.
        weights: usize,
    },
}

/// The optimizer file beside a weights file (in the same folder).
pub fn optimizer_path_beside(weights: &Path) -> PathBuf {
    weights.with_file_name(optimizer_file::FILE_NAME)
}

/// Puts the state saved beside the weights file `weights` (trained for `epochs` epochs) into
/// `optimizer`, the fresh optimizer of `options`, if it is that optimizer's state for those
/// epochs; `lengths` are the model's trainable tensor lengths. A file that is damaged, or whose
/// vectors do not fit the model, is an error naming it.
pub fn resume_optimizer(
    optimizer: &mut dyn Optimizer,
    options: &TrainOptions,
    weights: &Path,
    epochs: usize,
    lengths: &[usize],
) -> Result<OptimizerResume, TrainError> {
    let path = optimizer_path_beside(weights);
    let Some(file) = optimizer_file::read(&path)? else {
        return Ok(OptimizerResume::Missing { path });
    };
    let wanted = optimizer::label(optimizer.kind(), options.momentum);
    let saved = file.label();
    if saved != wanted {
        return Ok(OptimizerResume::OtherOptimizer {
            path,
            saved,
            wanted,
        });
    }
    if file.epochs != epochs {
        return Ok(OptimizerResume::OtherEpoch {
            path,
            saved: file.epochs,
            weights: epochs,
        });
    }
    match optimizer.restore(&file.state, lengths) {
        Ok(()) => Ok(OptimizerResume::Restored {
            path,
            learning_rate: file.learning_rate,
            momentum: file.momentum,
        }),
        Err(error) => Err(TrainError::OptimizerState {
            path,
            reason: format!("it does not fit the network: {error}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use crate::train::optimizer::{Adadelta, Adam, EPSILON, OptimizerState};
    use crate::train::options::TrainOverrides;
    use std::num::NonZeroUsize;

    fn options(optimizer: OptimizerKind) -> TrainOptions {
        let flags = TrainOverrides {
            optimizer: Some(optimizer),
            ..TrainOverrides::default()
        };
        TrainOptions::resolve(&[], &flags, NonZeroUsize::MIN).unwrap()
    }

    const LENGTHS: [usize; 2] = [3, 2];

    /// A folder with the state of Adadelta after two steps on tensors of `LENGTHS`, saved as
    /// after 4 epochs; the state itself.
    fn saved_adadelta() -> (tempfile::TempDir, PathBuf, OptimizerState) {
        let mut adadelta = Adadelta::new(1.0, 0.95, EPSILON);
        let mut tensors = [vec![0.5f32, -0.25, 1.0], vec![2.0, 0.0]];
        for _ in 0..2 {
            adadelta.begin_step();
            adadelta.update(0, &mut tensors[0], &[0.1, -0.2, 0.3]);
            adadelta.update(1, &mut tensors[1], &[1.0, -1.0]);
        }
        let folder = tempfile::tempdir().unwrap();
        let run = RunFolder::create(folder.path()).unwrap();
        let optimizer: &dyn Optimizer = &adadelta;
        let options = options(OptimizerKind::Adadelta);
        run.save_state(
            &[],
            "mlp",
            Some((optimizer, &options)),
            &History::default(),
            4,
        )
        .unwrap();
        (folder, run.weights_path(), adadelta.state())
    }

    fn resume(
        optimizer: OptimizerKind,
        weights: &Path,
        epochs: usize,
        lengths: &[usize],
    ) -> (Result<OptimizerResume, TrainError>, OptimizerState) {
        let options = options(optimizer);
        let mut fresh = optimizer::from_options(&options);
        let result = resume_optimizer(fresh.as_mut(), &options, weights, epochs, lengths);
        (result, fresh.state())
    }

    #[test]
    fn the_state_beside_the_weights_is_restored() {
        let (_folder, weights, state) = saved_adadelta();
        let (result, restored) = resume(OptimizerKind::Adadelta, &weights, 4, &LENGTHS);
        assert_eq!(
            result.unwrap(),
            OptimizerResume::Restored {
                path: optimizer_path_beside(&weights),
                learning_rate: 1.0,
                momentum: 0.0,
            }
        );
        assert_eq!(restored, state);
    }

    #[test]
    fn another_optimizer_another_epoch_or_no_file_start_fresh_and_say_why() {
        let (folder, weights, _) = saved_adadelta();
        let path = optimizer_path_beside(&weights);
        let (result, state) = resume(OptimizerKind::Adam, &weights, 4, &LENGTHS);
        assert_eq!(
            result.unwrap(),
            OptimizerResume::OtherOptimizer {
                path: path.clone(),
                saved: "adadelta".to_string(),
                wanted: "adam".to_string(),
            }
        );
        assert_eq!(state, Adam::new(0.001, 0.9, 0.999, EPSILON).state());
        let (result, state) = resume(OptimizerKind::Adadelta, &weights, 3, &LENGTHS);
        assert_eq!(
            result.unwrap(),
            OptimizerResume::OtherEpoch {
                path: path.clone(),
                saved: 4,
                weights: 3,
            }
        );
        assert_eq!(state, OptimizerState::empty(OptimizerKind::Adadelta));
        std::fs::remove_file(&path).unwrap();
        let (result, _) = resume(OptimizerKind::Adadelta, &weights, 4, &LENGTHS);
        assert_eq!(result.unwrap(), OptimizerResume::Missing { path });
        drop(folder);
    }

    #[test]
    fn a_state_of_another_network_or_a_damaged_file_is_refused_naming_the_file() {
        let (_folder, weights, _) = saved_adadelta();
        let path = optimizer_path_beside(&weights);
        let (result, state) = resume(OptimizerKind::Adadelta, &weights, 4, &[3, 5]);
        let error = result.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot resume the optimizer from {}: it does not fit the network: \
                 `accumulated_gradient.1` has 2 values, but tensor 1 has 5",
                path.display()
            )
        );
        assert_eq!(
            crate::error::Locate::help(&error).unwrap(),
            format!(
                "remove {} to resume with a fresh optimizer (the run then does not continue \
                 exactly)",
                path.display()
            )
        );
        assert_eq!(state, OptimizerState::empty(OptimizerKind::Adadelta));
        let (result, _) = resume(OptimizerKind::Adadelta, &weights, 4, &[3, 2, 7]);
        assert!(result.unwrap_err().to_string().ends_with(
            "`accumulated_gradient.2` is missing: adadelta keeps \
                     accumulated_gradient.N, accumulated_update.N (N from 0 to 2)"
        ),);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let (result, _) = resume(OptimizerKind::Adadelta, &weights, 4, &LENGTHS);
        let message = result.unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "cannot resume the optimizer from {}: it is not a usable safetensors file: ",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn training_takes_one_output_and_leaves_auxiliary_branches_out() {
        let load =
            |text: &str| crate::load(&Source::new("t.nn", text), crate::Format::Dsl).unwrap();
        let refused = trained_network(load(
            "input 8\nstem: dense 4\nside: dense 3 <- stem\nalso: dense 3 <- stem\nout: dense 2 <- stem\n",
        ))
        .expect_err("two extra outputs");
        assert_eq!(
            refused.to_string(),
            "training needs one output, but besides `out` no layer reads `side`, `also`"
        );
        assert_eq!(refused.line_column(), Some((3, 1)));
        let trained = trained_network(load(
            "input 8\nstem: dense 4\nhead: dense 3 auxiliary=true <- stem\nout: dense 2 <- stem\n",
        ))
        .unwrap();
        let names: Vec<&str> = trained
            .order()
            .iter()
            .map(|&node| trained.node(node).name.as_str())
            .collect();
        assert_eq!(names, ["input_1", "stem", "out"]);
    }

    #[test]
    fn the_closed_form_fit_leaves_no_optimizer_file() {
        let (_folder, weights, _) = saved_adadelta();
        let run = RunFolder {
            path: weights.parent().unwrap().to_path_buf(),
        };
        assert!(run.optimizer_path().exists());
        run.save_state(&[], "mlp", None, &History::default(), 1)
            .unwrap();
        assert!(!run.optimizer_path().exists());
        assert!(run.weights_path().exists());
        assert!(!RunFolder::files(false).contains(&"optimizer.safetensors"));
        assert_eq!(RunFolder::files(true), RunFolder::FILES);
    }
}

//! `netcalc train`, `eval`, `predict` and `data fetch`: flags, the data folder (`--data` or
//! `NETCALC_MNIST`), the Ctrl-C flag, the per-epoch progress bar (stderr, only on a terminal)
//! and lines (stdout), and the exit codes: 0 done, 2 an error (after saving what was good), 130
//! stopped by Ctrl-C (after saving).

use super::{open, print_status, render_error};
use crate::analysis;
use crate::data::fetch::{self, Collection, FetchOptions, Progress as FetchProgress};
use crate::error::{Error, Locate};
use crate::graph::Network;
use crate::layers::Pass;
use crate::source::Span;
use crate::train::TrainError;
use crate::train::folder_lock::FolderLock;
use crate::train::history::History;
use crate::train::images::InputLayout;
use crate::train::loss;
use crate::train::optimizer::{self, Optimizer};
use crate::train::options::{
    InitializationKind, L2Convention, LossKind, OptimizerKind, OptionsError, Solver, TrainOptions,
    TrainOverrides, Validation,
};
use crate::train::picture;
use crate::train::run::{self, Ending, Progress, Trainable};
use crate::train::session::{self, RunFolder};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The environment variable naming the MNIST folder when `--data` is not given.
pub const DATA_VARIABLE: &str = "NETCALC_MNIST";

/// Flags of `netcalc train`.
#[derive(Debug, clap::Args)]
pub struct TrainArguments {
    /// A description file (.yaml, .yml, .nn) or a built-in architecture's name.
    network: String,
    #[command(flatten)]
    settings: Settings,
    #[command(flatten)]
    hyperparameters: Hyperparameters,
    /// Seed for initialisation, shuffling and dropout.
    #[arg(long)]
    seed: Option<u64>,
    /// Train on the first N training images only.
    #[arg(long)]
    subset: Option<usize>,
    /// Evaluation data: split:K (the last K training images), test, or none.
    #[arg(long, value_parser = validation)]
    validation: Option<Validation>,
    /// gradient-descent, or normal-equations for a network of one linear dense layer with mse.
    #[arg(long, value_parser = solver)]
    solver: Option<Solver>,
    /// Evaluate the training images after each epoch (Nielsen) instead of averaging the
    /// mini-batches during it (Keras).
    #[arg(long)]
    evaluate_training: bool,
    /// The run folder (default runs/NETWORK-seedSEED).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue from these weights; the optimizer's state saved beside them (optimizer.safetensors)
    /// and the history in the run folder continue too.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Print only the final result: no progress bar, no per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Save the weights, optimizer state and history after an epoch when this many seconds have
    /// passed since the last save (0: after every epoch); the end of a run always saves.
    #[arg(long, default_value_t = 10.0, value_parser = seconds)]
    save_every: f64,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
        _ => Err("expected a number of seconds ≥ 0".to_string()),
    }
}

/// How the weights are trained (train and sweep run).
#[derive(Debug, Clone, clap::Args)]
pub struct Hyperparameters {
    /// Epochs to train (default 1, or the description's `epochs`).
    #[arg(long)]
    pub(super) epochs: Option<usize>,
    /// Optimizer: sgd, adadelta, adam, rmsprop (Keras' rules and defaults).
    #[arg(long, value_parser = optimizer)]
    pub(super) optimizer: Option<OptimizerKind>,
    /// Learning rate (default: the optimizer's Keras default).
    #[arg(long)]
    pub(super) learning_rate: Option<f64>,
    /// SGD momentum in [0, 1).
    #[arg(long)]
    pub(super) momentum: Option<f64>,
    /// L2 coefficient λ.
    #[arg(long)]
    pub(super) l2: Option<f64>,
    /// How λ is read: keras (λ·Σw²) or nielsen ((λ/2n)·Σw²).
    #[arg(long, value_parser = l2_convention)]
    pub(super) l2_convention: Option<L2Convention>,
    /// Weight initialisation: glorot, he, nielsen, nielsen-large (weights and biases N(0, 1)).
    #[arg(long, value_parser = initialization)]
    pub(super) init: Option<InitializationKind>,
}

impl Hyperparameters {
    /// The overrides these flags make (the others unset).
    pub(super) fn overrides(&self) -> TrainOverrides {
        TrainOverrides {
            epochs: self.epochs,
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            l2: self.l2,
            l2_convention: self.l2_convention,
            initialization: self.init,
            ..TrainOverrides::default()
        }
    }
}

/// Flags shared by train and eval.
#[derive(Debug, clap::Args)]
pub struct Settings {
    /// The MNIST folder (default: $NETCALC_MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Images per batch.
    #[arg(long)]
    batch_size: Option<NonZeroUsize>,
    /// Loss: cross_entropy, sigmoid_cross_entropy, mse, rbf_penalty (LeCun 1998 eq. 8, for RBF outputs).
    #[arg(long, value_parser = loss_kind)]
    loss: Option<LossKind>,
    /// Threads (default: all cores); the same seed and thread count give the same numbers.
    #[arg(long)]
    threads: Option<NonZeroUsize>,
}

/// Flags of `netcalc eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArguments {
    /// A description file or a built-in architecture's name.
    network: String,
    /// A weights file written by `netcalc train`.
    #[arg(long)]
    weights: PathBuf,
    #[command(flatten)]
    settings: Settings,
}

/// Flags of `netcalc predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArguments {
    /// A description file or a built-in architecture's name.
    network: String,
    /// An IDX image file (MNIST's format), a binary PGM (P5) or a PNG. Images smaller than the
    /// network's input are zero-padded around (28×28 into 32×32), never scaled.
    image: PathBuf,
    /// A weights file written by `netcalc train`.
    #[arg(long)]
    weights: PathBuf,
    /// Which image of an IDX file.
    #[arg(long, default_value_t = 0)]
    index: usize,
    /// Invert grey levels (for dark digits on a light background; MNIST is white on black).
    #[arg(long)]
    invert: bool,
}

/// `netcalc data …`.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Downloads a data set from its public mirrors, checking SHA-256 digests.
    Fetch {
        /// mnist or fashion-mnist.
        #[arg(value_parser = collection)]
        collection: Collection,
        /// The folder to write the four files to.
        #[arg(long)]
        to: PathBuf,
    },
}

fn named<T>(from_name: fn(&str) -> Option<T>, names: &[&str], text: &str) -> Result<T, String> {
    from_name(text).ok_or_else(|| format!("expected one of {}", names.join(", ")))
}

fn optimizer(text: &str) -> Result<OptimizerKind, String> {
    named(OptimizerKind::from_name, &OptimizerKind::NAMES, text)
}

pub(super) fn loss_kind(text: &str) -> Result<LossKind, String> {
    named(LossKind::from_name, &LossKind::NAMES, text)
}

fn l2_convention(text: &str) -> Result<L2Convention, String> {
    named(L2Convention::from_name, &L2Convention::NAMES, text)
}

fn initialization(text: &str) -> Result<InitializationKind, String> {
    named(
        InitializationKind::from_name,
        &InitializationKind::NAMES,
        text,
    )
}

fn solver(text: &str) -> Result<Solver, String> {
    named(Solver::from_name, &Solver::NAMES, text)
}

pub(super) fn validation(text: &str) -> Result<Validation, String> {
    Validation::parse(text).ok_or_else(|| "expected split:K, test or none".to_string())
}

fn collection(text: &str) -> Result<Collection, String> {
    match text {
        "mnist" => Ok(Collection::Mnist),
        "fashion-mnist" => Ok(Collection::FashionMnist),
        _ => Err("expected mnist or fashion-mnist".to_string()),
    }
}

/// A problem of the command line around training.
#[derive(Debug, thiserror::Error)]
pub(super) enum TrainCommandError {
    #[error("no data folder: pass --data DIR or set {DATA_VARIABLE}")]
    NoData,
    #[error("{0}")]
    Train(#[from] TrainError),
}

impl Locate for TrainCommandError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn help(&self) -> Option<String> {
        match self {
            TrainCommandError::NoData => {
                Some("`netcalc data fetch mnist --to DIR` downloads MNIST into DIR".to_string())
            }
            TrainCommandError::Train(error) => error.help(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            TrainCommandError::NoData => "netcalc::cli::no_data",
            TrainCommandError::Train(error) => error.code(),
        }
    }
}

pub(super) fn fail(error: impl Into<TrainCommandError>) -> Error {
    Error::unplaced(error.into())
}

/// Prints an error and returns exit code 2.
pub(super) fn report(error: &Error) -> ExitCode {
    eprint!("{}", render_error(error));
    ExitCode::from(2)
}

pub(super) fn data_folder(given: &Option<PathBuf>) -> Result<PathBuf, Error> {
    match given {
        Some(folder) => Ok(folder.clone()),
        None => std::env::var_os(DATA_VARIABLE)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| fail(TrainCommandError::NoData)),
    }
}

pub(super) fn all_cores() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The network a run trains or uses ([`session::trained_network`]: without auxiliary branches,
/// refused with a second output), after the whole description is analysed and its `expect`
/// checked; with the names of the auxiliary heads left out.
fn load(name: &str) -> Result<(Network, Vec<String>), Error> {
    let (source, format) = open(name)?;
    let network = crate::load(&source, format)?;
    analysis::analyse(&network)?;
    let heads = network
        .outputs()
        .auxiliary
        .iter()
        .map(|&head| network.node(head).name.clone())
        .collect();
    Ok((session::trained_network(network)?, heads))
}

fn resolve(network: &Network, flags: &TrainOverrides) -> Result<TrainOptions, Error> {
    TrainOptions::resolve(&network.train, flags, all_cores()).map_err(|error| match error {
        OptionsError::Attribute(_) => Error::new(&network.source, error),
        OptionsError::Invalid { .. } => Error::unplaced(error),
    })
}

/// Runs work on a rayon pool of the options' thread count, so kernels use exactly that many.
pub(super) fn on_threads<T: Send>(threads: NonZeroUsize, work: impl FnOnce() -> T + Send) -> T {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.get())
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// The flag the Ctrl-C handler raises; a second Ctrl-C ends the process at once.
pub(super) fn interrupt_flag() -> &'static AtomicBool {
    static FLAG: AtomicBool = AtomicBool::new(false);
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if FLAG.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    });
    &FLAG
}

fn progress_bar(quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(0),
        if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "Epoch {msg} [{bar:30}] {pos}/{len} batches, {elapsed} (eta {eta}) loss {prefix}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(super) fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// `netcalc train`.
pub fn train(arguments: TrainArguments) -> ExitCode {
    match train_inner(arguments) {
        Ok(code) => code,
        Err(error) => report(&error),
    }
}

fn train_inner(arguments: TrainArguments) -> Result<ExitCode, Error> {
    let (network, heads) = load(&arguments.network)?;
    if !heads.is_empty() {
        let heads: Vec<String> = heads.iter().map(|head| format!("`{head}`")).collect();
        eprintln!(
            "note: the auxiliary branches (ending in {}) are left out: netcalc trains the \
             network's output `{}` alone",
            heads.join(", "),
            network.node(network.outputs().main).name
        );
    }
    let analysis = analysis::analyse(&network)?;
    let flags = TrainOverrides {
        batch_size: arguments.settings.batch_size,
        loss: arguments.settings.loss,
        seed: arguments.seed,
        subset: arguments.subset,
        validation: arguments.validation,
        threads: arguments.settings.threads,
        solver: arguments.solver,
        evaluate_training: arguments.evaluate_training.then_some(true),
        ..arguments.hyperparameters.overrides()
    };
    let options = resolve(&network, &flags)?;
    let folder = data_folder(&arguments.settings.data)?;
    let out = arguments
        .out
        .clone()
        .unwrap_or_else(|| RunFolder::default_path(&network.name, options.seed));
    let run_folder = RunFolder::create(&out).map_err(fail)?;
    // One writer per run folder, from before the data is read (a second run is refused at
    // once) to the end of the run (the kernel lets go of the lock however this process ends).
    let _lock = FolderLock::acquire(&run_folder.path, "netcalc train")
        .map_err(|error| fail(TrainError::from(error)))?;
    let (data, test) = session::load_data(&folder, &options).map_err(fail)?;
    let layout =
        session::input_layout(&analysis, data.training.rows, data.training.cols).map_err(fail)?;
    let stop = interrupt_flag();
    // The test loss includes the L2 penalty, as the training and validation costs do.
    on_threads(options.threads, || {
        let mut model = session::build_model(&network, &analysis, &options).map_err(fail)?;
        let mut optimizer = optimizer::from_options(&options);
        let mut history = History::default();
        let mut done = 0;
        if let Some(weights) = &arguments.resume {
            done = session::load_weights(&mut model, weights).map_err(fail)?;
            match run_folder.load_history().map_err(fail)? {
                Some(previous) if previous.last_epoch() == done => history = previous,
                Some(previous) => eprintln!(
                    "note: {} ends at epoch {}, but the weights were trained for {done} epochs: \
                     the history starts anew at epoch {}",
                    run_folder.path.join("history.json").display(),
                    previous.last_epoch(),
                    done + 1
                ),
                None => {}
            }
            if options.solver == Solver::GradientDescent {
                let lengths = run::trainable_lengths(&mut model);
                let resumed = session::resume_optimizer(
                    optimizer.as_mut(),
                    &options,
                    weights,
                    done,
                    &lengths,
                )
                .map_err(fail)?;
                if let Some(note) = resume_note(&resumed, &options) {
                    eprintln!("note: {note}");
                }
            }
        }
        run_folder
            .save_options(&options, &network.name)
            .map_err(fail)?;
        if options.solver == Solver::NormalEquations {
            let fit = session::fit_normal_equations(&mut model, &data, &layout, &options)
                .map_err(fail)?;
            if !arguments.quiet {
                say(&format!(
                    "Normal equations: rank {} of {} columns ({} pixels left out)",
                    fit.rank,
                    layout.size() + 1,
                    fit.dropped_inputs
                ));
                say(&fit.record.line(1));
            }
            let history = History {
                epochs: vec![fit.record],
            };
            return finish(
                &network,
                &mut model,
                None,
                &options,
                &layout,
                &test,
                &run_folder,
                &history,
                1,
                0.0,
                None,
                false,
            );
        }
        let bar = progress_bar(arguments.quiet);
        let mut last_save = Instant::now();
        // The epoch the last save holds, so that the end of the run does not save it again.
        let mut saved_epochs = None;
        let outcome = run::train(
            &mut model,
            optimizer.as_mut(),
            &data,
            &layout,
            &options,
            history,
            done,
            stop,
            &mut |progress| match progress {
                Progress::EpochStarted {
                    epoch,
                    last,
                    batches,
                } => {
                    bar.reset();
                    bar.set_length(batches as u64);
                    bar.set_message(format!("{epoch}/{last}"));
                }
                Progress::Batch { batch, loss } => {
                    bar.set_position(batch as u64);
                    bar.set_prefix(format!("{loss:.4}"));
                }
                Progress::Evaluating => bar.set_prefix("(evaluating)"),
                Progress::EpochFinished { record, last, .. } => {
                    bar.finish_and_clear();
                    if !arguments.quiet {
                        say(&record.line(last));
                    }
                }
            },
            &mut |history, model, optimizer| {
                // Keep the weights, the optimizer's state and the history on disk as the run
                // goes, as one checkpoint, at most every `--save-every` seconds.
                if last_save.elapsed().as_secs_f64() >= arguments.save_every {
                    run_folder.save_state(
                        &model.named_parameters(),
                        &network.name,
                        Some((optimizer, &options)),
                        history,
                        history.last_epoch(),
                    )?;
                    saved_epochs = Some(history.last_epoch());
                    last_save = Instant::now();
                }
                Ok(())
            },
        );
        bar.finish_and_clear();
        let epochs = outcome.history.last_epoch().max(done);
        let decay = options
            .l2_convention
            .coefficient(options.l2, data.training.len()) as f32;
        finish(
            &network,
            &mut model,
            Some(optimizer.as_ref()),
            &options,
            &layout,
            &test,
            &run_folder,
            &outcome.history,
            epochs,
            decay,
            Some(outcome.ending),
            saved_epochs == Some(epochs),
        )
    })
}

/// What to say on stderr about the optimizer's state when a run resumes: why it starts fresh,
/// or that the saved state was reached with other settings.
fn resume_note(resumed: &session::OptimizerResume, options: &TrainOptions) -> Option<String> {
    use session::OptimizerResume;
    match resumed {
        OptimizerResume::Restored {
            path,
            learning_rate,
            momentum,
        } => {
            let mut changed = Vec::new();
            if *learning_rate != options.learning_rate {
                changed.push(format!(
                    "learning rate {learning_rate} (this run: {})",
                    options.learning_rate
                ));
            }
            if options.optimizer == OptimizerKind::Sgd && *momentum != options.momentum {
                changed.push(format!(
                    "momentum {momentum} (this run: {})",
                    options.momentum
                ));
            }
            (!changed.is_empty()).then(|| {
                format!(
                    "the optimizer's state in {} was reached with {}",
                    path.display(),
                    changed.join(" and ")
                )
            })
        }
        OptimizerResume::Missing { path } => Some(format!(
            "there is no {} beside the weights (closed-form fits and runs saved before netcalc \
             kept the optimizer's state have none): the optimizer ({}) starts fresh",
            path.display(),
            optimizer::label(options.optimizer, options.momentum)
        )),
        OptimizerResume::OtherOptimizer {
            path,
            saved,
            wanted,
        } => Some(format!(
            "{} holds the state of {saved}, and this run uses {wanted}: the optimizer starts fresh",
            path.display()
        )),
        OptimizerResume::OtherEpoch {
            path,
            saved,
            weights,
        } => Some(format!(
            "{} belongs to epoch {saved}, but the weights to epoch {weights}: the optimizer \
             starts fresh",
            path.display()
        )),
    }
}

/// Saves the run folder, prints the test result and the folder, and picks the exit code.
#[allow(clippy::too_many_arguments)]
fn finish<M: Trainable>(
    network: &Network,
    model: &mut M,
    optimizer: Option<&dyn Optimizer>,
    options: &TrainOptions,
    layout: &InputLayout,
    test: &crate::data::mnist::Dataset,
    folder: &RunFolder,
    history: &History,
    epochs: usize,
    decay: f32,
    ending: Option<Ending>,
    saved: bool,
) -> Result<ExitCode, Error> {
    // A run that failed for any reason but a non-finite loss (a loss that does not fit the
    // output, a kernel's refusal, a file that cannot be written) leaves the folder as it was.
    let ending = match ending {
        Some(Ending::Failed(error)) if !matches!(error, TrainError::NonFinite { .. }) => {
            return Ok(report(&fail(error)));
        }
        other => other,
    };
    // The state of the last epoch, unless the run saved it after that epoch already.
    if !saved {
        folder
            .save_state(
                &model.named_parameters(),
                &network.name,
                optimizer.map(|optimizer| (optimizer, options)),
                history,
                epochs,
            )
            .map_err(fail)?;
    }
    folder.save_plots(history, &network.name).map_err(fail)?;
    let saved = format!(
        "Run folder: {} ({})",
        folder.path.display(),
        RunFolder::files(optimizer.is_some()).join(", ")
    );
    match ending {
        Some(Ending::Failed(error)) => {
            let code = report(&fail(error));
            eprintln!("{saved}");
            Ok(code)
        }
        Some(Ending::Interrupted { epoch }) => {
            eprintln!(
                "Interrupted in epoch {epoch}: the weights and history of the {} finished epochs are saved",
                history.last_epoch()
            );
            eprintln!("{saved}");
            Ok(ExitCode::from(130))
        }
        Some(Ending::Finished) | None => {
            let evaluation = run::evaluate(model, test, layout, options, decay).map_err(fail)?;
            let text = format!(
                "Test accuracy: {:.4} ({} of {}) - test loss: {:.4}\n{saved}\n",
                evaluation.accuracy, evaluation.correct, evaluation.count, evaluation.loss
            );
            Ok(print_status(&text))
        }
    }
}

/// `netcalc eval`.
pub fn eval(arguments: EvalArguments) -> ExitCode {
    let result = (|| -> Result<String, Error> {
        let (network, _) = load(&arguments.network)?;
        let analysis = analysis::analyse(&network)?;
        let flags = TrainOverrides {
            batch_size: arguments.settings.batch_size,
            loss: arguments.settings.loss,
            threads: arguments.settings.threads,
            ..TrainOverrides::default()
        };
        let options = resolve(&network, &flags)?;
        let folder = data_folder(&arguments.settings.data)?;
        let test = crate::data::mnist::Dataset::load_test(&folder)
            .map_err(|error| fail(TrainError::from(error)))?;
        let layout = session::input_layout(&analysis, test.rows, test.cols).map_err(fail)?;
        on_threads(options.threads, || {
            let mut model = session::build_model(&network, &analysis, &options).map_err(fail)?;
            let epochs = session::load_weights(&mut model, &arguments.weights).map_err(fail)?;
            let evaluation =
                run::evaluate(&mut model, &test, &layout, &options, 0.0).map_err(fail)?;
            Ok(format!(
                "{} ({} epochs) on the {} test images: accuracy {:.4} ({} of {}) - loss ({}): {:.4}\n",
                network.name,
                epochs,
                evaluation.count,
                evaluation.accuracy,
                evaluation.correct,
                evaluation.count,
                options.loss.name(),
                evaluation.loss
            ))
        })
    })();
    match result {
        Ok(text) => print_status(&text),
        Err(error) => report(&error),
    }
}

/// `netcalc predict`.
pub fn predict(arguments: PredictArguments) -> ExitCode {
    let result = (|| -> Result<String, Error> {
        let (network, _) = load(&arguments.network)?;
        let analysis = analysis::analyse(&network)?;
        let options = resolve(&network, &TrainOverrides::default())?;
        let image =
            picture::read(&arguments.image, arguments.index, arguments.invert).map_err(fail)?;
        let layout = session::input_layout(&analysis, image.rows, image.cols).map_err(fail)?;
        let mut model = session::build_model(&network, &analysis, &options).map_err(fail)?;
        session::load_weights(&mut model, &arguments.weights).map_err(fail)?;
        let mut values = vec![0.0f32; layout.size()];
        layout.place(&image.pixels, &mut values);
        let mut shape = vec![1];
        shape.extend(layout.shape());
        let input = crate::tensor::Tensor::from_vec(&shape, values)
            .map_err(|error| fail(TrainError::from(error)))?;
        let mut random = session::initial_generator(options.seed);
        let mut pass = Pass {
            compute: crate::tensor::Compute::single(),
            training: false,
            random: &mut random,
        };
        let output = Trainable::forward(&mut model, &[input], &mut pass)
            .map_err(|error| fail(TrainError::from(error)))?;
        let scores = output.data();
        let class = loss::predicted(options.loss, scores)
            .ok_or_else(|| fail(TrainError::Network("the network output nothing".into())))?;
        // Under a penalty loss the outputs are distances and the smallest wins.
        let what = if options.loss.smallest_wins() {
            "penalty"
        } else {
            "score"
        };
        let mut text = format!(
            "{}: class {class} ({what} {:.4})\n",
            arguments.image.display(),
            scores[class]
        );
        for (index, score) in scores.iter().enumerate() {
            text.push_str(&format!("  {index}: {score:.4}\n"));
        }
        Ok(text)
    })();
    match result {
        Ok(text) => print_status(&text),
        Err(error) => report(&error),
    }
}

/// `netcalc data …`.
pub fn data(command: DataCommand) -> ExitCode {
    match command {
        DataCommand::Fetch { collection, to } => {
            let options = FetchOptions::new(collection);
            let result = fetch::fetch(collection, &to, &options, &mut |progress| {
                describe_fetch(&progress)
            });
            match result {
                Ok(paths) => print_status(&format!(
                    "{} in {}: {} files, SHA-256 verified\n",
                    collection.name(),
                    to.display(),
                    paths.len()
                )),
                Err(error) => report(&fail(TrainError::from(error))),
            }
        }
    }
}

fn describe_fetch(progress: &FetchProgress<'_>) {
    match progress {
        FetchProgress::AlreadyThere { file } => eprintln!("{file}: already there, verified"),
        FetchProgress::Trying { file, url } => eprintln!("{file}: downloading {url}"),
        FetchProgress::Received { .. } => {}
        FetchProgress::MirrorFailed { file, failure } => eprintln!("{file}: {failure}"),
        FetchProgress::Saved { file, path } => eprintln!("{file}: saved {}", path.display()),
    }
}

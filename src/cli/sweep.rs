//! `netcalc sweep expand|run|task|finish|status|report`: the flags, reading the description and
//! grid files, the data folder, the sweep folder's lock, running tasks locally as child processes
//! of this same binary (`netcalc sweep task FOLDER --index I`, the command a Slurm array task
//! runs too), `--jobs` at a time, with a line per finished fold on stdout and an overall bar on
//! stderr (only on a terminal), Ctrl-C, and the exit codes: 0 done, 2 an error, 130 stopped by
//! Ctrl-C (the finished folds are kept; the same command continues). `run --slurm` and
//! `run --emit-commands` hand the tasks to Slurm or another runner instead (`sweep/slurm.rs`).

use super::train::{
    Hyperparameters, all_cores, data_folder, fail, interrupt_flag, loss_kind, on_threads, report,
    say,
};
use super::{open, print_status};
use crate::data::mnist::Dataset;
use crate::error::Error;
use crate::report::OutputFormat;
use crate::source::Source;
use crate::sweep::finish::{self, Finished};
use crate::sweep::folds::Evaluation;
use crate::sweep::results::{SweepResults, refit_line};
use crate::sweep::selection::{self, DEFAULT_MAX_CONFIGS, Expansion, Filters};
use crate::sweep::spec::{FORMAT, SourceText, SweepSpec, TrainingFlags};
use crate::sweep::template::Template;
use crate::sweep::{SweepError, SweepFolder, TaskOutcome, TaskState};
use crate::syntax::Format;
use crate::train::TrainError;
use crate::train::folder_lock::FolderLock;
use crate::train::options::{LossKind, TrainOverrides};
use crate::train::run::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod slurm;

/// `netcalc sweep …`.
#[derive(Debug, clap::Subcommand)]
pub enum SweepCommand {
    /// Lists every configuration of the grid with its parameters, MACs and whether it is
    /// trained (or skipped, and why).
    Expand(ExpandArguments),
    /// Prepares a sweep folder and trains every configuration's folds (skipping those done),
    /// then refits the best configuration and writes the results.
    Run(Box<RunArguments>),
    /// Runs one task (configuration × fold) of a prepared sweep; returns at once when it is
    /// done. Safe to run beside other tasks of the same sweep.
    Task(TaskArguments),
    /// Refits the best configuration and writes the results, once every task is done.
    Finish(FolderArguments),
    /// Done, running and missing folds per configuration (read only, works during a run).
    Status(ReportArguments),
    /// The results so far, best first (read only, works during a run).
    Report(ReportArguments),
}

/// What chooses the configurations (expand and run).
#[derive(Debug, Clone, clap::Args)]
pub struct SelectionArguments {
    /// A description with parameters and a sweep section (.yaml, .nn), or a built-in's name.
    spec: String,
    /// A grid file whose `sweep` section replaces the description's.
    #[arg(long)]
    grid: Option<PathBuf>,
    /// Leave out configurations with more parameters.
    #[arg(long)]
    max_params: Option<u64>,
    /// Leave out configurations with more multiply-accumulates per example.
    #[arg(long)]
    max_macs: Option<u64>,
    /// Refuse a grid of more configurations (each is analysed before anything trains).
    #[arg(long, default_value_t = DEFAULT_MAX_CONFIGS)]
    max_configs: usize,
    /// Random search: draw N distinct configurations of those left after the filters.
    #[arg(long)]
    samples: Option<usize>,
    /// The sweep's seed: random search draws with it, and each training's seed is derived
    /// from it, the configuration and the fold.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Flags of `netcalc sweep expand`.
#[derive(Debug, clap::Args)]
pub struct ExpandArguments {
    #[command(flatten)]
    selection: SelectionArguments,
    /// How to print the list.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

/// Flags of `netcalc sweep run`.
#[derive(Debug, clap::Args)]
pub struct RunArguments {
    #[command(flatten)]
    selection: SelectionArguments,
    /// The MNIST folder (default: $NETCALC_MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The sweep folder.
    #[arg(long)]
    out: PathBuf,
    /// k-fold cross-validation on the training images (default 3, as scikit-learn's).
    #[arg(long, conflicts_with = "validation")]
    folds: Option<usize>,
    /// Instead of folds, hold out the last N training images: split:N.
    #[arg(long, value_parser = split)]
    validation: Option<usize>,
    /// Tasks at a time (default: the cores divided by --threads-per-task).
    #[arg(long)]
    jobs: Option<NonZeroUsize>,
    /// Threads of each training; the results depend on it (and on nothing else of the machine).
    #[arg(long, default_value = "1")]
    threads_per_task: NonZeroUsize,
    /// Use the first N training images only (folds are cut from them).
    #[arg(long)]
    subset: Option<usize>,
    #[command(flatten)]
    hyperparameters: Hyperparameters,
    /// Images per batch.
    #[arg(long)]
    batch_size: Option<NonZeroUsize>,
    /// Loss: cross_entropy, sigmoid_cross_entropy, mse, rbf_penalty.
    #[arg(long, value_parser = loss_kind)]
    loss: Option<LossKind>,
    /// Print only the summary: no line per fold, no bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    elsewhere: slurm::ElsewhereArguments,
}

/// Flags of `netcalc sweep task`.
#[derive(Debug, clap::Args)]
pub struct TaskArguments {
    /// The sweep folder (prepared by `netcalc sweep run`).
    folder: PathBuf,
    /// The task: configuration × fold, numbered configuration-major (c·folds + f), from 0.
    #[arg(long)]
    index: usize,
    /// Print only the fold's line, not one per epoch.
    #[arg(long)]
    quiet: bool,
}

/// A sweep folder.
#[derive(Debug, clap::Args)]
pub struct FolderArguments {
    /// The sweep folder.
    folder: PathBuf,
}

/// Flags of `status` and `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArguments {
    /// The sweep folder.
    folder: PathBuf,
    /// How to print it.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
}

fn split(text: &str) -> Result<usize, String> {
    text.strip_prefix("split:")
        .filter(|count| !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|count| count.parse::<usize>().ok())
        .filter(|&count| count > 0)
        .ok_or_else(|| "expected split:N (the last N training images, N ≥ 1)".to_string())
}

/// `netcalc sweep …`.
pub fn sweep(command: SweepCommand) -> ExitCode {
    let result = match command {
        SweepCommand::Expand(arguments) => expand(&arguments),
        SweepCommand::Run(arguments) => run(&arguments),
        SweepCommand::Task(arguments) => task(&arguments),
        SweepCommand::Finish(arguments) => finish_command(&arguments.folder),
        SweepCommand::Status(arguments) => status(&arguments),
        SweepCommand::Report(arguments) => report_command(&arguments),
    };
    result.unwrap_or_else(|error| report(&error))
}

fn sweep_error(error: SweepError) -> Error {
    Error::unplaced(error)
}

/// Reads a file given on the command line, its format from its name or its text.
fn read_file(path: &Path) -> Result<(Source, Format), Error> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| {
        sweep_error(SweepError::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })
    })?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Error::new(
            &Source::new(name, ""),
            crate::syntax::SyntaxError::NotText,
        ));
    };
    let format = Format::from_path(&name).unwrap_or_else(|| Format::sniff(&text));
    Ok((Source::new(name, text), format))
}

fn template(selection: &SelectionArguments) -> Result<Template, Error> {
    let (source, format) = open(&selection.spec)?;
    let grid = selection.grid.as_deref().map(read_file).transpose()?;
    Template::read(source, format, grid)
}

fn expansion(
    selection: &SelectionArguments,
    overrides: &TrainOverrides,
) -> Result<(Template, Expansion), Error> {
    if selection.samples == Some(0) {
        return Err(sweep_error(SweepError::NoSamples));
    }
    let template = template(selection)?;
    let filters = Filters {
        max_params: selection.max_params,
        max_macs: selection.max_macs,
        samples: selection.samples,
        seed: selection.seed,
    };
    let expansion = selection::expand(&template, filters, overrides, selection.max_configs)?;
    Ok((template, expansion))
}

fn expand(arguments: &ExpandArguments) -> Result<ExitCode, Error> {
    let (_, expansion) = expansion(&arguments.selection, &TrainOverrides::default())?;
    Ok(print_status(&expansion.render(arguments.format)))
}

fn overrides(arguments: &RunArguments) -> TrainOverrides {
    TrainOverrides {
        batch_size: arguments.batch_size,
        loss: arguments.loss,
        ..arguments.hyperparameters.overrides()
    }
}

/// Checks the settings against the data and writes down the sweep: its `sweep.json`.
fn specify(arguments: &RunArguments) -> Result<SweepSpec, Error> {
    let overrides = overrides(arguments);
    let (template, expansion) = expansion(&arguments.selection, &overrides)?;
    let configurations = expansion.selected();
    let selection = expansion.selection();
    if configurations.is_empty() {
        return Err(sweep_error(SweepError::NothingToRun {
            grid: selection.grid,
            skipped: selection.skipped,
            filtered: selection.filtered,
        }));
    }
    let evaluation = match (arguments.folds, arguments.validation) {
        (_, Some(count)) => Evaluation::Split(count),
        (Some(folds), None) => Evaluation::Folds(folds),
        (None, None) => Evaluation::DEFAULT,
    };
    let given = data_folder(&arguments.data)?;
    let training = Dataset::load_training(&given).map_err(|error| fail(TrainError::from(error)))?;
    Dataset::load_test(&given).map_err(|error| fail(TrainError::from(error)))?;
    // Tasks may run elsewhere (another working directory, a cluster node): the folder is
    // written down absolute.
    let data = std::path::absolute(&given).unwrap_or(given);
    let images = training.len();
    if arguments.subset == Some(0) {
        return Err(fail(TrainError::Network(
            "--subset must be at least 1".to_string(),
        )));
    }
    match evaluation {
        Evaluation::Folds(folds) => {
            if folds < 2 {
                return Err(sweep_error(SweepError::TooFewFolds { folds }));
            }
            let pool = arguments.subset.unwrap_or(images);
            if pool > images {
                return Err(fail(TrainError::from(
                    crate::data::DataError::NotEnoughImages {
                        requested: pool,
                        available: images,
                    },
                )));
            }
            if pool < folds {
                return Err(sweep_error(SweepError::TooFewImages {
                    images: pool,
                    folds,
                }));
            }
        }
        Evaluation::Split(count) => {
            if count >= images {
                return Err(sweep_error(SweepError::SplitTooLarge { count, images }));
            }
            if let Some(subset) = arguments.subset
                && subset > images - count
            {
                return Err(fail(TrainError::from(
                    crate::data::DataError::NotEnoughImages {
                        requested: subset,
                        available: images - count,
                    },
                )));
            }
        }
    }
    Ok(SweepSpec {
        format: FORMAT.to_string(),
        description: SourceText::new(&template.source, template.format),
        grid: template
            .grid_source
            .as_ref()
            .map(|(source, format)| SourceText::new(source, *format)),
        parameters: expansion.parameters.clone(),
        selection,
        configurations,
        evaluation,
        data,
        training_images: images,
        subset: arguments.subset,
        seed: arguments.selection.seed,
        threads_per_task: arguments.threads_per_task.get(),
        training: TrainingFlags::of(&overrides),
    })
}

fn lock(folder: &Path, purpose: &str) -> Result<FolderLock, Error> {
    std::fs::create_dir_all(folder).map_err(|source| {
        sweep_error(SweepError::Io {
            action: "create",
            path: folder.to_path_buf(),
            source,
        })
    })?;
    FolderLock::acquire(folder, purpose).map_err(|error| sweep_error(SweepError::Lock(error)))
}

fn run(arguments: &RunArguments) -> Result<ExitCode, Error> {
    let spec = specify(arguments)?;
    let lock = lock(&arguments.out, "netcalc sweep run")?;
    let sweep = SweepFolder::prepare(&arguments.out, spec)?;
    if arguments.elsewhere.active() {
        // The tasks run elsewhere, and the finishing job takes the lock itself.
        drop(lock);
        return slurm::dispatch(&arguments.elsewhere, &sweep);
    }
    let jobs = arguments.jobs.unwrap_or_else(|| {
        NonZeroUsize::new(all_cores().get() / arguments.threads_per_task.get())
            .unwrap_or(NonZeroUsize::MIN)
    });
    let pending = sweep.unfinished()?;
    let total = sweep.task_count();
    if !arguments.quiet {
        say(&format!(
            "Sweep in {}: {} configurations × {} = {total} tasks, {} done; {} at a time, {} \
             thread{} each",
            sweep.path.display(),
            sweep.spec.configurations.len(),
            sweep.spec.evaluation.describe(),
            total - pending.len(),
            jobs,
            sweep.spec.threads_per_task,
            if sweep.spec.threads_per_task == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    match run_locally(&sweep, pending, jobs.get(), arguments.quiet)? {
        Local::Interrupted { done } => {
            eprintln!(
                "Interrupted: {done} of {total} tasks are done and kept; the same command \
                 continues the sweep"
            );
            return Ok(ExitCode::from(130));
        }
        Local::Failed(failed) => {
            return Err(sweep_error(SweepError::TasksFailed { failed, total }));
        }
        Local::Done => {}
    }
    finish_locked(&sweep, arguments.quiet)
}

/// How a local run of the tasks ended.
enum Local {
    /// Every task is done.
    Done,
    /// Ctrl-C: the tasks done so far.
    Interrupted { done: usize },
    /// These tasks failed (their errors went to stderr).
    Failed(Vec<usize>),
}

/// Runs the tasks as child processes, `jobs` at a time, printing a line per finished one.
fn run_locally(
    sweep: &SweepFolder,
    pending: Vec<usize>,
    jobs: usize,
    quiet: bool,
) -> Result<Local, Error> {
    let total = sweep.task_count();
    let stop = interrupt_flag();
    let executable = std::env::current_exe().map_err(|source| {
        sweep_error(SweepError::Io {
            action: "find",
            path: PathBuf::from("the netcalc executable"),
            source,
        })
    })?;
    let bar = ProgressBar::with_draw_target(
        Some(total as u64),
        if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("Sweep [{bar:30}] {pos}/{len} tasks, {elapsed} (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_position((total - pending.len()) as u64);
    let mut queue: VecDeque<usize> = pending.into();
    let mut running: Vec<(usize, Child)> = Vec::new();
    let mut failed = Vec::new();
    let mut done = bar.position() as usize;
    let mut stopped_at: Option<Instant> = None;
    loop {
        let interrupted = stop.load(Ordering::SeqCst);
        if interrupted && stopped_at.is_none() {
            stopped_at = Some(Instant::now());
        }
        while !interrupted && running.len() < jobs {
            let Some(index) = queue.pop_front() else {
                break;
            };
            let child = Command::new(&executable)
                .arg("sweep")
                .arg("task")
                .arg(&sweep.path)
                .arg("--index")
                .arg(index.to_string())
                .arg("--quiet")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|source| {
                    sweep_error(SweepError::Io {
                        action: "start",
                        path: executable.clone(),
                        source,
                    })
                })?;
            running.push((index, child));
        }
        if running.is_empty() {
            break;
        }
        // Children stopped by Ctrl-C save their last epoch and end; any still running ten
        // seconds later (a Ctrl-C sent to this process alone) are ended.
        if stopped_at.is_some_and(|at| at.elapsed() > Duration::from_secs(10)) {
            for (_, child) in &mut running {
                let _ = child.kill();
            }
        }
        let mut still = Vec::with_capacity(running.len());
        for (index, mut child) in running {
            match child.try_wait() {
                Ok(None) => still.push((index, child)),
                Ok(Some(status)) => {
                    let task = sweep.task(index)?;
                    match sweep.state(&task)? {
                        TaskState::Done(record) => {
                            done += 1;
                            bar.inc(1);
                            if !quiet {
                                bar.suspend(|| say(&sweep.line(&task, &record)));
                            }
                        }
                        _ if interrupted || status.code() == Some(130) => {}
                        state => {
                            // A task that ends in an error has said why on stderr; one that
                            // was killed or ended without its result has not.
                            let how = match (status.code(), state) {
                                (Some(2), _) => None,
                                (Some(code), _) => Some(format!("ended with exit code {code}")),
                                (None, _) => Some(format!("was ended by a signal ({status})")),
                            };
                            if let Some(how) = how {
                                bar.suspend(|| eprintln!("Task {index} {how}"));
                            }
                            failed.push(index);
                        }
                    }
                }
                Err(error) => {
                    bar.suspend(|| eprintln!("Task {index} cannot be waited for: {error}"));
                    failed.push(index);
                }
            }
        }
        running = still;
        std::thread::sleep(Duration::from_millis(50));
    }
    bar.finish_and_clear();
    Ok(if stop.load(Ordering::SeqCst) {
        Local::Interrupted { done }
    } else if !failed.is_empty() {
        failed.sort_unstable();
        Local::Failed(failed)
    } else {
        Local::Done
    })
}

fn task(arguments: &TaskArguments) -> Result<ExitCode, Error> {
    let sweep = SweepFolder::open(&arguments.folder)?;
    let task = sweep.task(arguments.index)?;
    let threads = NonZeroUsize::new(sweep.spec.threads_per_task).unwrap_or(NonZeroUsize::MIN);
    let stop = interrupt_flag();
    let quiet = arguments.quiet;
    let outcome = on_threads(threads, || {
        crate::sweep::run_task(&sweep, arguments.index, stop, &mut |progress| {
            if let Progress::EpochFinished { record, last, .. } = progress
                && !quiet
            {
                say(&record.line(last));
            }
        })
    })?;
    match outcome {
        TaskOutcome::AlreadyDone(record) => Ok(print_status(&format!(
            "{} (done before)\n",
            sweep.line(&task, &record)
        ))),
        TaskOutcome::Finished(record) => {
            Ok(print_status(&format!("{}\n", sweep.line(&task, &record))))
        }
        TaskOutcome::Interrupted => {
            eprintln!(
                "Interrupted: task {} keeps its finished epochs and continues from them next time",
                arguments.index
            );
            Ok(ExitCode::from(130))
        }
    }
}

fn finish_command(folder: &Path) -> Result<ExitCode, Error> {
    let _lock = lock(folder, "netcalc sweep finish")?;
    let sweep = SweepFolder::open(folder)?;
    finish_locked(&sweep, false)
}

/// Refits the best configuration and writes the results (the caller holds the lock).
fn finish_locked(sweep: &SweepFolder, quiet: bool) -> Result<ExitCode, Error> {
    let threads = NonZeroUsize::new(sweep.spec.threads_per_task).unwrap_or(NonZeroUsize::MIN);
    let stop = interrupt_flag();
    let finished = on_threads(threads, || {
        finish::finish(sweep, stop, &mut |progress| {
            if let Progress::EpochFinished { record, last, .. } = progress
                && !quiet
            {
                say(&format!("Refit: {}", record.line(last)));
            }
        })
    })?;
    let (results, refit) = match finished {
        Finished::Interrupted => {
            eprintln!(
                "Interrupted during the refit: its finished epochs are kept; `netcalc sweep \
                 finish {}` continues it",
                sweep.path.display()
            );
            return Ok(ExitCode::from(130));
        }
        Finished::Done { results, refit } => (results, refit),
    };
    let mut text = String::new();
    if let Some(best) = results.best() {
        text.push_str(&format!(
            "Best: configuration {}, mean accuracy {:.4} ± {:.4} ({})\n",
            sweep.label(&best.configuration),
            best.mean().unwrap_or(f64::NAN),
            best.std().unwrap_or(f64::NAN),
            results.evaluation
        ));
    }
    text.push_str(&refit_line(&refit));
    text.push('\n');
    text.push_str(&format!(
        "Sweep folder: {} ({}, refit/)\n",
        sweep.path.display(),
        finish::FILES.join(", ")
    ));
    Ok(print_status(&text))
}

fn status(arguments: &ReportArguments) -> Result<ExitCode, Error> {
    let sweep = SweepFolder::open(&arguments.folder)?;
    let results = SweepResults::collect(&sweep)?;
    Ok(print_status(&results.status(arguments.format)))
}

fn report_command(arguments: &ReportArguments) -> Result<ExitCode, Error> {
    let sweep = SweepFolder::open(&arguments.folder)?;
    let results = SweepResults::collect(&sweep)?;
    Ok(print_status(&results.render(arguments.format)))
}

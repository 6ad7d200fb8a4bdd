//! Running one task of a sweep (`netcalc sweep task FOLDER --index I`), the refit's training
//! with it: lock the training's own folder (so two processes never train one fold), return at
//! once when its result proves it done, otherwise train it, continuing a stopped training of
//! the very same inputs from its last epoch, and write `result.json` last. Tasks of one sweep
//! may run at the same time in any order, on one machine or many that share the folder.

use crate::data::mnist::Dataset;
use crate::error::Error;
use crate::sweep::SweepError;
use crate::sweep::folder::{Expectation, SweepFolder, Task};
use crate::sweep::folds;
use crate::sweep::record::{self, FoldRecord, Missing};
use crate::sweep::spec::Purpose;
use crate::sweep::training::{Job, Trained, train_into};
use crate::train::TrainError;
use crate::train::files::write_atomically;
use crate::train::folder_lock::{FolderLock, LockError};
use crate::train::run::{Data, Progress};
use crate::train::session::RunFolder;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// How a task (or the refit) ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// It was done before: nothing ran.
    AlreadyDone(FoldRecord),
    /// It ran to its end (or diverged, which its record says).
    Finished(FoldRecord),
    /// The stop flag was raised; its finished epochs are kept and continue next time.
    Interrupted,
}

impl TaskOutcome {
    /// The record, when the task is done.
    pub fn record(&self) -> Option<&FoldRecord> {
        match self {
            TaskOutcome::AlreadyDone(record) | TaskOutcome::Finished(record) => Some(record),
            TaskOutcome::Interrupted => None,
        }
    }
}

/// Runs task `index` of the sweep, reporting the training's progress.
pub fn run_task(
    sweep: &SweepFolder,
    index: usize,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<TaskOutcome, Error> {
    let task: Task = sweep.task(index)?;
    let expectation = sweep.expectation(&task.configuration, Purpose::Part(task.part))?;
    let spec = &sweep.spec;
    let load = || -> Result<Data, TrainError> {
        let training = Dataset::load_training(&spec.data)?;
        Ok(folds::part_data(
            &training,
            spec.evaluation,
            spec.subset,
            task.part,
        )?)
    };
    let configuration_folder = sweep.configuration_folder(&task.configuration);
    create(&configuration_folder)?;
    // The configuration's plain description, for `netcalc table` and `netcalc train`. Every fold
    // writes the same bytes, atomically.
    let description = crate::syntax::yaml::print(&expectation.instance.description);
    let path = configuration_folder.join("description.yaml");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(description.as_str()) {
        write_atomically(&path, description.as_bytes())
            .map_err(|source| io_error("write", &path, source))?;
    }
    train_checked(
        sweep,
        &task.folder,
        &format!("netcalc sweep task {index}"),
        index,
        &expectation,
        &load,
        stop,
        progress,
    )
}

/// Trains into `folder` what `expectation` describes on the data `load` gives, unless the
/// folder's result already proves it done; writes the result last.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_checked(
    sweep: &SweepFolder,
    folder: &Path,
    purpose: &str,
    task: usize,
    expectation: &Expectation,
    load: &dyn Fn() -> Result<Data, TrainError>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<TaskOutcome, Error> {
    create(folder)?;
    let _lock = lock(folder, purpose)?;
    let resume = match FoldRecord::check(folder, &expectation.digest) {
        Ok(record) => return Ok(TaskOutcome::AlreadyDone(record)),
        // A result that does not count (changed by hand, of other inputs) may have come with
        // other weights: start afresh. Without any result, a stopped training of the same
        // inputs continues.
        Err(Missing::Invalid(_)) => false,
        Err(Missing::NoResult) => inputs_digest(folder).as_deref() == Some(&expectation.digest),
    };
    remove_if_there(&folder.join(record::FILE_NAME))?;
    if !resume {
        let mut inputs = expectation.inputs.clone();
        if let Some(object) = inputs.as_object_mut() {
            object.insert("digest".to_string(), expectation.digest.clone().into());
        }
        let mut text = serde_json::to_string_pretty(&inputs).unwrap_or_default();
        text.push('\n');
        let path = folder.join(record::INPUTS_FILE_NAME);
        write_atomically(&path, text.as_bytes())
            .map_err(|source| io_error("write", &path, source))?;
    }
    let fail = |error: TrainError| Error::unplaced(SweepError::Train(error));
    let data = load().map_err(fail)?;
    let (network, analysis) = sweep.template.analyse(&expectation.instance)?;
    let run_folder = RunFolder {
        path: folder.to_path_buf(),
    };
    let job = Job {
        network: &network,
        analysis: &analysis,
        options: &expectation.options,
        data: &data,
    };
    let trained = train_into(&run_folder, job, resume, stop, progress).map_err(fail)?;
    let count = data.validation.as_ref().map_or(0, Dataset::len);
    let (history, failure) = match trained {
        Trained::Finished(history) => (history, None),
        Trained::Diverged(history, error) => (history, Some(error.to_string())),
        Trained::Interrupted(_) => return Ok(TaskOutcome::Interrupted),
    };
    let accuracy = match failure {
        None => history
            .epochs
            .last()
            .and_then(|record| record.validation_accuracy),
        Some(_) => None,
    };
    let record = FoldRecord {
        format: record::FORMAT.to_string(),
        task,
        configuration: expectation.instance.index,
        part: expectation.inputs["part"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        accuracy,
        correct: accuracy.map(|accuracy| (accuracy * count as f64).round() as usize),
        count,
        failure,
        epochs: history.last_epoch(),
        seconds: history.epochs.iter().map(|record| record.seconds).sum(),
        determined_by: expectation.digest.clone(),
        files: Default::default(),
        digest: String::new(),
    }
    .seal_and_write(folder)
    .map_err(|source| io_error("write", &folder.join(record::FILE_NAME), source))?;
    Ok(TaskOutcome::Finished(record))
}

/// The digest recorded in the folder's `fold.json`, if any.
fn inputs_digest(folder: &Path) -> Option<String> {
    let text = std::fs::read_to_string(folder.join(record::INPUTS_FILE_NAME)).ok()?;
    let inputs: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(inputs.get("digest")?.as_str()?.to_string())
}

/// Locks a training's folder. `netcalc sweep status` looks at the lock for an instant, so a
/// refusal is tried again a few times before it counts.
fn lock(folder: &Path, purpose: &str) -> Result<FolderLock, Error> {
    let mut attempts = 0;
    loop {
        match FolderLock::acquire(folder, purpose) {
            Ok(lock) => return Ok(lock),
            Err(LockError::Busy { .. }) if attempts < 10 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => return Err(Error::unplaced(SweepError::Lock(error))),
        }
    }
}

fn create(folder: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(folder).map_err(|source| io_error("create", folder, source))
}

fn remove_if_there(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(io_error("remove", path, source)),
    }
}

pub(crate) fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::unplaced(SweepError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })
}

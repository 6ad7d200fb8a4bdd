//! Finishing a sweep once every task is done: the best configuration (see crate::sweep::results
//! for the ranking) is refit on the whole pool of training images (all, or the first
//! `--subset`), watching the test images after each epoch as `netcalc train --validation test`
//! does, and scored on them; then the files are written, each atomically: `results.csv`,
//! `results.json`, the best configuration as a plain description (`best.yaml`, `best.nn`, whose
//! `train` section holds the refit's settings and seed, so that `netcalc train best.yaml
//! --threads T` trains it again), and `accuracy-vs-parameters.svg` and `.png`. The refit's run
//! folder is `refit/`; like a fold it is skipped when its result proves it done.

use crate::error::Error;
use crate::source::Spanned;
use crate::sweep::SweepError;
use crate::sweep::folder::SweepFolder;
use crate::sweep::plot;
use crate::sweep::record::FoldRecord;
use crate::sweep::results::SweepResults;
use crate::sweep::spec::{Purpose, Selected};
use crate::sweep::task::{TaskOutcome, io_error, train_checked};
use crate::syntax::{Attribute, Description, Value};
use crate::train::TrainError;
use crate::train::files::write_atomically;
use crate::train::options::TrainOptions;
use crate::train::run::Progress;
use crate::train::session;
use std::sync::atomic::AtomicBool;

/// The refit's run folder inside the sweep folder.
pub const REFIT_FOLDER: &str = "refit";
/// The files `finish` writes into the sweep folder (besides `refit/`).
pub const FILES: [&str; 6] = [
    "results.csv",
    "results.json",
    "best.yaml",
    "best.nn",
    "accuracy-vs-parameters.svg",
    "accuracy-vs-parameters.png",
];

/// How `finish` ended.
#[derive(Debug, Clone)]
pub enum Finished {
    /// Everything is written.
    Done {
        /// The results, the refit included.
        results: Box<SweepResults>,
        /// The refit's record.
        refit: Box<FoldRecord>,
    },
    /// The stop flag was raised during the refit; its finished epochs are kept.
    Interrupted,
}

/// The refit's record, when the sweep is finished: every task done and the refit of the best
/// configuration proven done.
pub fn refit_record(
    sweep: &SweepFolder,
    results: &SweepResults,
) -> Result<Option<FoldRecord>, Error> {
    let Some(best) = results.best() else {
        return Ok(None);
    };
    let expectation = sweep.expectation(&best.configuration, Purpose::Refit)?;
    Ok(FoldRecord::check(&sweep.path.join(REFIT_FOLDER), &expectation.digest).ok())
}

/// Refits the best configuration and writes the sweep's result files; refuses, listing them,
/// when tasks are not done. The caller holds the sweep folder's lock.
pub fn finish(
    sweep: &SweepFolder,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Finished, Error> {
    let results = SweepResults::collect(sweep)?;
    let missing = sweep.unfinished()?;
    if !missing.is_empty() {
        return Err(Error::unplaced(SweepError::Unfinished {
            folder: sweep.path.clone(),
            missing,
            total: sweep.task_count(),
        }));
    }
    let Some(best) = results.best() else {
        return Err(Error::unplaced(SweepError::Configuration {
            index: 0,
            message: "every configuration diverged: there is no best one to refit".to_string(),
        }));
    };
    let best = best.clone();
    let expectation = sweep.expectation(&best.configuration, Purpose::Refit)?;
    let spec = &sweep.spec;
    let options = expectation.options.clone();
    let load = || -> Result<crate::train::run::Data, TrainError> {
        Ok(session::load_data(&spec.data, &options)?.0)
    };
    let outcome = train_checked(
        sweep,
        &sweep.path.join(REFIT_FOLDER),
        "netcalc sweep finish",
        sweep.task_count(),
        &expectation,
        &load,
        stop,
        progress,
    )?;
    let refit = match outcome {
        TaskOutcome::Interrupted => return Ok(Finished::Interrupted),
        TaskOutcome::AlreadyDone(record) | TaskOutcome::Finished(record) => record,
    };
    let mut results = results;
    results.refit = Some(refit.clone());
    let mut description = expectation.instance.description.clone();
    describe_best(
        &mut description,
        &results,
        &best.configuration,
        &refit,
        &expectation.options,
    );
    let write = |name: &str, bytes: &[u8]| {
        let path = sweep.path.join(name);
        write_atomically(&path, bytes).map_err(|source| io_error("write", &path, source))
    };
    write("results.csv", results.csv().as_bytes())?;
    write("results.json", results.json().as_bytes())?;
    write(
        "best.yaml",
        crate::syntax::yaml::print(&description).as_bytes(),
    )?;
    write(
        "best.nn",
        crate::syntax::dsl::print(&description, &crate::layers::positional_keys).as_bytes(),
    )?;
    let failed = |reason: String| {
        Error::unplaced(SweepError::Train(TrainError::Network(format!(
            "cannot draw accuracy against parameters: {reason}"
        ))))
    };
    write(
        "accuracy-vs-parameters.svg",
        plot::svg(&results).map_err(failed)?.as_bytes(),
    )?;
    write(
        "accuracy-vs-parameters.png",
        &plot::png(&results).map_err(failed)?,
    )?;
    Ok(Finished::Done {
        results: Box::new(results),
        refit: Box::new(refit),
    })
}

/// Makes the best configuration's plain description say where it comes from (`about`) and
/// train as the refit did (its `train` section: the refit's settings and seed; the threads are
/// left to the command line, and the same seed and thread count give the same numbers).
fn describe_best(
    description: &mut Description,
    results: &SweepResults,
    configuration: &Selected,
    refit: &FoldRecord,
    options: &TrainOptions,
) {
    let values: Vec<String> = results
        .parameters
        .iter()
        .zip(&configuration.values)
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let mean = results
        .configurations
        .iter()
        .find(|result| result.configuration.index == configuration.index);
    let score = match mean.and_then(|result| Some((result.mean()?, result.std()?))) {
        Some((mean, std)) => format!("mean accuracy {mean:.4} ± {std:.4}"),
        None => "no mean accuracy".to_string(),
    };
    let test = refit
        .accuracy
        .map_or_else(|| "none".to_string(), |accuracy| format!("{accuracy:.4}"));
    description.about = Some(Spanned::unspanned(format!(
        "The best configuration of a netcalc sweep: configuration {}{}; {} ({}); refit test \
         accuracy {test}",
        configuration.index,
        if values.is_empty() {
            String::new()
        } else {
            format!(" ({})", values.join(" "))
        },
        score,
        results.evaluation
    )));
    description.train = train_section(options);
}

/// The options as a `train` section, every setting but the threads.
fn train_section(options: &TrainOptions) -> Vec<Attribute> {
    let json = options.to_json();
    let Some(object) = json.as_object() else {
        return Vec::new();
    };
    const KEYS: [&str; 14] = [
        "epochs",
        "batch_size",
        "optimizer",
        "learning_rate",
        "momentum",
        "loss",
        "l2",
        "l2_convention",
        "init",
        "seed",
        "subset",
        "validation",
        "solver",
        "evaluate_training",
    ];
    KEYS.iter()
        .filter_map(|&key| {
            let value = match object.get(key)? {
                serde_json::Value::Bool(flag) => Value::Boolean(*flag),
                serde_json::Value::Number(number) => match number.as_i64() {
                    Some(integer) => Value::Integer(integer),
                    None => Value::Number(number.as_f64()?),
                },
                serde_json::Value::String(text) => Value::Text(text.clone()),
                _ => return None,
            };
            Some(Attribute::new(key, value))
        })
        .collect()
}

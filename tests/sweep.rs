//! `netcalc sweep` end to end on the real MNIST files (the folder `NETCALC_MNIST` names; without
//! it every test here says so and passes): a tiny grid (an MLP with 8 or 16 hidden units, 2 folds
//! of 300 images, 1 epoch) run locally, checking every file; the same results with 1 and 2 jobs;
//! a killed sweep resumed with only its missing folds; a tampered result run again; the folder's
//! lock; another sweep refused in the same folder; `finish` refused while tasks are missing; a
//! fold stopped between epochs that continues (through the library, as a cluster runner would)
//! to the numbers of an uninterrupted one.

use netcalc::train::session::RunFolder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const NETCALC: &str = env!("CARGO_BIN_EXE_netcalc");
const FIXTURE: &str = "tests/fixtures/sweep/tiny-mlp.nn";

/// The MNIST folder, or `None` (said on stderr) when `NETCALC_MNIST` is not set.
fn mnist() -> Option<PathBuf> {
    let folder = std::env::var_os("NETCALC_MNIST").filter(|value| !value.is_empty());
    if folder.is_none() {
        eprintln!("skipped: set NETCALC_MNIST to the MNIST folder (../shared/datasets/mnist)");
    }
    folder.map(PathBuf::from)
}

/// `netcalc sweep run` of the fixture into `out`, with extra flags (one epoch unless they say).
fn run_command(data: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(NETCALC);
    command
        .args(["sweep", "run", FIXTURE, "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(["--folds", "2", "--subset", "300"])
        .args(extra);
    if !extra.contains(&"--epochs") {
        command.args(["--epochs", "1"]);
    }
    command
}

fn succeed(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{:?}: {}\n{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The lines a sweep run printed for finished folds.
fn fold_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("Configuration "))
        .map(str::to_string)
        .collect()
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&text(path)).unwrap()
}

/// The task folders of the fixture's sweep (2 configurations × 2 folds), in task order.
fn task_folders(sweep: &Path) -> Vec<PathBuf> {
    ["0000", "0001"]
        .iter()
        .flat_map(|configuration| {
            ["fold-1", "fold-2"]
                .iter()
                .map(move |fold| sweep.join("configurations").join(configuration).join(fold))
        })
        .collect()
}

/// What must not depend on how the sweep ran: each fold's accuracy and weights, the refit's.
fn numbers(sweep: &Path) -> BTreeMap<String, (serde_json::Value, Vec<u8>)> {
    let mut numbers = BTreeMap::new();
    for folder in task_folders(sweep).into_iter().chain([sweep.join("refit")]) {
        let result = json(&folder.join("result.json"));
        numbers.insert(
            folder.strip_prefix(sweep).unwrap().display().to_string(),
            (
                result["accuracy"].clone(),
                std::fs::read(folder.join("weights.safetensors")).unwrap(),
            ),
        );
    }
    numbers
}

/// The reference sweep (2 jobs), run once for the tests that compare with it.
fn reference(data: &Path) -> &'static Path {
    static FOLDER: OnceLock<tempfile::TempDir> = OnceLock::new();
    FOLDER
        .get_or_init(|| {
            let folder = tempfile::tempdir().unwrap();
            succeed(&mut run_command(
                data,
                &folder.path().join("sweep"),
                &["--jobs", "2"],
            ));
            folder
        })
        .path()
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_folder(&entry.path(), &target);
        } else if kind.is_symlink() {
            // A run folder's checkpoint links (`current`, and the state's names through it).
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, target).unwrap();
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_local_sweep_writes_every_file() {
    let Some(data) = mnist() else { return };
    let sweep = reference(&data).join("sweep");
    for folder in task_folders(&sweep) {
        // The layout of `netcalc train`'s run folder, and the sweep's two files.
        for file in RunFolder::FILES
            .into_iter()
            .chain(["fold.json", "result.json"])
        {
            assert!(folder.join(file).is_file(), "{}/{file}", folder.display());
        }
        let result = json(&folder.join("result.json"));
        // 300 images in 2 folds: each holds out 150.
        assert_eq!(result["count"], 150);
        let accuracy = result["accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.3, "{}: {accuracy}", folder.display());
        let history = json(&folder.join("history.json"));
        assert_eq!(
            history["epochs"][0]["validation_accuracy"],
            result["accuracy"]
        );
        assert_eq!(json(&folder.join("options.json"))["threads"], 1);
    }
    for file in netcalc::sweep::finish::FILES.into_iter().chain([
        "sweep.json",
        "refit/result.json",
        "refit/weights.safetensors",
        "configurations/0000/description.yaml",
    ]) {
        assert!(sweep.join(file).is_file(), "{file}");
    }
    // The means and standard deviations come from the folds' own results.
    let results = json(&sweep.join("results.json"));
    for (position, configuration) in results["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let folds: Vec<f64> = task_folders(&sweep)[2 * position..2 * position + 2]
            .iter()
            .map(|folder| {
                json(&folder.join("result.json"))["accuracy"]
                    .as_f64()
                    .unwrap()
            })
            .collect();
        let mean = (folds[0] + folds[1]) / 2.0;
        let std = (folds[0] - mean).abs();
        assert!((configuration["mean_accuracy"].as_f64().unwrap() - mean).abs() < 1e-12);
        assert!((configuration["std_accuracy"].as_f64().unwrap() - std).abs() < 1e-12);
    }
    let best = results["best"].as_u64().unwrap() as usize;
    let means: Vec<f64> = results["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|configuration| configuration["mean_accuracy"].as_f64().unwrap())
        .collect();
    assert!(means.iter().all(|&mean| mean <= means[best]));
    assert_eq!(results["refit"]["configuration"], best);
    assert_eq!(results["refit"]["count"], 10_000);
    // The best description is a plain one that `netcalc table` reads, and `netcalc train`
    // trains it again to the refit's very numbers.
    let best_yaml = sweep.join("best.yaml");
    let table = succeed(Command::new(NETCALC).arg("table").arg(&best_yaml));
    assert!(String::from_utf8_lossy(&table.stdout).contains("Total"));
    succeed(
        Command::new(NETCALC)
            .arg("table")
            .arg(sweep.join("best.nn")),
    );
    let again = tempfile::tempdir().unwrap();
    let trained = succeed(
        Command::new(NETCALC)
            .arg("train")
            .arg(&best_yaml)
            .arg("--data")
            .arg(&data)
            .args(["--threads", "1", "--quiet", "--out"])
            .arg(again.path()),
    );
    let refit = json(&sweep.join("refit/result.json"));
    let expected = format!("Test accuracy: {:.4}", refit["accuracy"].as_f64().unwrap());
    assert!(
        String::from_utf8_lossy(&trained.stdout).starts_with(&expected),
        "{expected}: {}",
        String::from_utf8_lossy(&trained.stdout)
    );
    assert_eq!(
        std::fs::read(again.path().join("weights.safetensors")).unwrap(),
        std::fs::read(sweep.join("refit/weights.safetensors")).unwrap()
    );
    // status and report read the finished sweep.
    let status = succeed(Command::new(NETCALC).args(["sweep", "status"]).arg(&sweep));
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("4 tasks: 4 done, 0 running, 0 missing")
    );
    let report = succeed(
        Command::new(NETCALC)
            .args(["sweep", "report", "--format", "csv"])
            .arg(&sweep),
    );
    assert_eq!(String::from_utf8_lossy(&report.stdout).lines().count(), 3);
}

#[test]
fn the_job_count_does_not_change_the_results() {
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    let output = succeed(&mut run_command(&data, &sweep, &["--jobs", "1"]));
    assert_eq!(fold_lines(&output).len(), 4);
    assert_eq!(numbers(&sweep), numbers(&reference(&data).join("sweep")));
    // A second run finds everything done and trains nothing.
    let output = succeed(&mut run_command(&data, &sweep, &["--jobs", "2"]));
    let lines = String::from_utf8_lossy(&output.stdout);
    assert!(lines.contains("4 done"), "{lines}");
    assert!(!lines.contains("Configuration "), "{lines}");
}

/// Starts a command in a process group of its own (so that it can be killed with its tasks),
/// its output dropped.
fn spawn_in_group(command: &mut Command) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    command
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Sends SIGKILL to a process group (the sweep and its tasks).
fn kill_group(group: u32) {
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_killed_sweep_resumes_with_only_the_missing_folds() {
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    let mut child = spawn_in_group(&mut run_command(&data, &sweep, &["--jobs", "1"]));
    let results = || -> Vec<PathBuf> {
        task_folders(&sweep)
            .into_iter()
            .map(|folder| folder.join("result.json"))
            .filter(|path| path.exists())
            .collect()
    };
    let started = Instant::now();
    while results().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no fold finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(child.id());
    child.wait().unwrap();
    let done = results();
    assert!(!done.is_empty() && done.len() < 4, "{done:?}");
    let before: Vec<(PathBuf, String)> =
        done.iter().map(|path| (path.clone(), text(path))).collect();
    let output = succeed(&mut run_command(&data, &sweep, &["--jobs", "1"]));
    assert_eq!(
        fold_lines(&output).len(),
        4 - done.len(),
        "only the missing folds run"
    );
    for (path, written) in before {
        assert_eq!(text(&path), written, "{} was not rewritten", path.display());
    }
    assert_eq!(numbers(&sweep), numbers(&reference(&data).join("sweep")));
}

#[test]
fn a_tampered_result_is_run_again() {
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    copy_folder(&reference(&data).join("sweep"), &sweep);
    let tampered = task_folders(&sweep)[1].join("result.json");
    let result = text(&tampered);
    let accuracy = json(&tampered)["accuracy"].to_string();
    std::fs::write(&tampered, result.replace(&accuracy, "0.999")).unwrap();
    let status = succeed(Command::new(NETCALC).args(["sweep", "status"]).arg(&sweep));
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("3 done, 0 running, 1 missing"), "{status}");
    assert!(status.contains("changed after it was written"), "{status}");
    let output = succeed(&mut run_command(&data, &sweep, &["--jobs", "2"]));
    let lines = fold_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("Configuration 0 (units=8), fold-2 of 2: "),
        "{lines:?}"
    );
    assert_eq!(numbers(&sweep), numbers(&reference(&data).join("sweep")));
}

#[test]
fn a_second_sweep_on_a_folder_in_use_is_refused() {
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    let mut first = spawn_in_group(&mut run_command(&data, &sweep, &["--jobs", "1"]));
    let lock = sweep.join(".lock");
    let started = Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|holder| holder.contains("netcalc sweep run")) {
        assert!(started.elapsed() < Duration::from_secs(60), "no lock taken");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = run_command(&data, &sweep, &["--jobs", "1"])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&second.stderr);
    kill_group(first.id());
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(2), "{message}");
    assert!(
        message.contains("is in use by another netcalc process")
            && message.contains(&format!("process {}: netcalc sweep run", first.id())),
        "{message}"
    );
}

#[test]
fn another_sweep_is_refused_in_a_finished_folder_and_finish_waits_for_every_task() {
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    copy_folder(&reference(&data).join("sweep"), &sweep);
    let other = run_command(&data, &sweep, &["--seed", "2"])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(2), "{message}");
    assert!(
        message.contains("holds another sweep: the seed is 1 there, 2 here"),
        "{message}"
    );
    std::fs::remove_file(task_folders(&sweep)[2].join("result.json")).unwrap();
    let finish = Command::new(NETCALC)
        .args(["sweep", "finish"])
        .arg(&sweep)
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&finish.stderr);
    assert_eq!(finish.status.code(), Some(2), "{message}");
    assert!(message.contains("1 of the 4 tasks of"), "{message}");
    assert!(message.contains("are not done: 2"), "{message}");
}

#[test]
fn a_fold_stopped_between_epochs_continues_to_the_same_numbers() {
    use netcalc::sweep::{SweepFolder, TaskOutcome, run_task};
    use netcalc::train::run::Progress;
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(data) = mnist() else { return };
    let folder = tempfile::tempdir().unwrap();
    let whole = folder.path().join("whole");
    succeed(&mut run_command(
        &data,
        &whole,
        &["--jobs", "2", "--epochs", "3"],
    ));
    let stopped = folder.path().join("stopped");
    copy_folder(&whole, &stopped);
    let fold = task_folders(&stopped)[3].clone();
    std::fs::remove_dir_all(&fold).unwrap();
    // The library's view, as a cluster's runner uses it.
    let sweep = SweepFolder::open(&stopped).unwrap();
    assert_eq!(sweep.task_count(), 4);
    assert_eq!(sweep.unfinished().unwrap(), vec![3]);
    // Ctrl-C once the first epoch is recorded: the fold keeps that epoch.
    let stop = AtomicBool::new(false);
    let outcome = run_task(&sweep, 3, &stop, &mut |progress| {
        if let Progress::EpochFinished { record, .. } = progress
            && record.epoch == 1
        {
            stop.store(true, Ordering::SeqCst);
        }
    })
    .unwrap();
    assert_eq!(outcome, TaskOutcome::Interrupted);
    assert_eq!(
        json(&fold.join("history.json"))["epochs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!fold.join("result.json").exists());
    // Started again, it trains epochs 2 and 3 only, to the uninterrupted fold's weights.
    let mut epochs = Vec::new();
    let outcome = run_task(&sweep, 3, &AtomicBool::new(false), &mut |progress| {
        if let Progress::EpochFinished { record, .. } = progress {
            epochs.push(record.epoch);
        }
    })
    .unwrap();
    assert!(matches!(outcome, TaskOutcome::Finished(_)), "{outcome:?}");
    assert_eq!(epochs, vec![2, 3]);
    let reference = task_folders(&whole)[3].clone();
    assert_eq!(
        std::fs::read(fold.join("weights.safetensors")).unwrap(),
        std::fs::read(reference.join("weights.safetensors")).unwrap()
    );
    assert_eq!(
        json(&fold.join("result.json"))["accuracy"],
        json(&reference.join("result.json"))["accuracy"]
    );
    assert!(sweep.unfinished().unwrap().is_empty());
    // Done now: a third start returns at once.
    let outcome = run_task(&sweep, 3, &AtomicBool::new(false), &mut |_| {
        panic!("nothing trains")
    })
    .unwrap();
    assert!(matches!(outcome, TaskOutcome::AlreadyDone(_)));
}

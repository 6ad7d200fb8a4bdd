//! `netcalc sweep run --slurm` on a real Slurm: a small sweep (4 configurations × 2 folds, 1
//! epoch on 2,000 MNIST images) through one job array and its finishing job, whose results must
//! equal the same sweep run locally; and a cancelled array element submitted again, alone.
//!
//! Each test says why it skips (and passes) when `sbatch` is not installed, `sinfo` shows no idle
//! node, or `NETCALC_MNIST` is not set, so `cargo test` passes on a machine without Slurm.
//! `.ci/run` starts a single-node Slurm (`.ci/slurm-up.sh`) and sets `NETCALC_SLURM=required`,
//! which turns those skips into failures. Every wait is bounded; a test that runs out of time
//! cancels its jobs and shows the queue and Slurm's output files.

use netcalc::sweep::SweepFolder;
use netcalc::sweep::slurm::array_ranges;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

const NETCALC: &str = env!("CARGO_BIN_EXE_netcalc");
const FIXTURE: &str = "tests/fixtures/sweep/slurm-mlp.nn";
/// The most a whole submission may take here, from `sbatch` to the finishing job's end.
const DEADLINE: Duration = Duration::from_secs(600);
/// 4 configurations × 2 folds.
const TASKS: usize = 8;

/// Why Slurm cannot be used here, if it cannot.
fn slurm_missing() -> Option<String> {
    match Command::new("sbatch").arg("--version").output() {
        Err(_) => return Some("`sbatch` is not installed".to_string()),
        Ok(output) if !output.status.success() => {
            return Some("`sbatch --version` fails".to_string());
        }
        Ok(_) => {}
    }
    match Command::new("sinfo")
        .args(["--noheader", "--format=%t"])
        .output()
    {
        Ok(output) if output.status.success() => {
            let states = String::from_utf8_lossy(&output.stdout).to_string();
            if states
                .lines()
                .any(|state| state == "idle" || state == "mix")
            {
                None
            } else {
                Some(format!(
                    "`sinfo` shows no idle node (states: {})",
                    states.split_whitespace().collect::<Vec<_>>().join(", ")
                ))
            }
        }
        Ok(output) => Some(format!(
            "`sinfo` fails: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Err(error) => Some(format!("`sinfo` cannot run: {error}")),
    }
}

/// Says why a test skips, or fails it when `NETCALC_SLURM=required` (as in CI).
fn skip(reason: &str) {
    if std::env::var("NETCALC_SLURM").as_deref() == Ok("required") {
        panic!("NETCALC_SLURM=required, but {reason} (.ci/slurm-up.sh starts a Slurm)");
    }
    eprintln!("skipped: {reason} (.ci/slurm-up.sh starts a single-node Slurm)");
}

/// The MNIST folder and the right to use the cluster (one test at a time: they share its CPUs
/// and their deadlines assume it), or `None` after saying why not.
fn prerequisites() -> Option<(PathBuf, MutexGuard<'static, ()>)> {
    if let Some(reason) = slurm_missing() {
        skip(&reason);
        return None;
    }
    let Some(data) = std::env::var_os("NETCALC_MNIST").filter(|value| !value.is_empty()) else {
        skip("NETCALC_MNIST is not set (../shared/datasets/mnist)");
        return None;
    };
    static CLUSTER: Mutex<()> = Mutex::new(());
    let guard = CLUSTER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some((PathBuf::from(data), guard))
}

/// `netcalc sweep run` of the fixture into `out`, with extra flags.
fn sweep_command(data: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(NETCALC);
    command
        .args(["sweep", "run", FIXTURE, "--data"])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args([
            "--folds", "2", "--subset", "2000", "--epochs", "1", "--quiet",
        ])
        .args(extra);
    command
}

/// `netcalc sweep run … --slurm` with extra flags, to its end (with `--wait`, the jobs' end):
/// what it printed.
fn submit(data: &Path, sweep: &Path, extra: &[&str]) -> String {
    let mut command = sweep_command(data, sweep, &["--slurm"]);
    command.args(extra);
    let output = run_within(&mut command, DEADLINE, &|| give_up(sweep));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command to its end, killing it after `limit`; fails the test unless it succeeds.
fn run_within(command: &mut Command, limit: Duration, cleanup: &dyn Fn()) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The pipes are drained by threads, so a chatty child never blocks on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut bytes).map(|_| bytes)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            cleanup();
            panic!("{command:?} did not end within {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    };
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout_of(program: &str, arguments: &[&str]) -> String {
    let output = Command::new(program).args(arguments).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The job ids of every submission of the sweep, from `slurm/submissions.json`: (array job id,
/// finishing job id, `--array` value) per submission.
fn submissions(sweep: &Path) -> Vec<(Option<String>, String, Option<String>)> {
    let text = std::fs::read_to_string(sweep.join("slurm/submissions.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|submission| {
            let text = |key: &str| submission[key].as_str().map(str::to_string);
            (text("array"), text("finish").unwrap(), text("tasks"))
        })
        .collect()
}

/// Cancels the sweep's jobs and shows the queue and Slurm's output files, for a test that ran
/// out of time.
fn give_up(sweep: &Path) {
    if let Ok(text) = std::fs::read_to_string(sweep.join("slurm/submissions.json")) {
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for submission in value.as_array().into_iter().flatten() {
            for key in ["array", "finish"] {
                if let Some(id) = submission[key].as_str() {
                    let _ = Command::new("scancel").arg(id).status();
                }
            }
        }
    }
    eprintln!("squeue:\n{}", stdout_of("squeue", &[]));
    if let Ok(entries) = std::fs::read_dir(sweep.join("slurm")) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "out") {
                eprintln!(
                    "---- {}\n{}",
                    entry.path().display(),
                    std::fs::read_to_string(entry.path()).unwrap_or_default()
                );
            }
        }
    }
}

/// Waits until none of these jobs is queued or running any more.
fn wait_for_jobs(ids: &[&str], sweep: &Path) {
    let start = Instant::now();
    loop {
        let listed = stdout_of("squeue", &["--me", "--noheader", "--format=%F"]);
        if !listed.lines().any(|line| ids.contains(&line.trim())) {
            return;
        }
        if start.elapsed() > DEADLINE {
            give_up(sweep);
            panic!("jobs {ids:?} still queued after {} s", DEADLINE.as_secs());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// `JobState` of each element of a job array, by index, or of a single job (index `None`), from
/// `scontrol show job` (the cluster keeps no accounting, so `sacct` knows nothing).
fn job_states(id: &str) -> BTreeMap<Option<usize>, String> {
    let shown = stdout_of("scontrol", &["--oneliner", "show", "job", id]);
    shown
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let field = |key: &str| {
                line.split_whitespace()
                    .find_map(|field| field.strip_prefix(key))
                    .map(str::to_string)
            };
            (
                field("ArrayTaskId=").and_then(|index| index.parse().ok()),
                field("JobState=").unwrap_or_default(),
            )
        })
        .collect()
}

/// The task folders in task order (configuration-major: 4 configurations × 2 folds).
fn task_folders(sweep: &Path) -> Vec<PathBuf> {
    (0..TASKS)
        .map(|task| {
            sweep
                .join("configurations")
                .join(format!("{:04}", task / 2))
                .join(format!("fold-{}", task % 2 + 1))
        })
        .collect()
}

/// Each fold's and the refit's accuracy (as written in result.json) and weights.
fn numbers(sweep: &Path) -> BTreeMap<String, (String, Vec<u8>)> {
    task_folders(sweep)
        .into_iter()
        .chain([sweep.join("refit")])
        .map(|folder| {
            let result: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(folder.join("result.json"))
                    .unwrap_or_else(|error| panic!("{}: {error}", folder.display())),
            )
            .unwrap();
            (
                folder.strip_prefix(sweep).unwrap().display().to_string(),
                (
                    result["accuracy"].to_string(),
                    std::fs::read(folder.join("weights.safetensors")).unwrap(),
                ),
            )
        })
        .collect()
}

/// The same sweep run locally, once for both tests.
fn local_numbers(data: &Path) -> &'static BTreeMap<String, (String, Vec<u8>)> {
    static NUMBERS: OnceLock<BTreeMap<String, (String, Vec<u8>)>> = OnceLock::new();
    NUMBERS.get_or_init(|| {
        let folder = tempfile::tempdir().unwrap();
        let sweep = folder.path().join("sweep");
        run_within(&mut sweep_command(data, &sweep, &[]), DEADLINE, &|| {});
        numbers(&sweep)
    })
}

/// Every file under a folder with its modification time and bytes.
fn snapshot(folder: &Path) -> BTreeMap<PathBuf, (SystemTime, Vec<u8>)> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files.extend(snapshot(&path));
        } else if kind.is_symlink() {
            // A run folder's checkpoint links: where they lead (a rerun fold writes new
            // checkpoint folders, which the recursion above sees).
            let modified = entry.path().symlink_metadata().unwrap().modified().unwrap();
            let target = std::fs::read_link(&path).unwrap();
            files.insert(
                path.clone(),
                (modified, target.into_os_string().into_encoded_bytes()),
            );
        } else {
            let modified = entry.metadata().unwrap().modified().unwrap();
            files.insert(path.clone(), (modified, std::fs::read(&path).unwrap()));
        }
    }
    files
}

/// The indices whose output file `slurm/ARRAY-task-I.out` exists: the elements that started.
fn started_elements(sweep: &Path, array: &str) -> Vec<usize> {
    let prefix = format!("{array}-task-");
    let mut started: Vec<usize> = std::fs::read_dir(sweep.join("slurm"))
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix)?
                .strip_suffix(".out")?
                .parse()
                .ok()
        })
        .collect();
    started.sort_unstable();
    started
}

#[test]
fn a_sweep_through_a_slurm_job_array_equals_the_local_run() {
    let Some((data, _cluster)) = prerequisites() else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    let printed = submit(&data, &sweep, &["--max-parallel", "2", "--wait"]);

    let submitted = submissions(&sweep);
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    let (array, finish, tasks) = submitted[0].clone();
    let array = array.expect("an array was submitted");
    assert_eq!(tasks.as_deref(), Some("0-7%2"));
    assert!(
        printed.contains(&format!(
            "Submitted 8 tasks (--array=0-7%2) as Slurm job array {array}, and job {finish}"
        )),
        "{printed}"
    );
    assert!(printed.contains("The sweep is complete"), "{printed}");

    // Slurm ran every element and the finishing job, and each wrote its output file.
    let states = job_states(&array);
    let expected: BTreeMap<Option<usize>, String> = (0..TASKS)
        .map(|index| (Some(index), "COMPLETED".to_string()))
        .collect();
    assert_eq!(states, expected);
    assert_eq!(
        job_states(&finish),
        BTreeMap::from([(None, "COMPLETED".to_string())])
    );
    assert_eq!(
        started_elements(&sweep, &array),
        (0..TASKS).collect::<Vec<_>>()
    );

    assert!(
        SweepFolder::open(&sweep)
            .unwrap()
            .unfinished()
            .unwrap()
            .is_empty()
    );
    for file in ["results.csv", "results.json", "best.yaml", "best.nn"] {
        assert!(sweep.join(file).is_file(), "{file} is missing");
    }
    // Every fold's accuracy and weights, and the refit's, bit for bit as the local run's.
    assert_eq!(&numbers(&sweep), local_numbers(&data));
}

#[test]
fn a_cancelled_element_is_submitted_again_and_nothing_else() {
    let Some((data, _cluster)) = prerequisites() else {
        return;
    };
    let folder = tempfile::tempdir().unwrap();
    let sweep = folder.path().join("sweep");
    submit(&data, &sweep, &["--max-parallel", "1"]);
    let (array, finish, _) = submissions(&sweep)[0].clone();
    let array = array.expect("an array was submitted");
    // One element at a time, so the last one is still pending: cancel it. Cancel the first
    // too as soon as it runs (it may have ended by then; the test holds either way).
    let cancel = |index: usize| {
        Command::new("scancel")
            .arg(format!("{array}_{index}"))
            .status()
            .unwrap()
    };
    assert!(cancel(TASKS - 1).success(), "scancel {array}_{}", TASKS - 1);
    let start = Instant::now();
    let mut cancelled_running = false;
    while start.elapsed() < Duration::from_secs(60) {
        let running = stdout_of(
            "squeue",
            &["--noheader", "--format=%i %t", "--jobs", &array],
        );
        if running.lines().any(|line| line == format!("{array}_0 R")) {
            // It may end between squeue and scancel, and then scancel fails: either is fine.
            cancelled_running = cancel(0).success();
            break;
        }
        if !running
            .lines()
            .any(|line| line.starts_with(&format!("{array}_0 ")))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_jobs(&[&array, &finish], &sweep);

    // A pending element that is cancelled never starts (Slurm keeps no state for it); a running
    // one ends as CANCELLED.
    let states = job_states(&array);
    assert!(
        !started_elements(&sweep, &array).contains(&(TASKS - 1)),
        "{states:?}"
    );
    let missing = SweepFolder::open(&sweep).unwrap().unfinished().unwrap();
    eprintln!(
        "first round: element 0 cancelled while running: {cancelled_running}; tasks left: \
         {missing:?}"
    );
    assert!(missing.contains(&(TASKS - 1)), "{missing:?}");
    if cancelled_running {
        assert_eq!(states.get(&Some(0)).map(String::as_str), Some("CANCELLED"));
        assert!(missing.contains(&0), "{missing:?}");
    }
    assert_eq!(
        job_states(&finish),
        BTreeMap::from([(None, "FAILED".to_string())])
    );
    // The finishing job ran after the array (afterany) and refused, since tasks are missing.
    assert!(!sweep.join("results.csv").exists());
    let done: Vec<usize> = (0..TASKS).filter(|task| !missing.contains(task)).collect();
    let before: Vec<_> = done
        .iter()
        .map(|&task| snapshot(&task_folders(&sweep)[task]))
        .collect();

    let printed = submit(&data, &sweep, &["--max-parallel", "1", "--wait"]);
    let submitted = submissions(&sweep);
    assert_eq!(submitted.len(), 2, "{submitted:?}");
    let (again, _, tasks) = submitted[1].clone();
    let again = again.expect("an array was submitted again");
    // Only the missing tasks were submitted, and only they started.
    assert_eq!(
        tasks,
        Some(format!("{}%1", array_ranges(&missing))),
        "{printed}"
    );
    assert_eq!(started_elements(&sweep, &again), missing);
    assert!(printed.contains("The sweep is complete"), "{printed}");
    // The folds done in the first round were not touched: same bytes, same times.
    for (task, files) in done.iter().zip(before) {
        assert_eq!(
            snapshot(&task_folders(&sweep)[*task]),
            files,
            "task {task} was written again"
        );
    }
    assert_eq!(&numbers(&sweep), local_numbers(&data));
}

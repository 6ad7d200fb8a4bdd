//! `netcalc train` under faults: killed with SIGKILL at random moments (most of them while it
//! saves), writing into a full disk (a file-size limit, `RLIMIT_FSIZE`), and run twice into one
//! folder. The runs train a small network on a few hundred synthetic 28×28 images written here as
//! IDX files, so these tests need no MNIST and take seconds.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use netcalc::train::History;
use netcalc::train::checkpoint;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const NETWORK: &str = "input 784\ndense 24 activation=relu\ndense 10 activation=softmax\n";

/// Writes `count` random images with random labels as an IDX pair named `images`, `labels`.
fn write_split(folder: &Path, images: &str, labels: &str, count: u32, random: &mut ChaCha8Rng) {
    let mut image_bytes = Vec::new();
    for value in [2051u32, count, 28, 28] {
        image_bytes.extend(value.to_be_bytes());
    }
    let mut label_bytes = Vec::new();
    for value in [2049u32, count] {
        label_bytes.extend(value.to_be_bytes());
    }
    for _ in 0..count {
        let label = (random.next_u32() % 10) as u8;
        label_bytes.push(label);
        // A faint class signal in the first row, so that training has something to learn.
        for pixel in 0..784 {
            let noise = (random.next_u32() % 128) as u8;
            let signal = if pixel == usize::from(label) { 127 } else { 0 };
            image_bytes.push(noise + signal);
        }
    }
    std::fs::write(folder.join(images), image_bytes).unwrap();
    std::fs::write(folder.join(labels), label_bytes).unwrap();
}

/// A folder with `data/` (300 training and 50 test images) and `net.nn`.
fn workspace() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    let data = folder.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut random = ChaCha8Rng::seed_from_u64(7);
    write_split(
        &data,
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        300,
        &mut random,
    );
    write_split(
        &data,
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        50,
        &mut random,
    );
    std::fs::write(folder.path().join("net.nn"), NETWORK).unwrap();
    folder
}

/// `netcalc train net.nn` with Adam (whose state must survive), one thread, every epoch saved.
fn train_command(folder: &Path, out: &str, epochs: usize, resume: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netcalc"));
    command
        .args(["train", "net.nn", "--data", "data", "--optimizer", "adam"])
        .args(["--batch-size", "10", "--threads", "1", "--quiet"])
        .args(["--save-every", "0", "--out", out])
        .args(["--epochs", &epochs.to_string()])
        .current_dir(folder)
        .env_remove("NETCALC_MNIST");
    if resume {
        command.args(["--resume", &format!("{out}/weights.safetensors")]);
    }
    command
}

fn run(mut command: Command) -> Output {
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The state a run folder holds: the epochs of its weights, optimizer state and history (which
/// must agree), the history's records without their timings, and the files' bytes. `None` when
/// no epoch has been saved yet.
#[derive(Debug, PartialEq)]
struct Saved {
    epochs: usize,
    records: Vec<String>,
    weights: Vec<u8>,
    optimizer: Vec<u8>,
}

fn saved(run: &Path) -> Option<Saved> {
    if !checkpoint::has_checkpoints(run) {
        // No save has switched `current` yet: the names, if any, lead nowhere.
        assert!(
            !run.join("weights.safetensors").exists(),
            "{}",
            run.display()
        );
        return None;
    }
    let weights_path = run.join("weights.safetensors");
    let weights = netcalc::train::weights::read(&weights_path)
        .unwrap_or_else(|error| panic!("{}: {error}", weights_path.display()));
    let optimizer = netcalc::train::optimizer_file::read(&run.join("optimizer.safetensors"))
        .unwrap()
        .expect("an optimizer file beside the weights");
    let history =
        History::from_json(&std::fs::read_to_string(run.join("history.json")).unwrap()).unwrap();
    let csv = std::fs::read_to_string(run.join("history.csv")).unwrap();
    let epochs = weights.epochs();
    assert_eq!(
        optimizer.epochs, epochs,
        "optimizer state and weights agree"
    );
    assert_eq!(history.last_epoch(), epochs, "history and weights agree");
    assert_eq!(
        csv.lines().count(),
        epochs + 1,
        "the CSV has a line per epoch:\n{csv}"
    );
    let records = history
        .epochs
        .iter()
        .map(|record| {
            format!(
                "{} {:?} {:?} {:?} {:?}",
                record.epoch,
                record.loss,
                record.accuracy,
                record.validation_loss,
                record.validation_accuracy
            )
        })
        .collect();
    Some(Saved {
        epochs,
        records,
        weights: std::fs::read(&weights_path).unwrap(),
        optimizer: std::fs::read(run.join("optimizer.safetensors")).unwrap(),
    })
}

/// Kills the child with SIGKILL and reaps it.
fn kill(mut child: Child) {
    // An error means the child had already ended, which cannot happen with this many epochs.
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn kill_9_at_random_moments_loses_no_saved_epoch_and_resuming_gives_the_uninterrupted_run() {
    let folder = workspace();
    let run_folder = folder.path().join("run");
    let mut random = ChaCha8Rng::seed_from_u64(2026);
    let mut last: Option<Saved> = None;
    let mut killed_while_saving = 0;
    const TRIALS: usize = 120;
    for _ in 0..TRIALS {
        let resume = last.is_some();
        let child = train_command(folder.path(), "run", 1_000_000, resume)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Starting takes some tens of milliseconds; each epoch ends with a save (fsync'ed files
        // and folders), so most moments after that fall inside a save.
        std::thread::sleep(Duration::from_micros(
            20_000 + u64::from(random.next_u32() % 200_000),
        ));
        kill(child);
        let leftovers = std::fs::read_dir(run_folder.join(checkpoint::CHECKPOINTS))
            .map(|entries| entries.count())
            .unwrap_or(0);
        if leftovers > 1 {
            killed_while_saving += 1;
        }
        let now = saved(&run_folder);
        match (&last, &now) {
            (Some(before), None) => panic!("epoch {} was lost", before.epochs),
            (Some(before), Some(after)) => {
                assert!(after.epochs >= before.epochs, "an epoch was lost");
                assert_eq!(
                    after.records[..before.records.len()],
                    before.records[..],
                    "the history goes on from the saved one"
                );
                if after.epochs == before.epochs {
                    assert_eq!(after, before, "nothing saved changed");
                }
            }
            (None, _) => {}
        }
        if now.is_some() {
            last = now;
        }
    }
    let before = last.expect("some epoch was saved in 120 runs");
    eprintln!(
        "{TRIALS} runs killed; {killed_while_saving} left a save half-done; {} epochs saved",
        before.epochs
    );
    // Two more epochs without a kill, then the same epochs in one uninterrupted run.
    let total = before.epochs + 2;
    let resumed = run(train_command(folder.path(), "run", 2, true));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(
        text(&resumed.stderr),
        "",
        "nothing to note: the state was whole"
    );
    let whole = run(train_command(folder.path(), "whole", total, false));
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let resumed_state = saved(&run_folder).unwrap();
    let whole_state = saved(&folder.path().join("whole")).unwrap();
    assert_eq!(resumed_state.epochs, total);
    assert_eq!(
        resumed_state, whole_state,
        "weights, optimizer state and history"
    );
    let accuracy = |output: &Output| text(&output.stdout).lines().next().unwrap().to_string();
    assert_eq!(accuracy(&resumed), accuracy(&whole), "test accuracy");
    assert_eq!(
        std::fs::read_dir(run_folder.join(checkpoint::CHECKPOINTS))
            .unwrap()
            .count(),
        1,
        "what the killed saves left is cleaned up"
    );
}

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error_and_keeps_the_last_state() {
    use std::os::unix::process::CommandExt;
    let folder = workspace();
    let first = run(train_command(folder.path(), "run", 1, false));
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = saved(&folder.path().join("run")).unwrap();
    assert!(before.weights.len() > 40_000, "{}", before.weights.len());
    // No file may grow beyond 16 KiB: the weights (about 75 KB) cannot be written, as on a full
    // disk (the options file and the lock's note still can).
    let mut limited = train_command(folder.path(), "run", 1, true);
    // Safety: setrlimit only, between fork and exec.
    unsafe {
        limited.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 16 << 10,
                rlim_max: 16 << 10,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let full = run(limited);
    assert_eq!(full.status.code(), Some(2), "{}", text(&full.stderr));
    let message = text(&full.stderr)
        .split_whitespace()
        .filter(|&word| word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        message.contains(
            "× cannot save epoch 2 in run: weights.safetensors (writing): File too large (os \
             error 27)"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "help: run still holds the state saved before (`--resume run/weights.safetensors` \
             continues from it); free some space, or raise the file-size limit, and resume"
        ),
        "{message}"
    );
    assert_eq!(saved(&folder.path().join("run")).unwrap(), before);
    let entries: Vec<String> = std::fs::read_dir(folder.path().join("run/checkpoints"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["epoch-1"], "the half-written save is removed");
    assert_eq!(
        checkpoint::current_target(&folder.path().join("run")),
        Some(Path::new("checkpoints/epoch-1").to_path_buf())
    );
    // With room again, the run resumes from the kept epoch as if nothing had happened.
    let resumed = run(train_command(folder.path(), "run", 1, true));
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let whole = run(train_command(folder.path(), "whole", 2, false));
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    assert_eq!(
        saved(&folder.path().join("run")),
        saved(&folder.path().join("whole"))
    );
}

#[test]
fn a_second_run_into_the_same_folder_is_refused_and_a_killed_one_leaves_no_lock() {
    let folder = workspace();
    let mut first = train_command(folder.path(), "run", 1_000_000, false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let holder = format!("process {}: netcalc train", first.id());
    // Wait (without a time limit of our own: the test harness has one) until it holds the lock.
    let lock = folder.path().join("run/.lock");
    while std::fs::read_to_string(&lock).map_or(true, |note| note.trim() != holder) {
        if let Some(status) = first.try_wait().unwrap() {
            panic!("the first run ended before it held the lock: {status}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = run(train_command(folder.path(), "run", 1, false));
    assert_eq!(second.status.code(), Some(2));
    let message = text(&second.stderr)
        .split_whitespace()
        .filter(|&word| word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        message,
        format!(
            "netcalc::train::folder_in_use × run is in use by another netcalc process \
             ({holder}); two runs must not write one folder help: wait for that run to end, or \
             give this one another folder with --out"
        )
    );
    assert_eq!(text(&second.stdout), "");
    kill(first);
    // The kernel let go of the dead run's lock: the folder is free again.
    let third = run(train_command(folder.path(), "run", 1, false));
    assert!(third.status.success(), "{}", text(&third.stderr));
}

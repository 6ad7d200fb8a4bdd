//! A sweep's tasks on a Slurm cluster: one job array whose element I runs `netcalc sweep task
//! SWEEPDIR --index I`, then a job that depends on the whole array (`afterany`) and runs `netcalc
//! sweep finish SWEEPDIR`; and the same commands as plain lines for any other runner.
//!
//! This module writes the batch scripts into `SWEEPDIR/slurm/` and talks to Slurm only through its
//! commands (`sbatch`, `sinfo`, `squeue`, `scontrol`), whose output it reads; it schedules nothing
//! itself. The tasks decide on their own whether there is anything left to do (a task already done
//! returns at once), so a resubmission only lists the unfinished indices to save queue slots, not
//! for correctness.

use crate::error::Locate;
use crate::source::Span;
use crate::train::files::write_atomically;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder inside the sweep folder that holds the batch scripts, Slurm's output files and the
/// record of submissions.
pub const FOLDER: &str = "slurm";
/// The array's batch script, inside [`FOLDER`].
pub const ARRAY_SCRIPT: &str = "array.sbatch";
/// The finishing job's batch script, inside [`FOLDER`].
pub const FINISH_SCRIPT: &str = "finish.sbatch";
/// The record of submissions (job ids and indices), inside [`FOLDER`].
pub const SUBMISSIONS: &str = "submissions.json";

/// What every job asks of Slurm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// `--partition`; the cluster's default partition when absent.
    pub partition: Option<String>,
    /// `--time`, as Slurm writes it (`30`, `1:00:00`, `2-0`); the partition's default when absent.
    pub time: Option<TimeLimit>,
    /// `--cpus-per-task`: the sweep's threads per task, so each task computes what it would
    /// compute locally.
    pub cpus_per_task: NonZeroUsize,
    /// `%K` on the array: at most K tasks at once; no limit when absent.
    pub max_parallel: Option<NonZeroUsize>,
}

/// A Slurm time limit as the user wrote it, checked against the forms `sbatch --time` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimit(String);

impl TimeLimit {
    /// Reads `minutes`, `minutes:seconds`, `hours:minutes:seconds`, `days-hours`,
    /// `days-hours:minutes`, `days-hours:minutes:seconds`, or `infinite`/`unlimited`.
    pub fn parse(text: &str) -> Result<TimeLimit, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower == "infinite" || lower == "unlimited" {
            return Ok(TimeLimit(lower));
        }
        let numbers = |part: &str, most: usize| {
            let fields: Vec<&str> = part.split(':').collect();
            fields.len() <= most
                && fields
                    .iter()
                    .all(|field| !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()))
        };
        let valid = match trimmed.split_once('-') {
            Some((days, rest)) => numbers(days, 1) && numbers(rest, 3),
            None => numbers(trimmed, 3),
        };
        if valid {
            Ok(TimeLimit(trimmed.to_string()))
        } else {
            Err(format!(
                "`{text}` is not a Slurm time limit: write minutes (`30`), `hours:minutes:seconds` \
                 (`1:30:00`) or `days-hours[:minutes[:seconds]]` (`2-12`)"
            ))
        }
    }

    /// The limit as given to `sbatch --time`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything a submission needs: which program, which folder, which tasks, what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The netcalc binary the jobs run (absolute: jobs start in another working directory).
    pub binary: PathBuf,
    /// The sweep folder (absolute), which every node must see at the same path.
    pub sweep: PathBuf,
    /// The indices of the tasks to run, ascending; empty when every task is done and only the
    /// finishing job is left.
    pub tasks: Vec<usize>,
    /// What each job asks for.
    pub resources: Resources,
}

/// Why a submission could not be prepared or was refused.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// A path cannot be written into a batch script safely.
    #[error("{} cannot be written into a batch script: {reason}", path.display())]
    UnsafePath {
        /// The path.
        path: PathBuf,
        /// Which character is in the way.
        reason: &'static str,
    },
    /// `--cpus-per-task` differs from the sweep's threads per task.
    #[error(
        "--cpus-per-task {given} differs from the sweep's threads per task ({threads}): each task \
         computes with exactly its sweep's threads, so that its results equal a local run's"
    )]
    CpusPerTask {
        /// What the user asked for.
        given: usize,
        /// The sweep's threads per task.
        threads: usize,
    },
    /// A Slurm command is not installed.
    #[error("`{program}` was not found: Slurm's commands are not installed on this machine")]
    Missing {
        /// `sbatch`, `sinfo`, `squeue` or `scontrol`.
        program: &'static str,
    },
    /// A Slurm command could not be started or failed.
    #[error("`{command}` failed{}: {message}", status.map(|code| format!(" (exit code {code})")).unwrap_or_default())]
    Failed {
        /// The command line, for the message.
        command: String,
        /// Its exit code, when it ran and exited.
        status: Option<i32>,
        /// What it wrote to stderr, or why it could not run.
        message: String,
    },
    /// `sbatch` printed something that is not a job id.
    #[error("`{command}` printed `{output}`, not a job id")]
    NoJobId {
        /// The command line.
        command: String,
        /// What it printed.
        output: String,
    },
    /// The partition asked for does not exist.
    #[error("Slurm has no partition `{name}`")]
    UnknownPartition {
        /// The partition asked for.
        name: String,
        /// The partitions `sinfo` lists.
        known: Vec<String>,
    },
    /// The array was accepted, the finishing job refused.
    #[error("job array {array} was submitted, but its finishing job was refused: {reason}")]
    FinishRefused {
        /// The array's job id.
        array: String,
        /// The sweep folder.
        sweep: PathBuf,
        /// `sbatch`'s refusal.
        reason: String,
    },
    /// Jobs of an earlier submission of this sweep are still in the queue.
    #[error(
        "jobs {} of an earlier submission of {} are still in the queue",
        jobs.join(", "),
        sweep.display()
    )]
    StillQueued {
        /// The sweep folder.
        sweep: PathBuf,
        /// Their ids.
        jobs: Vec<String>,
    },
    /// A file in the sweep's Slurm folder could not be written or read.
    #[error("cannot {action} {}: {source}", path.display())]
    File {
        /// `write` or `read`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Locate for SlurmError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn help(&self) -> Option<String> {
        match self {
            SlurmError::UnsafePath { .. } => {
                Some("move the sweep folder (or netcalc) to a path without it".to_string())
            }
            SlurmError::CpusPerTask { threads, .. } => Some(format!(
                "leave out --cpus-per-task (it defaults to the threads per task, {threads}), or \
                 start a new sweep with --threads-per-task"
            )),
            SlurmError::Missing { .. } => Some(
                "submit from a machine of the cluster (a login node); elsewhere, \
                 --emit-commands prints the tasks' commands for any runner, and \
                 .ci/slurm-up.sh starts a single-node Slurm on a Debian or Ubuntu workstation"
                    .to_string(),
            ),
            SlurmError::Failed { .. } | SlurmError::NoJobId { .. } => None,
            SlurmError::UnknownPartition { name, known } => Some(match crate::suggestion::closest(
                name,
                known.iter().map(String::as_str),
            ) {
                _ if known.is_empty() => "`sinfo` lists no partition at all".to_string(),
                Some(close) => {
                    format!("did you mean `{close}`? (partitions: {})", known.join(", "))
                }
                None => format!("the partitions are {}", known.join(", ")),
            }),
            SlurmError::FinishRefused { sweep, .. } => Some(format!(
                "once the array has ended, run `netcalc sweep finish {}`, or submit again",
                sweep.display()
            )),
            SlurmError::StillQueued { jobs, .. } => Some(format!(
                "wait until they have ended (`squeue -j {}`), or cancel them (`scancel {}`), \
                 then submit again: finished tasks are skipped",
                jobs.join(","),
                jobs.join(" ")
            )),
            SlurmError::File { .. } => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SlurmError::UnsafePath { .. } => "netcalc::slurm::unsafe_path",
            SlurmError::CpusPerTask { .. } => "netcalc::slurm::cpus_per_task",
            SlurmError::Missing { .. } => "netcalc::slurm::missing",
            SlurmError::Failed { .. } => "netcalc::slurm::failed",
            SlurmError::NoJobId { .. } => "netcalc::slurm::no_job_id",
            SlurmError::UnknownPartition { .. } => "netcalc::slurm::unknown_partition",
            SlurmError::FinishRefused { .. } => "netcalc::slurm::finish_refused",
            SlurmError::StillQueued { .. } => "netcalc::slurm::still_queued",
            SlurmError::File { .. } => "netcalc::slurm::file",
        }
    }
}

/// Resources for a sweep whose tasks use `threads` threads each: `--cpus-per-task` must be
/// `threads` when given, since a task's numbers depend on its thread count and the results of a
/// cluster run must equal a local run's.
pub fn resources(
    threads: NonZeroUsize,
    cpus_per_task: Option<NonZeroUsize>,
    partition: Option<String>,
    time: Option<TimeLimit>,
    max_parallel: Option<NonZeroUsize>,
) -> Result<Resources, SlurmError> {
    if let Some(given) = cpus_per_task
        && given != threads
    {
        return Err(SlurmError::CpusPerTask {
            given: given.get(),
            threads: threads.get(),
        });
    }
    Ok(Resources {
        partition,
        time,
        cpus_per_task: threads,
        max_parallel,
    })
}

/// Ascending indices as Slurm's `--array` list: runs of consecutive indices become ranges
/// (`0-3,5,7-9`).
pub fn array_ranges(indices: &[usize]) -> String {
    let mut text = String::new();
    let mut position = 0;
    while position < indices.len() {
        let first = indices[position];
        let mut last = first;
        while position + 1 < indices.len() && indices[position + 1] == last + 1 {
            position += 1;
            last = indices[position];
        }
        if !text.is_empty() {
            text.push(',');
        }
        if first == last {
            let _ = write!(text, "{first}");
        } else {
            let _ = write!(text, "{first}-{last}");
        }
        position += 1;
    }
    text
}

/// A word for a POSIX shell: as it is when it holds only safe characters, else in single quotes.
pub fn shell_word(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A path for the shell lines of a script or a command list.
fn shell_path(path: &Path) -> Result<String, SlurmError> {
    let text = path_text(path)?;
    Ok(shell_word(text))
}

fn path_text(path: &Path) -> Result<&str, SlurmError> {
    let unsafe_path = |reason| SlurmError::UnsafePath {
        path: path.to_path_buf(),
        reason,
    };
    let text = path.to_str().ok_or(unsafe_path("it is not UTF-8"))?;
    if text.contains(['\n', '\r']) {
        return Err(unsafe_path("it holds a line break"));
    }
    Ok(text)
}

/// An `#SBATCH --output` line for files named `pattern` (with `%A`, `%a` or `%j`, which `sbatch`
/// expands) in `folder`: the path in double quotes, which `sbatch` strips, with the folder's own
/// `%` doubled. A double quote cannot be written there.
fn output_directive(folder: &Path, pattern: &str) -> Result<String, SlurmError> {
    let text = path_text(folder)?;
    if text.contains('"') {
        return Err(SlurmError::UnsafePath {
            path: folder.to_path_buf(),
            reason: "it holds a double quote",
        });
    }
    let folder = text.trim_end_matches('/').replace('%', "%%");
    Ok(format!("#SBATCH --output=\"{folder}/{pattern}\""))
}

impl Submission {
    /// `SWEEPDIR/slurm`.
    pub fn folder(&self) -> PathBuf {
        self.sweep.join(FOLDER)
    }

    /// The `--array` value: the task indices, then `%K` when the parallelism is limited.
    pub fn array_specification(&self) -> String {
        let mut text = array_ranges(&self.tasks);
        if let Some(limit) = self.resources.max_parallel {
            let _ = write!(text, "%{limit}");
        }
        text
    }

    /// A batch script: what it does in a comment, the directives every job gets, the job's own
    /// (`extra`), the output file (`%A`, `%a` and `%j` expanded by Slurm), then `exec netcalc
    /// ARGUMENTS`.
    fn script(
        &self,
        about: &str,
        name: &str,
        extra: &[String],
        output: &str,
        arguments: &str,
    ) -> Result<String, SlurmError> {
        let mut text = format!("#!/bin/sh\n# netcalc sweep: {about}\n");
        let _ = writeln!(text, "#SBATCH --job-name={name}");
        if let Some(partition) = &self.resources.partition {
            let _ = writeln!(text, "#SBATCH --partition={partition}");
        }
        if let Some(time) = &self.resources.time {
            let _ = writeln!(text, "#SBATCH --time={}", time.as_str());
        }
        let _ = writeln!(text, "#SBATCH --nodes=1");
        let _ = writeln!(text, "#SBATCH --ntasks=1");
        let _ = writeln!(
            text,
            "#SBATCH --cpus-per-task={}",
            self.resources.cpus_per_task
        );
        for directive in extra {
            let _ = writeln!(text, "#SBATCH {directive}");
        }
        let _ = writeln!(text, "{}", output_directive(&self.folder(), output)?);
        let _ = writeln!(text, "exec {} {arguments}", shell_path(&self.binary)?);
        Ok(text)
    }

    /// The batch script of the array: element I runs task I.
    pub fn array_script(&self) -> Result<String, SlurmError> {
        self.script(
            "array element I runs task I (configuration × fold) of the sweep.",
            "netcalc-sweep",
            &[format!("--array={}", self.array_specification())],
            "%A-task-%a.out",
            &format!(
                "sweep task {} --index \"$SLURM_ARRAY_TASK_ID\"",
                shell_path(&self.sweep)?
            ),
        )
    }

    /// The batch script of the job that runs after the whole array (submitted with
    /// `--dependency=afterany:ARRAY`): refits the best configuration and writes the report.
    pub fn finish_script(&self) -> Result<String, SlurmError> {
        self.script(
            "after the array, refit the best configuration and write the report.",
            "netcalc-finish",
            &[],
            "%j-finish.out",
            &format!("sweep finish {}", shell_path(&self.sweep)?),
        )
    }

    /// One shell line per task to run, for GNU parallel or any other runner, then the finishing
    /// command as a comment: it must run after every task line has ended, which a runner that
    /// starts lines side by side cannot know.
    pub fn commands(&self) -> Result<String, SlurmError> {
        let binary = shell_path(&self.binary)?;
        let sweep = shell_path(&self.sweep)?;
        let mut text = String::new();
        for index in &self.tasks {
            let _ = writeln!(text, "{binary} sweep task {sweep} --index {index}");
        }
        let _ = writeln!(
            text,
            "# after all the lines above have ended: {binary} sweep finish {sweep}"
        );
        Ok(text)
    }
}

/// The scripts of a submission, as written into the sweep folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The array's script, when there are tasks to run.
    pub array: Option<PathBuf>,
    /// The finishing job's script.
    pub finish: PathBuf,
}

impl Scripts {
    /// The `sbatch` command lines that submit them, `ARRAY_JOB_ID` standing for the array's id,
    /// for a user who submits by hand.
    pub fn commands(&self) -> Result<Vec<String>, SlurmError> {
        let mut lines = Vec::new();
        let mut finish = String::from("sbatch --parsable ");
        if let Some(array) = &self.array {
            lines.push(format!("sbatch --parsable {}", shell_path(array)?));
            finish.push_str("--dependency=afterany:ARRAY_JOB_ID ");
        }
        finish.push_str(&shell_path(&self.finish)?);
        lines.push(finish);
        Ok(lines)
    }
}

/// Writes the batch scripts into `SWEEPDIR/slurm/` (atomically, replacing an earlier
/// submission's): the array's only when there are tasks to run.
pub fn write_scripts(submission: &Submission) -> Result<Scripts, SlurmError> {
    let folder = submission.folder();
    std::fs::create_dir_all(&folder).map_err(|source| SlurmError::File {
        action: "write",
        path: folder.clone(),
        source,
    })?;
    let write = |name: &str, text: String| {
        let path = folder.join(name);
        write_atomically(&path, text.as_bytes()).map_err(|source| SlurmError::File {
            action: "write",
            path: path.clone(),
            source,
        })?;
        Ok::<_, SlurmError>(path)
    };
    let array = if submission.tasks.is_empty() {
        None
    } else {
        Some(write(ARRAY_SCRIPT, submission.array_script()?)?)
    };
    let finish = write(FINISH_SCRIPT, submission.finish_script()?)?;
    Ok(Scripts { array, finish })
}

/// The job ids of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jobs {
    /// The array's job id, when there were tasks to run.
    pub array: Option<String>,
    /// The finishing job's id.
    pub finish: String,
    /// The `--array` value submitted (`0-7%2`), when there was an array.
    pub tasks: Option<String>,
}

impl Jobs {
    /// Every id, array first.
    pub fn ids(&self) -> Vec<String> {
        self.array
            .iter()
            .chain(std::iter::once(&self.finish))
            .cloned()
            .collect()
    }
}

/// One submission as `SWEEPDIR/slurm/submissions.json` records it: the array's id as soon as it
/// is accepted, so that an array whose finishing job `sbatch` refused is still known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// The array's job id, when there were tasks to run.
    pub array: Option<String>,
    /// The finishing job's id, once it was accepted.
    pub finish: Option<String>,
    /// The `--array` value submitted (`0-7%2`), when there was an array.
    pub tasks: Option<String>,
}

impl Record {
    /// Every id, array first.
    pub fn ids(&self) -> Vec<String> {
        self.array.iter().chain(&self.finish).cloned().collect()
    }
}

/// Runs a Slurm command and gives its stdout, or says why it could not run or failed (with its
/// stderr).
fn slurm_command(program: &'static str, arguments: &[&str]) -> Result<String, SlurmError> {
    let line = std::iter::once(program)
        .chain(arguments.iter().copied())
        .map(shell_word)
        .collect::<Vec<_>>()
        .join(" ");
    let output = Command::new(program)
        .args(arguments)
        .output()
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SlurmError::Missing { program },
            _ => SlurmError::Failed {
                command: line.clone(),
                status: None,
                message: error.to_string(),
            },
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(SlurmError::Failed {
            command: line,
            status: output.status.code(),
            message: if stderr.is_empty() {
                "it printed no reason".to_string()
            } else {
                stderr
            },
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Checks that Slurm has the partition (`sinfo`); the default partition needs no check.
pub fn check_partition(partition: Option<&str>) -> Result<(), SlurmError> {
    let Some(name) = partition else {
        return Ok(());
    };
    let listed = slurm_command("sinfo", &["--noheader", "--format=%R"])?;
    let mut known: Vec<String> = listed
        .lines()
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    known.sort();
    known.dedup();
    if known.iter().any(|known| known == name) {
        Ok(())
    } else {
        Err(SlurmError::UnknownPartition {
            name: name.to_string(),
            known,
        })
    }
}

/// `sbatch --parsable` prints `ID` or `ID;CLUSTER`.
fn job_id(command: &str, output: &str) -> Result<String, SlurmError> {
    let id = output.trim().split(';').next().unwrap_or("").trim();
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_string())
    } else {
        Err(SlurmError::NoJobId {
            command: command.to_string(),
            output: output.trim().to_string(),
        })
    }
}

fn sbatch(arguments: &[&str]) -> Result<String, SlurmError> {
    let printed = slurm_command("sbatch", arguments)?;
    job_id(&format!("sbatch {}", arguments.join(" ")), &printed)
}

/// Checks that `sbatch` is installed and runs.
pub fn check_sbatch() -> Result<(), SlurmError> {
    slurm_command("sbatch", &["--version"]).map(|_| ())
}

/// Refuses while jobs of an earlier submission of the sweep are still queued or running: their
/// tasks would be submitted twice.
pub fn check_queue(sweep: &Path) -> Result<(), SlurmError> {
    let earlier: Vec<String> = submissions(sweep)?.iter().flat_map(Record::ids).collect();
    if earlier.is_empty() {
        return Ok(());
    }
    let queued = queued(&earlier)?;
    if queued.is_empty() {
        Ok(())
    } else {
        Err(SlurmError::StillQueued {
            sweep: sweep.to_path_buf(),
            jobs: queued,
        })
    }
}

/// Submits the scripts: the array, then the finishing job depending on it (or alone when there is
/// no array), and adds the ids to `SWEEPDIR/slurm/submissions.json` (the array's as soon as it is
/// accepted).
pub fn submit(submission: &Submission, scripts: &Scripts) -> Result<Jobs, SlurmError> {
    let mut records = submissions(&submission.sweep)?;
    let tasks = (!submission.tasks.is_empty()).then(|| submission.array_specification());
    let array = match &scripts.array {
        Some(path) => {
            let id = sbatch(&["--parsable", path_text(path)?])?;
            records.push(Record {
                array: Some(id.clone()),
                finish: None,
                tasks: tasks.clone(),
            });
            record(submission, &records)?;
            Some(id)
        }
        None => None,
    };
    let dependency = array
        .as_ref()
        .map(|id| format!("--dependency=afterany:{id}"));
    let mut arguments = vec!["--parsable"];
    if let Some(dependency) = &dependency {
        arguments.push(dependency);
    }
    arguments.push(path_text(&scripts.finish)?);
    let finish = match (sbatch(&arguments), &array) {
        (Ok(id), _) => id,
        (Err(error), Some(array)) => {
            return Err(SlurmError::FinishRefused {
                array: array.clone(),
                sweep: submission.sweep.clone(),
                reason: error.to_string(),
            });
        }
        (Err(error), None) => return Err(error),
    };
    match records.last_mut() {
        Some(last) if array.is_some() => last.finish = Some(finish.clone()),
        _ => records.push(Record {
            array: None,
            finish: Some(finish.clone()),
            tasks: None,
        }),
    }
    record(submission, &records)?;
    Ok(Jobs {
        array,
        finish,
        tasks,
    })
}

/// Writes `SWEEPDIR/slurm/submissions.json`.
fn record(submission: &Submission, records: &[Record]) -> Result<(), SlurmError> {
    let path = submission.folder().join(SUBMISSIONS);
    let text = serde_json::to_string_pretty(records).expect("job ids serialise") + "\n";
    write_atomically(&path, text.as_bytes()).map_err(|source| SlurmError::File {
        action: "write",
        path,
        source,
    })
}

/// The submissions recorded in `SWEEPDIR/slurm/submissions.json`, oldest first (none when the
/// file does not exist).
pub fn submissions(sweep: &Path) -> Result<Vec<Record>, SlurmError> {
    let path = sweep.join(FOLDER).join(SUBMISSIONS);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(SlurmError::File {
                action: "read",
                path,
                source,
            });
        }
    };
    serde_json::from_str(&text).map_err(|error| SlurmError::File {
        action: "read",
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, error),
    })
}

/// Which of these job ids (plain or array job ids) still have elements pending or running, from
/// `squeue` (which lists only jobs that have not ended).
pub fn queued(ids: &[String]) -> Result<Vec<String>, SlurmError> {
    // `%F` is the array's job id for every element, and the job id of a job outside any array;
    // asking for all of one's own jobs avoids `squeue -j`'s error for ids that have left the
    // controller's memory.
    let listed = slurm_command("squeue", &["--me", "--noheader", "--format=%F"])?;
    let mut found: Vec<String> = ids
        .iter()
        .filter(|id| listed.lines().any(|line| line.trim() == id.as_str()))
        .cloned()
        .collect();
    found.dedup();
    Ok(found)
}

/// The state Slurm gives a job (`COMPLETED`, `FAILED`, `CANCELLED`, …) while the controller still
/// remembers it (`MinJobAge`, 300 s by default, after it ended), from `scontrol show job`.
pub fn job_state(id: &str) -> Result<Option<String>, SlurmError> {
    let shown = match slurm_command("scontrol", &["--oneliner", "show", "job", id]) {
        Ok(shown) => shown,
        Err(SlurmError::Failed { message, .. }) if message.contains("Invalid job id") => {
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    Ok(shown
        .split_whitespace()
        .find_map(|field| field.strip_prefix("JobState="))
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission(tasks: Vec<usize>) -> Submission {
        Submission {
            binary: PathBuf::from("/opt/netcalc/bin/netcalc"),
            sweep: PathBuf::from("/scratch/grid"),
            tasks,
            resources: Resources {
                partition: None,
                time: None,
                cpus_per_task: NonZeroUsize::new(2).unwrap(),
                max_parallel: None,
            },
        }
    }

    #[test]
    fn array_lists_collapse_runs_into_ranges() {
        assert_eq!(array_ranges(&[]), "");
        assert_eq!(array_ranges(&[4]), "4");
        assert_eq!(array_ranges(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_ranges(&[0, 1, 2, 3, 5, 7, 8, 9]), "0-3,5,7-9");
        assert_eq!(array_ranges(&[1, 3, 5]), "1,3,5");
        assert_eq!(array_ranges(&[6, 7]), "6-7");
    }

    #[test]
    fn time_limits_take_slurms_forms_only() {
        for good in [
            "30",
            "30:00",
            "1:30:00",
            "2-12",
            "2-12:30",
            "2-12:30:00",
            "UNLIMITED",
        ] {
            assert!(TimeLimit::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1h",
            "1:2:3:4",
            "-3",
            "2-",
            "2-1:2:3:4",
            "1::2",
            "30 min",
        ] {
            assert!(TimeLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/opt/netcalc"), "/opt/netcalc");
        assert_eq!(shell_word("/my sweeps/a"), "'/my sweeps/a'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn the_array_script_runs_one_task_per_element() {
        let mut plan = submission(vec![0, 1, 2, 3, 5]);
        plan.resources.partition = Some("gpu".into());
        plan.resources.time = Some(TimeLimit::parse("1:00:00").unwrap());
        plan.resources.max_parallel = NonZeroUsize::new(4);
        assert_eq!(
            plan.array_script().unwrap(),
            "#!/bin/sh\n\
             # netcalc sweep: array element I runs task I (configuration × fold) of the sweep.\n\
             #SBATCH --job-name=netcalc-sweep\n\
             #SBATCH --partition=gpu\n\
             #SBATCH --time=1:00:00\n\
             #SBATCH --nodes=1\n\
             #SBATCH --ntasks=1\n\
             #SBATCH --cpus-per-task=2\n\
             #SBATCH --array=0-3,5%4\n\
             #SBATCH --output=\"/scratch/grid/slurm/%A-task-%a.out\"\n\
             exec /opt/netcalc/bin/netcalc sweep task /scratch/grid --index \"$SLURM_ARRAY_TASK_ID\"\n"
        );
        assert_eq!(
            plan.finish_script().unwrap(),
            "#!/bin/sh\n\
             # netcalc sweep: after the array, refit the best configuration and write the report.\n\
             #SBATCH --job-name=netcalc-finish\n\
             #SBATCH --partition=gpu\n\
             #SBATCH --time=1:00:00\n\
             #SBATCH --nodes=1\n\
             #SBATCH --ntasks=1\n\
             #SBATCH --cpus-per-task=2\n\
             #SBATCH --output=\"/scratch/grid/slurm/%j-finish.out\"\n\
             exec /opt/netcalc/bin/netcalc sweep finish /scratch/grid\n"
        );
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_for_sbatch() {
        let mut plan = submission(vec![0]);
        plan.sweep = PathBuf::from("/my sweeps/100%");
        let script = plan.array_script().unwrap();
        assert!(
            script.contains("#SBATCH --output=\"/my sweeps/100%%/slurm/%A-task-%a.out\"\n"),
            "{script}"
        );
        assert!(
            script.contains("sweep task '/my sweeps/100%' --index"),
            "{script}"
        );
        plan.sweep = PathBuf::from("/a\"b");
        assert!(matches!(
            plan.array_script(),
            Err(SlurmError::UnsafePath { .. })
        ));
        plan.sweep = PathBuf::from("/a\nb");
        assert!(matches!(
            plan.commands(),
            Err(SlurmError::UnsafePath { .. })
        ));
    }

    #[test]
    fn commands_list_the_tasks_then_the_finish_as_a_comment() {
        let plan = submission(vec![1, 4]);
        assert_eq!(
            plan.commands().unwrap(),
            "/opt/netcalc/bin/netcalc sweep task /scratch/grid --index 1\n\
             /opt/netcalc/bin/netcalc sweep task /scratch/grid --index 4\n\
             # after all the lines above have ended: /opt/netcalc/bin/netcalc sweep finish /scratch/grid\n"
        );
    }

    #[test]
    fn cpus_per_task_must_be_the_sweeps_threads() {
        let two = NonZeroUsize::new(2).unwrap();
        let four = NonZeroUsize::new(4).unwrap();
        assert_eq!(
            resources(two, None, None, None, None)
                .unwrap()
                .cpus_per_task,
            two
        );
        assert_eq!(
            resources(two, Some(two), None, None, None)
                .unwrap()
                .cpus_per_task,
            two
        );
        let error = resources(two, Some(four), None, None, None).unwrap_err();
        assert!(matches!(
            error,
            SlurmError::CpusPerTask {
                given: 4,
                threads: 2
            }
        ));
    }

    #[test]
    fn written_scripts_skip_the_array_when_every_task_is_done() {
        let folder = tempfile::tempdir().unwrap();
        let mut plan = submission(vec![0, 1]);
        plan.sweep = folder.path().to_path_buf();
        let scripts = write_scripts(&plan).unwrap();
        let array = scripts.array.clone().unwrap();
        assert_eq!(
            std::fs::read_to_string(&array).unwrap(),
            plan.array_script().unwrap()
        );
        let commands = scripts.commands().unwrap();
        assert_eq!(commands.len(), 2);
        assert!(commands[1].contains("--dependency=afterany:ARRAY_JOB_ID"));
        plan.tasks.clear();
        let scripts = write_scripts(&plan).unwrap();
        assert_eq!(scripts.array, None);
        let commands = scripts.commands().unwrap();
        assert_eq!(commands.len(), 1);
        assert!(!commands[0].contains("--dependency"));
    }

    #[test]
    fn job_ids_are_read_from_sbatch_parsable_output() {
        assert_eq!(job_id("sbatch", "42\n").unwrap(), "42");
        assert_eq!(job_id("sbatch", "42;cluster\n").unwrap(), "42");
        assert!(job_id("sbatch", "Submitted batch job 42\n").is_err());
        assert!(job_id("sbatch", "").is_err());
    }
}

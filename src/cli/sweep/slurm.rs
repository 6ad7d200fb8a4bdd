//! `netcalc sweep run … --slurm` and `--emit-commands`: hands a prepared sweep's unfinished tasks
//! to Slurm (one job array and a job that finishes the sweep after it) or prints them as
//! commands for any other runner. Prints the job ids and how to watch them, and with `--wait`
//! polls `squeue` until the jobs have left the queue (not `sbatch --wait`, which can return up to
//! half a minute late). Exit codes: 0 submitted (or, with `--wait`, the sweep is complete), 1 the
//! jobs ended with tasks or the finish left undone, 2 an error.

use super::{print_status, say, sweep_error};
use crate::error::Error;
use crate::sweep::SweepFolder;
use crate::sweep::finish::{FILES, refit_record};
use crate::sweep::results::SweepResults;
use crate::sweep::slurm::{self, Jobs, Submission, TimeLimit};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// How often `--wait` asks `squeue` whether the jobs are still there.
const POLL: Duration = Duration::from_secs(5);

/// Flags of `netcalc sweep run` that hand the tasks to a runner other than this process.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Running the tasks elsewhere")]
pub struct ElsewhereArguments {
    /// Submit the unfinished tasks to Slurm as one job array, and a job that finishes the sweep
    /// after it (refit and results), then return.
    #[arg(long, conflicts_with_all = ["emit_commands", "jobs"])]
    slurm: bool,
    /// Slurm partition (default: the cluster's default partition).
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// Time limit of each Slurm job: minutes, hours:minutes:seconds or days-hours (default:
    /// the partition's).
    #[arg(long, requires = "slurm", value_parser = TimeLimit::parse)]
    time: Option<TimeLimit>,
    /// CPUs of each Slurm task; must equal --threads-per-task, its default.
    #[arg(long, requires = "slurm")]
    cpus_per_task: Option<NonZeroUsize>,
    /// At most K array tasks at once (`--array=…%K`; default: as many as Slurm gives).
    #[arg(long, requires = "slurm")]
    max_parallel: Option<NonZeroUsize>,
    /// Prepare the folder and write the batch scripts, print them, submit nothing.
    #[arg(long, requires = "slurm", conflicts_with = "wait")]
    dry_run: bool,
    /// After submitting, wait until the jobs have left the queue (polling squeue), then say
    /// whether the sweep is complete; Ctrl-C stops the waiting, not the jobs.
    #[arg(long, requires = "slurm")]
    wait: bool,
    /// Prepare the folder and print one `netcalc sweep task` command per unfinished task, then
    /// the finishing command as a comment (run it after all others), for GNU parallel or any
    /// other runner.
    #[arg(long, conflicts_with = "jobs")]
    emit_commands: bool,
}

impl ElsewhereArguments {
    /// Whether the tasks go to another runner.
    pub fn active(&self) -> bool {
        self.slurm || self.emit_commands
    }
}

/// Hands the prepared sweep's unfinished tasks to Slurm or prints them (the caller has released
/// the sweep folder's lock, which the finishing job takes).
pub fn dispatch(arguments: &ElsewhereArguments, sweep: &SweepFolder) -> Result<ExitCode, Error> {
    let binary = std::env::current_exe().map_err(|source| {
        sweep_error(crate::sweep::SweepError::Io {
            action: "find",
            path: PathBuf::from("the netcalc executable"),
            source,
        })
    })?;
    let threads = NonZeroUsize::new(sweep.spec.threads_per_task).unwrap_or(NonZeroUsize::MIN);
    let resources = slurm::resources(
        threads,
        arguments.cpus_per_task,
        arguments.partition.clone(),
        arguments.time.clone(),
        arguments.max_parallel,
    )
    .map_err(Error::unplaced)?;
    let submission = Submission {
        binary,
        sweep: absolute(&sweep.path)?,
        tasks: sweep.unfinished()?,
        resources,
    };
    if arguments.emit_commands {
        return Ok(print_status(
            &submission.commands().map_err(Error::unplaced)?,
        ));
    }
    if submission.tasks.is_empty() && finished(sweep)? {
        return Ok(print_status(&format!(
            "The sweep is complete (every task and the refit are done); nothing to submit: \
             netcalc sweep report {}\n",
            sweep.path.display()
        )));
    }
    if !arguments.dry_run {
        slurm::check_sbatch().map_err(Error::unplaced)?;
        slurm::check_queue(&submission.sweep).map_err(Error::unplaced)?;
        slurm::check_partition(arguments.partition.as_deref()).map_err(Error::unplaced)?;
    }
    let scripts = slurm::write_scripts(&submission).map_err(Error::unplaced)?;
    if arguments.dry_run {
        return Ok(print_status(&dry_run(&submission, &scripts)?));
    }
    let jobs = slurm::submit(&submission, &scripts).map_err(Error::unplaced)?;
    say(&submitted(&submission, &jobs));
    if !arguments.wait {
        return Ok(ExitCode::SUCCESS);
    }
    wait(sweep, &jobs)
}

/// The sweep folder as an absolute path: the jobs start in another working directory.
fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|source| {
        sweep_error(crate::sweep::SweepError::Io {
            action: "find",
            path: path.to_path_buf(),
            source,
        })
    })
}

/// The scripts with their paths, then the commands that would submit them.
fn dry_run(submission: &Submission, scripts: &slurm::Scripts) -> Result<String, Error> {
    let mut text = String::new();
    if let Some(path) = &scripts.array {
        text.push_str(&format!("# {}\n", path.display()));
        text.push_str(&submission.array_script().map_err(Error::unplaced)?);
        text.push('\n');
    }
    text.push_str(&format!("# {}\n", scripts.finish.display()));
    text.push_str(&submission.finish_script().map_err(Error::unplaced)?);
    text.push_str("\n# Not submitted (--dry-run). To submit by hand:\n");
    for line in scripts.commands().map_err(Error::unplaced)? {
        text.push_str(&format!("#   {line}\n"));
    }
    Ok(text)
}

/// What was submitted and how to watch it.
fn submitted(submission: &Submission, jobs: &Jobs) -> String {
    let folder = submission.sweep.display();
    let mut text = match (&jobs.array, &jobs.tasks) {
        (Some(array), Some(tasks)) => format!(
            "Submitted {} task{} (--array={tasks}) as Slurm job array {array}, and job {} to \
             finish the sweep after it.\n",
            submission.tasks.len(),
            if submission.tasks.len() == 1 { "" } else { "s" },
            jobs.finish
        ),
        _ => format!(
            "Every task is done; submitted Slurm job {} to finish the sweep.\n",
            jobs.finish
        ),
    };
    text.push_str(&format!(
        "Batch scripts and Slurm's output files: {}\n",
        submission.folder().display()
    ));
    text.push_str(&format!(
        "Watch: netcalc sweep status {folder}   (squeue --me lists the jobs; scancel {} cancels \
         them; the same command submits what is left)",
        jobs.ids().join(" ")
    ));
    text
}

/// Polls `squeue` until the jobs have left the queue, then says how the sweep stands: 0 when it
/// is finished, 1 when tasks or the finish are left undone.
fn wait(sweep: &SweepFolder, jobs: &Jobs) -> Result<ExitCode, Error> {
    let ids = jobs.ids();
    say(&format!(
        "Waiting for jobs {} to leave the queue (squeue every {} s; Ctrl-C stops the waiting, \
         not the jobs)",
        ids.join(", "),
        POLL.as_secs()
    ));
    while !slurm::queued(&ids).map_err(Error::unplaced)?.is_empty() {
        std::thread::sleep(POLL);
    }
    let state = slurm::job_state(&jobs.finish)
        .map_err(Error::unplaced)?
        .unwrap_or_else(|| "no longer known to Slurm".to_string());
    let missing = sweep.unfinished()?;
    let mut text = format!(
        "The jobs have ended; the finishing job {}: {state}.\n",
        jobs.finish
    );
    if missing.is_empty() && finished(sweep)? {
        text.push_str(&format!(
            "The sweep is complete: netcalc sweep report {}\n",
            sweep.path.display()
        ));
        return Ok(print_status(&text));
    }
    if missing.is_empty() {
        text.push_str("Every task is done, but the sweep was not finished");
    } else {
        text.push_str(&format!(
            "{} of {} tasks are not done ({})",
            missing.len(),
            sweep.task_count(),
            slurm::array_ranges(&missing)
        ));
    }
    text.push_str(&format!(
        "; Slurm's output files are in {}; the same command submits what is left.\n",
        sweep.path.join(slurm::FOLDER).display()
    ));
    print_status(&text);
    Ok(ExitCode::from(1))
}

/// Whether `finish` has done its work: the refit of the best configuration is proven done and
/// the result files are there.
fn finished(sweep: &SweepFolder) -> Result<bool, Error> {
    let results = SweepResults::collect(sweep)?;
    Ok(refit_record(sweep, &results)?.is_some()
        && FILES.iter().all(|file| sweep.path.join(file).is_file()))
}

//! Saving a run's state so that a crash at any moment leaves one whole epoch on disk. The state
//! is the files a resumed run reads together: the weights, the optimizer's state and the history
//! (JSON and CSV). Written one by one, even atomically, a `kill -9` (or a full disk) between two
//! of them would leave files of two epochs side by side. So each save is consistent by
//! construction:
//!
//! 1. the epoch's files are written into a fresh folder, `checkpoints/.epoch-N.tmp-PID`, each one
//!    flushed to disk, and the folder is renamed to `checkpoints/epoch-N`;
//! 2. the names a user and `--resume` read, `weights.safetensors`, `optimizer.safetensors`,
//!    `history.json` and `history.csv` in the run folder, are links through `current`
//!    (`current/weights.safetensors`), made once, before the first switch, so they switch with it;
//! 3. one symbolic link, `current`, is switched to the new folder atomically (a new link renamed
//!    over the old one): this rename is the moment the new epoch becomes the run's state;
//! 4. the names the new state leaves out are removed (the closed-form fit's state has no
//!    optimizer file), and so are earlier epochs' folders and whatever a crashed save left (a
//!    half-written temporary folder, a finished folder never switched to).
//!
//! Before the switch, `current` names the previous epoch, complete; after it, the new one. A run
//! folder written before netcalc kept checkpoints holds the four files themselves: it is read as it
//! is, and the first save into it adopts them (copies them into a checkpoint and switches to it)
//! before it replaces them by links, so that it too holds one epoch's files at every moment.
//! Saves happen under the folder's lock ([`crate::train::folder_lock`]), so nothing else writes
//! the folder meanwhile.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files of a run's state, in the order they are written.
pub const STATE_FILES: [&str; 4] = [
    "weights.safetensors",
    crate::train::optimizer_file::FILE_NAME,
    "history.json",
    "history.csv",
];

/// The folder of saved states inside a run folder.
pub const CHECKPOINTS: &str = "checkpoints";

/// The link to the current state's folder.
pub const CURRENT: &str = "current";

/// A save that failed: which file (by its name in the run folder) and why. The run folder still
/// holds the previous state.
#[derive(Debug, thiserror::Error)]
#[error("cannot save epoch {epoch} in {}: {} ({action}): {source}", folder.display(), file)]
pub struct SaveError {
    /// The run folder.
    pub folder: PathBuf,
    /// The epoch being saved.
    pub epoch: usize,
    /// The file (or folder) that could not be written, as named in the run folder.
    pub file: String,
    /// What was being done: `writing`, `renaming`, `linking`, …
    pub action: &'static str,
    /// Why.
    pub source: std::io::Error,
}

/// Saves `files` (names from [`STATE_FILES`] with their bytes; a state may leave some out, as
/// the closed-form fit leaves out the optimizer's) as the run folder's state after `epoch`
/// epochs. On failure the folder keeps its previous state.
pub fn save(folder: &Path, epoch: usize, files: &[(&str, &[u8])]) -> Result<(), SaveError> {
    let failed = |file: &str, action, source| SaveError {
        folder: folder.to_path_buf(),
        epoch,
        file: file.to_string(),
        action,
        source,
    };
    adopt_files_written_before_checkpoints(folder)
        .map_err(|(file, source)| failed(&file, "adopting", source))?;
    let checkpoints = folder.join(CHECKPOINTS);
    fs::create_dir_all(&checkpoints).map_err(|source| failed(CHECKPOINTS, "creating", source))?;
    let temporary = checkpoints.join(format!(".epoch-{epoch}.tmp-{}", std::process::id()));
    let written = write_folder(&temporary, files).map_err(|(file, source)| {
        let _ = fs::remove_dir_all(&temporary);
        failed(&file, "writing", source)
    })?;
    let name = free_name(
        &checkpoints,
        &format!("epoch-{epoch}"),
        current_target(folder),
    );
    let finished = checkpoints.join(&name);
    let _ = fs::remove_dir_all(&finished);
    fs::rename(&written, &finished)
        .and_then(|()| sync_folder(&checkpoints))
        .map_err(|source| {
            let _ = fs::remove_dir_all(&written);
            failed(&format!("{CHECKPOINTS}/{name}"), "renaming", source)
        })?;
    // The names are links through `current` before it first exists (dangling until then, as a
    // missing file reads), so that a crash right after the switch cannot leave a state without
    // its names.
    let present: Vec<&str> = files.iter().map(|(file, _)| *file).collect();
    link_state_names(folder, &present)
        .map_err(|(file, source)| failed(&file, "linking", source))?;
    switch_current(folder, &name).map_err(|source| failed(CURRENT, "linking", source))?;
    remove_names_left_out(folder, &present)
        .map_err(|(file, source)| failed(&file, "removing", source))?;
    remove_all_but_current(folder);
    Ok(())
}

/// The folder `current` names, relative to the run folder (`checkpoints/epoch-3`), if any.
pub fn current_target(folder: &Path) -> Option<PathBuf> {
    fs::read_link(folder.join(CURRENT)).ok()
}

/// Whether the run folder keeps its state in checkpoints (a `current` link).
pub fn has_checkpoints(folder: &Path) -> bool {
    current_target(folder).is_some()
}

/// Writes each file into a new folder `path` and flushes files and folder to disk.
fn write_folder(path: &Path, files: &[(&str, &[u8])]) -> Result<PathBuf, (String, std::io::Error)> {
    let _ = fs::remove_dir_all(path);
    fs::create_dir(path).map_err(|source| (CHECKPOINTS.to_string(), source))?;
    for (name, bytes) in files {
        let mut file =
            File::create(path.join(name)).map_err(|source| (name.to_string(), source))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|source| (name.to_string(), source))?;
    }
    sync_folder(path).map_err(|source| (CHECKPOINTS.to_string(), source))?;
    Ok(path.to_path_buf())
}

/// `wanted`, or `wanted-2`, `wanted-3`, … when `wanted` is the folder `current` names (an epoch
/// saved again, as after Ctrl-C).
fn free_name(checkpoints: &Path, wanted: &str, current: Option<PathBuf>) -> String {
    let taken = |name: &str| {
        current
            .as_ref()
            .is_some_and(|target| target == &Path::new(CHECKPOINTS).join(name))
    };
    if !taken(wanted) {
        return wanted.to_string();
    }
    (2..)
        .map(|number| format!("{wanted}-{number}"))
        .find(|name| !taken(name) && !checkpoints.join(name).exists())
        .unwrap_or_else(|| wanted.to_string())
}

/// Points `current` at `checkpoints/NAME`: a new link renamed over the old one, so that the
/// switch is one atomic step.
fn switch_current(folder: &Path, name: &str) -> std::io::Result<()> {
    let link = folder.join(format!(".{CURRENT}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(Path::new(CHECKPOINTS).join(name), &link)?;
    fs::rename(&link, folder.join(CURRENT)).inspect_err(|_| {
        let _ = fs::remove_file(&link);
    })?;
    sync_folder(folder)
}

/// Makes each name of the state in `present` a link through `current` (`weights.safetensors` →
/// `current/weights.safetensors`) when it is not one yet.
fn link_state_names(folder: &Path, present: &[&str]) -> Result<(), (String, std::io::Error)> {
    for name in STATE_FILES
        .into_iter()
        .filter(|name| present.contains(name))
    {
        let path = folder.join(name);
        let target = Path::new(CURRENT).join(name);
        if fs::read_link(&path).is_ok_and(|existing| existing == target) {
            continue;
        }
        let link = folder.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link)
            .and_then(|()| fs::rename(&link, &path))
            .map_err(|error| {
                let _ = fs::remove_file(&link);
                (name.to_string(), error)
            })?;
    }
    sync_folder(folder).map_err(|error| (String::new(), error))
}

/// Removes the names of the state's files that the current state left out (an older run's
/// optimizer file beside a closed-form fit's weights). Until then such a name is a link to a
/// file the current checkpoint does not have, which reads as missing.
fn remove_names_left_out(folder: &Path, present: &[&str]) -> Result<(), (String, std::io::Error)> {
    for name in STATE_FILES
        .into_iter()
        .filter(|name| !present.contains(name))
    {
        match fs::remove_file(folder.join(name)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err((name.to_string(), error));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A folder written before netcalc kept checkpoints holds the state's files themselves. Copies
/// them into a checkpoint and switches `current` to it, then turns the names into links: each
/// link then reads the same bytes as the file it replaces, so the folder holds one epoch's files
/// throughout.
fn adopt_files_written_before_checkpoints(folder: &Path) -> Result<(), (String, std::io::Error)> {
    if has_checkpoints(folder) {
        return Ok(());
    }
    let kept: Vec<(&str, Vec<u8>)> = STATE_FILES
        .iter()
        .filter(|name| {
            fs::symlink_metadata(folder.join(name)).is_ok_and(|metadata| metadata.is_file())
        })
        .map(|name| fs::read(folder.join(name)).map(|bytes| (*name, bytes)))
        .collect::<std::io::Result<_>>()
        .map_err(|error| (String::new(), error))?;
    if kept.is_empty() {
        return Ok(());
    }
    let checkpoints = folder.join(CHECKPOINTS);
    fs::create_dir_all(&checkpoints).map_err(|error| (CHECKPOINTS.to_string(), error))?;
    let files: Vec<(&str, &[u8])> = kept
        .iter()
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .collect();
    let temporary = checkpoints.join(format!(".adopted.tmp-{}", std::process::id()));
    let written = write_folder(&temporary, &files)?;
    let name = "adopted";
    let _ = fs::remove_dir_all(checkpoints.join(name));
    fs::rename(&written, checkpoints.join(name))
        .and_then(|()| sync_folder(&checkpoints))
        .map_err(|error| (CHECKPOINTS.to_string(), error))?;
    switch_current(folder, name).map_err(|error| (CURRENT.to_string(), error))?;
    let present: Vec<&str> = kept.iter().map(|(name, _)| *name).collect();
    link_state_names(folder, &present)
}

/// Removes from `checkpoints` every folder but the one `current` names: earlier epochs, and what
/// crashed saves left (with their temporary links in the run folder). Best effort: a folder left behind costs space, not consistency.
fn remove_all_but_current(folder: &Path) {
    // The temporary links a crashed save may have left beside `current` and the names.
    if let Ok(entries) = fs::read_dir(folder) {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let temporary = std::iter::once(CURRENT)
                .chain(STATE_FILES)
                .any(|link| name.starts_with(&format!(".{link}.tmp-")));
            if temporary {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let current = current_target(folder);
    let Ok(entries) = fs::read_dir(folder.join(CHECKPOINTS)) else {
        return;
    };
    for entry in entries.flatten() {
        let relative = Path::new(CHECKPOINTS).join(entry.file_name());
        if current.as_ref() != Some(&relative) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Flushes a folder's entries (new names, renames) to disk.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    File::open(path)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(epoch: usize) -> Vec<(&'static str, Vec<u8>)> {
        STATE_FILES
            .iter()
            .map(|name| (*name, format!("{name} of epoch {epoch}").into_bytes()))
            .collect()
    }

    fn save_state(folder: &Path, epoch: usize) -> Result<(), SaveError> {
        let files = state(epoch);
        let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
        save(folder, epoch, &borrowed)
    }

    fn read(folder: &Path, name: &str) -> String {
        fs::read_to_string(folder.join(name)).unwrap()
    }

    fn entries(path: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn each_save_switches_every_name_to_one_epoch_and_removes_the_last() {
        let folder = tempfile::tempdir().unwrap();
        for epoch in 1..=3 {
            save_state(folder.path(), epoch).unwrap();
            for name in STATE_FILES {
                assert_eq!(
                    read(folder.path(), name),
                    format!("{name} of epoch {epoch}")
                );
            }
        }
        assert_eq!(
            current_target(folder.path()),
            Some(Path::new(CHECKPOINTS).join("epoch-3"))
        );
        assert_eq!(entries(&folder.path().join(CHECKPOINTS)), ["epoch-3"]);
        // Saving the same epoch again (after Ctrl-C) takes another folder name.
        save_state(folder.path(), 3).unwrap();
        assert_eq!(
            current_target(folder.path()),
            Some(Path::new(CHECKPOINTS).join("epoch-3-2"))
        );
        assert_eq!(entries(&folder.path().join(CHECKPOINTS)), ["epoch-3-2"]);
    }

    #[test]
    fn what_a_crashed_save_left_is_ignored_and_removed() {
        let folder = tempfile::tempdir().unwrap();
        save_state(folder.path(), 1).unwrap();
        // A save of epoch 2 killed while writing, and one killed after its rename.
        let checkpoints = folder.path().join(CHECKPOINTS);
        fs::create_dir(checkpoints.join(".epoch-2.tmp-99999")).unwrap();
        fs::write(
            checkpoints.join(".epoch-2.tmp-99999/weights.safetensors"),
            "half",
        )
        .unwrap();
        fs::create_dir(checkpoints.join("epoch-2")).unwrap();
        for name in STATE_FILES {
            assert_eq!(read(folder.path(), name), format!("{name} of epoch 1"));
        }
        std::os::unix::fs::symlink(
            "checkpoints/epoch-2",
            folder.path().join(".current.tmp-99999"),
        )
        .unwrap();
        save_state(folder.path(), 2).unwrap();
        assert!(!entries(folder.path()).contains(&".current.tmp-99999".to_string()));
        assert_eq!(entries(&checkpoints), ["epoch-2"]);
        assert_eq!(
            read(folder.path(), "history.json"),
            "history.json of epoch 2"
        );
    }

    #[test]
    fn a_failed_save_keeps_the_previous_state() {
        let folder = tempfile::tempdir().unwrap();
        save_state(folder.path(), 1).unwrap();
        // A file name that cannot be created stands for a full disk.
        let error = save(folder.path(), 2, &[("no/such/file", b"x")]).unwrap_err();
        assert_eq!(error.epoch, 2);
        assert_eq!(error.file, "no/such/file");
        assert!(
            error.to_string().starts_with("cannot save epoch 2 in "),
            "{error}"
        );
        for name in STATE_FILES {
            assert_eq!(read(folder.path(), name), format!("{name} of epoch 1"));
        }
        assert_eq!(entries(&folder.path().join(CHECKPOINTS)), ["epoch-1"]);
    }

    #[test]
    fn a_state_without_a_file_removes_its_name() {
        let folder = tempfile::tempdir().unwrap();
        save_state(folder.path(), 1).unwrap();
        save(folder.path(), 1, &[("weights.safetensors", b"fit")]).unwrap();
        assert_eq!(read(folder.path(), "weights.safetensors"), "fit");
        assert!(!folder.path().join("optimizer.safetensors").exists());
        assert!(fs::symlink_metadata(folder.path().join("history.json")).is_err());
    }

    #[test]
    fn a_folder_written_before_checkpoints_is_adopted_whole() {
        let folder = tempfile::tempdir().unwrap();
        for (name, bytes) in state(4) {
            fs::write(folder.path().join(name), bytes).unwrap();
        }
        adopt_files_written_before_checkpoints(folder.path()).unwrap();
        for name in STATE_FILES {
            assert!(
                fs::symlink_metadata(folder.path().join(name))
                    .unwrap()
                    .is_symlink()
            );
            assert_eq!(read(folder.path(), name), format!("{name} of epoch 4"));
        }
        save_state(folder.path(), 5).unwrap();
        assert_eq!(
            read(folder.path(), "weights.safetensors"),
            "weights.safetensors of epoch 5"
        );
        assert_eq!(entries(&folder.path().join(CHECKPOINTS)), ["epoch-5"]);
    }
}

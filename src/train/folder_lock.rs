//! One writer per folder: an exclusive advisory lock (`flock`) on `FOLDER/.lock`, held for as long
//! as a run or a sweep writes into the folder. The kernel releases it when the process ends, however
//! it ends (`kill -9` and crashes included), so a dead run never leaves a folder stuck; the file
//! itself stays behind and means nothing once nobody holds it. The lock file names its holder
//! (process id and what it does) so that a refused second writer can say who is in the way.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the folder it guards.
pub const FILE_NAME: &str = ".lock";

/// A held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct FolderLock {
    /// Kept open: the lock lives as long as this descriptor.
    _file: File,
    /// The lock file.
    pub path: PathBuf,
}

/// Why a folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("{} is in use by another netcalc process ({holder}); two runs must not write one folder", folder.display())]
    Busy {
        /// The folder.
        folder: PathBuf,
        /// What the lock file says of its holder, e.g. `process 1234: netcalc train`.
        holder: String,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl FolderLock {
    /// Locks `folder` (which must exist) for `purpose` (e.g. `netcalc train`), or says who holds it.
    /// Never waits.
    pub fn acquire(folder: &Path, purpose: &str) -> Result<FolderLock, LockError> {
        let path = folder.join(FILE_NAME);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Busy {
                    folder: folder.to_path_buf(),
                    holder: if holder.is_empty() {
                        "a process that has not said what it does yet".to_string()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        let note = format!("process {}: {purpose}\n", std::process::id());
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(note.as_bytes()).map_err(io)?;
        Ok(FolderLock { _file: file, path })
    }
}

/// Who holds the lock on `folder`, if anyone: what the lock file says of its holder. It only
/// reads: it takes a shared lock for an instant to see whether an exclusive one is held, so a
/// writer acquiring the folder at that very instant is refused and should try again.
pub fn holder(folder: &Path) -> Option<String> {
    let path = folder.join(FILE_NAME);
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Some(holder.trim().to_string())
        }
        Err(TryLockError::Error(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_name_until_the_first_lets_go() {
        let folder = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(folder.path(), "netcalc train").unwrap();
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts just as another process would.
        let error = FolderLock::acquire(folder.path(), "netcalc sweep run").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&format!("process {}: netcalc train", std::process::id())),
            "{message}"
        );
        assert!(matches!(error, LockError::Busy { .. }));
        drop(first);
        let second = FolderLock::acquire(folder.path(), "netcalc sweep run").unwrap();
        let written = std::fs::read_to_string(&second.path).unwrap();
        assert_eq!(
            written,
            format!("process {}: netcalc sweep run\n", std::process::id())
        );
    }

    #[test]
    fn the_holder_is_seen_without_taking_the_lock() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(holder(folder.path()), None, "no lock file yet");
        let lock = FolderLock::acquire(folder.path(), "netcalc sweep task 3").unwrap();
        assert_eq!(
            holder(folder.path()),
            Some(format!(
                "process {}: netcalc sweep task 3",
                std::process::id()
            ))
        );
        drop(lock);
        assert_eq!(holder(folder.path()), None);
        FolderLock::acquire(folder.path(), "netcalc train").unwrap();
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_lock_file() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("nowhere");
        let error = FolderLock::acquire(&missing, "netcalc train").unwrap_err();
        assert!(matches!(error, LockError::Io { .. }));
        assert!(error.to_string().contains("nowhere/.lock"), "{error}");
    }
}

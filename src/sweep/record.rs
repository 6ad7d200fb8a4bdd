//! A fold's `result.json`, written last when the fold is done, and the check that decides whether
//! a fold is done: the file must be intact (its own digest), must have been made by a training
//! with exactly what the sweep expects now (the digest of the instantiated description, the
//! options, the images; see crate::sweep::folder), and the files it names (the weights, the
//! history) must still hold the bytes it saw. Anything else means the fold runs again.

use crate::sweep::digest;
use crate::train::files::write_atomically;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The file's name in a fold's folder.
pub const FILE_NAME: &str = "result.json";
/// What a fold's folder holds about its inputs while it trains (written first).
pub const INPUTS_FILE_NAME: &str = "fold.json";
/// The value of the `format` field.
pub const FORMAT: &str = "netcalc.sweep.fold.v1";
/// The files whose digests a result records.
pub const CHECKED_FILES: [&str; 2] = ["weights.safetensors", "history.json"];

/// What one finished training of a sweep gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldRecord {
    /// [`FORMAT`].
    pub format: String,
    /// The task's number (for the refit, the sweep's task count).
    pub task: usize,
    /// The configuration's index in the grid.
    pub configuration: usize,
    /// `fold-1`, `split` or `refit`.
    pub part: String,
    /// Accuracy on the held-out images (the test images for the refit); `None` when the
    /// training diverged.
    pub accuracy: Option<f64>,
    /// Held-out images classified correctly.
    pub correct: Option<usize>,
    /// Held-out images.
    pub count: usize,
    /// Why the training failed (a loss that stopped being finite), if it did.
    pub failure: Option<String>,
    /// Epochs trained.
    pub epochs: usize,
    /// Seconds of training and evaluation, summed over the epochs.
    pub seconds: f64,
    /// The digest of everything that determines the training.
    pub determined_by: String,
    /// The digests of the files it left ([`CHECKED_FILES`]).
    pub files: BTreeMap<String, String>,
    /// The digest of all the fields above.
    pub digest: String,
}

impl FoldRecord {
    /// The digest of the fields but `digest`.
    fn own_digest(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.remove("digest");
        }
        digest::of_json(&value)
    }

    /// Fills in the digests of the files in `folder` and its own, and writes it there atomically,
    /// last of all the fold's files.
    pub fn seal_and_write(mut self, folder: &Path) -> std::io::Result<FoldRecord> {
        self.files = CHECKED_FILES
            .iter()
            .filter_map(|name| Some((name.to_string(), digest::of_file(&folder.join(name))?)))
            .collect();
        self.digest = self.own_digest();
        let mut text = serde_json::to_string_pretty(&self).unwrap_or_default();
        text.push('\n');
        write_atomically(&folder.join(FILE_NAME), text.as_bytes())?;
        Ok(self)
    }

    /// The record in `folder` if it proves the fold done for `expected` (the digest of what
    /// determines it), or why not.
    pub fn check(folder: &Path, expected: &str) -> Result<FoldRecord, Missing> {
        let text = match std::fs::read_to_string(folder.join(FILE_NAME)) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Missing::NoResult);
            }
            Err(error) => return Err(Missing::Invalid(format!("unreadable: {error}"))),
        };
        let record: FoldRecord = serde_json::from_str(&text)
            .map_err(|error| Missing::Invalid(format!("not a fold result: {error}")))?;
        if record.format != FORMAT {
            return Err(Missing::Invalid(format!(
                "its format is `{}`, not `{FORMAT}`",
                record.format
            )));
        }
        if record.digest != record.own_digest() {
            return Err(Missing::Invalid(
                "it was changed after it was written".to_string(),
            ));
        }
        if record.determined_by != expected {
            return Err(Missing::Invalid(
                "it belongs to another training (description, options or images)".to_string(),
            ));
        }
        for name in CHECKED_FILES {
            let now = digest::of_file(&folder.join(name));
            if record.files.get(name) != now.as_ref() {
                return Err(Missing::Invalid(format!(
                    "{name} is missing or not the one it was written with"
                )));
            }
        }
        Ok(record)
    }
}

/// Why a fold is not done.
#[derive(Debug, Clone, PartialEq)]
pub enum Missing {
    /// There is no result file.
    NoResult,
    /// There is one, but it does not prove the fold done.
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> FoldRecord {
        FoldRecord {
            format: FORMAT.to_string(),
            task: 3,
            configuration: 7,
            part: "fold-2".to_string(),
            accuracy: Some(0.75),
            correct: Some(75),
            count: 100,
            failure: None,
            epochs: 1,
            seconds: 1.5,
            determined_by: "abc".to_string(),
            files: BTreeMap::new(),
            digest: String::new(),
        }
    }

    fn folder_with_files() -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("weights.safetensors"), b"weights").unwrap();
        std::fs::write(folder.path().join("history.json"), b"{}").unwrap();
        folder
    }

    #[test]
    fn a_sealed_record_proves_its_fold_done() {
        let folder = folder_with_files();
        let written = record().seal_and_write(folder.path()).unwrap();
        assert_eq!(written.files.len(), 2);
        assert_eq!(FoldRecord::check(folder.path(), "abc"), Ok(written));
    }

    #[test]
    fn a_record_reads_back_to_the_same_digest_whatever_its_numbers() {
        // Parsing must give back every f64 exactly (serde_json's `float_roundtrip`), or the
        // record's own digest would differ once read and finished folds would run again.
        let mut seconds = 0.1f64;
        for step in 0..20_000 {
            seconds = seconds * 1.37 % 1e6 + f64::from(step) / 7.0;
            let mut written = FoldRecord {
                accuracy: Some((f64::from(step) + 0.5) / 20_047.0),
                seconds,
                ..record()
            };
            written.digest = written.own_digest();
            let text = serde_json::to_string_pretty(&written).unwrap();
            let read: FoldRecord = serde_json::from_str(&text).unwrap();
            assert_eq!(read.own_digest(), written.digest, "{text}");
        }
    }

    #[test]
    fn any_change_makes_the_fold_run_again() {
        let folder = folder_with_files();
        assert_eq!(
            FoldRecord::check(folder.path(), "abc"),
            Err(Missing::NoResult)
        );
        record().seal_and_write(folder.path()).unwrap();
        assert!(matches!(
            FoldRecord::check(folder.path(), "another"),
            Err(Missing::Invalid(reason)) if reason.contains("another training")
        ));
        // The accuracy edited by hand.
        let path = folder.path().join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("0.75", "0.95")).unwrap();
        assert!(matches!(
            FoldRecord::check(folder.path(), "abc"),
            Err(Missing::Invalid(reason)) if reason.contains("changed")
        ));
        // The weights replaced.
        record().seal_and_write(folder.path()).unwrap();
        std::fs::write(folder.path().join("weights.safetensors"), b"other").unwrap();
        assert!(matches!(
            FoldRecord::check(folder.path(), "abc"),
            Err(Missing::Invalid(reason)) if reason.contains("weights.safetensors")
        ));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            FoldRecord::check(folder.path(), "abc"),
            Err(Missing::Invalid(_))
        ));
    }
}

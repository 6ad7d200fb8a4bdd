//! Reading a description or a hand-written table from a file, within the core's size limit
//! ([`netcalc_core::limits::MAX_INPUT_BYTES`]). The core reads from any reader; only this crate
//! opens files.

use crate::limits::{MAX_INPUT_BYTES, ReadError, read_limited};
use std::path::Path;

/// Reads a file with [`read_limited`]; a regular file's size is checked before anything is read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge);
    }
    read_limited(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_larger_than_the_limit_is_refused_by_its_size() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("big.nn");
        let file = std::fs::File::create(&path).unwrap();
        // A sparse file: its size is known without writing 16 MiB.
        file.set_len(MAX_INPUT_BYTES + 1).unwrap();
        assert!(matches!(read_file(&path), Err(ReadError::TooLarge)));
        file.set_len(3).unwrap();
        assert_eq!(read_file(&path).unwrap(), [0, 0, 0]);
    }
}

//! What the fuzz targets do with their bytes. Each target in `fuzz_targets/` is one line that
//! hands libFuzzer's input to a harness here, one module per kind of outside input:
//!
//! - [`descriptions`]: network descriptions (the DSL, YAML, and any future importer), either read
//!   only (`lean`) or taken through the whole pipeline (`pipeline`);
//! - [`hand_tables`]: the hand-written tables `netcalc check` reads;
//! - [`idx_files`]: IDX data files, plain and gzipped;
//! - [`safetensors_files`]: weights files and optimizer-state files.
//!
//! Errors are what bad input should give; a harness returns quietly on them. A panic, an
//! allocation beyond libFuzzer's limits, a hang, or a broken property (the `assert!`s here) is a
//! finding.

pub mod descriptions;
pub mod hand_tables;
pub mod idx_files;
pub mod safetensors_files;

use std::borrow::Cow;

/// The input as text, invalid UTF-8 sequences replaced, as the readers only take text.
pub fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

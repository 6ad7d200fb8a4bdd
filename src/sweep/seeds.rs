//! The seed of each training in a sweep, derived from the sweep's seed, the configuration's
//! index in the grid and the fold, so that a task's numbers do not depend on which tasks run
//! beside it, in which order, or on which machine.
//!
//! The rule: the SHA-256 digest of the text `netcalc sweep seed\n{sweep seed}\n{configuration
//! index}\n{part}` (part `fold-1`, `fold-2`, …, `split` or `refit`; numbers in decimal, no
//! trailing line break); its first 8 bytes read as a little-endian integer, shifted right by 11
//! bits. The result has 53 bits, so it is exact in JSON and fits the `seed` of a description's
//! `train` section. For example sweep seed 1, configuration 0, `fold-1` gives
//! `printf 'netcalc sweep seed\n1\n0\nfold-1' | sha256sum`.

use sha2::{Digest, Sha256};

/// The part of a configuration's evaluation a training belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// A fold or the split, by its folder name (`fold-1`, `split`).
    Named(&'a str),
    /// The refit of the best configuration on the whole pool.
    Refit,
}

/// The seed of one training of a sweep.
pub fn training_seed(sweep_seed: u64, configuration: usize, part: Part<'_>) -> u64 {
    let name = match part {
        Part::Named(name) => name,
        Part::Refit => "refit",
    };
    let text = format!("netcalc sweep seed\n{sweep_seed}\n{configuration}\n{name}");
    let digest = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first) >> 11
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_follow_the_documented_rule() {
        // `printf 'netcalc sweep seed\n1\n0\nfold-1' | sha256sum` (coreutils) begins
        // 3a697f359e16c9ef; read little-endian that is 0xefc9169e357f693a.
        assert_eq!(
            training_seed(1, 0, Part::Named("fold-1")),
            0xefc9_169e_357f_693a >> 11
        );
    }

    #[test]
    fn every_input_changes_the_seed() {
        let base = training_seed(1, 3, Part::Named("fold-1"));
        assert_ne!(base, training_seed(2, 3, Part::Named("fold-1")));
        assert_ne!(base, training_seed(1, 4, Part::Named("fold-1")));
        assert_ne!(base, training_seed(1, 3, Part::Named("fold-2")));
        assert_ne!(base, training_seed(1, 3, Part::Refit));
        assert_eq!(base, training_seed(1, 3, Part::Named("fold-1")));
        assert!(base < 1 << 53);
    }
}

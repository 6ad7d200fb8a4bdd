//! The largest inputs netcalc reads, so that an absurd one (a 2 GB file, ten million layers) is
//! refused at once with a clear message instead of filling the memory. Both limits are far above
//! any published architecture (GoogLeNet has about 150 layers) and above the largest description
//! netcalc is measured with (200,000 layers; README, "Limits").

use std::io::Read;

/// The most bytes of a description or a hand-written table netcalc reads: 16 MiB. A 200,000-layer
/// description takes 1.8 MB in the DSL and 6 MB in YAML as `convert` writes them.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// The most layers a description may declare: 500,000.
pub const MAX_LAYERS: usize = 500_000;

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Longer than [`MAX_INPUT_BYTES`].
    #[error("it is larger than {} MiB, the most netcalc reads", MAX_INPUT_BYTES >> 20)]
    TooLarge,
    /// The input could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Reads at most [`MAX_INPUT_BYTES`] from a reader, refusing what is longer without reading
/// (or keeping) more than one byte beyond the limit.
pub fn read_limited(reader: impl Read) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_is_read_up_to_the_limit_and_refused_beyond_it() {
        let limit = MAX_INPUT_BYTES as usize;
        assert_eq!(read_limited(&vec![b'a'; limit][..]).unwrap().len(), limit);
        assert!(matches!(
            read_limited(&vec![b'a'; limit + 1][..]),
            Err(ReadError::TooLarge)
        ));
        // An endless reader (as /dev/zero) ends at the limit.
        assert!(matches!(
            read_limited(std::io::repeat(0)),
            Err(ReadError::TooLarge)
        ));
    }
}

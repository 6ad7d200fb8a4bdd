//! `maxpool1d`: max pooling over windows of k steps of each feature of an L×C sequence (Keras
//! `MaxPooling1D`, PyTorch `nn.MaxPool1d`). Counted as `maxpool` counts a window: no parameters,
//! `L_out·C·k` links with and without bias, 0 MACs. The shared arithmetic is in `pooling.rs`.

use super::pooling::{self, Reduction};
use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "maxpool1d",
    aliases: &["max_pooling1d", "max_pool1d"],
    positionals: &["size"],
    summary: "1-D max pooling over L×C sequences: size, stride (default: size), padding, rounding",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    pooling::build(reader, Reduction::Max, 1)
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients_with, run_forward,
    };
    use crate::tensor::Tensor;

    #[test]
    fn counts_match_keras() {
        // Keras: MaxPooling1D(pool_size=2) on (98, 64) gives (None, 49, 64), no parameters.
        check(
            "maxpool1d 2",
            &[&[98, 64]],
            "[49×64]",
            "0",
            "49·64·2 = 6272",
            "49·64·2 = 6272",
        );
        check_details(
            "max_pooling1d 3 stride=2 padding=same",
            &[&[10, 4]],
            "F=3, S=2, P=same",
            [0, 0],
            "0",
            "window 3 stride 2 dilation 1 before 0",
        );
        check_error(
            "maxpool1d 2",
            &[&[8, 8, 1]],
            "expects a sequence L×D (steps × features), got [8×8×1]",
        );
        check_error(
            "maxpool1d 2 padding=2",
            &[&[8, 1]],
            "`padding` must be smaller than the window (2) on each side, got 2",
        );
    }

    #[test]
    fn takes_the_largest_value_of_each_window_of_each_feature() {
        // Two features over 4 steps, windows of 2: feature 0 holds 1, 5, 2, 3 and feature 1
        // holds -1, -4, 6, 0.
        let input =
            Tensor::from_vec(&[1, 4, 2], vec![1.0, -1.0, 5.0, -4.0, 2.0, 6.0, 3.0, 0.0]).unwrap();
        let forward = run_forward("maxpool1d 2", &mut [], &[&input], true);
        assert_eq!(forward.output.shape(), &[1, 2, 2]);
        assert_eq!(forward.output.data(), &[5.0, -1.0, 3.0, 6.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random lengths, windows, strides and
        /// paddings; inputs are distinct so no probe changes a maximum.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            length in 1u64..8,
            channels in 1u64..4,
            size in 1u64..4,
            stride in 1u64..3,
            padding in 0u64..2,
            seed in proptest::num::u64::ANY,
        ) {
            let padding = padding.min(size - 1);
            let line = format!("maxpool1d {size} stride={stride} padding={padding} rounding=floor");
            check_gradients_with(&line, &[&[length.max(size), channels]], 2, Values { seed, distinct: true });
        }
    }
}

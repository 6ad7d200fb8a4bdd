//! `avgpool1d`: average pooling over windows of k steps of each feature of an L×C sequence
//! (Keras `AveragePooling1D`, PyTorch `nn.AvgPool1d`). Counted as `avgpool` counts a window: no
//! parameters, `L_out·C·k` links with and without bias, 0 MACs (the window is added and divided
//! by a constant). Padded steps are not counted in the mean (Keras' `same`). The shared arithmetic
//! is in `pooling.rs`.

use super::pooling::{self, Reduction};
use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "avgpool1d",
    aliases: &["average_pooling1d", "avg_pool1d"],
    positionals: &["size"],
    summary: "1-D average pooling over L×C sequences: size, stride (default: size), padding, rounding",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    pooling::build(reader, Reduction::Average, 1)
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{Values, check, check_gradients_with, run_forward};
    use crate::tensor::Tensor;

    #[test]
    fn counts_match_keras() {
        // Keras: AveragePooling1D(pool_size=4) on (100, 16) gives (None, 25, 16).
        check(
            "avgpool1d 4",
            &[&[100, 16]],
            "[25×16]",
            "0",
            "25·16·4 = 1600",
            "25·16·4 = 1600",
        );
    }

    #[test]
    fn averages_each_window_of_each_feature_without_padded_steps() {
        // 3 steps of one feature, windows of 2 with stride 2 and `same` padding: the last
        // window holds one real step, whose mean is itself.
        let input = Tensor::from_vec(&[1, 3, 1], vec![1.0, 3.0, 5.0]).unwrap();
        let forward = run_forward("avgpool1d 2 padding=same", &mut [], &[&input], true);
        assert_eq!(forward.output.data(), &[2.0, 5.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random lengths, windows and strides.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            length in 1u64..8,
            channels in 1u64..4,
            size in 1u64..4,
            stride in 1u64..3,
            padding in proptest::sample::select(&["valid", "same"][..]),
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!("avgpool1d {size} stride={stride} padding={padding} rounding=floor");
            check_gradients_with(&line, &[&[length.max(size), channels]], 2, Values { seed, distinct: false });
        }
    }
}

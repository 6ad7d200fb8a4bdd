//! `global_avgpool1d` and `global_maxpool1d`: pooling over all steps of a sequence (Keras
//! `GlobalAveragePooling1D` and `GlobalMaxPooling1D`), L×C to C: each feature's mean or maximum
//! over the L steps. No parameters; every output unit is linked to the L units of its feature,
//! L·C connections with and without bias; 0 MACs. Shares `global_pooling.rs`'s code with one
//! position axis.

use super::global_pooling::{GlobalPooling, Reduction};
use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry for global average pooling over steps.
pub const AVERAGE_KIND: Kind = Kind {
    name: "global_avgpool1d",
    aliases: &["global_average_pooling1d"],
    positionals: &[],
    summary: "global average pooling over the steps: the mean of each feature, L×C to C",
    build: build_average,
};

/// The catalogue entry for global max pooling over steps.
pub const MAX_KIND: Kind = Kind {
    name: "global_maxpool1d",
    aliases: &["global_max_pooling1d"],
    positionals: &[],
    summary: "global max pooling over the steps: the largest value of each feature, L×C to C",
    build: build_max,
};

fn build_average(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(GlobalPooling {
        reduction: Reduction::Average,
        axes: 1,
    }))
}

fn build_max(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(GlobalPooling {
        reduction: Reduction::Max,
        axes: 1,
    }))
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients_with, run_forward,
    };
    use crate::tensor::Tensor;

    #[test]
    fn sequences_become_a_vector_of_features() {
        // Keras: GlobalAveragePooling1D on (98, 64) gives (None, 64), no parameters.
        check(
            "global_avgpool1d",
            &[&[98, 64]],
            "64",
            "0",
            "98·64 = 6272",
            "98·64 = 6272",
        );
        check_details(
            "global_max_pooling1d",
            &[&[5, 3]],
            "maximum of each feature",
            [0, 0],
            "0",
            "whole",
        );
        check_error(
            "global_avgpool1d",
            &[&[4, 4, 2]],
            "expects a sequence L×D (steps × features), got [4×4×2]",
        );
    }

    #[test]
    fn pools_each_feature_over_the_steps() {
        let input = Tensor::from_vec(&[1, 3, 2], vec![1.0, -2.0, 4.0, 0.0, 7.0, -1.0]).unwrap();
        let mean = run_forward("global_avgpool1d", &mut [], &[&input], false);
        assert_eq!(mean.output.data(), &[4.0, -1.0]);
        let largest = run_forward("global_maxpool1d", &mut [], &[&input], false);
        assert_eq!(largest.output.data(), &[7.0, 0.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random sequences (distinct inputs, so no
        /// probe changes a maximum).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            kind in proptest::sample::select(&["global_avgpool1d", "global_maxpool1d"][..]),
            sequence in crate::layers::testing::small_sequences(),
            seed in proptest::num::u64::ANY,
        ) {
            check_gradients_with(kind, &[sequence.as_slice()], 2, Values { seed, distinct: true });
        }
    }
}

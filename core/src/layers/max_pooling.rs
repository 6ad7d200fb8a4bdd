//! `maxpool`: max pooling over k_h×k_w windows of each map (Keras `MaxPooling2D`, the sheet's
//! `MAXPOOL`). No parameters; the connections are LeCun's count of links, `out_h·out_w·C·k_h·k_w`,
//! equal with and without bias since there is no bias; MACs are 0 because the layer compares
//! values instead of multiplying them. The shared arithmetic is in `pooling.rs`.

use super::pooling::{self, Reduction};
use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "maxpool",
    aliases: &["max_pool", "maxpool2d", "max_pooling2d"],
    positionals: &["size"],
    summary: "max pooling: size, stride (default: size), padding, rounding",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    pooling::build(reader, Reduction::Max, 2)
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// Backward agrees with finite differences on random small shapes, strides and paddings;
        /// the inputs are distinct and ε is below their spacing, so no probe changes a maximum.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (height, width, channels, size, stride, padding) in crate::layers::testing::window_cases(),
            seed in proptest::num::u64::ANY,
        ) {
            let padding = padding.min(size - 1);
            let line = format!("maxpool {size} stride={stride} padding={padding} rounding=floor");
            let values = crate::layers::testing::Values { seed, distinct: true };
            crate::layers::testing::check_gradients_with(
                &line,
                &[&[height.max(size), width.max(size), channels]],
                2,
                values,
            );
        }
    }

    use crate::layers::testing::{
        check, check_details, check_error, check_gradients, output_under, run_forward,
    };
    use crate::shape::Rounding;
    use crate::tensor::Tensor;

    #[test]
    fn alexnet_and_keras_rows_match_the_sheet() {
        // Exercise 4c: MAXPOOL1 (55-3)/2+1 = 27, MAXPOOL2 (27-3)/2+1 = 13, MAXPOOL3 (13-3)/2+1 = 6.
        check(
            "maxpool 3 stride=2",
            &[&[55, 55, 96]],
            "[27×27×96]",
            "0",
            "27·27·96·3·3 = 629856",
            "27·27·96·3·3 = 629856",
        );
        check(
            "max_pool 3 stride=2",
            &[&[27, 27, 256]],
            "[13×13×256]",
            "0",
            "13·13·256·3·3 = 389376",
            "13·13·256·3·3 = 389376",
        );
        check(
            "maxpool2d size=3 stride=2",
            &[&[13, 13, 256]],
            "[6×6×256]",
            "0",
            "6·6·256·3·3 = 82944",
            "6·6·256·3·3 = 82944",
        );
        // Exercise 3b: Keras MaxPooling2D(pool_size=(2, 2)), the stride defaults to the size.
        check(
            "max_pooling2d 2",
            &[&[24, 24, 64]],
            "[12×12×64]",
            "0",
            "12·12·64·2·2 = 36864",
            "12·12·64·2·2 = 36864",
        );
    }

    #[test]
    fn settings_macs_and_receptive_step() {
        check_details(
            "maxpool 3 stride=2",
            &[&[55, 55, 96]],
            "F=3, S=2, P=0",
            [0, 0],
            "0",
            "window 3x3 stride 2x2 dilation 1x1 before 0x0",
        );
        check_details(
            "maxpool 2x3 padding=same",
            &[&[7, 7, 4]],
            "F=2x3, S=2x3, P=same",
            [0, 0],
            "0",
            "window 2x3 stride 2x3 dilation 1x1 before 0x1",
        );
    }

    #[test]
    fn rounding_of_sizes_that_do_not_divide() {
        // Keras floors: MaxPooling2D(2) on 3×3 gives 1×1; the exact rule refuses 1.5.
        check(
            "maxpool 2 rounding=floor",
            &[&[3, 3, 64]],
            "[1×1×64]",
            "0",
            "64·2·2 = 256",
            "64·2·2 = 256",
        );
        check_error(
            "maxpool 2",
            &[&[3, 3, 64]],
            "the output height `(3-2)/2+1 = 1.5` is not a whole number",
        );
        // ResNet's stem as PyTorch computes it: MaxPool2d(3, stride 2, padding 1) on 112×112
        // gives ⌊(112-3+2)/2+1⌋ = 56.
        check(
            "maxpool 3 stride=2 padding=1 rounding=floor",
            &[&[112, 112, 64]],
            "[56×56×64]",
            "0",
            "56·56·64·3·3 = 1806336",
            "56·56·64·3·3 = 1806336",
        );
        let floor = output_under("maxpool 2", &[&[3, 3, 64]], Rounding::Floor);
        assert_eq!(floor.as_deref(), Ok("[1×1×64]"));
        // Caffe rounds pooling sizes up; the layer's own rule wins over the network's.
        let ceil = output_under("maxpool 2 rounding=ceil", &[&[3, 3, 64]], Rounding::Floor);
        assert_eq!(ceil.as_deref(), Ok("[2×2×64]"));
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        check_error(
            "maxpool 0",
            &[&[4, 4, 1]],
            "`size` must be a positive integer or HxW, got 0",
        );
        check_error(
            "maxpool 2 stride=0",
            &[&[4, 4, 1]],
            "`stride` must be a positive integer or HxW, got 0",
        );
        check_error(
            "maxpool 2 padding=full",
            &[&[4, 4, 1]],
            "`padding` must be `valid`, `same`, an integer ≥ 0 or HxW, got `full`",
        );
        check_error(
            "maxpool 2x3 padding=2",
            &[&[4, 4, 1]],
            "`padding` must be smaller than the window (2x3) on each side, got 2",
        );
        check_error(
            "maxpool 2 rounding=up",
            &[&[4, 4, 1]],
            "`rounding` must be one of exact, floor, ceil, got `up`",
        );
        check_error(
            "maxpool stride=2",
            &[&[4, 4, 1]],
            "`maxpool` needs the attribute `size`",
        );
        check_error(
            "maxpool 2 dilation=2",
            &[&[4, 4, 1]],
            "`maxpool` has no attribute `dilation`",
        );
        check_error(
            "maxpool 5",
            &[&[4, 4, 1]],
            "the height of the window (5) is larger than the padded input (4)",
        );
        check_error(
            "maxpool 2",
            &[&[784]],
            "expects feature maps H×W×C, got 784",
        );
        check_error(
            "maxpool 2",
            &[&[4, 4, 1], &[4, 4, 1]],
            "takes exactly one input, got 2",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("maxpool 2", &[&[4, 4, 2]], 2);
        check_gradients("maxpool 3 stride=2", &[&[7, 7, 2]], 2);
        check_gradients("maxpool 2x3 stride=1x2", &[&[4, 7, 2]], 2);
        // Padding: explicit (rounded down, ⌊(6-3+2)/2+1⌋ = 3) and `same` (⌈5/2⌉ = 3).
        check_gradients("maxpool 3 stride=2 padding=1", &[&[6, 6, 2]], 2);
        check_gradients("maxpool 2 padding=same", &[&[5, 5, 2]], 2);
        // Sizes that do not divide: floor drops the last column, ceil keeps a partial window.
        check_gradients("maxpool 2", &[&[5, 5, 2]], 2);
        check_gradients("maxpool 2 rounding=ceil", &[&[5, 5, 2]], 2);
    }

    #[test]
    fn rounding_up_keeps_the_partial_windows() {
        // [1 2 3; 4 5 6; 7 8 9] in 2×2 windows rounded up: the last row and column form windows
        // of their own.
        let input = Tensor::from_vec(&[1, 3, 3, 1], (1..=9).map(|v| v as f32).collect()).unwrap();
        let output = run_forward("maxpool 2 rounding=ceil", &mut [], &[&input], false).output;
        assert_eq!(output.shape(), &[1, 2, 2, 1]);
        assert_eq!(output.data(), &[5.0, 6.0, 8.0, 9.0]);
        let output = run_forward("maxpool 2", &mut [], &[&input], false).output;
        assert_eq!(output.data(), &[5.0]);
    }
}

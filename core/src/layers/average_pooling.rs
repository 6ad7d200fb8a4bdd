//! `avgpool`: average pooling over k_h×k_w windows of each map (Keras `AveragePooling2D`). Counted
//! like `maxpool`: no parameters, `out_h·out_w·C·k_h·k_w` links with and without bias (there is no
//! bias), and 0 MACs: the layer adds the window and divides by a constant, it has no weights to
//! multiply. LeCun's trainable subsampling is the separate kind `subsample`.

use super::pooling::{self, Reduction};
use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "avgpool",
    aliases: &["avg_pool", "average_pooling2d", "avgpool2d"],
    positionals: &["size"],
    summary: "average pooling: size, stride (default: size), padding, rounding",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    pooling::build(reader, Reduction::Average, 2)
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes, strides and paddings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (height, width, channels, size, stride, padding) in crate::layers::testing::window_cases(),
        ) {
            // Pooling padding must stay below the window on each side.
            let padding = padding.min(size - 1);
            let line = format!("avgpool {size} stride={stride} padding={padding} rounding=floor");
            crate::layers::testing::check_gradients(&line, &[&[height.max(size), width.max(size), channels]], 2);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn counts_like_max_pooling() {
        // LeNet-5's S2 geometry without the trainable coefficient: 14·14·6·2·2 = 4704 links.
        check(
            "avgpool 2",
            &[&[28, 28, 6]],
            "[14×14×6]",
            "0",
            "14·14·6·2·2 = 4704",
            "14·14·6·2·2 = 4704",
        );
        check(
            "average_pooling2d 3 stride=1 padding=1",
            &[&[5, 5, 2]],
            "[5×5×2]",
            "0",
            "5·5·2·3·3 = 450",
            "5·5·2·3·3 = 450",
        );
        check_details(
            "avg_pool 2",
            &[&[28, 28, 6]],
            "F=2, S=2, P=0",
            [0, 0],
            "0",
            "window 2x2 stride 2x2 dilation 1x1 before 0x0",
        );
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        check_error(
            "avgpool2d 2x0",
            &[&[4, 4, 1]],
            "`size` must be a positive integer or HxW, got 2x0",
        );
        check_error(
            "avgpool 3",
            &[&[8, 8, 1]],
            "the output height `(8-3)/3+1 = 2.6666` is not a whole number",
        );
        check_error("avgpool 2", &[], "takes exactly one input, got 0");
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("avgpool 2", &[&[4, 4, 3]], 2);
        check_gradients("avgpool 3 stride=1", &[&[5, 5, 2]], 2);
        check_gradients("avgpool 3x2 stride=2x1", &[&[7, 4, 2]], 2);
        // Padded cells are left out of the mean.
        check_gradients("avgpool 3 stride=2 padding=1", &[&[6, 6, 2]], 2);
        check_gradients("avgpool 2 padding=same", &[&[5, 5, 2]], 2);
        check_gradients("avgpool 2", &[&[5, 5, 2]], 2);
        check_gradients("avgpool 2 rounding=ceil", &[&[5, 5, 2]], 2);
    }
}

//! `conv1d`: 1-D convolution over L×C sequences (Keras `Conv1D`, PyTorch `nn.Conv1d`), with
//! stride, padding (`valid`, `same`, `causal` as in Keras, or a number of steps on each side),
//! dilation and groups. Counted as `conv2d` counts a window: `k·C/groups·filters` weights plus
//! one bias per filter, `L_out·filters·k·C/groups` connections without bias, as many MACs. It
//! shares `conv2d.rs`'s code with a window over one axis, and runs the 2-D kernels on the
//! sequence as maps one row high.

use super::{AttributeReader, DeclarationError, Kind, Layer};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "conv1d",
    aliases: &["convolution1d"],
    positionals: &["filters", "kernel"],
    summary: "1-D convolution over L×C sequences: filters, kernel, stride, padding (valid, same, causal), dilation, groups, use_bias, activation",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    super::conv2d::build_over(reader, 1)
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients, check_gradients_with,
        output_under,
    };
    use crate::shape::Rounding;

    #[test]
    fn counts_match_keras() {
        // Keras: Conv1D(64, 3) on (100, 16) outputs (None, 98, 64) with 3·16·64+64 = 3,136
        // parameters.
        check(
            "conv1d 64 3",
            &[&[100, 16]],
            "[98×64]",
            "3·16·64+64 = 3136",
            "98·64·3·16 = 301056",
            "98·64·(3·16+1) = 307328",
        );
        // Conv1D(32, 5, strides=2, padding='same') on (50, 8): ⌈50/2⌉ = 25 steps.
        check(
            "conv1d 32 5 stride=2 padding=same",
            &[&[50, 8]],
            "[25×32]",
            "5·8·32+32 = 1312",
            "25·32·5·8 = 32000",
            "25·32·(5·8+1) = 32800",
        );
        // Conv1D(16, 3, dilation_rate=2, padding='causal') keeps the length: 2·(3-1) = 4 steps
        // of padding before the first.
        check_details(
            "conv1d 16 3 dilation=2 padding=causal",
            &[&[20, 4]],
            "F=3, K=16, S=1, P=causal, D=2",
            [3 * 4 * 16 + 16, 0],
            "20·16·3·4 = 3840",
            "window 3 stride 1 dilation 2 before 4",
        );
        assert_eq!(
            output_under(
                "conv1d 16 3 dilation=2 padding=causal",
                &[&[20, 4]],
                Rounding::Exact
            ),
            Ok("[20×16]".to_string())
        );
        // Depthwise: groups = channels (Conv1D(8, 3, groups=8)): 3·1·8+8 = 32.
        check(
            "conv1d 8 3 groups=8 use_bias=false",
            &[&[10, 8]],
            "[8×8]",
            "3·1·8 = 24",
            "8·8·3 = 192",
            "8·8·3 = 192",
        );
    }

    #[test]
    fn bad_inputs_and_settings_are_errors() {
        check_error(
            "conv1d 4 3",
            &[&[28, 28, 1]],
            "expects a sequence L×D (steps × features), got [28×28×1]",
        );
        check_error(
            "conv1d 4 3x3",
            &[&[28, 28]],
            "`kernel` must be a positive integer, got 3x3",
        );
        check_error(
            "conv1d 4 5",
            &[&[4, 2]],
            "the length of the window (5) is larger than the padded input (4)",
        );
        check_error(
            "conv1d 4 2 stride=2",
            &[&[5, 2]],
            "the output length `(5-2)/2+1 = 2.5` is not a whole number",
        );
        check_error(
            "conv1d 4 3 padding=causal stride=2 groups=3",
            &[&[6, 2]],
            "groups=3 must divide both the input channels (2) and the filters (4)",
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("conv1d 3 2", &[&[5, 2]], 2);
        check_gradients(
            "conv1d 2 3 padding=causal dilation=2 activation=tanh",
            &[&[6, 3]],
            2,
        );
        check_gradients("conv1d 4 3 stride=2 padding=same groups=2", &[&[7, 2]], 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random lengths, channels, kernels,
        /// strides, paddings, dilations and groups.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            length in 1u64..7,
            channels in 1u64..4,
            kernel in 1u64..4,
            stride in 1u64..3,
            dilation in 1u64..3,
            padding in proptest::sample::select(&["valid", "same", "causal", "1"][..]),
            grouped in proptest::bool::ANY,
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let groups = if grouped { channels } else { 1 };
            let span = dilation * (kernel - 1) + 1;
            let line = format!(
                "conv1d {} {kernel} stride={stride} padding={padding} dilation={dilation} groups={groups} use_bias={use_bias} rounding=floor",
                2 * groups
            );
            check_gradients_with(&line, &[&[length.max(span), channels]], 2, Values { seed, distinct: false });
        }
    }
}

//! `lrn`: AlexNet's local response normalisation across channels (Krizhevsky et al. 2012,
//! section 3.3; the sheet's `NORM` rows): b = a / (bias + alpha/size·Σ a²)^beta, the sum running
//! over `size` neighbouring channels at the same place (cut off at the first and last channel).
//! Defaults are AlexNet's: size 5, alpha 1e-4, beta 0.75, bias 2. `alpha` is divided by `size` as
//! Caffe (whose AlexNet model uses these constants) and PyTorch do; the paper and TensorFlow
//! write the sum's factor without the division, so the paper's α = 1e-4 is `alpha=5e-4` here. No parameters (the sheet's NORM rows have 0). Connections count the links a
//! unit reads, `units·size`, with and without bias (there is no bias); windows at the first and
//! last channels are counted whole, as `conv2d` counts padded positions. MACs are 0: the layer
//! squares, sums and divides, it has no weights to multiply. Receptive fields are spatial, and the
//! channel window does not widen them, so the step is pointwise. Execution runs the LRN kernels of
//! `crate::tensor::normalization` on the channel axis.

use super::sizes::one;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single, single_maps,
    units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::Value;
use crate::tensor::normalization::{LrnSettings, lrn_backward, lrn_forward};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "lrn",
    aliases: &["norm", "local_response_normalization"],
    positionals: &[],
    summary: "local response normalisation across channels: size, alpha, beta, bias (AlexNet)",
    build,
};

/// AlexNet's constants (section 3.3): k = 2, n = 5, α = 1e-4, β = 0.75.
const DEFAULT_SIZE: u64 = 5;
const DEFAULT_ALPHA: f64 = 1e-4;
const DEFAULT_BETA: f64 = 0.75;
const DEFAULT_BIAS: f64 = 2.0;

#[derive(Debug)]
struct LocalResponseNormalization {
    /// Channels in the sum, odd so that the window is centred.
    size: u64,
    /// Scale of the sum of squares, ≥ 0.
    alpha: f64,
    /// Exponent, ≥ 0.
    beta: f64,
    /// Added before the power, > 0 so that the divisor is never 0.
    bias: f64,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let size = match reader.value("size") {
        None => DEFAULT_SIZE,
        Some(value) => match value.value {
            Value::Integer(n) if n > 0 && n % 2 == 1 => n as u64,
            _ => return Err(reader.invalid("size", value, "must be an odd positive integer")),
        },
    };
    let alpha = reader
        .number_where("alpha", "must be a number ≥ 0", |x| x >= 0.0)?
        .unwrap_or(DEFAULT_ALPHA);
    let beta = reader
        .number_where("beta", "must be a number ≥ 0", |x| x >= 0.0)?
        .unwrap_or(DEFAULT_BETA);
    let bias = reader
        .number_where("bias", "must be a number > 0", |x| x > 0.0)?
        .unwrap_or(DEFAULT_BIAS);
    Ok(Box::new(LocalResponseNormalization {
        size,
        alpha,
        beta,
        bias,
    }))
}

impl Layer for LocalResponseNormalization {
    fn settings(&self) -> String {
        let mut text = format!("size={}", self.size);
        for (name, value, default) in [
            ("alpha", self.alpha, DEFAULT_ALPHA),
            ("beta", self.beta, DEFAULT_BETA),
            ("bias", self.bias, DEFAULT_BIAS),
        ] {
            if value != default {
                text.push_str(&format!(", {name}={value}"));
            }
        }
        text
    }

    fn caption(&self) -> super::Caption {
        super::Caption::text(format!("size {}", self.size))
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (_, _, channels) = single_maps(inputs)?;
        let input = single(inputs)?;
        if self.size > channels {
            return Err(ShapeError::Mismatch(format!(
                "size={} is more than the input's {channels} channels",
                self.size
            )));
        }
        if input
            .units()
            .and_then(|units| units.checked_mul(self.size))
            .is_none()
        {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference::plain(input.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let links = Expression::product(vec![units_formula(output), Expression::Number(self.size)]);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }

    fn parameter_specs(&self, _: &[Shape]) -> Vec<ParameterSpec> {
        Vec::new()
    }

    fn forward(
        &self,
        _: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let channels = input.nhwc()?.channels;
        let mut output = Tensor::zeros(input.shape())?;
        lrn_forward(
            &self.kernel_settings()?,
            channels,
            input.data(),
            output.data_mut(),
            pass.compute,
        )?;
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let channels = input.nhwc()?.channels;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        lrn_backward(
            &self.kernel_settings()?,
            channels,
            input.data(),
            output_gradient.data(),
            input_gradient.data_mut(),
            compute,
        )?;
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: Vec::new(),
        })
    }
}

impl LocalResponseNormalization {
    /// The constants in the kernel's f32 form.
    fn kernel_settings(&self) -> Result<LrnSettings, TensorError> {
        Ok(LrnSettings {
            size: usize::try_from(self.size)
                .map_err(|_| TensorError::Overflow { what: "LRN window" })?,
            alpha: self.alpha as f32,
            beta: self.beta as f32,
            bias: self.bias as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random maps and settings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (size, channels) in proptest::sample::select(&[1u64, 3, 5][..])
                .prop_flat_map(|size| (proptest::strategy::Just(size), size..size + 3)),
            (height, width) in (1u64..4, 1u64..4),
            alpha in proptest::sample::select(&[0.0001, 0.5, 2.0][..]),
            beta in proptest::sample::select(&[0.5, 0.75, 1.5][..]),
            bias in proptest::sample::select(&[0.5, 1.0, 2.0][..]),
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("lrn size={size} alpha={alpha} beta={beta} bias={bias}");
            crate::layers::testing::check_gradients_with(&line, &[&[height, width, channels]], batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients, run_forward};
    use crate::tensor::Tensor;

    #[test]
    fn alexnet_norm_rows_keep_the_shape() {
        // Exercise 4c: NORM on [27×27×96] and NORM2 on [13×13×256], 0 parameters.
        check(
            "lrn",
            &[&[27, 27, 96]],
            "[27×27×96]",
            "0",
            "27·27·96·5 = 349920",
            "27·27·96·5 = 349920",
        );
        check(
            "norm size=3",
            &[&[13, 13, 256]],
            "[13×13×256]",
            "0",
            "13·13·256·3 = 129792",
            "13·13·256·3 = 129792",
        );
        check_details("norm", &[&[27, 27, 96]], "size=5", [0, 0], "0", "pointwise");
        check_details(
            "local_response_normalization alpha=2e-4 beta=1 bias=1",
            &[&[4, 4, 8]],
            "size=5, alpha=0.0002, beta=1, bias=1",
            [0, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        for (line, message) in [
            (
                "lrn size=4",
                "`size` must be an odd positive integer, got 4",
            ),
            (
                "lrn size=0",
                "`size` must be an odd positive integer, got 0",
            ),
            (
                "lrn size=5x5",
                "`size` must be an odd positive integer, got 5x5",
            ),
            ("lrn alpha=-1", "`alpha` must be a number ≥ 0, got -1"),
            ("lrn beta=fast", "`beta` must be a number ≥ 0, got `fast`"),
            ("lrn bias=0", "`bias` must be a number > 0, got 0"),
            ("lrn depth=5", "`lrn` has no attribute `depth`"),
        ] {
            check_error(line, &[&[4, 4, 8]], message);
        }
        check_error(
            "lrn size=9",
            &[&[4, 4, 8]],
            "size=9 is more than the input's 8 channels",
        );
        check_error("lrn", &[&[4096]], "expects feature maps H×W×C, got 4096");
    }

    #[test]
    fn backward_matches_finite_differences() {
        // AlexNet's constants barely change the input; larger ones test the cross-channel terms.
        check_gradients("lrn", &[&[2, 2, 6]], 2);
        check_gradients("lrn size=3 alpha=3 beta=0.75 bias=1", &[&[2, 2, 4]], 2);
        check_gradients("norm size=5 alpha=5 beta=1.5 bias=0.5", &[&[1, 3, 5]], 2);
        check_gradients("lrn size=1 alpha=2 beta=0.5", &[&[3, 1, 2]], 2);
    }

    #[test]
    fn alpha_is_divided_by_the_size() {
        // One pixel with channels (1, 2, 3), size 3, alpha 3, beta 1, bias 1: the middle channel
        // divides by 1 + 3/3·(1 + 4 + 9) = 15, the first by 1 + (1 + 4) = 6, the last by 14.
        let input = Tensor::from_vec(&[1, 1, 1, 3], vec![1.0, 2.0, 3.0]).unwrap();
        let line = "lrn size=3 alpha=3 beta=1 bias=1";
        let output = run_forward(line, &mut [], &[&input], true).output;
        let expected = [1.0 / 6.0, 2.0 / 15.0, 3.0 / 14.0];
        for (value, want) in output.data().iter().zip(expected) {
            assert!((value - want).abs() < 1e-6, "{value} instead of {want}");
        }
    }
}

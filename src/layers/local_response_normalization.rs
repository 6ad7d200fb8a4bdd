//! `lrn`: AlexNet's local response normalisation across channels (Krizhevsky et al. 2012,
//! section 3.3; the sheet's `NORM` rows): b = a / (bias + alpha·Σ a²)^beta, the sum running over
//! `size` neighbouring channels at the same place. Defaults are AlexNet's: size 5, alpha 1e-4,
//! beta 0.75, bias 2. No parameters (the sheet's NORM rows have 0). Connections count the links a
//! unit reads, `units·size`, with and without bias (there is no bias); windows at the first and
//! last channels are counted whole, as `conv2d` counts padded positions. MACs are 0: the layer
//! squares, sums and divides, it has no weights to multiply. Receptive fields are spatial, and the
//! channel window does not widen them, so the step is pointwise.

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single, single_maps, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::Value;

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
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error};

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
}

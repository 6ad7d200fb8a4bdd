//! `concat`: joins two or more inputs along the last (channel) axis, as Keras `Concatenate()` with
//! its default axis -1 and GoogLeNet's inception outputs do: `[28×28×64]` and `[28×28×32]` give
//! `[28×28×96]`. All other axes must agree. Only the channel axis is supported; `axis=-1` may be
//! written for clarity. It only copies units, so it has no parameters, no connections and no MACs,
//! and each output unit sees one input unit. Execution copies each input's channels into its
//! stretch of every output row (a row being all axes but the last), and the backward pass cuts the
//! output gradient back into the inputs' stretches.

use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::Value;
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "concat",
    aliases: &["concatenate"],
    positionals: &[],
    summary: "joins two or more inputs along the channel (last) axis",
    build,
};

#[derive(Debug)]
struct Concat;

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    if let Some(value) = reader.value("axis")
        && value.value != Value::Integer(-1)
    {
        return Err(reader.invalid(
            "axis",
            value,
            "must be -1: only the last (channel) axis can be concatenated",
        ));
    }
    Ok(Box::new(Concat))
}

impl Layer for Concat {
    fn settings(&self) -> String {
        String::new()
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let [first, rest @ ..] = inputs else {
            return Err(too_few(inputs));
        };
        if rest.is_empty() {
            return Err(too_few(inputs));
        }
        let Some((&first_last, leading)) = first.dims().split_last() else {
            return Err(ShapeError::Rank {
                expected: "at least one axis",
                found: first.clone(),
            });
        };
        let mut channels = first_last;
        for other in rest {
            match other.dims().split_last() {
                Some((&last, other_leading)) if other_leading == leading => {
                    channels = channels.checked_add(last).ok_or_else(|| {
                        ShapeError::Overflow("the concatenated channels".to_string())
                    })?;
                }
                _ => {
                    return Err(ShapeError::Mismatch(format!(
                        "cannot concatenate {first} and {other}: all axes but the last must be equal"
                    )));
                }
            }
        }
        let mut dims = leading.to_vec();
        dims.push(channels);
        let output = Shape::new(dims);
        if output.units().is_none() {
            return Err(ShapeError::Overflow(format!("the size of {output}")));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
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
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let (shape, widths) = joined_shape(inputs)?;
        let channels: usize = widths.iter().sum();
        let mut output = Tensor::zeros(&shape)?;
        let mut start = 0;
        for (input, &width) in inputs.iter().zip(&widths) {
            let rows = output.data_mut().chunks_exact_mut(channels);
            for (row, source) in rows.zip(input.data().chunks_exact(width)) {
                row[start..start + width].copy_from_slice(source);
            }
            start += width;
        }
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let (shape, widths) = joined_shape(inputs)?;
        if output_gradient.shape() != shape.as_slice() {
            return Err(TensorError::Reshape {
                from: output_gradient.shape().to_vec(),
                to: shape,
            });
        }
        let channels: usize = widths.iter().sum();
        let mut gradients = Vec::with_capacity(inputs.len());
        let mut start = 0;
        for (input, &width) in inputs.iter().zip(&widths) {
            let mut gradient = Tensor::zeros(input.shape())?;
            let rows = output_gradient.data().chunks_exact(channels);
            for (target, row) in gradient.data_mut().chunks_exact_mut(width).zip(rows) {
                target.copy_from_slice(&row[start..start + width]);
            }
            start += width;
            gradients.push(gradient);
        }
        Ok(Gradients {
            inputs: gradients,
            parameters: Vec::new(),
        })
    }
}

/// The output shape of joining `inputs` along their last axis, and each input's last extent.
/// Every input needs a non-empty last axis and the same other axes.
fn joined_shape(inputs: &[&Tensor]) -> Result<(Vec<usize>, Vec<usize>), TensorError> {
    let [first, ..] = inputs else {
        return Err(TensorError::Geometry {
            reason: "concat needs at least one input".to_string(),
        });
    };
    let leading = first.shape().split_last().map_or(&[][..], |(_, rest)| rest);
    let mut widths = Vec::with_capacity(inputs.len());
    for input in inputs {
        match input.shape().split_last() {
            Some((&width, rest)) if rest == leading && width > 0 => widths.push(width),
            _ => {
                return Err(TensorError::Geometry {
                    reason: format!(
                        "cannot concatenate {:?} and {:?} along the last axis",
                        first.shape(),
                        input.shape()
                    ),
                });
            }
        }
    }
    let channels = widths
        .iter()
        .try_fold(0usize, |sum, &width| sum.checked_add(width))
        .ok_or(TensorError::Overflow {
            what: "concatenated channels",
        })?;
    let mut shape = leading.to_vec();
    shape.push(channels);
    Ok((shape, widths))
}

fn too_few(inputs: &[Shape]) -> ShapeError {
    ShapeError::InputCount {
        expected: "at least two inputs",
        found: inputs.len(),
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences for 2–4 random inputs: maps joined on their
        /// channels, or vectors joined end to end.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (height, width) in (1u64..4, 1u64..4),
            sizes in proptest::collection::vec(1u64..4, 2..5),
            maps in proptest::bool::ANY,
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            let shapes: Vec<Vec<u64>> = sizes
                .iter()
                .map(|&size| if maps { vec![height, width, size] } else { vec![size] })
                .collect();
            let inputs: Vec<&[u64]> = shapes.iter().map(Vec::as_slice).collect();
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with("concat", &inputs, batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn channels_add_up() {
        // GoogLeNet's inception (3a): 64 + 128 + 32 + 32 maps of 28×28 give [28×28×256].
        check(
            "concat",
            &[&[28, 28, 64], &[28, 28, 128], &[28, 28, 32], &[28, 28, 32]],
            "[28×28×256]",
            "0",
            "0",
            "0",
        );
        check("concatenate axis=-1", &[&[84], &[16]], "100", "0", "0", "0");
        check_details(
            "concat",
            &[&[4, 4, 1], &[4, 4, 2]],
            "",
            [0, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn mismatched_inputs_and_settings_are_errors() {
        check_error(
            "concat",
            &[&[28, 28, 64], &[14, 14, 64]],
            "cannot concatenate [28×28×64] and [14×14×64]: all axes but the last must be equal",
        );
        check_error(
            "concat",
            &[&[28, 28, 64], &[64]],
            "cannot concatenate [28×28×64] and 64: all axes but the last must be equal",
        );
        check_error(
            "concat",
            &[&[28, 28, 64]],
            "takes at least two inputs, got 1",
        );
        check_error("concat", &[], "takes at least two inputs, got 0");
        check_error(
            "concat axis=1",
            &[&[2, 2, 1], &[2, 2, 1]],
            "`axis` must be -1: only the last (channel) axis can be concatenated, got 1",
        );
        check_error(
            "concat",
            &[&[1, u64::MAX], &[1, 1]],
            "the concatenated channels does not fit in 64 bits",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("concat", &[&[3, 3, 2], &[3, 3, 1]], 2);
        check_gradients("concat", &[&[2, 4, 1], &[2, 4, 3], &[2, 4, 2]], 2);
        check_gradients("concatenate axis=-1", &[&[5], &[3]], 3);
    }
}

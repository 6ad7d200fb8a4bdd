//! `concat`: joins two or more inputs along the last (channel) axis, as Keras `Concatenate()` with
//! its default axis -1 and GoogLeNet's inception outputs do: `[28×28×64]` and `[28×28×32]` give
//! `[28×28×96]`. All other axes must agree. Only the channel axis is supported; `axis=-1` may be
//! written for clarity. It only copies units, so it has no parameters, no connections and no MACs,
//! and each output unit sees one input unit.

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::Value;

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

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let [first, rest @ ..] = inputs else {
            return Err(too_few(inputs));
        };
        if rest.is_empty() {
            return Err(too_few(inputs));
        }
        let Some((&first_last, leading)) = first.0.split_last() else {
            return Err(ShapeError::Rank {
                expected: "at least one axis",
                found: first.clone(),
            });
        };
        let mut channels = first_last;
        for other in rest {
            match other.0.split_last() {
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
        let output = Shape(dims);
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
}

fn too_few(inputs: &[Shape]) -> ShapeError {
    ShapeError::InputCount {
        expected: "at least two inputs",
        found: inputs.len(),
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error};

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
}

//! `reshape`: the same values under another shape (Keras `Reshape(target_shape)`, PyTorch's
//! `view` after the batch axis): `[4×4×16]` → `reshape 16x16` → `[16×16]`, the values in the same
//! row-major order. The target must hold as many values as the input. Like `flatten` it only
//! renumbers units: no parameters, no connections, no MACs. Receptive fields pass through when the
//! target has as many position axes as the input; otherwise the positions mean something else
//! (a map's rows become steps) and each output unit is counted as seeing the whole input.

use super::sizes::{one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "reshape",
    aliases: &[],
    positionals: &["target"],
    summary: "the same values under another shape: target (e.g. 16x16, [49, 16]) with as many values",
    build,
};

#[derive(Debug)]
struct Reshape {
    target: Vec<u64>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let target = reader
        .dims("target")?
        .ok_or_else(|| reader.missing("target"))?;
    Ok(Box::new(Reshape { target }))
}

impl Layer for Reshape {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        Shape::new(self.target.clone()).to_string()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        let output = Shape::new(self.target.clone());
        let (Some(have), Some(want)) = (input.units(), output.units()) else {
            return Err(ShapeError::Overflow(format!("the size of {input}")));
        };
        if have != want {
            return Err(ShapeError::Mismatch(format!(
                "cannot reshape {input} ({have} values) to {output} ({want} values)"
            )));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        let target = Shape::new(self.target.clone());
        match inputs {
            [input] if input.positions().len() == target.positions().len() => {
                ReceptiveStep::Pointwise
            }
            _ => ReceptiveStep::Whole,
        }
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
        let input = one(inputs)?;
        let batch = input.shape().first().copied().unwrap_or(0);
        let shape: Vec<usize> = std::iter::once(batch)
            .chain(self.target.iter().map(|&d| d as usize))
            .collect();
        Ok(Forward::plain(input.clone().reshape(&shape)?))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        same_shape("the output gradient", output_gradient, &forward.output)?;
        Ok(Gradients {
            inputs: vec![output_gradient.clone().reshape(input.shape())?],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn values_keep_their_order_under_the_new_shape() {
        // Keras: Reshape((16, 16)) on (None, 4, 4, 16) gives (None, 16, 16), 0 parameters.
        check("reshape 16x16", &[&[4, 4, 16]], "[16×16]", "0", "0", "0");
        check("reshape 2x3x4", &[&[24]], "[2×3×4]", "0", "0", "0");
        check_details(
            "reshape 16x16",
            &[&[4, 4, 16]],
            "[16×16]",
            [0, 0],
            "0",
            "whole",
        );
        check_details(
            "reshape 8x2x16",
            &[&[4, 4, 16]],
            "[8×2×16]",
            [0, 0],
            "0",
            "pointwise",
        );
        check_error(
            "reshape 5x5",
            &[&[4, 4, 16]],
            "cannot reshape [4×4×16] (256 values) to [5×5] (25 values)",
        );
        check_error("reshape", &[&[4]], "`reshape` needs the attribute `target`");
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("reshape 6x4", &[&[3, 2, 4]], 2);
        check_gradients("reshape 2x3", &[&[6]], 3);
    }
}

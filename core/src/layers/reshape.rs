//! `reshape`: the same values under another shape (Keras `Reshape(target_shape)`, PyTorch's
//! `view` after the batch axis): `[4×4×16]` → `reshape 16x16` → `[16×16]`, the values in the same
//! row-major order. The target must hold as many values as the input; one of its sizes may be
//! `-1` (in the list form, `[-1, 16]`), which stands for what the others leave, as in Keras and
//! PyTorch (the table shows the division, `256/16 = 16`). Like `flatten` it only
//! renumbers units: no parameters, no connections, no MACs. Receptive fields pass through when the
//! target has as many position axes as the input; otherwise the positions mean something else
//! (a map's rows become steps) and each output unit is counted as seeing the whole input.

use super::sizes::{one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, DimensionFormula, Forward, Gradients,
    Inference, Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::Value;
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "reshape",
    aliases: &[],
    positionals: &["target"],
    summary: "the same values under another shape: target (e.g. 16x16, [49, 16], [-1, 16]) with as many values",
    build,
};

#[derive(Debug)]
struct Reshape {
    /// The sizes as written; `None` for the one written `-1`.
    target: Vec<Option<u64>>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    // A list with one -1 among positive sizes; anything else is read as a plain shape.
    if let Some(value) = reader.value("target")
        && let Value::List(items) = &value.value
        && items.contains(&Value::Integer(-1))
    {
        let target: Option<Vec<Option<u64>>> = items
            .iter()
            .map(|item| match item {
                Value::Integer(-1) => Some(None),
                Value::Integer(n) if *n > 0 => Some(Some(*n as u64)),
                _ => None,
            })
            .collect();
        return match target {
            Some(target) if target.iter().filter(|size| size.is_none()).count() == 1 => {
                Ok(Box::new(Reshape { target }))
            }
            _ => Err(reader.invalid(
                "target",
                value,
                "must be positive sizes with at most one -1, e.g. [-1, 16]",
            )),
        };
    }
    let target = reader
        .dims("target")?
        .ok_or_else(|| reader.missing("target"))?;
    Ok(Box::new(Reshape {
        target: target.into_iter().map(Some).collect(),
    }))
}

impl Reshape {
    /// The target's sizes for an input of `units` values, with the `-1` worked out, and the
    /// division that gives it (`256/16`); or why there are none, after "cannot reshape … to …".
    fn sizes(&self, units: u64) -> Result<(Vec<u64>, Option<Expression>), String> {
        let known: Vec<u64> = self.target.iter().flatten().copied().collect();
        let Some(product) = known.iter().try_fold(1u64, |a, &b| a.checked_mul(b)) else {
            return Err("the target is too large".to_string());
        };
        if known.len() == self.target.len() {
            return Ok((known, None));
        }
        if !units.is_multiple_of(product) {
            return Err(format!("{units} is not a multiple of {product}"));
        }
        let inferred = units / product;
        let sizes = self
            .target
            .iter()
            .map(|size| size.unwrap_or(inferred))
            .collect();
        let division =
            Expression::quotient(Expression::Number(units), Expression::product_of(&known));
        Ok((sizes, Some(division)))
    }

    /// The target as written, `[-1×16]` for one with a `-1`.
    fn written(&self) -> String {
        let sizes: Vec<String> = self
            .target
            .iter()
            .map(|size| size.map_or("-1".to_string(), |size| size.to_string()))
            .collect();
        format!("[{}]", sizes.join("×"))
    }
}

impl Layer for Reshape {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        self.written()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        let Some(have) = input.units() else {
            return Err(ShapeError::Overflow(format!("the size of {input}")));
        };
        let (sizes, division) = self.sizes(have).map_err(|reason| {
            ShapeError::Mismatch(format!(
                "cannot reshape {input} ({have} values) to {}: {reason}",
                self.written()
            ))
        })?;
        let output = Shape::new(sizes);
        let Some(want) = output.units() else {
            return Err(ShapeError::Overflow(format!("the size of {output}")));
        };
        if have != want {
            return Err(ShapeError::Mismatch(format!(
                "cannot reshape {input} ({have} values) to {output} ({want} values)"
            )));
        }
        let Some(division) = division else {
            return Ok(Inference::plain(output));
        };
        let exact = division
            .ratio()
            .ok_or_else(|| ShapeError::Overflow(format!("the size of {input}")))?;
        let value = self
            .target
            .iter()
            .zip(output.dims())
            .find(|(size, _)| size.is_none());
        let value = value.map_or(0, |(_, &size)| size);
        Ok(Inference {
            output,
            formulas: vec![DimensionFormula {
                axis: "-1",
                expression: division,
                exact,
                value,
                rounded: None,
            }],
        })
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        // The positions are every axis but the last, whatever their sizes.
        let target_positions = self.target.len().saturating_sub(1);
        match inputs {
            [input] if input.positions().len() == target_positions => ReceptiveStep::Pointwise,
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
        let units = input.shape().iter().skip(1).product::<usize>() as u64;
        let (sizes, _) = self.sizes(units).map_err(|reason| TensorError::Geometry {
            reason: format!(
                "cannot reshape {units} values to {}: {reason}",
                self.written()
            ),
        })?;
        let shape: Vec<usize> = std::iter::once(batch)
            .chain(sizes.iter().map(|&d| d as usize))
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
    fn minus_one_stands_for_what_the_other_sizes_leave() {
        // Keras 3.15: Reshape((-1, 16)) on (None, 4, 4, 16) gives (None, 16, 16); PyTorch's
        // x.view(batch, -1, 16) the same.
        check("reshape [-1,16]", &[&[4, 4, 16]], "[16×16]", "0", "0", "0");
        check("reshape [2,-1,4]", &[&[24]], "[2×3×4]", "0", "0", "0");
        check_details(
            "reshape [-1,16]",
            &[&[4, 4, 16]],
            "[-1×16]",
            [0, 0],
            "0",
            "whole",
        );
        check_details(
            "reshape [8,-1,16]",
            &[&[4, 4, 16]],
            "[8×-1×16]",
            [0, 0],
            "0",
            "pointwise",
        );
        check_error(
            "reshape [-1,5]",
            &[&[4, 4, 16]],
            "cannot reshape [4×4×16] (256 values) to [-1×5]: 256 is not a multiple of 5",
        );
        check_error(
            "reshape [-1,-1]",
            &[&[4, 4, 16]],
            "`target` must be positive sizes with at most one -1, e.g. [-1, 16], got a list",
        );
        check_gradients("reshape [-1,4]", &[&[3, 2, 4]], 2);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("reshape 6x4", &[&[3, 2, 4]], 2);
        check_gradients("reshape 2x3", &[&[6]], 3);
    }
}

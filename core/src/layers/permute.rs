//! `permute`: the example's axes in another order (Keras `Permute(dims)`, numbered from 1 after
//! the batch axis; PyTorch's `permute` with the batch axis left first). `permute [2, 1]` turns a
//! sequence L×D into D×L. Values are moved, not combined: no parameters, no connections, no
//! MACs. Receptive fields pass through when the order keeps every position axis in place and
//! the channels last; otherwise each output unit is counted as seeing the whole input.

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
    name: "permute",
    aliases: &[],
    positionals: &["dims"],
    summary: "the axes in another order: dims, a list numbering the axes from 1 (Keras' Permute)",
    build,
};

#[derive(Debug)]
struct Permute {
    /// Output axis i is input axis `order[i]` (from 0).
    order: Vec<usize>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let dims = reader.dims("dims")?.ok_or_else(|| reader.missing("dims"))?;
    let mut sorted = dims.clone();
    sorted.sort_unstable();
    if sorted != (1..=dims.len() as u64).collect::<Vec<_>>() {
        let value = reader.value("dims").expect("read above");
        return Err(reader.invalid("dims", value, "must number each axis once, from 1"));
    }
    Ok(Box::new(Permute {
        order: dims.iter().map(|&d| d as usize - 1).collect(),
    }))
}

impl Permute {
    fn identity(&self) -> bool {
        self.order.iter().enumerate().all(|(i, &o)| i == o)
    }
}

impl Layer for Permute {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        let numbers: Vec<String> = self.order.iter().map(|o| (o + 1).to_string()).collect();
        format!("[{}]", numbers.join(", "))
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        if input.rank() != self.order.len() {
            return Err(ShapeError::Mismatch(format!(
                "{} axes are ordered but {input} has {}",
                self.order.len(),
                input.rank()
            )));
        }
        Ok(Inference::plain(Shape::new(
            self.order.iter().map(|&axis| input.dims()[axis]).collect(),
        )))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        if self.identity() {
            ReceptiveStep::Pointwise
        } else {
            ReceptiveStep::Whole
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
        Ok(Forward::plain(permuted(input, &self.order, false)?))
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
        let gradient = permuted(output_gradient, &self.order, true)?;
        same_shape("the input gradient", &gradient, input)?;
        Ok(Gradients {
            inputs: vec![gradient],
            parameters: Vec::new(),
        })
    }
}

/// `tensor` `[batch, …]` with its example axes reordered by `order` (output axis i is input axis
/// order[i]), or, `inverse`, put back from that order.
fn permuted(tensor: &Tensor, order: &[usize], inverse: bool) -> Result<Tensor, TensorError> {
    let shape = tensor.shape();
    if shape.len() != order.len() + 1 {
        return Err(TensorError::Geometry {
            reason: format!("permute expects {} axes after the batch", order.len()),
        });
    }
    // Source axis of each target axis, counting the batch axis as 0.
    let mut source_of: Vec<usize> = std::iter::once(0)
        .chain(order.iter().map(|&o| o + 1))
        .collect();
    if inverse {
        let mut back = vec![0; source_of.len()];
        for (target, &source) in source_of.iter().enumerate() {
            back[source] = target;
        }
        source_of = back;
    }
    let target_shape: Vec<usize> = source_of.iter().map(|&s| shape[s]).collect();
    let mut strides = vec![1usize; shape.len()];
    for axis in (0..shape.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    let mut output = Tensor::zeros(&target_shape)?;
    let mut index = vec![0usize; target_shape.len()];
    for value in output.data_mut().iter_mut() {
        let at: usize = index
            .iter()
            .zip(&source_of)
            .map(|(&i, &s)| i * strides[s])
            .sum();
        *value = tensor.data()[at];
        for axis in (0..index.len()).rev() {
            index[axis] += 1;
            if index[axis] < target_shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error, check_gradients, run_forward};
    use crate::tensor::Tensor;

    #[test]
    fn axes_change_places() {
        // Keras: Permute((2, 1)) on (None, 10, 64) gives (None, 64, 10).
        check("permute 2x1", &[&[10, 64]], "[64×10]", "0", "0", "0");
        check("permute 3x1x2", &[&[4, 5, 6]], "[6×4×5]", "0", "0", "0");
        check_details(
            "permute 1x2",
            &[&[10, 64]],
            "[1, 2]",
            [0, 0],
            "0",
            "pointwise",
        );
        check_error(
            "permute 1x1",
            &[&[2, 2]],
            "`dims` must number each axis once, from 1, got 1x1",
        );
        check_error(
            "permute 2x1",
            &[&[2, 2, 2]],
            "2 axes are ordered but [2×2×2] has 3",
        );
    }

    #[test]
    fn a_transpose_moves_each_value() {
        let input = Tensor::from_vec(&[1, 2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let output = run_forward("permute 2x1", &mut [], &[&input], false).output;
        assert_eq!(output.shape(), &[1, 3, 2]);
        assert_eq!(output.data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("permute 3x1x2", &[&[3, 2, 4]], 2);
        check_gradients("permute 2x1", &[&[2, 5]], 3);
    }
}

//! Sizes for the execution passes: the analysis's u64 extents as tensor extents, and the checks a
//! pass makes on the batches and parameters it is handed.

use crate::shape::Shape;
use crate::tensor::{Tensor, TensorError};

/// A u64 extent as a tensor extent. An extent beyond `usize` (only possible on a 32-bit target)
/// becomes `usize::MAX`, which every allocation then refuses as an overflow.
pub(crate) fn extent(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// The extents of a per-example shape.
pub(crate) fn extents(shape: &Shape) -> Vec<usize> {
    shape.dims().iter().map(|&value| extent(value)).collect()
}

/// The one input of a single-input layer.
pub(crate) fn one<'t>(inputs: &[&'t Tensor]) -> Result<&'t Tensor, TensorError> {
    match inputs {
        [input] => Ok(input),
        _ => Err(TensorError::Geometry {
            reason: format!("expected exactly one input tensor, got {}", inputs.len()),
        }),
    }
}

/// The batch size of a batched tensor (its first extent), and the values per example.
pub(crate) fn batch_and_units(tensor: &Tensor) -> Result<(usize, usize), TensorError> {
    match tensor.shape().split_first() {
        Some((&batch, rest)) => Ok((batch, crate::tensor::element_count(rest)?)),
        None => Err(TensorError::Geometry {
            reason: "a batched tensor needs a batch axis, got a scalar".to_string(),
        }),
    }
}

/// Checks that an output gradient has the shape of the output it belongs to.
pub(crate) fn same_shape(
    what: &'static str,
    tensor: &Tensor,
    like: &Tensor,
) -> Result<(), TensorError> {
    if tensor.shape() == like.shape() {
        Ok(())
    } else {
        Err(TensorError::Geometry {
            reason: format!(
                "{what} has the shape {:?}, expected {:?}",
                tensor.shape(),
                like.shape()
            ),
        })
    }
}

/// The weights and (when the layer has one) the bias among a weighted layer's parameters.
pub(crate) fn split_parameters(
    parameters: &[Tensor],
    use_bias: bool,
) -> Result<(&Tensor, Option<&Tensor>), TensorError> {
    match (parameters, use_bias) {
        ([weights], false) => Ok((weights, None)),
        ([weights, bias], true) => Ok((weights, Some(bias))),
        _ => Err(TensorError::Geometry {
            reason: format!(
                "expected {} parameter tensors, got {}",
                1 + usize::from(use_bias),
                parameters.len()
            ),
        }),
    }
}

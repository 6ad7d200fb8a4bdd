//! What the sliding-window pooling kinds share (`maxpool` in `max_pooling.rs`, `avgpool` in
//! `average_pooling.rs`): a window read with [`WindowSpec`] whose stride defaults to the window
//! (non-overlapping windows), no parameters, and the LeCun/exercise-sheet connection count: every
//! output unit is linked to the k_h·k_w units of its window in its own map, and there is no bias,
//! so the counts without and with bias are equal. Padded positions count as links, as `conv2d`
//! counts them. Pooling compares or adds, it does not multiply-accumulate, so its MACs are 0.
//!
//! Execution runs the kernels of `crate::tensor::pooling` on the batch. [`batch_geometry`] turns
//! the window into a kernel geometry: `same` padding is split with the odd unit after (as Keras),
//! and the output is rounded by the layer's own `rounding`, or else down (as Keras and PyTorch);
//! rounding up (Caffe) widens the padding after the input so that the last, partial window is
//! kept. Padded cells never win a max and are not counted in an average (Keras' `same`).

use super::geometry::{DefaultStride, Padding, WindowSpec};
use super::sizes::one;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::pooling::{
    Pool2dGeometry, average_pool2d_backward, average_pool2d_forward, max_pool2d_backward,
    max_pool2d_forward,
};
use crate::tensor::{self, Compute, Tensor, TensorError};

/// What a pooling window gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// The largest value (`maxpool`).
    Max,
    /// The mean of the real (unpadded) cells (`avgpool`).
    Average,
}

/// A sliding-window pooling layer over H×W×C maps; each map is pooled on its own. Max and
/// average pooling are counted alike; only execution tells them apart.
#[derive(Debug)]
struct Pooling {
    window: WindowSpec,
    reduction: Reduction,
}

/// Reads `size` (required), `stride` (default: `size`), `padding` and `rounding`.
pub(crate) fn build(
    reader: &mut AttributeReader,
    reduction: Reduction,
) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Pooling {
        window: read_window(reader)?,
        reduction,
    }))
}

/// Reads a pooling window and refuses explicit padding as large as the window, which would make
/// windows that hold no input unit at all (PyTorch is stricter and allows at most half a window).
pub(crate) fn read_window(reader: &mut AttributeReader) -> Result<WindowSpec, DeclarationError> {
    let window = WindowSpec::read(reader, "size", DefaultStride::Window, false)?;
    if let Padding::Explicit(padding) = window.padding
        && (padding[0] >= window.kernel[0] || padding[1] >= window.kernel[1])
        && let Some(value) = reader.value("padding")
    {
        let [height, width] = window.kernel;
        let size = if height == width {
            height.to_string()
        } else {
            format!("{height}x{width}")
        };
        let expected = format!("must be smaller than the window ({size}) on each side");
        return Err(reader.invalid("padding", value, &expected));
    }
    Ok(window)
}

impl Pooling {
    /// The links without bias: `out_h·out_w·C·k_h·k_w`, with factors of 1 dropped.
    fn links(&self, output: &Shape) -> Expression {
        let (height, width, channels) = output.maps().unwrap_or((0, 0, 0));
        Expression::product_of(&[
            height,
            width,
            channels,
            self.window.kernel[0],
            self.window.kernel[1],
        ])
        .simplified()
    }
}

impl Layer for Pooling {
    fn settings(&self) -> String {
        self.window.settings()
    }

    fn caption(&self) -> super::Caption {
        super::Caption::text(self.window.caption(true))
    }

    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let ([out_height, out_width], formulas) = self.window.output(height, width, rounding)?;
        let output = Shape(vec![out_height, out_width, channels]);
        let links = output.units().and_then(|units| {
            units
                .checked_mul(self.window.kernel[0])?
                .checked_mul(self.window.kernel[1])
        });
        if links.is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference { output, formulas })
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let links = self.links(output);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        let (height, width, _) = single_maps(inputs).unwrap_or((0, 0, 0));
        self.window.receptive_step(height, width)
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
        let geometry = batch_geometry(&self.window, input)?;
        let mut output = Tensor::zeros(&geometry.output()?.shape())?;
        match self.reduction {
            Reduction::Max => {
                max_pool2d_forward(&geometry, input.data(), output.data_mut(), pass.compute)?
            }
            Reduction::Average => {
                average_pool2d_forward(&geometry, input.data(), output.data_mut(), pass.compute)?
            }
        }
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
        let geometry = batch_geometry(&self.window, input)?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let upstream = output_gradient.data();
        let gradient = input_gradient.data_mut();
        match self.reduction {
            Reduction::Max => {
                max_pool2d_backward(&geometry, input.data(), upstream, gradient, compute)?
            }
            Reduction::Average => average_pool2d_backward(&geometry, upstream, gradient, compute)?,
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: Vec::new(),
        })
    }
}

/// The kernel geometry of `window` on an NHWC batch (see the module notes for padding and
/// rounding). Shared with `subsample`.
pub(crate) fn batch_geometry(
    window: &WindowSpec,
    input: &Tensor,
) -> Result<Pool2dGeometry, TensorError> {
    let size = input.nhwc()?;
    let overflow = || TensorError::Overflow {
        what: "pooling window",
    };
    let wide = |value: usize| u64::try_from(value).map_err(|_| overflow());
    let narrow = |value: u64| usize::try_from(value).map_err(|_| overflow());
    let extents = [wide(size.height)?, wide(size.width)?];
    let ([out_height, out_width], _) = window
        .output(extents[0], extents[1], Rounding::Floor)
        .map_err(|error| TensorError::Geometry {
            reason: error.to_string(),
        })?;
    let outputs = [out_height, out_width];
    let before = window.padding_before(extents[0], extents[1]);
    let mut after = [0u64; 2];
    for axis in 0..2 {
        let total = window.total_padding(axis, extents[axis]);
        // The last window ends at (out-1)·stride + kernel; rounding up may need more padding.
        let reach = outputs[axis]
            .saturating_sub(1)
            .checked_mul(window.stride[axis])
            .and_then(|start| start.checked_add(window.kernel[axis]))
            .ok_or_else(overflow)?;
        let covered = extents[axis].saturating_add(before[axis]);
        after[axis] = (total - before[axis]).max(reach.saturating_sub(covered));
    }
    let geometry =
        Pool2dGeometry::new(size, (narrow(window.kernel[0])?, narrow(window.kernel[1])?))
            .with_stride((narrow(window.stride[0])?, narrow(window.stride[1])?))
            .with_padding(tensor::Padding::new(
                narrow(before[0])?,
                narrow(after[0])?,
                narrow(before[1])?,
                narrow(after[1])?,
            ));
    let output = geometry.output()?;
    if [output.height, output.width] != [narrow(out_height)?, narrow(out_width)?] {
        return Err(TensorError::Geometry {
            reason: format!(
                "the kernel gives {}×{} instead of {out_height}×{out_width}",
                output.height, output.width
            ),
        });
    }
    Ok(geometry)
}

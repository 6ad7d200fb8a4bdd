//! What the sliding-window pooling kinds share (`maxpool` in `max_pooling.rs`, `avgpool` in
//! `average_pooling.rs`, and their 1-D forms over sequences `maxpool1d` and `avgpool1d`): a
//! window read with [`WindowSpec`] whose stride defaults to the window (non-overlapping
//! windows), no parameters, and the LeCun/exercise-sheet connection count: every output unit is
//! linked to the k_h·k_w units of its window in its own map (k units of its feature along the
//! steps of a sequence), and there is no bias,
//! so the counts without and with bias are equal. Padded positions count as links, as `conv2d`
//! counts them. Pooling compares or adds, it does not multiply-accumulate, so its MACs are 0.
//!
//! Execution runs the kernels of `crate::tensor::pooling` on the batch (a sequence `[N, L, C]` as
//! maps `[N, 1, L, C]` of one row, the same values in the same order). [`batch_geometry`] turns
//! the window into a kernel geometry: `same` padding is split with the odd unit after (as Keras),
//! and the output is rounded by the layer's own `rounding`, or else down (as Keras and PyTorch);
//! rounding up (Caffe) widens the padding after the input so that the last, partial window is
//! kept. Padded cells never win a max and are not counted in an average (Keras' `same`).

use super::geometry::{DefaultStride, Padding, WindowSpec, axes_text};
use super::sizes::one;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single_positions,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::pooling::{
    Pool2dGeometry, average_pool2d_backward, average_pool2d_forward, max_pool2d_backward,
    max_pool2d_forward,
};
use crate::tensor::{self, Compute, Nhwc, Tensor, TensorError};

/// What a pooling window gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// The largest value (`maxpool`).
    Max,
    /// The mean of the real (unpadded) cells (`avgpool`).
    Average,
}

/// A sliding-window pooling layer over H×W×C maps (or L×C sequences when its window has one
/// axis); each map is pooled on its own. Max and average pooling are counted alike; only
/// execution tells them apart.
#[derive(Debug)]
struct Pooling {
    window: WindowSpec,
    reduction: Reduction,
}

/// Reads `size` (required), `stride` (default: `size`), `padding` and `rounding` of a window over
/// `axes` position axes (2 for maps, 1 for sequences).
pub(crate) fn build(
    reader: &mut AttributeReader,
    reduction: Reduction,
    axes: usize,
) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Pooling {
        window: read_window(reader, axes)?,
        reduction,
    }))
}

/// Reads a pooling window and refuses explicit padding as large as the window, which would make
/// windows that hold no input unit at all (PyTorch is stricter and allows at most half a window).
pub(crate) fn read_window(
    reader: &mut AttributeReader,
    axes: usize,
) -> Result<WindowSpec, DeclarationError> {
    let window = WindowSpec::read(reader, "size", DefaultStride::Window, false, axes)?;
    if let Padding::Explicit(padding) = window.padding
        && padding
            .iter()
            .zip(window.kernel.iter())
            .any(|(p, k)| p >= k)
        && let Some(value) = reader.value("padding")
    {
        let size = axes_text(window.kernel, "x");
        let expected = format!("must be smaller than the window ({size}) on each side");
        return Err(reader.invalid("padding", value, &expected));
    }
    Ok(window)
}

impl Pooling {
    /// The links without bias: `out_h·out_w·C·k_h·k_w` (`out_l·C·k` on a sequence), with
    /// factors of 1 dropped.
    fn links(&self, output: &Shape) -> Expression {
        let factors: Vec<u64> = output
            .dims()
            .iter()
            .chain(self.window.kernel.iter())
            .copied()
            .collect();
        Expression::product_of(&factors).simplified()
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
        let (positions, channels) = single_positions(inputs, self.window.kernel.len())?;
        let (sizes, formulas) = self.window.output(positions, rounding)?;
        let output = Shape::new(sizes.iter().copied().chain([channels]).collect());
        let links = output.units().and_then(|units| {
            self.window
                .kernel
                .iter()
                .try_fold(units, |links, &k| links.checked_mul(k))
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
        let positions = single_positions(inputs, self.window.kernel.len()).map_or(&[][..], |p| p.0);
        self.window.receptive_step(positions)
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
        let mut output = Tensor::for_overwrite(&batch_shape(&self.window, geometry.output()?))?;
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
        let mut input_gradient = Tensor::for_overwrite(input.shape())?;
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

/// The batch shape of kernel-sized maps for a window layer: NHWC, or `[N, L, C]` when the window
/// has one axis (the kernels' maps are then one row high).
pub(crate) fn batch_shape(window: &WindowSpec, size: Nhwc) -> Vec<usize> {
    if window.kernel.len() == 1 {
        vec![size.batch, size.width, size.channels]
    } else {
        size.shape().to_vec()
    }
}

/// The kernel geometry of `window` on an NHWC batch, or on an `[N, L, C]` batch of sequences for
/// a window over one axis (see the module notes for padding and rounding). Shared with
/// `subsample`.
pub(crate) fn batch_geometry(
    window: &WindowSpec,
    input: &Tensor,
) -> Result<Pool2dGeometry, TensorError> {
    let size = match (window.kernel.len(), input.shape()) {
        (1, &[batch, length, channels]) => Nhwc::new(batch, 1, length, channels),
        _ => input.nhwc()?,
    };
    let overflow = || TensorError::Overflow {
        what: "pooling window",
    };
    let wide = |value: usize| u64::try_from(value).map_err(|_| overflow());
    let narrow = |value: u64| usize::try_from(value).map_err(|_| overflow());
    // The window on the kernels' two axes: a 1-D window is 1 row high.
    let two = |axes: crate::shape::Axes<u64>, one: u64| match *axes {
        [length] => [one, length],
        [height, width, ..] => [height, width],
        [] => [one, one],
    };
    let kernel = two(window.kernel, 1);
    let stride = two(window.stride, 1);
    let extents = [wide(size.height)?, wide(size.width)?];
    let positions = if window.kernel.len() == 1 {
        &extents[1..]
    } else {
        &extents[..]
    };
    let (outputs, _) =
        window
            .output(positions, Rounding::Floor)
            .map_err(|error| TensorError::Geometry {
                reason: error.to_string(),
            })?;
    let outputs = two(outputs, 1);
    let before = two(window.padding_before(positions), 0);
    let mut after = [0u64; 2];
    for axis in 0..2 {
        let total = match (window.kernel.len(), axis) {
            (1, 0) => 0,
            (1, _) => window.total_padding(0, extents[1]),
            _ => window.total_padding(axis, extents[axis]),
        };
        // The last window ends at (out-1)·stride + kernel; rounding up may need more padding.
        let reach = outputs[axis]
            .saturating_sub(1)
            .checked_mul(stride[axis])
            .and_then(|start| start.checked_add(kernel[axis]))
            .ok_or_else(overflow)?;
        let covered = extents[axis].saturating_add(before[axis]);
        after[axis] = (total - before[axis]).max(reach.saturating_sub(covered));
    }
    let geometry = Pool2dGeometry::new(size, (narrow(kernel[0])?, narrow(kernel[1])?))
        .with_stride((narrow(stride[0])?, narrow(stride[1])?))
        .with_padding(tensor::Padding::new(
            narrow(before[0])?,
            narrow(after[0])?,
            narrow(before[1])?,
            narrow(after[1])?,
        ));
    let output = geometry.output()?;
    if [output.height, output.width] != [narrow(outputs[0])?, narrow(outputs[1])?] {
        return Err(TensorError::Geometry {
            reason: format!(
                "the kernel gives {}×{} instead of {}×{}",
                output.height, output.width, outputs[0], outputs[1]
            ),
        });
    }
    Ok(geometry)
}

//! 2-D convolution of NHWC batches with HWIO weights: forward, gradient with respect to the input
//! (backward-data), gradient with respect to the weights (backward-weights) and the bias
//! gradient, for any stride, explicit padding, dilation, groups (depthwise included) and an
//! optional connection mask.
//!
//! # Methods
//!
//! Two methods compute the same values (up to rounding): the direct register tiles below, and
//! im2col + GEMM (`columns`). [`Method::Auto`], the default, picks the tiles for few output
//! channels or few weight rows per group and GEMM otherwise ([`Method::for_shape`]); the
//! tests run every pass by both.
//!
//! # Direct convolution on register tiles
//!
//! No column matrix is built. Output channels are the vector lanes: a register tile holds a few
//! output pixels × up to four vectors of one group's output channels, and for every kernel tap
//! and input channel it broadcasts each pixel's input value and multiplies it into the packed
//! weights of that tap and channel (see `tiles`). So the input is read where it lies (NHWC,
//! channels contiguous), copied only when it needs zero padding, and the products start without
//! packing the large operand.
//!
//! - forward: tiles over the output pixels; the epilogue adds the bias, applies the activation
//!   and stores each tile once.
//! - backward-data: the same tiles over the input pixels, reading the output gradient spread
//!   into a zero buffer (each output pixel at its stride position, a border as wide as the
//!   kernel's reach minus the padding) with the kernel flipped and its channels swapped.
//! - backward-weights: tiles of packed weight rows (tap, input channel) × output channels,
//!   summed over pixels, one pixel after another.
//!
//! When the forward pass applied an activation, the backward kernels take `gradient · f′` from
//! the output as they read the gradient, so no pre-activation gradient array is built.
//!
//! # Work split and reproducibility
//!
//! Forward and backward-data give each thread a contiguous run of pixels; every output value is
//! summed over taps and channels in the same order whatever the split. Backward-weights sums the
//! batch in fixed *image blocks* (at most 16, fewer for very large kernels, set by the batch and
//! the weight count, never by the threads), one partial sum per block, added in block order;
//! threads take blocks, or parts of the weight rows of a block, which does not change any sum's
//! order. So results are the same for every thread count. (The vector instructions do change
//! the last bits: fused multiply-adds round once.) Each thread works through its images in
//! chunks whose (padded) input fits its share of the [`Compute`] workspace.
//!
//! # Connection mask
//!
//! A mask over `(input channel within the group, output channel)`, stored `[I, O]` row-major like
//! the last two axes of the weights (for `groups = 1`, simply `[in_channels, out_channels]`):
//! where it is `false` the weights are taken as zero in forward and backward-data, and their
//! gradient is set to zero (LeNet-5's C3 connection table).

mod columns;
mod tiles;

use super::parallel::{FIXED_PARTS, for_each_part, map_each, map_fixed_parts, split};
use super::pointwise::{Pointwise, load, store, vectors};
use super::simd::{Kernel, Simd, dispatch};
use super::{
    Compute, Instructions, Nhwc, Padding, TensorError, element_count, expect_length, output_extent,
};
use std::borrow::Cow;
use std::ops::Range;
use tiles::{Block, Correlation, Packed, Sweep, WeightSums, correlate, weight_rows};

/// The sizes and options of one 2-D convolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// The input batch.
    pub input: Nhwc,
    /// Output channels (filters), over all groups.
    pub output_channels: usize,
    /// Kernel (height, width).
    pub kernel: (usize, usize),
    /// Steps between output pixels (vertical, horizontal).
    pub stride: (usize, usize),
    /// Zero padding around each input image.
    pub padding: Padding,
    /// Steps between kernel taps (vertical, horizontal); 1 is an ordinary convolution.
    pub dilation: (usize, usize),
    /// Channel groups: input and output channels are cut into this many equal blocks and block
    /// `g` of the output sees only block `g` of the input. `groups = in_channels` is depthwise.
    pub groups: usize,
    /// Which (input channel within the group, output channel) pairs are connected, `[I, O]`
    /// row-major; `None` connects all.
    pub mask: Option<Vec<bool>>,
    /// Which kernels compute it; [`Method::Auto`] picks by the shape.
    pub method: Method,
}

/// Which kernels compute a convolution. Both give the same values up to rounding; they differ
/// in speed, by shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// By the shape: see [`Method::for_shape`].
    #[default]
    Auto,
    /// Direct register tiles (`tiles`).
    Direct,
    /// im2col + GEMM (`columns`).
    Columns,
}

impl Method {
    /// The method `Auto` picks for a convolution with `group_in` input and `group_out` output
    /// channels per group and a `kernel_area`-tap kernel: im2col + GEMM when a group has at
    /// least [`COLUMNS_MINIMUM_OUTPUTS`] output channels and its weight rows
    /// (`kernel_area · group_in`) number at least [`COLUMNS_MINIMUM_DEPTH`]; the direct tiles
    /// otherwise. Measured (bench/README.md, "Choosing the method"): the tiles win on LeNet-5's
    /// C1 (1 → 6 channels, 5×5) and the Keras CNN's first layer (1 → 32, 3×3: depth 9), GEMM on
    /// C3 (6 → 16, depth 150), C5 (16 → 120, depth 400) and the CNN's second layer (32 → 64,
    /// depth 288), where the tiles' 4-vector accumulators spill to the stack.
    pub fn for_shape(group_in: usize, group_out: usize, kernel_area: usize) -> Method {
        if group_out >= COLUMNS_MINIMUM_OUTPUTS
            && kernel_area.saturating_mul(group_in) >= COLUMNS_MINIMUM_DEPTH
        {
            Method::Columns
        } else {
            Method::Direct
        }
    }
}

/// Output channels per group from which [`Method::Auto`] may pick im2col + GEMM: one
/// AVX-512 vector.
pub const COLUMNS_MINIMUM_OUTPUTS: usize = 16;

/// Weight rows per group (`KH·KW·I`) from which [`Method::Auto`] may pick im2col + GEMM. The
/// measured boundary lies between 9 (direct faster) and 150 (GEMM faster); 64 is a choice
/// inside it, not a measured optimum.
pub const COLUMNS_MINIMUM_DEPTH: usize = 64;

/// The checked sizes of one convolution that both methods (the direct tiles here, im2col in
/// `columns.rs`) plan from: the geometry's options and every size derived from them. Each
/// method's `Plan` holds one and adds its own.
#[derive(Debug)]
struct Sizes {
    input: Nhwc,
    output: Nhwc,
    kernel_height: usize,
    kernel_width: usize,
    stride_y: usize,
    stride_x: usize,
    dilation_y: usize,
    dilation_x: usize,
    pad_top: usize,
    pad_bottom: usize,
    pad_left: usize,
    pad_right: usize,
    groups: usize,
    /// Input channels per group (I).
    group_in: usize,
    /// Output channels per group.
    group_out: usize,
    /// Weight rows per group, and columns of im2col's `Col`: KH·KW·I.
    depth: usize,
    pixels_per_image: usize,
    input_per_image: usize,
    output_per_image: usize,
    input_len: usize,
    output_len: usize,
    weight_len: usize,
}

impl Conv2dGeometry {
    /// Checks the geometry (no empty axis, groups that divide both channel counts, a mask of the
    /// right length, sizes that fit) and gives the sizes both methods' plans start from.
    fn sizes(&self) -> Result<Sizes, TensorError> {
        let input = self.input;
        let groups = self.groups;
        let invalid = |reason: String| Err(TensorError::Geometry { reason });
        if input.height == 0 || input.width == 0 || input.channels == 0 {
            return invalid(format!(
                "the input {}×{}×{} has an empty axis",
                input.height, input.width, input.channels
            ));
        }
        if self.output_channels == 0 {
            return invalid("a convolution needs at least one output channel".to_string());
        }
        if groups == 0
            || !input.channels.is_multiple_of(groups)
            || !self.output_channels.is_multiple_of(groups)
        {
            return invalid(format!(
                "{groups} groups do not divide {} input and {} output channels",
                input.channels, self.output_channels
            ));
        }
        let (kernel_height, kernel_width) = self.kernel;
        let (stride_y, stride_x) = self.stride;
        let (dilation_y, dilation_x) = self.dilation;
        let padding = self.padding;
        let height = output_extent(
            input.height,
            kernel_height,
            stride_y,
            dilation_y,
            padding.top,
            padding.bottom,
        )?;
        let width = output_extent(
            input.width,
            kernel_width,
            stride_x,
            dilation_x,
            padding.left,
            padding.right,
        )?;
        let output = Nhwc::new(input.batch, height, width, self.output_channels);
        let group_in = input.channels / groups;
        let group_out = self.output_channels / groups;
        let depth = element_count(&[kernel_height, kernel_width, group_in])?;
        let weight_len = element_count(&[depth, self.output_channels])?;
        if let Some(mask) = &self.mask {
            expect_length(
                "connection mask",
                mask.len(),
                group_in * self.output_channels,
            )?;
        }
        Ok(Sizes {
            input,
            output,
            kernel_height,
            kernel_width,
            stride_y,
            stride_x,
            dilation_y,
            dilation_x,
            pad_top: padding.top,
            pad_bottom: padding.bottom,
            pad_left: padding.left,
            pad_right: padding.right,
            groups,
            group_in,
            group_out,
            depth,
            pixels_per_image: element_count(&[height, width])?,
            input_per_image: element_count(&[input.height, input.width, input.channels])?,
            output_per_image: element_count(&[height, width, self.output_channels])?,
            input_len: input.len()?,
            output_len: output.len()?,
            weight_len,
        })
    }
}

impl Conv2dGeometry {
    /// A convolution with stride 1, no padding, no dilation, one group and no mask.
    pub fn new(input: Nhwc, output_channels: usize, kernel: (usize, usize)) -> Conv2dGeometry {
        Conv2dGeometry {
            input,
            output_channels,
            kernel,
            stride: (1, 1),
            padding: Padding::default(),
            dilation: (1, 1),
            groups: 1,
            mask: None,
            method: Method::Auto,
        }
    }

    /// The same convolution computed by `method`.
    pub fn with_method(self, method: Method) -> Conv2dGeometry {
        Conv2dGeometry { method, ..self }
    }

    /// The same convolution with another stride.
    pub fn with_stride(self, stride: (usize, usize)) -> Conv2dGeometry {
        Conv2dGeometry { stride, ..self }
    }

    /// The same convolution with another padding.
    pub fn with_padding(self, padding: Padding) -> Conv2dGeometry {
        Conv2dGeometry { padding, ..self }
    }

    /// The same convolution with another dilation.
    pub fn with_dilation(self, dilation: (usize, usize)) -> Conv2dGeometry {
        Conv2dGeometry { dilation, ..self }
    }

    /// The same convolution with another group count.
    pub fn with_groups(self, groups: usize) -> Conv2dGeometry {
        Conv2dGeometry { groups, ..self }
    }

    /// The same convolution with a connection mask `[in_channels / groups, output_channels]`.
    pub fn with_mask(self, mask: Vec<bool>) -> Conv2dGeometry {
        Conv2dGeometry {
            mask: Some(mask),
            ..self
        }
    }

    /// The output batch, after checking that the sizes fit together.
    pub fn output(&self) -> Result<Nhwc, TensorError> {
        Ok(Plan::new(self)?.output)
    }

    /// The number of weights, `KH·KW·(in_channels / groups)·output_channels`.
    pub fn weight_len(&self) -> Result<usize, TensorError> {
        Ok(Plan::new(self)?.weight_len)
    }

    /// Multiply-accumulate operations of one forward pass over the whole batch.
    pub fn macs(&self) -> Result<f64, TensorError> {
        let plan = Plan::new(self)?;
        Ok(plan.output_len as f64 * plan.depth as f64)
    }
}
/// Computes `output = function(conv(input, weights) + bias)`. `input` is NHWC as
/// `geometry.input`, `weights` HWIO (`[KH, KW, in_channels / groups, output_channels]`), `bias`
/// one value per output channel, `output` NHWC as [`Conv2dGeometry::output`]; it is overwritten.
/// The bias and the activation are applied as each tile of the output is stored.
pub fn conv2d_forward(
    geometry: &Conv2dGeometry,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    function: Pointwise,
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    expect_length("convolution input", input.len(), plan.input_len)?;
    expect_length("convolution weights", weights.len(), plan.weight_len)?;
    expect_length("convolution output", output.len(), plan.output_len)?;
    if let Some(bias) = bias {
        expect_length("convolution bias", bias.len(), plan.output.channels)?;
    }
    let weights = plan.masked(geometry, weights);
    if plan.method(geometry) == Method::Columns {
        return columns::forward(geometry, input, &weights, bias, function, output, compute);
    }
    dispatch(
        compute.instructions(),
        Forward {
            plan: &plan,
            input,
            weights: &weights,
            bias,
            function,
            output,
            compute,
        },
    );
    Ok(())
}

/// What the backward pass of a convolution reads: the forward input, the weights, and the
/// gradient of the loss with respect to the layer's output. When the forward pass applied an
/// activation, `output` is what it produced and `function` the activation: the kernels then take
/// the gradient with respect to the pre-activation sum, `output_gradient · f′`, from them.
#[derive(Debug, Clone, Copy)]
pub struct ConvBackward<'a> {
    /// The forward pass's input, NHWC.
    pub input: &'a [f32],
    /// The weights, HWIO.
    pub weights: &'a [f32],
    /// ∂loss/∂output, NHWC like the output.
    pub output_gradient: &'a [f32],
    /// The forward pass's output and activation (`None`: no activation).
    pub activation: Option<(&'a [f32], Pointwise)>,
}

/// Where the backward pass of a convolution writes; each target is overwritten.
#[derive(Debug)]
pub struct ConvGradients<'a> {
    /// ∂loss/∂input, NHWC like the input; `None` skips the backward-data pass (a layer reading
    /// the network's input needs none).
    pub input: Option<&'a mut [f32]>,
    /// ∂loss/∂weights, HWIO; masked weights get 0.
    pub weights: &'a mut [f32],
    /// ∂loss/∂bias, one per output channel, when the layer has a bias.
    pub bias: Option<&'a mut [f32]>,
}

/// The backward pass of a convolution: any of the input, weight and bias gradients (see
/// [`ConvBackward`] and [`ConvGradients`]).
pub fn conv2d_backward(
    geometry: &Conv2dGeometry,
    pass: ConvBackward<'_>,
    gradients: ConvGradients<'_>,
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    expect_length("convolution input", pass.input.len(), plan.input_len)?;
    expect_length("convolution weights", pass.weights.len(), plan.weight_len)?;
    expect_length(
        "output gradient",
        pass.output_gradient.len(),
        plan.output_len,
    )?;
    if let Some((output, _)) = pass.activation {
        expect_length("convolution output", output.len(), plan.output_len)?;
    }
    expect_length("weight gradient", gradients.weights.len(), plan.weight_len)?;
    if let Some(input_gradient) = &gradients.input {
        expect_length("input gradient", input_gradient.len(), plan.input_len)?;
    }
    if let Some(bias) = &gradients.bias {
        expect_length("bias gradient", bias.len(), plan.output.channels)?;
    }
    if plan.method(geometry) == Method::Columns {
        columns_backward(geometry, &plan, pass, gradients, compute)?;
        return Ok(());
    }
    let upstream = Upstream {
        gradient: pass.output_gradient,
        activation: pass.activation,
    };
    if let Some(input_gradient) = gradients.input {
        let weights = plan.masked(geometry, pass.weights);
        dispatch(
            compute.instructions(),
            BackwardData {
                plan: &plan,
                upstream,
                weights: &weights,
                input_gradient,
                compute,
            },
        );
    }
    dispatch(
        compute.instructions(),
        BackwardWeights {
            plan: &plan,
            input: pass.input,
            upstream,
            weight_gradient: gradients.weights,
            bias_gradient: gradients.bias,
            compute,
        },
    );
    zero_unconnected(geometry, gradients.weights);
    Ok(())
}

/// Sets the gradient of the weights the mask leaves out to zero.
fn zero_unconnected(geometry: &Conv2dGeometry, weight_gradient: &mut [f32]) {
    if let Some(mask) = &geometry.mask {
        // The mask repeats over the kernel taps: weight index mod (I·O) is its mask index.
        for (weight, &connected) in weight_gradient.iter_mut().zip(mask.iter().cycle()) {
            if !connected {
                *weight = 0.0;
            }
        }
    }
}

/// The backward pass by im2col + GEMM. The pre-activation gradient is taken chunk by chunk,
/// where each product reads it, and the bias gradient is summed with the weight gradient.
fn columns_backward(
    geometry: &Conv2dGeometry,
    plan: &Plan,
    pass: ConvBackward<'_>,
    gradients: ConvGradients<'_>,
    compute: Compute,
) -> Result<(), TensorError> {
    let upstream = Upstream {
        gradient: pass.output_gradient,
        activation: pass.activation,
    }
    .without_identity();
    if let Some(input_gradient) = gradients.input {
        let weights = plan.masked(geometry, pass.weights);
        columns::backward_data(geometry, upstream, &weights, input_gradient, compute)?;
    }
    columns::backward_weights(
        geometry,
        pass.input,
        upstream,
        gradients.weights,
        gradients.bias,
        compute,
    )?;
    zero_unconnected(geometry, gradients.weights);
    Ok(())
}

/// Computes the gradient of the loss with respect to the input, given its gradient with respect
/// to the output (`output_gradient`, NHWC like the output). `input_gradient` is overwritten.
pub fn conv2d_backward_data(
    geometry: &Conv2dGeometry,
    output_gradient: &[f32],
    weights: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    expect_length("output gradient", output_gradient.len(), plan.output_len)?;
    expect_length("convolution weights", weights.len(), plan.weight_len)?;
    expect_length("input gradient", input_gradient.len(), plan.input_len)?;
    let weights = plan.masked(geometry, weights);
    if plan.method(geometry) == Method::Columns {
        return columns::backward_data(
            geometry,
            Upstream::plain(output_gradient),
            &weights,
            input_gradient,
            compute,
        );
    }
    dispatch(
        compute.instructions(),
        BackwardData {
            plan: &plan,
            upstream: Upstream {
                gradient: output_gradient,
                activation: None,
            },
            weights: &weights,
            input_gradient,
            compute,
        },
    );
    Ok(())
}

/// Computes the gradient of the loss with respect to the weights (HWIO), given the forward input
/// and the gradient with respect to the output. `weight_gradient` is overwritten; masked weights
/// get 0.
pub fn conv2d_backward_weights(
    geometry: &Conv2dGeometry,
    input: &[f32],
    output_gradient: &[f32],
    weight_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    let weights = vec![0.0; plan.weight_len];
    conv2d_backward(
        geometry,
        ConvBackward {
            input,
            weights: &weights,
            output_gradient,
            activation: None,
        },
        ConvGradients {
            input: None,
            weights: weight_gradient,
            bias: None,
        },
        compute,
    )
}

/// Computes the gradient of the loss with respect to a bias: the sum of `output_gradient` over
/// every position but the last axis (`channels` values per position). Works for any
/// channels-last tensor (NHWC convolution outputs, `[batch, features]` dense outputs).
/// `bias_gradient` is overwritten. Sums run in f64 over a split of the positions into
/// [`FIXED_PARTS`] parts that does not depend on the thread count, added in order.
pub fn bias_gradient(
    output_gradient: &[f32],
    channels: usize,
    bias_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    expect_length("bias gradient", bias_gradient.len(), channels)?;
    if channels == 0 {
        return Ok(());
    }
    if !output_gradient.len().is_multiple_of(channels) {
        return Err(TensorError::Length {
            what: "output gradient",
            expected: output_gradient.len().div_ceil(channels) * channels,
            actual: output_gradient.len(),
        });
    }
    let positions = output_gradient.len() / channels;
    let partial_sums = map_fixed_parts(positions, FIXED_PARTS, compute.threads(), |range| {
        let mut sums = vec![0.0f64; channels];
        let rows = &output_gradient[range.start * channels..range.end * channels];
        for row in rows.chunks_exact(channels) {
            for (sum, &value) in sums.iter_mut().zip(row) {
                *sum += f64::from(value);
            }
        }
        sums
    });
    let mut totals = vec![0.0f64; channels];
    for sums in partial_sums {
        for (total, sum) in totals.iter_mut().zip(sums) {
            *total += sum;
        }
    }
    for (gradient, total) in bias_gradient.iter_mut().zip(totals) {
        *gradient = total as f32;
    }
    Ok(())
}

/// The most image blocks backward-weights sums separately (then adds in order): enough parts
/// for 16 threads, and a split that depends on the batch, never on the thread count.
const WEIGHT_BLOCKS: usize = 16;

/// The most values the partial weight sums of all image blocks may take together; layers with
/// more weights sum over fewer blocks (and share the work by weight rows instead).
const PARTIAL_BUDGET: usize = 1 << 22;

/// The gradient a backward kernel starts from: ∂loss/∂output, and the forward output and
/// activation to take `· f′` from.
#[derive(Debug, Clone, Copy)]
struct Upstream<'a> {
    gradient: &'a [f32],
    activation: Option<(&'a [f32], Pointwise)>,
}

impl<'a> Upstream<'a> {
    /// The output gradient alone, for an output with no activation to undo.
    fn plain(gradient: &'a [f32]) -> Upstream<'a> {
        Upstream {
            gradient,
            activation: None,
        }
    }

    /// The same, with an identity activation dropped (its gradient is the output gradient).
    fn without_identity(self) -> Upstream<'a> {
        Upstream {
            activation: self
                .activation
                .filter(|&(_, function)| function != Pointwise::Identity),
            ..self
        }
    }

    /// Writes the gradient with respect to the pre-activation sums of the output values
    /// `start .. start + target.len()` into `target`, with the vectors of `instructions`.
    fn pre_activation_into(&self, instructions: Instructions, start: usize, target: &mut [f32]) {
        match self.activation {
            None => target.copy_from_slice(&self.gradient[start..][..target.len()]),
            Some(_) => dispatch(
                instructions,
                PreActivation {
                    upstream: *self,
                    start,
                    target,
                },
            ),
        }
    }
}

/// [`Upstream::pre_activation_into`] inside the vector-instruction functions.
struct PreActivation<'a, 'b> {
    upstream: Upstream<'a>,
    start: usize,
    target: &'b mut [f32],
}

impl Kernel for PreActivation<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        self.upstream.gradient_into(simd, self.start, self.target);
    }
}

impl Upstream<'_> {
    /// Writes the gradient with respect to the pre-activation sums of the output values
    /// `start .. start + target.len()` (plain offsets into the NHWC output) into `target`.
    #[inline(always)]
    fn gradient_into<S: Simd>(&self, simd: S, start: usize, target: &mut [f32]) {
        let count = target.len();
        let gradient = self.gradient[start..start + count].as_ptr();
        let output = self
            .activation
            .map(|(output, function)| (output[start..start + count].as_ptr(), function));
        let target = target.as_mut_ptr();
        for (offset, lanes) in vectors(count, S::LANES) {
            // SAFETY: offset + lanes ≤ count, the length of the three slices above.
            unsafe {
                let mut value = load(simd, gradient.add(offset), lanes);
                if let Some((output, function)) = output {
                    let y = load(simd, output.add(offset), lanes);
                    value = function.gradient_from_output(simd, y, value);
                }
                store(simd, target.add(offset), value, lanes);
            }
        }
    }
}

impl Plan {
    /// The weights with unconnected pairs set to zero (borrowed when there is no mask).
    fn masked<'a>(&self, geometry: &Conv2dGeometry, weights: &'a [f32]) -> Cow<'a, [f32]> {
        match &geometry.mask {
            None => Cow::Borrowed(weights),
            Some(mask) => Cow::Owned(
                weights
                    .iter()
                    .zip(mask.iter().cycle())
                    .map(|(&weight, &connected)| if connected { weight } else { 0.0 })
                    .collect(),
            ),
        }
    }

    fn padded(&self) -> bool {
        self.pad_top + self.pad_bottom + self.pad_left + self.pad_right > 0
    }

    /// The offsets of the kernel taps in the (padded) input, row-major over the kernel.
    fn forward_taps(&self) -> Vec<usize> {
        let row = self.padded_width * self.input.channels;
        let mut taps = Vec::with_capacity(self.kernel_height * self.kernel_width);
        for tap_y in 0..self.kernel_height {
            for tap_x in 0..self.kernel_width {
                taps.push(
                    tap_y * self.dilation_y * row + tap_x * self.dilation_x * self.input.channels,
                );
            }
        }
        taps
    }

    /// How output pixels map onto the (padded) input.
    fn forward_sweep(&self) -> Sweep {
        Sweep {
            image_len: if self.padded() {
                self.padded_per_image
            } else {
                self.input_per_image
            },
            row_step: self.stride_y * self.padded_width * self.input.channels,
            pixel_step: self.stride_x * self.input.channels,
            out_width: self.output.width,
            out_pixels: self.pixels_per_image,
        }
    }

    /// Images whose (padded) input fits `budget` bytes, at least one.
    fn images_within(&self, per_image: usize, budget: usize) -> usize {
        (budget / (per_image * size_of::<f32>()).max(1)).max(1)
    }

    /// The (padded) input of `images` for the tiles: the input itself when there is no
    /// padding, else written into `scratch` with zero borders (which stay zero between calls).
    fn source<'a>(
        &self,
        input: &'a [f32],
        images: Range<usize>,
        scratch: &'a mut Vec<f32>,
    ) -> &'a [f32] {
        let count = images.len();
        let raw = &input[images.start * self.input_per_image..images.end * self.input_per_image];
        if !self.padded() {
            return raw;
        }
        let length = count * self.padded_per_image;
        if scratch.len() < length {
            scratch.clear();
            scratch.resize(length, 0.0);
        }
        let channels = self.input.channels;
        let row = self.input.width * channels;
        let padded_row = self.padded_width * channels;
        for (image, padded) in raw
            .chunks_exact(self.input_per_image)
            .zip(scratch.chunks_exact_mut(self.padded_per_image))
        {
            for (y, line) in image.chunks_exact(row).enumerate() {
                let start = (y + self.pad_top) * padded_row + self.pad_left * channels;
                padded[start..start + row].copy_from_slice(line);
            }
        }
        &scratch[..length]
    }

    /// The forward weights packed for the tiles.
    fn forward_packed(&self, weights: &[f32], lanes: usize, max_vectors: usize) -> Packed {
        let out = self.output.channels;
        Packed::new(
            self.depth,
            self.groups,
            self.group_out,
            lanes,
            max_vectors,
            |group, row, channel| weights[row * out + group * self.group_out + channel],
        )
    }

    /// The weights packed for backward-data: the kernel flipped, input and output channels
    /// swapped (row `tap·group_out + o`, channel `i`).
    fn backward_packed(&self, weights: &[f32], lanes: usize, max_vectors: usize) -> Packed {
        let out = self.output.channels;
        let taps = self.kernel_height * self.kernel_width;
        Packed::new(
            taps * self.group_out,
            self.groups,
            self.group_in,
            lanes,
            max_vectors,
            |group, row, channel| {
                let (tap, output) = (row / self.group_out, row % self.group_out);
                let flipped = taps - 1 - tap;
                weights[(flipped * self.group_in + channel) * out + group * self.group_out + output]
            },
        )
    }
}

/// The forward pass, dispatched.
struct Forward<'a> {
    plan: &'a Plan,
    input: &'a [f32],
    weights: &'a [f32],
    bias: Option<&'a [f32]>,
    function: Pointwise,
    output: &'a mut [f32],
    compute: Compute,
}

impl Kernel for Forward<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let packed = plan.forward_packed(self.weights, S::LANES, S::TILE_VECTORS);
        let taps = plan.forward_taps();
        let threads = self.compute.threads();
        let budget = self.compute.workspace_bytes() / threads;
        let out_channels = plan.output.channels;
        for_each_part(self.output, out_channels, threads, |pixels, output| {
            simd.vectorize(ForwardPart {
                plan,
                input: self.input,
                packed: &packed,
                taps: &taps,
                bias: self.bias,
                function: self.function,
                pixels,
                output,
                budget,
            })
        });
    }
}

/// One thread's output pixels of the forward pass.
struct ForwardPart<'a> {
    plan: &'a Plan,
    input: &'a [f32],
    packed: &'a Packed,
    taps: &'a [usize],
    bias: Option<&'a [f32]>,
    function: Pointwise,
    pixels: Range<usize>,
    output: &'a mut [f32],
    budget: usize,
}

impl Kernel for ForwardPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let per_image = plan.pixels_per_image;
        let chunk = plan.images_within(plan.padded_per_image, self.budget);
        let mut scratch = Vec::new();
        let mut pixel = self.pixels.start;
        while pixel < self.pixels.end {
            let first = pixel / per_image;
            let last = (self.pixels.end - 1) / per_image + 1;
            let images = first..last.min(first + chunk);
            let end = self.pixels.end.min(images.end * per_image);
            let source = plan.source(self.input, images.clone(), &mut scratch);
            let job = Correlation {
                source,
                sweep: plan.forward_sweep(),
                taps: self.taps,
                group_in: plan.group_in,
                out_channels: plan.output.channels,
                group_out: plan.group_out,
                bias: self.bias,
                function: self.function,
            };
            let local = pixel - first * per_image..end - first * per_image;
            let output = &mut self.output[(pixel - self.pixels.start) * plan.output.channels..];
            for group in 0..plan.groups {
                for (index, block) in self.packed.blocks.iter().enumerate() {
                    let weights = self.packed.block(group, index);
                    correlate(simd, &job, group, block, weights, local.clone(), output);
                }
            }
            pixel = end;
        }
    }
}

/// The backward-data pass, dispatched: a correlation of the output gradient, spread over a
/// zero buffer as wide as the input plus the kernel's reach, with the flipped kernel.
struct BackwardData<'a> {
    plan: &'a Plan,
    upstream: Upstream<'a>,
    weights: &'a [f32],
    input_gradient: &'a mut [f32],
    compute: Compute,
}

impl Kernel for BackwardData<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let packed = plan.backward_packed(self.weights, S::LANES, S::TILE_VECTORS);
        let channels = plan.output.channels;
        let row = plan.spread_width * channels;
        let mut taps = Vec::with_capacity(plan.kernel_height * plan.kernel_width);
        for tap_y in 0..plan.kernel_height {
            for tap_x in 0..plan.kernel_width {
                taps.push(tap_y * plan.dilation_y * row + tap_x * plan.dilation_x * channels);
            }
        }
        let threads = self.compute.threads();
        let budget = self.compute.workspace_bytes() / threads;
        for_each_part(
            self.input_gradient,
            plan.input.channels,
            threads,
            |pixels, input_gradient| {
                simd.vectorize(BackwardDataPart {
                    plan,
                    upstream: self.upstream,
                    packed: &packed,
                    taps: &taps,
                    pixels,
                    input_gradient,
                    budget,
                })
            },
        );
    }
}

/// One thread's input pixels of the backward-data pass.
struct BackwardDataPart<'a> {
    plan: &'a Plan,
    upstream: Upstream<'a>,
    packed: &'a Packed,
    taps: &'a [usize],
    pixels: Range<usize>,
    input_gradient: &'a mut [f32],
    budget: usize,
}

impl Plan {
    /// Writes the gradients (with respect to the pre-activation sums) of `images` into their
    /// spread buffers: output pixel (y, x) goes to row y·stride_y + top, column
    /// x·stride_x + left of the buffer, where top = (KH − 1)·dilation_y − pad_top (and likewise
    /// left) may be negative; pixels outside the buffer only reach padding and are left out.
    /// Cells no pixel reaches stay zero.
    #[inline(always)]
    fn spread<S: Simd>(
        &self,
        simd: S,
        upstream: &Upstream<'_>,
        images: Range<usize>,
        buffer: &mut [f32],
    ) {
        let channels = self.output.channels;
        let top = ((self.kernel_height - 1) * self.dilation_y) as isize - self.pad_top as isize;
        let left = ((self.kernel_width - 1) * self.dilation_x) as isize - self.pad_left as isize;
        for (local, image) in images.enumerate() {
            for y in 0..self.output.height {
                let row = (y * self.stride_y) as isize + top;
                if row < 0 || row >= self.spread_height as isize {
                    continue;
                }
                for x in 0..self.output.width {
                    let column = (x * self.stride_x) as isize + left;
                    if column < 0 || column >= self.spread_width as isize {
                        continue;
                    }
                    let from =
                        ((image * self.output.height + y) * self.output.width + x) * channels;
                    let to = local * self.spread_per_image
                        + (row as usize * self.spread_width + column as usize) * channels;
                    upstream.gradient_into(simd, from, &mut buffer[to..to + channels]);
                }
            }
        }
    }
}

impl Kernel for BackwardDataPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let per_image = plan.input.height * plan.input.width;
        let chunk = plan.images_within(plan.spread_per_image, self.budget);
        let mut buffer = Vec::new();
        let mut pixel = self.pixels.start;
        while pixel < self.pixels.end {
            let first = pixel / per_image;
            let last = (self.pixels.end - 1) / per_image + 1;
            let images = first..last.min(first + chunk);
            let end = self.pixels.end.min(images.end * per_image);
            let length = images.len() * plan.spread_per_image;
            if buffer.len() < length {
                buffer.clear();
                buffer.resize(length, 0.0);
            }
            plan.spread(simd, &self.upstream, images.clone(), &mut buffer);
            let job = Correlation {
                source: &buffer[..length],
                sweep: Sweep {
                    image_len: plan.spread_per_image,
                    row_step: plan.spread_width * plan.output.channels,
                    pixel_step: plan.output.channels,
                    out_width: plan.input.width,
                    out_pixels: per_image,
                },
                taps: self.taps,
                group_in: plan.group_out,
                out_channels: plan.input.channels,
                group_out: plan.group_in,
                bias: None,
                function: Pointwise::Identity,
            };
            let local = pixel - first * per_image..end - first * per_image;
            let gradient =
                &mut self.input_gradient[(pixel - self.pixels.start) * plan.input.channels..];
            for group in 0..plan.groups {
                for (index, block) in self.packed.blocks.iter().enumerate() {
                    let weights = self.packed.block(group, index);
                    correlate(simd, &job, group, block, weights, local.clone(), gradient);
                }
            }
            pixel = end;
        }
    }
}

/// The backward-weights pass (and the bias gradient), dispatched.
struct BackwardWeights<'a> {
    plan: &'a Plan,
    input: &'a [f32],
    upstream: Upstream<'a>,
    weight_gradient: &'a mut [f32],
    bias_gradient: Option<&'a mut [f32]>,
    compute: Compute,
}

/// The image blocks backward-weights sums separately, as ranges of the batch: a function of
/// the batch and the weight count only.
fn image_blocks(batch: usize, weight_len: usize) -> Vec<Range<usize>> {
    let most = (PARTIAL_BUDGET / weight_len.max(1)).max(1);
    let count = batch.min(WEIGHT_BLOCKS).min(most).max(1);
    let per_block = batch.div_ceil(count).max(1);
    (0..batch)
        .step_by(per_block)
        .map(|start| start..(start + per_block).min(batch))
        .collect()
}

/// One task of backward-weights: an image block and a run of the packed weight rows of all
/// (group, block) pairs, counted in their packed order.
struct WeightTask<'a> {
    images: Range<usize>,
    rows: Range<usize>,
    /// The task's rows of the block's partial sums (packed layout), starting at `rows.start`.
    partial: &'a mut [f32],
    /// The block's bias sums, for the task that computes them.
    bias: Option<&'a mut [f32]>,
}

impl Kernel for BackwardWeights<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let blocks = tiles::blocks(plan.group_out, S::LANES, S::TILE_VECTORS);
        // Packed rows: for each group, for each block, `depth` rows of vectors·LANES values.
        let units: Vec<(usize, Block)> = (0..plan.groups)
            .flat_map(|group| blocks.iter().map(move |&block| (group, block)))
            .collect();
        let unit_rows = plan.depth;
        let total_rows = units.len() * unit_rows;
        let unit_starts: Vec<usize> = units
            .iter()
            .scan(0, |start, (_, block)| {
                let here = *start;
                *start += unit_rows * block.vectors * S::LANES;
                Some(here)
            })
            .collect();
        let partial_len: usize = units
            .iter()
            .map(|(_, block)| unit_rows * block.vectors * S::LANES)
            .sum();
        let image_blocks = image_blocks(plan.output.batch, plan.weight_len);
        let threads = self.compute.threads();
        let splits = threads.div_ceil(image_blocks.len()).min(total_rows).max(1);
        let row_ranges = split(total_rows, splits);
        let channels = plan.output.channels;
        let mut partials = vec![0.0f32; image_blocks.len() * partial_len];
        let with_bias = self.bias_gradient.is_some();
        let mut bias_sums = vec![0.0f32; image_blocks.len() * channels];
        // The offset of packed row `row` (counted over all units) in a block's partial sums.
        let offset_of = |row: usize| {
            let unit = row / unit_rows;
            unit_starts.get(unit).map_or(partial_len, |start| {
                start + (row % unit_rows) * units[unit].1.vectors * S::LANES
            })
        };
        let mut tasks = Vec::with_capacity(image_blocks.len() * row_ranges.len());
        let mut rest = partials.as_mut_slice();
        let mut bias_rest = bias_sums.as_mut_slice();
        for images in &image_blocks {
            let (mut block_partial, tail) = rest.split_at_mut(partial_len);
            rest = tail;
            let (block_bias, bias_tail) = bias_rest.split_at_mut(channels);
            bias_rest = bias_tail;
            let mut block_bias = with_bias.then_some(block_bias);
            let mut consumed = 0;
            for rows in &row_ranges {
                let end = offset_of(rows.end);
                let (partial, tail) = block_partial.split_at_mut(end - consumed);
                block_partial = tail;
                consumed = end;
                tasks.push(WeightTask {
                    images: images.clone(),
                    rows: rows.clone(),
                    partial,
                    bias: block_bias.take(),
                });
            }
        }
        let budget = self.compute.workspace_bytes() / threads;
        let row_offsets: Vec<usize> = plan
            .forward_taps()
            .iter()
            .flat_map(|&tap| (0..plan.group_in).map(move |channel| tap + channel))
            .collect();
        let run = |task: WeightTask<'_>| {
            simd.vectorize(WeightPart {
                plan,
                input: self.input,
                upstream: self.upstream,
                units: &units,
                unit_rows,
                row_offsets: &row_offsets,
                task,
                budget,
            })
        };
        run_tasks(tasks, threads, run);
        // Add the blocks' sums in block order into the HWIO gradient.
        let out = plan.output.channels;
        for (unit, &(group, block)) in units.iter().enumerate() {
            let width = block.vectors * S::LANES;
            for row in 0..unit_rows {
                let target = &mut self.weight_gradient
                    [row * out + group * plan.group_out + block.first..][..block.channels];
                target.fill(0.0);
                for partial in partials.chunks_exact(partial_len) {
                    let sums = &partial[unit_starts[unit] + row * width..][..block.channels];
                    for (total, &sum) in target.iter_mut().zip(sums) {
                        *total += sum;
                    }
                }
            }
        }
        if let Some(bias_gradient) = self.bias_gradient {
            bias_gradient.fill(0.0);
            for sums in bias_sums.chunks_exact(channels) {
                for (total, &sum) in bias_gradient.iter_mut().zip(sums) {
                    *total += sum;
                }
            }
        }
    }
}

/// Runs `tasks` in order on at most `threads` tasks of the current rayon pool (each takes a
/// contiguous run of them).
fn run_tasks<T: Send>(tasks: Vec<T>, threads: usize, work: impl Fn(T) + Sync) {
    let ranges = split(tasks.len(), threads);
    if ranges.len() <= 1 {
        tasks.into_iter().for_each(work);
        return;
    }
    let mut groups: Vec<Vec<T>> = Vec::with_capacity(ranges.len());
    let mut tasks = tasks.into_iter();
    for range in ranges {
        groups.push(tasks.by_ref().take(range.len()).collect());
    }
    map_each(groups, |group| group.into_iter().for_each(&work));
}

/// One task of backward-weights, dispatched.
struct WeightPart<'a> {
    plan: &'a Plan,
    input: &'a [f32],
    upstream: Upstream<'a>,
    units: &'a [(usize, Block)],
    unit_rows: usize,
    row_offsets: &'a [usize],
    task: WeightTask<'a>,
    budget: usize,
}

impl Kernel for WeightPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let plan = self.plan;
        let WeightTask {
            images,
            rows,
            partial,
            mut bias,
        } = self.task;
        let per_image = plan.pixels_per_image;
        let channels = plan.output.channels;
        let chunk = plan.images_within(
            plan.padded_per_image.max(plan.output_per_image),
            self.budget,
        );
        let mut scratch = Vec::new();
        let mut gradient = Vec::new();
        let mut first = images.start;
        while first < images.end {
            let chunk_images = first..(first + chunk).min(images.end);
            let pixels = chunk_images.len() * per_image;
            let source = plan.source(self.input, chunk_images.clone(), &mut scratch);
            let job = WeightSums {
                source,
                sweep: plan.forward_sweep(),
                row_offsets: self.row_offsets,
                group_in: plan.group_in,
                pixels,
            };
            let mut offset = 0;
            for (unit, &(group, block)) in self.units.iter().enumerate() {
                let unit_first = unit * self.unit_rows;
                let width = block.vectors * S::LANES;
                let here = rows.start.max(unit_first)..rows.end.min(unit_first + self.unit_rows);
                let wanted = !here.is_empty();
                if !wanted && bias.is_none() {
                    continue;
                }
                // The block's gradient, pixel after pixel, padded to whole vectors.
                gradient.clear();
                gradient.resize(pixels * width, 0.0);
                let channel = group * plan.group_out + block.first;
                for pixel in 0..pixels {
                    let from = (chunk_images.start * per_image + pixel) * channels + channel;
                    self.upstream.gradient_into(
                        simd,
                        from,
                        &mut gradient[pixel * width..][..block.channels],
                    );
                }
                if let Some(bias) = bias.as_deref_mut() {
                    let sums = &mut bias[channel..channel + block.channels];
                    for values in gradient.chunks_exact(width) {
                        for (sum, &value) in sums.iter_mut().zip(values) {
                            *sum += value;
                        }
                    }
                }
                if wanted {
                    let rows = here.start - unit_first..here.end - unit_first;
                    let length = here.len() * width;
                    // The task's partial starts at its first row; `rows.start` is counted in
                    // the unit, so shift the unit's slice to start at row 0.
                    let unit_partial = &mut partial[offset..offset + length];
                    weight_rows_from(simd, &job, group, &block, &gradient, rows, unit_partial);
                    offset += length;
                }
            }
            first = chunk_images.end;
        }
    }
}

/// [`weight_rows`] on a slice that starts at row `rows.start` instead of row 0.
#[inline(always)]
fn weight_rows_from<S: Simd>(
    simd: S,
    job: &WeightSums<'_>,
    group: usize,
    block: &Block,
    gradient: &[f32],
    rows: Range<usize>,
    partial: &mut [f32],
) {
    let shifted = WeightSums {
        row_offsets: &job.row_offsets[rows.start..rows.end],
        ..*job
    };
    weight_rows(
        simd,
        &shifted,
        group,
        block,
        gradient,
        0..rows.len(),
        partial,
    );
}

/// The direct tiles' plan: the checked sizes, and the padded and spread buffers' extents.
#[derive(Debug)]
struct Plan {
    sizes: Sizes,
    /// The padded input's width (the input's when there is no padding).
    padded_width: usize,
    /// Values of one padded input image.
    padded_per_image: usize,
    /// The backward-data buffer's height and width: the input's plus the kernel's reach − 1.
    spread_height: usize,
    spread_width: usize,
    /// Values of one backward-data buffer image (all output channels).
    spread_per_image: usize,
}

impl std::ops::Deref for Plan {
    type Target = Sizes;

    fn deref(&self) -> &Sizes {
        &self.sizes
    }
}

impl Plan {
    /// The method that computes `geometry`: its own, or by the shape for `Auto`.
    fn method(&self, geometry: &Conv2dGeometry) -> Method {
        match geometry.method {
            Method::Auto => Method::for_shape(
                self.group_in,
                self.group_out,
                self.kernel_height * self.kernel_width,
            ),
            chosen => chosen,
        }
    }

    fn new(geometry: &Conv2dGeometry) -> Result<Plan, TensorError> {
        let sizes = geometry.sizes()?;
        let input = sizes.input;
        let overflow = || TensorError::Overflow {
            what: "padded extent",
        };
        let padded_height = input.height + sizes.pad_top + sizes.pad_bottom;
        let padded_width = input.width + sizes.pad_left + sizes.pad_right;
        // (output_extent checked that these sums fit.)
        let padded_per_image = element_count(&[padded_height, padded_width, input.channels])?;
        let reach = |kernel: usize, dilation: usize| {
            (kernel - 1).checked_mul(dilation).ok_or_else(overflow)
        };
        let spread_height = input
            .height
            .checked_add(reach(sizes.kernel_height, sizes.dilation_y)?)
            .ok_or_else(overflow)?;
        let spread_width = input
            .width
            .checked_add(reach(sizes.kernel_width, sizes.dilation_x)?)
            .ok_or_else(overflow)?;
        let spread_per_image =
            element_count(&[spread_height, spread_width, sizes.output.channels])?;
        Ok(Plan {
            sizes,
            padded_width,
            padded_per_image,
            spread_height,
            spread_width,
            spread_per_image,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Instructions;
    use crate::tensor::testing::{assert_close, dot, finite_differences, values, widen};
    use proptest::prelude::*;

    /// The convolution in f64 with plain loops over output, kernel and input channels.
    fn reference_forward(
        geometry: &Conv2dGeometry,
        input: &[f64],
        weights: &[f64],
        bias: Option<&[f64]>,
    ) -> Vec<f64> {
        let output = geometry.output().unwrap();
        let Nhwc {
            height,
            width,
            channels,
            ..
        } = geometry.input;
        let (kernel_height, kernel_width) = geometry.kernel;
        let out_channels = geometry.output_channels;
        let group_in = channels / geometry.groups;
        let group_out = out_channels / geometry.groups;
        let mut result = Vec::new();
        for image in 0..output.batch {
            for output_y in 0..output.height {
                for output_x in 0..output.width {
                    for out_channel in 0..out_channels {
                        let group = out_channel / group_out;
                        let mut sum = bias.map_or(0.0, |bias| bias[out_channel]);
                        for tap_y in 0..kernel_height {
                            for tap_x in 0..kernel_width {
                                let y = (output_y * geometry.stride.0 + tap_y * geometry.dilation.0)
                                    as isize
                                    - geometry.padding.top as isize;
                                let x = (output_x * geometry.stride.1 + tap_x * geometry.dilation.1)
                                    as isize
                                    - geometry.padding.left as isize;
                                if y < 0 || x < 0 || y >= height as isize || x >= width as isize {
                                    continue;
                                }
                                let (y, x) = (y as usize, x as usize);
                                for local_in in 0..group_in {
                                    let in_channel = group * group_in + local_in;
                                    let connected = geometry.mask.as_ref().is_none_or(|mask| {
                                        mask[local_in * out_channels + out_channel]
                                    });
                                    if !connected {
                                        continue;
                                    }
                                    let value = input[((image * height + y) * width + x)
                                        * channels
                                        + in_channel];
                                    let weight = weights[((tap_y * kernel_width + tap_x)
                                        * group_in
                                        + local_in)
                                        * out_channels
                                        + out_channel];
                                    sum += value * weight;
                                }
                            }
                        }
                        result.push(sum);
                    }
                }
            }
        }
        result
    }

    #[derive(Debug, Clone)]
    struct Case {
        geometry: Conv2dGeometry,
        with_bias: bool,
        seed: u64,
        compute: Compute,
    }

    impl Case {
        fn input(&self) -> Vec<f32> {
            values(self.geometry.input.len().unwrap(), self.seed)
        }
        fn weights(&self) -> Vec<f32> {
            values(self.geometry.weight_len().unwrap(), self.seed ^ 0x5a5a)
        }
        fn bias(&self) -> Option<Vec<f32>> {
            self.with_bias
                .then(|| values(self.geometry.output_channels, self.seed ^ 0x1234))
        }
        fn output_gradient(&self) -> Vec<f32> {
            values(
                self.geometry.output().unwrap().len().unwrap(),
                self.seed ^ 0xbeef,
            )
        }
    }

    /// Small random convolutions: any stride, padding, dilation, groups, mask; sometimes a
    /// pointwise kernel; a workspace of 0 forces one image per chunk; any instruction set of this
    /// machine; either method (direct tiles, im2col + GEMM) or the one `Auto` picks.
    fn cases() -> impl Strategy<Value = Case> {
        cases_with(1usize..4)
    }

    /// [`cases`] with output channels per group drawn from `group_out`.
    fn cases_with(group_out: impl Strategy<Value = usize>) -> impl Strategy<Value = Case> {
        let sizes = (
            1usize..3,
            1usize..4,
            1usize..4,
            group_out,
            (1usize..4, 1usize..4),
            (1usize..3, 1usize..3),
            (1usize..3, 1usize..3),
            (0usize..3, 0usize..3, 0usize..3, 0usize..3),
            (0usize..4, 0usize..4),
        );
        let options = (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
            1usize..3,
            prop::sample::select(vec![0usize, 1 << 20]),
            prop::sample::select(Instructions::available()),
            prop::sample::select(vec![Method::Direct, Method::Columns, Method::Auto]),
        );
        (sizes, options).prop_map(
            |(
                (batch, groups, group_in, group_out, kernel, stride, dilation, pads, extra),
                (pointwise, masked, with_bias, seed, threads, workspace, instructions, method),
            )| {
                let (kernel, stride, padding) = if pointwise {
                    ((1, 1), (1, 1), Padding::default())
                } else {
                    (kernel, stride, Padding::new(pads.0, pads.1, pads.2, pads.3))
                };
                let reach_y = dilation.0 * (kernel.0 - 1) + 1;
                let reach_x = dilation.1 * (kernel.1 - 1) + 1;
                let height = reach_y.saturating_sub(padding.top + padding.bottom).max(1) + extra.0;
                let width = reach_x.saturating_sub(padding.left + padding.right).max(1) + extra.1;
                let input = Nhwc::new(batch, height, width, groups * group_in);
                let output_channels = groups * group_out;
                let mut geometry = Conv2dGeometry::new(input, output_channels, kernel)
                    .with_stride(stride)
                    .with_padding(padding)
                    .with_dilation(dilation)
                    .with_groups(groups)
                    .with_method(method);
                if masked {
                    let mask = values(group_in * output_channels, seed ^ 77)
                        .into_iter()
                        .map(|value| value > -0.4)
                        .collect();
                    geometry = geometry.with_mask(mask);
                }
                Case {
                    geometry,
                    with_bias,
                    seed,
                    compute: Compute::new(threads)
                        .unwrap()
                        .with_workspace_bytes(workspace)
                        .with_instructions(instructions)
                        .unwrap(),
                }
            },
        )
    }

    fn forward(case: &Case) -> Vec<f32> {
        let mut output = vec![f32::NAN; case.geometry.output().unwrap().len().unwrap()];
        let bias = case.bias();
        conv2d_forward(
            &case.geometry,
            &case.input(),
            &case.weights(),
            bias.as_deref(),
            Pointwise::Identity,
            &mut output,
            case.compute,
        )
        .unwrap();
        output
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn forward_matches_the_reference(case in cases()) {
            let bias = case.bias().map(|bias| widen(&bias));
            let expected = reference_forward(
                &case.geometry,
                &widen(&case.input()),
                &widen(&case.weights()),
                bias.as_deref(),
            );
            assert_close(&forward(&case), &expected, 1e-5);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn backward_data_matches_finite_differences(case in cases()) {
            let output_gradient = case.output_gradient();
            let mut input_gradient = vec![f32::NAN; case.geometry.input.len().unwrap()];
            conv2d_backward_data(
                &case.geometry,
                &output_gradient,
                &case.weights(),
                &mut input_gradient,
                case.compute,
            )
            .unwrap();
            let weights = widen(&case.weights());
            let upstream = widen(&output_gradient);
            let expected = finite_differences(&widen(&case.input()), 1e-3, |input| {
                dot(&upstream, &reference_forward(&case.geometry, input, &weights, None))
            });
            assert_close(&input_gradient, &expected, 1e-5);
        }

        #[test]
        fn backward_weights_matches_finite_differences(case in cases()) {
            let output_gradient = case.output_gradient();
            let mut weight_gradient = vec![f32::NAN; case.geometry.weight_len().unwrap()];
            conv2d_backward_weights(
                &case.geometry,
                &case.input(),
                &output_gradient,
                &mut weight_gradient,
                case.compute,
            )
            .unwrap();
            let input = widen(&case.input());
            let upstream = widen(&output_gradient);
            let expected = finite_differences(&widen(&case.weights()), 1e-3, |weights| {
                dot(&upstream, &reference_forward(&case.geometry, &input, weights, None))
            });
            assert_close(&weight_gradient, &expected, 1e-5);
            if let Some(mask) = &case.geometry.mask {
                for (gradient, connected) in weight_gradient.iter().zip(mask.iter().cycle()) {
                    if !connected {
                        prop_assert_eq!(*gradient, 0.0);
                    }
                }
            }
        }

        #[test]
        fn bias_gradient_matches_finite_differences(case in cases()) {
            let output_gradient = case.output_gradient();
            let channels = case.geometry.output_channels;
            let mut gradient = vec![f32::NAN; channels];
            bias_gradient(&output_gradient, channels, &mut gradient, case.compute).unwrap();
            let input = widen(&case.input());
            let weights = widen(&case.weights());
            let upstream = widen(&output_gradient);
            let expected = finite_differences(&vec![0.5; channels], 1e-3, |bias| {
                dot(
                    &upstream,
                    &reference_forward(&case.geometry, &input, &weights, Some(bias)),
                )
            });
            assert_close(&gradient, &expected, 1e-5);
        }
    }

    /// The input and weight gradients of the convolution in f64 with plain loops: every
    /// (output pixel, tap, input channel, output channel) term of the forward sum sends
    /// `upstream · weight` to its input value and `upstream · input` to its weight.
    fn reference_backward(
        geometry: &Conv2dGeometry,
        input: &[f64],
        weights: &[f64],
        upstream: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let output = geometry.output().unwrap();
        let Nhwc {
            height,
            width,
            channels,
            ..
        } = geometry.input;
        let (kernel_height, kernel_width) = geometry.kernel;
        let out_channels = geometry.output_channels;
        let group_in = channels / geometry.groups;
        let group_out = out_channels / geometry.groups;
        let mut input_gradient = vec![0.0; input.len()];
        let mut weight_gradient = vec![0.0; weights.len()];
        let mut bias_gradient = vec![0.0; out_channels];
        for image in 0..output.batch {
            for output_y in 0..output.height {
                for output_x in 0..output.width {
                    for out_channel in 0..out_channels {
                        let at = ((image * output.height + output_y) * output.width + output_x)
                            * out_channels
                            + out_channel;
                        let gradient = upstream[at];
                        bias_gradient[out_channel] += gradient;
                        let group = out_channel / group_out;
                        for tap_y in 0..kernel_height {
                            for tap_x in 0..kernel_width {
                                let y = (output_y * geometry.stride.0 + tap_y * geometry.dilation.0)
                                    as isize
                                    - geometry.padding.top as isize;
                                let x = (output_x * geometry.stride.1 + tap_x * geometry.dilation.1)
                                    as isize
                                    - geometry.padding.left as isize;
                                if y < 0 || x < 0 || y >= height as isize || x >= width as isize {
                                    continue;
                                }
                                for local_in in 0..group_in {
                                    let connected = geometry.mask.as_ref().is_none_or(|mask| {
                                        mask[local_in * out_channels + out_channel]
                                    });
                                    if !connected {
                                        continue;
                                    }
                                    let value_at = ((image * height + y as usize) * width
                                        + x as usize)
                                        * channels
                                        + group * group_in
                                        + local_in;
                                    let weight_at = ((tap_y * kernel_width + tap_x) * group_in
                                        + local_in)
                                        * out_channels
                                        + out_channel;
                                    input_gradient[value_at] += gradient * weights[weight_at];
                                    weight_gradient[weight_at] += gradient * input[value_at];
                                }
                            }
                        }
                    }
                }
            }
        }
        (input_gradient, weight_gradient, bias_gradient)
    }

    /// An activation with its f64 definition and derivative.
    type Definition = (Pointwise, fn(f64) -> f64, fn(f64) -> f64);

    /// An activation for a fused case, and its f64 definition and derivative.
    fn activation_of(choice: usize) -> Option<Definition> {
        match choice {
            0 => None,
            1 => Some((
                Pointwise::Relu,
                |x| x.max(0.0),
                |x| if x > 0.0 { 1.0 } else { 0.0 },
            )),
            2 => Some((Pointwise::TANH, f64::tanh, |x| 1.0 - x.tanh() * x.tanh())),
            _ => Some((
                Pointwise::Sigmoid,
                |x| 1.0 / (1.0 + (-x).exp()),
                |x| {
                    let s = 1.0 / (1.0 + (-x).exp());
                    s * (1.0 - s)
                },
            )),
        }
    }

    /// Forward with `activation` fused (its f64 definition and derivative give the expected
    /// values) and the fused backward pass (input, weight and bias gradients through the
    /// activation), against the plain-loop references; every target starts as NaN, so each
    /// value must be written.
    fn check_against_the_references(case: &Case, activation: Option<Definition>) {
        let function = activation.map_or(Pointwise::Identity, |(function, _, _)| function);
        let input = case.input();
        let weights = case.weights();
        let bias = case.bias();
        let mut output = vec![f32::NAN; case.geometry.output().unwrap().len().unwrap()];
        conv2d_forward(
            &case.geometry,
            &input,
            &weights,
            bias.as_deref(),
            function,
            &mut output,
            case.compute,
        )
        .unwrap();
        let sums = reference_forward(
            &case.geometry,
            &widen(&input),
            &widen(&weights),
            bias.map(|bias| widen(&bias)).as_deref(),
        );
        let expected: Vec<f64> = sums
            .iter()
            .map(|&sum| activation.map_or(sum, |(_, value, _)| value(sum)))
            .collect();
        assert_close(&output, &expected, 1e-5);

        let upstream = case.output_gradient();
        // ∂loss/∂sum from the f64 sums (relu's kink: where the f32 output is 0, so is the
        // derivative, as the kernel takes it from the output).
        let through: Vec<f64> = sums
            .iter()
            .zip(&upstream)
            .zip(&output)
            .map(|((&sum, &gradient), &out)| {
                let slope = match activation {
                    None => 1.0,
                    Some((Pointwise::Relu, _, _)) => f64::from(u8::from(out > 0.0)),
                    Some((_, _, derivative)) => derivative(sum),
                };
                f64::from(gradient) * slope
            })
            .collect();
        let (input_expected, weights_expected, bias_expected) =
            reference_backward(&case.geometry, &widen(&input), &widen(&weights), &through);
        let mut input_gradient = vec![f32::NAN; input.len()];
        let mut weight_gradient = vec![f32::NAN; weights.len()];
        let mut bias_gradient = vec![f32::NAN; case.geometry.output_channels];
        conv2d_backward(
            &case.geometry,
            ConvBackward {
                input: &input,
                weights: &weights,
                output_gradient: &upstream,
                activation: activation.map(|(function, _, _)| (output.as_slice(), function)),
            },
            ConvGradients {
                input: Some(&mut input_gradient),
                weights: &mut weight_gradient,
                bias: Some(&mut bias_gradient),
            },
            case.compute,
        )
        .unwrap();
        assert_close(&input_gradient, &input_expected, 1e-5);
        assert_close(&weight_gradient, &weights_expected, 1e-5);
        assert_close(&bias_gradient, &bias_expected, 1e-5);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Forward with a fused activation, and the fused backward pass (input, weight and
        /// bias gradients through the activation), against the plain-loop references, with
        /// output channel counts that span several vectors and blocks.
        #[test]
        fn fused_passes_match_the_references_with_wide_channels(
            case in cases_with(prop::sample::select(vec![1usize, 3, 8, 15, 17, 33, 50, 70])),
            choice in 0usize..4,
        ) {
            check_against_the_references(&case, activation_of(choice));
        }

        /// Every pass gives the same bits with 1, 2, 3 and 16 threads.
        #[test]
        fn results_do_not_depend_on_the_thread_count(
            case in cases_with(prop::sample::select(vec![2usize, 17, 40])),
            batch in 1usize..40,
        ) {
            let mut geometry = case.geometry.clone();
            geometry.input.batch = batch;
            let case = Case { geometry, ..case };
            let input = case.input();
            let weights = case.weights();
            let upstream = case.output_gradient();
            let run = |threads: usize| {
                let compute = Compute::new(threads)
                    .unwrap()
                    .with_instructions(case.compute.instructions())
                    .unwrap();
                let mut output = vec![0.0; upstream.len()];
                conv2d_forward(&case.geometry, &input, &weights, None, Pointwise::Relu,
                    &mut output, compute).unwrap();
                let mut input_gradient = vec![0.0; input.len()];
                let mut weight_gradient = vec![0.0; weights.len()];
                let mut bias_gradient = vec![0.0; case.geometry.output_channels];
                conv2d_backward(
                    &case.geometry,
                    ConvBackward {
                        input: &input,
                        weights: &weights,
                        output_gradient: &upstream,
                        activation: Some((&output, Pointwise::Relu)),
                    },
                    ConvGradients {
                        input: Some(&mut input_gradient),
                        weights: &mut weight_gradient,
                        bias: Some(&mut bias_gradient),
                    },
                    compute,
                )
                .unwrap();
                (output, input_gradient, weight_gradient, bias_gradient)
            };
            let one = run(1);
            for threads in [2, 3, 16] {
                prop_assert!(run(threads) == one, "{} threads differ from 1", threads);
            }
        }
    }

    /// `Auto` picks the tiles for few output channels or few weight rows, GEMM otherwise
    /// (the rule bench/README.md measured on the three networks' layers).
    #[test]
    fn the_rule_picks_the_measured_method() {
        // (group_in, group_out, kernel area): LeNet-5's C1, C3, C5; the Keras CNN's two layers.
        let cases = [
            ((1, 6, 25), Method::Direct),
            ((6, 16, 25), Method::Columns),
            ((16, 120, 25), Method::Columns),
            ((1, 32, 9), Method::Direct),
            ((32, 64, 9), Method::Columns),
            ((64, 1, 9), Method::Direct),
        ];
        for ((group_in, group_out, area), expected) in cases {
            assert_eq!(
                Method::for_shape(group_in, group_out, area),
                expected,
                "{group_in} → {group_out}, {area} taps"
            );
        }
    }

    /// The Keras CNN's second layer (32 → 64 channels, 3×3, relu) on small images, by both
    /// methods: forward and the fused backward pass against the plain-loop references.
    #[test]
    fn both_methods_match_the_references_on_the_cnn_layer() {
        let input_shape = Nhwc::new(2, 6, 5, 32);
        for method in [Method::Direct, Method::Columns] {
            let case = Case {
                geometry: Conv2dGeometry::new(input_shape, 64, (3, 3)).with_method(method),
                with_bias: true,
                seed: 9,
                compute: Compute::new(2).unwrap(),
            };
            check_against_the_references(&case, activation_of(1));
        }
    }

    /// The im2col method's wide-row products (one group, stride 1, no dilation, no padding:
    /// forward and backward-weights read the input in place, and backward-weights takes the
    /// relu's derivative and the bias sums as it copies the gradient into the wide rows)
    /// against the plain-loop references, on kernels wider than tall and taller than wide, and
    /// on an input one output row high (`columns::WIDE_TEST_SHAPES`, which `columns` checks
    /// are wide), with and without a relu, on 1 and 2 threads.
    #[test]
    fn wide_rows_match_the_references() {
        for (height, width, kernel) in columns::WIDE_TEST_SHAPES {
            let geometry = Conv2dGeometry::new(Nhwc::new(3, height, width, 3), 5, kernel)
                .with_method(Method::Columns);
            for threads in [1, 2] {
                let case = Case {
                    geometry: geometry.clone(),
                    with_bias: true,
                    seed: 11,
                    compute: Compute::new(threads).unwrap(),
                };
                // No activation, and relu.
                for choice in [0, 1] {
                    check_against_the_references(&case, activation_of(choice));
                }
            }
        }
    }

    #[test]
    fn a_small_convolution_by_hand() {
        // One 3×3 single-channel image, a 2×2 kernel [1 2; 3 4], bias 10, padding 1 on the
        // bottom and right only, stride 2: outputs at (0,0), (0,2), (2,0), (2,2).
        let geometry = Conv2dGeometry::new(Nhwc::new(1, 3, 3, 1), 1, (2, 2))
            .with_stride((2, 2))
            .with_padding(Padding::new(0, 1, 0, 1));
        assert_eq!(geometry.output(), Ok(Nhwc::new(1, 2, 2, 1)));
        let input = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let weights = [1.0, 2.0, 3.0, 4.0];
        let mut output = [0.0; 4];
        conv2d_forward(
            &geometry,
            &input,
            &weights,
            Some(&[10.0]),
            Pointwise::Identity,
            &mut output,
            Compute::single(),
        )
        .unwrap();
        // (0,0): 1·1+2·2+4·3+5·4 = 37; (0,2): 3·1+6·3 = 21; (2,0): 7·1+8·2 = 23; (2,2): 9.
        assert_eq!(output, [47.0, 31.0, 33.0, 19.0]);
    }

    #[test]
    fn the_mask_cuts_connections() {
        // Two input channels, two output channels, 1×1 kernel of ones; the mask connects
        // input 0 only to output 1 and input 1 to both.
        let geometry = Conv2dGeometry::new(Nhwc::new(1, 1, 1, 2), 2, (1, 1))
            .with_mask(vec![false, true, true, true]);
        let mut output = [0.0; 2];
        conv2d_forward(
            &geometry,
            &[3.0, 5.0],
            &[1.0; 4],
            None,
            Pointwise::Identity,
            &mut output,
            Compute::single(),
        )
        .unwrap();
        assert_eq!(output, [5.0, 8.0]);
    }

    #[test]
    fn results_are_reproducible_and_independent_of_chunking() {
        let input = Nhwc::new(6, 12, 11, 4);
        let geometry = Conv2dGeometry::new(input, 6, (3, 3))
            .with_padding(Padding::uniform(1))
            .with_groups(2);
        let case = Case {
            geometry: geometry.clone(),
            with_bias: true,
            seed: 9,
            compute: Compute::new(2).unwrap(),
        };
        let chunked = Case {
            compute: Compute::new(2).unwrap().with_workspace_bytes(0),
            ..case.clone()
        };
        assert_eq!(forward(&case), forward(&case));
        let bias = case.bias().map(|bias| widen(&bias));
        let expected = reference_forward(
            &geometry,
            &widen(&case.input()),
            &widen(&case.weights()),
            bias.as_deref(),
        );
        assert_close(&forward(&chunked), &expected, 1e-5);
        let weight_gradient = |compute: Compute| {
            let mut gradient = vec![0.0; geometry.weight_len().unwrap()];
            conv2d_backward_weights(
                &geometry,
                &case.input(),
                &case.output_gradient(),
                &mut gradient,
                compute,
            )
            .unwrap();
            gradient
        };
        assert_eq!(weight_gradient(case.compute), weight_gradient(case.compute));
        let input_values = widen(&case.input());
        let upstream = widen(&case.output_gradient());
        let expected = finite_differences(&widen(&case.weights()), 1e-3, |weights| {
            dot(
                &upstream,
                &reference_forward(&geometry, &input_values, weights, None),
            )
        });
        assert_close(&weight_gradient(chunked.compute), &expected, 1e-5);
    }

    #[test]
    fn inconsistent_arguments_are_errors() {
        let input = Nhwc::new(1, 4, 4, 3);
        let grouped = Conv2dGeometry::new(input, 4, (3, 3)).with_groups(2);
        assert!(matches!(
            grouped.output(),
            Err(TensorError::Geometry { .. })
        ));
        let too_big = Conv2dGeometry::new(input, 4, (5, 5));
        assert!(matches!(
            too_big.output(),
            Err(TensorError::Geometry { .. })
        ));
        let bad_mask = Conv2dGeometry::new(input, 4, (3, 3)).with_mask(vec![true; 5]);
        assert!(matches!(bad_mask.output(), Err(TensorError::Length { .. })));
        let geometry = Conv2dGeometry::new(input, 4, (3, 3));
        let mut output = vec![0.0; 15];
        let result = conv2d_forward(
            &geometry,
            &[0.0; 48],
            &[0.0; 108],
            None,
            Pointwise::Identity,
            &mut output,
            Compute::single(),
        );
        assert_eq!(
            result,
            Err(TensorError::Length {
                what: "convolution output",
                expected: 16,
                actual: 15
            })
        );
    }
}

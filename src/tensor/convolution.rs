//! 2-D convolution of NHWC batches with HWIO weights: forward, gradient with respect to the input
//! (backward-data), gradient with respect to the weights (backward-weights) and the bias
//! gradient, for any stride, explicit padding, dilation, groups (depthwise included) and an
//! optional connection mask.
//!
//! # Method: im2col + GEMM
//!
//! For one group, the *columns* matrix `Col` has one row per output pixel (image, y, x) and one
//! column per weight row `(ky, kx, i)`: the input value that weight meets at that pixel, or 0 in
//! the padding. With the group's weights `W` (`depth × out_per_group`, a strided block of the HWIO
//! array) and output block `Y` (`pixels × out_per_group`, a strided block of the NHWC output):
//!
//! - forward: `Y = Col·W` (+ bias) — large M (pixels), modest K (`depth = KH·KW·I`);
//! - backward-data: `dCol = dY·Wᵀ`, then every `dCol` value is added back to the input pixel it
//!   was read from (col2im) — large M again, K = out_per_group;
//! - backward-weights: `dW = Colᵀ·dY` — a long-K product (K = pixels).
//!
//! # Work split
//!
//! The batch is cut into one contiguous part of images per thread. Each part runs on its own
//! thread with single-threaded products and its own column buffer, in chunks of images whose
//! columns fit its share of the [`Compute`] workspace (at least one image per chunk): the columns
//! of a chunk are still in cache when the product reads them, and memory stays bounded whatever
//! the batch. Forward and backward-data write disjoint images per part; backward-weights sums one
//! partial `dW` per part and adds the partials in part order, so the result is reproducible for a
//! given thread count (it may differ in the last bits between thread counts). With fewer images
//! than threads there is one part and the products themselves use all threads. A 1×1 kernel with
//! stride 1 and no padding needs no columns: the input itself is `Col`.
//!
//! # Connection mask
//!
//! A mask over `(input channel within the group, output channel)`, stored `[I, O]` row-major like
//! the last two axes of the weights (for `groups = 1`, simply `[in_channels, out_channels]`):
//! where it is `false` the weights are taken as zero in forward and backward-data, and their
//! gradient is set to zero (LeNet-5's C3 connection table).

use super::matmul::{Layout, Operand, Target, multiply};
use super::parallel::{for_each_part, map_parts};
use super::{Compute, Nhwc, Padding, TensorError, element_count, expect_length, output_extent};
use std::borrow::Cow;
use std::ops::Range;

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
        }
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

/// Computes `output = conv(input, weights) + bias`. `input` is NHWC as `geometry.input`,
/// `weights` HWIO (`[KH, KW, in_channels / groups, output_channels]`), `bias` one value per
/// output channel, `output` NHWC as [`Conv2dGeometry::output`]; it is overwritten.
pub fn conv2d_forward(
    geometry: &Conv2dGeometry,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
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
    let (parts, inner) = plan.split(compute);
    for_each_part(output, plan.output_per_image, parts, |images, output| {
        plan.forward_part(input, &weights, bias, images, output, inner)
    })
    .into_iter()
    .collect()
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
    let (parts, inner) = plan.split(compute);
    for_each_part(
        input_gradient,
        plan.input_per_image,
        parts,
        |images, gradient| {
            plan.backward_data_part(output_gradient, &weights, images, gradient, inner)
        },
    )
    .into_iter()
    .collect()
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
    expect_length("convolution input", input.len(), plan.input_len)?;
    expect_length("output gradient", output_gradient.len(), plan.output_len)?;
    expect_length("weight gradient", weight_gradient.len(), plan.weight_len)?;
    let (parts, inner) = plan.split(compute);
    let partial_sums = map_parts(plan.output.batch, parts, |images| {
        plan.weight_gradient_part(input, output_gradient, images, inner)
    });
    weight_gradient.fill(0.0);
    for partial in partial_sums {
        for (sum, value) in weight_gradient.iter_mut().zip(partial?) {
            *sum += value;
        }
    }
    if let Some(mask) = &geometry.mask {
        // The mask repeats over the kernel taps: weight index mod (I·O) is its mask index.
        for (weight, &connected) in weight_gradient.iter_mut().zip(mask.iter().cycle()) {
            if !connected {
                *weight = 0.0;
            }
        }
    }
    Ok(())
}

/// Computes the gradient of the loss with respect to a bias: the sum of `output_gradient` over
/// every position but the last axis (`channels` values per position). Works for any
/// channels-last tensor (NHWC convolution outputs, `[batch, features]` dense outputs).
/// `bias_gradient` is overwritten. Sums run in f64 over a fixed split of the positions.
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
    let partial_sums = map_parts(positions, compute.threads(), |range| {
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

/// A checked convolution geometry with every derived size the kernels need.
#[derive(Debug)]
struct Plan {
    input: Nhwc,
    output: Nhwc,
    kernel_height: usize,
    kernel_width: usize,
    stride_y: usize,
    stride_x: usize,
    dilation_y: usize,
    dilation_x: usize,
    pad_top: usize,
    pad_left: usize,
    groups: usize,
    /// Input channels per group (I).
    group_in: usize,
    /// Output channels per group.
    group_out: usize,
    /// Columns of `Col`: KH·KW·I.
    depth: usize,
    pixels_per_image: usize,
    input_per_image: usize,
    output_per_image: usize,
    input_len: usize,
    output_len: usize,
    weight_len: usize,
    /// Column values per image (0 when the input is used directly).
    columns_per_image: usize,
    /// A 1×1, stride-1, unpadded kernel: the input is its own column matrix.
    direct: bool,
    /// One group and no horizontal dilation: the taps of a kernel row that fall inside the image
    /// read one contiguous run of input.
    contiguous_rows: bool,
}

impl Plan {
    fn new(geometry: &Conv2dGeometry) -> Result<Plan, TensorError> {
        let input = geometry.input;
        let groups = geometry.groups;
        let invalid = |reason: String| Err(TensorError::Geometry { reason });
        if input.height == 0 || input.width == 0 || input.channels == 0 {
            return invalid(format!(
                "the input {}×{}×{} has an empty axis",
                input.height, input.width, input.channels
            ));
        }
        if geometry.output_channels == 0 {
            return invalid("a convolution needs at least one output channel".to_string());
        }
        if groups == 0
            || !input.channels.is_multiple_of(groups)
            || !geometry.output_channels.is_multiple_of(groups)
        {
            return invalid(format!(
                "{groups} groups do not divide {} input and {} output channels",
                input.channels, geometry.output_channels
            ));
        }
        let (kernel_height, kernel_width) = geometry.kernel;
        let (stride_y, stride_x) = geometry.stride;
        let (dilation_y, dilation_x) = geometry.dilation;
        let padding = geometry.padding;
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
        let output = Nhwc::new(input.batch, height, width, geometry.output_channels);
        let group_in = input.channels / groups;
        let group_out = geometry.output_channels / groups;
        let depth = element_count(&[kernel_height, kernel_width, group_in])?;
        let weight_len = element_count(&[depth, geometry.output_channels])?;
        if let Some(mask) = &geometry.mask {
            expect_length(
                "connection mask",
                mask.len(),
                group_in * geometry.output_channels,
            )?;
        }
        let direct = kernel_height == 1
            && kernel_width == 1
            && stride_y == 1
            && stride_x == 1
            && padding == Padding::default();
        let pixels_per_image = element_count(&[height, width])?;
        let columns_per_image = if direct {
            0
        } else {
            element_count(&[pixels_per_image, depth])?
        };
        // The whole batch's columns need not fit in memory, but their count must fit in usize
        // so that chunk offsets cannot overflow.
        element_count(&[columns_per_image, input.batch])?;
        Ok(Plan {
            input,
            output,
            kernel_height,
            kernel_width,
            stride_y,
            stride_x,
            dilation_y,
            dilation_x,
            pad_top: padding.top,
            pad_left: padding.left,
            groups,
            group_in,
            group_out,
            depth,
            pixels_per_image,
            input_per_image: element_count(&[input.height, input.width, input.channels])?,
            output_per_image: element_count(&[height, width, geometry.output_channels])?,
            input_len: input.len()?,
            output_len: output.len()?,
            weight_len,
            columns_per_image,
            direct,
            contiguous_rows: groups == 1 && dilation_x == 1,
        })
    }

    /// How the batch is shared out: one part of images per thread (at most one per image), each
    /// run single-threaded with its share of the workspace; a single part keeps every thread
    /// for its products.
    fn split(&self, compute: Compute) -> (usize, Compute) {
        let parts = compute.threads().min(self.input.batch).max(1);
        if parts > 1 {
            let share = compute.workspace_bytes() / parts;
            (parts, Compute::single().with_workspace_bytes(share))
        } else {
            (1, compute)
        }
    }

    /// How many images one chunk holds so that its columns fit `workspace_bytes` (at least 1).
    fn images_per_chunk(&self, workspace_bytes: usize) -> usize {
        let bytes_per_image = self.columns_per_image.saturating_mul(size_of::<f32>());
        workspace_bytes
            .checked_div(bytes_per_image)
            .unwrap_or(usize::MAX)
            .max(1)
    }

    /// The images cut into consecutive chunks.
    fn chunks(&self, images: Range<usize>, workspace_bytes: usize) -> Vec<Range<usize>> {
        let per_chunk = self.images_per_chunk(workspace_bytes);
        let end = images.end;
        images
            .step_by(per_chunk)
            .map(|start| start..start.saturating_add(per_chunk).min(end))
            .collect()
    }

    /// A column buffer for the largest chunk of `images`.
    fn column_buffer(&self, images: &Range<usize>, workspace_bytes: usize) -> Vec<f32> {
        let images = self.images_per_chunk(workspace_bytes).min(images.len());
        vec![0.0; images * self.columns_per_image]
    }

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

    /// Group `group`'s weights: `depth × group_out`, a column block of the HWIO array.
    fn group_weights<'a>(&self, weights: &'a [f32], group: usize) -> Operand<'a> {
        Operand {
            data: weights,
            layout: Layout::row_major(
                group * self.group_out,
                self.depth,
                self.group_out,
                self.output.channels,
            ),
        }
    }

    /// Group `group`'s block of an NHWC output-shaped array for the images from `first_image`
    /// on, counted from the start of `data`.
    fn output_block(&self, first_image: usize, pixels: usize, group: usize) -> Layout {
        Layout::row_major(
            first_image * self.output_per_image + group * self.group_out,
            pixels,
            self.group_out,
            self.output.channels,
        )
    }

    /// Group `group`'s block of an NHWC input-shaped array (the direct kernel's `Col`).
    fn input_block(&self, first_image: usize, pixels: usize, group: usize) -> Layout {
        Layout::row_major(
            first_image * self.input_per_image + group * self.group_in,
            pixels,
            self.group_in,
            self.input.channels,
        )
    }

    /// The column matrix of group `group` for a chunk of images (`pixels × depth`): the input
    /// itself for a direct kernel, else gathered into `buffer`.
    fn columns<'a>(
        &self,
        input: &'a [f32],
        images: Range<usize>,
        group: usize,
        buffer: &'a mut [f32],
        threads: usize,
    ) -> Result<Operand<'a>, TensorError> {
        let pixels = images.len() * self.pixels_per_image;
        if self.direct {
            return Ok(Operand {
                data: input,
                layout: self.input_block(images.start, pixels, group),
            });
        }
        let length = images.len() * self.columns_per_image;
        let available = buffer.len();
        let buffer = buffer.get_mut(..length).ok_or(TensorError::Length {
            what: "column buffer",
            expected: length,
            actual: available,
        })?;
        self.gather_columns(input, images.start, group, buffer, threads);
        Ok(Operand {
            data: buffer,
            layout: Layout::row_major(0, pixels, self.depth, self.depth),
        })
    }

    /// Forward for the images `images`, whose output is `output`.
    fn forward_part(
        &self,
        input: &[f32],
        weights: &[f32],
        bias: Option<&[f32]>,
        images: Range<usize>,
        output: &mut [f32],
        compute: Compute,
    ) -> Result<(), TensorError> {
        let mut buffer = self.column_buffer(&images, compute.workspace_bytes());
        for chunk in self.chunks(images.clone(), compute.workspace_bytes()) {
            let pixels = chunk.len() * self.pixels_per_image;
            let local_start = chunk.start - images.start;
            for group in 0..self.groups {
                let columns =
                    self.columns(input, chunk.clone(), group, &mut buffer, compute.threads())?;
                let target = Target {
                    data: &mut *output,
                    layout: self.output_block(local_start, pixels, group),
                };
                let weights = self.group_weights(weights, group);
                multiply(target, columns, weights, 1.0, 0.0, compute.threads())?;
            }
            if let Some(bias) = bias {
                // Added while the chunk's output is still in cache.
                let chunk_output = &mut output[local_start * self.output_per_image..]
                    [..chunk.len() * self.output_per_image];
                for pixel in chunk_output.chunks_exact_mut(self.output.channels) {
                    for (value, &offset) in pixel.iter_mut().zip(bias) {
                        *value += offset;
                    }
                }
            }
        }
        Ok(())
    }

    /// Backward-data for the images `images`, whose input gradient is `input_gradient`.
    fn backward_data_part(
        &self,
        output_gradient: &[f32],
        weights: &[f32],
        images: Range<usize>,
        input_gradient: &mut [f32],
        compute: Compute,
    ) -> Result<(), TensorError> {
        if !self.direct {
            input_gradient.fill(0.0);
        }
        let mut buffer = self.column_buffer(&images, compute.workspace_bytes());
        for chunk in self.chunks(images.clone(), compute.workspace_bytes()) {
            let pixels = chunk.len() * self.pixels_per_image;
            let local_start = chunk.start - images.start;
            for group in 0..self.groups {
                let gradient = Operand {
                    data: output_gradient,
                    layout: self.output_block(chunk.start, pixels, group),
                };
                let weights = self.group_weights(weights, group);
                let weights_transposed = Operand {
                    data: weights.data,
                    layout: weights.layout.transposed(),
                };
                if self.direct {
                    // The input gradient block is dY·Wᵀ itself.
                    let target = Target {
                        data: &mut *input_gradient,
                        layout: self.input_block(local_start, pixels, group),
                    };
                    multiply(
                        target,
                        gradient,
                        weights_transposed,
                        1.0,
                        0.0,
                        compute.threads(),
                    )?;
                } else {
                    let length = chunk.len() * self.columns_per_image;
                    let columns = &mut buffer[..length];
                    let target = Target {
                        data: &mut *columns,
                        layout: Layout::row_major(0, pixels, self.depth, self.depth),
                    };
                    multiply(
                        target,
                        gradient,
                        weights_transposed,
                        1.0,
                        0.0,
                        compute.threads(),
                    )?;
                    let chunk_gradient = &mut input_gradient[local_start * self.input_per_image..]
                        [..chunk.len() * self.input_per_image];
                    self.scatter_columns(columns, group, chunk_gradient, compute.threads());
                }
            }
        }
        Ok(())
    }

    /// `Σ Colᵀ·dY` over the images `images`, in chunks, into a fresh weight-gradient array.
    fn weight_gradient_part(
        &self,
        input: &[f32],
        output_gradient: &[f32],
        images: Range<usize>,
        compute: Compute,
    ) -> Result<Vec<f32>, TensorError> {
        let mut partial = vec![0.0f32; self.weight_len];
        let mut buffer = self.column_buffer(&images, compute.workspace_bytes());
        for chunk in self.chunks(images, compute.workspace_bytes()) {
            let pixels = chunk.len() * self.pixels_per_image;
            for group in 0..self.groups {
                let columns =
                    self.columns(input, chunk.clone(), group, &mut buffer, compute.threads())?;
                let columns_transposed = Operand {
                    data: columns.data,
                    layout: columns.layout.transposed(),
                };
                let gradient = Operand {
                    data: output_gradient,
                    layout: self.output_block(chunk.start, pixels, group),
                };
                let target = Target {
                    data: &mut partial,
                    layout: Layout::row_major(
                        group * self.group_out,
                        self.depth,
                        self.group_out,
                        self.output.channels,
                    ),
                };
                multiply(
                    target,
                    columns_transposed,
                    gradient,
                    1.0,
                    1.0,
                    compute.threads(),
                )?;
            }
        }
        Ok(partial)
    }

    /// Visits the runs of one column row (output pixel `output_y`, `output_x`, group `group`)
    /// in order: `visit(start in the row, length, source)`, where `source` is the offset in the
    /// image's input of the run's first value, or `None` for a run of padding.
    fn for_each_run(
        &self,
        output_y: usize,
        output_x: usize,
        group: usize,
        mut visit: impl FnMut(usize, usize, Option<usize>),
    ) {
        let kernel_row = self.kernel_width * self.group_in;
        let channel_start = group * self.group_in;
        let width = self.input.width;
        for tap_y in 0..self.kernel_height {
            let row_start = tap_y * kernel_row;
            let y = (output_y * self.stride_y + tap_y * self.dilation_y)
                .checked_sub(self.pad_top)
                .filter(|&y| y < self.input.height);
            let Some(y) = y else {
                visit(row_start, kernel_row, None);
                continue;
            };
            if self.contiguous_rows
                && let Some(first_x) = (output_x * self.stride_x).checked_sub(self.pad_left)
                && first_x + self.kernel_width <= width
            {
                visit(
                    row_start,
                    kernel_row,
                    Some((y * width + first_x) * self.input.channels),
                );
                continue;
            }
            for tap_x in 0..self.kernel_width {
                let x = (output_x * self.stride_x + tap_x * self.dilation_x)
                    .checked_sub(self.pad_left)
                    .filter(|&x| x < width);
                let source = x.map(|x| (y * width + x) * self.input.channels + channel_start);
                visit(row_start + tap_x * self.group_in, self.group_in, source);
            }
        }
    }

    /// im2col: fills `columns` (`images × pixels × depth`) for group `group` of the images
    /// starting at `first_image`, split over images into `threads` parts.
    fn gather_columns(
        &self,
        input: &[f32],
        first_image: usize,
        group: usize,
        columns: &mut [f32],
        threads: usize,
    ) {
        for_each_part(columns, self.columns_per_image, threads, |images, part| {
            for (local, image_columns) in part.chunks_exact_mut(self.columns_per_image).enumerate()
            {
                let image = first_image + images.start + local;
                let image_input = &input[image * self.input_per_image..][..self.input_per_image];
                let mut rows = image_columns.chunks_exact_mut(self.depth);
                for output_y in 0..self.output.height {
                    for output_x in 0..self.output.width {
                        let Some(row) = rows.next() else { return };
                        self.for_each_run(output_y, output_x, group, |start, length, source| {
                            let run = &mut row[start..start + length];
                            match source {
                                Some(source) => {
                                    run.copy_from_slice(&image_input[source..source + length]);
                                }
                                None => run.fill(0.0),
                            }
                        });
                    }
                }
            }
        });
    }

    /// col2im: adds every value of `columns` (group `group`, images of `input_gradient`) to the
    /// input gradient value it stands for, split over images into `threads` parts.
    fn scatter_columns(
        &self,
        columns: &[f32],
        group: usize,
        input_gradient: &mut [f32],
        threads: usize,
    ) {
        for_each_part(
            input_gradient,
            self.input_per_image,
            threads,
            |images, part| {
                for (local, image_gradient) in
                    part.chunks_exact_mut(self.input_per_image).enumerate()
                {
                    let image = images.start + local;
                    let image_columns =
                        &columns[image * self.columns_per_image..][..self.columns_per_image];
                    let mut rows = image_columns.chunks_exact(self.depth);
                    for output_y in 0..self.output.height {
                        for output_x in 0..self.output.width {
                            let Some(row) = rows.next() else { return };
                            self.for_each_run(
                                output_y,
                                output_x,
                                group,
                                |start, length, source| {
                                    if let Some(source) = source {
                                        let sums = &mut image_gradient[source..source + length];
                                        for (sum, &value) in sums.iter_mut().zip(&row[start..]) {
                                            *sum += value;
                                        }
                                    }
                                },
                            );
                        }
                    }
                }
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    /// pointwise (direct) kernel; a workspace of 0 forces one image per chunk.
    fn cases() -> impl Strategy<Value = Case> {
        let sizes = (
            1usize..3,
            1usize..4,
            1usize..4,
            1usize..4,
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
        );
        (sizes, options).prop_map(
            |(
                (batch, groups, group_in, group_out, kernel, stride, dilation, pads, extra),
                (pointwise, masked, with_bias, seed, threads, workspace),
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
                    .with_groups(groups);
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
                        .with_workspace_bytes(workspace),
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

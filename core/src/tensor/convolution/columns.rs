//! The other method of `convolution`: im2col + GEMM, kept beside the direct register-tile
//! kernels for the layers where it is faster (see [`super::Method`]).
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
//! The batch is cut into chunks of images whose columns fit half the [`Compute`] workspace (at
//! least one image per chunk; [`chunk_bytes`]), and the chunks into one contiguous run per
//! thread; each run has its own column buffer and single-threaded products, and the columns of a
//! chunk are still in cache when the product reads them.
//!
//! # Wide rows: no column matrix
//!
//! With one group, stride 1, no dilation and no padding, on images wide enough (the Keras MNIST
//! CNN's second layer; not LeNet-5's C3 and C5, where it measured slower), forward and
//! backward-weights build no columns at all: each image's
//! product is cut into one product per kernel row, whose column matrix is the input itself read
//! with a row stride of one pixel (see `Plan::wide_rows`). The output rows between two output
//! rows' pixels are computed and thrown away (`W_in / W_out` times the work: 26/24 on the Keras
//! CNN), which costs less than writing and reading `KH·KW` copies of the input. Backward-data
//! keeps its columns: its wide matrices' rows would overlap where they are written. Forward and backward-data write
//! disjoint images per run. Backward-weights sums the batch in [`FIXED_PARTS`] fixed image
//! blocks (as the direct kernels do), one partial `dW` per block, added in block order. Neither
//! the chunks nor the blocks depend on the thread count, so neither do the results. A 1×1
//! kernel with stride 1 and no padding needs no columns: the input itself is `Col`.
//!
//! The backward functions take the gradient with respect to the pre-activation sums (`· f′`
//! from the forward output) chunk by chunk, where a product reads it, never for the whole batch
//! at once; backward-weights also sums the bias gradient there, per image block.
//!
//! The functions here take the weights already masked and leave the masked weights' gradient
//! to the caller.

use super::super::matmul::{Layout, Operand, Target, multiply};
use super::super::parallel::{FIXED_PARTS, for_each_part, map_each, map_fixed_parts, split};
use super::super::pointwise::{Pointwise, add_bias_and_apply};
use super::super::{Compute, Instructions, Padding, TensorError, element_count};
use super::{Conv2dGeometry, Sizes, Upstream};
use std::ops::Range;

/// The bytes of columns one product reads at a time: half the workspace, so that two threads'
/// chunks fit it. It does not depend on the thread count, and neither do the chunks' bounds
/// (multiples of one chunk's images), so every product, and so every result, is the same for
/// any thread count.
fn chunk_bytes(compute: Compute) -> usize {
    compute.workspace_bytes() / 2
}

/// `output = function(conv(input, weights) + bias)` (lengths checked by the caller); the bias
/// and the function are applied to each chunk's output while it is still in cache.
pub(super) fn forward(
    geometry: &Conv2dGeometry,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    function: Pointwise,
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    let (parts, inner) = plan.parts(compute);
    let epilogue = Epilogue { bias, function };
    for_each_range(output, plan.output_per_image, &parts, |images, output| {
        plan.forward_part(input, weights, epilogue, images, output, inner)
    })
}

/// What the forward pass does to each chunk of products before it leaves the cache.
#[derive(Debug, Clone, Copy)]
struct Epilogue<'a> {
    bias: Option<&'a [f32]>,
    function: Pointwise,
}

/// ∂loss/∂input from ∂loss/∂output (and the activation to undo); `input_gradient` is
/// overwritten.
pub(super) fn backward_data(
    geometry: &Conv2dGeometry,
    upstream: Upstream<'_>,
    weights: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    let (parts, inner) = plan.parts(compute);
    for_each_range(
        input_gradient,
        plan.input_per_image,
        &parts,
        |images, gradient| plan.backward_data_part(upstream, weights, images, gradient, inner),
    )
}

/// Runs `work(images, values)` on the consecutive image ranges `parts` of `data` (`per_image`
/// values per image), one task per range, and returns the first error.
fn for_each_range(
    data: &mut [f32],
    per_image: usize,
    parts: &[Range<usize>],
    work: impl Fn(Range<usize>, &mut [f32]) -> Result<(), TensorError> + Sync,
) -> Result<(), TensorError> {
    let mut pieces = Vec::with_capacity(parts.len());
    let mut rest = data;
    for range in parts {
        let (piece, tail) = rest.split_at_mut(range.len() * per_image);
        pieces.push((range.clone(), piece));
        rest = tail;
    }
    if pieces.len() <= 1 {
        return pieces
            .into_iter()
            .try_for_each(|(range, piece)| work(range, piece));
    }
    map_each(pieces, |(range, piece)| work(range, piece))
        .into_iter()
        .collect()
}

/// ∂loss/∂weights (HWIO) and, when `bias_gradient` is given, ∂loss/∂bias from the forward
/// input and ∂loss/∂output (and the activation to undo); both are overwritten (the caller
/// zeroes masked weights). The bias sums run in f64 over the same fixed image blocks as the
/// weights', added in block order.
pub(super) fn backward_weights(
    geometry: &Conv2dGeometry,
    input: &[f32],
    upstream: Upstream<'_>,
    weight_gradient: &mut [f32],
    bias_gradient: Option<&mut [f32]>,
    compute: Compute,
) -> Result<(), TensorError> {
    let plan = Plan::new(geometry)?;
    let inner = Compute {
        threads: 1,
        workspace_bytes: chunk_bytes(compute),
        ..compute
    };
    let with_bias = bias_gradient.is_some();
    let partial_sums = map_fixed_parts(
        plan.output.batch,
        FIXED_PARTS,
        compute.threads(),
        |images| plan.weight_gradient_part(input, upstream, images, with_bias, inner),
    );
    weight_gradient.fill(0.0);
    let mut bias_totals = vec![0.0f64; plan.output.channels];
    for partial in partial_sums {
        let Partial { weights, bias } = partial?;
        for (sum, value) in weight_gradient.iter_mut().zip(weights) {
            *sum += value;
        }
        for (total, sum) in bias_totals.iter_mut().zip(bias) {
            *total += sum;
        }
    }
    if let Some(bias_gradient) = bias_gradient {
        for (gradient, total) in bias_gradient.iter_mut().zip(bias_totals) {
            *gradient = total as f32;
        }
    }
    Ok(())
}

/// One image block's share of the weight and bias gradients.
struct Partial {
    weights: Vec<f32>,
    /// Empty when no bias gradient is wanted.
    bias: Vec<f64>,
}

/// Adds every row of `gradient` (`channels` values per pixel) to `sums`, in f64.
fn add_rows(sums: &mut [f64], gradient: &[f32]) {
    let channels = sums.len();
    for row in gradient.chunks_exact(channels) {
        for (sum, &value) in sums.iter_mut().zip(row) {
            *sum += f64::from(value);
        }
    }
}

/// A wide plan drops at most one row in this many (see [`Plan::wide`]).
const WIDE_MAXIMUM_WASTE: usize = 8;

/// A wide plan needs at least this many output pixels per image (see [`Plan::wide`]).
const WIDE_MINIMUM_PIXELS: usize = 64;

/// The im2col method's plan: the checked sizes, and how the column matrix is made.
#[derive(Debug)]
struct Plan {
    sizes: Sizes,
    /// Column values per image (0 when the input is used directly).
    columns_per_image: usize,
    /// A 1×1, stride-1, unpadded kernel: the input is its own column matrix.
    direct: bool,
    /// One group and no horizontal dilation: the taps of a kernel row that fall inside the image
    /// read one contiguous run of input.
    contiguous_rows: bool,
    /// One group, stride 1, no dilation, no padding (and not `direct`), at most one row in
    /// [`WIDE_MAXIMUM_WASTE`] thrown away and at least [`WIDE_MINIMUM_PIXELS`] output pixels
    /// per image: the products read the input in place as *wide rows* (see
    /// [`Plan::wide_rows`]) instead of gathering columns.
    wide: bool,
    /// For a `wide` plan, the rows of one image's wide matrices: output pixel `(y, x)` is row
    /// `y·W_in + x`, and the `W_in − W_out` rows after each output row's last pixel are
    /// computed and thrown away. Kernel row `ky`'s columns `(kx, i)` of row `r` are the
    /// `KW·I` input values from offset `(r + ky·W_in)·I` on, one contiguous run, so the
    /// matrix is the input itself with row stride `I`.
    wide_rows: usize,
}

impl std::ops::Deref for Plan {
    type Target = Sizes;

    fn deref(&self) -> &Sizes {
        &self.sizes
    }
}

impl Plan {
    fn new(geometry: &Conv2dGeometry) -> Result<Plan, TensorError> {
        let sizes = geometry.sizes()?;
        let input = sizes.input;
        let (height, width) = (sizes.output.height, sizes.output.width);
        let unit_stride = (sizes.stride_y, sizes.stride_x) == (1, 1);
        let unit_dilation = (sizes.dilation_y, sizes.dilation_x) == (1, 1);
        let unpadded = geometry.padding == Padding::default();
        let direct = sizes.kernel_height == 1 && sizes.kernel_width == 1 && unit_stride && unpadded;
        let columns_per_image = if direct {
            0
        } else {
            element_count(&[sizes.pixels_per_image, sizes.depth])?
        };
        // The whole batch's columns need not fit in memory, but their count must fit in usize
        // so that chunk offsets cannot overflow.
        element_count(&[columns_per_image, input.batch])?;
        // Worth it only when few rows are thrown away and the products have rows enough:
        // measured, it saves ~4 % of the Keras CNN's training (24 of 26 rows kept, 576 pixels)
        // and costs ~13 % of LeNet-5's (C3 keeps 10 of 14 rows; C5 has one pixel per image).
        let wide = !direct
            && sizes.groups == 1
            && unit_stride
            && unit_dilation
            && unpadded
            && (input.width - width) * WIDE_MAXIMUM_WASTE <= input.width
            && sizes.pixels_per_image >= WIDE_MINIMUM_PIXELS;
        let wide_rows = if wide {
            height.saturating_sub(1) * input.width + width
        } else {
            0
        };
        Ok(Plan {
            contiguous_rows: sizes.groups == 1 && sizes.dilation_x == 1,
            sizes,
            columns_per_image,
            direct,
            wide,
            wide_rows,
        })
    }

    /// How the batch is shared out: chunks of images whose columns fit [`chunk_bytes`], cut
    /// into one contiguous run of chunks per thread (image ranges starting at multiples of a
    /// chunk), each run single-threaded (with the caller's vector instructions).
    fn parts(&self, compute: Compute) -> (Vec<Range<usize>>, Compute) {
        let bytes = chunk_bytes(compute);
        let per_chunk = self.images_per_chunk(bytes);
        let batch = self.input.batch;
        let parts = split(batch.div_ceil(per_chunk), compute.threads())
            .into_iter()
            .map(|chunks| {
                chunks.start.saturating_mul(per_chunk)
                    ..chunks.end.saturating_mul(per_chunk).min(batch)
            })
            .collect();
        let inner = Compute {
            threads: 1,
            workspace_bytes: bytes,
            ..compute
        };
        (parts, inner)
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
        epilogue: Epilogue<'_>,
        images: Range<usize>,
        output: &mut [f32],
        compute: Compute,
    ) -> Result<(), TensorError> {
        if self.wide {
            let mut wide = vec![0.0; self.wide_rows * self.output.channels];
            for (local, image_output) in output.chunks_exact_mut(self.output_per_image).enumerate()
            {
                self.forward_wide(input, weights, images.start + local, &mut wide)?;
                let row = self.output.width * self.output.channels;
                let wide_row = self.input.width * self.output.channels;
                for (output_row, wide_start) in image_output
                    .chunks_exact_mut(row)
                    .zip((0..).step_by(wide_row))
                {
                    output_row.copy_from_slice(&wide[wide_start..][..row]);
                }
                add_bias_and_apply(image_output, epilogue.bias, epilogue.function, compute);
            }
            return Ok(());
        }
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
            // Bias and activation while the chunk's output is still in cache.
            let chunk_output = &mut output[local_start * self.output_per_image..]
                [..chunk.len() * self.output_per_image];
            add_bias_and_apply(chunk_output, epilogue.bias, epilogue.function, compute);
        }
        Ok(())
    }

    /// The pre-activation gradient of the images `images`: the output gradient itself (with
    /// the index of its first image) when there is no activation to undo, else taken into
    /// `buffer` (first image 0).
    fn pre_activation<'a>(
        &self,
        upstream: Upstream<'a>,
        images: &Range<usize>,
        buffer: &'a mut Vec<f32>,
        instructions: Instructions,
    ) -> (&'a [f32], usize) {
        if upstream.activation.is_none() {
            return (upstream.gradient, images.start);
        }
        buffer.resize(images.len() * self.output_per_image, 0.0);
        upstream.pre_activation_into(instructions, images.start * self.output_per_image, buffer);
        (buffer, 0)
    }

    /// Backward-data for the images `images`, whose input gradient is `input_gradient`.
    fn backward_data_part(
        &self,
        upstream: Upstream<'_>,
        weights: &[f32],
        images: Range<usize>,
        input_gradient: &mut [f32],
        compute: Compute,
    ) -> Result<(), TensorError> {
        let mut buffer = self.column_buffer(&images, compute.workspace_bytes());
        let mut pre_activation = Vec::new();
        for chunk in self.chunks(images.clone(), compute.workspace_bytes()) {
            let pixels = chunk.len() * self.pixels_per_image;
            let local_start = chunk.start - images.start;
            let (output_gradient, first) = self.pre_activation(
                upstream,
                &chunk,
                &mut pre_activation,
                compute.instructions(),
            );
            let chunk_gradient = &mut input_gradient[local_start * self.input_per_image..]
                [..chunk.len() * self.input_per_image];
            if !self.direct {
                // Zeroed here, while the scatter below still finds it in cache.
                chunk_gradient.fill(0.0);
            }
            for group in 0..self.groups {
                let gradient = Operand {
                    data: output_gradient,
                    layout: self.output_block(first, pixels, group),
                };
                let weights = self.group_weights(weights, group);
                let weights_transposed = Operand {
                    data: weights.data,
                    layout: weights.layout.transposed(),
                };
                if self.direct {
                    // The input gradient block is dY·Wᵀ itself.
                    let target = Target {
                        data: &mut *chunk_gradient,
                        layout: self.input_block(0, pixels, group),
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
                    self.scatter_columns(columns, group, chunk_gradient, compute.threads());
                }
            }
        }
        Ok(())
    }

    /// Kernel row `tap_y`'s wide matrix of image `image` (`wide_rows × KW·I`): the input in
    /// place, rows `I` apart.
    fn wide_columns<'a>(&self, input: &'a [f32], image: usize, tap_y: usize) -> Operand<'a> {
        let channels = self.input.channels;
        Operand {
            data: input,
            layout: Layout {
                offset: image * self.input_per_image + tap_y * self.input.width * channels,
                rows: self.wide_rows,
                columns: self.kernel_width * channels,
                row_stride: channels,
                column_stride: 1,
            },
        }
    }

    /// Kernel row `tap_y`'s weight rows (`KW·I × O`), or their gradient's.
    fn tap_row_layout(&self, tap_y: usize) -> Layout {
        let depth = self.kernel_width * self.input.channels;
        let channels = self.output.channels;
        Layout::row_major(tap_y * depth * channels, depth, channels, channels)
    }

    /// A wide plan's forward product for image `image`: `wide = Σ_ky Col_ky·W_ky`
    /// (`wide_rows × O`, before bias and activation), one product per kernel row.
    fn forward_wide(
        &self,
        input: &[f32],
        weights: &[f32],
        image: usize,
        wide: &mut [f32],
    ) -> Result<(), TensorError> {
        let channels = self.output.channels;
        for tap_y in 0..self.kernel_height {
            let target = Target {
                data: &mut *wide,
                layout: Layout::row_major(0, self.wide_rows, channels, channels),
            };
            let tap_weights = Operand {
                data: weights,
                layout: self.tap_row_layout(tap_y),
            };
            let beta = if tap_y == 0 { 0.0 } else { 1.0 };
            multiply(
                target,
                self.wide_columns(input, image, tap_y),
                tap_weights,
                1.0,
                beta,
                1,
            )?;
        }
        Ok(())
    }

    /// A wide plan's `Σ Col_kyᵀ·dY` over the images `images` into a fresh weight-gradient
    /// array: each image's pre-activation gradient is taken into the wide rows (zeros in the
    /// rows that are thrown away), then one product per kernel row.
    fn weight_gradient_wide(
        &self,
        input: &[f32],
        upstream: Upstream<'_>,
        images: Range<usize>,
        bias: &mut [f64],
        instructions: Instructions,
    ) -> Result<Vec<f32>, TensorError> {
        let channels = self.output.channels;
        let mut partial = vec![0.0f32; self.weight_len];
        let mut wide = vec![0.0f32; self.wide_rows * channels];
        let row = self.output.width * channels;
        let wide_row = self.input.width * channels;
        for image in images {
            for (output_y, wide_start) in (0..self.output.height).zip((0..).step_by(wide_row)) {
                // The thrown-away rows stay zero: only these ranges are ever written.
                let target = &mut wide[wide_start..][..row];
                let start = image * self.output_per_image + output_y * row;
                upstream.pre_activation_into(instructions, start, target);
                if !bias.is_empty() {
                    add_rows(bias, target);
                }
            }
            for tap_y in 0..self.kernel_height {
                let columns = self.wide_columns(input, image, tap_y);
                let columns_transposed = Operand {
                    data: columns.data,
                    layout: columns.layout.transposed(),
                };
                let gradient = Operand {
                    data: &wide,
                    layout: Layout::row_major(0, self.wide_rows, channels, channels),
                };
                let target = Target {
                    data: &mut partial,
                    layout: self.tap_row_layout(tap_y),
                };
                multiply(target, columns_transposed, gradient, 1.0, 1.0, 1)?;
            }
        }
        Ok(partial)
    }

    /// `Σ Colᵀ·dY` over the images `images`, in chunks, into a fresh weight-gradient array,
    /// and the block's bias sums when `with_bias`.
    fn weight_gradient_part(
        &self,
        input: &[f32],
        upstream: Upstream<'_>,
        images: Range<usize>,
        with_bias: bool,
        compute: Compute,
    ) -> Result<Partial, TensorError> {
        let mut bias = vec![0.0f64; if with_bias { self.output.channels } else { 0 }];
        if self.wide {
            let weights = self.weight_gradient_wide(
                input,
                upstream,
                images,
                &mut bias,
                compute.instructions(),
            )?;
            return Ok(Partial { weights, bias });
        }
        let mut partial = vec![0.0f32; self.weight_len];
        let mut buffer = self.column_buffer(&images, compute.workspace_bytes());
        let mut pre_activation = Vec::new();
        for chunk in self.chunks(images, compute.workspace_bytes()) {
            let pixels = chunk.len() * self.pixels_per_image;
            let (output_gradient, first) = self.pre_activation(
                upstream,
                &chunk,
                &mut pre_activation,
                compute.instructions(),
            );
            if with_bias {
                let start = first * self.output_per_image;
                add_rows(
                    &mut bias,
                    &output_gradient[start..][..chunk.len() * self.output_per_image],
                );
            }
            for group in 0..self.groups {
                let columns =
                    self.columns(input, chunk.clone(), group, &mut buffer, compute.threads())?;
                let columns_transposed = Operand {
                    data: columns.data,
                    layout: columns.layout.transposed(),
                };
                let gradient = Operand {
                    data: output_gradient,
                    layout: self.output_block(first, pixels, group),
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
        Ok(Partial {
            weights: partial,
            bias,
        })
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

/// Inputs `(height, width)` and kernels that take the wide rows, for the tests of both modules.
#[cfg(test)]
pub(super) const WIDE_TEST_SHAPES: [(usize, usize, (usize, usize)); 6] = [
    (10, 16, (1, 3)),
    (20, 8, (3, 1)),
    (9, 24, (2, 3)),
    (12, 33, (5, 5)),
    (5, 70, (5, 3)),
    (20, 17, (3, 2)),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Nhwc;

    fn wide(input: Nhwc, filters: usize, kernel: (usize, usize)) -> bool {
        Plan::new(&Conv2dGeometry::new(input, filters, kernel))
            .unwrap()
            .wide
    }

    #[test]
    fn the_wide_rows_are_taken_where_they_were_measured_faster() {
        // The Keras CNN's second layer: 24 of 26 rows kept.
        assert!(wide(Nhwc::new(2, 26, 26, 32), 64, (3, 3)));
        // LeNet-5's C3 (10 of 14 rows kept) and C5 (one pixel per image).
        assert!(!wide(Nhwc::new(2, 14, 14, 6), 16, (5, 5)));
        assert!(!wide(Nhwc::new(2, 5, 5, 16), 120, (5, 5)));
        // Padding, stride or groups: columns.
        let padded = Conv2dGeometry::new(Nhwc::new(2, 26, 26, 32), 64, (3, 3))
            .with_padding(Padding::uniform(1));
        assert!(!Plan::new(&padded).unwrap().wide);
        let strided = Conv2dGeometry::new(Nhwc::new(2, 26, 26, 32), 64, (3, 3)).with_stride((1, 2));
        assert!(!Plan::new(&strided).unwrap().wide);
        let grouped = Conv2dGeometry::new(Nhwc::new(2, 26, 26, 32), 64, (3, 3)).with_groups(2);
        assert!(!Plan::new(&grouped).unwrap().wide);
        for (height, width, kernel) in WIDE_TEST_SHAPES {
            assert!(
                wide(Nhwc::new(3, height, width, 3), 5, kernel),
                "{height}×{width}"
            );
        }
    }
}

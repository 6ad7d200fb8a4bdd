//! Pooling of NHWC batches: max and average pooling over sliding 2-D windows (forward and
//! backward), and global average and global max pooling (`[N, H, W, C]` → `[N, C]`).
//!
//! Conventions:
//! - Padding adds cells that never win a max and are never counted in an average: average
//!   pooling divides by the number of real input cells in the window (`count_include_pad =
//!   false`, as Keras does for `padding="same"`). Each padding side must be smaller than the
//!   window along its axis, so every window holds at least one real cell.
//! - Max pooling picks, per channel, the first cell in row-major window order holding the
//!   largest value (a later cell wins only when strictly greater); its backward pass gives the
//!   whole gradient to that cell, recomputing it from the input. Where windows overlap, the
//!   gradients a cell receives add up. NaN inputs give unspecified (but reproducible) results.

mod tiled;

use super::parallel::for_each_part;
use super::{Compute, Nhwc, Padding, TensorError, expect_length, output_extent};
use std::ops::Range;

/// The sizes of one 2-D pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2dGeometry {
    /// The input batch.
    pub input: Nhwc,
    /// Window (height, width).
    pub window: (usize, usize),
    /// Steps between windows (vertical, horizontal).
    pub stride: (usize, usize),
    /// Padding around each image; each side smaller than the window.
    pub padding: Padding,
}

impl Pool2dGeometry {
    /// Non-overlapping windows without padding: the stride equals the window (Keras' default).
    pub fn new(input: Nhwc, window: (usize, usize)) -> Pool2dGeometry {
        Pool2dGeometry {
            input,
            window,
            stride: window,
            padding: Padding::default(),
        }
    }

    /// The same pooling with another stride.
    pub fn with_stride(self, stride: (usize, usize)) -> Pool2dGeometry {
        Pool2dGeometry { stride, ..self }
    }

    /// The same pooling with another padding.
    pub fn with_padding(self, padding: Padding) -> Pool2dGeometry {
        Pool2dGeometry { padding, ..self }
    }

    /// The output batch, after checking that the sizes fit together.
    pub fn output(&self) -> Result<Nhwc, TensorError> {
        let Pool2dGeometry {
            input,
            window,
            stride,
            padding,
        } = *self;
        if input.height == 0 || input.width == 0 || input.channels == 0 {
            return Err(TensorError::Geometry {
                reason: format!(
                    "the input {}×{}×{} has an empty axis",
                    input.height, input.width, input.channels
                ),
            });
        }
        let largest_vertical = padding.top.max(padding.bottom);
        let largest_horizontal = padding.left.max(padding.right);
        if largest_vertical >= window.0 || largest_horizontal >= window.1 {
            return Err(TensorError::Geometry {
                reason: format!(
                    "padding ({}, {}, {}, {}) must be smaller than the {}×{} window on every side",
                    padding.top, padding.bottom, padding.left, padding.right, window.0, window.1
                ),
            });
        }
        let height = output_extent(
            input.height,
            window.0,
            stride.0,
            1,
            padding.top,
            padding.bottom,
        )?;
        let width = output_extent(
            input.width,
            window.1,
            stride.1,
            1,
            padding.left,
            padding.right,
        )?;
        let output = Nhwc::new(input.batch, height, width, input.channels);
        output.len()?;
        self.input.len()?;
        Ok(output)
    }

    /// The input cells window `(output_y, output_x)` covers, padding left out.
    fn window(&self, output_y: usize, output_x: usize) -> Window {
        let top = output_y * self.stride.0;
        let left = output_x * self.stride.1;
        let rows = top.saturating_sub(self.padding.top)
            ..(top + self.window.0)
                .saturating_sub(self.padding.top)
                .min(self.input.height);
        let columns = left.saturating_sub(self.padding.left)
            ..(left + self.window.1)
                .saturating_sub(self.padding.left)
                .min(self.input.width);
        Window {
            rows,
            columns,
            input_width: self.input.width,
            channels: self.input.channels,
        }
    }
}

/// The real (unpadded) input cells one output pixel's window covers.
#[derive(Debug, Clone)]
struct Window {
    /// Input rows covered.
    rows: Range<usize>,
    /// Input columns covered.
    columns: Range<usize>,
    /// The input image's width.
    input_width: usize,
    /// Values per cell.
    channels: usize,
}

impl Window {
    /// How many real cells the window holds.
    fn count(&self) -> usize {
        self.rows.len() * self.columns.len()
    }

    /// Where the window's top-left cell starts among its image's values.
    fn first(&self) -> usize {
        (self.rows.start * self.input_width + self.columns.start) * self.channels
    }

    /// Calls `visit(cell)` for each cell in row-major window order, `cell` being where the
    /// cell starts among its image's values.
    fn for_each_cell(&self, mut visit: impl FnMut(usize)) {
        for y in self.rows.clone() {
            for x in self.columns.clone() {
                visit((y * self.input_width + x) * self.channels);
            }
        }
    }
}

/// Checks a pooling's buffers and returns its output size.
fn check(
    geometry: &Pool2dGeometry,
    input_like: (&'static str, usize),
    output_like: (&'static str, usize),
) -> Result<Nhwc, TensorError> {
    let output = geometry.output()?;
    expect_length(input_like.0, input_like.1, geometry.input.len()?)?;
    expect_length(output_like.0, output_like.1, output.len()?)?;
    Ok(output)
}

/// The loop all 2-D poolings share: calls `visit(scratch, image, image_buffer, pixel, window)`
/// for every output pixel (`pixel` counts them row-major within the image) of every image, in
/// order. `buffer`, the array the pooling writes, holds `buffer_per_image` values per image and
/// is split by whole images over the threads; each thread makes one `scratch` for its images.
fn for_each_window<Scratch>(
    geometry: &Pool2dGeometry,
    output: Nhwc,
    buffer: &mut [f32],
    buffer_per_image: usize,
    compute: Compute,
    scratch: impl Fn() -> Scratch + Sync,
    visit: impl Fn(&mut Scratch, usize, &mut [f32], usize, Window) + Sync,
) {
    for_each_part(
        buffer,
        buffer_per_image,
        compute.threads(),
        |images, part| {
            let mut scratch = scratch();
            for (image, image_buffer) in images.zip(part.chunks_exact_mut(buffer_per_image)) {
                for output_y in 0..output.height {
                    for output_x in 0..output.width {
                        let pixel = output_y * output.width + output_x;
                        let window = geometry.window(output_y, output_x);
                        visit(&mut scratch, image, image_buffer, pixel, window);
                    }
                }
            }
        },
    );
}

/// The body the forward poolings share: checks the buffers, then sets each output pixel's
/// channels with `reduce(image_input, window, pixel_output)`.
fn pool_forward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
    reduce: impl Fn(&[f32], &Window, &mut [f32]) + Sync,
) -> Result<(), TensorError> {
    let size = check(
        geometry,
        ("pooling input", input.len()),
        ("pooling output", output.len()),
    )?;
    let channels = size.channels;
    let input_per_image = geometry.input.height * geometry.input.width * channels;
    let output_per_image = size.height * size.width * channels;
    let per_pixel = |(): &mut (), image: usize, image_output: &mut [f32], pixel, window| {
        let image_input = &input[image * input_per_image..][..input_per_image];
        reduce(
            image_input,
            &window,
            &mut image_output[pixel * channels..][..channels],
        );
    };
    for_each_window(
        geometry,
        size,
        output,
        output_per_image,
        compute,
        || (),
        per_pixel,
    );
    Ok(())
}

/// The body the backward poolings share, run after their checks (`size` is the output):
/// zeroes `input_gradient`, then lets `spread(scratch, image, window, upstream,
/// image_gradient)` add each output pixel's gradient `upstream` into its image's input
/// gradient. Each thread makes one `scratch` for its images.
fn pool_backward<Scratch>(
    geometry: &Pool2dGeometry,
    size: Nhwc,
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
    scratch: impl Fn() -> Scratch + Sync,
    spread: impl Fn(&mut Scratch, usize, &Window, &[f32], &mut [f32]) + Sync,
) {
    let channels = size.channels;
    let input_per_image = geometry.input.height * geometry.input.width * channels;
    let output_per_image = size.height * size.width * channels;
    input_gradient.fill(0.0);
    let per_pixel = |scratch: &mut Scratch, image, image_gradient: &mut [f32], pixel, window| {
        let upstream = &output_gradient[image * output_per_image + pixel * channels..][..channels];
        spread(scratch, image, &window, upstream, image_gradient);
    };
    for_each_window(
        geometry,
        size,
        input_gradient,
        input_per_image,
        compute,
        scratch,
        per_pixel,
    );
}

/// Max pooling: each output value is the largest input value in its window, per channel.
/// `output` (NHWC as [`Pool2dGeometry::output`]) is overwritten.
pub fn max_pool2d_forward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    if tiled::applies(geometry) {
        check(
            geometry,
            ("pooling input", input.len()),
            ("pooling output", output.len()),
        )?;
        tiled::max_forward(geometry, input, output, compute);
        return Ok(());
    }
    pool_forward(
        geometry,
        input,
        output,
        compute,
        |image_input, window, best| {
            let channels = best.len();
            let mut first = true;
            window.for_each_cell(|cell| {
                let cell = &image_input[cell..][..channels];
                if first {
                    best.copy_from_slice(cell);
                    first = false;
                } else {
                    for (best, &value) in best.iter_mut().zip(cell) {
                        if value > *best {
                            *best = value;
                        }
                    }
                }
            });
        },
    )
}

/// The gradient of max pooling with respect to its input: each output gradient goes to the
/// window cell that won the forward max (recomputed from `input`). `input_gradient` is
/// overwritten.
pub fn max_pool2d_backward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let size = check(
        geometry,
        ("pooling input", input.len()),
        ("output gradient", output_gradient.len()),
    )?;
    expect_length("input gradient", input_gradient.len(), input.len())?;
    if tiled::applies(geometry) {
        tiled::max_backward(geometry, input, output_gradient, input_gradient, compute);
        return Ok(());
    }
    let channels = size.channels;
    pool_backward(
        geometry,
        size,
        output_gradient,
        input_gradient,
        compute,
        || vec![0usize; channels],
        |winners, image, window, upstream, image_gradient| {
            let input_per_image = image_gradient.len();
            let image_input = &input[image * input_per_image..][..input_per_image];
            winners.fill(window.first());
            window.for_each_cell(|cell| {
                for (channel, winner) in winners.iter_mut().enumerate() {
                    if image_input[cell + channel] > image_input[*winner + channel] {
                        *winner = cell;
                    }
                }
            });
            for (channel, (&winner, &gradient)) in winners.iter().zip(upstream).enumerate() {
                image_gradient[winner + channel] += gradient;
            }
        },
    );
    Ok(())
}

/// Average pooling: each output value is the mean of the real (unpadded) input cells of its
/// window, per channel. `output` is overwritten.
pub fn average_pool2d_forward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    if tiled::applies(geometry) {
        check(
            geometry,
            ("pooling input", input.len()),
            ("pooling output", output.len()),
        )?;
        tiled::average_forward(geometry, input, output, compute);
        return Ok(());
    }
    pool_forward(
        geometry,
        input,
        output,
        compute,
        |image_input, window, mean| {
            let channels = mean.len();
            mean.fill(0.0);
            window.for_each_cell(|cell| {
                for (sum, &value) in mean.iter_mut().zip(&image_input[cell..][..channels]) {
                    *sum += value;
                }
            });
            let scale = 1.0 / window.count() as f32;
            for value in mean.iter_mut() {
                *value *= scale;
            }
        },
    )
}

/// The gradient of average pooling with respect to its input: each output gradient is shared
/// equally by the real cells of its window. `input_gradient` is overwritten.
pub fn average_pool2d_backward(
    geometry: &Pool2dGeometry,
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let size = check(
        geometry,
        ("input gradient", input_gradient.len()),
        ("output gradient", output_gradient.len()),
    )?;
    if tiled::applies(geometry) {
        tiled::average_backward(geometry, output_gradient, input_gradient, compute);
        return Ok(());
    }
    pool_backward(
        geometry,
        size,
        output_gradient,
        input_gradient,
        compute,
        || (),
        |(), _image, window, upstream, image_gradient| {
            let scale = 1.0 / window.count() as f32;
            window.for_each_cell(|cell| {
                let cell = &mut image_gradient[cell..][..upstream.len()];
                for (sum, &gradient) in cell.iter_mut().zip(upstream) {
                    *sum += gradient * scale;
                }
            });
        },
    );
    Ok(())
}

/// Checks a global pooling's buffers: `image_like` holds `input` values, `pooled_like`
/// `batch · channels`.
fn check_global(
    input: &Nhwc,
    image_like: (&'static str, usize),
    pooled_like: (&'static str, usize),
) -> Result<(), TensorError> {
    if input.height == 0 || input.width == 0 {
        return Err(TensorError::Geometry {
            reason: "global pooling needs at least one pixel per image".to_string(),
        });
    }
    expect_length(image_like.0, image_like.1, input.len()?)?;
    expect_length(pooled_like.0, pooled_like.1, input.batch * input.channels)?;
    Ok(())
}

/// Global average pooling: `output[n, c]` is the mean of channel `c` over image `n`
/// (`[N, H, W, C]` → `[N, C]`). `output` is overwritten.
pub fn global_average_pool_forward(
    size: &Nhwc,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    check_global(
        size,
        ("pooling input", input.len()),
        ("pooling output", output.len()),
    )?;
    let channels = size.channels;
    let input_per_image = size.height * size.width * channels;
    let scale = 1.0 / (size.height * size.width) as f64;
    for_each_part(output, channels, compute.threads(), |images, part| {
        let mut sums = vec![0.0f64; channels];
        for (local, mean) in part.chunks_exact_mut(channels).enumerate() {
            let image_input = &input[(images.start + local) * input_per_image..][..input_per_image];
            sums.fill(0.0);
            for pixel in image_input.chunks_exact(channels) {
                for (sum, &value) in sums.iter_mut().zip(pixel) {
                    *sum += f64::from(value);
                }
            }
            for (mean, &sum) in mean.iter_mut().zip(&sums) {
                *mean = (sum * scale) as f32;
            }
        }
    });
    Ok(())
}

/// The gradient of global average pooling: every pixel of image `n` gets
/// `output_gradient[n, c] / (H·W)`. `input_gradient` is overwritten.
pub fn global_average_pool_backward(
    size: &Nhwc,
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    check_global(
        size,
        ("input gradient", input_gradient.len()),
        ("output gradient", output_gradient.len()),
    )?;
    let channels = size.channels;
    let input_per_image = size.height * size.width * channels;
    let scale = 1.0 / (size.height * size.width) as f32;
    for_each_part(
        input_gradient,
        input_per_image,
        compute.threads(),
        |images, part| {
            for (local, image_gradient) in part.chunks_exact_mut(input_per_image).enumerate() {
                let upstream = &output_gradient[(images.start + local) * channels..][..channels];
                for pixel in image_gradient.chunks_exact_mut(channels) {
                    for (value, &gradient) in pixel.iter_mut().zip(upstream) {
                        *value = gradient * scale;
                    }
                }
            }
        },
    );
    Ok(())
}

/// Global max pooling: `output[n, c]` is the largest value of channel `c` in image `n`.
/// `output` is overwritten.
pub fn global_max_pool_forward(
    size: &Nhwc,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let geometry = global_window(size);
    max_pool2d_forward(&geometry, input, output, compute)
}

/// The gradient of global max pooling: each output gradient goes to the first pixel holding
/// the channel's maximum. `input_gradient` is overwritten.
pub fn global_max_pool_backward(
    size: &Nhwc,
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let geometry = global_window(size);
    max_pool2d_backward(&geometry, input, output_gradient, input_gradient, compute)
}

/// Global pooling as one window covering the whole image (a 1×1 output per image, stored
/// `[N, 1, 1, C]`, which is `[N, C]`).
fn global_window(size: &Nhwc) -> Pool2dGeometry {
    Pool2dGeometry::new(*size, (size.height, size.width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::testing::{assert_close, dot, finite_differences, values, widen};
    use proptest::prelude::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        Max,
        Average,
    }

    /// Pooling in f64 with plain loops over padded window coordinates.
    fn reference(geometry: &Pool2dGeometry, kind: Kind, input: &[f64]) -> Vec<f64> {
        let output = geometry.output().unwrap();
        let Nhwc {
            height,
            width,
            channels,
            ..
        } = geometry.input;
        let mut result = Vec::new();
        for image in 0..output.batch {
            for output_y in 0..output.height {
                for output_x in 0..output.width {
                    for channel in 0..channels {
                        let mut best = f64::NEG_INFINITY;
                        let mut sum = 0.0;
                        let mut count = 0;
                        for window_y in 0..geometry.window.0 {
                            for window_x in 0..geometry.window.1 {
                                let y = (output_y * geometry.stride.0 + window_y) as isize
                                    - geometry.padding.top as isize;
                                let x = (output_x * geometry.stride.1 + window_x) as isize
                                    - geometry.padding.left as isize;
                                if y < 0 || x < 0 || y >= height as isize || x >= width as isize {
                                    continue;
                                }
                                let value = input[((image * height + y as usize) * width
                                    + x as usize)
                                    * channels
                                    + channel];
                                best = best.max(value);
                                sum += value;
                                count += 1;
                            }
                        }
                        result.push(match kind {
                            Kind::Max => best,
                            Kind::Average => sum / f64::from(count),
                        });
                    }
                }
            }
        }
        result
    }

    /// Distinct values (so that max pooling has no ties) spaced 0.01 apart, in random order.
    fn distinct_values(length: usize, seed: u64) -> Vec<f32> {
        let random = values(length, seed);
        let mut order: Vec<usize> = (0..length).collect();
        order.sort_by(|&left, &right| random[left].total_cmp(&random[right]));
        let mut result = vec![0.0; length];
        for (rank, &index) in order.iter().enumerate() {
            result[index] = rank as f32 * 0.01 - 1.0;
        }
        result
    }

    fn geometries() -> impl Strategy<Value = (Pool2dGeometry, u64, Compute)> {
        (
            (1usize..4, 1usize..4),
            (1usize..4, 1usize..4),
            (0usize..3, 0usize..3, 0usize..3, 0usize..3),
            (1usize..3, 0usize..5, 0usize..5, 1usize..4),
            any::<u64>(),
            1usize..3,
        )
            .prop_map(
                |(window, stride, pads, (batch, extra_y, extra_x, channels), seed, threads)| {
                    let padding = Padding::new(
                        pads.0 % window.0,
                        pads.1 % window.0,
                        pads.2 % window.1,
                        pads.3 % window.1,
                    );
                    let height = window.0 + extra_y;
                    let width = window.1 + extra_x;
                    let input = Nhwc::new(batch, height, width, channels);
                    let geometry = Pool2dGeometry::new(input, window)
                        .with_stride(stride)
                        .with_padding(padding);
                    (geometry, seed, Compute::new(threads).unwrap())
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn max_forward_matches_the_reference((geometry, seed, compute) in geometries()) {
            let input = values(geometry.input.len().unwrap(), seed);
            let mut output = vec![f32::NAN; geometry.output().unwrap().len().unwrap()];
            max_pool2d_forward(&geometry, &input, &mut output, compute).unwrap();
            assert_close(&output, &reference(&geometry, Kind::Max, &widen(&input)), 0.0);
        }

        #[test]
        fn average_forward_matches_the_reference((geometry, seed, compute) in geometries()) {
            let input = values(geometry.input.len().unwrap(), seed);
            let mut output = vec![f32::NAN; geometry.output().unwrap().len().unwrap()];
            average_pool2d_forward(&geometry, &input, &mut output, compute).unwrap();
            let expected = reference(&geometry, Kind::Average, &widen(&input));
            assert_close(&output, &expected, 1e-6);
        }

        #[test]
        fn max_backward_matches_finite_differences((geometry, seed, compute) in geometries()) {
            let input = distinct_values(geometry.input.len().unwrap(), seed);
            let upstream = values(geometry.output().unwrap().len().unwrap(), seed ^ 3);
            let mut gradient = vec![f32::NAN; input.len()];
            max_pool2d_backward(&geometry, &input, &upstream, &mut gradient, compute).unwrap();
            let upstream = widen(&upstream);
            let expected = finite_differences(&widen(&input), 1e-4, |input| {
                dot(&upstream, &reference(&geometry, Kind::Max, input))
            });
            assert_close(&gradient, &expected, 1e-5);
        }

        #[test]
        fn average_backward_matches_finite_differences((geometry, seed, compute) in geometries()) {
            let input = values(geometry.input.len().unwrap(), seed);
            let upstream = values(geometry.output().unwrap().len().unwrap(), seed ^ 3);
            let mut gradient = vec![f32::NAN; input.len()];
            average_pool2d_backward(&geometry, &upstream, &mut gradient, compute).unwrap();
            let upstream = widen(&upstream);
            let expected = finite_differences(&widen(&input), 1e-3, |input| {
                dot(&upstream, &reference(&geometry, Kind::Average, input))
            });
            assert_close(&gradient, &expected, 1e-5);
        }

        #[test]
        fn global_pooling_matches_finite_differences(
            (batch, height, width, channels) in (1usize..3, 1usize..5, 1usize..5, 1usize..4),
            seed: u64,
            threads in 1usize..3,
        ) {
            let size = Nhwc::new(batch, height, width, channels);
            let compute = Compute::new(threads).unwrap();
            let whole = Pool2dGeometry::new(size, (height, width));
            let input = distinct_values(size.len().unwrap(), seed);
            let upstream = values(batch * channels, seed ^ 5);
            let widened_upstream = widen(&upstream);

            let mut pooled = vec![f32::NAN; batch * channels];
            global_average_pool_forward(&size, &input, &mut pooled, compute).unwrap();
            let means = reference(&whole, Kind::Average, &widen(&input));
            assert_close(&pooled, &means, 1e-6);
            let mut gradient = vec![f32::NAN; input.len()];
            global_average_pool_backward(&size, &upstream, &mut gradient, compute).unwrap();
            let expected = finite_differences(&widen(&input), 1e-3, |input| {
                dot(&widened_upstream, &reference(&whole, Kind::Average, input))
            });
            assert_close(&gradient, &expected, 1e-5);

            global_max_pool_forward(&size, &input, &mut pooled, compute).unwrap();
            assert_close(&pooled, &reference(&whole, Kind::Max, &widen(&input)), 0.0);
            global_max_pool_backward(&size, &input, &upstream, &mut gradient, compute).unwrap();
            let expected = finite_differences(&widen(&input), 1e-4, |input| {
                dot(&widened_upstream, &reference(&whole, Kind::Max, input))
            });
            assert_close(&gradient, &expected, 1e-5);
        }
    }

    /// Geometries whose windows tile the images (the fast path of `tiled.rs`), with channel
    /// counts that span several vectors and tails.
    fn tiled_geometries() -> impl Strategy<Value = (Pool2dGeometry, u64, Compute)> {
        (
            (1usize..4, 1usize..4),
            (1usize..4, 1usize..4),
            (1usize..4, 1usize..21),
            any::<u64>(),
            1usize..4,
        )
            .prop_map(
                |(window, (rows, columns), (batch, channels), seed, threads)| {
                    let input = Nhwc::new(batch, window.0 * rows, window.1 * columns, channels);
                    let geometry = Pool2dGeometry::new(input, window);
                    assert!(tiled::applies(&geometry));
                    (geometry, seed, Compute::new(threads).unwrap())
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The tiled loops against the plain-loop reference and finite differences; gradients
        /// start as NaN, so every cell must be written.
        #[test]
        fn tiled_pooling_matches_the_reference_and_finite_differences(
            (geometry, seed, compute) in tiled_geometries()
        ) {
            let output_len = geometry.output().unwrap().len().unwrap();
            let input = distinct_values(geometry.input.len().unwrap(), seed);
            let upstream = values(output_len, seed ^ 3);
            let widened_upstream = widen(&upstream);
            let mut output = vec![f32::NAN; output_len];
            max_pool2d_forward(&geometry, &input, &mut output, compute).unwrap();
            assert_close(&output, &reference(&geometry, Kind::Max, &widen(&input)), 0.0);
            average_pool2d_forward(&geometry, &input, &mut output, compute).unwrap();
            assert_close(&output, &reference(&geometry, Kind::Average, &widen(&input)), 1e-6);

            let mut gradient = vec![f32::NAN; input.len()];
            max_pool2d_backward(&geometry, &input, &upstream, &mut gradient, compute).unwrap();
            let expected = finite_differences(&widen(&input), 1e-4, |input| {
                dot(&widened_upstream, &reference(&geometry, Kind::Max, input))
            });
            assert_close(&gradient, &expected, 1e-5);
            let mut gradient = vec![f32::NAN; input.len()];
            average_pool2d_backward(&geometry, &upstream, &mut gradient, compute).unwrap();
            let expected = finite_differences(&widen(&input), 1e-3, |input| {
                dot(&widened_upstream, &reference(&geometry, Kind::Average, input))
            });
            assert_close(&gradient, &expected, 1e-5);
        }
    }

    #[test]
    fn tiled_max_pooling_gives_tied_gradients_to_the_first_cell_per_channel() {
        // Two channels, one 2×2 window: channel 0 ties in cells 1 and 3, channel 1 in all four.
        let geometry = Pool2dGeometry::new(Nhwc::new(1, 2, 2, 2), (2, 2));
        assert!(tiled::applies(&geometry));
        let input = [1.0, 7.0, 4.0, 7.0, 2.0, 7.0, 4.0, 7.0];
        let mut gradient = [f32::NAN; 8];
        max_pool2d_backward(
            &geometry,
            &input,
            &[3.0, 5.0],
            &mut gradient,
            Compute::single(),
        )
        .unwrap();
        assert_eq!(gradient, [0.0, 5.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn average_pooling_leaves_padding_out_of_the_count() {
        // A 2×2 image [1 2; 3 4], 2×2 windows, stride 1, one row and column of padding at the
        // top-left: the corner window sees only the 1, the full window sees all four cells.
        let geometry = Pool2dGeometry::new(Nhwc::new(1, 2, 2, 1), (2, 2))
            .with_stride((1, 1))
            .with_padding(Padding::new(1, 0, 1, 0));
        let mut output = [0.0; 4];
        average_pool2d_forward(
            &geometry,
            &[1.0, 2.0, 3.0, 4.0],
            &mut output,
            Compute::single(),
        )
        .unwrap();
        assert_eq!(output, [1.0, 1.5, 2.0, 2.5]);
    }

    #[test]
    fn max_pooling_ties_go_to_the_first_cell() {
        let geometry = Pool2dGeometry::new(Nhwc::new(1, 2, 2, 1), (2, 2));
        let input = [5.0, 5.0, 1.0, 5.0];
        let mut output = [0.0];
        max_pool2d_forward(&geometry, &input, &mut output, Compute::single()).unwrap();
        assert_eq!(output, [5.0]);
        let mut gradient = [f32::NAN; 4];
        max_pool2d_backward(&geometry, &input, &[2.0], &mut gradient, Compute::single()).unwrap();
        assert_eq!(gradient, [2.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn padding_as_wide_as_the_window_is_an_error() {
        let geometry = Pool2dGeometry::new(Nhwc::new(1, 4, 4, 1), (2, 2))
            .with_padding(Padding::new(2, 0, 0, 0));
        assert!(matches!(
            geometry.output(),
            Err(TensorError::Geometry { .. })
        ));
        let geometry = Pool2dGeometry::new(Nhwc::new(1, 4, 4, 1), (2, 2));
        let mut output = [0.0; 3];
        assert!(matches!(
            max_pool2d_forward(&geometry, &[0.0; 16], &mut output, Compute::single()),
            Err(TensorError::Length { .. })
        ));
    }
}

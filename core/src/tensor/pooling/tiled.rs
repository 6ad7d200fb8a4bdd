//! Pooling whose windows tile each image exactly: stride equal to the window, no padding, and
//! the image's height and width multiples of the window's (the Keras CNN's 2×2 pooling of 24×24
//! maps, LeNet-5's S2 and S4). Every input cell then lies in exactly one window, so the backward
//! passes write every cell of the input gradient once and need no zero-filled buffer, and the
//! window loops need no bounds arithmetic. The results are those of the general loops in
//! `pooling.rs`: the same cells in the same order, the same first-cell rule for ties.

use super::super::Compute;
use super::super::parallel::for_each_part;
use super::Pool2dGeometry;

/// Whether `geometry`'s windows tile its images exactly.
pub(super) fn applies(geometry: &Pool2dGeometry) -> bool {
    let Pool2dGeometry {
        input,
        window,
        stride,
        padding,
    } = *geometry;
    stride == window
        && padding == Default::default()
        && window.0 > 0
        && window.1 > 0
        && input.height.is_multiple_of(window.0)
        && input.width.is_multiple_of(window.1)
}

/// The sizes the loops below use.
#[derive(Clone, Copy)]
struct Tiling {
    window_height: usize,
    window_width: usize,
    out_height: usize,
    out_width: usize,
    width: usize,
    channels: usize,
    input_per_image: usize,
    output_per_image: usize,
}

impl Tiling {
    fn new(geometry: &Pool2dGeometry) -> Tiling {
        let input = geometry.input;
        let (window_height, window_width) = geometry.window;
        let out_height = input.height / window_height;
        let out_width = input.width / window_width;
        Tiling {
            window_height,
            window_width,
            out_height,
            out_width,
            width: input.width,
            channels: input.channels,
            input_per_image: input.height * input.width * input.channels,
            output_per_image: out_height * out_width * input.channels,
        }
    }

    /// Calls `visit(window, cells)` for every window of one image in row-major order, where
    /// `window` counts the windows and `cells` holds the offsets of its cells' first values in
    /// row-major window order.
    #[inline(always)]
    fn for_each_window(&self, cells: &mut Vec<usize>, mut visit: impl FnMut(usize, &[usize])) {
        for out_y in 0..self.out_height {
            for out_x in 0..self.out_width {
                cells.clear();
                for dy in 0..self.window_height {
                    let row = out_y * self.window_height + dy;
                    for dx in 0..self.window_width {
                        let column = out_x * self.window_width + dx;
                        cells.push((row * self.width + column) * self.channels);
                    }
                }
                visit(out_y * self.out_width + out_x, cells);
            }
        }
    }

    /// The mean's divisor, as the general loop computes it.
    fn scale(&self) -> f32 {
        1.0 / (self.window_height * self.window_width) as f32
    }
}

/// Runs `work(image_input, image_buffer, image)` for every image, split by whole images over the
/// threads; `buffer` (what the pass writes) holds `per_image` values per image.
fn for_each_image(
    buffer: &mut [f32],
    per_image: usize,
    compute: Compute,
    work: impl Fn(usize, &mut [f32], &mut Vec<usize>) + Sync,
) {
    for_each_part(buffer, per_image, compute.threads(), |images, part| {
        let mut cells = Vec::new();
        for (image, image_buffer) in images.zip(part.chunks_exact_mut(per_image)) {
            work(image, image_buffer, &mut cells);
        }
    });
}

/// The larger of each pair of `best` and `cell`; a later cell wins only when strictly greater.
#[inline(always)]
fn keep_larger(best: &mut [f32], cell: &[f32]) {
    for (best, &value) in best.iter_mut().zip(cell) {
        *best = if value > *best { value } else { *best };
    }
}

/// Max pooling forward (buffers already checked).
pub(super) fn max_forward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) {
    let tiling = Tiling::new(geometry);
    let channels = tiling.channels;
    for_each_image(
        output,
        tiling.output_per_image,
        compute,
        |image, image_output, cells| {
            let image_input = &input[image * tiling.input_per_image..][..tiling.input_per_image];
            tiling.for_each_window(cells, |window, cells| {
                let best = &mut image_output[window * channels..][..channels];
                best.copy_from_slice(&image_input[cells[0]..][..channels]);
                for &cell in &cells[1..] {
                    keep_larger(best, &image_input[cell..][..channels]);
                }
            });
        },
    );
}

/// Average pooling forward (buffers already checked).
pub(super) fn average_forward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) {
    let tiling = Tiling::new(geometry);
    let channels = tiling.channels;
    let scale = tiling.scale();
    for_each_image(
        output,
        tiling.output_per_image,
        compute,
        |image, image_output, cells| {
            let image_input = &input[image * tiling.input_per_image..][..tiling.input_per_image];
            tiling.for_each_window(cells, |window, cells| {
                let mean = &mut image_output[window * channels..][..channels];
                mean.fill(0.0);
                for &cell in cells {
                    for (sum, &value) in mean.iter_mut().zip(&image_input[cell..][..channels]) {
                        *sum += value;
                    }
                }
                for value in mean.iter_mut() {
                    *value *= scale;
                }
            });
        },
    );
}

/// Max pooling backward (buffers already checked): per window, the largest value of each
/// channel is found again, then the first cell holding it takes the gradient and every other
/// cell gets 0.
pub(super) fn max_backward(
    geometry: &Pool2dGeometry,
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) {
    let tiling = Tiling::new(geometry);
    let channels = tiling.channels;
    for_each_image(
        input_gradient,
        tiling.input_per_image,
        compute,
        |image, gradient, cells| {
            let image_input = &input[image * tiling.input_per_image..][..tiling.input_per_image];
            let upstream_image =
                &output_gradient[image * tiling.output_per_image..][..tiling.output_per_image];
            let mut best = vec![0.0f32; channels];
            // The gradient not yet given to a cell: the winner takes it and leaves 0 for later ties.
            let mut remaining = vec![0.0f32; channels];
            tiling.for_each_window(cells, |window, cells| {
                best.copy_from_slice(&image_input[cells[0]..][..channels]);
                for &cell in &cells[1..] {
                    keep_larger(&mut best, &image_input[cell..][..channels]);
                }
                remaining.copy_from_slice(&upstream_image[window * channels..][..channels]);
                for &cell in cells {
                    let values = &image_input[cell..][..channels];
                    let target = &mut gradient[cell..][..channels];
                    for (((target, &value), &best), remaining) in target
                        .iter_mut()
                        .zip(values)
                        .zip(&best)
                        .zip(remaining.iter_mut())
                    {
                        let wins = value == best;
                        *target = if wins { *remaining } else { 0.0 };
                        *remaining = if wins { 0.0 } else { *remaining };
                    }
                }
            });
        },
    );
}

/// Average pooling backward (buffers already checked): every cell gets its window's gradient
/// divided by the window's size.
pub(super) fn average_backward(
    geometry: &Pool2dGeometry,
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) {
    let tiling = Tiling::new(geometry);
    let channels = tiling.channels;
    let scale = tiling.scale();
    for_each_image(
        input_gradient,
        tiling.input_per_image,
        compute,
        |image, gradient, cells| {
            let upstream_image =
                &output_gradient[image * tiling.output_per_image..][..tiling.output_per_image];
            tiling.for_each_window(cells, |window, cells| {
                let upstream = &upstream_image[window * channels..][..channels];
                for &cell in cells {
                    for (target, &value) in gradient[cell..][..channels].iter_mut().zip(upstream) {
                        *target = value * scale;
                    }
                }
            });
        },
    );
}

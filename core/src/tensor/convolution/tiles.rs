//! The register tiles of the direct convolution: the inner loops, generic over the vector type.
//!
//! Output channels are the vector lanes. A *block* is a run of one group's output channels that
//! one tile covers (up to `S::TILE_VECTORS` vectors, its last vector possibly partial). Weights are
//! *packed* per group and block: row `k` (one kernel tap and one input channel) holds the block's
//! weights for that row, zero-padded to whole vectors, so a tile loads them with plain vector
//! loads.
//!
//! - [`correlate`]: `P` output pixels × a block. For every tap and input channel, each pixel's
//!   source value is broadcast and multiplied into the block's weight row. Forward runs it on the
//!   input, backward-data on the padded output gradient with flipped, transposed weights. The
//!   epilogue adds the bias, applies the activation and stores only real pixels and channels.
//! - [`weight_rows`]: `R` weight rows × a block, summed over a chunk's pixels: each pixel's
//!   output-gradient vectors are multiplied by the broadcast source value of every row. This is
//!   backward-weights; the sum over pixels runs in pixel order, each row on its own.
//!
//! Tiles past the end of a range repeat its last pixel or row and store only the real ones.
//! Each public function checks once that every address its loops form lies in its slices.

use super::super::pointwise::{Pointwise, load, store};
use super::super::simd::Simd;
use std::ops::Range;

/// A run of one group's output channels that one register tile covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Block {
    /// Its first channel within the group.
    pub first: usize,
    /// Its channels.
    pub channels: usize,
    /// Its vectors: the channels rounded up to whole vectors.
    pub vectors: usize,
}

/// Cuts `channels` into blocks of at most `max_vectors` vectors of `lanes`, as even as possible,
/// the larger ones first.
pub(super) fn blocks(channels: usize, lanes: usize, max_vectors: usize) -> Vec<Block> {
    let vectors = channels.div_ceil(lanes);
    let count = vectors.div_ceil(max_vectors);
    let mut blocks = Vec::with_capacity(count);
    let mut first = 0;
    for index in 0..count {
        let size = vectors / count + usize::from(index < vectors % count);
        let channels = (size * lanes).min(channels - first);
        blocks.push(Block {
            first,
            channels,
            vectors: size,
        });
        first += channels;
    }
    blocks
}

/// Weights packed for the tiles: per group, per block, `rows × vectors·lanes` values.
#[derive(Debug)]
pub(super) struct Packed {
    values: Vec<f32>,
    /// Where each (group, block) starts in `values`, groups outer.
    starts: Vec<usize>,
    /// The blocks of one group (the same for every group).
    pub blocks: Vec<Block>,
    /// Rows per block: kernel taps × input channels per group.
    pub rows: usize,
    lanes: usize,
}

impl Packed {
    /// Packs `weight(group, row, channel)` (channel within the group) for `groups` groups of
    /// `channels` output channels.
    pub fn new(
        rows: usize,
        groups: usize,
        channels: usize,
        lanes: usize,
        max_vectors: usize,
        weight: impl Fn(usize, usize, usize) -> f32,
    ) -> Packed {
        let blocks = blocks(channels, lanes, max_vectors);
        let per_group: usize = blocks
            .iter()
            .map(|block| rows * block.vectors * lanes)
            .sum();
        let mut values = vec![0.0; groups * per_group];
        let mut starts = Vec::with_capacity(groups * blocks.len());
        let mut start = 0;
        for group in 0..groups {
            for block in &blocks {
                starts.push(start);
                let width = block.vectors * lanes;
                for row in 0..rows {
                    let line = &mut values[start + row * width..][..block.channels];
                    for (lane, value) in line.iter_mut().enumerate() {
                        *value = weight(group, row, block.first + lane);
                    }
                }
                start += rows * width;
            }
        }
        Packed {
            values,
            starts,
            blocks,
            rows,
            lanes,
        }
    }

    /// The packed rows of block `index` of `group`.
    pub fn block(&self, group: usize, index: usize) -> &[f32] {
        let start = self.starts[group * self.blocks.len() + index];
        let block = &self.blocks[index];
        &self.values[start..start + self.rows * block.vectors * self.lanes]
    }
}

/// Where one output pixel's window starts in a source holding whole images, and how to step to
/// the next pixel (row-major within an image, then the next image).
#[derive(Debug, Clone, Copy)]
pub(super) struct Sweep {
    /// Source values per image.
    pub image_len: usize,
    /// Source values between vertically adjacent output pixels.
    pub row_step: usize,
    /// Source values between horizontally adjacent output pixels.
    pub pixel_step: usize,
    /// Output pixels per row.
    pub out_width: usize,
    /// Output pixels per image.
    pub out_pixels: usize,
}

impl Sweep {
    /// The source offset of output pixel `pixel` (counted from the source's first image).
    fn base(&self, pixel: usize) -> usize {
        let image = pixel / self.out_pixels;
        let within = pixel % self.out_pixels;
        image * self.image_len
            + (within / self.out_width) * self.row_step
            + (within % self.out_width) * self.pixel_step
    }
}

/// Steps through the bases of consecutive output pixels without dividing.
struct Cursor {
    sweep: Sweep,
    image_start: usize,
    row_start: usize,
    column: usize,
    row: usize,
    out_height: usize,
}

impl Cursor {
    fn new(sweep: Sweep, pixel: usize, offset: usize) -> Cursor {
        let image = pixel / sweep.out_pixels;
        let within = pixel % sweep.out_pixels;
        let row = within / sweep.out_width;
        let image_start = image * sweep.image_len + offset;
        Cursor {
            sweep,
            image_start,
            row_start: image_start + row * sweep.row_step,
            column: within % sweep.out_width,
            row,
            out_height: sweep.out_pixels / sweep.out_width,
        }
    }

    #[inline(always)]
    fn base(&self) -> usize {
        self.row_start + self.column * self.sweep.pixel_step
    }

    #[inline(always)]
    fn advance(&mut self) {
        self.column += 1;
        if self.column == self.sweep.out_width {
            self.column = 0;
            self.row += 1;
            if self.row == self.out_height {
                self.row = 0;
                self.image_start += self.sweep.image_len;
            }
            self.row_start = self.image_start + self.row * self.sweep.row_step;
        }
    }
}

/// What [`correlate`] reads and how it finishes.
pub(super) struct Correlation<'a> {
    /// Whole images, NHWC (padded as the caller needs).
    pub source: &'a [f32],
    /// How output pixels map onto `source`.
    pub sweep: Sweep,
    /// The offsets of the kernel taps from a pixel's base, in packed-row order.
    pub taps: &'a [usize],
    /// Source channels per group (read at every tap); group `g` reads from channel `g·group_in`.
    pub group_in: usize,
    /// Output channels per pixel.
    pub out_channels: usize,
    /// Output channels per group.
    pub group_out: usize,
    /// Added to each output channel before the activation.
    pub bias: Option<&'a [f32]>,
    /// The activation applied last.
    pub function: Pointwise,
}

/// Computes output pixels `pixels` (counted from the source's first image) of block `block` of
/// group `group` into `output`, whose first value is channel 0 of pixel `pixels.start`.
#[inline(always)]
pub(super) fn correlate<S: Simd>(
    simd: S,
    job: &Correlation<'_>,
    group: usize,
    block: &Block,
    weights: &[f32],
    pixels: Range<usize>,
    output: &mut [f32],
) {
    if pixels.is_empty() {
        return;
    }
    let channel_offset = group * job.group_in;
    let widest_tap = job.taps.iter().copied().max().unwrap_or(0);
    assert!(
        job.sweep.base(pixels.end - 1) + channel_offset + widest_tap + job.group_in
            <= job.source.len(),
        "convolution source too short"
    );
    assert!(weights.len() >= job.taps.len() * job.group_in * block.vectors * S::LANES);
    let out_offset = group * job.group_out + block.first;
    assert!(out_offset + block.channels <= job.out_channels);
    assert!(output.len() >= pixels.len() * job.out_channels);
    if let Some(bias) = job.bias {
        assert!(bias.len() >= out_offset + block.channels);
    }
    match block.vectors {
        1 if S::ACCUMULATORS >= 12 => {
            correlate_tiles::<S, 12, 1>(simd, job, group, block, weights, pixels, output)
        }
        1 => correlate_tiles::<S, 6, 1>(simd, job, group, block, weights, pixels, output),
        2 if S::ACCUMULATORS >= 24 => {
            correlate_tiles::<S, 12, 2>(simd, job, group, block, weights, pixels, output)
        }
        2 => correlate_tiles::<S, 6, 2>(simd, job, group, block, weights, pixels, output),
        3 => correlate_tiles::<S, 8, 3>(simd, job, group, block, weights, pixels, output),
        4 => correlate_tiles::<S, 6, 4>(simd, job, group, block, weights, pixels, output),
        vectors => unreachable!("a block spans at most 4 vectors, not {vectors}"),
    }
}

/// The lanes vector `vector` of a block of `channels` channels holds.
#[inline(always)]
fn lanes_of<S: Simd>(channels: usize, vector: usize) -> usize {
    (channels - vector * S::LANES).min(S::LANES)
}

#[inline(always)]
fn correlate_tiles<S: Simd, const P: usize, const V: usize>(
    simd: S,
    job: &Correlation<'_>,
    group: usize,
    block: &Block,
    weights: &[f32],
    pixels: Range<usize>,
    output: &mut [f32],
) {
    let out_offset = group * job.group_out + block.first;
    let zero = simd.splat(0.0);
    let bias: [S::V; V] = std::array::from_fn(|vector| match job.bias {
        // SAFETY: `correlate` checked that the bias covers the block's channels.
        Some(bias) => unsafe {
            load(
                simd,
                bias.as_ptr().add(out_offset + vector * S::LANES),
                lanes_of::<S>(block.channels, vector),
            )
        },
        None => zero,
    });
    let source = job.source.as_ptr();
    let out = output.as_mut_ptr();
    let mut cursor = Cursor::new(job.sweep, pixels.start, group * job.group_in);
    let mut pixel = pixels.start;
    while pixel < pixels.end {
        let real = P.min(pixels.end - pixel);
        let mut bases = [0usize; P];
        for (slot, base) in bases.iter_mut().enumerate() {
            *base = cursor.base();
            if slot + 1 < real {
                cursor.advance();
            }
        }
        cursor.advance();
        // SAFETY: `correlate` checked that every pixel's window lies in the source and that the
        // packed rows cover taps × channels × V vectors.
        let sums = unsafe {
            accumulate::<S, P, V>(
                simd,
                source,
                &bases,
                job.taps,
                job.group_in,
                weights.as_ptr(),
            )
        };
        for (slot, sums) in sums.iter().enumerate().take(real) {
            let target = (pixel + slot - pixels.start) * job.out_channels + out_offset;
            for vector in 0..V {
                let value = job
                    .function
                    .apply(simd, simd.add(sums[vector], bias[vector]));
                // SAFETY: `correlate` checked that the output holds these pixels and that the
                // block's channels lie within a pixel.
                unsafe {
                    store(
                        simd,
                        out.add(target + vector * S::LANES),
                        value,
                        lanes_of::<S>(block.channels, vector),
                    )
                };
            }
        }
        pixel += real;
    }
}

/// The sums of one tile: for every tap and channel, each pixel's source value times the packed
/// weight row.
///
/// # Safety
/// Every `source[base + tap + channel]` must be readable, and `weights` must hold
/// `taps.len() · channels · V · LANES` values.
#[inline(always)]
unsafe fn accumulate<S: Simd, const P: usize, const V: usize>(
    simd: S,
    source: *const f32,
    bases: &[usize; P],
    taps: &[usize],
    channels: usize,
    weights: *const f32,
) -> [[S::V; V]; P] {
    let mut sums = [[simd.splat(0.0); V]; P];
    let mut row = weights;
    for &tap in taps {
        // SAFETY (this block and the loop below): guaranteed by the caller.
        let reads: [*const f32; P] =
            std::array::from_fn(|slot| unsafe { source.add(bases[slot] + tap) });
        for channel in 0..channels {
            let weight: [S::V; V] =
                std::array::from_fn(|vector| unsafe { simd.load(row.add(vector * S::LANES)) });
            for slot in 0..P {
                let value = simd.splat(unsafe { *reads[slot].add(channel) });
                for vector in 0..V {
                    sums[slot][vector] = simd.mul_add(value, weight[vector], sums[slot][vector]);
                }
            }
            row = unsafe { row.add(V * S::LANES) };
        }
    }
    sums
}

/// What [`weight_rows`] reads.
#[derive(Clone, Copy)]
pub(super) struct WeightSums<'a> {
    /// Whole images, NHWC (padded as the forward pass saw them).
    pub source: &'a [f32],
    /// How output pixels map onto `source`.
    pub sweep: Sweep,
    /// Each packed row's offset from a pixel's base: its tap's offset plus its channel.
    pub row_offsets: &'a [usize],
    /// Source channels per group; group `g` reads from channel `g·group_in`.
    pub group_in: usize,
    /// Output pixels in `source` (whole images).
    pub pixels: usize,
}

/// Adds `Σ_pixels source[row] · gradient[pixel]` to rows `rows` of `partial`, block `block` of
/// group `group`. `gradient` holds the block's output gradient, `pixels × vectors·LANES` (zeros
/// in padding lanes); `partial` holds the block's packed rows, `row_offsets.len() ×
/// vectors·LANES`.
#[inline(always)]
pub(super) fn weight_rows<S: Simd>(
    simd: S,
    job: &WeightSums<'_>,
    group: usize,
    block: &Block,
    gradient: &[f32],
    rows: Range<usize>,
    partial: &mut [f32],
) {
    if rows.is_empty() || job.pixels == 0 {
        return;
    }
    let width = block.vectors * S::LANES;
    let widest_row = job.row_offsets[rows.clone()]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    assert!(
        job.sweep.base(job.pixels - 1) + group * job.group_in + widest_row < job.source.len(),
        "convolution source too short"
    );
    assert!(gradient.len() >= job.pixels * width);
    assert!(rows.end <= job.row_offsets.len() && partial.len() >= rows.end * width);
    match block.vectors {
        1 if S::ACCUMULATORS >= 12 => {
            weight_tiles::<S, 12, 1>(simd, job, group, gradient, rows, partial)
        }
        1 => weight_tiles::<S, 6, 1>(simd, job, group, gradient, rows, partial),
        2 if S::ACCUMULATORS >= 24 => {
            weight_tiles::<S, 12, 2>(simd, job, group, gradient, rows, partial)
        }
        2 => weight_tiles::<S, 6, 2>(simd, job, group, gradient, rows, partial),
        3 => weight_tiles::<S, 8, 3>(simd, job, group, gradient, rows, partial),
        4 => weight_tiles::<S, 6, 4>(simd, job, group, gradient, rows, partial),
        vectors => unreachable!("a block spans at most 4 vectors, not {vectors}"),
    }
}

#[inline(always)]
fn weight_tiles<S: Simd, const R: usize, const V: usize>(
    simd: S,
    job: &WeightSums<'_>,
    group: usize,
    gradient: &[f32],
    rows: Range<usize>,
    partial: &mut [f32],
) {
    let width = V * S::LANES;
    let source = job.source.as_ptr();
    let sums_at = partial.as_mut_ptr();
    let sweep = job.sweep;
    let out_height = sweep.out_pixels / sweep.out_width;
    let images = job.pixels / sweep.out_pixels;
    let mut first = rows.start;
    while first < rows.end {
        let real = R.min(rows.end - first);
        let offsets: [usize; R] = std::array::from_fn(|slot| {
            job.row_offsets[first + slot.min(real - 1)] + group * job.group_in
        });
        let zero = simd.splat(0.0);
        let mut sums = [[zero; V]; R];
        for (slot, sums) in sums.iter_mut().enumerate().take(real) {
            for (vector, sum) in sums.iter_mut().enumerate() {
                // SAFETY: `weight_rows` checked that `partial` holds rows.end rows.
                *sum =
                    unsafe { simd.load(sums_at.add((first + slot) * width + vector * S::LANES)) };
            }
        }
        let mut upstream = gradient.as_ptr();
        for image in 0..images {
            for row in 0..out_height {
                let mut base = image * sweep.image_len + row * sweep.row_step;
                for _ in 0..sweep.out_width {
                    // SAFETY: `weight_rows` checked that the gradient holds every pixel's
                    // vectors and that every row's read of every pixel lies in the source.
                    unsafe {
                        let d: [S::V; V] = std::array::from_fn(|vector| {
                            simd.load(upstream.add(vector * S::LANES))
                        });
                        for slot in 0..R {
                            let value = simd.splat(*source.add(base + offsets[slot]));
                            for vector in 0..V {
                                sums[slot][vector] =
                                    simd.mul_add(value, d[vector], sums[slot][vector]);
                            }
                        }
                        upstream = upstream.add(width);
                    }
                    base += sweep.pixel_step;
                }
            }
        }
        for (slot, sums) in sums.iter().enumerate().take(real) {
            for (vector, &sum) in sums.iter().enumerate() {
                // SAFETY: as above.
                unsafe { simd.store(sums_at.add((first + slot) * width + vector * S::LANES), sum) };
            }
        }
        first += real;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_channels_evenly() {
        let sizes = |channels, lanes, most| {
            blocks(channels, lanes, most)
                .iter()
                .map(|block| (block.first, block.channels, block.vectors))
                .collect::<Vec<_>>()
        };
        assert_eq!(sizes(64, 16, 4), vec![(0, 64, 4)]);
        assert_eq!(sizes(120, 16, 4), vec![(0, 64, 4), (64, 56, 4)]);
        assert_eq!(sizes(6, 16, 4), vec![(0, 6, 1)]);
        assert_eq!(sizes(80, 16, 4), vec![(0, 48, 3), (48, 32, 2)]);
        assert_eq!(
            sizes(64, 8, 2),
            vec![(0, 16, 2), (16, 16, 2), (32, 16, 2), (48, 16, 2)]
        );
        assert_eq!(sizes(20, 8, 1), vec![(0, 8, 1), (8, 8, 1), (16, 4, 1)]);
    }
}

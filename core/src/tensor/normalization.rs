//! Normalisation over the last (channel) axis of a tensor viewed as `[rows, channels]` (for NHWC
//! maps a row is one pixel, for `[batch, units]` vectors one example): local response
//! normalisation across neighbouring channels, and batch normalisation with per-channel
//! statistics over all rows.
//!
//! Conventions:
//! - LRN follows Caffe and PyTorch (`LocalResponseNorm`): `b_c = a_c / (bias + alpha/size ·
//!   Σ a_j²)^beta`, the sum running over the `size` channels centred on `c`, cut off at the first
//!   and last channel (missing channels count as zeros) while still dividing by `size`. The
//!   AlexNet paper and TensorFlow's `lrn` put `alpha` on the sum without dividing by `size`; their
//!   `alpha` is this `alpha / size`.
//! - Batch normalisation uses the biased variance `Σ (x − mean)² / rows` of the rows (as Keras
//!   3 and PyTorch do for the normalisation itself). Sums are taken in f64, in an order that
//!   depends only on the sizes and the thread count.

use super::parallel::{for_each_part, map_parts};
use super::{Compute, TensorError, element_count, expect_length};

/// The constants of a local response normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrnSettings {
    /// Channels in each sum (odd, so that the window is centred).
    pub size: usize,
    /// Scale of the sum of squares (divided by `size`).
    pub alpha: f32,
    /// Exponent.
    pub beta: f32,
    /// Added before the power; positive.
    pub bias: f32,
}

impl LrnSettings {
    fn check(&self, channels: usize) -> Result<(), TensorError> {
        if self.size == 0 || self.size.is_multiple_of(2) || channels == 0 {
            return Err(TensorError::Geometry {
                reason: format!(
                    "LRN needs an odd window size and at least one channel, got size {} on {channels} channels",
                    self.size
                ),
            });
        }
        if self.bias.is_nan() || self.bias <= 0.0 {
            return Err(TensorError::Geometry {
                reason: format!("the LRN bias must be positive, got {}", self.bias),
            });
        }
        Ok(())
    }

    /// The denominators' bases `bias + alpha/size · Σ a_j²` of one row.
    fn bases(&self, row: &[f32], bases: &mut [f32]) {
        let half = self.size / 2;
        let factor = self.alpha / self.size as f32;
        for (channel, base) in bases.iter_mut().enumerate() {
            let window = channel.saturating_sub(half)..(channel + half + 1).min(row.len());
            let squares: f32 = row[window].iter().map(|&value| value * value).sum();
            *base = self.bias + factor * squares;
        }
    }
}

/// Local response normalisation of `input` (`rows · channels` values, channels last) into
/// `output`, which is overwritten.
pub fn lrn_forward(
    settings: &LrnSettings,
    channels: usize,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    settings.check(channels)?;
    expect_length("LRN output", output.len(), input.len())?;
    check_rows("LRN input", input.len(), channels)?;
    for_each_part(output, channels, compute.threads(), |rows, part| {
        let mut bases = vec![0.0f32; channels];
        let input = &input[rows.start * channels..][..part.len()];
        for (row, target) in input
            .chunks_exact(channels)
            .zip(part.chunks_exact_mut(channels))
        {
            settings.bases(row, &mut bases);
            for ((value, &base), &activity) in target.iter_mut().zip(&bases).zip(row) {
                *value = activity * base.powf(-settings.beta);
            }
        }
    });
    Ok(())
}

/// The gradient of [`lrn_forward`]: with `s_c` the base of channel `c` and `b_c` its output,
/// `∂L/∂a_k = g_k·s_k^−β − (2·alpha·beta/size)·a_k·Σ_c g_c·b_c/s_c` over the channels `c` whose
/// window holds `k`. `input_gradient` is overwritten.
pub fn lrn_backward(
    settings: &LrnSettings,
    channels: usize,
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    settings.check(channels)?;
    check_rows("LRN input", input.len(), channels)?;
    expect_length("LRN output gradient", output_gradient.len(), input.len())?;
    expect_length("LRN input gradient", input_gradient.len(), input.len())?;
    let half = settings.size / 2;
    let factor = 2.0 * settings.alpha * settings.beta / settings.size as f32;
    for_each_part(input_gradient, channels, compute.threads(), |rows, part| {
        let mut bases = vec![0.0f32; channels];
        // g_c·b_c/s_c per channel.
        let mut ratios = vec![0.0f32; channels];
        let start = rows.start * channels;
        let input = &input[start..][..part.len()];
        let upstream = &output_gradient[start..][..part.len()];
        let triples = input
            .chunks_exact(channels)
            .zip(upstream.chunks_exact(channels))
            .zip(part.chunks_exact_mut(channels));
        for ((row, gradient), target) in triples {
            settings.bases(row, &mut bases);
            for (channel, ratio) in ratios.iter_mut().enumerate() {
                let output = row[channel] * bases[channel].powf(-settings.beta);
                *ratio = gradient[channel] * output / bases[channel];
            }
            for (channel, value) in target.iter_mut().enumerate() {
                let window = channel.saturating_sub(half)..(channel + half + 1).min(channels);
                let spread: f32 = ratios[window].iter().sum();
                *value = gradient[channel] * bases[channel].powf(-settings.beta)
                    - factor * row[channel] * spread;
            }
        }
    });
    Ok(())
}

/// Checks that a buffer holds whole rows of `channels` values.
fn check_rows(what: &'static str, length: usize, channels: usize) -> Result<usize, TensorError> {
    if channels == 0 {
        return Err(TensorError::Geometry {
            reason: format!("the {what} has no channels"),
        });
    }
    let rows = length / channels;
    expect_length(what, length, element_count(&[rows, channels])?)?;
    Ok(rows)
}

/// Per-channel sums over row parts, added part by part in order.
fn channel_sums(
    rows: usize,
    channels: usize,
    compute: Compute,
    row_sum: impl Fn(usize, &mut [f64]) + Sync,
) -> Vec<f64> {
    let parts = map_parts(rows, compute.threads(), |range| {
        let mut sums = vec![0.0f64; channels];
        for row in range {
            row_sum(row, &mut sums);
        }
        sums
    });
    let mut total = vec![0.0f64; channels];
    for part in parts {
        for (sum, value) in total.iter_mut().zip(part) {
            *sum += value;
        }
    }
    total
}

/// The mean and the biased variance of each channel over the rows of `input` (at least one row).
pub fn channel_statistics(
    channels: usize,
    input: &[f32],
    compute: Compute,
) -> Result<(Vec<f32>, Vec<f32>), TensorError> {
    let rows = check_rows("normalisation input", input.len(), channels)?;
    if rows == 0 {
        return Err(TensorError::Geometry {
            reason: "batch statistics need at least one row".to_string(),
        });
    }
    let count = rows as f64;
    let sums = channel_sums(rows, channels, compute, |row, sums| {
        for (sum, &value) in sums.iter_mut().zip(&input[row * channels..][..channels]) {
            *sum += f64::from(value);
        }
    });
    let means: Vec<f64> = sums.iter().map(|sum| sum / count).collect();
    let squares = channel_sums(rows, channels, compute, |row, sums| {
        let values = &input[row * channels..][..channels];
        for ((sum, &value), mean) in sums.iter_mut().zip(values).zip(&means) {
            let deviation = f64::from(value) - mean;
            *sum += deviation * deviation;
        }
    });
    Ok((
        means.iter().map(|&mean| mean as f32).collect(),
        squares.iter().map(|&sum| (sum / count) as f32).collect(),
    ))
}

/// The statistics and affine factors of one batch normalisation, one value per channel.
#[derive(Debug, Clone, Copy)]
pub struct Normalization<'a> {
    /// The mean subtracted.
    pub mean: &'a [f32],
    /// The variance divided by (after adding `epsilon`, under a square root).
    pub variance: &'a [f32],
    /// Added to the variance; positive.
    pub epsilon: f32,
    /// gamma: the factor on the normalised value.
    pub scale: &'a [f32],
    /// beta: added last.
    pub shift: &'a [f32],
}

impl Normalization<'_> {
    fn check(&self, channels: usize) -> Result<(), TensorError> {
        expect_length("mean", self.mean.len(), channels)?;
        expect_length("variance", self.variance.len(), channels)?;
        expect_length("scale", self.scale.len(), channels)?;
        expect_length("shift", self.shift.len(), channels)?;
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(TensorError::Geometry {
                reason: format!("epsilon must be positive, got {}", self.epsilon),
            });
        }
        Ok(())
    }

    /// `1 / sqrt(variance + epsilon)` per channel.
    fn inverse_deviations(&self) -> Vec<f32> {
        self.variance
            .iter()
            .map(|&variance| 1.0 / (variance.max(0.0) + self.epsilon).sqrt())
            .collect()
    }
}

/// `output = scale·(input − mean)/sqrt(variance + epsilon) + shift`, per channel. `output` is
/// overwritten.
pub fn normalize_forward(
    normalization: &Normalization,
    channels: usize,
    input: &[f32],
    output: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    check_rows("normalisation input", input.len(), channels)?;
    expect_length("normalisation output", output.len(), input.len())?;
    normalization.check(channels)?;
    let inverse = normalization.inverse_deviations();
    for_each_part(output, channels, compute.threads(), |rows, part| {
        let input = &input[rows.start * channels..][..part.len()];
        for (row, target) in input
            .chunks_exact(channels)
            .zip(part.chunks_exact_mut(channels))
        {
            for (channel, value) in target.iter_mut().enumerate() {
                let normalized = (row[channel] - normalization.mean[channel]) * inverse[channel];
                *value = normalization.scale[channel] * normalized + normalization.shift[channel];
            }
        }
    });
    Ok(())
}

/// Where [`normalize_backward`] writes.
pub struct NormalizationGradients<'a> {
    /// ∂L/∂input, overwritten.
    pub input: &'a mut [f32],
    /// ∂L/∂scale per channel, overwritten.
    pub scale: &'a mut [f32],
    /// ∂L/∂shift per channel, overwritten.
    pub shift: &'a mut [f32],
}

/// The gradient of [`normalize_forward`]. When `batch_statistics` is true the mean and variance
/// are those of `input` itself ([`channel_statistics`]), so the gradient flows through them too:
/// with `x̂` the normalised input, `m` the row count and `σ⁻¹` the inverse deviation,
/// `∂L/∂x = scale·σ⁻¹/m · (m·g − Σg − x̂·Σ(g·x̂))`. Otherwise they are constants (moving
/// statistics) and `∂L/∂x = scale·σ⁻¹·g`. Either way `∂L/∂scale = Σ g·x̂` and `∂L/∂shift = Σ g`.
pub fn normalize_backward(
    normalization: &Normalization,
    channels: usize,
    batch_statistics: bool,
    input: &[f32],
    output_gradient: &[f32],
    gradients: NormalizationGradients,
    compute: Compute,
) -> Result<(), TensorError> {
    let rows = check_rows("normalisation input", input.len(), channels)?;
    expect_length(
        "normalisation output gradient",
        output_gradient.len(),
        input.len(),
    )?;
    expect_length(
        "normalisation input gradient",
        gradients.input.len(),
        input.len(),
    )?;
    expect_length("scale gradient", gradients.scale.len(), channels)?;
    expect_length("shift gradient", gradients.shift.len(), channels)?;
    normalization.check(channels)?;
    let inverse = normalization.inverse_deviations();
    let normalized = |row: usize, channel: usize| {
        (input[row * channels + channel] - normalization.mean[channel]) * inverse[channel]
    };
    let shift_sums = channel_sums(rows, channels, compute, |row, sums| {
        let gradient = &output_gradient[row * channels..][..channels];
        for (sum, &value) in sums.iter_mut().zip(gradient) {
            *sum += f64::from(value);
        }
    });
    let scale_sums = channel_sums(rows, channels, compute, |row, sums| {
        let gradient = &output_gradient[row * channels..][..channels];
        for (channel, (sum, &value)) in sums.iter_mut().zip(gradient).enumerate() {
            *sum += f64::from(value) * f64::from(normalized(row, channel));
        }
    });
    for (target, &sum) in gradients.shift.iter_mut().zip(&shift_sums) {
        *target = sum as f32;
    }
    for (target, &sum) in gradients.scale.iter_mut().zip(&scale_sums) {
        *target = sum as f32;
    }
    let count = rows as f32;
    for_each_part(
        gradients.input,
        channels,
        compute.threads(),
        |part_rows, part| {
            for (local, target) in part.chunks_exact_mut(channels).enumerate() {
                let row = part_rows.start + local;
                let gradient = &output_gradient[row * channels..][..channels];
                for (channel, value) in target.iter_mut().enumerate() {
                    let factor = normalization.scale[channel] * inverse[channel];
                    *value = if batch_statistics {
                        let centred = count * gradient[channel]
                            - shift_sums[channel] as f32
                            - normalized(row, channel) * scale_sums[channel] as f32;
                        factor * centred / count
                    } else {
                        factor * gradient[channel]
                    };
                }
            }
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::testing::{assert_close, dot, finite_differences, values, widen};
    use proptest::prelude::*;

    /// LRN in f64 with plain loops.
    fn lrn_reference(settings: &LrnSettings, channels: usize, input: &[f64]) -> Vec<f64> {
        let half = (settings.size / 2) as isize;
        let alpha = f64::from(settings.alpha) / settings.size as f64;
        let mut output = Vec::with_capacity(input.len());
        for row in input.chunks(channels) {
            for channel in 0..channels as isize {
                let mut squares = 0.0;
                for neighbour in channel - half..=channel + half {
                    if (0..channels as isize).contains(&neighbour) {
                        squares += row[neighbour as usize] * row[neighbour as usize];
                    }
                }
                let base = f64::from(settings.bias) + alpha * squares;
                output.push(row[channel as usize] / base.powf(f64::from(settings.beta)));
            }
        }
        output
    }

    /// Batch normalisation in f64: statistics of the rows, then the affine map.
    fn batch_norm_reference(
        channels: usize,
        epsilon: f64,
        scale: &[f64],
        shift: &[f64],
        input: &[f64],
    ) -> Vec<f64> {
        let rows = input.len() / channels;
        let mut output = vec![0.0; input.len()];
        for channel in 0..channels {
            let column: Vec<f64> = (0..rows)
                .map(|row| input[row * channels + channel])
                .collect();
            let mean = column.iter().sum::<f64>() / rows as f64;
            let variance =
                column.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / rows as f64;
            for (row, x) in column.iter().enumerate() {
                output[row * channels + channel] =
                    scale[channel] * (x - mean) / (variance + epsilon).sqrt() + shift[channel];
            }
        }
        output
    }

    fn lrn_settings() -> impl Strategy<Value = (LrnSettings, usize)> {
        (0usize..3, 1usize..8, 0.0f32..2.0, 0.0f32..1.0, 0.5f32..2.0).prop_map(
            |(half, extra, alpha, beta, bias)| {
                let size = 2 * half + 1;
                (
                    LrnSettings {
                        size,
                        alpha,
                        beta,
                        bias,
                    },
                    // Fewer channels than the window too: the cut-off applies on both sides.
                    extra,
                )
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn lrn_matches_the_reference(
            (settings, channels) in lrn_settings(),
            rows in 1usize..6,
            seed: u64,
            threads in 1usize..3,
        ) {
            let compute = Compute::new(threads).unwrap();
            let input = values(rows * channels, seed);
            let mut output = vec![f32::NAN; input.len()];
            lrn_forward(&settings, channels, &input, &mut output, compute).unwrap();
            assert_close(&output, &lrn_reference(&settings, channels, &widen(&input)), 1e-5);

            let upstream = values(input.len(), seed ^ 9);
            let mut gradient = vec![f32::NAN; input.len()];
            lrn_backward(&settings, channels, &input, &upstream, &mut gradient, compute).unwrap();
            let upstream = widen(&upstream);
            let expected = finite_differences(&widen(&input), 1e-4, |input| {
                dot(&upstream, &lrn_reference(&settings, channels, input))
            });
            assert_close(&gradient, &expected, 1e-4);
        }

        #[test]
        fn batch_normalisation_matches_the_reference(
            (rows, channels) in (2usize..9, 1usize..5),
            seed: u64,
            threads in 1usize..3,
        ) {
            let compute = Compute::new(threads).unwrap();
            let epsilon = 1e-3f32;
            let input = values(rows * channels, seed);
            let scale = values(channels, seed ^ 1);
            let shift = values(channels, seed ^ 2);
            let (mean, variance) = channel_statistics(channels, &input, compute).unwrap();
            let normalization = Normalization {
                mean: &mean,
                variance: &variance,
                epsilon,
                scale: &scale,
                shift: &shift,
            };
            let mut output = vec![f32::NAN; input.len()];
            normalize_forward(&normalization, channels, &input, &mut output, compute).unwrap();
            let reference = |input: &[f64], scale: &[f64], shift: &[f64]| {
                batch_norm_reference(channels, f64::from(epsilon), scale, shift, input)
            };
            let (wide_input, wide_scale, wide_shift) = (widen(&input), widen(&scale), widen(&shift));
            assert_close(&output, &reference(&wide_input, &wide_scale, &wide_shift), 1e-4);

            let upstream = values(input.len(), seed ^ 3);
            let mut input_gradient = vec![f32::NAN; input.len()];
            let mut scale_gradient = vec![f32::NAN; channels];
            let mut shift_gradient = vec![f32::NAN; channels];
            normalize_backward(
                &normalization,
                channels,
                true,
                &input,
                &upstream,
                NormalizationGradients {
                    input: &mut input_gradient,
                    scale: &mut scale_gradient,
                    shift: &mut shift_gradient,
                },
                compute,
            )
            .unwrap();
            let upstream = widen(&upstream);
            let by_input = finite_differences(&wide_input, 1e-5, |input| {
                dot(&upstream, &reference(input, &wide_scale, &wide_shift))
            });
            let by_scale = finite_differences(&wide_scale, 1e-5, |scale| {
                dot(&upstream, &reference(&wide_input, scale, &wide_shift))
            });
            let by_shift = finite_differences(&wide_shift, 1e-5, |shift| {
                dot(&upstream, &reference(&wide_input, &wide_scale, shift))
            });
            assert_close(&input_gradient, &by_input, 2e-3);
            assert_close(&scale_gradient, &by_scale, 1e-4);
            assert_close(&shift_gradient, &by_shift, 1e-4);
        }
    }

    #[test]
    fn fixed_statistics_give_an_affine_gradient() {
        // Moving statistics are constants: ∂L/∂x = scale·g/sqrt(variance + epsilon).
        let normalization = Normalization {
            mean: &[1.0, -1.0],
            variance: &[3.0, 0.0],
            epsilon: 1.0,
            scale: &[2.0, 0.5],
            shift: &[0.25, 0.0],
        };
        let input = [3.0, 1.0, -1.0, -1.0];
        let mut output = [f32::NAN; 4];
        normalize_forward(&normalization, 2, &input, &mut output, Compute::single()).unwrap();
        assert_eq!(output, [2.25, 1.0, -1.75, 0.0]);
        let mut input_gradient = [f32::NAN; 4];
        let mut scale_gradient = [f32::NAN; 2];
        let mut shift_gradient = [f32::NAN; 2];
        normalize_backward(
            &normalization,
            2,
            false,
            &input,
            &[1.0, 2.0, 3.0, 4.0],
            NormalizationGradients {
                input: &mut input_gradient,
                scale: &mut scale_gradient,
                shift: &mut shift_gradient,
            },
            Compute::single(),
        )
        .unwrap();
        assert_eq!(input_gradient, [1.0, 1.0, 3.0, 2.0]);
        // x̂ = (1, 2) and (−1, 0): Σ g·x̂ = 1 − 3 and 4 + 0.
        assert_eq!(scale_gradient, [-2.0, 4.0]);
        assert_eq!(shift_gradient, [4.0, 6.0]);
    }

    #[test]
    fn bad_settings_are_errors() {
        let settings = LrnSettings {
            size: 4,
            alpha: 1e-4,
            beta: 0.75,
            bias: 2.0,
        };
        let mut output = [0.0; 8];
        assert!(lrn_forward(&settings, 8, &[0.0; 8], &mut output, Compute::single()).is_err());
        let settings = LrnSettings {
            size: 3,
            ..settings
        };
        assert!(lrn_forward(&settings, 3, &[0.0; 8], &mut output, Compute::single()).is_err());
        assert!(channel_statistics(2, &[], Compute::single()).is_err());
    }
}

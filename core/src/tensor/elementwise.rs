//! Activations and losses: relu, tanh, LeCun's scaled tanh and sigmoid with their gradients (from the activation's
//! output or from its input), softmax and log-softmax over the last axis, and three losses with
//! their gradients: softmax cross-entropy, per-unit sigmoid cross-entropy and mean squared error.
//!
//! Rows are the last axis: a `[batch, classes]` array has `batch` rows of `classes` values.
//! Everything is computed so that large inputs do not overflow: sigmoid never takes `exp` of a
//! positive number, softmax subtracts each row's maximum, and the cross-entropies work from
//! logits through log-sum-exp. Losses are summed in f64 and returned as f32.

use super::parallel::for_each_part;
use super::{Compute, TensorError, expect_length};

/// Below this many values an activation runs on one thread: splitting costs more than it saves.
const PARALLEL_MINIMUM: usize = 1 << 15;

/// Applies `map(index, value)` to every value of `output`, over `threads` parts when the slice
/// is long enough.
fn map_values(output: &mut [f32], compute: Compute, map: impl Fn(usize, &mut f32) + Sync) {
    let threads = if output.len() < PARALLEL_MINIMUM {
        1
    } else {
        compute.threads()
    };
    for_each_part(output, 1, threads, |range, part| {
        for (offset, value) in part.iter_mut().enumerate() {
            map(range.start + offset, value);
        }
    });
}

/// Replaces every value `v` of `values` by `activation(v)`, in place (the layer owns its
/// pre-activation buffer, so no second buffer is allocated and zeroed).
pub(super) fn map_in_place(
    values: &mut [f32],
    compute: Compute,
    activation: impl Fn(f32) -> f32 + Sync,
) {
    map_values(values, compute, |_, value| *value = activation(*value));
}

/// Checks that both gradients are as long as `saved` (the activation's input or output) and
/// sets `input_gradient[i] = gradient(saved[i], output_gradient[i])`.
pub(super) fn map_gradient(
    saved: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
    gradient: impl Fn(f32, f32) -> f32 + Sync,
) -> Result<(), TensorError> {
    expect_length("output gradient", output_gradient.len(), saved.len())?;
    expect_length("input gradient", input_gradient.len(), saved.len())?;
    map_values(input_gradient, compute, |index, value| {
        *value = gradient(saved[index], output_gradient[index]);
    });
    Ok(())
}

/// `values = max(values, 0)`, in place.
pub fn relu_forward(values: &mut [f32], compute: Compute) {
    map_in_place(values, compute, |value| value.max(0.0))
}

/// The relu gradient: `output_gradient` where the activation is positive, 0 elsewhere.
/// `activation` may be relu's input or its output (both are positive at the same places; at
/// exactly 0 the gradient is taken as 0). `input_gradient` is overwritten.
pub fn relu_backward(
    activation: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    map_gradient(
        activation,
        output_gradient,
        input_gradient,
        compute,
        |activation, gradient| if activation > 0.0 { gradient } else { 0.0 },
    )
}

/// `values = A·tanh(S·values)`, in place: tanh (A = S = 1, where the products are exact) and
/// LeCun's scaled tanh share it.
fn tanh_family_forward(values: &mut [f32], compute: Compute, (amplitude, slope): (f32, f32)) {
    map_in_place(values, compute, |value| amplitude * (slope * value).tanh())
}

/// The gradient of A·tanh(S·x) from its output `y`: `output_gradient · (S/A)·(A² − y²)`.
fn tanh_family_backward_from_output(
    output: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
    (amplitude, slope): (f32, f32),
) -> Result<(), TensorError> {
    map_gradient(
        output,
        output_gradient,
        input_gradient,
        compute,
        |activation, gradient| {
            gradient * slope / amplitude * (amplitude * amplitude - activation * activation)
        },
    )
}

/// The gradient of A·tanh(S·x) from its input `x`: `output_gradient · A·S·(1 − tanh²(S·x))`.
fn tanh_family_backward_from_input(
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
    (amplitude, slope): (f32, f32),
) -> Result<(), TensorError> {
    map_gradient(
        input,
        output_gradient,
        input_gradient,
        compute,
        |value, gradient| {
            let inner = (slope * value).tanh();
            gradient * amplitude * slope * (1.0 - inner * inner)
        },
    )
}

/// tanh as A·tanh(S·x).
const PLAIN_TANH: (f32, f32) = (1.0, 1.0);

/// The amplitude A of LeCun's scaled tanh A·tanh(S·x) (LeCun et al. 1998, appendix A).
pub const SCALED_TANH_AMPLITUDE: f32 = 1.7159;

/// The slope S of LeCun's scaled tanh A·tanh(S·x): 2/3, so that f(±1) = ±1.
pub const SCALED_TANH_SLOPE: f32 = 2.0 / 3.0;

const SCALED_TANH: (f32, f32) = (SCALED_TANH_AMPLITUDE, SCALED_TANH_SLOPE);

/// `values = tanh(values)`, in place.
pub fn tanh_forward(values: &mut [f32], compute: Compute) {
    tanh_family_forward(values, compute, PLAIN_TANH)
}

/// The tanh gradient from its output `y`: `output_gradient · (1 − y²)`.
pub fn tanh_backward_from_output(
    output: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    tanh_family_backward_from_output(output, output_gradient, input_gradient, compute, PLAIN_TANH)
}

/// The tanh gradient from its input `x`: `output_gradient · (1 − tanh²(x))`.
pub fn tanh_backward_from_input(
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    tanh_family_backward_from_input(input, output_gradient, input_gradient, compute, PLAIN_TANH)
}

/// `values = A·tanh(S·values)`, in place: LeCun's squashing function (A = 1.7159, S = 2/3).
pub fn scaled_tanh_forward(values: &mut [f32], compute: Compute) {
    tanh_family_forward(values, compute, SCALED_TANH)
}

/// The scaled tanh gradient from its output `y`: `output_gradient · (S/A)·(A² − y²)`.
pub fn scaled_tanh_backward_from_output(
    output: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    tanh_family_backward_from_output(
        output,
        output_gradient,
        input_gradient,
        compute,
        SCALED_TANH,
    )
}

/// The scaled tanh gradient from its input `x`: `output_gradient · A·S·(1 − tanh²(S·x))`.
pub fn scaled_tanh_backward_from_input(
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    tanh_family_backward_from_input(input, output_gradient, input_gradient, compute, SCALED_TANH)
}

/// The logistic function `1 / (1 + e^−x)`, computed without overflow for any `x`.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let exponential = x.exp();
        exponential / (1.0 + exponential)
    }
}

/// `values = sigmoid(values)`, in place.
pub fn sigmoid_forward(values: &mut [f32], compute: Compute) {
    map_in_place(values, compute, sigmoid)
}

/// The sigmoid gradient from its output `y`: `output_gradient · y · (1 − y)`.
pub fn sigmoid_backward_from_output(
    output: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    map_gradient(
        output,
        output_gradient,
        input_gradient,
        compute,
        |activation, gradient| gradient * activation * (1.0 - activation),
    )
}

/// The sigmoid gradient from its input `x`: `output_gradient · σ(x) · (1 − σ(x))`.
pub fn sigmoid_backward_from_input(
    input: &[f32],
    output_gradient: &[f32],
    input_gradient: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    map_gradient(
        input,
        output_gradient,
        input_gradient,
        compute,
        |value, gradient| {
            let activation = sigmoid(value);
            gradient * activation * (1.0 - activation)
        },
    )
}

/// Checks that `length` values form whole rows of `classes` and returns the number of rows.
fn rows(what: &'static str, length: usize, classes: usize) -> Result<usize, TensorError> {
    if classes == 0 || !length.is_multiple_of(classes) {
        return Err(TensorError::Geometry {
            reason: format!("{what} has {length} values, not whole rows of {classes}"),
        });
    }
    Ok(length / classes)
}

/// The largest value of a row and `ln Σ exp(value − largest)`: `log Σ exp(row)` is their sum.
fn log_sum_exp(row: &[f32]) -> (f32, f32) {
    let largest = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row
        .iter()
        .map(|&value| f64::from((value - largest).exp()))
        .sum();
    (largest, sum.ln() as f32)
}

/// Checks `input` (named `names.0`) and `output` (`names.1`), then sets each value of each row
/// of `classes` values to `finish(x − log Σ exp(row))`.
fn map_log_softmax(
    input: &[f32],
    classes: usize,
    output: &mut [f32],
    names: (&'static str, &'static str),
    finish: impl Fn(f32) -> f32,
) -> Result<(), TensorError> {
    rows(names.0, input.len(), classes)?;
    expect_length(names.1, output.len(), input.len())?;
    for (row, result) in input
        .chunks_exact(classes)
        .zip(output.chunks_exact_mut(classes))
    {
        let (largest, log_sum) = log_sum_exp(row);
        for (result, &value) in result.iter_mut().zip(row) {
            *result = finish(value - largest - log_sum);
        }
    }
    Ok(())
}

/// Softmax over the last axis: each row of `classes` values becomes `exp(x) / Σ exp(x)`.
pub fn softmax_forward(
    input: &[f32],
    classes: usize,
    output: &mut [f32],
) -> Result<(), TensorError> {
    let names = ("softmax input", "softmax output");
    map_log_softmax(input, classes, output, names, f32::exp)
}

/// Log-softmax over the last axis: `x − log Σ exp(x)` per row of `classes` values.
pub fn log_softmax_forward(
    input: &[f32],
    classes: usize,
    output: &mut [f32],
) -> Result<(), TensorError> {
    let names = ("log-softmax input", "log-softmax output");
    map_log_softmax(input, classes, output, names, |value| value)
}

/// The softmax gradient from its output `y`, per row: `y ⊙ (dy − Σ dy·y)`.
pub fn softmax_backward_from_output(
    output: &[f32],
    output_gradient: &[f32],
    classes: usize,
    input_gradient: &mut [f32],
) -> Result<(), TensorError> {
    rows("softmax output", output.len(), classes)?;
    expect_length("output gradient", output_gradient.len(), output.len())?;
    expect_length("input gradient", input_gradient.len(), output.len())?;
    for ((row, upstream), result) in output
        .chunks_exact(classes)
        .zip(output_gradient.chunks_exact(classes))
        .zip(input_gradient.chunks_exact_mut(classes))
    {
        let weighted: f64 = row
            .iter()
            .zip(upstream)
            .map(|(&activation, &gradient)| f64::from(activation) * f64::from(gradient))
            .sum();
        let weighted = weighted as f32;
        for ((result, &activation), &gradient) in result.iter_mut().zip(row).zip(upstream) {
            *result = activation * (gradient - weighted);
        }
    }
    Ok(())
}

/// Softmax cross-entropy from logits, averaged over the rows (the batch):
/// `L = −(1/N) Σ_rows Σ_classes t · log softmax(z)`. `targets` are per-row distributions
/// (one-hot rows from [`one_hot`], or soft labels). Writes `∂L/∂z = (softmax(z)·Σt − t) / N`
/// (`(softmax(z) − t) / N` for distributions) into `gradient` and returns `L`.
pub fn softmax_cross_entropy(
    logits: &[f32],
    targets: &[f32],
    classes: usize,
    gradient: &mut [f32],
) -> Result<f32, TensorError> {
    let count = nonempty_rows("logits", logits.len(), classes)?;
    expect_length("targets", targets.len(), logits.len())?;
    expect_length("loss gradient", gradient.len(), logits.len())?;
    let scale = 1.0 / count as f32;
    let mut total = 0.0f64;
    for ((row, target), result) in logits
        .chunks_exact(classes)
        .zip(targets.chunks_exact(classes))
        .zip(gradient.chunks_exact_mut(classes))
    {
        let (largest, log_sum) = log_sum_exp(row);
        let target_sum: f32 = target.iter().sum();
        for ((result, &logit), &wanted) in result.iter_mut().zip(row).zip(target) {
            let log_probability = logit - largest - log_sum;
            total -= f64::from(wanted) * f64::from(log_probability);
            *result = (log_probability.exp() * target_sum - wanted) * scale;
        }
    }
    Ok((total / count as f64) as f32)
}

/// Per-unit sigmoid cross-entropy from logits `z` (Nielsen's cross-entropy cost for sigmoid
/// outputs), summed over the units of a row and averaged over the rows:
/// `L = −(1/N) Σ_rows Σ_units [t·ln σ(z) + (1 − t)·ln(1 − σ(z))]`, computed stably as
/// `max(z, 0) − z·t + ln(1 + e^−|z|)`. Writes `∂L/∂z = (σ(z) − t) / N` into `gradient` and
/// returns `L`.
pub fn sigmoid_cross_entropy(
    logits: &[f32],
    targets: &[f32],
    units: usize,
    gradient: &mut [f32],
) -> Result<f32, TensorError> {
    let count = nonempty_rows("logits", logits.len(), units)?;
    expect_length("targets", targets.len(), logits.len())?;
    expect_length("loss gradient", gradient.len(), logits.len())?;
    let scale = 1.0 / count as f32;
    let mut total = 0.0f64;
    for ((result, &logit), &wanted) in gradient.iter_mut().zip(logits).zip(targets) {
        let (logit_wide, wanted_wide) = (f64::from(logit), f64::from(wanted));
        total += logit_wide.max(0.0) - logit_wide * wanted_wide + (-logit_wide.abs()).exp().ln_1p();
        *result = (sigmoid(logit) - wanted) * scale;
    }
    Ok((total / count as f64) as f32)
}

/// Mean squared error over every value, as Keras' `mse`: `L = (1/n) Σ (p − t)²` for `n` values
/// (Nielsen's quadratic cost `(1/2N) Σ ‖p − t‖²` is `L · units / 2`). Writes
/// `∂L/∂p = 2(p − t) / n` into `gradient` and returns `L`.
pub fn mean_squared_error(
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
) -> Result<f32, TensorError> {
    let count = nonempty_rows("predictions", predictions.len(), 1)?;
    expect_length("targets", targets.len(), predictions.len())?;
    expect_length("loss gradient", gradient.len(), predictions.len())?;
    let scale = 2.0 / count as f32;
    let mut total = 0.0f64;
    for ((result, &prediction), &wanted) in gradient.iter_mut().zip(predictions).zip(targets) {
        let difference = prediction - wanted;
        total += f64::from(difference) * f64::from(difference);
        *result = difference * scale;
    }
    Ok((total / count as f64) as f32)
}

/// Like [`rows`], but a loss over no rows is an error (its mean is undefined).
fn nonempty_rows(what: &'static str, length: usize, classes: usize) -> Result<usize, TensorError> {
    let count = rows(what, length, classes)?;
    if count == 0 {
        return Err(TensorError::Geometry {
            reason: format!("{what} is empty: a loss needs at least one row"),
        });
    }
    Ok(count)
}

/// One-hot rows (`[labels.len(), classes]`) from class indices; a label not below `classes`
/// is an error.
pub fn one_hot(labels: &[usize], classes: usize) -> Result<Vec<f32>, TensorError> {
    let length = labels
        .len()
        .checked_mul(classes)
        .ok_or(TensorError::Overflow {
            what: "one-hot rows",
        })?;
    let mut rows = vec![0.0; length];
    for (row, &label) in labels.iter().enumerate() {
        if label >= classes {
            return Err(TensorError::Label { label, classes });
        }
        rows[row * classes + label] = 1.0;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::testing::{assert_close, dot, finite_differences, values, widen};
    use proptest::prelude::*;

    fn reference_sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    fn reference_softmax(row: &[f64]) -> Vec<f64> {
        let largest = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exponentials: Vec<f64> = row.iter().map(|value| (value - largest).exp()).collect();
        let sum: f64 = exponentials.iter().sum();
        exponentials.iter().map(|value| value / sum).collect()
    }

    /// Scaled values in [-scale, scale).
    fn scaled(length: usize, seed: u64, scale: f32) -> Vec<f32> {
        values(length, seed)
            .into_iter()
            .map(|value| value * scale)
            .collect()
    }

    type Forward = fn(&mut [f32], Compute);
    type Backward = fn(&[f32], &[f32], &mut [f32], Compute) -> Result<(), TensorError>;

    /// Checks one activation: forward against `reference`, both backward forms against finite
    /// differences of `reference`.
    fn check_activation(
        input: &[f32],
        compute: Compute,
        forward: Forward,
        from_output: Backward,
        from_input: Backward,
        reference: fn(f64) -> f64,
    ) {
        let mut output = input.to_vec();
        forward(&mut output, compute);
        let expected: Vec<f64> = widen(input).into_iter().map(reference).collect();
        assert_close(&output, &expected, 1e-6);
        let upstream = values(input.len(), 99);
        let wide_upstream = widen(&upstream);
        let slopes = finite_differences(&widen(input), 1e-5, |point| {
            let mapped: Vec<f64> = point.iter().map(|&value| reference(value)).collect();
            dot(&wide_upstream, &mapped)
        });
        let mut gradient = vec![f32::NAN; input.len()];
        from_output(&output, &upstream, &mut gradient, compute).unwrap();
        assert_close(&gradient, &slopes, 1e-5);
        let mut gradient = vec![f32::NAN; input.len()];
        from_input(input, &upstream, &mut gradient, compute).unwrap();
        assert_close(&gradient, &slopes, 1e-5);
    }

    proptest! {
        #[test]
        fn activations_match_references(
            length in 0usize..60,
            seed: u64,
            threads in 1usize..3,
        ) {
            let compute = Compute::new(threads).unwrap();
            let input = scaled(length, seed, 6.0);
            check_activation(
                &input,
                compute,
                tanh_forward,
                tanh_backward_from_output,
                tanh_backward_from_input,
                f64::tanh,
            );
            check_activation(
                &input,
                compute,
                scaled_tanh_forward,
                scaled_tanh_backward_from_output,
                scaled_tanh_backward_from_input,
                |value| 1.7159 * (value * 2.0 / 3.0).tanh(),
            );
            check_activation(
                &input,
                compute,
                sigmoid_forward,
                sigmoid_backward_from_output,
                sigmoid_backward_from_input,
                reference_sigmoid,
            );
            // relu is not differentiable at 0: finite differences straddling it see half a
            // slope, so values within 1e-3 of it are moved away.
            let away_from_kink: Vec<f32> = input
                .iter()
                .map(|&value| if value.abs() < 1e-3 { value.signum() * 1e-3 + value } else { value })
                .collect();
            check_activation(
                &away_from_kink,
                compute,
                relu_forward,
                relu_backward,
                relu_backward,
                |value| value.max(0.0),
            );
        }

        #[test]
        fn softmax_and_log_softmax_match_references(
            (rows, classes) in (1usize..5, 1usize..7),
            seed: u64,
            shift in prop::sample::select(vec![0.0f32, 80.0, -500.0]),
        ) {
            // A large common shift must not change the result (nor overflow).
            let input: Vec<f32> =
                scaled(rows * classes, seed, 5.0).into_iter().map(|value| value + shift).collect();
            let unshifted: Vec<f64> = widen(&input).iter().map(|value| value - f64::from(shift)).collect();
            let expected: Vec<f64> =
                unshifted.chunks(classes).flat_map(reference_softmax).collect();
            let mut output = vec![f32::NAN; input.len()];
            softmax_forward(&input, classes, &mut output).unwrap();
            assert_close(&output, &expected, 1e-5);
            let mut logs = vec![f32::NAN; input.len()];
            log_softmax_forward(&input, classes, &mut logs).unwrap();
            let expected_logs: Vec<f64> = expected.iter().map(|value| value.ln()).collect();
            // Absolute tolerance scaled by the shift: log-softmax subtracts nearly equal values.
            assert_close(&logs, &expected_logs, 1e-5 * (1.0 + f64::from(shift.abs())));

            let upstream = values(input.len(), seed ^ 4);
            let wide_upstream = widen(&upstream);
            let slopes = finite_differences(&unshifted, 1e-5, |point| {
                let mapped: Vec<f64> = point.chunks(classes).flat_map(reference_softmax).collect();
                dot(&wide_upstream, &mapped)
            });
            let mut gradient = vec![f32::NAN; input.len()];
            softmax_backward_from_output(&output, &upstream, classes, &mut gradient).unwrap();
            assert_close(&gradient, &slopes, 1e-5);
        }

        #[test]
        fn softmax_cross_entropy_matches_the_reference(
            (rows, classes) in (1usize..5, 1usize..7),
            seed: u64,
            soft: bool,
            weight in prop::sample::select(vec![1.0f32, 2.5]),
        ) {
            // Targets weighted by 2.5 are not distributions: the general gradient must hold.
            let logits = scaled(rows * classes, seed, 8.0);
            let targets: Vec<f32> = if soft {
                let raw = scaled(rows * classes, seed ^ 8, 1.0);
                raw.chunks(classes)
                    .flat_map(|row| {
                        let positive: Vec<f32> = row.iter().map(|value| value + 1.5).collect();
                        let sum: f32 = positive.iter().sum();
                        positive.into_iter().map(move |value| value / sum)
                    })
                    .collect()
            } else {
                let labels: Vec<usize> = (0..rows).map(|row| (row * 7 + seed as usize % 5) % classes).collect();
                one_hot(&labels, classes).unwrap()
            };
            let targets: Vec<f32> = targets.into_iter().map(|value| value * weight).collect();
            let wide_targets = widen(&targets);
            let loss_of = |point: &[f64]| {
                let mut total = 0.0;
                for (row, target) in point.chunks(classes).zip(wide_targets.chunks(classes)) {
                    let probabilities = reference_softmax(row);
                    total -= target
                        .iter()
                        .zip(&probabilities)
                        .map(|(t, p)| t * p.ln())
                        .sum::<f64>();
                }
                total / rows as f64
            };
            let mut gradient = vec![f32::NAN; logits.len()];
            let loss = softmax_cross_entropy(&logits, &targets, classes, &mut gradient).unwrap();
            assert_close(&[loss], &[loss_of(&widen(&logits))], 1e-5);
            let slopes = finite_differences(&widen(&logits), 1e-5, loss_of);
            assert_close(&gradient, &slopes, 1e-5);
        }

        #[test]
        fn sigmoid_cross_entropy_matches_the_reference(
            (rows, units) in (1usize..5, 1usize..7),
            seed: u64,
        ) {
            let logits = scaled(rows * units, seed, 8.0);
            let targets: Vec<f32> =
                values(rows * units, seed ^ 9).into_iter().map(|value| (value + 1.0) / 2.0).collect();
            let wide_targets = widen(&targets);
            let loss_of = |point: &[f64]| {
                let total: f64 = point
                    .iter()
                    .zip(&wide_targets)
                    .map(|(&z, &t)| {
                        let a = reference_sigmoid(z);
                        -(t * a.ln() + (1.0 - t) * (1.0 - a).ln())
                    })
                    .sum();
                total / rows as f64
            };
            let mut gradient = vec![f32::NAN; logits.len()];
            let loss = sigmoid_cross_entropy(&logits, &targets, units, &mut gradient).unwrap();
            assert_close(&[loss], &[loss_of(&widen(&logits))], 1e-5);
            let slopes = finite_differences(&widen(&logits), 1e-5, loss_of);
            assert_close(&gradient, &slopes, 1e-5);
        }

        #[test]
        fn mean_squared_error_matches_the_reference(length in 1usize..40, seed: u64) {
            let predictions = scaled(length, seed, 3.0);
            let targets = scaled(length, seed ^ 10, 3.0);
            let wide_targets = widen(&targets);
            let loss_of = |point: &[f64]| {
                point
                    .iter()
                    .zip(&wide_targets)
                    .map(|(p, t)| (p - t) * (p - t))
                    .sum::<f64>()
                    / length as f64
            };
            let mut gradient = vec![f32::NAN; length];
            let loss = mean_squared_error(&predictions, &targets, &mut gradient).unwrap();
            assert_close(&[loss], &[loss_of(&widen(&predictions))], 1e-5);
            let slopes = finite_differences(&widen(&predictions), 1e-4, loss_of);
            assert_close(&gradient, &slopes, 1e-5);
        }
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let input = [-1000.0, -90.0, 0.0, 90.0, 1000.0];
        let mut output = input;
        sigmoid_forward(&mut output, Compute::single());
        assert_eq!(output, [0.0, sigmoid(-90.0), 0.5, 1.0, 1.0]);
        assert!(sigmoid(-90.0) > 0.0 && sigmoid(-90.0) < 1e-38);
        let mut gradient = [f32::NAN; 5];
        let targets = [0.0, 1.0, 0.0, 1.0, 1.0];
        let loss = sigmoid_cross_entropy(&input, &targets, 5, &mut gradient).unwrap();
        // Only −90 with target 1 (90) and 0 with target 0 (ln 2) cost anything.
        assert!((loss - (90.0 + 2f32.ln())).abs() < 1e-4, "{loss}");
        let logits = [1000.0, -1000.0, 0.0];
        let loss = softmax_cross_entropy(&logits, &[0.0, 1.0, 0.0], 3, &mut gradient[..3]).unwrap();
        assert_eq!(loss, 2000.0);
        assert_eq!(&gradient[..3], &[1.0, -1.0, 0.0]);
    }

    #[test]
    fn large_activations_split_over_threads_agree() {
        let input = scaled(PARALLEL_MINIMUM * 3 + 17, 5, 4.0);
        let mut single = input.clone();
        let mut double = input.clone();
        tanh_forward(&mut single, Compute::single());
        tanh_forward(&mut double, Compute::new(2).unwrap());
        assert_eq!(single, double);
        assert_eq!(
            single[PARALLEL_MINIMUM * 3 + 16],
            input[PARALLEL_MINIMUM * 3 + 16].tanh()
        );
    }

    #[test]
    fn one_hot_rows_and_bad_labels() {
        assert_eq!(one_hot(&[2, 0], 3), Ok(vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]));
        assert_eq!(
            one_hot(&[1, 3], 3),
            Err(TensorError::Label {
                label: 3,
                classes: 3
            })
        );
        assert!(one_hot(&[0], 0).is_err());
    }

    #[test]
    fn losses_reject_ragged_or_empty_rows() {
        let mut gradient = [0.0; 5];
        assert!(softmax_cross_entropy(&[0.0; 5], &[0.0; 5], 2, &mut gradient).is_err());
        assert!(softmax_cross_entropy(&[], &[], 2, &mut []).is_err());
        assert!(mean_squared_error(&[0.0; 5], &[0.0; 4], &mut gradient).is_err());
    }
}

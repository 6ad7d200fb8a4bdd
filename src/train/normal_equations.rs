//! The closed-form fit of exercise 2a: a network whose only layer is a linear dense layer,
//! trained with the mean squared error, has its optimum where (XᵀX)w = Xᵀy (X the images with a
//! column of ones for the bias, y the one-hot targets). Everything here is f64 and our own: the
//! Gram matrix XᵀX and Xᵀy, then a Cholesky factorisation with diagonal pivoting, which also
//! copes with a singular XᵀX (MNIST's border pixels are 0 in every image, so their columns are
//! zero): a column whose remaining pivot is negligible is left out and its weight set to 0.

use rayon::prelude::*;

/// Pivots below this fraction of the largest diagonal entry of XᵀX count as zero.
pub const RELATIVE_TOLERANCE: f64 = 1e-10;

/// Rows of X per task when the Gram matrix is summed; fixed, so the sums do not depend on the
/// thread count.
const ROWS_PER_TASK: usize = 2048;

/// The least-squares weights of a linear layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearFit {
    /// `inputs × outputs`, row-major (input i, output j at `i·outputs + j`), as dense weights.
    pub weights: Vec<f64>,
    /// One per output.
    pub bias: Vec<f64>,
    /// The rank found for the augmented X (columns kept).
    pub rank: usize,
    /// Inputs whose columns were left out (weight 0): constant zero or dependent on others.
    pub dropped_inputs: Vec<usize>,
}

/// A problem the closed form cannot solve.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolverError {
    /// Sizes that do not agree.
    #[error("{0}")]
    Shape(String),
    /// No information at all (every input zero, no rows).
    #[error("the normal equations have no solution: XᵀX is zero")]
    Empty,
}

/// Fits `targets` (`rows × outputs`) from `features` (`rows × inputs`) by least squares with a
/// bias: minimises Σ (x·W + b − t)².
pub fn fit_linear(
    features: &[f32],
    targets: &[f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) -> Result<LinearFit, SolverError> {
    let shape = |what: &str, found: usize, expected: Option<usize>| {
        SolverError::Shape(format!(
            "{what} has {found} values, expected {}",
            expected.map_or_else(|| "a size that fits".to_string(), |e| e.to_string())
        ))
    };
    let feature_count = rows.checked_mul(inputs);
    if feature_count != Some(features.len()) {
        return Err(shape("X", features.len(), feature_count));
    }
    let target_count = rows.checked_mul(outputs);
    if target_count != Some(targets.len()) {
        return Err(shape("y", targets.len(), target_count));
    }
    let width = inputs + 1;
    let (gram, moments) = gram(features, targets, rows, inputs, outputs);
    let solution = solve_pivoted(gram, moments, width, outputs)?;
    let (bias, weights) = solution.values.split_at(outputs);
    Ok(LinearFit {
        weights: weights.to_vec(),
        bias: bias.to_vec(),
        rank: solution.rank,
        dropped_inputs: solution
            .dropped
            .iter()
            .filter_map(|&column| column.checked_sub(1))
            .collect(),
    })
}

/// XᵀX (`width × width`, width = inputs + 1, column 0 the bias's ones) and XᵀY
/// (`width × outputs`), summed in fixed row blocks and added in block order.
fn gram(
    features: &[f32],
    targets: &[f32],
    rows: usize,
    inputs: usize,
    outputs: usize,
) -> (Vec<f64>, Vec<f64>) {
    let width = inputs + 1;
    let blocks: Vec<(Vec<f64>, Vec<f64>)> = (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|block| {
            let mut gram = vec![0.0f64; width * width];
            let mut moments = vec![0.0f64; width * outputs];
            let mut row_values = vec![0.0f64; width];
            let start = block * ROWS_PER_TASK;
            for row in start..(start + ROWS_PER_TASK).min(rows) {
                row_values[0] = 1.0;
                for (value, &feature) in row_values[1..]
                    .iter_mut()
                    .zip(&features[row * inputs..(row + 1) * inputs])
                {
                    *value = f64::from(feature);
                }
                let target = &targets[row * outputs..(row + 1) * outputs];
                for (i, &xi) in row_values.iter().enumerate() {
                    if xi == 0.0 {
                        continue;
                    }
                    // Upper triangle only; mirrored below.
                    for (g, &xj) in gram[i * width + i..(i + 1) * width]
                        .iter_mut()
                        .zip(&row_values[i..])
                    {
                        *g += xi * xj;
                    }
                    for (m, &t) in moments[i * outputs..(i + 1) * outputs]
                        .iter_mut()
                        .zip(target)
                    {
                        *m += xi * f64::from(t);
                    }
                }
            }
            (gram, moments)
        })
        .collect();
    let mut gram = vec![0.0f64; width * width];
    let mut moments = vec![0.0f64; width * outputs];
    for (block_gram, block_moments) in blocks {
        for (total, part) in gram.iter_mut().zip(block_gram) {
            *total += part;
        }
        for (total, part) in moments.iter_mut().zip(block_moments) {
            *total += part;
        }
    }
    for i in 0..width {
        for j in 0..i {
            gram[i * width + j] = gram[j * width + i];
        }
    }
    (gram, moments)
}

/// The solution of a symmetric positive semi-definite system.
#[derive(Debug, Clone, PartialEq)]
struct Solution {
    /// `width × outputs`.
    values: Vec<f64>,
    rank: usize,
    dropped: Vec<usize>,
}

/// Solves `a·x = b` (a symmetric positive semi-definite `n × n`, b `n × outputs`) by Cholesky
/// with diagonal pivoting: at each step the largest remaining diagonal entry is the pivot; when
/// it falls below [`RELATIVE_TOLERANCE`] times the largest diagonal entry of `a`, the remaining
/// unknowns are set to 0 (a basic solution of the consistent system).
fn solve_pivoted(
    mut a: Vec<f64>,
    b: Vec<f64>,
    n: usize,
    outputs: usize,
) -> Result<Solution, SolverError> {
    let largest = (0..n).map(|i| a[i * n + i]).fold(0.0f64, f64::max);
    if largest <= 0.0 || largest.is_nan() {
        return Err(SolverError::Empty);
    }
    let tolerance = largest * RELATIVE_TOLERANCE;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rank = n;
    // In place: the lower triangle of `a` becomes L, with rows and columns permuted by `order`.
    for k in 0..n {
        let (pivot, pivot_value) =
            (k..n)
                .map(|i| (i, a[i * n + i]))
                .fold((k, f64::NEG_INFINITY), |best, candidate| {
                    if candidate.1 > best.1 {
                        candidate
                    } else {
                        best
                    }
                });
        if pivot_value <= tolerance {
            rank = k;
            break;
        }
        if pivot != k {
            order.swap(k, pivot);
            swap_symmetric(&mut a, n, k, pivot);
        }
        let diagonal = pivot_value.sqrt();
        a[k * n + k] = diagonal;
        for i in k + 1..n {
            a[i * n + k] /= diagonal;
        }
        for j in k + 1..n {
            let factor = a[j * n + k];
            if factor == 0.0 {
                continue;
            }
            for i in j..n {
                a[i * n + j] -= a[i * n + k] * factor;
            }
        }
    }
    // Forward then backward substitution on the leading rank × rank block, per output.
    let mut values = vec![0.0f64; n * outputs];
    let mut column = vec![0.0f64; rank];
    for output in 0..outputs {
        for i in 0..rank {
            let mut sum = b[order[i] * outputs + output];
            for j in 0..i {
                sum -= a[i * n + j] * column[j];
            }
            column[i] = sum / a[i * n + i];
        }
        for i in (0..rank).rev() {
            let mut sum = column[i];
            for j in i + 1..rank {
                sum -= a[j * n + i] * column[j];
            }
            column[i] = sum / a[i * n + i];
        }
        for (i, &value) in column.iter().enumerate() {
            values[order[i] * outputs + output] = value;
        }
    }
    let mut dropped: Vec<usize> = order[rank..].to_vec();
    dropped.sort_unstable();
    Ok(Solution {
        values,
        rank,
        dropped,
    })
}

/// Swaps rows and columns `k` and `p` (k < p) of the symmetric matrix stored in the lower
/// triangle of `a` (with the rows above `k` already factorised).
fn swap_symmetric(a: &mut [f64], n: usize, k: usize, p: usize) {
    // Already factorised columns 0..k: swap rows k and p there.
    for j in 0..k {
        a.swap(k * n + j, p * n + j);
    }
    a.swap(k * n + k, p * n + p);
    // Between: a[i][k] (i in k+1..p) and a[p][i].
    for i in k + 1..p {
        a.swap(i * n + k, p * n + i);
    }
    // Below p: a[i][k] and a[i][p].
    for i in p + 1..n {
        a.swap(i * n + k, i * n + p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    fn uniform(random: &mut ChaCha8Rng) -> f32 {
        (random.next_u32() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }

    /// n rows of d features in [−1, 1] and k targets t = x·W + b + noise.
    fn problem(n: usize, d: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
        let mut random = ChaCha8Rng::seed_from_u64(5);
        let weights: Vec<f32> = (0..d * k).map(|_| uniform(&mut random)).collect();
        let features: Vec<f32> = (0..n * d).map(|_| uniform(&mut random)).collect();
        let mut targets = vec![0.0f32; n * k];
        for row in 0..n {
            for output in 0..k {
                let mut sum = 0.5 * output as f32 + 0.1 * uniform(&mut random);
                for input in 0..d {
                    sum += features[row * d + input] * weights[input * k + output];
                }
                targets[row * k + output] = sum;
            }
        }
        (features, targets)
    }

    /// Full-batch gradient descent on the mean squared error, in f64, to convergence.
    fn gradient_descent(
        features: &[f32],
        targets: &[f32],
        n: usize,
        d: usize,
        k: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut weights = vec![0.0f64; d * k];
        let mut bias = vec![0.0f64; k];
        let rate = 0.2;
        for _ in 0..20_000 {
            let mut weight_gradient = vec![0.0f64; d * k];
            let mut bias_gradient = vec![0.0f64; k];
            for row in 0..n {
                let x = &features[row * d..(row + 1) * d];
                for output in 0..k {
                    let mut prediction = bias[output];
                    for input in 0..d {
                        prediction += f64::from(x[input]) * weights[input * k + output];
                    }
                    let error = prediction - f64::from(targets[row * k + output]);
                    bias_gradient[output] += error / n as f64;
                    for input in 0..d {
                        weight_gradient[input * k + output] +=
                            error * f64::from(x[input]) / n as f64;
                    }
                }
            }
            for (w, g) in weights.iter_mut().zip(&weight_gradient) {
                *w -= rate * g;
            }
            for (b, g) in bias.iter_mut().zip(&bias_gradient) {
                *b -= rate * g;
            }
        }
        (weights, bias)
    }

    #[test]
    fn matches_gradient_descent_run_to_convergence() {
        let (n, d, k) = (200, 5, 2);
        let (features, targets) = problem(n, d, k);
        let fit = fit_linear(&features, &targets, n, d, k).unwrap();
        assert_eq!(fit.rank, d + 1);
        assert!(fit.dropped_inputs.is_empty());
        let (weights, bias) = gradient_descent(&features, &targets, n, d, k);
        for (closed, iterated) in fit
            .weights
            .iter()
            .zip(&weights)
            .chain(fit.bias.iter().zip(&bias))
        {
            assert!((closed - iterated).abs() < 1e-6, "{closed} vs {iterated}");
        }
        // And the bias found is the one planted (0 and 0.5), up to the noise.
        assert!((fit.bias[0]).abs() < 0.05 && (fit.bias[1] - 0.5).abs() < 0.05);
    }

    #[test]
    fn an_exact_fit_is_recovered() {
        // t = 2·x0 − x1 + 3, four rows: the residual is zero and the weights exact.
        let features = [0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let targets = [3.0f32, 5.0, 2.0, 4.0];
        let fit = fit_linear(&features, &targets, 4, 2, 1).unwrap();
        for (found, expected) in fit.weights.iter().zip([2.0, -1.0]) {
            assert!((found - expected).abs() < 1e-12);
        }
        assert!((fit.bias[0] - 3.0).abs() < 1e-12);
    }

    #[test]
    fn zero_and_repeated_columns_are_dropped_and_the_fit_is_still_least_squares() {
        let (n, d, k) = (100, 3, 1);
        let (base, targets) = problem(n, d, k);
        // Columns: x0, 0 (a dead pixel), x1, x1 again, x2.
        let mut features = Vec::with_capacity(n * 5);
        for row in base.chunks_exact(d) {
            features.extend([row[0], 0.0, row[1], row[1], row[2]]);
        }
        let fit = fit_linear(&features, &targets, n, 5, k).unwrap();
        assert_eq!(fit.rank, 4, "bias, x0, x1, x2");
        assert_eq!(fit.dropped_inputs.len(), 2);
        assert!(fit.dropped_inputs.contains(&1));
        let full = fit_linear(&base, &targets, n, d, k).unwrap();
        assert!((fit.bias[0] - full.bias[0]).abs() < 1e-9);
        assert!((fit.weights[0] - full.weights[0]).abs() < 1e-9);
        assert!((fit.weights[2] + fit.weights[3] - full.weights[1]).abs() < 1e-9);
        assert!((fit.weights[4] - full.weights[2]).abs() < 1e-9);
    }

    #[test]
    fn impossible_problems_are_errors() {
        assert_eq!(fit_linear(&[], &[], 0, 3, 1), Err(SolverError::Empty));
        assert!(matches!(
            fit_linear(&[1.0, 2.0], &[1.0], 1, 3, 1),
            Err(SolverError::Shape(_))
        ));
    }
}

//! Helpers shared by the kernel tests: reproducible values and tolerant comparisons.

/// `length` values in [-1, 1) from a small linear congruential sequence seeded by `seed`.
pub(crate) fn values(length: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..length)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The values widened to f64.
pub(crate) fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&value| f64::from(value)).collect()
}

/// Asserts that every f32 value is within `tolerance·(1 + |expected|)` of its f64 reference.
pub(crate) fn assert_close(actual: &[f32], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "lengths differ");
    for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(got) - want).abs() <= tolerance * (1.0 + want.abs()),
            "value {index}: got {got}, want {want}"
        );
    }
}

/// The central finite-difference gradient of `function` at `point`, with step `step`.
pub(crate) fn finite_differences(
    point: &[f64],
    step: f64,
    function: impl Fn(&[f64]) -> f64,
) -> Vec<f64> {
    let mut moved = point.to_vec();
    (0..point.len())
        .map(|index| {
            moved[index] = point[index] + step;
            let above = function(&moved);
            moved[index] = point[index] - step;
            let below = function(&moved);
            moved[index] = point[index];
            (above - below) / (2.0 * step)
        })
        .collect()
}

/// The dot product of two f64 vectors.
pub(crate) fn dot(left: &[f64], right: &[f64]) -> f64 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}

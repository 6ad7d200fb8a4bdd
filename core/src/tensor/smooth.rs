//! The activations of recent networks, each a scalar function with its derivative, applied in
//! place and differentiated from the activation's input (none of gelu, silu and hard_swish can be
//! undone from its output): gelu in its erf form (Hendrycks & Gimpel 2016, eq. 1) and its tanh
//! approximation, silu/swish x·σ(x) (Ramachandran et al. 2017), relu6 min(max(x, 0), 6),
//! hard_swish x·relu6(x+3)/6 (Howard et al. 2019, MobileNetV3), elu (Clevert et al. 2015),
//! leaky_relu with its negative slope, and softplus ln(1 + eˣ), computed without overflow.
//! At a kink (relu6 at 0 and 6, hard_swish at ±3, leaky_relu at 0) the derivative is the one
//! on the left side's interior, as PyTorch takes it; tests keep probes off the kinks.

use super::elementwise::{map_gradient, map_in_place, sigmoid};
use super::{Compute, TensorError};

/// One of the functions above, with its constant where it has one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Smooth {
    /// x·Φ(x), Φ the standard normal distribution function.
    GeluErf,
    /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    GeluTanh,
    /// x·σ(x).
    Silu,
    /// min(max(x, 0), 6).
    Relu6,
    /// x·min(max(x + 3, 0), 6)/6.
    HardSwish,
    /// x for x > 0, α·(eˣ − 1) otherwise.
    Elu(f32),
    /// x for x > 0, slope·x otherwise.
    LeakyRelu(f32),
    /// ln(1 + eˣ).
    Softplus,
}

/// √(2/π).
const TANH_SCALE: f32 = 0.797_884_6;
/// The cubic term of the tanh approximation.
const TANH_CUBIC: f32 = 0.044_715;

/// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5·10⁻⁷, under f32's resolution
/// near 1), computed in f64.
pub fn erf(x: f32) -> f32 {
    let x = f64::from(x);
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let polynomial = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (sign * (1.0 - polynomial * (-x * x).exp())) as f32
}

/// The standard normal density φ(x).
fn normal_density(x: f32) -> f32 {
    (-0.5 * x * x).exp() * 0.398_942_3
}

impl Smooth {
    /// f(x).
    pub fn value(self, x: f32) -> f32 {
        match self {
            Smooth::GeluErf => 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)),
            Smooth::GeluTanh => {
                0.5 * x * (1.0 + (TANH_SCALE * (x + TANH_CUBIC * x * x * x)).tanh())
            }
            Smooth::Silu => x * sigmoid(x),
            Smooth::Relu6 => x.clamp(0.0, 6.0),
            Smooth::HardSwish => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
            Smooth::Elu(alpha) => {
                if x > 0.0 {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            Smooth::LeakyRelu(slope) => {
                if x > 0.0 {
                    x
                } else {
                    slope * x
                }
            }
            Smooth::Softplus => x.max(0.0) + (-x.abs()).exp().ln_1p(),
        }
    }

    /// f′(x).
    pub fn derivative(self, x: f32) -> f32 {
        match self {
            Smooth::GeluErf => {
                0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)) + x * normal_density(x)
            }
            Smooth::GeluTanh => {
                let t = (TANH_SCALE * (x + TANH_CUBIC * x * x * x)).tanh();
                0.5 * (1.0 + t)
                    + 0.5 * x * (1.0 - t * t) * TANH_SCALE * (1.0 + 3.0 * TANH_CUBIC * x * x)
            }
            Smooth::Silu => {
                let s = sigmoid(x);
                s * (1.0 + x * (1.0 - s))
            }
            Smooth::Relu6 => {
                if x > 0.0 && x < 6.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Smooth::HardSwish => {
                if x <= -3.0 {
                    0.0
                } else if x >= 3.0 {
                    1.0
                } else {
                    (2.0 * x + 3.0) / 6.0
                }
            }
            Smooth::Elu(alpha) => {
                if x > 0.0 {
                    1.0
                } else {
                    alpha * x.exp()
                }
            }
            Smooth::LeakyRelu(slope) => {
                if x > 0.0 {
                    1.0
                } else {
                    slope
                }
            }
            Smooth::Softplus => sigmoid(x),
        }
    }
}

/// `values = f(values)`, in place.
pub fn smooth_forward(function: Smooth, values: &mut [f32], compute: Compute) {
    map_in_place(values, compute, |x| function.value(x));
}

/// `input_gradient = output_gradient · f′(input)`.
pub fn smooth_backward_from_input(
    function: Smooth,
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
        |x, gradient| gradient * function.derivative(x),
    )
}

#[cfg(test)]
mod tests {
    use super::{Smooth, erf};

    /// erf against the table of Abramowitz & Stegun (Table 7.1) to 7 places.
    #[test]
    fn erf_matches_the_table() {
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (2.0, 0.995_322_265_0),
            (-1.0, -0.842_700_792_9),
        ] {
            assert!((f64::from(erf(x)) - want).abs() < 3e-7, "erf({x})");
        }
    }

    /// Values against figures computed from the definitions by hand (PyTorch gives the same:
    /// F.gelu(1.0) = 0.8413447, F.gelu(1.0, approximate='tanh') = 0.8411920, F.silu(1.0) =
    /// 0.7310586, F.hardswish(1.0) = 0.6666667, F.elu(-1.0) = −0.6321206, F.softplus(0.0) =
    /// ln 2).
    #[test]
    fn values_match_the_definitions() {
        for (function, x, want) in [
            (Smooth::GeluErf, 1.0, 0.841_344_7),
            (Smooth::GeluTanh, 1.0, 0.841_192),
            (Smooth::Silu, 1.0, 0.731_058_6),
            (Smooth::Relu6, 7.5, 6.0),
            (Smooth::Relu6, -1.0, 0.0),
            (Smooth::HardSwish, 1.0, 0.666_666_7),
            (Smooth::HardSwish, -4.0, 0.0),
            (Smooth::HardSwish, 4.0, 4.0),
            (Smooth::Elu(1.0), -1.0, -0.632_120_6),
            (Smooth::LeakyRelu(0.2), -2.0, -0.4),
            (Smooth::Softplus, 0.0, std::f32::consts::LN_2),
            (Smooth::Softplus, 100.0, 100.0),
            (Smooth::Softplus, -100.0, 0.0),
        ] {
            let got = function.value(x);
            assert!(
                (got - want).abs() < 2e-6,
                "{function:?}({x}) = {got}, want {want}"
            );
        }
    }

    /// Each derivative against central differences of its value, away from the kinks.
    #[test]
    fn derivatives_match_differences() {
        let functions = [
            Smooth::GeluErf,
            Smooth::GeluTanh,
            Smooth::Silu,
            Smooth::Relu6,
            Smooth::HardSwish,
            Smooth::Elu(1.0),
            Smooth::LeakyRelu(0.01),
            Smooth::Softplus,
        ];
        for function in functions {
            for x in [-4.2f32, -2.5, -0.7, 0.3, 1.1, 2.9, 5.1, 7.3] {
                let h = 1e-3f64;
                let at = |x: f64| f64::from(function.value(x as f32));
                let numeric = (at(f64::from(x) + h) - at(f64::from(x) - h)) / (2.0 * h);
                let analytic = f64::from(function.derivative(x));
                assert!(
                    (analytic - numeric).abs() < 2e-3,
                    "{function:?}′({x}) = {analytic}, differences {numeric}"
                );
            }
        }
    }
}

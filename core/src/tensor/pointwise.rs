//! Elementwise activations as the vector kernels compute them: in place on a buffer, fused into a
//! convolution's output pass (`convolution`), and their gradients from the activation's output.
//! Every value, tails of slices included, goes through the same vector code, so a value's result
//! does not depend on where it sits in a buffer.

use super::parallel::for_each_part;
use super::simd::{Kernel, Simd, dispatch};
use super::{Compute, TensorError, expect_length};

/// Below this many values an elementwise pass runs on one thread: splitting costs more than it
/// saves.
const PARALLEL_MINIMUM: usize = 1 << 15;

/// An elementwise function a kernel can apply to its outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointwise {
    /// The value itself.
    Identity,
    /// max(x, 0) (NaN gives 0).
    Relu,
    /// A·tanh(S·x): tanh for A = S = 1, LeCun's scaled tanh for A = 1.7159, S = 2/3.
    ScaledTanh {
        /// The amplitude A.
        amplitude: f32,
        /// The slope S.
        slope: f32,
    },
    /// The logistic function 1 / (1 + e^−x).
    Sigmoid,
}

impl Pointwise {
    /// tanh itself.
    pub const TANH: Pointwise = Pointwise::ScaledTanh {
        amplitude: 1.0,
        slope: 1.0,
    };

    /// The function on a vector.
    #[inline(always)]
    pub(crate) fn apply<S: Simd>(self, simd: S, x: S::V) -> S::V {
        match self {
            Pointwise::Identity => x,
            Pointwise::Relu => simd.max(x, simd.splat(0.0)),
            Pointwise::ScaledTanh { amplitude, slope } => simd.mul(
                simd.splat(amplitude),
                simd.tanh(simd.mul(simd.splat(slope), x)),
            ),
            Pointwise::Sigmoid => simd.sigmoid(x),
        }
    }

    /// `gradient · f′(x)` from the function's output `y = f(x)`: relu passes the gradient where
    /// y > 0, A·tanh(S·x) multiplies it by (S/A)·(A² − y²), the sigmoid by y·(1 − y).
    #[inline(always)]
    pub(crate) fn gradient_from_output<S: Simd>(self, simd: S, y: S::V, gradient: S::V) -> S::V {
        match self {
            Pointwise::Identity => gradient,
            Pointwise::Relu => simd.select_less(simd.splat(0.0), y, gradient, simd.splat(0.0)),
            Pointwise::ScaledTanh { amplitude, slope } => simd.mul(
                simd.div(simd.mul(gradient, simd.splat(slope)), simd.splat(amplitude)),
                simd.sub(simd.splat(amplitude * amplitude), simd.mul(y, y)),
            ),
            Pointwise::Sigmoid => simd.mul(simd.mul(gradient, y), simd.sub(simd.splat(1.0), y)),
        }
    }
}

/// The vectors covering `0..length`, as `(offset, count)`: whole vectors of `lanes`, then one
/// partial vector for the tail (`count` < lanes). A loop over them keeps its body inside the
/// caller (a closure would be compiled apart, without the caller's vector instructions, and
/// every intrinsic in it would become a call).
#[inline(always)]
pub(crate) fn vectors(length: usize, lanes: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..length.div_ceil(lanes)).map(move |index| {
        let offset = index * lanes;
        (offset, lanes.min(length - offset))
    })
}

/// Loads `count` values (all LANES, or fewer with zeros after them).
///
/// # Safety
/// `from .. from + count` must be readable.
#[inline(always)]
pub(crate) unsafe fn load<S: Simd>(simd: S, from: *const f32, count: usize) -> S::V {
    // SAFETY: forwarded from the caller.
    unsafe {
        if count == S::LANES {
            simd.load(from)
        } else {
            simd.load_partial(from, count)
        }
    }
}

/// Stores the first `count` lanes (all, or fewer).
///
/// # Safety
/// `to .. to + count` must be writable.
#[inline(always)]
pub(crate) unsafe fn store<S: Simd>(simd: S, to: *mut f32, vector: S::V, count: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        if count == S::LANES {
            simd.store(to, vector)
        } else {
            simd.store_partial(to, vector, count)
        }
    }
}

/// `values = f(values)` on one thread's part.
struct ApplyPart<'a> {
    values: &'a mut [f32],
    function: Pointwise,
}

impl Kernel for ApplyPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let pointer = self.values.as_mut_ptr();
        let function = self.function;
        for (offset, count) in vectors(self.values.len(), S::LANES) {
            // SAFETY: offset + count ≤ values.len().
            unsafe {
                let x = load(simd, pointer.add(offset), count);
                store(simd, pointer.add(offset), function.apply(simd, x), count);
            }
        }
    }
}

/// `gradient = gradient · f′` from the output, on one thread's part.
struct GradientPart<'a> {
    output: &'a [f32],
    gradient: &'a mut [f32],
    function: Pointwise,
}

impl Kernel for GradientPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let output = self.output.as_ptr();
        let gradient = self.gradient.as_mut_ptr();
        let function = self.function;
        let length = self.gradient.len().min(self.output.len());
        for (offset, count) in vectors(length, S::LANES) {
            // SAFETY: offset + count ≤ length ≤ both lengths.
            unsafe {
                let y = load(simd, output.add(offset), count);
                let g = load(simd, gradient.add(offset), count);
                let result = function.gradient_from_output(simd, y, g);
                store(simd, gradient.add(offset), result, count);
            }
        }
    }
}

/// `values = f(values + bias)` over rows of `bias.len()` channels, on one thread.
struct BiasApplyPart<'a> {
    values: &'a mut [f32],
    bias: &'a [f32],
    function: Pointwise,
}

impl Kernel for BiasApplyPart<'_> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) {
        let channels = self.bias.len();
        let bias = self.bias.as_ptr();
        let function = self.function;
        for row in self.values.chunks_exact_mut(channels) {
            let pointer = row.as_mut_ptr();
            for (offset, count) in vectors(channels, S::LANES) {
                // SAFETY: offset + count ≤ channels = row.len() = bias.len().
                unsafe {
                    let x = simd.add(
                        load(simd, pointer.add(offset), count),
                        load(simd, bias.add(offset), count),
                    );
                    store(simd, pointer.add(offset), function.apply(simd, x), count);
                }
            }
        }
    }
}

/// Replaces every value `x` of `values`, read as rows of `bias.len()` channels, by
/// `function(x + bias[channel])`, on the calling thread (a convolution's output pass over a
/// chunk still in cache). With no bias, only the function. Each value's result is the one
/// [`apply_in_place`] gives after adding the bias.
pub(crate) fn add_bias_and_apply(
    values: &mut [f32],
    bias: Option<&[f32]>,
    function: Pointwise,
    compute: Compute,
) {
    match bias {
        Some(bias) if !bias.is_empty() => dispatch(
            compute.instructions(),
            BiasApplyPart {
                values,
                bias,
                function,
            },
        ),
        _ if function == Pointwise::Identity => {}
        _ => dispatch(compute.instructions(), ApplyPart { values, function }),
    }
}

/// The threads an elementwise pass over `length` values uses.
fn threads_for(length: usize, compute: Compute) -> usize {
    if length < PARALLEL_MINIMUM {
        1
    } else {
        compute.threads()
    }
}

/// Replaces every value `x` of `values` by `function(x)`, in place.
pub fn apply_in_place(values: &mut [f32], function: Pointwise, compute: Compute) {
    if function == Pointwise::Identity {
        return;
    }
    let threads = threads_for(values.len(), compute);
    for_each_part(values, 1, threads, |_, part| {
        dispatch(
            compute.instructions(),
            ApplyPart {
                values: part,
                function,
            },
        )
    });
}

/// Multiplies `gradient` (∂loss/∂output, overwritten by ∂loss/∂input) by the function's
/// derivative, taken from its `output`.
pub fn gradient_from_output_in_place(
    output: &[f32],
    gradient: &mut [f32],
    function: Pointwise,
    compute: Compute,
) -> Result<(), TensorError> {
    expect_length("output gradient", gradient.len(), output.len())?;
    if function == Pointwise::Identity {
        return Ok(());
    }
    let threads = threads_for(gradient.len(), compute);
    for_each_part(gradient, 1, threads, |range, part| {
        dispatch(
            compute.instructions(),
            GradientPart {
                output: &output[range],
                gradient: part,
                function,
            },
        )
    });
    Ok(())
}

/// ∂loss/∂input as a new buffer: `gradient · f′` taken from the function's `output`, the
/// values [`gradient_from_output_in_place`] gives on a copy of `gradient`. For relu it is one
/// pass that reads both and writes the result (no copy first).
pub fn gradient_from_output(
    output: &[f32],
    gradient: &[f32],
    function: Pointwise,
    compute: Compute,
) -> Result<Vec<f32>, TensorError> {
    expect_length("output gradient", gradient.len(), output.len())?;
    if function == Pointwise::Relu {
        // As the vector kernels select: the gradient where 0 < y, else +0 (NaN outputs too).
        return Ok(output
            .iter()
            .zip(gradient)
            .map(|(&y, &g)| if 0.0 < y { g } else { 0.0 })
            .collect());
    }
    let mut result = gradient.to_vec();
    gradient_from_output_in_place(output, &mut result, function, compute)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Instructions;
    use crate::tensor::testing::values;

    const FUNCTIONS: [Pointwise; 5] = [
        Pointwise::Identity,
        Pointwise::Relu,
        Pointwise::TANH,
        Pointwise::ScaledTanh {
            amplitude: 1.7159,
            slope: 2.0 / 3.0,
        },
        Pointwise::Sigmoid,
    ];

    #[test]
    fn the_gradient_as_a_new_buffer_equals_the_in_place_one_bit_for_bit() {
        let mut output = values(301, 5);
        output[3] = 0.0;
        output[4] = -0.0;
        output[5] = f32::NAN;
        output[6] = f32::INFINITY;
        let mut gradient = values(301, 6);
        gradient[7] = f32::NAN;
        gradient[8] = -0.0;
        for function in FUNCTIONS {
            let compute = Compute::new(2).unwrap();
            let mut expected = gradient.clone();
            gradient_from_output_in_place(&output, &mut expected, function, compute).unwrap();
            let result = gradient_from_output(&output, &gradient, function, compute).unwrap();
            let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&result), bits(&expected), "{function:?}");
        }
        assert!(
            gradient_from_output(&output[1..], &gradient, Pointwise::Relu, Compute::single())
                .is_err()
        );
    }

    fn reference(function: Pointwise, x: f64) -> f64 {
        match function {
            Pointwise::Identity => x,
            Pointwise::Relu => x.max(0.0),
            Pointwise::ScaledTanh { amplitude, slope } => {
                f64::from(amplitude) * (f64::from(slope) * x).tanh()
            }
            Pointwise::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        }
    }

    fn computes(instructions: Instructions, threads: usize) -> Compute {
        Compute::new(threads)
            .unwrap()
            .with_instructions(instructions)
            .unwrap()
    }

    #[test]
    fn functions_and_gradients_match_their_definitions_on_every_instruction_set() {
        // Long enough for two threads, with a tail shorter than a vector.
        let length = PARALLEL_MINIMUM + 13;
        let inputs: Vec<f32> = values(length, 3).iter().map(|value| value * 6.0).collect();
        let upstream = values(length, 4);
        for instructions in Instructions::available() {
            for threads in [1, 2] {
                let compute = computes(instructions, threads);
                for function in FUNCTIONS {
                    let mut outputs = inputs.clone();
                    apply_in_place(&mut outputs, function, compute);
                    let mut gradient = upstream.clone();
                    gradient_from_output_in_place(&outputs, &mut gradient, function, compute)
                        .unwrap();
                    for index in 0..length {
                        let x = f64::from(inputs[index]);
                        let want = reference(function, x);
                        assert!(
                            (f64::from(outputs[index]) - want).abs() <= 3e-7 * (1.0 + want.abs()),
                            "{function:?} of {x}: got {}, want {want}",
                            outputs[index]
                        );
                        let step = 1e-4;
                        let slope = (reference(function, x + step) - reference(function, x - step))
                            / (2.0 * step);
                        let want = f64::from(upstream[index]) * slope;
                        assert!(
                            (f64::from(gradient[index]) - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{function:?} gradient at {x}: got {}, want {want}",
                            gradient[index]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn relu_passes_no_gradient_at_zero_and_nan_gives_zero() {
        let mut values = vec![f32::NAN, -1.0, 0.0, 2.0];
        apply_in_place(&mut values, Pointwise::Relu, Compute::single());
        assert_eq!(values, [0.0, 0.0, 0.0, 2.0]);
        let mut gradient = vec![5.0; 4];
        gradient_from_output_in_place(&values, &mut gradient, Pointwise::Relu, Compute::single())
            .unwrap();
        assert_eq!(gradient, [0.0, 0.0, 0.0, 5.0]);
    }

    #[test]
    fn a_gradient_of_another_length_is_an_error() {
        let mut gradient = vec![0.0; 3];
        assert!(matches!(
            gradient_from_output_in_place(
                &[0.0; 4],
                &mut gradient,
                Pointwise::Relu,
                Compute::single()
            ),
            Err(TensorError::Length { .. })
        ));
    }
}

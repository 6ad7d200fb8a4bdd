//! `activation`: an elementwise nonlinearity as a layer of its own; also the `Activation` that
//! `conv2d` and `dense` take as an attribute. No parameters, no connections of its own (LeCun's
//! count puts a unit's nonlinearity inside the unit). [`apply`] and [`gradient`] are the one place
//! where any layer applies an activation and undoes it in its backward pass.

use super::sizes::{one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::elementwise;
use crate::tensor::pointwise::Pointwise;
use crate::tensor::{Compute, Tensor, TensorError};
use std::borrow::Cow;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "activation",
    aliases: &[],
    positionals: &["function"],
    summary: "elementwise nonlinearity: relu, tanh, scaled_tanh, sigmoid, softmax, linear",
    build,
};

/// An elementwise (softmax: per example) nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// LeCun's squashing function 1.7159·tanh(2x/3) (LeCun et al. 1998, appendix A), which maps
    /// ±1 to ±1 so that LeNet-5's ±1 RBF codes lie where its slope is still large.
    ScaledTanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// e^x / Σ e^x over the example.
    Softmax,
    /// x.
    Linear,
}

impl Activation {
    /// The names accepted in descriptions.
    pub const NAMES: [&'static str; 6] = [
        "relu",
        "tanh",
        "scaled_tanh",
        "sigmoid",
        "softmax",
        "linear",
    ];

    /// The activation with this name.
    pub fn from_name(name: &str) -> Option<Activation> {
        match name {
            "relu" => Some(Activation::Relu),
            "tanh" => Some(Activation::Tanh),
            "scaled_tanh" => Some(Activation::ScaledTanh),
            "sigmoid" => Some(Activation::Sigmoid),
            "softmax" => Some(Activation::Softmax),
            "linear" => Some(Activation::Linear),
            _ => None,
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::ScaledTanh => "scaled_tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Softmax => "softmax",
            Activation::Linear => "linear",
        }
    }

    /// The elementwise function kernels apply, or `None` for softmax (which normalises over the
    /// last axis).
    pub(crate) fn pointwise(self) -> Option<Pointwise> {
        match self {
            Activation::Relu => Some(Pointwise::Relu),
            Activation::Tanh => Some(Pointwise::TANH),
            Activation::ScaledTanh => Some(Pointwise::ScaledTanh {
                amplitude: elementwise::SCALED_TANH_AMPLITUDE,
                slope: elementwise::SCALED_TANH_SLOPE,
            }),
            Activation::Sigmoid => Some(Pointwise::Sigmoid),
            Activation::Softmax => None,
            Activation::Linear => Some(Pointwise::Identity),
        }
    }

    /// Reads the optional attribute `key` of a conv or dense layer.
    pub fn read(
        reader: &mut AttributeReader,
        key: &'static str,
    ) -> Result<Option<Activation>, DeclarationError> {
        Ok(reader
            .choice(key, &Activation::NAMES)?
            .and_then(Activation::from_name))
    }
}

/// An elementwise forward kernel, in place: values, threads.
type ForwardKernel = fn(&mut [f32], Compute);

/// An elementwise backward kernel: activation output, output gradient, input gradient, threads.
type BackwardKernel = fn(&[f32], &[f32], &mut [f32], Compute) -> Result<(), TensorError>;

/// The extent of the last axis, over which softmax normalises (per example and position).
fn last_axis(tensor: &Tensor) -> usize {
    tensor.shape().last().copied().unwrap_or(1)
}

/// What a kernel can fold into its output pass of an optional activation: its elementwise
/// function (`Identity` for none and `linear`), or `None` for softmax, which [`apply`] and
/// [`gradient`] handle.
pub(crate) fn fused(activation: Option<Activation>) -> Option<Pointwise> {
    activation.map_or(Some(Pointwise::Identity), Activation::pointwise)
}

/// Applies `activation` to a layer's pre-activation output (`None` and `linear` leave it as it
/// is), in place except for softmax, which normalises over the last axis.
pub(crate) fn apply(
    activation: Option<Activation>,
    input: Tensor,
    compute: Compute,
) -> Result<Tensor, TensorError> {
    let kernel: ForwardKernel = match activation {
        None | Some(Activation::Linear) => return Ok(input),
        Some(Activation::Relu) => elementwise::relu_forward,
        Some(Activation::Tanh) => elementwise::tanh_forward,
        Some(Activation::ScaledTanh) => elementwise::scaled_tanh_forward,
        Some(Activation::Sigmoid) => elementwise::sigmoid_forward,
        Some(Activation::Softmax) => {
            let mut output = Tensor::zeros(input.shape())?;
            let classes = last_axis(&input);
            elementwise::softmax_forward(input.data(), classes, output.data_mut())?;
            return Ok(output);
        }
    };
    let mut output = input;
    kernel(output.data_mut(), compute);
    Ok(output)
}

/// ∂loss/∂(pre-activation) from the activation's `output` and ∂loss/∂output (borrowed back
/// unchanged for `None` and `linear`).
pub(crate) fn gradient<'g>(
    activation: Option<Activation>,
    output: &Tensor,
    output_gradient: &'g Tensor,
    compute: Compute,
) -> Result<Cow<'g, Tensor>, TensorError> {
    same_shape("the output gradient", output_gradient, output)?;
    let kernel: BackwardKernel = match activation {
        None | Some(Activation::Linear) => return Ok(Cow::Borrowed(output_gradient)),
        Some(Activation::Relu) => elementwise::relu_backward,
        Some(Activation::Tanh) => elementwise::tanh_backward_from_output,
        Some(Activation::ScaledTanh) => elementwise::scaled_tanh_backward_from_output,
        Some(Activation::Sigmoid) => elementwise::sigmoid_backward_from_output,
        Some(Activation::Softmax) => {
            let mut input_gradient = Tensor::zeros(output.shape())?;
            elementwise::softmax_backward_from_output(
                output.data(),
                output_gradient.data(),
                last_axis(output),
                input_gradient.data_mut(),
            )?;
            return Ok(Cow::Owned(input_gradient));
        }
    };
    let mut input_gradient = Tensor::zeros(output.shape())?;
    kernel(
        output.data(),
        output_gradient.data(),
        input_gradient.data_mut(),
        compute,
    )?;
    Ok(Cow::Owned(input_gradient))
}

#[derive(Debug)]
struct ActivationLayer {
    function: Activation,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let function =
        Activation::read(reader, "function")?.ok_or_else(|| reader.missing("function"))?;
    Ok(Box::new(ActivationLayer { function }))
}

impl Layer for ActivationLayer {
    fn settings(&self) -> String {
        self.function.name().to_string()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        Ok(Inference::plain(single(inputs)?.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }

    fn parameter_specs(&self, _: &[Shape]) -> Vec<ParameterSpec> {
        Vec::new()
    }

    fn forward(
        &self,
        _: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let output = apply(Some(self.function), input.clone(), pass.compute)?;
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        _: &[Tensor],
        _: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input_gradient = gradient(
            Some(self.function),
            &forward.output,
            output_gradient,
            compute,
        )?;
        Ok(Gradients {
            inputs: vec![input_gradient.into_owned()],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// Backward agrees with finite differences for every function on random shapes, with
        /// inputs spaced so that no probe crosses relu's kink.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            function in proptest::sample::select(&super::Activation::NAMES[..]),
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: true };
            let line = format!("activation {function}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_error, check_gradients};

    #[test]
    fn keeps_the_shape_and_counts_nothing() {
        check(
            "activation relu",
            &[&[26, 26, 32]],
            "[26×26×32]",
            "0",
            "0",
            "0",
        );
        check_error(
            "activation swish",
            &[&[4]],
            "`function` must be one of relu, tanh, scaled_tanh, sigmoid, softmax, linear, got `swish`",
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        for function in super::Activation::NAMES {
            let line = format!("activation {function}");
            check_gradients(&line, &[&[7]], 3);
            check_gradients(&line, &[&[3, 2, 4]], 2);
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_over_the_last_axis() {
        use crate::tensor::{Compute, Tensor};
        let input = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, -50.0, 0.0, 50.0]).unwrap();
        let output = super::apply(Some(super::Activation::Softmax), input, Compute::single());
        let output = output.unwrap();
        for row in output.data().chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        assert!(output.data()[2] > output.data()[1] && output.data()[1] > output.data()[0]);
    }

    #[test]
    fn a_gradient_of_another_shape_is_an_error() {
        use crate::tensor::{Compute, Tensor};
        let output = Tensor::zeros(&[2, 3]).unwrap();
        let wrong = Tensor::zeros(&[3, 2]).unwrap();
        let result = super::gradient(None, &output, &wrong, Compute::single());
        assert!(result.is_err());
    }
}

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
use crate::tensor::smooth::{Smooth, smooth_backward_from_input, smooth_forward};
use crate::tensor::{Compute, Tensor, TensorError};
use std::borrow::Cow;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "activation",
    aliases: &[],
    positionals: &["function"],
    summary: "elementwise nonlinearity: relu, tanh, scaled_tanh, sigmoid, softmax, linear, gelu, gelu_tanh, silu (swish), relu6, hard_swish, elu, leaky_relu, softplus",
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
    /// x·Φ(x) with the normal distribution's Φ through erf (Keras' and PyTorch's default gelu).
    Gelu,
    /// gelu's tanh approximation (`approximate=True` / `approximate='tanh'`).
    GeluTanh,
    /// x·σ(x), also called swish.
    Silu,
    /// min(max(x, 0), 6).
    Relu6,
    /// x·relu6(x + 3)/6.
    HardSwish,
    /// x, or eˣ − 1 below 0 (α = 1, both frameworks' default).
    Elu,
    /// x, or slope·x below 0: slope 0.2 under Keras conventions (`keras.activations.leaky_relu`),
    /// 0.01 under PyTorch's (`nn.LeakyReLU`).
    LeakyRelu(Slope),
    /// ln(1 + eˣ).
    Softplus,
}

/// Whose default negative slope a leaky relu has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slope {
    /// 0.2.
    Keras,
    /// 0.01.
    Pytorch,
}

impl Activation {
    /// The names accepted in descriptions (`swish` is read as `silu`).
    pub const NAMES: [&'static str; 14] = [
        "relu",
        "tanh",
        "scaled_tanh",
        "sigmoid",
        "softmax",
        "linear",
        "gelu",
        "gelu_tanh",
        "silu",
        "relu6",
        "hard_swish",
        "elu",
        "leaky_relu",
        "softplus",
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
            "gelu" => Some(Activation::Gelu),
            "gelu_tanh" => Some(Activation::GeluTanh),
            "silu" | "swish" => Some(Activation::Silu),
            "relu6" => Some(Activation::Relu6),
            "hard_swish" => Some(Activation::HardSwish),
            "elu" => Some(Activation::Elu),
            "leaky_relu" => Some(Activation::LeakyRelu(Slope::Keras)),
            "softplus" => Some(Activation::Softplus),
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
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu_tanh",
            Activation::Silu => "silu",
            Activation::Relu6 => "relu6",
            Activation::HardSwish => "hard_swish",
            Activation::Elu => "elu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Softplus => "softplus",
        }
    }

    /// The elementwise function kernels apply, or `None` for softmax (which normalises over the
    /// last axis) and the functions differentiated from their input.
    pub(crate) fn pointwise(self) -> Option<Pointwise> {
        match self {
            Activation::Relu => Some(Pointwise::Relu),
            Activation::Tanh => Some(Pointwise::TANH),
            Activation::ScaledTanh => Some(Pointwise::ScaledTanh {
                amplitude: elementwise::SCALED_TANH_AMPLITUDE,
                slope: elementwise::SCALED_TANH_SLOPE,
            }),
            Activation::Sigmoid => Some(Pointwise::Sigmoid),
            Activation::Linear => Some(Pointwise::Identity),
            // Softmax normalises over the last axis; the others are differentiated from their
            // input, which the layer keeps (`keep_input`): `apply` and `gradient` run them.
            Activation::Softmax
            | Activation::Gelu
            | Activation::GeluTanh
            | Activation::Silu
            | Activation::Relu6
            | Activation::HardSwish
            | Activation::Elu
            | Activation::LeakyRelu(_)
            | Activation::Softplus => None,
        }
    }

    /// Reads the optional attribute `key` of a conv or dense layer (`swish` is accepted for
    /// `silu`; a leaky relu takes its slope from the network's conventions).
    pub fn read(
        reader: &mut AttributeReader,
        key: &'static str,
    ) -> Result<Option<Activation>, DeclarationError> {
        let mut names = Activation::NAMES.to_vec();
        names.push("swish");
        let pytorch =
            reader.network_conventions() == Some(crate::conventions::Conventions::Pytorch);
        Ok(reader
            .choice(key, &names)?
            .and_then(Activation::from_name)
            .map(|activation| match activation {
                Activation::LeakyRelu(_) if pytorch => Activation::LeakyRelu(Slope::Pytorch),
                other => other,
            }))
    }
}

/// An elementwise forward kernel, in place: values, threads.
type ForwardKernel = fn(&mut [f32], Compute);

/// An elementwise backward kernel: activation output, output gradient, input gradient, threads.
type BackwardKernel = fn(&[f32], &[f32], &mut [f32], Compute) -> Result<(), TensorError>;

/// How an activation runs.
enum Kernel {
    /// Leaves the values as they are.
    Identity,
    /// In place, differentiated from its output.
    FromOutput(ForwardKernel, BackwardKernel),
    /// Softmax over the last axis.
    Softmax,
    /// In place, differentiated from its input (kept by [`keep_input`]).
    FromInput(Smooth),
}

fn kernel(activation: Option<Activation>) -> Kernel {
    let Some(activation) = activation else {
        return Kernel::Identity;
    };
    let smooth = Kernel::FromInput;
    match activation {
        Activation::Linear => Kernel::Identity,
        Activation::Relu => {
            Kernel::FromOutput(elementwise::relu_forward, elementwise::relu_backward)
        }
        Activation::Tanh => Kernel::FromOutput(
            elementwise::tanh_forward,
            elementwise::tanh_backward_from_output,
        ),
        Activation::ScaledTanh => Kernel::FromOutput(
            elementwise::scaled_tanh_forward,
            elementwise::scaled_tanh_backward_from_output,
        ),
        Activation::Sigmoid => Kernel::FromOutput(
            elementwise::sigmoid_forward,
            elementwise::sigmoid_backward_from_output,
        ),
        Activation::Softmax => Kernel::Softmax,
        Activation::Gelu => smooth(Smooth::GeluErf),
        Activation::GeluTanh => smooth(Smooth::GeluTanh),
        Activation::Silu => smooth(Smooth::Silu),
        Activation::Relu6 => smooth(Smooth::Relu6),
        Activation::HardSwish => smooth(Smooth::HardSwish),
        Activation::Elu => smooth(Smooth::Elu(1.0)),
        Activation::LeakyRelu(Slope::Keras) => smooth(Smooth::LeakyRelu(0.2)),
        Activation::LeakyRelu(Slope::Pytorch) => smooth(Smooth::LeakyRelu(0.01)),
        Activation::Softplus => smooth(Smooth::Softplus),
    }
}

/// The pre-activation a layer keeps for its backward pass when its activation is differentiated
/// from its input (gelu, silu, …): a copy of the buffer `apply` is about to overwrite, or `None`.
pub(crate) fn keep_input(activation: Option<Activation>, input: &Tensor) -> Option<Tensor> {
    match kernel(activation) {
        Kernel::FromInput(_) => Some(input.clone()),
        _ => None,
    }
}

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
    let mut output = input;
    match kernel(activation) {
        Kernel::Identity => {}
        Kernel::FromOutput(forward, _) => forward(output.data_mut(), compute),
        Kernel::FromInput(function) => smooth_forward(function, output.data_mut(), compute),
        Kernel::Softmax => {
            let input = output;
            output = Tensor::zeros(input.shape())?;
            elementwise::softmax_forward(input.data(), last_axis(&input), output.data_mut())?;
        }
    }
    Ok(output)
}

/// ∂loss/∂(pre-activation) from the activation's `output` (or its `input`, kept by
/// [`keep_input`], for the functions differentiated from it) and ∂loss/∂output (borrowed back
/// unchanged for `None` and `linear`).
pub(crate) fn gradient<'g>(
    activation: Option<Activation>,
    input: Option<&Tensor>,
    output: &Tensor,
    output_gradient: &'g Tensor,
    compute: Compute,
) -> Result<Cow<'g, Tensor>, TensorError> {
    same_shape("the output gradient", output_gradient, output)?;
    let mut input_gradient = Tensor::zeros(output.shape())?;
    let target = input_gradient.data_mut();
    match kernel(activation) {
        Kernel::Identity => return Ok(Cow::Borrowed(output_gradient)),
        Kernel::FromOutput(_, backward) => {
            backward(output.data(), output_gradient.data(), target, compute)?;
        }
        Kernel::FromInput(function) => {
            let input = input.ok_or_else(|| TensorError::Geometry {
                reason: "the activation's input was not kept for the backward pass".to_string(),
            })?;
            same_shape("the kept input", input, output)?;
            smooth_backward_from_input(
                function,
                input.data(),
                output_gradient.data(),
                target,
                compute,
            )?;
        }
        Kernel::Softmax => elementwise::softmax_backward_from_output(
            output.data(),
            output_gradient.data(),
            last_axis(output),
            target,
        )?,
    }
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

    fn caption(&self) -> super::Caption {
        super::Caption::text(self.function.name())
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
        let kept = keep_input(Some(self.function), input);
        let output = apply(Some(self.function), input.clone(), pass.compute)?;
        Ok(Forward {
            output,
            saved: Box::new(kept),
        })
    }

    fn backward(
        &self,
        _: &[Tensor],
        _: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let kept = forward
            .saved
            .downcast_ref::<Option<Tensor>>()
            .and_then(Option::as_ref);
        let input_gradient = gradient(
            Some(self.function),
            kept,
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
            "activation mish",
            &[&[4]],
            "`function` must be one of relu, tanh, scaled_tanh, sigmoid, softmax, linear, gelu, gelu_tanh, silu, relu6, hard_swish, elu, leaky_relu, softplus, swish, got `mish`",
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

    /// The layers that take an activation as an attribute keep their pre-activation for the
    /// functions differentiated from their input.
    #[test]
    fn attributes_differentiated_from_the_input_keep_it() {
        check_gradients("dense 3 activation=gelu", &[&[4]], 2);
        check_gradients("conv2d 2 2 activation=silu", &[&[3, 3, 2]], 2);
        check_gradients("subsample 2 activation=softplus", &[&[4, 4, 1]], 2);
        check_gradients(
            "conv2d_transpose 2 2 activation=hard_swish",
            &[&[2, 2, 1]],
            2,
        );
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
        let result = super::gradient(None, None, &output, &wrong, Compute::single());
        assert!(result.is_err());
    }
}

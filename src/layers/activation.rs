//! `activation`: an elementwise nonlinearity as a layer of its own; also the `Activation` that
//! `conv2d` and `dense` take as an attribute. No parameters, no connections of its own (LeCun's
//! count puts a unit's nonlinearity inside the unit).

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "activation",
    aliases: &[],
    positionals: &["function"],
    summary: "elementwise nonlinearity: relu, tanh, sigmoid, softmax, linear",
    build,
};

/// An elementwise (softmax: per example) nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// e^x / Σ e^x over the example.
    Softmax,
    /// x.
    Linear,
}

impl Activation {
    /// The names accepted in descriptions.
    pub const NAMES: [&'static str; 5] = ["relu", "tanh", "sigmoid", "softmax", "linear"];

    /// The activation with this name.
    pub fn from_name(name: &str) -> Option<Activation> {
        match name {
            "relu" => Some(Activation::Relu),
            "tanh" => Some(Activation::Tanh),
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
            Activation::Sigmoid => "sigmoid",
            Activation::Softmax => "softmax",
            Activation::Linear => "linear",
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
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_error};

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
            "`function` must be one of relu, tanh, sigmoid, softmax, linear, got `swish`",
        );
    }
}

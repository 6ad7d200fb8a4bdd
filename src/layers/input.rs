//! `input`: where data enters the graph, with its shape (`input 28x28x1`, `input 1@32x32`,
//! `input 784`). No parameters, no connections.

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "input",
    aliases: &[],
    positionals: &["shape"],
    summary: "the network's input: H×W×C maps or a vector of N values",
    build,
};

#[derive(Debug)]
struct Input {
    shape: Shape,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let dims = reader
        .dims("shape")?
        .ok_or_else(|| reader.missing("shape"))?;
    if dims.len() != 1 && dims.len() != 3 {
        let value = reader.value("shape").expect("read above");
        return Err(reader.invalid(
            "shape",
            value,
            "must be H×W×C maps (28x28x1, 1@28x28) or a length (784)",
        ));
    }
    Ok(Box::new(Input { shape: Shape(dims) }))
}

impl Layer for Input {
    fn settings(&self) -> String {
        String::new()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        if !inputs.is_empty() {
            return Err(ShapeError::InputCount {
                expected: "no inputs",
                found: inputs.len(),
            });
        }
        if self.shape.units().is_none() {
            return Err(ShapeError::Overflow(format!("the input {}", self.shape)));
        }
        Ok(Inference::plain(self.shape.clone()))
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
    fn shapes_in_the_sheet_notations() {
        check("input 227x227x3", &[], "[227×227×3]", "0", "0", "0");
        check("input 1@32x32", &[], "[32×32×1]", "0", "0", "0");
        check("input 784", &[], "784", "0", "0", "0");
        check_error(
            "input 28x28",
            &[],
            "`shape` must be H×W×C maps (28x28x1, 1@28x28) or a length (784), got 28x28",
        );
        check_error(
            "input 0x28x1",
            &[],
            "`shape` must be a shape of positive sizes, e.g. 28x28x1, got 0x28x1",
        );
    }
}

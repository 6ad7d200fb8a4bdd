//! `flatten`: the input's values as one vector (Keras `Flatten`), `[H×W×C]` → `H·W·C`. It only
//! renumbers units, so it has no parameters, no connections and no MACs, and each output unit sees
//! exactly one input unit. A vector input passes through unchanged. `dense` reads any shape, so
//! flatten is optional before it and changes no count.

use super::sizes::{batch_and_units, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "flatten",
    aliases: &[],
    positionals: &[],
    summary: "the input as one vector: H×W×C to H·W·C values",
    build,
};

#[derive(Debug)]
struct Flatten;

fn build(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Flatten))
}

impl Layer for Flatten {
    fn settings(&self) -> String {
        String::new()
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        let units = input
            .units()
            .ok_or_else(|| ShapeError::Overflow(format!("the size of {input}")))?;
        Ok(Inference::plain(Shape::new(vec![units])))
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
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (batch, units) = batch_and_units(input)?;
        Ok(Forward::plain(input.clone().reshape(&[batch, units])?))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        same_shape("the output gradient", output_gradient, &forward.output)?;
        Ok(Gradients {
            inputs: vec![output_gradient.clone().reshape(input.shape())?],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// Backward agrees with finite differences on random maps and vectors.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with("flatten", &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn maps_become_one_vector() {
        // Exercise 3b: Flatten after MAXPOOL1 [12×12×64] feeds DENSE1 with 9216 inputs.
        check("flatten", &[&[12, 12, 64]], "9216", "0", "0", "0");
        check("flatten", &[&[6, 6, 256]], "9216", "0", "0", "0");
        check("flatten", &[&[84]], "84", "0", "0", "0");
        check_details("flatten", &[&[5, 5, 16]], "", [0, 0], "0", "pointwise");
    }

    #[test]
    fn bad_inputs_and_attributes_are_errors() {
        check_error(
            "flatten",
            &[&[4294967296, 4294967296, 2]],
            "the size of [4294967296×4294967296×2] does not fit in 64 bits",
        );
        check_error("flatten", &[], "takes exactly one input, got 0");
        check_error(
            "flatten axis=1",
            &[&[2, 2, 1]],
            "`flatten` has no attribute `axis`",
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("flatten", &[&[3, 2, 4]], 2);
        check_gradients("flatten", &[&[1, 1, 5]], 3);
        check_gradients("flatten", &[&[6]], 2);
    }
}

//! `add`: the elementwise sum of two or more inputs of one shape (Keras `Add`, ResNet's shortcut
//! connections). No parameters and no MACs (additions only, no multiplications). Connections: each
//! output unit sums one unit from each of its n inputs, so there are `units·n` links, with and
//! without bias (there is no bias). This follows `avgpool`, whose unweighted links into a sum are
//! counted too, rather than `concat`, whose units are only copied. In the backward pass every
//! input receives the output gradient unchanged.

use super::elementwise;
use super::sizes::same_shape;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "add",
    aliases: &[],
    positionals: &[],
    summary: "elementwise sum of two or more inputs of one shape",
    build,
};

#[derive(Debug)]
struct Add;

fn build(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Add))
}

impl Layer for Add {
    fn settings(&self) -> String {
        String::new()
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let first = elementwise::common_shape(inputs, "add")?;
        Ok(Inference::plain(first.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections {
        elementwise::connections(inputs, output)
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
        let [first, rest @ ..] = inputs else {
            return Err(TensorError::Geometry {
                reason: "add needs at least one input".to_string(),
            });
        };
        let mut output = (*first).clone();
        for input in rest {
            same_shape("an input of add", input, first)?;
            for (sum, &value) in output.data_mut().iter_mut().zip(input.data()) {
                *sum += value;
            }
        }
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let mut gradients = Vec::with_capacity(inputs.len());
        for input in inputs {
            same_shape("the output gradient", output_gradient, input)?;
            gradients.push(output_gradient.clone());
        }
        Ok(Gradients {
            inputs: gradients,
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences for 2–4 random inputs of one random shape.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            count in 2usize..5,
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            let inputs = vec![shape.as_slice(); count];
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with("add", &inputs, batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn sums_inputs_of_one_shape() {
        // A ResNet-34 shortcut at conv2_x: two [56×56×64] tensors.
        check(
            "add",
            &[&[56, 56, 64], &[56, 56, 64]],
            "[56×56×64]",
            "0",
            "56·56·64·2 = 401408",
            "56·56·64·2 = 401408",
        );
        check(
            "add",
            &[&[10], &[10], &[10]],
            "10",
            "0",
            "10·3 = 30",
            "10·3 = 30",
        );
        check_details(
            "add",
            &[&[4, 4, 8], &[4, 4, 8]],
            "",
            [0, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn mismatched_inputs_are_errors() {
        check_error(
            "add",
            &[&[56, 56, 64], &[56, 56, 64], &[28, 28, 128]],
            "cannot add [56×56×64] and [28×28×128]: the shapes must be equal",
        );
        check_error("add", &[&[10]], "takes at least two inputs, got 1");
        check_error(
            "add weights=1",
            &[&[10], &[10]],
            "`add` has no attribute `weights`",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("add", &[&[3, 3, 2], &[3, 3, 2]], 2);
        check_gradients("add", &[&[6], &[6], &[6]], 3);
    }
}

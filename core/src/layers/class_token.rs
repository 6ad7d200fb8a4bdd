//! `class_token`: a learned vector put before the first position of a sequence, as ViT and BERT
//! read a whole sequence through one extra token (PyTorch's `class_token` parameter of
//! torchvision's `VisionTransformer`, concatenated in front): L×D in, (L+1)×D out, D parameters.
//! No connections and no MACs: the token reads nothing, and the other positions are copied. Each
//! position sees what the position it copies saw (pointwise); the token's own field is taken as
//! that of the first position, which is at least what attention gives it a layer later.

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single_sequence,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "class_token",
    aliases: &["cls_token"],
    positionals: &[],
    summary: "a learned vector put before the first position of an L×D sequence: (L+1)×D, D parameters (ViT's class token)",
    build,
};

#[derive(Debug)]
struct ClassToken;

fn build(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(ClassToken))
}

impl Layer for ClassToken {
    fn caption(&self) -> super::Caption {
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        String::new()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (steps, features) = single_sequence(inputs)?;
        let longer = steps
            .checked_add(1)
            .filter(|steps| steps.checked_mul(features).is_some())
            .ok_or_else(|| ShapeError::Overflow("the sequence's length".to_string()))?;
        Ok(Inference::plain(Shape::new(vec![longer, features])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let (_, features) = inputs[0].sequence().unwrap_or((0, 0));
        vec![ParameterGroup {
            name: "token",
            count: Expression::Number(features),
            trainable: true,
            buffer: false,
        }]
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

    /// The token `[D]`, started at zero as torchvision starts it.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let (_, features) = inputs.first().and_then(Shape::sequence).unwrap_or((0, 0));
        let features = extent(features);
        vec![ParameterSpec {
            name: "token",
            shape: vec![features],
            trainable: true,
            active: features,
            role: Role::Constant(0.0),
            mask: None,
        }]
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (batch, steps, features) = geometry(parameters, input)?;
        let token = parameters[0].data();
        let mut output = Tensor::zeros(&[batch, steps + 1, features])?;
        let width = (steps * features).max(1);
        for (example, source) in output
            .data_mut()
            .chunks_exact_mut(((steps + 1) * features).max(1))
            .zip(input.data().chunks_exact(width))
        {
            let (first, rest) = example.split_at_mut(features);
            first.copy_from_slice(token);
            rest.copy_from_slice(source);
        }
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let (batch, steps, features) = geometry(parameters, input)?;
        expect_length(
            "the output gradient",
            output_gradient.len(),
            batch * (steps + 1) * features,
        )?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let mut token_gradient = Tensor::zeros(&[features])?;
        for (example, target) in output_gradient
            .data()
            .chunks_exact(((steps + 1) * features).max(1))
            .zip(
                input_gradient
                    .data_mut()
                    .chunks_exact_mut((steps * features).max(1)),
            )
        {
            let (first, rest) = example.split_at(features);
            for (sum, value) in token_gradient.data_mut().iter_mut().zip(first) {
                *sum += value;
            }
            target.copy_from_slice(rest);
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: vec![token_gradient],
        })
    }
}

/// The batch, steps and features of a batch of sequences, checked against the token `[D]`.
fn geometry(parameters: &[Tensor], input: &Tensor) -> Result<(usize, usize, usize), TensorError> {
    match (input.shape(), parameters) {
        (&[batch, steps, features], [token]) if token.shape() == [features] => {
            Ok((batch, steps, features))
        }
        _ => Err(TensorError::Geometry {
            reason: format!(
                "a class token reads [batch, steps, features] with one [features] token, got {:?}",
                input.shape()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients, check_gradients_with,
        run_forward,
    };
    use crate::tensor::Tensor;

    #[test]
    fn counts_match_vit_b16() {
        // torchvision's vit_b_16: class_token is a [1, 1, 768] parameter, 768 values, put before
        // the 14·14 = 196 patches (seq_length 197).
        check(
            "class_token",
            &[&[196, 768]],
            "[197×768]",
            "768 = 768",
            "0",
            "0",
        );
        check_details("cls_token", &[&[4, 3]], "", [3, 0], "0", "pointwise");
    }

    #[test]
    fn reads_only_sequences() {
        check_error(
            "class_token",
            &[&[4, 4, 3]],
            "expects a sequence L×D (steps × features), got [4×4×3]",
        );
    }

    #[test]
    fn puts_the_token_first() {
        let mut token = vec![Tensor::from_vec(&[2], vec![9.0, 8.0]).unwrap()];
        let input = Tensor::from_vec(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let forward = run_forward("class_token", &mut token, &[&input], true);
        assert_eq!(forward.output.shape(), &[1, 3, 2]);
        assert_eq!(forward.output.data(), &[9.0, 8.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("class_token", &[&[4, 3]], 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// Backward agrees with finite differences on random sequences.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            sequence in crate::layers::testing::small_sequences(),
            seed in proptest::num::u64::ANY,
        ) {
            check_gradients_with("class_token", &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }
}

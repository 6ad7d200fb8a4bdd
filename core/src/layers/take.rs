//! `take`: one position of a sequence as a vector, L×D in, D out, as ViT's head and BERT's pooler
//! read the class token (`x[:, 0]` in PyTorch). `position` counts from 0 (the default, the class
//! token's place). No parameters, connections or MACs: the values are copied. The output sees
//! what its position saw (pointwise).

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single_sequence,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "take",
    aliases: &["select_position"],
    positionals: &["position"],
    summary: "one position of an L×D sequence as a vector of D: position (default 0, a class token's place)",
    build,
};

#[derive(Debug)]
struct Take {
    position: u64,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Take {
        position: reader.non_negative("position")?.unwrap_or(0),
    }))
}

impl Layer for Take {
    fn caption(&self) -> super::Caption {
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        format!("position {}", self.position)
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (steps, features) = single_sequence(inputs)?;
        if self.position >= steps {
            return Err(ShapeError::Mismatch(format!(
                "position {} is not one of the sequence's {steps} steps (0 to {})",
                self.position,
                steps - 1
            )));
        }
        Ok(Inference::plain(Shape::new(vec![features])))
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
        let (batch, steps, features) = self.geometry(input)?;
        let mut output = Tensor::zeros(&[batch, features])?;
        let start = extent(self.position) * features;
        for (row, example) in output
            .data_mut()
            .chunks_exact_mut(features.max(1))
            .zip(input.data().chunks_exact((steps * features).max(1)))
        {
            row.copy_from_slice(&example[start..start + features]);
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
        let input = one(inputs)?;
        let (batch, steps, features) = self.geometry(input)?;
        expect_length(
            "the output gradient",
            output_gradient.len(),
            batch * features,
        )?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let start = extent(self.position) * features;
        for (example, row) in input_gradient
            .data_mut()
            .chunks_exact_mut((steps * features).max(1))
            .zip(output_gradient.data().chunks_exact(features.max(1)))
        {
            example[start..start + features].copy_from_slice(row);
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: Vec::new(),
        })
    }
}

impl Take {
    /// The batch, steps and features of a batch of sequences that holds the position.
    fn geometry(&self, input: &Tensor) -> Result<(usize, usize, usize), TensorError> {
        match input.shape() {
            &[batch, steps, features] if extent(self.position) < steps => {
                Ok((batch, steps, features))
            }
            other => Err(TensorError::Geometry {
                reason: format!(
                    "taking position {} needs [batch, steps, features] with more steps, got {other:?}",
                    self.position
                ),
            }),
        }
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
    fn counts() {
        check("take", &[&[197, 768]], "768", "0", "0", "0");
        check_details("take 2", &[&[4, 3]], "position 2", [0, 0], "0", "pointwise");
    }

    #[test]
    fn a_position_past_the_end_is_an_error() {
        check_error(
            "take 4",
            &[&[4, 3]],
            "position 4 is not one of the sequence's 4 steps (0 to 3)",
        );
        check_error(
            "take",
            &[&[4, 4, 3]],
            "expects a sequence L×D (steps × features), got [4×4×3]",
        );
    }

    #[test]
    fn copies_one_position() {
        let input =
            Tensor::from_vec(&[2, 2, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).unwrap();
        let forward = run_forward("take 1", &mut [], &[&input], true);
        assert_eq!(forward.output.shape(), &[2, 2]);
        assert_eq!(forward.output.data(), &[3.0, 4.0, 7.0, 8.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("take", &[&[4, 3]], 2);
        check_gradients("take 3", &[&[4, 3]], 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// Backward agrees with finite differences on random sequences and positions.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            sequence in crate::layers::testing::small_sequences(),
            pick in 0u64..8,
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!("take {}", pick % sequence[0]);
            check_gradients_with(&line, &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }
}

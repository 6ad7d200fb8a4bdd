//! `positional_embedding`: a learned vector added at each position of a sequence, as BERT and
//! GPT-2 learn theirs (Keras-hub `PositionEmbedding`, PyTorch an `nn.Embedding` of positions
//! added to the tokens' vectors): L×D in, L×D out, y_t = x_t + p_t. The table holds `length`
//! positions of D values (`length` defaults to the sequence's L; a longer table, such as BERT's
//! 512, uses its first L rows), so `length·D` parameters. Each output unit reads its input unit
//! and adds one learned value, counted like a bias: L·D connections without bias, L·D·(1+1) with
//! it; no MACs (additions only). Each position sees itself (pointwise).

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Explanation, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError,
    single_sequence,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "positional_embedding",
    aliases: &["position_embedding"],
    positionals: &["length"],
    summary: "a learned vector added at each position of an L×D sequence: length (default L; length·D parameters)",
    build,
};

#[derive(Debug)]
struct PositionalEmbedding {
    /// Positions in the table, when given; otherwise the sequence's length.
    length: Option<u64>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(PositionalEmbedding {
        length: reader.count("length")?,
    }))
}

impl PositionalEmbedding {
    /// Positions in the table for a sequence of `steps`.
    fn positions(&self, steps: u64) -> u64 {
        self.length.unwrap_or(steps)
    }
}

impl Layer for PositionalEmbedding {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        match self.length {
            Some(length) => format!("{length} positions"),
            None => String::new(),
        }
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (steps, features) = single_sequence(inputs)?;
        let positions = self.positions(steps);
        if positions < steps {
            return Err(ShapeError::Mismatch(format!(
                "the sequence has {steps} steps, but the table only {positions} positions"
            )));
        }
        if positions.checked_mul(features).is_none()
            || inputs[0]
                .units()
                .and_then(|units| units.checked_mul(2))
                .is_none()
        {
            return Err(ShapeError::Overflow("the table's size".to_string()));
        }
        Ok(Inference::plain(inputs[0].clone()))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let (steps, features) = inputs[0].sequence().unwrap_or((0, 0));
        vec![ParameterGroup {
            name: "positions",
            count: Expression::product_of(&[self.positions(steps), features]),
            trainable: true,
            buffer: false,
        }]
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let units = super::units_formula(output);
        Connections {
            with_bias: Expression::product(vec![
                units.clone(),
                Expression::sum(vec![Expression::Number(1), Expression::Number(1)]),
            ]),
            without_bias: units,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }

    /// The table `[length, D]`, started as Keras-hub starts it (Glorot's uniform).
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let (steps, features) = inputs.first().and_then(Shape::sequence).unwrap_or((0, 0));
        let (positions, features) = (extent(self.positions(steps)), extent(features));
        vec![ParameterSpec {
            name: "positions",
            shape: vec![positions, features],
            trainable: true,
            active: positions.saturating_mul(features),
            role: Role::Weights {
                fan_in: positions,
                fan_out: features,
            },
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
        let (steps, features, table) = table_for(parameters, input)?;
        let mut output = input.clone();
        for example in output
            .data_mut()
            .chunks_exact_mut((steps * features).max(1))
        {
            for (value, position) in example.iter_mut().zip(&table[..steps * features]) {
                *value += position;
            }
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
        let (steps, features, _) = table_for(parameters, input)?;
        expect_length("the output gradient", output_gradient.len(), input.len())?;
        let mut table_gradient = Tensor::zeros(parameters[0].shape())?;
        for example in output_gradient
            .data()
            .chunks_exact((steps * features).max(1))
        {
            for (sum, value) in table_gradient.data_mut().iter_mut().zip(example) {
                *sum += value;
            }
        }
        Ok(Gradients {
            inputs: vec![output_gradient.clone()],
            parameters: vec![table_gradient],
        })
    }

    fn explanation(&self, inputs: &[Shape], output: &Shape) -> Option<Explanation> {
        let (steps, features) = inputs.first()?.sequence()?;
        let positions = self.positions(steps);
        let used = if positions > steps {
            format!(", of which the first {steps} are used")
        } else {
            String::new()
        };
        Some(Explanation {
            parameters: format!(
                "a learned vector of {features} values for each of {positions} positions{used}"
            ),
            units: format!(
                "each of the {} units (its input unit plus its position's value, counted as a bias)",
                super::units_formula(output)
            ),
            macs: None,
            connections: None,
            size_rule: None,
            links: Some([
                Expression::Number(1),
                Expression::sum(vec![Expression::Number(1), Expression::Number(1)]),
            ]),
        })
    }
}

/// The steps and features of a batch of sequences and the table's values, checked: the table
/// has the batch's features and at least its steps.
fn table_for<'p>(
    parameters: &'p [Tensor],
    input: &Tensor,
) -> Result<(usize, usize, &'p [f32]), TensorError> {
    let (&[_, steps, features], [table]) = (input.shape(), parameters) else {
        return Err(TensorError::Geometry {
            reason: "a positional embedding reads [batch, steps, features] with one table"
                .to_string(),
        });
    };
    match table.shape() {
        &[positions, width] if width == features && positions >= steps => {
            Ok((steps, features, table.data()))
        }
        other => Err(TensorError::Geometry {
            reason: format!(
                "a table of {other:?} does not cover {steps} steps of {features} features"
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
    fn counts_match_bert_and_gpt2() {
        // BERT-base's position embeddings: 512 positions of 768 values, 393,216 parameters
        // (Hugging Face's BertEmbeddings.position_embeddings, nn.Embedding(512, 768)).
        check(
            "positional_embedding 512",
            &[&[128, 768]],
            "[128×768]",
            "512·768 = 393216",
            "128·768 = 98304",
            "128·768·(1+1) = 196608",
        );
        // GPT-2 small's wpe: nn.Embedding(1024, 768), 786,432 parameters.
        check(
            "position_embedding",
            &[&[1024, 768]],
            "[1024×768]",
            "1024·768 = 786432",
            "1024·768 = 786432",
            "1024·768·(1+1) = 1572864",
        );
        check_details(
            "positional_embedding length=16",
            &[&[16, 4]],
            "16 positions",
            [64, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn a_table_shorter_than_the_sequence_is_an_error() {
        check_error(
            "positional_embedding 8",
            &[&[16, 4]],
            "the sequence has 16 steps, but the table only 8 positions",
        );
        check_error(
            "positional_embedding",
            &[&[16, 4, 1]],
            "expects a sequence L×D (steps × features), got [16×4×1]",
        );
    }

    #[test]
    fn adds_the_rows_of_the_first_positions() {
        let mut table =
            vec![Tensor::from_vec(&[3, 2], vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]).unwrap()];
        let input = Tensor::from_vec(&[1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let forward = run_forward("positional_embedding 3", &mut table, &[&input], true);
        assert_eq!(forward.output.data(), &[11.0, 22.0, 33.0, 44.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("positional_embedding", &[&[4, 3]], 2);
        check_gradients("positional_embedding 6", &[&[4, 3]], 3);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random sequences and table lengths.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            sequence in crate::layers::testing::small_sequences(),
            extra in 0u64..3,
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!("positional_embedding {}", sequence[0] + extra);
            check_gradients_with(&line, &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }
}

//! `embedding`: a learned vector of `features` values for each token id (Keras `Embedding`,
//! PyTorch `nn.Embedding`): token ids L (below a vocabulary V) become a sequence L×D. Its table
//! has V·D parameters. Each output value is one entry of the table, picked by its position's id,
//! so each output unit has one link (to its position's id): L·D connections, with and without
//! bias (there is none), and no MACs: a lookup multiplies nothing. Each position sees its own
//! id only (pointwise). Executed, ids arrive as whole f32 values (the input layer checks them);
//! the backward pass adds each output gradient row into the row of its id, and ids get no
//! gradient.

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Explanation, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError,
    single_of_any,
};
use crate::expression::Expression;
use crate::shape::{Form, Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "embedding",
    aliases: &["embed"],
    positionals: &["features"],
    summary: "a learned vector per token id: features (token ids L below V to L×features, V·features parameters)",
    build,
};

#[derive(Debug)]
struct Embedding {
    features: u64,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Embedding {
        features: reader.required_count("features")?,
    }))
}

/// The length and vocabulary of token ids.
fn tokens(inputs: &[Shape]) -> Result<(u64, u64), ShapeError> {
    let input = single_of_any(inputs)?;
    match input.form() {
        Form::Tokens { length, vocabulary } => Ok((length, vocabulary)),
        _ => Err(ShapeError::Rank {
            expected: "token ids (an input with a vocabulary)",
            found: input.clone(),
        }),
    }
}

impl Embedding {
    /// The vocabulary and features of the table, checked against the batch.
    fn table(&self, table: &Tensor) -> Result<(usize, usize), TensorError> {
        let &[vocabulary, features] = table.shape() else {
            return Err(TensorError::Geometry {
                reason: format!(
                    "an embedding table is [vocabulary, features], got {:?}",
                    table.shape()
                ),
            });
        };
        expect_length("embedding features", features, extent(self.features))?;
        Ok((vocabulary, features))
    }
}

/// The table row of an id, or an error for an id that is not a whole number below `vocabulary`.
fn row(id: f32, vocabulary: usize) -> Result<usize, TensorError> {
    if id >= 0.0 && id.fract() == 0.0 && (id as usize) < vocabulary {
        Ok(id as usize)
    } else {
        Err(TensorError::Geometry {
            reason: format!(
                "the token id {id} is not a whole number below the vocabulary {vocabulary}"
            ),
        })
    }
}

impl Layer for Embedding {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        format!("{} features", self.features)
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (length, vocabulary) = tokens(inputs)?;
        let output = Shape::new(vec![length, self.features]);
        if output.units().is_none() || vocabulary.checked_mul(self.features).is_none() {
            return Err(ShapeError::Overflow("the embedding's size".to_string()));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let (_, vocabulary) = tokens(inputs).unwrap_or((0, 0));
        vec![ParameterGroup {
            name: "embeddings",
            count: Expression::product_of(&[vocabulary, self.features]),
            trainable: true,
            buffer: false,
        }]
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let links = super::units_formula(output);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }

    /// The table `[vocabulary, features]` (Keras' `embeddings`, PyTorch's `weight`).
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let (_, vocabulary) = tokens(inputs).unwrap_or((0, 0));
        let (vocabulary, features) = (extent(vocabulary), extent(self.features));
        vec![ParameterSpec {
            name: "embeddings",
            shape: vec![vocabulary, features],
            trainable: true,
            active: vocabulary.saturating_mul(features),
            role: Role::Weights {
                fan_in: vocabulary,
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
        let ids = one(inputs)?;
        let [table] = parameters else {
            return Err(TensorError::Geometry {
                reason: format!("expected 1 parameter tensor, got {}", parameters.len()),
            });
        };
        let (vocabulary, features) = self.table(table)?;
        let mut shape = ids.shape().to_vec();
        shape.push(features);
        let mut output = Tensor::zeros(&shape)?;
        for (&id, target) in ids
            .data()
            .iter()
            .zip(output.data_mut().chunks_exact_mut(features.max(1)))
        {
            let start = row(id, vocabulary)? * features;
            target.copy_from_slice(&table.data()[start..start + features]);
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
        let ids = one(inputs)?;
        let [table] = parameters else {
            return Err(TensorError::Geometry {
                reason: format!("expected 1 parameter tensor, got {}", parameters.len()),
            });
        };
        let (vocabulary, features) = self.table(table)?;
        expect_length(
            "embedding output gradient",
            output_gradient.len(),
            ids.len().saturating_mul(features),
        )?;
        let mut table_gradient = Tensor::zeros(table.shape())?;
        for (&id, gradient) in ids
            .data()
            .iter()
            .zip(output_gradient.data().chunks_exact(features.max(1)))
        {
            let start = row(id, vocabulary)? * features;
            for (sum, value) in table_gradient.data_mut()[start..start + features]
                .iter_mut()
                .zip(gradient)
            {
                *sum += value;
            }
        }
        Ok(Gradients {
            inputs: vec![Tensor::zeros(ids.shape())?],
            parameters: vec![table_gradient],
        })
    }

    fn explanation(&self, inputs: &[Shape], output: &Shape) -> Option<Explanation> {
        let (length, vocabulary) = tokens(inputs).ok()?;
        Some(Explanation {
            parameters: format!(
                "a table with a row of {} features for each of the {vocabulary} token ids",
                self.features
            ),
            units: format!(
                "each of the {} units (a value of the row of its position's id, one of {length} positions)",
                super::units_formula(output)
            ),
            macs: None,
            connections: None,
            size_rule: None,
            links: Some([Expression::Number(1), Expression::Number(1)]),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check_error, check_error_on, check_gradients_on, check_on, run_forward,
    };
    use crate::shape::Shape;
    use crate::tensor::Tensor;

    #[test]
    fn counts_match_keras_and_pytorch() {
        // Keras: Embedding(input_dim=10000, output_dim=64) on 128 ids has 640,000 parameters
        // and outputs (None, 128, 64); PyTorch's nn.Embedding(10000, 64).weight is (10000, 64).
        check_on(
            "embedding 64",
            &[Shape::tokens(128, 10000)],
            "[128×64]",
            "10000·64 = 640000",
            "128·64 = 8192",
            "128·64 = 8192",
        );
        // GPT-2 small's token embedding: 50257 ids of 768 features, 38,597,376 parameters.
        check_on(
            "embed features=768",
            &[Shape::tokens(1024, 50257)],
            "[1024×768]",
            "50257·768 = 38597376",
            "1024·768 = 786432",
            "1024·768 = 786432",
        );
    }

    #[test]
    fn only_token_ids_are_embedded() {
        check_error(
            "embedding 8",
            &[&[28, 28]],
            "expects token ids (an input with a vocabulary), got [28×28]",
        );
        check_error_on(
            "embedding 8",
            &[Shape::tokens(4, 10), Shape::tokens(4, 10)],
            "takes exactly one input, got 2",
        );
        check_error(
            "embedding 0",
            &[&[4]],
            "`features` must be a positive integer, got 0",
        );
    }

    #[test]
    fn looks_up_the_row_of_each_id() {
        let mut table =
            vec![Tensor::from_vec(&[3, 2], vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]).unwrap()];
        let ids = Tensor::from_vec(&[2, 2], vec![2.0, 0.0, 1.0, 1.0]).unwrap();
        let forward = run_forward("embedding 2", &mut table, &[&ids], true);
        assert_eq!(forward.output.shape(), &[2, 2, 2]);
        assert_eq!(
            forward.output.data(),
            &[2.0, 2.5, 0.0, 0.5, 1.0, 1.5, 1.0, 1.5]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients_on("embedding 3", &[Shape::tokens(4, 5)], 2, Values::default());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// The table's gradient agrees with finite differences on random lengths, vocabularies
        /// and features (ids repeat, so rows collect several gradients).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            length in 1u64..6,
            vocabulary in 1u64..6,
            features in 1u64..4,
            seed in proptest::num::u64::ANY,
        ) {
            check_gradients_on(
                &format!("embedding {features}"),
                &[Shape::tokens(length, vocabulary)],
                2,
                Values { seed, distinct: false },
            );
        }
    }
}

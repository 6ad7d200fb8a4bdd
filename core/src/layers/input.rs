//! `input`: where data enters the graph, with its shape: maps (`input 28x28x1`, `input 1@32x32`),
//! a sequence of L steps of D features (`input 28x28`), a vector (`input 784`), or L token ids
//! below a vocabulary (`input 128 vocabulary=10000`, for an `embedding`). No parameters, no
//! connections. When executed, the executor hands it the batch as its one input tensor; it
//! checks the batch against its shape (token ids: whole numbers below the vocabulary, carried as
//! f32, exact up to 2^24) and passes it on unchanged.

use super::sizes::{extents, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "input",
    aliases: &[],
    positionals: &["shape"],
    summary: "the network's input: H×W×C maps, L×D sequences, N values, or L token ids (vocabulary)",
    build,
};

#[derive(Debug)]
struct Input {
    shape: Shape,
}

/// The largest vocabulary whose ids f32 carries exactly (2^24).
const LARGEST_VOCABULARY: u64 = 1 << 24;

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let dims = reader
        .dims("shape")?
        .ok_or_else(|| reader.missing("shape"))?;
    let vocabulary = reader.count("vocabulary")?;
    if let Some(vocabulary) = vocabulary {
        if vocabulary > LARGEST_VOCABULARY {
            let value = reader.value("vocabulary").expect("read above");
            return Err(reader.invalid(
                "vocabulary",
                value,
                "must be at most 16777216 (2^24, the ids f32 holds exactly)",
            ));
        }
        let [length] = dims[..] else {
            let value = reader.value("shape").expect("read above");
            return Err(reader.invalid(
                "shape",
                value,
                "must be a length (128) when a vocabulary is given: token ids have one axis",
            ));
        };
        return Ok(Box::new(Input {
            shape: Shape::tokens(length, vocabulary),
        }));
    }
    if !(1..=3).contains(&dims.len()) {
        let value = reader.value("shape").expect("read above");
        return Err(reader.invalid(
            "shape",
            value,
            "must be H×W×C maps (28x28x1, 1@28x28), L×D steps × features (28x28) or a length (784)",
        ));
    }
    Ok(Box::new(Input {
        shape: Shape::new(dims),
    }))
}

impl Layer for Input {
    fn settings(&self) -> String {
        match self.shape.vocabulary() {
            Some(vocabulary) => format!("vocabulary {vocabulary}"),
            None => String::new(),
        }
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
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

    fn parameter_specs(&self, _: &[Shape]) -> Vec<ParameterSpec> {
        Vec::new()
    }

    /// The batch, `[batch, …shape]`, is the one input; the output is the batch itself.
    fn forward(
        &self,
        _: &mut [Tensor],
        inputs: &[&Tensor],
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let batch = one(inputs)?;
        let per_example = batch.shape().get(1..).unwrap_or(&[]);
        if per_example != extents(&self.shape).as_slice() {
            return Err(TensorError::Geometry {
                reason: format!(
                    "the input batch has examples of shape {per_example:?}, the network expects {}",
                    self.shape
                ),
            });
        }
        if let Some(vocabulary) = self.shape.vocabulary()
            && let Some(bad) = batch
                .data()
                .iter()
                .find(|&&id| !(id >= 0.0 && id.fract() == 0.0 && (id as u64) < vocabulary))
        {
            return Err(TensorError::Geometry {
                reason: format!(
                    "the token id {bad} is not a whole number below the vocabulary {vocabulary}"
                ),
            });
        }
        Ok(Forward::plain(batch.clone()))
    }

    /// The gradient with respect to the batch is the output gradient.
    fn backward(
        &self,
        _: &[Tensor],
        _: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        same_shape("the output gradient", output_gradient, &forward.output)?;
        Ok(Gradients {
            inputs: vec![output_gradient.clone()],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_error, declaration};
    use crate::layers::{self, Pass};
    use crate::tensor::{Compute, Tensor};
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn shapes_in_the_sheet_notations() {
        check("input 227x227x3", &[], "[227×227×3]", "0", "0", "0");
        check("input 1@32x32", &[], "[32×32×1]", "0", "0", "0");
        check("input 784", &[], "784", "0", "0", "0");
        // A sequence: MNIST read row by row, 28 steps of 28 pixels.
        check("input 28x28", &[], "[28×28]", "0", "0", "0");
        check(
            "input 128 vocabulary=10000",
            &[],
            "128 tokens",
            "0",
            "0",
            "0",
        );
        check_error(
            "input 2x3x4x5",
            &[],
            "`shape` must be H×W×C maps (28x28x1, 1@28x28), L×D steps × features (28x28) or a length (784), got 2x3x4x5",
        );
        check_error(
            "input 28x28 vocabulary=10",
            &[],
            "`shape` must be a length (128) when a vocabulary is given: token ids have one axis, got 28x28",
        );
        check_error(
            "input 28 vocabulary=16777217",
            &[],
            "`vocabulary` must be at most 16777216 (2^24, the ids f32 holds exactly), got 16777217",
        );
        check_error(
            "input 0x28x1",
            &[],
            "`shape` must be a shape of positive sizes, e.g. 28x28x1, got 0x28x1",
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]
        /// On random shapes and batches the input layer passes the batch on and the gradient
        /// back unchanged (it has no inputs, so `check_gradients` cannot drive it).
        #[test]
        fn is_the_identity_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let text: Vec<String> = shape.iter().map(u64::to_string).collect();
            let mut decl = declaration(&format!("input {}", text.join("x")));
            layers::name_positionals(&mut decl).unwrap();
            let layer = layers::build(&decl).unwrap();
            let mut random = ChaCha8Rng::seed_from_u64(seed);
            let dims: Vec<usize> = std::iter::once(batch).chain(shape.iter().map(|&d| d as usize)).collect();
            let length = dims.iter().product::<usize>();
            let values: Vec<f32> = (0..length).map(|k| (k as f32 * 0.37 + seed as f32).sin()).collect();
            let batch_tensor = Tensor::from_vec(&dims, values).unwrap();
            let mut pass = Pass { compute: Compute::single(), training: true, random: &mut random };
            let forward = layer.forward(&mut [], &[&batch_tensor], &mut pass).unwrap();
            proptest::prop_assert_eq!(&forward.output, &batch_tensor);
            let gradient = Tensor::from_vec(&dims, batch_tensor.data().iter().map(|v| 2.0 * v).collect()).unwrap();
            let gradients = layer
                .backward(&[], &[&batch_tensor], &forward, &gradient, Compute::single())
                .unwrap();
            proptest::prop_assert_eq!(gradients.inputs, vec![gradient]);
        }
    }

    /// `check_gradients` cannot drive a layer without inputs, so the identity is checked directly.
    #[test]
    fn passes_the_batch_on_and_the_gradient_back() {
        let mut decl = declaration("input 2x3x1");
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        assert!(layer.parameter_specs(&[]).is_empty());
        let mut random = ChaCha8Rng::seed_from_u64(1);
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut random,
        };
        let values: Vec<f32> = (0..12).map(|v| v as f32 - 5.5).collect();
        let batch = Tensor::from_vec(&[2, 2, 3, 1], values).unwrap();
        let forward = layer.forward(&mut [], &[&batch], &mut pass).unwrap();
        assert_eq!(forward.output, batch);
        let gradient = Tensor::from_vec(&[2, 2, 3, 1], vec![0.5; 12]).unwrap();
        let gradients = layer
            .backward(&[], &[&batch], &forward, &gradient, Compute::single())
            .unwrap();
        assert_eq!(gradients.inputs, vec![gradient]);
        assert!(gradients.parameters.is_empty());
        let wrong = Tensor::zeros(&[2, 3, 2, 1]).unwrap();
        let error = layer.forward(&mut [], &[&wrong], &mut pass).err().unwrap();
        assert_eq!(
            error.to_string(),
            "invalid geometry: the input batch has examples of shape [3, 2, 1], the network expects [2×3×1]"
        );
        assert!(layer.forward(&mut [], &[], &mut pass).is_err());
    }

    #[test]
    fn token_ids_must_be_whole_numbers_below_the_vocabulary() {
        let mut decl = declaration("input 3 vocabulary=5");
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        let mut random = ChaCha8Rng::seed_from_u64(1);
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut random,
        };
        let good = Tensor::from_vec(&[2, 3], vec![0.0, 4.0, 2.0, 1.0, 3.0, 0.0]).unwrap();
        assert_eq!(
            layer.forward(&mut [], &[&good], &mut pass).unwrap().output,
            good
        );
        for bad in [5.0, -1.0, 1.5, f32::NAN] {
            let batch = Tensor::from_vec(&[1, 3], vec![0.0, bad, 1.0]).unwrap();
            let error = layer.forward(&mut [], &[&batch], &mut pass).err().unwrap();
            assert!(
                error
                    .to_string()
                    .contains("is not a whole number below the vocabulary 5"),
                "{error}"
            );
        }
    }
}

//! `input`: where data enters the graph, with its shape (`input 28x28x1`, `input 1@32x32`,
//! `input 784`). No parameters, no connections. When executed, the executor hands it the batch as
//! its one input tensor; it checks the batch against its shape and passes it on unchanged.

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
}

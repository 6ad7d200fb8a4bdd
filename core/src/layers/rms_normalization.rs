//! `rms_normalization`: root-mean-square normalisation over the last axis (Zhang & Sennrich
//! 2019), as Llama's `LlamaRMSNorm`, PyTorch's `nn.RMSNorm(D)` and Keras'
//! `RMSNormalization(axis=-1)` compute it. Each position's D features are divided by their root
//! mean square, y = gamma·x/sqrt(mean(x²) + epsilon): no mean is subtracted and there is no
//! beta. Parameters: gamma, D, trainable. Epsilon defaults to 1e-6, Keras' and transformers'
//! `LlamaRMSNorm` default (PyTorch's `nn.RMSNorm` takes the dtype's machine epsilon unless told,
//! so write `epsilon` for it).
//!
//! Counting follows `layernorm` with `center=false`: one link per unit from its own input (scaled
//! by gamma), no bias link, and one MAC per unit (gamma·x̂); the squares and sums of the
//! statistic are not multiplications by weights and are not counted.
//!
//! Backward, per position with g = gamma⊙∂y, x̂ = x·r and r = 1/sqrt(mean(x²) + epsilon):
//! ∂x = r·(g − x̂·mean(g⊙x̂)); ∂gamma = Σ ∂y⊙x̂ over the batch and positions.

use super::sizes::{extent, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "rms_normalization",
    aliases: &["rmsnorm"],
    positionals: &[],
    summary: "root-mean-square normalisation over the last axis (Llama's RMSNorm): a scale per feature, epsilon (1e-6)",
    build,
};

/// Keras' `RMSNormalization` and transformers' `LlamaRMSNorm` default.
const DEFAULT_EPSILON: f64 = 1e-6;

#[derive(Debug)]
struct RmsNormalization {
    epsilon: f64,
    /// Whether epsilon was written (else the default, not shown).
    written: bool,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let epsilon = reader.number_where("epsilon", "must be a number > 0", |x| x > 0.0)?;
    Ok(Box::new(RmsNormalization {
        epsilon: epsilon.unwrap_or(DEFAULT_EPSILON),
        written: epsilon.is_some(),
    }))
}

/// The batch as rows of the last axis: (rows, features).
fn rows_of(input: &Tensor) -> (usize, usize) {
    let features = input.shape().last().copied().unwrap_or(1).max(1);
    (input.len() / features, features)
}

/// What the forward pass keeps: the normalised input and each row's 1/sqrt(mean(x²) + epsilon).
struct Saved {
    normalized: Vec<f32>,
    inverse: Vec<f32>,
}

impl Layer for RmsNormalization {
    fn caption(&self) -> super::Caption {
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        if self.written {
            format!("epsilon={}", self.epsilon)
        } else {
            String::new()
        }
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        if input.units().is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference::plain(input.clone()))
    }

    fn parameters(&self, _: &[Shape], output: &Shape) -> Vec<ParameterGroup> {
        vec![ParameterGroup {
            name: "gamma",
            count: Expression::Number(output.channels()),
            trainable: true,
            buffer: false,
        }]
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let units = units_formula(output).simplified();
        Connections {
            without_bias: units.clone(),
            with_bias: units,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], output: &Shape) -> Expression {
        units_formula(output).simplified()
    }

    /// gamma, starting at 1, one per feature.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let features = extent(inputs.first().map_or(0, Shape::channels));
        vec![ParameterSpec {
            name: "gamma",
            shape: vec![features],
            trainable: true,
            active: features,
            role: Role::Constant(1.0),
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
        let (rows, features) = rows_of(input);
        let [gamma] = parameters else {
            return Err(geometry(features));
        };
        if gamma.len() != features {
            return Err(geometry(features));
        }
        let mut output = Tensor::zeros(input.shape())?;
        let mut normalized = vec![0.0f32; input.len()];
        let mut inverse = vec![0.0f32; rows];
        let epsilon = self.epsilon as f32;
        for (row, inverse) in inverse.iter_mut().enumerate() {
            let range = row * features..(row + 1) * features;
            let values = &input.data()[range.clone()];
            let mean_square = values.iter().map(|v| v * v).sum::<f32>() / features as f32;
            let scale = 1.0 / (mean_square + epsilon).sqrt();
            *inverse = scale;
            let x_hat = &mut normalized[range.clone()];
            let y = &mut output.data_mut()[range];
            for feature in 0..features {
                x_hat[feature] = values[feature] * scale;
                y[feature] = gamma.data()[feature] * x_hat[feature];
            }
        }
        Ok(Forward {
            output,
            saved: Box::new(Saved {
                normalized,
                inverse,
            }),
        })
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        same_shape("the output gradient", output_gradient, input)?;
        let (rows, features) = rows_of(input);
        let [gamma] = parameters else {
            return Err(geometry(features));
        };
        let saved = forward
            .saved
            .downcast_ref::<Saved>()
            .ok_or_else(|| TensorError::Geometry {
                reason: "rms_normalization's backward pass needs its own forward pass".to_string(),
            })?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let mut gamma_gradient = vec![0.0f32; features];
        let mut scaled = vec![0.0f32; features];
        for row in 0..rows {
            let range = row * features..(row + 1) * features;
            let upstream = &output_gradient.data()[range.clone()];
            let x_hat = &saved.normalized[range.clone()];
            for feature in 0..features {
                gamma_gradient[feature] += upstream[feature] * x_hat[feature];
                scaled[feature] = upstream[feature] * gamma.data()[feature];
            }
            let mean_product =
                scaled.iter().zip(x_hat).map(|(g, x)| g * x).sum::<f32>() / features as f32;
            let target = &mut input_gradient.data_mut()[range];
            for feature in 0..features {
                target[feature] =
                    (scaled[feature] - x_hat[feature] * mean_product) * saved.inverse[row];
            }
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: vec![Tensor::from_vec(&[features], gamma_gradient)?],
        })
    }
}

fn geometry(features: usize) -> TensorError {
    TensorError::Geometry {
        reason: format!("rms_normalization expects one tensor of {features}"),
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
    fn counts_match_pytorch_and_keras() {
        // PyTorch: nn.RMSNorm(2048) has one weight of (2048,); Keras: RMSNormalization() on
        // (None, 16, 2048) one scale of (2048,). TinyLlama's every norm is such a layer.
        check(
            "rms_normalization",
            &[&[16, 2048]],
            "[16×2048]",
            "2048 = 2048",
            "16·2048 = 32768",
            "16·2048 = 32768",
        );
        check_details(
            "rmsnorm epsilon=1e-5",
            &[&[4, 8]],
            "epsilon=0.00001",
            [8, 0],
            "4·8 = 32",
            "pointwise",
        );
        check_error(
            "rms_normalization epsilon=0",
            &[&[4]],
            "`epsilon` must be a number > 0, got 0",
        );
        check_error(
            "rms_normalization center=false",
            &[&[4]],
            "`rms_normalization` has no attribute `center`",
        );
        check_error(
            "rms_normalization",
            &[&[4], &[4]],
            "takes exactly one input, got 2",
        );
    }

    /// Each row divided by its root mean square and scaled by gamma, computed here in f64 from
    /// the definition.
    #[test]
    fn rows_are_divided_by_their_root_mean_square() {
        let values = vec![1.0, 2.0, 3.0, 6.0, -4.0, 0.0, 4.0, 8.0];
        let input = Tensor::from_vec(&[1, 2, 4], values.clone()).unwrap();
        let gamma = [1.0, 2.0, 0.5, -1.0];
        let mut parameters = vec![Tensor::from_vec(&[4], gamma.to_vec()).unwrap()];
        let output = run_forward(
            "rms_normalization epsilon=1e-5",
            &mut parameters,
            &[&input],
            true,
        )
        .output;
        for (row, chunk) in values.chunks(4).enumerate() {
            let x: Vec<f64> = chunk.iter().map(|&v| f64::from(v)).collect();
            let mean_square = x.iter().map(|v| v * v).sum::<f64>() / 4.0;
            for (feature, value) in x.iter().enumerate() {
                let want = f64::from(gamma[feature]) * value / (mean_square + 1e-5).sqrt();
                let got = f64::from(output.data()[row * 4 + feature]);
                assert!((got - want).abs() < 1e-5, "row {row} feature {feature}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            check_gradients_with(
                "rms_normalization epsilon=0.1",
                &[shape.as_slice()],
                batch,
                Values { seed, distinct: false },
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("rms_normalization epsilon=0.1", &[&[3, 5]], 2);
        check_gradients("rms_normalization epsilon=0.1", &[&[6]], 2);
    }
}

//! `layernorm`: layer normalisation over the last axis (Ba, Kiros & Hinton 2016; Keras
//! `LayerNormalization(axis=-1)`, PyTorch `nn.LayerNorm(D)`). Each position's D features are
//! normalised by their own mean and (biased) variance, y = gamma·(x − mean)/sqrt(variance +
//! epsilon) + beta, the same in training and inference: there are no moving statistics. Parameters:
//! gamma (if `scale`) and beta (if `center`), D each, both trainable, so 2·D by default in both
//! frameworks. Epsilon defaults to Keras' 1e-3, or PyTorch's 1e-5 under PyTorch conventions.
//!
//! Counting follows `batchnorm`: one link per unit from its own input (scaled by gamma) and beta
//! as a bias link, so `units` connections without and `units·(1+1)` with bias; one MAC per unit
//! (gamma·x̂ + beta). The statistics are sums and squares, not multiplications by weights, and
//! are not counted.
//!
//! Backward, per position with g = gamma⊙∂y and x̂ the normalised input:
//! ∂x = (g − mean(g) − x̂·mean(g⊙x̂)) / sqrt(variance + epsilon); ∂gamma = Σ ∂y⊙x̂, ∂beta = Σ ∂y
//! over the batch and positions.

use super::sizes::{extent, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single, units_formula,
};
use crate::conventions::Conventions;
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "layernorm",
    aliases: &["layer_normalization", "ln"],
    positionals: &[],
    summary: "layer normalisation over the last axis: epsilon (Keras 1e-3, PyTorch 1e-5), scale, center, conventions",
    build,
};

#[derive(Debug)]
struct LayerNormalization {
    epsilon: f64,
    /// Whether epsilon was written (else the conventions' default, not shown).
    written: bool,
    scale: bool,
    center: bool,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let epsilon = reader.number_where("epsilon", "must be a number > 0", |x| x > 0.0)?;
    let scale = reader.boolean("scale")?.unwrap_or(true);
    let center = reader.boolean("center")?.unwrap_or(true);
    let conventions = reader.conventions()?;
    let default = match conventions {
        Conventions::Keras => 1e-3,
        Conventions::Pytorch => 1e-5,
    };
    Ok(Box::new(LayerNormalization {
        epsilon: epsilon.unwrap_or(default),
        written: epsilon.is_some(),
        scale,
        center,
    }))
}

/// The batch as rows of the last axis: (rows, features).
fn rows_of(input: &Tensor) -> Result<(usize, usize), TensorError> {
    let features = input.shape().last().copied().unwrap_or(1).max(1);
    Ok((input.len() / features, features))
}

/// What the forward pass keeps: the normalised input and each row's 1/sqrt(variance + epsilon).
struct Saved {
    normalized: Vec<f32>,
    inverse: Vec<f32>,
}

impl LayerNormalization {
    /// gamma and beta as slices (ones and zeros when absent).
    fn affine(&self, parameters: &[Tensor], features: usize) -> (Vec<f32>, Vec<f32>) {
        let mut slots = parameters.iter();
        let gamma = if self.scale {
            slots.next().map(|t| t.data().to_vec())
        } else {
            None
        };
        let beta = if self.center {
            slots.next().map(|t| t.data().to_vec())
        } else {
            None
        };
        (
            gamma.unwrap_or_else(|| vec![1.0; features]),
            beta.unwrap_or_else(|| vec![0.0; features]),
        )
    }

    fn tensors(&self) -> usize {
        usize::from(self.scale) + usize::from(self.center)
    }
}

impl Layer for LayerNormalization {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        let mut parts = Vec::new();
        if self.written {
            parts.push(format!("epsilon={}", self.epsilon));
        }
        if !self.scale {
            parts.push("no scale".to_string());
        }
        if !self.center {
            parts.push("no center".to_string());
        }
        parts.join(", ")
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        if input
            .units()
            .and_then(|units| units.checked_mul(2))
            .is_none()
        {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference::plain(input.clone()))
    }

    fn parameters(&self, _: &[Shape], output: &Shape) -> Vec<ParameterGroup> {
        let features = Expression::Number(output.channels());
        let mut groups = Vec::new();
        for (name, present) in [("gamma", self.scale), ("beta", self.center)] {
            if present {
                groups.push(ParameterGroup {
                    name,
                    count: features.clone(),
                    trainable: true,
                    buffer: false,
                });
            }
        }
        groups
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let units = units_formula(output).simplified();
        let with_bias = if self.center {
            Expression::product(vec![
                units.clone(),
                Expression::sum(vec![Expression::Number(1), Expression::Number(1)]),
            ])
        } else {
            units.clone()
        };
        Connections {
            without_bias: units,
            with_bias,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], output: &Shape) -> Expression {
        units_formula(output).simplified()
    }

    /// gamma (starting at 1) then beta (at 0), one per feature.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let features = extent(inputs.first().map_or(0, Shape::channels));
        let spec = |name, start| ParameterSpec {
            name,
            shape: vec![features],
            trainable: true,
            active: features,
            role: Role::Constant(start),
            mask: None,
        };
        let mut specs = Vec::new();
        if self.scale {
            specs.push(spec("gamma", 1.0));
        }
        if self.center {
            specs.push(spec("beta", 0.0));
        }
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (rows, features) = rows_of(input)?;
        if parameters.len() != self.tensors()
            || parameters.iter().any(|tensor| tensor.len() != features)
        {
            return Err(TensorError::Geometry {
                reason: format!("layernorm expects {} tensors of {features}", self.tensors()),
            });
        }
        let (gamma, beta) = self.affine(parameters, features);
        let mut output = Tensor::zeros(input.shape())?;
        let mut normalized = vec![0.0f32; input.len()];
        let mut inverse = vec![0.0f32; rows];
        let epsilon = self.epsilon as f32;
        for row in 0..rows {
            let values = &input.data()[row * features..(row + 1) * features];
            let mean = values.iter().sum::<f32>() / features as f32;
            let variance =
                values.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / features as f32;
            let scale = 1.0 / (variance + epsilon).sqrt();
            inverse[row] = scale;
            let x_hat = &mut normalized[row * features..(row + 1) * features];
            let y = &mut output.data_mut()[row * features..(row + 1) * features];
            for feature in 0..features {
                x_hat[feature] = (values[feature] - mean) * scale;
                y[feature] = gamma[feature] * x_hat[feature] + beta[feature];
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
        let (rows, features) = rows_of(input)?;
        let saved = forward
            .saved
            .downcast_ref::<Saved>()
            .ok_or_else(|| TensorError::Geometry {
                reason: "layernorm's backward pass needs its own forward pass".to_string(),
            })?;
        let (gamma, _) = self.affine(parameters, features);
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let mut gamma_gradient = vec![0.0f32; features];
        let mut beta_gradient = vec![0.0f32; features];
        let mut scaled = vec![0.0f32; features];
        for row in 0..rows {
            let range = row * features..(row + 1) * features;
            let upstream = &output_gradient.data()[range.clone()];
            let x_hat = &saved.normalized[range.clone()];
            for feature in 0..features {
                gamma_gradient[feature] += upstream[feature] * x_hat[feature];
                beta_gradient[feature] += upstream[feature];
                scaled[feature] = upstream[feature] * gamma[feature];
            }
            let mean = scaled.iter().sum::<f32>() / features as f32;
            let mean_product =
                scaled.iter().zip(x_hat).map(|(g, x)| g * x).sum::<f32>() / features as f32;
            let target = &mut input_gradient.data_mut()[range];
            for feature in 0..features {
                target[feature] =
                    (scaled[feature] - mean - x_hat[feature] * mean_product) * saved.inverse[row];
            }
        }
        let mut gradients = Vec::new();
        if self.scale {
            gradients.push(Tensor::from_vec(&[features], gamma_gradient)?);
        }
        if self.center {
            gradients.push(Tensor::from_vec(&[features], beta_gradient)?);
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: gradients,
        })
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
    fn counts_match_keras_and_pytorch() {
        // Keras: LayerNormalization() on (None, 50, 64) has 128 parameters (gamma and beta of
        // shape (64,)); PyTorch: nn.LayerNorm(64) has weight (64) and bias (64), 128.
        check(
            "layernorm",
            &[&[50, 64]],
            "[50×64]",
            "64+64 = 128",
            "50·64 = 3200",
            "50·64·(1+1) = 6400",
        );
        check(
            "layernorm scale=false center=false",
            &[&[10]],
            "10",
            "0",
            "10",
            "10",
        );
        check_details(
            "layernorm conventions=pytorch",
            &[&[4, 8]],
            "",
            [16, 0],
            "4·8 = 32",
            "pointwise",
        );
        check_details(
            "layernorm epsilon=1e-6 center=false",
            &[&[4, 8]],
            "epsilon=0.000001, no center",
            [8, 0],
            "4·8 = 32",
            "pointwise",
        );
        check_error(
            "layernorm epsilon=0",
            &[&[4]],
            "`epsilon` must be a number > 0, got 0",
        );
        check_error("layernorm", &[&[4], &[4]], "takes exactly one input, got 2");
    }

    /// Each row comes out with mean beta and (gamma = 1) variance var/(var + epsilon), computed
    /// here in f64 from the definition.
    #[test]
    fn rows_are_normalised_by_their_own_statistics() {
        let values = vec![1.0, 2.0, 3.0, 6.0, -4.0, 0.0, 4.0, 8.0];
        let input = Tensor::from_vec(&[1, 2, 4], values.clone()).unwrap();
        let mut parameters = vec![
            Tensor::from_vec(&[4], vec![1.0, 2.0, 1.0, 1.0]).unwrap(),
            Tensor::from_vec(&[4], vec![0.0, 0.0, 0.5, 0.0]).unwrap(),
        ];
        let output = run_forward(
            "layernorm conventions=pytorch",
            &mut parameters,
            &[&input],
            true,
        )
        .output;
        for (row, chunk) in values.chunks(4).enumerate() {
            let x: Vec<f64> = chunk.iter().map(|&v| f64::from(v)).collect();
            let mean = x.iter().sum::<f64>() / 4.0;
            let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
            for (feature, value) in x.iter().enumerate() {
                let gamma = [1.0, 2.0, 1.0, 1.0][feature];
                let beta = [0.0, 0.0, 0.5, 0.0][feature];
                let want = gamma * (value - mean) / (variance + 1e-5).sqrt() + beta;
                let got = f64::from(output.data()[row * 4 + feature]);
                assert!((got - want).abs() < 1e-5, "row {row} feature {feature}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes and settings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            scale in proptest::bool::ANY,
            center in proptest::bool::ANY,
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!("layernorm scale={scale} center={center} epsilon=0.1");
            check_gradients_with(&line, &[shape.as_slice()], batch, Values { seed, distinct: false });
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("layernorm epsilon=0.1", &[&[3, 5]], 2);
        check_gradients("layernorm epsilon=0.1", &[&[6]], 2);
    }
}

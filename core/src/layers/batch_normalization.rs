//! `batchnorm`: batch normalisation over the last axis (Ioffe & Szegedy 2015; Keras
//! `BatchNormalization` with axis -1, whose defaults it takes: epsilon 1e-3, momentum 0.99, scale
//! and center on). Each unit computes gamma·(x - mean)/sqrt(variance + epsilon) + beta with its
//! channel's statistics. Parameters per channel, as Keras counts them: gamma (if `scale`) and beta
//! (if `center`) are trainable, the moving mean and variance are not. Under PyTorch conventions
//! (`conventions: pytorch`) the moving statistics are buffers, as `nn.BatchNorm2d` keeps
//! `running_mean` and `running_var` outside `parameters()`: reported apart, in no parameter
//! total (BatchNorm2d(64): 128 parameters, 128 buffer values). Connections in LeCun's
//! sense: one link from the unit's own input (scaled by gamma) per unit, plus beta as a bias link
//! when `center` is on, so `units` without and `units·(1+1)` with bias. MACs: one multiply-add per
//! unit once the statistics are folded into a scale and a shift.
//!
//! Execution (kernels in `crate::tensor::normalization`): in training the statistics are the
//! batch's, per channel over every axis but the last (batch, height, width), with the biased
//! variance; the gradient flows through them, and each pass moves the non-trainable statistics
//! as Keras does: `moving = momentum·moving + (1 − momentum)·batch` (Keras 3 feeds the biased
//! variance into the moving one too; PyTorch would use the unbiased one there). In inference the
//! moving statistics are used as constants. Their gradients are always zero. The parameter
//! tensors are, in order, gamma (if `scale`, starting at 1), beta (if `center`, at 0), the moving
//! mean (at 0) and the moving variance (at 1), one value per channel each.

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single, units_formula,
};
use crate::conventions::Conventions;
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::normalization::{
    Normalization, NormalizationGradients, channel_statistics, normalize_backward,
    normalize_forward,
};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "batchnorm",
    aliases: &["batch_normalization", "bn"],
    positionals: &[],
    summary: "batch normalisation per channel: epsilon, momentum, scale, center (Keras defaults), conventions (pytorch: moving statistics as buffers)",
    build,
};

/// Keras' defaults.
const DEFAULT_EPSILON: f64 = 1e-3;
const DEFAULT_MOMENTUM: f64 = 0.99;

#[derive(Debug)]
struct BatchNormalization {
    /// Added to the variance, > 0.
    epsilon: f64,
    /// Weight of the old moving statistics in each update, in [0, 1].
    momentum: f64,
    /// Whether there is a trainable scale gamma.
    scale: bool,
    /// Whether there is a trainable shift beta.
    center: bool,
    /// Keras counts the moving statistics as non-trainable parameters, PyTorch keeps them as
    /// buffers outside `parameters()`.
    conventions: Conventions,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let epsilon = reader
        .number_where("epsilon", "must be a number > 0", |x| x > 0.0)?
        .unwrap_or(DEFAULT_EPSILON);
    let momentum = reader
        .number_where("momentum", "must be a number from 0 to 1", |x| {
            (0.0..=1.0).contains(&x)
        })?
        .unwrap_or(DEFAULT_MOMENTUM);
    let scale = reader.boolean("scale")?.unwrap_or(true);
    let center = reader.boolean("center")?.unwrap_or(true);
    let conventions = reader.conventions()?;
    Ok(Box::new(BatchNormalization {
        epsilon,
        momentum,
        scale,
        center,
        conventions,
    }))
}

impl Layer for BatchNormalization {
    fn settings(&self) -> String {
        let mut parts = Vec::new();
        if self.epsilon != DEFAULT_EPSILON {
            parts.push(format!("epsilon={}", self.epsilon));
        }
        if self.momentum != DEFAULT_MOMENTUM {
            parts.push(format!("momentum={}", self.momentum));
        }
        if !self.scale {
            parts.push("no scale".to_string());
        }
        if !self.center {
            parts.push("no center".to_string());
        }
        parts.join(", ")
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
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
        let channels = Expression::Number(output.channels());
        let group = |name, trainable| ParameterGroup {
            name,
            count: channels.clone(),
            trainable,
            buffer: !trainable && self.conventions == Conventions::Pytorch,
        };
        let mut groups = Vec::with_capacity(4);
        if self.scale {
            groups.push(group("gamma", true));
        }
        if self.center {
            groups.push(group("beta", true));
        }
        groups.push(group("moving_mean", false));
        groups.push(group("moving_variance", false));
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

    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let channels = extent(inputs.first().map_or(0, Shape::channels));
        let spec = |name, trainable, start| ParameterSpec {
            name,
            shape: vec![channels],
            trainable,
            active: channels,
            role: Role::Constant(start),
            mask: None,
        };
        let mut specs = Vec::with_capacity(4);
        if self.scale {
            specs.push(spec("gamma", true, 1.0));
        }
        if self.center {
            specs.push(spec("beta", true, 0.0));
        }
        specs.push(spec("moving_mean", false, 0.0));
        specs.push(spec("moving_variance", false, 1.0));
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let channels = channels_of(input)?;
        let slots = self.slots(parameters, channels)?;
        let statistics = if pass.training {
            let (mean, variance) = channel_statistics(channels, input.data(), pass.compute)?;
            let momentum = self.momentum as f32;
            for (slot, batch) in [
                (slots.moving_mean, &mean),
                (slots.moving_variance, &variance),
            ] {
                for (moving, &value) in parameters[slot].data_mut().iter_mut().zip(batch) {
                    *moving = momentum * *moving + (1.0 - momentum) * value;
                }
            }
            Statistics {
                mean,
                variance,
                from_batch: true,
            }
        } else {
            Statistics {
                mean: parameters[slots.moving_mean].data().to_vec(),
                variance: parameters[slots.moving_variance].data().to_vec(),
                from_batch: false,
            }
        };
        let (scale, shift) = slots.affine(parameters, channels);
        let mut output = Tensor::zeros(input.shape())?;
        normalize_forward(
            &statistics.normalization(self.epsilon as f32, &scale, &shift),
            channels,
            input.data(),
            output.data_mut(),
            pass.compute,
        )?;
        Ok(Forward {
            output,
            saved: Box::new(statistics),
        })
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let channels = channels_of(input)?;
        let slots = self.slots(parameters, channels)?;
        let statistics =
            forward
                .saved
                .downcast_ref::<Statistics>()
                .ok_or_else(|| TensorError::Geometry {
                    reason: "batchnorm's backward pass needs its own forward pass".to_string(),
                })?;
        let (scale, shift) = slots.affine(parameters, channels);
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let mut scale_gradient = vec![0.0; channels];
        let mut shift_gradient = vec![0.0; channels];
        normalize_backward(
            &statistics.normalization(self.epsilon as f32, &scale, &shift),
            channels,
            statistics.from_batch,
            input.data(),
            output_gradient.data(),
            NormalizationGradients {
                input: input_gradient.data_mut(),
                scale: &mut scale_gradient,
                shift: &mut shift_gradient,
            },
            compute,
        )?;
        let mut gradients = Vec::with_capacity(parameters.len());
        if self.scale {
            gradients.push(Tensor::from_vec(&[channels], scale_gradient)?);
        }
        if self.center {
            gradients.push(Tensor::from_vec(&[channels], shift_gradient)?);
        }
        gradients.push(Tensor::zeros(&[channels])?);
        gradients.push(Tensor::zeros(&[channels])?);
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: gradients,
        })
    }
}

/// The statistics a forward pass normalised with, kept for its backward pass.
struct Statistics {
    mean: Vec<f32>,
    variance: Vec<f32>,
    /// Whether they are the batch's own (training) or the moving ones (inference).
    from_batch: bool,
}

impl Statistics {
    fn normalization<'a>(
        &'a self,
        epsilon: f32,
        scale: &'a [f32],
        shift: &'a [f32],
    ) -> Normalization<'a> {
        Normalization {
            mean: &self.mean,
            variance: &self.variance,
            epsilon,
            scale,
            shift,
        }
    }
}

/// Where each parameter tensor sits in the layer's parameter list.
struct Slots {
    gamma: Option<usize>,
    beta: Option<usize>,
    moving_mean: usize,
    moving_variance: usize,
}

impl Slots {
    /// gamma and beta, or 1 and 0 where the layer has none.
    fn affine(&self, parameters: &[Tensor], channels: usize) -> (Vec<f32>, Vec<f32>) {
        let values = |slot: Option<usize>, otherwise: f32| match slot {
            Some(slot) => parameters[slot].data().to_vec(),
            None => vec![otherwise; channels],
        };
        (values(self.gamma, 1.0), values(self.beta, 0.0))
    }
}

impl BatchNormalization {
    /// The parameter positions, after checking that there is one tensor of `channels` values
    /// per spec.
    fn slots(&self, parameters: &[Tensor], channels: usize) -> Result<Slots, TensorError> {
        let expected = 2 + usize::from(self.scale) + usize::from(self.center);
        if parameters.len() != expected {
            return Err(TensorError::Geometry {
                reason: format!(
                    "batchnorm needs {expected} parameter tensors, got {}",
                    parameters.len()
                ),
            });
        }
        if let Some(parameter) = parameters
            .iter()
            .find(|parameter| parameter.shape() != [channels])
        {
            return Err(TensorError::Geometry {
                reason: format!(
                    "batchnorm parameter {:?} does not fit {channels} channels",
                    parameter.shape()
                ),
            });
        }
        let gamma = self.scale.then_some(0);
        let beta = self.center.then_some(usize::from(self.scale));
        Ok(Slots {
            gamma,
            beta,
            moving_mean: expected - 2,
            moving_variance: expected - 1,
        })
    }
}

/// The last axis of a batch with at least one axis after the batch axis.
fn channels_of(input: &Tensor) -> Result<usize, TensorError> {
    match input.shape() {
        [_, .., channels] if input.shape().len() >= 2 => Ok(*channels),
        shape => Err(TensorError::Rank {
            expected: 2,
            shape: shape.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward (training mode, batch statistics) agrees with finite differences on random
        /// shapes, with and without scale and centre.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            batch in 2usize..5,
            scale in proptest::bool::ANY,
            center in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let per_channel = batch * shape[..shape.len() - 1].iter().product::<u64>() as usize;
            // At least 8 values per channel, so that no channel's variance is near zero (where ε
            // would no longer be small against the spread and finite differences lose accuracy).
            let batch = batch * 8usize.div_ceil(per_channel);
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("batchnorm scale={scale} center={center}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{
        check, check_details, check_error, check_gradients, declaration, run_forward,
    };
    use crate::layers::{self, Forward};
    use crate::tensor::{Compute, Tensor};

    /// PyTorch: `nn.BatchNorm2d(64)` has 128 parameters (weight and bias, 64 each) and keeps
    /// running_mean and running_var (64 each) as buffers, outside `parameters()`.
    #[test]
    fn pytorch_keeps_the_running_statistics_as_buffers() {
        check(
            "batchnorm conventions=pytorch",
            &[&[8, 8, 64]],
            "[8×8×64]",
            "64+64 = 128",
            "8·8·64 = 4096",
            "8·8·64·(1+1) = 8192",
        );
        check_details(
            "batchnorm conventions=pytorch",
            &[&[8, 8, 64]],
            "",
            [128, 0],
            "8·8·64 = 4096",
            "pointwise",
        );
        let mut decl = declaration("batchnorm conventions=pytorch");
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        let shape = crate::shape::Shape::new(vec![8, 8, 64]);
        let buffers: Vec<(&str, u64)> = layer
            .parameters(std::slice::from_ref(&shape), &shape)
            .into_iter()
            .filter(|group| group.buffer)
            .map(|group| (group.name, group.count.count().unwrap()))
            .collect();
        assert_eq!(buffers, vec![("moving_mean", 64), ("moving_variance", 64)]);
        // The executor still keeps them, so the gradient check covers them as constants.
        check_gradients("batchnorm conventions=pytorch", &[&[2, 3]], 8);
    }

    #[test]
    fn parameters_per_channel_as_keras_counts_them() {
        // Keras: BatchNormalization() on 32 channels has 128 parameters, 64 of them
        // non-trainable (the moving mean and variance).
        check(
            "batchnorm",
            &[&[26, 26, 32]],
            "[26×26×32]",
            "32+32+32+32 = 128",
            "26·26·32 = 21632",
            "26·26·32·(1+1) = 43264",
        );
        check_details(
            "batchnorm",
            &[&[26, 26, 32]],
            "",
            [64, 64],
            "26·26·32 = 21632",
            "pointwise",
        );
        // After a dense layer: the channels are the vector's length.
        check(
            "bn",
            &[&[128]],
            "128",
            "128+128+128+128 = 512",
            "128",
            "128·(1+1) = 256",
        );
        check(
            "batch_normalization center=false",
            &[&[4, 4, 8]],
            "[4×4×8]",
            "8+8+8 = 24",
            "4·4·8 = 128",
            "4·4·8 = 128",
        );
        check_details(
            "batchnorm scale=false center=false epsilon=1e-5 momentum=0.9",
            &[&[4, 4, 8]],
            "epsilon=0.00001, momentum=0.9, no scale, no center",
            [0, 16],
            "4·4·8 = 128",
            "pointwise",
        );
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        for (line, message) in [
            (
                "batchnorm epsilon=0",
                "`epsilon` must be a number > 0, got 0",
            ),
            (
                "batchnorm momentum=1.5",
                "`momentum` must be a number from 0 to 1, got 1.5",
            ),
            ("batchnorm scale=1", "`scale` must be true or false, got 1"),
            ("batchnorm axis=1", "`batchnorm` has no attribute `axis`"),
        ] {
            check_error(line, &[&[4, 4, 8]], message);
        }
        check_error("batchnorm", &[], "takes exactly one input, got 0");
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("batchnorm", &[&[3, 3, 2]], 2);
        check_gradients("bn", &[&[4]], 6);
        check_gradients("batchnorm scale=false", &[&[2, 2, 3]], 3);
        check_gradients("batchnorm center=false epsilon=0.01", &[&[5]], 4);
        check_gradients(
            "batch_normalization scale=false center=false",
            &[&[2, 3]],
            3,
        );
    }

    /// Two examples of two channels: channel 0 holds 1 and 3, channel 1 holds −2 and 2.
    fn batch() -> Tensor {
        Tensor::from_vec(&[2, 2], vec![1.0, -2.0, 3.0, 2.0]).unwrap()
    }

    fn parameters(values: [[f32; 2]; 4]) -> Vec<Tensor> {
        values
            .iter()
            .map(|pair| Tensor::from_vec(&[2], pair.to_vec()).unwrap())
            .collect()
    }

    fn assert_near(actual: &[f32], expected: &[f32]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-5, "{actual:?} instead of {expected:?}");
        }
    }

    #[test]
    fn training_uses_batch_statistics_and_moves_the_moving_ones() {
        // gamma (2, 1), beta (0, 1), moving mean (0, 0), moving variance (1, 1).
        let mut parameters = parameters([[2.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]]);
        let line = "batchnorm momentum=0.75 epsilon=0.5";
        let forward = run_forward(line, &mut parameters, &[&batch()], true);
        // Batch means (2, 0), biased variances (1, 4): (x − mean)/sqrt(variance + 0.5).
        let (first, second) = (1.0 / 1.5f32.sqrt(), 2.0 / 4.5f32.sqrt());
        assert_near(
            forward.output.data(),
            &[-2.0 * first, 1.0 - second, 2.0 * first, 1.0 + second],
        );
        // moving = 0.75·moving + 0.25·batch.
        assert_near(parameters[2].data(), &[0.5, 0.0]);
        assert_near(parameters[3].data(), &[1.0, 1.75]);
        // gamma and beta are not changed by the pass.
        assert_eq!(parameters[0].data(), &[2.0, 1.0]);
    }

    #[test]
    fn inference_uses_the_moving_statistics_as_constants() {
        let mut parameters = parameters([[2.0, 1.0], [0.0, 1.0], [1.0, -2.0], [3.5, 0.5]]);
        let line = "batchnorm epsilon=0.5";
        let forward = run_forward(line, &mut parameters, &[&batch()], false);
        // (x − moving mean)/sqrt(moving variance + 0.5): channel 0 divides by 2, channel 1 by 1.
        assert_near(forward.output.data(), &[0.0, 1.0, 2.0, 5.0]);
        assert_eq!(parameters[2].data(), &[1.0, -2.0], "moving mean unchanged");
        let gradients = backward(line, &parameters, &forward);
        // ∂L/∂x = gamma·g/sqrt(variance + epsilon) for g = 1 everywhere.
        assert_near(gradients.inputs[0].data(), &[1.0, 1.0, 1.0, 1.0]);
        // ∂L/∂gamma = Σ x̂ = (0 + 1, 0 + 4), ∂L/∂beta = Σ g = 2; the statistics get none.
        assert_near(gradients.parameters[0].data(), &[1.0, 4.0]);
        assert_near(gradients.parameters[1].data(), &[2.0, 2.0]);
        assert_eq!(gradients.parameters[3].data(), &[0.0, 0.0]);
    }

    fn backward(line: &str, parameters: &[Tensor], forward: &Forward) -> layers::Gradients {
        let mut decl = declaration(line);
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        let ones = Tensor::full(forward.output.shape(), 1.0).unwrap();
        layer
            .backward(parameters, &[&batch()], forward, &ones, Compute::single())
            .unwrap()
    }
}

//! `batchnorm`: batch normalisation over the last axis (Ioffe & Szegedy 2015; Keras
//! `BatchNormalization` with axis -1, whose defaults it takes: epsilon 1e-3, momentum 0.99, scale
//! and center on). Each unit computes gamma·(x - mean)/sqrt(variance + epsilon) + beta with its
//! channel's statistics. Parameters per channel, as Keras counts them: gamma (if `scale`) and beta
//! (if `center`) are trainable, the moving mean and variance are not. Connections in LeCun's
//! sense: one link from the unit's own input (scaled by gamma) per unit, plus beta as a bias link
//! when `center` is on, so `units` without and `units·(1+1)` with bias. MACs: one multiply-add per
//! unit once the statistics are folded into a scale and a shift.

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "batchnorm",
    aliases: &["batch_normalization", "bn"],
    positionals: &[],
    summary: "batch normalisation per channel: epsilon, momentum, scale, center (Keras defaults)",
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
    Ok(Box::new(BatchNormalization {
        epsilon,
        momentum,
        scale,
        center,
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
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error};

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
}

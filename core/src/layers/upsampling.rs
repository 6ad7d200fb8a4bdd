//! `upsampling2d`: nearest-neighbour upsampling of H×W×C maps by whole factors (Keras
//! `UpSampling2D(size)` with its default `interpolation='nearest'`, PyTorch `nn.Upsample(
//! scale_factor, mode='nearest')`): each input unit is copied into a block of sh×sw output
//! units, H×W×C → (sh·H)×(sw·W)×C. Copies are not weighted links: no parameters, no connections,
//! no MACs (as `flatten`). Bilinear interpolation is not offered. The receptive field is reported
//! as varying (no one window): neighbouring output units step a fraction of an input unit, so the
//! windows a later layer sees through them differ in size from unit to unit. Backward: each input unit receives the sum of its block's gradients.

use super::sizes::{extent, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "upsampling2d",
    aliases: &["upsample"],
    positionals: &["size"],
    summary: "nearest-neighbour upsampling of maps: size (2 or HxW), each unit copied into a size block",
    build,
};

#[derive(Debug)]
struct Upsampling {
    size: [u64; 2],
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let size = reader.pair("size")?.unwrap_or([2, 2]);
    Ok(Box::new(Upsampling { size }))
}

impl Upsampling {
    /// The source index in the input for each output index of one example.
    fn source(&self, shape: &[usize]) -> Result<(Vec<usize>, Vec<usize>), TensorError> {
        let &[batch, height, width, channels] = shape else {
            return Err(TensorError::Geometry {
                reason: format!("upsampling2d reads NHWC batches, got {shape:?}"),
            });
        };
        let [sh, sw] = self.size.map(extent);
        let output_shape = vec![batch, height * sh, width * sw, channels];
        let mut sources = Vec::with_capacity(output_shape.iter().product());
        for example in 0..batch {
            for row in 0..height * sh {
                for column in 0..width * sw {
                    let base = ((example * height + row / sh) * width + column / sw) * channels;
                    sources.extend(base..base + channels);
                }
            }
        }
        Ok((output_shape, sources))
    }
}

impl Layer for Upsampling {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        if self.size[0] == self.size[1] {
            format!("size={}", self.size[0])
        } else {
            format!("size={}x{}", self.size[0], self.size[1])
        }
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let output = match (
            height.checked_mul(self.size[0]),
            width.checked_mul(self.size[1]),
        ) {
            (Some(h), Some(w)) => Shape::new(vec![h, w, channels]),
            _ => return Err(ShapeError::Overflow("the output size".to_string())),
        };
        if output.units().is_none() {
            return Err(ShapeError::Overflow("the output size".to_string()));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        // Each output unit copies one input unit, but neighbouring output units are a fraction
        // of an input unit apart: no window of whole units with a whole stride.
        if self.size == [1, 1] {
            ReceptiveStep::Pointwise
        } else {
            ReceptiveStep::Uneven
        }
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
        let (shape, sources) = self.source(input.shape())?;
        let values = sources.iter().map(|&at| input.data()[at]).collect();
        Ok(Forward::plain(Tensor::from_vec(&shape, values)?))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        same_shape("the output gradient", output_gradient, &forward.output)?;
        let (_, sources) = self.source(input.shape())?;
        let mut gradient = Tensor::zeros(input.shape())?;
        for (&at, &value) in sources.iter().zip(output_gradient.data()) {
            gradient.data_mut()[at] += value;
        }
        Ok(Gradients {
            inputs: vec![gradient],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error, check_gradients, run_forward};
    use crate::tensor::Tensor;

    #[test]
    fn each_unit_becomes_a_block() {
        // Keras: UpSampling2D((2, 2)) on (None, 7, 7, 32) gives (None, 14, 14, 32), 0 parameters.
        check("upsampling2d", &[&[7, 7, 32]], "[14×14×32]", "0", "0", "0");
        check(
            "upsampling2d 2x3",
            &[&[7, 5, 1]],
            "[14×15×1]",
            "0",
            "0",
            "0",
        );
        check_details(
            "upsampling2d 3",
            &[&[2, 2, 1]],
            "size=3",
            [0, 0],
            "0",
            "uneven",
        );
        check_details(
            "upsampling2d 1",
            &[&[2, 2, 1]],
            "size=1",
            [0, 0],
            "0",
            "pointwise",
        );
        check_error(
            "upsampling2d",
            &[&[7, 32]],
            "expects feature maps H×W×C, got [7×32]",
        );
        let input = Tensor::from_vec(&[1, 1, 2, 1], vec![1.0, 2.0]).unwrap();
        let output = run_forward("upsampling2d 2", &mut [], &[&input], false).output;
        assert_eq!(output.shape(), &[1, 2, 4, 1]);
        assert_eq!(output.data(), &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("upsampling2d 2x3", &[&[2, 3, 2]], 2);
        check_gradients("upsampling2d", &[&[1, 1, 3]], 3);
    }
}

//! `global_avgpool` and `global_maxpool`: pooling over each whole map (Lin et al. 2013's global
//! average pooling; Keras `GlobalAveragePooling2D` and `GlobalMaxPooling2D`), turning H×W×C maps
//! into a vector of C values. No parameters; every output unit is linked to the H·W units of its
//! map, so there are H·W·C connections with and without bias (there is no bias). MACs are 0: the
//! layer adds or compares, it does not multiply-accumulate. Execution runs the global pooling
//! kernels of `crate::tensor::pooling`: `[N, H, W, C]` to `[N, C]`; a max's gradient goes to the
//! first cell holding it. The 1-D kinds over sequences (`global_pooling1d.rs`) share this code
//! with one position axis: L×C to C, each feature's mean or maximum over the L steps.

use super::sizes::one;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single_positions,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::pooling::{
    global_average_pool_backward, global_average_pool_forward, global_max_pool_backward,
    global_max_pool_forward,
};
use crate::tensor::{Compute, Nhwc, Tensor, TensorError};

/// The catalogue entry for global average pooling.
pub const AVERAGE_KIND: Kind = Kind {
    name: "global_avgpool",
    aliases: &["global_average_pooling2d", "gap"],
    positionals: &[],
    summary: "global average pooling: the mean of each map, H×W×C to C",
    build: build_average,
};

/// The catalogue entry for global max pooling.
pub const MAX_KIND: Kind = Kind {
    name: "global_maxpool",
    aliases: &["global_max_pooling2d"],
    positionals: &[],
    summary: "global max pooling: the largest value of each map, H×W×C to C",
    build: build_max,
};

/// How a global pooling layer combines a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    /// The mean value.
    Average,
    /// The largest value.
    Max,
}

/// Global pooling over the position axes of maps (2) or of a sequence (1).
#[derive(Debug)]
pub(crate) struct GlobalPooling {
    /// Mean or maximum.
    pub reduction: Reduction,
    /// Position axes: 2 for maps, 1 for sequences.
    pub axes: usize,
}

fn build_average(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(GlobalPooling {
        reduction: Reduction::Average,
        axes: 2,
    }))
}

fn build_max(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(GlobalPooling {
        reduction: Reduction::Max,
        axes: 2,
    }))
}

impl GlobalPooling {
    /// The batch as the kernels' maps: NHWC, or a sequence `[N, L, C]` as `[N, 1, L, C]`.
    fn maps_of(&self, input: &Tensor) -> Result<Nhwc, TensorError> {
        match (self.axes, input.shape()) {
            (1, &[batch, length, channels]) => Ok(Nhwc::new(batch, 1, length, channels)),
            _ => input.nhwc(),
        }
    }
}

impl Layer for GlobalPooling {
    fn settings(&self) -> String {
        match (self.reduction, self.axes) {
            (Reduction::Average, 1) => "mean of each feature".to_string(),
            (Reduction::Max, 1) => "maximum of each feature".to_string(),
            (Reduction::Average, _) => "mean of each map".to_string(),
            (Reduction::Max, _) => "maximum of each map".to_string(),
        }
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (_, channels) = single_positions(inputs, self.axes)?;
        if inputs.first().and_then(Shape::units).is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference::plain(Shape::new(vec![channels])))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        let links = inputs.first().map_or(Expression::Number(0), |input| {
            super::units_formula(input).simplified()
        });
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
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
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let size = self.maps_of(input)?;
        let mut output = Tensor::zeros(&[size.batch, size.channels])?;
        let pooled = output.data_mut();
        match self.reduction {
            Reduction::Average => {
                global_average_pool_forward(&size, input.data(), pooled, pass.compute)?
            }
            Reduction::Max => global_max_pool_forward(&size, input.data(), pooled, pass.compute)?,
        }
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let size = self.maps_of(input)?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let upstream = output_gradient.data();
        let gradient = input_gradient.data_mut();
        match self.reduction {
            Reduction::Average => global_average_pool_backward(&size, upstream, gradient, compute)?,
            Reduction::Max => {
                global_max_pool_backward(&size, input.data(), upstream, gradient, compute)?
            }
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random maps; the inputs are distinct and ε
        /// is below their spacing, so no probe changes a maximum.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            kind in proptest::sample::select(&["global_avgpool", "global_maxpool"][..]),
            shape in crate::layers::testing::small_maps(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: true };
            crate::layers::testing::check_gradients_with(kind, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn maps_become_a_vector_of_channels() {
        // Exercise 3b, third variation: GlobalAveragePooling2D after a [2×2×128] convolution
        // feeds Dense(10) with 128 inputs.
        check(
            "global_avgpool",
            &[&[2, 2, 128]],
            "128",
            "0",
            "2·2·128 = 512",
            "2·2·128 = 512",
        );
        check(
            "global_max_pooling2d",
            &[&[7, 7, 512]],
            "512",
            "0",
            "7·7·512 = 25088",
            "7·7·512 = 25088",
        );
        check_details(
            "gap",
            &[&[2, 2, 128]],
            "mean of each map",
            [0, 0],
            "0",
            "whole",
        );
        check_details(
            "global_maxpool",
            &[&[3, 3, 8]],
            "maximum of each map",
            [0, 0],
            "0",
            "whole",
        );
    }

    #[test]
    fn bad_inputs_and_attributes_are_errors() {
        check_error("gap", &[&[128]], "expects feature maps H×W×C, got 128");
        check_error(
            "global_average_pooling2d",
            &[&[2, 2, 8], &[2, 2, 8]],
            "takes exactly one input, got 2",
        );
        check_error(
            "global_maxpool size=2",
            &[&[2, 2, 8]],
            "`global_maxpool` has no attribute `size`",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("global_avgpool", &[&[3, 3, 4]], 2);
        check_gradients("global_avgpool", &[&[1, 5, 2]], 3);
        check_gradients("gap", &[&[4, 2, 1]], 1);
        check_gradients("global_maxpool", &[&[3, 3, 4]], 2);
        check_gradients("global_maxpool", &[&[1, 5, 2]], 3);
        check_gradients("global_max_pooling2d", &[&[2, 2, 3]], 2);
    }
}

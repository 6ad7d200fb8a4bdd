//! `subsample`: LeCun et al. (1998)'s subsampling layer (LeNet-5's S2 and S4). Each output unit
//! averages a k×k window of one map, multiplies it by the map's trainable coefficient and adds the
//! map's trainable bias, so a map has 2 parameters (S2: 6+6 = 12, S4: 16+16 = 32, as in the paper).
//! With `trainable=false` it is the exercise sheet's "fixed function of the input" with 0
//! parameters. Either way the connections follow the sheet (exercise 4b): each output unit is linked
//! to its k·k window, plus one link for the bias, so S2 has 14·14·6·2·2 = 4704 connections without
//! and 14·14·6·(2·2+1) = 5880 with bias. MACs are one coefficient multiply per output unit (the
//! window's sum is additions). The window is read as for pooling (`size`, `stride` defaulting to
//! `size`, `padding`, `rounding`); LeNet-5 uses 2×2 windows without padding.
//!
//! Execution: the window's mean comes from the average-pooling kernel (the paper adds the four
//! inputs; the mean is that sum divided by the window area, a factor the trained coefficient
//! absorbs, and keeps the initial output on the input's scale). With padding the mean is over
//! the window's real cells, as `avgpool` takes it. Then, when trainable, `coefficient·mean +
//! bias` per map (the coefficient starts at 1, the bias as biases do); with `trainable=false`
//! the plain mean, with no parameters. Last comes `activation`, if any, in both cases.

use super::activation;
use super::geometry::WindowSpec;
use super::pooling::{self, batch_geometry};
use super::sizes::{extent, one, same_shape};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single_maps,
    units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::convolution::bias_gradient;
use crate::tensor::pooling::{average_pool2d_backward, average_pool2d_forward};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "subsample",
    aliases: &["subsampling"],
    positionals: &["size"],
    summary: "LeCun's subsampling: window average × coefficient + bias per map; size, stride, trainable, activation, padding, rounding",
    build,
};

#[derive(Debug)]
struct Subsampling {
    window: WindowSpec,
    /// Whether each map has a trainable coefficient and bias (LeCun 1998) or none (the sheet).
    trainable: bool,
    /// The squashing function after the bias (the paper uses a sigmoid); counts nothing.
    activation: Option<Activation>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let window = pooling::read_window(reader, 2)?;
    let trainable = reader.boolean("trainable")?.unwrap_or(true);
    let activation = Activation::read(reader, "activation")?;
    Ok(Box::new(Subsampling {
        window,
        trainable,
        activation,
    }))
}

impl Subsampling {
    fn window_area(&self) -> Expression {
        Expression::product_of(&self.window.kernel)
    }

    /// `out_h·out_w·C` times the fan-in of one unit.
    fn links(&self, output: &Shape, fan_in: Expression) -> Expression {
        let mut factors = vec![units_formula(output)];
        factors.push(fan_in);
        Expression::product(factors).simplified()
    }
}

impl Layer for Subsampling {
    fn settings(&self) -> String {
        let mut text = self.window.settings();
        if !self.trainable {
            text.push_str(", fixed");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn caption(&self) -> super::Caption {
        let mut text = self.window.caption(true);
        if !self.trainable {
            text.push_str(", fixed");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        super::Caption::text(text)
    }

    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let (sizes, formulas) = self.window.output(&[height, width], rounding)?;
        let [out_height, out_width] = [sizes[0], sizes[1]];
        let output = Shape::new(vec![out_height, out_width, channels]);
        let links = output.units().and_then(|units| {
            let fan_in = self.window.kernel[0]
                .checked_mul(self.window.kernel[1])?
                .checked_add(1)?;
            units.checked_mul(fan_in)
        });
        if links.is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference { output, formulas })
    }

    fn parameters(&self, _: &[Shape], output: &Shape) -> Vec<ParameterGroup> {
        if !self.trainable {
            return Vec::new();
        }
        let maps = output.channels();
        vec![
            ParameterGroup {
                name: "coefficient",
                count: Expression::Number(maps),
                trainable: true,
                buffer: false,
            },
            ParameterGroup {
                name: "bias",
                count: Expression::Number(maps),
                trainable: true,
                buffer: false,
            },
        ]
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let with_bias = Expression::sum(vec![self.window_area(), Expression::Number(1)]);
        Connections {
            without_bias: self.links(output, self.window_area()),
            with_bias: self.links(output, with_bias),
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        let (height, width, _) = single_maps(inputs).unwrap_or((0, 0, 0));
        self.window.receptive_step(&[height, width])
    }

    fn macs(&self, _: &[Shape], output: &Shape) -> Expression {
        units_formula(output).simplified()
    }

    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        if !self.trainable {
            return Vec::new();
        }
        let maps = extent(inputs.first().map_or(0, Shape::channels));
        let spec = |name, role| ParameterSpec {
            name,
            shape: vec![maps],
            trainable: true,
            active: maps,
            role,
            mask: None,
        };
        vec![
            spec("coefficient", Role::Constant(1.0)),
            spec("bias", Role::Bias),
        ]
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let geometry = batch_geometry(&self.window, input)?;
        let mut means = Tensor::zeros(&geometry.output()?.shape())?;
        average_pool2d_forward(&geometry, input.data(), means.data_mut(), pass.compute)?;
        let mut sums = means.clone();
        if let Some(MapFactors { coefficient, bias }) =
            self.coefficients(parameters, geometry.input.channels)?
        {
            for pixel in sums.data_mut().chunks_exact_mut(geometry.input.channels) {
                for ((value, &factor), &offset) in pixel.iter_mut().zip(coefficient).zip(bias) {
                    *value = factor * *value + offset;
                }
            }
        }
        let kept = activation::keep_input(self.activation, &sums);
        let output = activation::apply(self.activation, sums, pass.compute)?;
        Ok(Forward {
            output,
            saved: Box::new(Means(means, kept)),
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
        let geometry = batch_geometry(&self.window, input)?;
        let maps = geometry.input.channels;
        let Means(means, kept) =
            forward
                .saved
                .downcast_ref::<Means>()
                .ok_or_else(|| TensorError::Geometry {
                    reason: "subsample's backward pass needs its own forward pass".to_string(),
                })?;
        let sum_gradient = activation::gradient(
            self.activation,
            kept.as_ref(),
            &forward.output,
            output_gradient,
            compute,
        )?;
        same_shape("the output gradient", &sum_gradient, means)?;
        let mut parameter_gradients = Vec::new();
        let mut mean_gradient = sum_gradient.into_owned();
        if let Some(MapFactors { coefficient, .. }) = self.coefficients(parameters, maps)? {
            // ∂L/∂bias = Σ g, ∂L/∂coefficient = Σ g·mean, ∂L/∂mean = g·coefficient, per map.
            let mut bias_sums = vec![0.0; maps];
            bias_gradient(mean_gradient.data(), maps, &mut bias_sums, compute)?;
            let mut weighted = mean_gradient.clone();
            for (value, &mean) in weighted.data_mut().iter_mut().zip(means.data()) {
                *value *= mean;
            }
            let mut coefficient_sums = vec![0.0; maps];
            bias_gradient(weighted.data(), maps, &mut coefficient_sums, compute)?;
            for pixel in mean_gradient.data_mut().chunks_exact_mut(maps) {
                for (value, &factor) in pixel.iter_mut().zip(coefficient) {
                    *value *= factor;
                }
            }
            parameter_gradients.push(Tensor::from_vec(&[maps], coefficient_sums)?);
            parameter_gradients.push(Tensor::from_vec(&[maps], bias_sums)?);
        }
        let mut input_gradient = Tensor::zeros(input.shape())?;
        average_pool2d_backward(
            &geometry,
            mean_gradient.data(),
            input_gradient.data_mut(),
            compute,
        )?;
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: parameter_gradients,
        })
    }
}

/// A trainable layer's coefficient and bias, one of each per map.
struct MapFactors<'a> {
    coefficient: &'a [f32],
    bias: &'a [f32],
}

/// The window means of a forward pass, kept for the coefficient's gradient, and the
/// pre-activation when the activation is differentiated from its input.
struct Means(Tensor, Option<Tensor>);

impl Subsampling {
    /// The coefficients and biases (`None` when the layer is not trainable), after checking that
    /// there is one of each per map.
    fn coefficients<'a>(
        &self,
        parameters: &'a [Tensor],
        maps: usize,
    ) -> Result<Option<MapFactors<'a>>, TensorError> {
        match (self.trainable, parameters) {
            (false, []) => Ok(None),
            (true, [coefficient, bias])
                if coefficient.shape() == [maps] && bias.shape() == [maps] =>
            {
                Ok(Some(MapFactors {
                    coefficient: coefficient.data(),
                    bias: bias.data(),
                }))
            }
            _ => Err(TensorError::Geometry {
                reason: format!(
                    "subsample expects {} parameter tensors of {maps} values, got {}",
                    if self.trainable { 2 } else { 0 },
                    parameters.len()
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes, strides and paddings,
        /// with and without the trainable coefficient and bias and the squashing function.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (height, width, channels, size, stride, padding) in crate::layers::testing::window_cases(),
            trainable in proptest::bool::ANY,
            function in proptest::sample::select(&["linear", "sigmoid", "tanh"][..]),
            seed in proptest::num::u64::ANY,
        ) {
            let padding = padding.min(size - 1);
            let line = format!(
                "subsample {size} stride={stride} padding={padding} trainable={trainable} activation={function} rounding=floor"
            );
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with(
                &line,
                &[&[height.max(size), width.max(size), channels]],
                2,
                values,
            );
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients, run_forward};
    use crate::tensor::Tensor;

    #[test]
    fn lenet_counts_match_the_sheet_and_the_paper() {
        // Exercise sheet 5, exercise 4b: S2 and S4 as fixed functions (0 parameters).
        check(
            "subsample 2 trainable=false",
            &[&[28, 28, 6]],
            "[14×14×6]",
            "0",
            "14·14·6·2·2 = 4704",
            "14·14·6·(2·2+1) = 5880",
        );
        check(
            "subsampling 2 trainable=false",
            &[&[10, 10, 16]],
            "[5×5×16]",
            "0",
            "5·5·16·2·2 = 1600",
            "5·5·16·(2·2+1) = 2000",
        );
        // LeCun et al. 1998, section II.B: S2 has 12 and S4 32 trainable parameters.
        check(
            "subsample 2",
            &[&[28, 28, 6]],
            "[14×14×6]",
            "6+6 = 12",
            "14·14·6·2·2 = 4704",
            "14·14·6·(2·2+1) = 5880",
        );
        check(
            "subsample 2",
            &[&[10, 10, 16]],
            "[5×5×16]",
            "16+16 = 32",
            "5·5·16·2·2 = 1600",
            "5·5·16·(2·2+1) = 2000",
        );
    }

    #[test]
    fn settings_macs_and_receptive_step() {
        check_details(
            "subsample 2",
            &[&[28, 28, 6]],
            "F=2, S=2, P=0",
            [12, 0],
            "14·14·6 = 1176",
            "window 2x2 stride 2x2 dilation 1x1 before 0x0",
        );
        check_details(
            "subsample 2 trainable=false",
            &[&[10, 10, 16]],
            "F=2, S=2, P=0, fixed",
            [0, 0],
            "5·5·16 = 400",
            "window 2x2 stride 2x2 dilation 1x1 before 0x0",
        );
        // Overlapping windows of a non-square size.
        check(
            "subsample 3x2 stride=1",
            &[&[4, 4, 1]],
            "[2×3×1]",
            "1+1 = 2",
            "2·3·3·2 = 36",
            "2·3·(3·2+1) = 42",
        );
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        check_error(
            "subsample 2 trainable=yes",
            &[&[4, 4, 1]],
            "`trainable` must be true or false, got `yes`",
        );
        check_error(
            "subsample 2 padding=2",
            &[&[4, 4, 1]],
            "`padding` must be smaller than the window (2) on each side, got 2",
        );
        check_error(
            "subsample 0",
            &[&[4, 4, 1]],
            "`size` must be a positive integer or HxW, got 0",
        );
        check_error(
            "subsample 2",
            &[&[5, 5, 16]],
            "the output height `(5-2)/2+1 = 2.5` is not a whole number",
        );
        check_error(
            "subsample 2 coefficient=1",
            &[&[4, 4, 1]],
            "`subsample` has no attribute `coefficient`",
        );
        check_error(
            "subsample 2",
            &[&[120]],
            "expects feature maps H×W×C, got 120",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        // LeNet-5's S2 on small maps, with and without the paper's sigmoid.
        check_gradients("subsample 2", &[&[4, 4, 3]], 2);
        check_gradients("subsample 2 activation=sigmoid", &[&[4, 4, 3]], 2);
        check_gradients("subsample 2 activation=tanh", &[&[6, 4, 2]], 2);
        check_gradients("subsample 3 stride=2 padding=1", &[&[6, 6, 2]], 2);
        check_gradients("subsample 2 padding=same", &[&[5, 5, 1]], 3);
        check_gradients("subsample 2 rounding=ceil", &[&[5, 5, 2]], 2);
        // The sheet's fixed function: no parameters, with or without an activation.
        check_gradients("subsample 2 trainable=false", &[&[4, 4, 3]], 2);
        check_gradients(
            "subsampling 2 trainable=false activation=sigmoid",
            &[&[4, 6, 2]],
            2,
        );
    }

    #[test]
    fn outputs_are_scaled_window_means_plus_bias() {
        // One 2×2 window per map: map 0 holds 1, 2, 3, 6 (mean 3), map 1 holds 0, 0, 4, 4 (mean 2).
        let input =
            Tensor::from_vec(&[1, 2, 2, 2], vec![1.0, 0.0, 2.0, 0.0, 3.0, 4.0, 6.0, 4.0]).unwrap();
        let coefficient = Tensor::from_vec(&[2], vec![2.0, -0.5]).unwrap();
        let bias = Tensor::from_vec(&[2], vec![1.0, 0.25]).unwrap();
        let output = run_forward("subsample 2", &mut [coefficient, bias], &[&input], true).output;
        assert_eq!(output.shape(), &[1, 1, 1, 2]);
        assert_eq!(output.data(), &[7.0, -0.75]);
        let fixed = run_forward("subsample 2 trainable=false", &mut [], &[&input], true).output;
        assert_eq!(fixed.data(), &[3.0, 2.0]);
    }
}

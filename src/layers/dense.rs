//! `dense`: fully connected units. Every input unit feeds every output unit, whatever the input's
//! shape (Caffe's InnerProduct and the sheet's `FC6` on `[6×6×256]`), so no flatten is required.
//! Executed on a batch, each example's values are read as one row: `Y = act(X·W + b)` with
//! `X` `[batch, inputs]`, weights `W` `[inputs, units]` and bias `b` `[units]`.

use super::sizes::{batch_and_units, extent, one, split_parameters};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, activation,
    single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::convolution::bias_gradient;
use crate::tensor::matmul::{Product, matmul};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "dense",
    aliases: &["fc", "linear", "fully_connected"],
    positionals: &["units"],
    summary: "fully connected layer: units, use_bias, activation",
    build,
};

#[derive(Debug)]
struct Dense {
    units: u64,
    use_bias: bool,
    activation: Option<Activation>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Dense {
        units: reader.required_count("units")?,
        use_bias: reader.boolean("use_bias")?.unwrap_or(true),
        activation: Activation::read(reader, "activation")?,
    }))
}

impl Dense {
    /// The batch and the input units of a batch, checked against the weights `[inputs, units]`.
    fn rows(&self, input: &Tensor, weights: &Tensor) -> Result<(usize, usize), TensorError> {
        let (batch, inputs) = batch_and_units(input)?;
        expect_length(
            "dense weights",
            weights.len(),
            crate::tensor::element_count(&[inputs, extent(self.units)])?,
        )?;
        Ok((batch, inputs))
    }
}

impl Layer for Dense {
    fn settings(&self) -> String {
        let mut text = format!("{} neurons", self.units);
        if !self.use_bias {
            text.push_str(", no bias");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        input
            .units()
            .and_then(|units| units.checked_mul(self.units))
            .ok_or_else(|| ShapeError::Overflow("the weight count".to_string()))?;
        Ok(Inference::plain(Shape(vec![self.units])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let mut weights = units_formula(&inputs[0]);
        if let Expression::Product(factors) = &mut weights {
            factors.push(Expression::Number(self.units));
        }
        let mut groups = vec![ParameterGroup {
            name: "weights",
            count: weights.simplified(),
            trainable: true,
        }];
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: Expression::Number(self.units),
                trainable: true,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        let units = Expression::Number(self.units);
        let fan_in = units_formula(&inputs[0]).simplified();
        let without_bias = Expression::product(vec![units.clone(), fan_in.clone()]);
        let with_bias = if self.use_bias {
            Expression::product(vec![
                units,
                Expression::sum(vec![fan_in, Expression::Number(1)]),
            ])
        } else {
            without_bias.clone()
        };
        Connections {
            without_bias,
            with_bias,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.connections(inputs, output).without_bias
    }

    /// Weights `[inputs, units]` (fan-in: the input units, fan-out: the units, as Keras counts),
    /// then the bias `[units]` when there is one.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let fan_in = inputs.first().and_then(Shape::units).map_or(0, extent);
        let units = extent(self.units);
        let mut specs = vec![ParameterSpec {
            name: "weights",
            shape: vec![fan_in, units],
            trainable: true,
            active: fan_in.saturating_mul(units),
            role: Role::Weights {
                fan_in,
                fan_out: units,
            },
            mask: None,
        }];
        if self.use_bias {
            specs.push(ParameterSpec::bias(units));
        }
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
        let (batch, fan_in) = self.rows(input, weights)?;
        let units = extent(self.units);
        let mut output = Tensor::zeros(&[batch, units])?;
        let mut product = Product::new(batch, fan_in, units);
        if let Some(bias) = bias {
            expect_length("dense bias", bias.len(), units)?;
            for row in output.data_mut().chunks_exact_mut(units) {
                row.copy_from_slice(bias.data());
            }
            product = product.accumulating(1.0);
        }
        matmul(
            &product,
            input.data(),
            weights.data(),
            output.data_mut(),
            pass.compute,
        )?;
        let output = activation::apply(self.activation, output, pass.compute)?;
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        self.backward_pass(parameters, inputs, forward, output_gradient, compute, true)
    }

    fn backward_parameters(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        self.backward_pass(parameters, inputs, forward, output_gradient, compute, false)
    }
}

impl Dense {
    /// The backward pass, with the input gradient (its own product, dY·Wᵀ) or without it.
    fn backward_pass(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
        with_input_gradient: bool,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
        let (batch, fan_in) = self.rows(input, weights)?;
        let units = extent(self.units);
        let gradient =
            activation::gradient(self.activation, &forward.output, output_gradient, compute)?;
        // dX = dY·Wᵀ, with W stored [inputs, units].
        let mut input_gradients = Vec::with_capacity(1);
        if with_input_gradient {
            let mut input_gradient = Tensor::zeros(input.shape())?;
            let mut product = Product::new(batch, units, fan_in);
            product.transpose_b = true;
            matmul(
                &product,
                gradient.data(),
                weights.data(),
                input_gradient.data_mut(),
                compute,
            )?;
            input_gradients.push(input_gradient);
        }
        // dW = Xᵀ·dY, with X stored [batch, inputs].
        let mut weight_gradient = Tensor::zeros(weights.shape())?;
        let mut product = Product::new(fan_in, batch, units);
        product.transpose_a = true;
        matmul(
            &product,
            input.data(),
            gradient.data(),
            weight_gradient.data_mut(),
            compute,
        )?;
        let mut parameter_gradients = vec![weight_gradient];
        if let Some(bias) = bias {
            let mut gradient_of_bias = Tensor::zeros(bias.shape())?;
            bias_gradient(gradient.data(), units, gradient_of_bias.data_mut(), compute)?;
            parameter_gradients.push(gradient_of_bias);
        }
        Ok(Gradients {
            inputs: input_gradients,
            parameters: parameter_gradients,
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// Backward agrees with finite differences on random sizes, bias settings and smooth
        /// activations (relu's kink is checked in activation.rs, whose functions dense applies).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            units in 1u64..6,
            shape in crate::layers::testing::small_shapes(),
            use_bias in proptest::bool::ANY,
            function in proptest::sample::select(&["linear", "tanh", "sigmoid", "softmax"][..]),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("dense {units} use_bias={use_bias} activation={function}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_error, check_gradients};

    #[test]
    fn counts_match_the_sheet() {
        // Exercise sheet 5, exercise 4b, F6 and the output layer.
        check(
            "dense 84",
            &[&[120]],
            "84",
            "120·84+84 = 10164",
            "84·120 = 10080",
            "84·(120+1) = 10164",
        );
        check(
            "dense 10",
            &[&[84]],
            "10",
            "84·10+10 = 850",
            "10·84 = 840",
            "10·(84+1) = 850",
        );
        // Exercise 4c, FC6 on AlexNet's [6×6×256].
        check(
            "dense 4096",
            &[&[6, 6, 256]],
            "4096",
            "6·6·256·4096+4096 = 37752832",
            "4096·6·6·256 = 37748736",
            "4096·(6·6·256+1) = 37752832",
        );
        check(
            "dense 10 use_bias=false",
            &[&[84]],
            "10",
            "84·10 = 840",
            "10·84 = 840",
            "10·84 = 840",
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        check_error(
            "dense 0",
            &[&[4]],
            "`units` must be a positive integer, got 0",
        );
        check_error(
            "dense 10 activaton=relu",
            &[&[4]],
            "`dense` has no attribute `activaton`",
        );
        check_error(
            "dense 4294967296",
            &[&[4294967296, 2]],
            "the weight count does not fit in 64 bits",
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("dense 4", &[&[6]], 3);
        check_gradients("dense 3 use_bias=false", &[&[5]], 2);
        // Maps are read as one row per example.
        check_gradients("dense 5", &[&[3, 2, 2]], 2);
        for function in ["relu", "tanh", "sigmoid", "softmax", "linear"] {
            check_gradients(&format!("dense 4 activation={function}"), &[&[6]], 3);
        }
        check_gradients("dense 1 activation=sigmoid", &[&[3]], 1);
    }
}

//! `dense`: fully connected units, read over one of two axes (`axis=all|last`):
//!
//! - `all`: every input unit feeds every output unit, whatever the input's shape (Caffe's
//!   InnerProduct and the sheet's `FC6` on `[6×6×256]`), so no flatten is required; the output is
//!   a vector. The default on vectors and on H×W×C maps, so every count of the sheet stays.
//! - `last`: the same units applied at every position to the last axis only, as Keras' `Dense`
//!   and PyTorch's `Linear` do on inputs of more than one axis: `[28×128]` gives `[28×units]`,
//!   with `128·units+units` parameters shared by the 28 steps, and 28·units·128 connections. The
//!   default on sequences (L×D) and other ranks; on maps it must be asked for (`axis=last`, a 1×1
//!   convolution in effect).
//!
//! Executed on a batch, the rows are each example's values (`all`) or each position's features
//! (`last`): `Y = act(X·W + b)` with `X` `[rows, inputs]`, weights `W` `[inputs, units]` and bias
//! `b` `[units]`.
//!
//! `tied_to: NAME` uses another layer's table as the weights, transposed, as GPT-2's output layer
//! uses the token embedding's `[vocabulary, features]` (Press & Wolf 2017): the layer counts no
//! weights of its own, only its bias if it has one (`use_bias=false` for GPT-2). The analysis
//! checks that NAME is an earlier layer with a tensor of that shape; training refuses such a
//! network, since the executor shares no tensors between layers.

use super::sizes::{batch_and_units, extent, one, split_parameters};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, Tie,
    activation, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Axes, Form, Rounding, Shape};
use crate::source::Spanned;
use crate::tensor::convolution::bias_gradient;
use crate::tensor::matmul::{Product, matmul};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "dense",
    aliases: &["fc", "linear", "fully_connected"],
    positionals: &["units"],
    summary: "fully connected layer: units, use_bias, activation, axis (all: every input unit; last: per position, as Keras), tied_to (another layer's table as the weights)",
    build,
};

/// Which input units a dense unit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// All of them (the sheet's fully connected layer).
    All,
    /// The features of its own position (Keras `Dense`, PyTorch `Linear`).
    Last,
}

#[derive(Debug)]
struct Dense {
    units: u64,
    use_bias: bool,
    activation: Option<Activation>,
    /// As written; `None` takes the default for the input's shape (see [`Dense::axis`]).
    axis: Option<Axis>,
    /// The layer whose table is the weights (transposed), when tied.
    tied_to: Option<Spanned<String>>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Dense {
        units: reader.required_count("units")?,
        use_bias: reader.boolean("use_bias")?.unwrap_or(true),
        activation: Activation::read(reader, "activation")?,
        axis: reader.choice("axis", &["all", "last"])?.map(|axis| {
            if axis == "last" {
                Axis::Last
            } else {
                Axis::All
            }
        }),
        tied_to: reader.layer_name("tied_to")?,
    }))
}

impl Dense {
    /// The axis read on this input: as written, else `all` on vectors and maps (the sheet) and
    /// `last` on sequences and other ranks (Keras, PyTorch). On a vector both are the same, and
    /// `all` is taken so that its counts keep the sheet's form.
    fn axis(&self, input: &Shape) -> Axis {
        match (self.axis, input.form()) {
            (_, Form::Vector { .. }) => Axis::All,
            (Some(axis), _) => axis,
            (None, Form::Maps { .. }) => Axis::All,
            (None, _) => Axis::Last,
        }
    }

    /// The rows of a batch (examples, or examples × positions) and the input units of a row,
    /// checked against the weights `[inputs, units]`.
    fn rows(&self, input: &Tensor, weights: &Tensor) -> Result<(usize, usize), TensorError> {
        let (rows, inputs) = match (self.per_position(input), input.shape().split_last()) {
            (true, Some((&features, leading))) => {
                (crate::tensor::element_count(leading)?, features)
            }
            _ => batch_and_units(input)?,
        };
        expect_length(
            "dense weights",
            weights.len(),
            crate::tensor::element_count(&[inputs, extent(self.units)])?,
        )?;
        Ok((rows, inputs))
    }

    /// Whether a batch is read per position: its examples' shape (all axes but the batch) asks
    /// for `last`.
    fn per_position(&self, input: &Tensor) -> bool {
        let example: Vec<u64> = input.shape().iter().skip(1).map(|&d| d as u64).collect();
        self.axis(&Shape::new(example)) == Axis::Last
    }

    /// The output batch's shape for `rows` rows.
    fn output_shape(&self, input: &Tensor, rows: usize) -> Vec<usize> {
        let units = extent(self.units);
        match (self.per_position(input), input.shape().split_last()) {
            (true, Some((_, leading))) => leading.iter().copied().chain([units]).collect(),
            _ => vec![rows, units],
        }
    }
}

impl Dense {
    /// The inputs of one unit as a formula: all input units (`6·6·256`) or one position's
    /// features.
    fn fan_in_formula(&self, input: &Shape) -> Expression {
        match self.axis(input) {
            Axis::All => units_formula(input),
            Axis::Last => Expression::product(vec![Expression::Number(input.channels())]),
        }
    }
}

impl Layer for Dense {
    fn settings(&self) -> String {
        let mut text = format!("{} neurons", self.units);
        match self.axis {
            Some(Axis::Last) => text.push_str(" per position"),
            Some(Axis::All) => text.push_str(", all inputs"),
            None => {}
        }
        if !self.use_bias {
            text.push_str(", no bias");
        }
        if let Some(tied) = &self.tied_to {
            text.push_str(&format!(", weights of {}", tied.value));
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn caption(&self) -> super::Caption {
        let mut text = self.units.to_string();
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        super::Caption::text(text)
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        input
            .units()
            .and_then(|units| units.checked_mul(self.units))
            .ok_or_else(|| ShapeError::Overflow("the weight count".to_string()))?;
        let output = match self.axis(input) {
            Axis::All => Shape::new(vec![self.units]),
            Axis::Last => input.with_features(self.units),
        };
        if output.units().is_none() {
            return Err(ShapeError::Overflow(format!("the size of {output}")));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let mut weights = self.fan_in_formula(&inputs[0]);
        if let Expression::Product(factors) = &mut weights {
            factors.push(Expression::Number(self.units));
        }
        // Tied weights belong to the layer they are tied to and are counted there.
        let mut groups = Vec::with_capacity(2);
        if self.tied_to.is_none() {
            groups.push(ParameterGroup {
                name: "weights",
                count: weights.simplified(),
                trainable: true,
                buffer: false,
            });
        }
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: Expression::Number(self.units),
                trainable: true,
                buffer: false,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        // Per position, each position's units are linked to its own features: L·units·D.
        let units = match self.axis(&inputs[0]) {
            Axis::All => Expression::Number(self.units),
            Axis::Last => Expression::product(
                inputs[0]
                    .positions()
                    .iter()
                    .chain([&self.units])
                    .map(|&n| Expression::Number(n))
                    .collect(),
            ),
        };
        let fan_in = self.fan_in_formula(&inputs[0]).simplified();
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

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        match inputs.first().map(|input| (self.axis(input), input)) {
            Some((Axis::Last, input)) => {
                let axes = input.positions().len();
                ReceptiveStep::Window(super::Window {
                    kernel: Axes::filled(axes, 1),
                    stride: Axes::filled(axes, 1),
                    dilation: Axes::filled(axes, 1),
                    padding_before: Axes::filled(axes, 0),
                })
            }
            _ => ReceptiveStep::Whole,
        }
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.connections(inputs, output).without_bias
    }

    /// Weights `[inputs, units]` (fan-in: the input units, or the features of a position;
    /// fan-out: the units, as Keras counts), then the bias `[units]` when there is one.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let fan_in = inputs
            .first()
            .and_then(|input| match self.axis(input) {
                Axis::All => input.units(),
                Axis::Last => input.features(),
            })
            .map_or(0, extent);
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

    /// With `tied_to`: the named layer's tensor must be `[units, inputs]`, these weights
    /// transposed (an embedding's `[vocabulary, features]`).
    fn tie(&self, inputs: &[Shape]) -> Option<Tie> {
        let tied = self.tied_to.as_ref()?;
        let fan_in = inputs.first().and_then(|input| match self.axis(input) {
            Axis::All => input.units(),
            Axis::Last => input.features(),
        })?;
        Some(Tie {
            layer: tied.clone(),
            shape: vec![self.units, fan_in],
        })
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
        let mut output = Tensor::for_overwrite(&self.output_shape(input, batch))?;
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
        let kept = activation::keep_input(self.activation, &output);
        let output = activation::apply(self.activation, output, pass.compute)?;
        Ok(Forward {
            output,
            saved: Box::new(kept),
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
        let kept = forward
            .saved
            .downcast_ref::<Option<Tensor>>()
            .and_then(Option::as_ref);
        let gradient = activation::gradient(
            self.activation,
            kept,
            &forward.output,
            output_gradient,
            compute,
        )?;
        // dX = dY·Wᵀ, with W stored [inputs, units].
        let mut input_gradients = Vec::with_capacity(1);
        if with_input_gradient {
            let mut input_gradient = Tensor::for_overwrite(input.shape())?;
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
            axis in proptest::sample::select(&["", " axis=all", " axis=last"][..]),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("dense {units} use_bias={use_bias} activation={function}{axis}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{
        check, check_details, check_error, check_error_on, check_gradients,
    };

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
    fn on_sequences_dense_reads_the_last_axis_as_keras_does() {
        // Keras: Dense(10) on an input of shape (28, 128) outputs (None, 28, 10) with
        // 128·10+10 = 1290 parameters (the kernel is (128, 10), shared by the 28 steps).
        check(
            "dense 10",
            &[&[28, 128]],
            "[28×10]",
            "128·10+10 = 1290",
            "28·10·128 = 35840",
            "28·10·(128+1) = 36120",
        );
        // The same on maps, when asked for: a 1×1 convolution in effect (Conv2D(8, 1) on 16
        // channels also has 16·8+8 = 136 parameters and 5·5·8·16 = 3200 connections).
        check(
            "dense 8 axis=last",
            &[&[5, 5, 16]],
            "[5×5×8]",
            "16·8+8 = 136",
            "5·5·8·16 = 3200",
            "5·5·8·(16+1) = 3400",
        );
        // Asked to read everything, a sequence is read as the sheet reads maps.
        check(
            "dense 10 axis=all",
            &[&[28, 128]],
            "10",
            "28·128·10+10 = 35850",
            "10·28·128 = 35840",
            "10·(28·128+1) = 35850",
        );
        // On a vector both readings are the same.
        check(
            "dense 10 axis=last",
            &[&[84]],
            "10",
            "84·10+10 = 850",
            "10·84 = 840",
            "10·(84+1) = 850",
        );
        check_details(
            "dense 10",
            &[&[28, 128]],
            "10 neurons",
            [1290, 0],
            "28·10·128 = 35840",
            "window 1 stride 1 dilation 1 before 0",
        );
        check_error_on(
            "dense 10",
            &[crate::shape::Shape::tokens(7, 100)],
            "expects real values (token ids go through an `embedding` first), got 7 tokens",
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
        // Per position: on sequences by default, on maps when asked for.
        check_gradients("dense 3", &[&[4, 5]], 2);
        check_gradients("dense 3 activation=softmax use_bias=false", &[&[4, 5]], 2);
        check_gradients("dense 2 axis=last activation=tanh", &[&[2, 3, 4]], 2);
        check_gradients("dense 2 axis=all", &[&[3, 4]], 2);
    }
}

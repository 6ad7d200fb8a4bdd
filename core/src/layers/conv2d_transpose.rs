//! `conv2d_transpose`: the transposed 2-D convolution (Keras `Conv2DTranspose`, PyTorch
//! `nn.ConvTranspose2d`), the gradient of a convolution with respect to its input used as a layer:
//! each input unit adds its value times a k×k×filters kernel into the output, at stride s.
//!
//! Output size per axis, PyTorch's formula (the `ConvTranspose2d` documentation):
//! (in − 1)·s − 2p + d·(k − 1) + output_padding + 1, with p = `padding` (an integer or HxW) and
//! `output_padding` < s. `padding=valid` (the default) is Keras' rule, p = 0 and, when no
//! `output_padding` is written, the output padding max(s − d·(k − 1) − 1, 0) that Keras'
//! `deconv_output_length` adds (in·s + max(k − s, 0) for d = 1). `padding=same` is Keras' other
//! rule: in·s without `output_padding`, else p = ⌊d·(k − 1) + 1)/2⌋ in the formula above. The
//! executor pads as TensorFlow does for it: the convolution it transposes gets max((in − 1)·s +
//! d·(k − 1) + 1 − out, 0) rows of padding, the odd one at the bottom (right).
//!
//! Parameters: kh·kw·C·filters weights (Keras' kernel `(kh, kw, filters, C)`, PyTorch's
//! `(C, filters, kh, kw)`) plus one bias per filter. Connections: every input unit is linked to
//! kh·kw·filters output units, h·w·C·kh·kw·filters links (the products a dense implementation
//! computes, as fvcore and thop count them; those that fall on cropped padding included), plus
//! one bias link per output unit; the MACs are the links without bias.
//!
//! Receptive field: with stride 1 the layer is a convolution with the same kernel and dilation
//! whose padding before is d·(k − 1) − p, an ordinary window. With a larger stride an output
//! unit's input window moves by a fraction of a unit per output step, so the units see windows of
//! different sizes, and the field is reported as varying (no one window).
//!
//! Execution reuses the convolution kernels with input and output exchanged: the forward pass is a
//! convolution's input gradient, the backward pass a convolution forward (for ∂x) and a
//! convolution's weight gradient with the roles of x and ∂y swapped.

use super::sizes::{extent, one, split_parameters};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, DimensionFormula, Explanation,
    Forward, Gradients, Inference, Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep,
    Role, ShapeError, Window, activation, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Axes, Rounding, Shape};
use crate::syntax::Value;
use crate::tensor::convolution::{
    Conv2dGeometry, bias_gradient, conv2d_backward_data, conv2d_backward_weights, conv2d_forward,
};
use crate::tensor::pointwise::Pointwise;
use crate::tensor::{Compute, Nhwc, Padding, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "conv2d_transpose",
    aliases: &["deconv2d", "conv_transpose"],
    positionals: &["filters", "kernel"],
    summary: "transposed 2-D convolution: filters, kernel, stride, padding (valid, same or p), output_padding, dilation, use_bias, activation",
    build,
};

#[derive(Debug)]
struct Transpose {
    filters: u64,
    kernel: [u64; 2],
    stride: [u64; 2],
    dilation: [u64; 2],
    /// PyTorch's p per axis (0 for `valid`).
    padding: [u64; 2],
    /// Keras' `padding=same` (then `padding` is unused).
    same: bool,
    /// As written; `None` takes Keras' implicit one.
    output_padding: Option<[u64; 2]>,
    use_bias: bool,
    activation: Option<Activation>,
}

/// An integer ≥ 0 or HxW.
fn non_negative_pair(
    reader: &mut AttributeReader,
    key: &'static str,
) -> Result<Option<[u64; 2]>, DeclarationError> {
    let Some(value) = reader.value(key) else {
        return Ok(None);
    };
    match &value.value {
        Value::Integer(n) if *n >= 0 => Ok(Some([*n as u64; 2])),
        Value::Dims(dims) if dims.len() == 2 => Ok(Some([dims[0], dims[1]])),
        Value::Text(word) if key == "padding" && word == "valid" => Ok(Some([0, 0])),
        _ if key == "padding" => {
            Err(reader.invalid(key, value, "must be `valid`, `same`, an integer ≥ 0 or HxW"))
        }
        _ => Err(reader.invalid(key, value, "must be an integer ≥ 0 or HxW")),
    }
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let filters = reader.required_count("filters")?;
    let kernel = reader
        .pair("kernel")?
        .ok_or_else(|| reader.missing("kernel"))?;
    let stride = reader.pair("stride")?.unwrap_or([1, 1]);
    let dilation = reader.pair("dilation")?.unwrap_or([1, 1]);
    let same = matches!(
        reader.value("padding").map(|value| &value.value),
        Some(Value::Text(word)) if word == "same"
    );
    let padding = if same {
        [0, 0]
    } else {
        non_negative_pair(reader, "padding")?.unwrap_or([0, 0])
    };
    let output_padding = non_negative_pair(reader, "output_padding")?;
    if let Some(extra) = output_padding
        && (0..2).any(|axis| extra[axis] >= stride[axis].max(dilation[axis]))
    {
        let value = reader.value("output_padding").expect("read above");
        return Err(reader.invalid(
            "output_padding",
            value,
            "must be smaller than the stride or the dilation",
        ));
    }
    Ok(Box::new(Transpose {
        filters,
        kernel,
        stride,
        dilation,
        padding,
        same,
        output_padding,
        use_bias: reader.boolean("use_bias")?.unwrap_or(true),
        activation: Activation::read(reader, "activation")?,
    }))
}

impl Transpose {
    fn effective(&self, axis: usize) -> u64 {
        self.dilation[axis]
            .saturating_mul(self.kernel[axis] - 1)
            .saturating_add(1)
    }

    fn extra(&self, axis: usize) -> u64 {
        match self.output_padding {
            Some(extra) => extra[axis],
            None if self.same => 0,
            None => self.stride[axis].saturating_sub(self.effective(axis)),
        }
    }

    /// p of the size formula: `padding`, or ⌊(d·(k−1)+1)/2⌋ for `same` with an output padding.
    fn formula_padding(&self, axis: usize) -> u64 {
        if self.same {
            self.effective(axis) / 2
        } else {
            self.padding[axis]
        }
    }

    /// The padding of the convolution this layer transposes, before and after, per axis: p on
    /// both sides, or TensorFlow's split for `same` (the odd row after).
    fn convolution_padding(&self, axis: usize, input: u64, output: u64) -> (u64, u64) {
        if !self.same {
            return (self.padding[axis], self.padding[axis]);
        }
        let total = ((input.saturating_sub(1)).saturating_mul(self.stride[axis]))
            .saturating_add(self.effective(axis))
            .saturating_sub(output);
        (total / 2, total - total / 2)
    }

    /// (in−1)·s + d·(k−1)+1 − 2p + output_padding, as a formula and its value.
    fn axis_output(
        &self,
        axis: usize,
        name: &'static str,
        input: u64,
    ) -> Result<DimensionFormula, ShapeError> {
        let n = Expression::Number;
        if self.same && self.output_padding.is_none() {
            // Keras' `same`: in·s.
            let expression = Expression::product(vec![n(input), n(self.stride[axis])]);
            let exact = expression
                .ratio()
                .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
            let value = exact
                .integer()
                .and_then(|value| u64::try_from(value).ok())
                .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
            return Ok(DimensionFormula {
                axis: name,
                expression,
                exact,
                value,
                rounded: None,
            });
        }
        let mut expression = Expression::sum(vec![
            Expression::product(vec![
                Expression::difference(n(input), n(1)),
                n(self.stride[axis]),
            ]),
            n(self.effective(axis)),
        ]);
        if self.formula_padding(axis) > 0 {
            expression = Expression::difference(
                expression,
                Expression::product(vec![n(2), n(self.formula_padding(axis))]),
            );
        }
        if self.extra(axis) > 0 {
            expression = Expression::sum(vec![expression, n(self.extra(axis))]);
        }
        let exact = expression
            .ratio()
            .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
        let value = exact
            .integer()
            .and_then(|value| u64::try_from(value).ok())
            .filter(|&value| value > 0)
            .ok_or_else(|| {
                ShapeError::Mismatch(format!(
                    "the padding leaves no output {name}: {expression} = {exact}"
                ))
            })?;
        Ok(DimensionFormula {
            axis: name,
            expression,
            exact,
            value,
            rounded: None,
        })
    }

    /// The convolution whose input gradient this layer computes: from the output `[N, H, W,
    /// filters]` to the input `[N, h, w, C]`.
    fn geometry(&self, input: Nhwc) -> Result<Conv2dGeometry, TensorError> {
        let sizes = [input.height as u64, input.width as u64];
        let mut outputs = [0usize; 2];
        for axis in 0..2 {
            let formula = self
                .axis_output(axis, ["height", "width"][axis], sizes[axis])
                .map_err(|error| TensorError::Geometry {
                    reason: error.to_string(),
                })?;
            outputs[axis] = extent(formula.value);
        }
        let output = Nhwc::new(input.batch, outputs[0], outputs[1], extent(self.filters));
        let (top, bottom) = self.convolution_padding(0, sizes[0], outputs[0] as u64);
        let (left, right) = self.convolution_padding(1, sizes[1], outputs[1] as u64);
        let [top, bottom, left, right] = [top, bottom, left, right].map(extent);
        let geometry = Conv2dGeometry::new(
            output,
            input.channels,
            (extent(self.kernel[0]), extent(self.kernel[1])),
        )
        .with_stride((extent(self.stride[0]), extent(self.stride[1])))
        .with_dilation((extent(self.dilation[0]), extent(self.dilation[1])))
        .with_padding(Padding::new(top, bottom, left, right));
        let back = geometry.output()?;
        if [back.height, back.width] != [input.height, input.width] {
            return Err(TensorError::Geometry {
                reason: "the transposed convolution does not invert to its input".to_string(),
            });
        }
        Ok(geometry)
    }
}

impl Layer for Transpose {
    fn caption(&self) -> super::Caption {
        // As conv2d's: kernel, filters, the stride when it is not 1, the activation.
        let mut text = format!("{}×{}, {}", self.kernel[0], self.kernel[1], self.filters);
        if self.stride != [1, 1] {
            if self.stride[0] == self.stride[1] {
                text.push_str(&format!(", /{}", self.stride[0]));
            } else {
                text.push_str(&format!(", /{}×{}", self.stride[0], self.stride[1]));
            }
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        super::Caption::text(text)
    }

    fn settings(&self) -> String {
        let pair = |values: [u64; 2]| {
            if values[0] == values[1] {
                values[0].to_string()
            } else {
                format!("{}x{}", values[0], values[1])
            }
        };
        let mut text = format!(
            "F={}, K={}, S={}, P={}",
            pair(self.kernel),
            self.filters,
            pair(self.stride),
            if self.same {
                "same".to_string()
            } else {
                pair(self.padding)
            }
        );
        if let Some(extra) = self.output_padding {
            text.push_str(&format!(", output_padding={}", pair(extra)));
        }
        if self.dilation != [1, 1] {
            text.push_str(&format!(", dilation={}", pair(self.dilation)));
        }
        if !self.use_bias {
            text.push_str(", no bias");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let formulas = vec![
            self.axis_output(0, "height", height)?,
            self.axis_output(1, "width", width)?,
        ];
        let output = Shape::new(vec![formulas[0].value, formulas[1].value, self.filters]);
        let links = self.links(&inputs[0], &output, true).count();
        if links.is_err() || output.units().is_none() || channels == 0 {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference { output, formulas })
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let n = Expression::Number;
        let channels = inputs[0].channels();
        let mut groups = vec![ParameterGroup {
            name: "weights",
            count: Expression::product(vec![
                n(self.kernel[0]),
                n(self.kernel[1]),
                n(channels),
                n(self.filters),
            ]),
            trainable: true,
            buffer: false,
        }];
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: n(self.filters),
                trainable: true,
                buffer: false,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections {
        Connections {
            without_bias: self.links(&inputs[0], output, false),
            with_bias: self.links(&inputs[0], output, true),
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        if self.stride != [1, 1] {
            return ReceptiveStep::Uneven;
        }
        // Output o gets input i through kernel tap j when o + before = i + j·d, so it reads
        // inputs o + before − d·(k−1) … o + before: a window with d·(k−1) − before padding.
        let sizes = inputs.first().and_then(Shape::maps).map(|(h, w, _)| [h, w]);
        let Some(sizes) = sizes else {
            return ReceptiveStep::Uneven;
        };
        let mut padding = [0u64; 2];
        for axis in 0..2 {
            let output = match self.axis_output(axis, "size", sizes[axis]) {
                Ok(formula) => formula.value,
                Err(_) => return ReceptiveStep::Uneven,
            };
            let (before, _) = self.convolution_padding(axis, sizes[axis], output);
            match (self.effective(axis) - 1).checked_sub(before) {
                Some(pad) => padding[axis] = pad,
                None => return ReceptiveStep::Uneven,
            }
        }
        ReceptiveStep::Window(Window {
            kernel: Axes::from(self.kernel),
            stride: Axes::from([1, 1]),
            dilation: Axes::from(self.dilation),
            padding_before: Axes::from(padding),
        })
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.links(&inputs[0], output, false)
    }

    /// `weights` `[kh, kw, filters, C]` (Keras' layout: HWIO of the convolution it transposes),
    /// then `bias` `[filters]`.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let channels = extent(inputs.first().map_or(0, Shape::channels));
        let filters = extent(self.filters);
        let [kh, kw] = self.kernel.map(extent);
        let count = kh
            .saturating_mul(kw)
            .saturating_mul(channels)
            .saturating_mul(filters);
        let mut specs = vec![ParameterSpec {
            name: "weights",
            shape: vec![kh, kw, filters, channels],
            trainable: true,
            active: count,
            role: Role::Weights {
                fan_in: kh.saturating_mul(kw).saturating_mul(channels),
                fan_out: kh.saturating_mul(kw).saturating_mul(filters),
            },
            mask: None,
        }];
        if self.use_bias {
            specs.push(ParameterSpec::bias(filters));
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
        let geometry = self.geometry(input.nhwc()?)?;
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
        let mut output = Tensor::zeros(&geometry.input.shape())?;
        conv2d_backward_data(
            &geometry,
            input.data(),
            weights.data(),
            output.data_mut(),
            pass.compute,
        )?;
        if let Some(bias) = bias {
            for pixel in output
                .data_mut()
                .chunks_exact_mut(extent(self.filters).max(1))
            {
                for (value, b) in pixel.iter_mut().zip(bias.data()) {
                    *value += b;
                }
            }
        }
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
        let input = one(inputs)?;
        let geometry = self.geometry(input.nhwc()?)?;
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
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
        let mut input_gradient = Tensor::zeros(input.shape())?;
        conv2d_forward(
            &geometry,
            gradient.data(),
            weights.data(),
            None,
            Pointwise::Identity,
            input_gradient.data_mut(),
            compute,
        )?;
        let mut weight_gradient = Tensor::zeros(weights.shape())?;
        conv2d_backward_weights(
            &geometry,
            gradient.data(),
            input.data(),
            weight_gradient.data_mut(),
            compute,
        )?;
        let mut parameter_gradients = vec![weight_gradient];
        if let Some(bias) = bias {
            let mut gradient_of_bias = Tensor::zeros(bias.shape())?;
            bias_gradient(
                gradient.data(),
                extent(self.filters),
                gradient_of_bias.data_mut(),
                compute,
            )?;
            parameter_gradients.push(gradient_of_bias);
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: parameter_gradients,
        })
    }

    fn explanation(&self, inputs: &[Shape], output: &Shape) -> Option<Explanation> {
        let (height, width, channels) = inputs.first()?.maps()?;
        let (out_height, out_width, _) = output.maps()?;
        let [kh, kw] = self.kernel;
        let bias = if self.use_bias { " and one bias" } else { "" };
        let without = format!(
            "each of the {height}·{width}·{channels} input units adds into {kh}·{kw}·{} output \
             units",
            self.filters
        );
        let with = if self.use_bias {
            format!(
                "{without}, and each of the {out_height}·{out_width}·{} output units has a bias",
                self.filters
            )
        } else {
            without.clone()
        };
        Some(Explanation {
            parameters: format!(
                "{} filters, each with {kh}·{kw}·{channels} weights{bias}",
                self.filters
            ),
            units: String::new(),
            links: None,
            macs: None,
            connections: Some([without, with]),
            size_rule: Some(match (self.same, self.output_padding) {
                (true, None) => "N·S (padding same)".to_string(),
                (true, Some(_)) => {
                    "(N-1)·S+D·(F-1)+1-2P+output_padding, P = ⌊(D·(F-1)+1)/2⌋ (padding same)"
                        .to_string()
                }
                (false, _) => "(N-1)·S+D·(F-1)+1-2P+output_padding".to_string(),
            }),
        })
    }
}

impl Transpose {
    /// h·w·C·kh·kw·filters (+ H·W·filters bias links).
    fn links(&self, input: &Shape, output: &Shape, with_bias: bool) -> Expression {
        let n = Expression::Number;
        let (height, width, channels) = input.maps().unwrap_or((0, 0, 0));
        let products = Expression::product(vec![
            n(height),
            n(width),
            n(channels),
            n(self.kernel[0]),
            n(self.kernel[1]),
            n(self.filters),
        ]);
        match (with_bias && self.use_bias, output.maps()) {
            (true, Some((out_height, out_width, _))) => Expression::sum(vec![
                products,
                Expression::product(vec![n(out_height), n(out_width), n(self.filters)]),
            ]),
            _ => products,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients_with, run_forward,
    };
    use crate::tensor::Tensor;

    #[test]
    fn sizes_and_counts_match_keras_and_pytorch() {
        // PyTorch: ConvTranspose2d(32, 64, 3, stride=2, padding=1, output_padding=1) on 7×7 gives
        // (7-1)·2 - 2 + 3 + 1 = 14; weight (32, 64, 3, 3) and bias 64: 18,496 parameters.
        check(
            "conv2d_transpose 64 3 stride=2 padding=1 output_padding=1",
            &[&[7, 7, 32]],
            "[14×14×64]",
            "3·3·32·64+64 = 18496",
            "7·7·32·3·3·64 = 903168",
            "7·7·32·3·3·64+14·14·64 = 915712",
        );
        // Keras: Conv2DTranspose(16, 3, strides=2) (valid) on (7, 7, 8): 7·2 + max(3-2, 0) = 15,
        // kernel (3, 3, 16, 8) and bias 16: 1,168 parameters.
        check(
            "conv2d_transpose 16 3 stride=2",
            &[&[7, 7, 8]],
            "[15×15×16]",
            "3·3·8·16+16 = 1168",
            "7·7·8·3·3·16 = 56448",
            "7·7·8·3·3·16+15·15·16 = 60048",
        );
        // Keras: Conv2DTranspose(4, 2, strides=3) on (5, 5, 1): 5·3 + max(2-3, 0) = 15, the
        // implicit output padding 3-2 = 1 written out.
        check_details(
            "conv2d_transpose 4 2 stride=3 use_bias=false",
            &[&[5, 5, 1]],
            "F=2, K=4, S=3, P=0, no bias",
            [16, 0],
            "5·5·1·2·2·4 = 400",
            "uneven",
        );
        // Stride 1: a convolution with the same kernel and d·(k−1) − p padding before. Output
        // unit o of `conv2d_transpose 4 3 padding=1` reads inputs o−1 … o+1, as a 3×3 conv with
        // padding 1; with dilation 2 and no padding, inputs o−4, o−2, o.
        check_details(
            "conv2d_transpose 4 3 padding=1 use_bias=false",
            &[&[5, 5, 1]],
            "F=3, K=4, S=1, P=1, no bias",
            [36, 0],
            "5·5·1·3·3·4 = 900",
            "window 3x3 stride 1x1 dilation 1x1 before 1x1",
        );
        check_details(
            "conv2d_transpose 4 3 dilation=2 use_bias=false",
            &[&[5, 5, 1]],
            "F=3, K=4, S=1, P=0, dilation=2, no bias",
            [36, 0],
            "5·5·1·3·3·4 = 900",
            "window 3x3 stride 1x1 dilation 2x2 before 4x4",
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        check_error(
            "conv2d_transpose 4 3 stride=2 output_padding=2",
            &[&[4, 4, 1]],
            "`output_padding` must be smaller than the stride or the dilation, got 2",
        );
        check_error(
            "conv2d_transpose 4 3 padding=2",
            &[&[1, 1, 1]],
            "the padding leaves no output height: (1-1)·1+3-2·2 = -1",
        );
        check_error(
            "conv2d_transpose 4 3",
            &[&[4, 4]],
            "expects feature maps H×W×C, got [4×4]",
        );
    }

    #[test]
    fn same_padding_follows_keras() {
        // Keras 3.15: Conv2DTranspose(8, 3, strides=2, padding="same") on (7, 7, 4) gives
        // (14, 14, 8) with 296 parameters; with kernel 4, strides 3 and output_padding 2 on
        // (5, 5, 4), (14, 14, 8): (5-1)·3 + 4 - 2·⌊4/2⌋ + 2.
        check(
            "conv2d_transpose 8 3 stride=2 padding=same",
            &[&[7, 7, 4]],
            "[14×14×8]",
            "3·3·4·8+8 = 296",
            "7·7·4·3·3·8 = 14112",
            "7·7·4·3·3·8+14·14·8 = 15680",
        );
        let mut decl = crate::layers::testing::declaration(
            "conv2d_transpose 8 4 stride=3 padding=same output_padding=2",
        );
        crate::layers::name_positionals(&mut decl).unwrap();
        let layer = crate::layers::build(&decl).unwrap();
        let inference = layer
            .infer(
                &[crate::shape::Shape::new(vec![5, 5, 4])],
                crate::shape::Rounding::Exact,
            )
            .unwrap();
        assert_eq!(inference.output.to_string(), "[14×14×8]");
        for formula in &inference.formulas {
            assert_eq!(
                format!("{} = {}", formula.expression, formula.value),
                "(5-1)·3+4-2·2+2 = 14"
            );
        }
        check_error(
            "conv2d_transpose 8 3 padding=full",
            &[&[7, 7, 4]],
            "`padding` must be `valid`, `same`, an integer ≥ 0 or HxW, got `full`",
        );
    }

    /// Keras 3.15 on TensorFlow 2.21: Conv2DTranspose(1, 3, strides=2, padding="same",
    /// use_bias=False) with the kernel 1…9 (row by row) maps the 2×2 input [1, 10, 100, 1000] to
    /// this 4×4 output, with or without output_padding=1: the padding of the transposed
    /// convolution, one row and one column, falls at the bottom and the right.
    #[test]
    fn same_padding_crops_as_tensorflow() {
        let input = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0, 10.0, 100.0, 1000.0]).unwrap();
        #[rustfmt::skip]
        let expected = [
            1.0, 2.0, 13.0, 20.0,
            4.0, 5.0, 46.0, 50.0,
            107.0, 208.0, 1379.0, 2080.0,
            400.0, 500.0, 4600.0, 5000.0,
        ];
        for line in [
            "conv2d_transpose 1 3 stride=2 padding=same use_bias=false",
            "conv2d_transpose 1 3 stride=2 padding=same output_padding=1 use_bias=false",
        ] {
            let kernel = (1..=9).map(|v| v as f32).collect();
            let mut parameters = vec![Tensor::from_vec(&[3, 3, 1, 1], kernel).unwrap()];
            let output = run_forward(line, &mut parameters, &[&input], false).output;
            assert_eq!(output.shape(), &[1, 4, 4, 1], "{line}");
            assert_eq!(output.data(), &expected, "{line}");
        }
    }

    /// One input unit scatters its kernel: a 2×2 input with stride 2 and a 2×2 kernel of one
    /// channel tiles four copies of the kernel, each scaled by its input value.
    #[test]
    fn each_input_unit_adds_a_scaled_kernel() {
        let input = Tensor::from_vec(&[1, 2, 2, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let mut parameters =
            vec![Tensor::from_vec(&[2, 2, 1, 1], vec![1.0, 10.0, 100.0, 1000.0]).unwrap()];
        let output = run_forward(
            "conv2d_transpose 1 2 stride=2 use_bias=false",
            &mut parameters,
            &[&input],
            false,
        )
        .output;
        assert_eq!(output.shape(), &[1, 4, 4, 1]);
        #[rustfmt::skip]
        let expected = [
            1.0, 10.0, 2.0, 20.0,
            100.0, 1000.0, 200.0, 2000.0,
            3.0, 30.0, 4.0, 40.0,
            300.0, 3000.0, 400.0, 4000.0,
        ];
        assert_eq!(output.data(), &expected);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small maps and settings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            maps in crate::layers::testing::small_maps(),
            filters in 1u64..3,
            kernel in 1u64..4,
            stride in 1u64..3,
            padding in 0u64..2,
            dilation in 1u64..3,
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            // Padding at most (d·(k−1))/2, so that every output size stays positive.
            let padding = padding.min(dilation * (kernel - 1) / 2);
            // One case in three uses Keras' `same` instead, whose padding may be uneven.
            let padding = if seed % 3 == 0 { "same".to_string() } else { padding.to_string() };
            let line = format!(
                "conv2d_transpose {filters} {kernel} stride={stride} padding={padding} dilation={dilation} use_bias={use_bias}"
            );
            let shape = [maps[0] + 1, maps[1] + 1, maps[2]];
            check_gradients_with(&line, &[&shape], 2, Values { seed, distinct: false });
        }
    }
}

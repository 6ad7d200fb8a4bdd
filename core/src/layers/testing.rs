//! Test helpers for layer files: build a layer from one DSL-like line and check what it computes.

use crate::expression::Expression;
use crate::layers;
use crate::shape::{Rounding, Shape};
use crate::source::Spanned;
use crate::syntax::{Attribute, LayerDecl, Value};

/// A declaration from `kind value… key=value…` (values classified as the readers do; a list is
/// written without spaces, `[-1,16]`).
pub fn declaration(line: &str) -> LayerDecl {
    let mut words = line.split_whitespace();
    let mut decl = LayerDecl::new(words.next().expect("a kind"));
    let value = |text: &str| match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(items) => Value::List(items.split(',').map(Value::from_text).collect()),
        None => Value::from_text(text),
    };
    for word in words {
        match word.split_once('=') {
            // Rows of a connection table are separated by `/` here.
            Some((key, text)) if text.contains('/') => decl.attributes.push(Attribute::new(
                key,
                Value::from_text(&format!("{}\n", text.replace('/', "\n"))),
            )),
            Some((key, text)) => decl.attributes.push(Attribute::new(key, value(text))),
            None => decl.positionals.push(Spanned::unspanned(value(word))),
        }
    }
    decl
}

fn shapes(inputs: &[&[u64]]) -> Vec<Shape> {
    inputs
        .iter()
        .map(|dims| Shape::new(dims.to_vec()))
        .collect()
}

fn total(expressions: impl IntoIterator<Item = Expression>) -> u64 {
    expressions
        .into_iter()
        .map(|e| e.count().expect("count fits"))
        .sum()
}

/// Builds the layer of `line` on `inputs` and checks the output shape, the parameter formula
/// (groups joined by `+`), and the connections without and with bias, as printed.
pub fn check(
    line: &str,
    inputs: &[&[u64]],
    output: &str,
    parameters: &str,
    without_bias: &str,
    with_bias: &str,
) {
    check_on(
        line,
        &shapes(inputs),
        output,
        parameters,
        without_bias,
        with_bias,
    );
}

/// [`check`] on input shapes of any element type (token ids).
pub fn check_on(
    line: &str,
    inputs: &[Shape],
    output: &str,
    parameters: &str,
    without_bias: &str,
    with_bias: &str,
) {
    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    let inputs = inputs.to_vec();
    let inference = layer.infer(&inputs, Rounding::Exact).expect("shape");
    assert_eq!(inference.output.to_string(), output, "output of `{line}`");
    // Buffers are not parameters: they are left out here as in the analysis's totals.
    let groups: Vec<_> = layer
        .parameters(&inputs, &inference.output)
        .into_iter()
        .filter(|group| !group.buffer)
        .collect();
    let formula = groups
        .iter()
        .map(|g| g.count.to_string())
        .collect::<Vec<_>>()
        .join("+");
    let count = total(groups.iter().map(|g| g.count.clone()));
    let printed = if groups.is_empty() {
        "0".to_string()
    } else {
        format!("{formula} = {count}")
    };
    assert_eq!(printed, parameters, "parameters of `{line}`");
    let connections = layer.connections(&inputs, &inference.output);
    let show = |e: &Expression| {
        let count = e.count().expect("fits");
        if matches!(e, Expression::Number(_)) {
            count.to_string()
        } else {
            format!("{e} = {count}")
        }
    };
    assert_eq!(
        show(&connections.without_bias),
        without_bias,
        "connections of `{line}`"
    );
    assert_eq!(
        show(&connections.with_bias),
        with_bias,
        "connections with bias of `{line}`"
    );
}

/// Checks that building `line` or inferring its shape on `inputs` fails with `message`.
pub fn check_error(line: &str, inputs: &[&[u64]], message: &str) {
    check_error_on(line, &shapes(inputs), message);
}

/// [`check_error`] on input shapes of any element type (token ids).
pub fn check_error_on(line: &str, inputs: &[Shape], message: &str) {
    let mut decl = declaration(line);
    let result = layers::name_positionals(&mut decl)
        .map_err(|e| e.to_string())
        .and_then(|()| layers::build(&decl).map_err(|e| e.to_string()))
        .and_then(|layer| {
            layer
                .infer(inputs, Rounding::Exact)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(inference) => panic!("`{line}` gave {} instead of an error", inference.output),
        Err(error) => assert_eq!(error, message, "error of `{line}`"),
    }
}

/// Builds the layer of `line` on `inputs` and checks what `check` does not: the settings text,
/// the trainable and non-trainable parameter totals, the MACs (printed like connections) and the
/// receptive step (`pointwise`, `whole`, `uneven`, or `window 3x3 stride 2x2 dilation 1x1 before 0x0`).
pub fn check_details(
    line: &str,
    inputs: &[&[u64]],
    settings: &str,
    trainable_and_fixed: [u64; 2],
    macs: &str,
    step: &str,
) {
    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    let inputs = shapes(inputs);
    let output = layer.infer(&inputs, Rounding::Exact).expect("shape").output;
    assert_eq!(layer.settings(), settings, "settings of `{line}`");
    let groups = layer.parameters(&inputs, &output);
    let split = [true, false].map(|trainable| {
        total(
            groups
                .iter()
                .filter(|g| g.trainable == trainable && !g.buffer)
                .map(|g| g.count.clone()),
        )
    });
    assert_eq!(
        split, trainable_and_fixed,
        "trainable and fixed of `{line}`"
    );
    let macs_expression = layer.macs(&inputs, &output);
    let count = macs_expression.count().expect("fits");
    let printed = if matches!(macs_expression, Expression::Number(_)) {
        count.to_string()
    } else {
        format!("{macs_expression} = {count}")
    };
    assert_eq!(printed, macs, "MACs of `{line}`");
    let pair =
        |p: crate::shape::Axes<u64>| p.iter().map(u64::to_string).collect::<Vec<_>>().join("x");
    let described = match layer.receptive_step(&inputs) {
        layers::ReceptiveStep::Pointwise => "pointwise".to_string(),
        layers::ReceptiveStep::Whole => "whole".to_string(),
        layers::ReceptiveStep::Uneven => "uneven".to_string(),
        layers::ReceptiveStep::Window(window) => format!(
            "window {} stride {} dilation {} before {}",
            pair(window.kernel),
            pair(window.stride),
            pair(window.dilation),
            pair(window.padding_before)
        ),
    };
    assert_eq!(described, step, "receptive step of `{line}`");
}

/// Builds the layer of `line` and infers its output on `inputs` under the network's `rounding`.
pub fn output_under(line: &str, inputs: &[&[u64]], rounding: Rounding) -> Result<String, String> {
    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    layer
        .infer(&shapes(inputs), rounding)
        .map(|inference| inference.output.to_string())
        .map_err(|error| error.to_string())
}

/// Builds the layer of `line` and runs its forward pass on `inputs` with `parameters` (updated in
/// place, as the executor's are), single-threaded, in training or inference mode.
pub fn run_forward(
    line: &str,
    parameters: &mut [crate::tensor::Tensor],
    inputs: &[&crate::tensor::Tensor],
    training: bool,
) -> crate::layers::Forward {
    use rand_chacha::rand_core::SeedableRng;
    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut pass = crate::layers::Pass {
        compute: crate::tensor::Compute::single(),
        training,
        random: &mut random,
    };
    layer
        .forward(parameters, inputs, &mut pass)
        .expect("forward")
}

/// A value in [-1, 1) from a seeded generator (tests only).
fn uniform(random: &mut rand_chacha::ChaCha8Rng) -> f32 {
    use rand_chacha::rand_core::Rng;
    (random.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
}

/// Checks a layer's passes on a random batch against its own analysis and against central finite
/// differences: the output has the inferred shape; the parameter specs' active entries add up to
/// the analysis's parameter count; ∂L/∂input and ∂L/∂parameter from `backward` agree with
/// (L(x+ε) − L(x−ε)) / 2ε for L = Σ r ⊙ output with random r; non-trainable parameters get zero
/// gradients. Dropout sees the same mask in every evaluation (the generator is reseeded).
pub fn check_gradients(line: &str, inputs: &[&[u64]], batch: usize) {
    check_gradients_with(line, inputs, batch, Values::default());
}

/// How `check_gradients_with` draws its random values.
#[derive(Clone, Copy, Debug)]
pub struct Values {
    /// Seeds the inputs, parameters and output weights.
    pub seed: u64,
    /// Draws each input tensor as a shuffle of evenly spaced values that keep a sixth of their
    /// spacing away from 0, and probes with ε an eighth of the spacing, so no probe crosses a tie
    /// of a maximum or the kink of relu.
    pub distinct: bool,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            seed: 7,
            distinct: false,
        }
    }
}

/// A shuffle of `length` values −1 + (k + ⅓)·2/length, k = 0…length−1: distinct, and none
/// nearer 0 than a sixth of the spacing.
fn spaced(length: usize, random: &mut rand_chacha::ChaCha8Rng) -> Vec<f32> {
    use rand_chacha::rand_core::Rng;
    let spacing = 2.0 / length as f32;
    let mut values: Vec<f32> = (0..length)
        .map(|k| -1.0 + (k as f32 + 1.0 / 3.0) * spacing)
        .collect();
    // Fisher–Yates with the seeded generator.
    for last in (1..length).rev() {
        let pick = (random.next_u64() % (last as u64 + 1)) as usize;
        values.swap(last, pick);
    }
    values
}

/// `check_gradients` with the random values chosen by `values`.
pub fn check_gradients_with(line: &str, inputs: &[&[u64]], batch: usize, values: Values) {
    check_gradients_on(line, &shapes(inputs), batch, values);
}

/// [`check_gradients_with`] on input shapes of any element type. Token ids are drawn below their
/// vocabulary and not probed (their gradient must be zero: ids are not differentiable).
pub fn check_gradients_on(line: &str, inputs: &[Shape], batch: usize, values: Values) {
    use crate::layers::Pass;
    use crate::tensor::{Compute, Tensor};
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    let shapes = inputs.to_vec();
    let inference = layer.infer(&shapes, Rounding::Floor).expect("shape");
    let groups = layer.parameters(&shapes, &inference.output);
    let specs = layer.parameter_specs(&shapes);
    for spec in &specs {
        if let Some(mask) = &spec.mask {
            assert_eq!(
                mask.len(),
                spec.shape.iter().product::<usize>(),
                "mask of {}",
                spec.name
            );
            assert_eq!(
                mask.iter().filter(|&&used| used).count(),
                spec.active,
                "{}",
                spec.name
            );
        }
    }
    assert_eq!(
        specs.iter().map(|s| s.active as u64).sum::<u64>(),
        total(groups.iter().map(|g| g.count.clone())),
        "parameter specs of `{line}` against its analysis"
    );
    let mut random = ChaCha8Rng::seed_from_u64(values.seed);
    let batched = |shape: &Shape| -> Vec<usize> {
        std::iter::once(batch)
            .chain(shape.dims().iter().map(|&d| d as usize))
            .collect()
    };
    let input_tensors: Vec<Tensor> = shapes
        .iter()
        .map(|shape| {
            let dims = batched(shape);
            let length = dims.iter().product::<usize>();
            let data = if let Some(vocabulary) = shape.vocabulary() {
                (0..length)
                    .map(|_| (random.next_u64() % vocabulary) as f32)
                    .collect()
            } else if values.distinct {
                spaced(length, &mut random)
            } else {
                (0..length).map(|_| uniform(&mut random)).collect()
            };
            Tensor::from_vec(&dims, data).expect("input")
        })
        .collect();
    let parameters: Vec<Tensor> = specs
        .iter()
        .map(|spec| {
            let data = (0..spec.shape.iter().product::<usize>())
                .map(|_| match spec.role {
                    // Keep variances and similar constants positive.
                    crate::layers::Role::Constant(c) if c > 0.0 => {
                        c + 0.5 * uniform(&mut random).abs()
                    }
                    _ => uniform(&mut random),
                })
                .collect();
            Tensor::from_vec(&spec.shape, data).expect("parameter")
        })
        .collect();
    let output_dims = batched(&inference.output);
    let weights: Vec<f32> = (0..output_dims.iter().product::<usize>())
        .map(|_| uniform(&mut random))
        .collect();
    let compute = Compute::single();
    let run = |parameters: &[Tensor], inputs: &[Tensor]| {
        let mut parameters = parameters.to_vec();
        let mut generator = ChaCha8Rng::seed_from_u64(11);
        let mut pass = Pass {
            compute,
            training: true,
            random: &mut generator,
        };
        let references: Vec<&Tensor> = inputs.iter().collect();
        layer
            .forward(&mut parameters, &references, &mut pass)
            .expect("forward")
    };
    let loss = |forward: &crate::layers::Forward| -> f64 {
        forward
            .output
            .data()
            .iter()
            .zip(&weights)
            .map(|(&y, &r)| f64::from(y) * f64::from(r))
            .sum()
    };
    let forward = run(&parameters, &input_tensors);
    assert_eq!(
        forward.output.shape(),
        output_dims.as_slice(),
        "output of `{line}`"
    );
    let output_gradient = Tensor::from_vec(&output_dims, weights.clone()).expect("gradient");
    let references: Vec<&Tensor> = input_tensors.iter().collect();
    let gradients = layer
        .backward(
            &parameters,
            &references,
            &forward,
            &output_gradient,
            compute,
        )
        .expect("backward");
    assert_eq!(gradients.inputs.len(), input_tensors.len());
    assert_eq!(gradients.parameters.len(), parameters.len());
    // The shortcut for layers reading the network's input: the same parameter gradients, bit
    // for bit, and either no input gradients or the same ones.
    let shortcut = layer
        .backward_parameters(
            &parameters,
            &references,
            &forward,
            &output_gradient,
            compute,
        )
        .expect("backward without input gradients");
    assert_eq!(
        shortcut.parameters, gradients.parameters,
        "`{line}`: parameter gradients"
    );
    assert!(
        shortcut.inputs.is_empty() || shortcut.inputs == gradients.inputs,
        "`{line}`: input gradients of the shortcut"
    );
    let epsilon = if values.distinct {
        let longest = input_tensors.iter().map(Tensor::len).max().unwrap_or(1);
        // An eighth of the spacing 2/length.
        (0.25 / longest as f32).min(1e-2)
    } else {
        1e-2f32
    };
    let close = |analytic: f32, numeric: f64, what: &str| {
        let error = (f64::from(analytic) - numeric).abs();
        assert!(
            error <= 1e-2 + 2e-2 * numeric.abs(),
            "`{line}`: {what}: backward gives {analytic}, finite differences {numeric}"
        );
    };
    // Probe up to 48 entries of each tensor, spread over it.
    let probes = |len: usize| {
        (0..len)
            .step_by(len.div_ceil(48).max(1))
            .collect::<Vec<_>>()
    };
    for (which, input) in input_tensors.iter().enumerate() {
        if shapes[which].vocabulary().is_some() {
            assert!(
                gradients.inputs[which].data().iter().all(|&g| g == 0.0),
                "`{line}`: token ids get no gradient"
            );
            continue;
        }
        for index in probes(input.len()) {
            let mut plus = input_tensors.clone();
            plus[which].data_mut()[index] += epsilon;
            let mut minus = input_tensors.clone();
            minus[which].data_mut()[index] -= epsilon;
            let numeric = (loss(&run(&parameters, &plus)) - loss(&run(&parameters, &minus)))
                / (2.0 * f64::from(epsilon));
            close(
                gradients.inputs[which].data()[index],
                numeric,
                &format!("input {which}[{index}]"),
            );
        }
    }
    for (which, spec) in specs.iter().enumerate() {
        let gradient = &gradients.parameters[which];
        assert_eq!(
            gradient.shape(),
            spec.shape.as_slice(),
            "gradient of {}",
            spec.name
        );
        if !spec.trainable {
            assert!(
                gradient.data().iter().all(|&g| g == 0.0),
                "{} is not trainable",
                spec.name
            );
            continue;
        }
        for index in probes(gradient.len()) {
            let mut plus = parameters.clone();
            plus[which].data_mut()[index] += epsilon;
            let mut minus = parameters.clone();
            minus[which].data_mut()[index] -= epsilon;
            let numeric = (loss(&run(&plus, &input_tensors)) - loss(&run(&minus, &input_tensors)))
                / (2.0 * f64::from(epsilon));
            close(
                gradient.data()[index],
                numeric,
                &format!("{}[{index}]", spec.name),
            );
        }
    }
}

/// Random small window-layer cases for the gradient checks: (height, width, channels, kernel,
/// stride, padding) that fit, for proptest.
pub fn window_cases() -> impl proptest::strategy::Strategy<Value = (u64, u64, u64, u64, u64, u64)> {
    use proptest::prelude::*;
    (1u64..4, 1u64..3, 0u64..2, 1u64..4).prop_flat_map(|(kernel, stride, padding, channels)| {
        let smallest = kernel.saturating_sub(2 * padding).max(1);
        (smallest..smallest + 5, smallest..smallest + 5)
            .prop_map(move |(height, width)| (height, width, channels, kernel, stride, padding))
    })
}

/// Random small example shapes for the gradient checks: a length (1–8), an L×D sequence or
/// H×W×C maps.
pub fn small_shapes() -> impl proptest::strategy::Strategy<Value = Vec<u64>> {
    use proptest::prelude::*;
    prop_oneof![
        (1u64..9).prop_map(|length| vec![length]),
        small_sequences(),
        small_maps()
    ]
}

/// Random small L×D sequences (1–5 steps of 1–4 features) for the gradient checks.
pub fn small_sequences() -> impl proptest::strategy::Strategy<Value = Vec<u64>> {
    use proptest::prelude::*;
    (1u64..6, 1u64..5).prop_map(|(steps, features)| vec![steps, features])
}

/// Random small H×W×C maps (1–4 rows and columns, 1–3 channels) for the gradient checks.
pub fn small_maps() -> impl proptest::strategy::Strategy<Value = Vec<u64>> {
    use proptest::prelude::*;
    (1u64..5, 1u64..5, 1u64..4).prop_map(|(height, width, channels)| vec![height, width, channels])
}

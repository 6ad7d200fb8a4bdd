//! Test helpers for layer files: build a layer from one DSL-like line and check what it computes.

use crate::expression::Expression;
use crate::layers;
use crate::shape::{Rounding, Shape};
use crate::source::Spanned;
use crate::syntax::{Attribute, LayerDecl, Value};

/// A declaration from `kind value… key=value…` (values classified as the readers do).
pub fn declaration(line: &str) -> LayerDecl {
    let mut words = line.split_whitespace();
    let mut decl = LayerDecl::new(words.next().expect("a kind"));
    for word in words {
        match word.split_once('=') {
            // Rows of a connection table are separated by `/` here.
            Some((key, value)) if value.contains('/') => decl.attributes.push(Attribute::new(
                key,
                Value::from_text(&format!("{}\n", value.replace('/', "\n"))),
            )),
            Some((key, value)) => decl
                .attributes
                .push(Attribute::new(key, Value::from_text(value))),
            None => decl
                .positionals
                .push(Spanned::unspanned(Value::from_text(word))),
        }
    }
    decl
}

fn shapes(inputs: &[&[u64]]) -> Vec<Shape> {
    inputs.iter().map(|dims| Shape(dims.to_vec())).collect()
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
    let mut decl = declaration(line);
    layers::name_positionals(&mut decl).expect("positionals");
    let layer = layers::build(&decl).expect("layer builds");
    let inputs = shapes(inputs);
    let inference = layer.infer(&inputs, Rounding::Exact).expect("shape");
    assert_eq!(inference.output.to_string(), output, "output of `{line}`");
    let groups = layer.parameters(&inputs, &inference.output);
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
    let mut decl = declaration(line);
    let result = layers::name_positionals(&mut decl)
        .map_err(|e| e.to_string())
        .and_then(|()| layers::build(&decl).map_err(|e| e.to_string()))
        .and_then(|layer| {
            layer
                .infer(&shapes(inputs), Rounding::Exact)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(inference) => panic!("`{line}` gave {} instead of an error", inference.output),
        Err(error) => assert_eq!(error, message, "error of `{line}`"),
    }
}

/// Builds the layer of `line` on `inputs` and checks what `check` does not: the settings text,
/// the trainable and non-trainable parameter totals, the MACs (printed like connections) and the
/// receptive step (`pointwise`, `whole`, or `window 3x3 stride 2x2 dilation 1x1 before 0x0`).
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
                .filter(|g| g.trainable == trainable)
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
    let pair = |p: [u64; 2]| format!("{}x{}", p[0], p[1]);
    let described = match layer.receptive_step(&inputs) {
        layers::ReceptiveStep::Pointwise => "pointwise".to_string(),
        layers::ReceptiveStep::Whole => "whole".to_string(),
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

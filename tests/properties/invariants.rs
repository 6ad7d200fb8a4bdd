//! Analysis invariants on random well-formed sequential networks (an input H×W×C, then conv2d,
//! pooling, dense, flatten, dropout, activation and batchnorm layers small enough to fit), each
//! checked against a naive computation written here from the layer's attributes alone: output
//! shapes, parameter counts, connection order (with bias ≥ without), totals as sums over layers,
//! and receptive fields that never shrink along the chain.

use crate::pipeline::config;
use netcalc::analysis::{LayerInfo, ReceptiveField};
use netcalc::shape::Shape;
use netcalc::source::{Source, Spanned};
use netcalc::syntax::{Attribute, Description, Item, LayerDecl, Value};
use netcalc::{Network, analyse};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// How a window layer pads, as written.
#[derive(Debug, Clone, Copy)]
enum Padding {
    Valid,
    Same,
    /// The same number of units on each side.
    Explicit(u64),
}

/// A window: kernel (or pool size), stride, dilation, padding, per axis where it matters.
#[derive(Debug, Clone, Copy)]
struct Window {
    kernel: [u64; 2],
    stride: [u64; 2],
    dilation: [u64; 2],
    padding: Padding,
}

/// A layer to try; layers that do not fit the shape before them are left out.
#[derive(Debug, Clone)]
enum Plan {
    Conv {
        filters_per_group: u64,
        window: Window,
        depthwise: bool,
        use_bias: bool,
    },
    MaxPool(Window),
    AvgPool(Window),
    Dense {
        units: u64,
        use_bias: bool,
    },
    Flatten,
    Dropout(f64),
    Activation(&'static str),
    BatchNorm,
}

fn pair(range: std::ops::RangeInclusive<u64>) -> impl Strategy<Value = [u64; 2]> {
    prop_oneof![
        3 => range.clone().prop_map(|n| [n, n]),
        1 => (range.clone(), range).prop_map(|(a, b)| [a, b]),
    ]
}

fn conv_window() -> impl Strategy<Value = Window> {
    (
        pair(1..=5),
        pair(1..=3),
        prop_oneof![3 => Just([1, 1]), 1 => pair(1..=2)],
        prop_oneof![
            2 => Just(Padding::Valid),
            1 => Just(Padding::Same),
            1 => (0_u64..=2).prop_map(Padding::Explicit),
        ],
    )
        .prop_map(|(kernel, stride, dilation, padding)| Window {
            kernel,
            stride,
            dilation,
            padding,
        })
}

/// Pooling windows: stride defaults to the size; explicit padding is smaller than the window.
fn pool_window() -> impl Strategy<Value = Window> {
    (
        pair(1..=3),
        proptest::option::of(pair(1..=3)),
        prop_oneof![
            2 => Just(None),
            1 => Just(Some(Padding::Same)),
            1 => (0_u64..=2).prop_map(|p| Some(Padding::Explicit(p))),
        ],
    )
        .prop_map(|(kernel, stride, padding)| {
            let padding = match padding {
                Some(Padding::Explicit(p)) => {
                    Padding::Explicit(p.min(kernel[0].min(kernel[1]) - 1))
                }
                Some(other) => other,
                None => Padding::Valid,
            };
            Window {
                kernel,
                stride: stride.unwrap_or(kernel),
                dilation: [1, 1],
                padding,
            }
        })
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![
        4 => (1_u64..=8, conv_window(), prop::bool::weighted(0.2), prop::bool::weighted(0.8))
            .prop_map(|(filters_per_group, window, depthwise, use_bias)| Plan::Conv {
                filters_per_group,
                window,
                depthwise,
                use_bias,
            }),
        2 => pool_window().prop_map(Plan::MaxPool),
        1 => pool_window().prop_map(Plan::AvgPool),
        2 => (1_u64..=16, prop::bool::weighted(0.8))
            .prop_map(|(units, use_bias)| Plan::Dense { units, use_bias }),
        1 => Just(Plan::Flatten),
        1 => select(vec![0.0, 0.25, 0.5]).prop_map(Plan::Dropout),
        1 => select(vec!["relu", "tanh", "sigmoid", "softmax", "linear"]).prop_map(Plan::Activation),
        1 => Just(Plan::BatchNorm),
    ]
}

/// The output size on one axis by the textbook formula, floor((n + 2p − d(k−1) − 1)/s) + 1
/// (for `same`: ⌈n/s⌉), and whether the division was exact; None when the window does not fit.
fn naive_size(window: &Window, axis: usize, n: u64) -> Option<(u64, bool)> {
    let stride = window.stride[axis];
    let reach = window.dilation[axis] * (window.kernel[axis] - 1) + 1;
    match window.padding {
        Padding::Same => Some((n.div_ceil(stride), true)),
        Padding::Valid | Padding::Explicit(_) => {
            let padding = match window.padding {
                Padding::Explicit(p) => p,
                _ => 0,
            };
            let room = (n + 2 * padding).checked_sub(reach)?;
            Some((room / stride + 1, room % stride == 0))
        }
    }
}

/// What the test expects of one layer, computed without netcalc.
#[derive(Debug, Clone)]
struct Expected {
    output: Vec<u64>,
    trainable: u64,
    non_trainable: u64,
    /// Whether a window layer's sizes divided exactly (None: not a window layer, or `same`).
    exact: Option<bool>,
}

fn window_attributes(window: &Window, size_key: &str, pooling: bool) -> Vec<Attribute> {
    let dims = |pair: [u64; 2]| Value::Dims(pair.to_vec());
    let mut attributes = vec![Attribute::new(size_key, dims(window.kernel))];
    if !pooling || window.stride != window.kernel {
        attributes.push(Attribute::new("stride", dims(window.stride)));
    }
    if window.dilation != [1, 1] {
        attributes.push(Attribute::new("dilation", dims(window.dilation)));
    }
    match window.padding {
        Padding::Valid => {}
        Padding::Same => attributes.push(Attribute::new("padding", Value::Text("same".into()))),
        Padding::Explicit(p) => {
            attributes.push(Attribute::new("padding", Value::Integer(p as i64)))
        }
    }
    attributes
}

/// The declaration for a plan and the expectation for it, or None when it does not fit `shape`.
fn declare(plan: &Plan, shape: &[u64]) -> Option<(LayerDecl, Expected)> {
    let units: u64 = shape.iter().product();
    let same = |output: Vec<u64>| Expected {
        output,
        trainable: 0,
        non_trainable: 0,
        exact: None,
    };
    let window_output = |window: &Window, channels: u64| -> Option<(Vec<u64>, Option<bool>)> {
        let &[height, width, _] = shape else {
            return None;
        };
        let (out_height, exact_height) = naive_size(window, 0, height)?;
        let (out_width, exact_width) = naive_size(window, 1, width)?;
        let exact = match window.padding {
            Padding::Same => None,
            _ => Some(exact_height && exact_width),
        };
        Some((vec![out_height, out_width, channels], exact))
    };
    let (decl, expected) = match plan {
        Plan::Conv {
            filters_per_group,
            window,
            depthwise,
            use_bias,
        } => {
            let channels = *shape.last()?;
            let groups = if *depthwise { channels } else { 1 };
            let filters = filters_per_group * groups;
            let (output, exact) = window_output(window, filters)?;
            let mut decl = LayerDecl::new("conv2d");
            decl.attributes = vec![Attribute::new("filters", Value::Integer(filters as i64))];
            decl.attributes
                .extend(window_attributes(window, "kernel", false));
            if groups != 1 {
                decl.attributes
                    .push(Attribute::new("groups", Value::Integer(groups as i64)));
            }
            if !use_bias {
                decl.attributes
                    .push(Attribute::new("use_bias", Value::Boolean(false)));
            }
            let weights = window.kernel[0] * window.kernel[1] * (channels / groups) * filters;
            let bias = if *use_bias { filters } else { 0 };
            (
                decl,
                Expected {
                    output,
                    trainable: weights + bias,
                    non_trainable: 0,
                    exact,
                },
            )
        }
        Plan::MaxPool(window) | Plan::AvgPool(window) => {
            let (output, exact) = window_output(window, *shape.last()?)?;
            let kind = if matches!(plan, Plan::MaxPool(_)) {
                "maxpool"
            } else {
                "avgpool"
            };
            let mut decl = LayerDecl::new(kind);
            decl.attributes = window_attributes(window, "size", true);
            (
                decl,
                Expected {
                    exact,
                    ..same(output)
                },
            )
        }
        Plan::Dense {
            units: outputs,
            use_bias,
        } => {
            let mut decl = LayerDecl::new("dense");
            decl.attributes = vec![Attribute::new("units", Value::Integer(*outputs as i64))];
            if !use_bias {
                decl.attributes
                    .push(Attribute::new("use_bias", Value::Boolean(false)));
            }
            let bias = if *use_bias { *outputs } else { 0 };
            (
                decl,
                Expected {
                    trainable: units * outputs + bias,
                    ..same(vec![*outputs])
                },
            )
        }
        Plan::Flatten => (LayerDecl::new("flatten"), same(vec![units])),
        Plan::Dropout(rate) => {
            let mut decl = LayerDecl::new("dropout");
            decl.attributes = vec![Attribute::new("rate", Value::Number(*rate))];
            (decl, same(shape.to_vec()))
        }
        Plan::Activation(function) => {
            let mut decl = LayerDecl::new("activation");
            decl.attributes = vec![Attribute::new(
                "function",
                Value::Text(function.to_string()),
            )];
            (decl, same(shape.to_vec()))
        }
        Plan::BatchNorm => {
            // Keras: gamma and beta trainable, moving mean and variance not, one each per channel.
            let channels = *shape.last()?;
            (
                LayerDecl::new("batchnorm"),
                Expected {
                    trainable: 2 * channels,
                    non_trainable: 2 * channels,
                    ..same(shape.to_vec())
                },
            )
        }
    };
    Some((decl, expected))
}

/// A sequential network from an input shape and plans, keeping the plans that fit.
fn network() -> impl Strategy<Value = (Description, Vec<Expected>)> {
    (1_u64..=32, 1_u64..=32, 1_u64..=4, vec(plan(), 1..9)).prop_map(
        |(height, width, channels, plans)| {
            let mut input = LayerDecl::new("input");
            input.attributes = vec![Attribute::new(
                "shape",
                Value::Dims(vec![height, width, channels]),
            )];
            let mut shape = vec![height, width, channels];
            let mut layers = vec![input];
            let mut expected = vec![Expected {
                output: shape.clone(),
                trainable: 0,
                non_trainable: 0,
                exact: None,
            }];
            for plan in &plans {
                if let Some((decl, expectation)) = declare(plan, &shape) {
                    shape = expectation.output.clone();
                    layers.push(decl);
                    expected.push(expectation);
                }
            }
            let description = Description {
                rounding: Some(Spanned::unspanned("floor".to_string())),
                conventions: None,
                layers: layers.into_iter().map(Item::Layer).collect(),
                ..Description::default()
            };
            (description, expected)
        },
    )
}

/// The sequential networks of [`network`], without what the test expects of them.
pub fn sequential_network() -> impl Strategy<Value = Description> {
    network().prop_map(|(description, _)| description)
}

/// Receptive fields ordered by how much they see: a window by its size, the whole input above
/// every window.
fn sees_at_least(later: &ReceptiveField, earlier: &ReceptiveField) -> bool {
    match (later, earlier) {
        (ReceptiveField::Whole, _) => true,
        (ReceptiveField::Window { .. }, ReceptiveField::Whole) => false,
        (ReceptiveField::Window { size, .. }, ReceptiveField::Window { size: before, .. }) => {
            size[0] >= before[0] && size[1] >= before[1]
        }
    }
}

fn check_layer(info: &LayerInfo, expected: &Expected) -> Result<(), TestCaseError> {
    let name = &info.name;
    prop_assert_eq!(
        &info.output,
        &Shape::new(expected.output.clone()),
        "output of {}",
        name
    );
    prop_assert_eq!(
        info.trainable,
        expected.trainable,
        "trainable parameters of {}",
        name
    );
    prop_assert_eq!(
        info.non_trainable,
        expected.non_trainable,
        "non-trainable parameters of {}",
        name
    );
    if let Some(exact) = expected.exact {
        prop_assert_eq!(info.rounded(), !exact, "rounding mark of {}", name);
    }
    prop_assert!(
        info.connections_with_bias.count >= info.connections_without_bias.count,
        "{}: {} connections with bias < {} without",
        name,
        info.connections_with_bias.count,
        info.connections_without_bias.count
    );
    let units: u64 = expected.output.iter().product();
    prop_assert_eq!(
        info.activation_bytes,
        4 * units,
        "activation bytes of {}",
        name
    );
    if let Some(total) = &info.parameter_total {
        prop_assert_eq!(
            total.count,
            info.parameter_count(),
            "parameter formula of {}",
            name
        );
    } else {
        prop_assert_eq!(
            info.parameter_count(),
            0,
            "{} has parameters but no formula",
            name
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn analysis_agrees_with_naive_counts_on_sequential_networks((description, expected) in network()) {
        let source = Source::new("sequential", "");
        let network = Network::build(&source, description, "sequential", Default::default())
            .map_err(|error| TestCaseError::fail(format!("does not build: {error}")))?;
        let analysis = analyse(&network)
            .map_err(|error| TestCaseError::fail(format!("does not analyse: {error}")))?;
        prop_assert_eq!(analysis.layers.len(), expected.len());
        for (info, expected) in analysis.layers.iter().zip(&expected) {
            check_layer(info, expected)?;
        }
        for pair in analysis.layers.windows(2) {
            prop_assert!(
                sees_at_least(&pair[1].receptive_field, &pair[0].receptive_field),
                "the receptive field shrinks from {} ({:?}) to {} ({:?})",
                pair[0].name, pair[0].receptive_field, pair[1].name, pair[1].receptive_field
            );
        }
        let sum = |field: fn(&LayerInfo) -> u64| analysis.layers.iter().map(field).sum::<u64>();
        let totals = &analysis.totals;
        prop_assert_eq!(totals.trainable, sum(|l| l.trainable));
        prop_assert_eq!(totals.non_trainable, sum(|l| l.non_trainable));
        prop_assert_eq!(totals.connections_without_bias, sum(|l| l.connections_without_bias.count));
        prop_assert_eq!(totals.connections_with_bias, sum(|l| l.connections_with_bias.count));
        prop_assert_eq!(totals.macs, sum(|l| l.macs.count));
        prop_assert_eq!(totals.activation_bytes, sum(|l| l.activation_bytes));
        prop_assert_eq!(totals.parameters(), totals.trainable + totals.non_trainable);
    }
}

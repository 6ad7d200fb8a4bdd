//! Assertions written in a description (`expect params=1516` on a layer, `expect params=61706`
//! for the network) checked against the computed values on every run.

use super::{Analysis, LayerInfo, ReceptiveField};
use crate::error::Locate;
use crate::graph::Network;
use crate::layers::attributes::describe;
use crate::source::Span;
use crate::syntax::{Attribute, Value};

/// Keys a layer's `expect` may use.
const LAYER_KEYS: [&str; 8] = [
    "output",
    "params",
    "trainable",
    "non_trainable",
    "connections",
    "connections_with_bias",
    "macs",
    "receptive_field",
];

/// Keys the network's `expect` may use.
const TOTAL_KEYS: [&str; 6] = [
    "params",
    "trainable",
    "non_trainable",
    "connections",
    "connections_with_bias",
    "macs",
];

/// An assertion that does not hold or cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpectationError {
    /// The computed value differs from the expected one.
    #[error("{place}: expected {key} = {expected}, but netcalc computes {computed}")]
    Failed {
        /// `layer `C3`` or `the network`.
        place: String,
        /// The key.
        key: String,
        /// As written.
        expected: String,
        /// As computed.
        computed: String,
        /// The expected value's span.
        span: Span,
    },
    /// No such key.
    #[error("{place}: cannot expect `{key}`")]
    UnknownKey {
        /// Where.
        place: String,
        /// The key.
        key: String,
        /// The closest key.
        suggestion: Option<&'static str>,
        /// The keys allowed.
        known: &'static [&'static str],
        /// The key's span.
        span: Span,
    },
    /// A value of the wrong type.
    #[error("{place}: `{key}` must be {expected}, got {found}")]
    Invalid {
        /// Where.
        place: String,
        /// The key.
        key: String,
        /// What it must be.
        expected: &'static str,
        /// What was written.
        found: String,
        /// The value's span.
        span: Span,
    },
}

impl Locate for ExpectationError {
    fn span(&self) -> Span {
        match self {
            ExpectationError::Failed { span, .. }
            | ExpectationError::UnknownKey { span, .. }
            | ExpectationError::Invalid { span, .. } => *span,
        }
    }

    fn label(&self) -> String {
        match self {
            ExpectationError::Failed { computed, .. } => format!("netcalc computes {computed}"),
            ExpectationError::UnknownKey { .. } => "unknown key".to_string(),
            ExpectationError::Invalid { .. } => "invalid value".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            ExpectationError::UnknownKey {
                suggestion, known, ..
            } => Some(match suggestion {
                Some(key) => format!("did you mean `{key}`?"),
                None => format!("the keys are {}", known.join(", ")),
            }),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ExpectationError::Failed { .. } => "netcalc::expect::failed",
            ExpectationError::UnknownKey { .. } => "netcalc::expect::unknown_key",
            ExpectationError::Invalid { .. } => "netcalc::expect::invalid",
        }
    }
}

/// Checks every layer's and the network's assertions, failing on the first that does not hold.
pub fn check(network: &Network, analysis: &Analysis) -> Result<(), ExpectationError> {
    for (index, info) in network.order().iter().zip(&analysis.layers) {
        let place = format!("layer `{}`", info.name);
        for attribute in &network.node(*index).decl.expect {
            check_layer(&place, attribute, info)?;
        }
    }
    for attribute in &network.expect {
        check_total(attribute, analysis)?;
    }
    Ok(())
}

fn unknown(place: &str, attribute: &Attribute, known: &'static [&'static str]) -> ExpectationError {
    ExpectationError::UnknownKey {
        place: place.to_string(),
        key: attribute.key.value.clone(),
        suggestion: crate::suggestion::closest(&attribute.key.value, known.iter().copied()),
        known,
        span: attribute.key.span,
    }
}

fn count_value(place: &str, attribute: &Attribute) -> Result<u64, ExpectationError> {
    match attribute.value.value {
        Value::Integer(n) if n >= 0 => Ok(n as u64),
        ref other => Err(ExpectationError::Invalid {
            place: place.to_string(),
            key: attribute.key.value.clone(),
            expected: "an integer ≥ 0",
            found: describe(other),
            span: attribute.value.span,
        }),
    }
}

fn compare(
    place: &str,
    attribute: &Attribute,
    expected: String,
    computed: String,
) -> Result<(), ExpectationError> {
    if expected == computed {
        return Ok(());
    }
    Err(ExpectationError::Failed {
        place: place.to_string(),
        key: attribute.key.value.clone(),
        expected,
        computed,
        span: attribute.value.span,
    })
}

fn check_count(place: &str, attribute: &Attribute, computed: u64) -> Result<(), ExpectationError> {
    let expected = count_value(place, attribute)?;
    compare(place, attribute, expected.to_string(), computed.to_string())
}

fn check_layer(
    place: &str,
    attribute: &Attribute,
    info: &LayerInfo,
) -> Result<(), ExpectationError> {
    match attribute.key.value.as_str() {
        "output" => {
            // The axes are compared; token ids (`28 tokens`) are written as their length.
            let written = |dims: Vec<u64>| match info.output.vocabulary() {
                Some(vocabulary) if dims.len() == 1 => {
                    crate::shape::Shape::tokens(dims[0], vocabulary)
                }
                _ => crate::shape::Shape::new(dims),
            };
            let expected = match &attribute.value.value {
                Value::Dims(dims) => written(dims.clone()),
                Value::Integer(n) if *n > 0 => written(vec![*n as u64]),
                other => {
                    return Err(ExpectationError::Invalid {
                        place: place.to_string(),
                        key: "output".to_string(),
                        expected: "a shape such as 28x28x6 or 84",
                        found: describe(other),
                        span: attribute.value.span,
                    });
                }
            };
            compare(
                place,
                attribute,
                expected.to_string(),
                info.output.to_string(),
            )
        }
        "params" => check_count(place, attribute, info.parameter_count()),
        "trainable" => check_count(place, attribute, info.trainable),
        "non_trainable" => check_count(place, attribute, info.non_trainable),
        "connections" => check_count(place, attribute, info.connections_without_bias.count),
        "connections_with_bias" => check_count(place, attribute, info.connections_with_bias.count),
        "macs" => check_count(place, attribute, info.macs.count),
        "receptive_field" => {
            // A single size stands for every axis of the field (32 is 32x32 on maps).
            let axes = match &info.receptive_field {
                ReceptiveField::Window { size, .. } => size.len(),
                ReceptiveField::Whole | ReceptiveField::Uneven => 2,
            };
            let expected = match &attribute.value.value {
                Value::Integer(n) if *n > 0 => vec![n.to_string(); axes].join("x"),
                Value::Dims(dims) if dims.len() == 2 => format!("{}x{}", dims[0], dims[1]),
                other => {
                    return Err(ExpectationError::Invalid {
                        place: place.to_string(),
                        key: "receptive_field".to_string(),
                        expected: "a size such as 32 or 32x32",
                        found: describe(other),
                        span: attribute.value.span,
                    });
                }
            };
            let computed = match info.receptive_field {
                ReceptiveField::Window { size, .. } => size.to_string().replace('×', "x"),
                ReceptiveField::Whole => "the whole input".to_string(),
                ReceptiveField::Uneven => "no one size (it varies from unit to unit)".to_string(),
            };
            compare(place, attribute, expected, computed)
        }
        _ => Err(unknown(place, attribute, &LAYER_KEYS)),
    }
}

fn check_total(attribute: &Attribute, analysis: &Analysis) -> Result<(), ExpectationError> {
    let place = "the network";
    let totals = &analysis.totals;
    let computed = match attribute.key.value.as_str() {
        "params" => totals.parameters(),
        "trainable" => totals.trainable,
        "non_trainable" => totals.non_trainable,
        "connections" => totals.connections_without_bias,
        "connections_with_bias" => totals.connections_with_bias,
        "macs" => totals.macs,
        _ => return Err(unknown(place, attribute, &TOTAL_KEYS)),
    };
    check_count(place, attribute, computed)
}

//! The analysis as JSON, schema `netcalc.analysis.v1` (docs/json-schema.md). Field names and
//! meanings are stable within a schema version; new fields may be added.

use crate::analysis::{self, Analysis, Counted, LayerInfo, ReceptiveField};
use crate::layers::ReceptiveStep;
use serde::Serialize;

/// The schema name written into every document.
pub const SCHEMA: &str = "netcalc.analysis.v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    network: &'a str,
    layers: Layers<'a>,
    totals: Totals,
    /// What the auxiliary branches add to `totals`; only when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    auxiliary_totals: Option<Totals>,
}

/// The layers, each turned into its [`Layer`] only while it is written: collected first, the
/// records of a 200,000-layer network held about 0.4 GB at once.
struct Layers<'a> {
    analysis: &'a Analysis,
}

impl Serialize for Layers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let total = self.analysis.totals.parameters();
        serializer.collect_seq(self.analysis.layers.iter().map(|info| layer(info, total)))
    }
}

#[derive(Serialize)]
struct Layer<'a> {
    name: &'a str,
    kind: &'static str,
    settings: &'a str,
    inputs: &'a [String],
    input_shapes: Vec<&'a [u64]>,
    output_shape: &'a [u64],
    /// Only for token ids: how many different ids there are.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_vocabulary: Option<u64>,
    output_size: Vec<Size>,
    parameters: Parameters,
    connections: Connections,
    receptive_field: Receptive<'a>,
    macs: Formula,
    activation_bytes: u64,
    /// Written only for layers of auxiliary branches.
    #[serde(skip_serializing_if = "is_false")]
    auxiliary: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

#[derive(Serialize)]
struct Size {
    axis: &'static str,
    formula: String,
    exact: String,
    value: u64,
    rounded: Option<&'static str>,
}

#[derive(Serialize)]
struct Parameters {
    total: u64,
    trainable: u64,
    non_trainable: u64,
    formula: Option<String>,
    share_of_total: Option<f64>,
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: &'static str,
    formula: String,
    count: u64,
    trainable: bool,
}

#[derive(Serialize)]
struct Formula {
    formula: String,
    count: u64,
}

#[derive(Serialize)]
struct Connections {
    without_bias: Formula,
    with_bias: Formula,
}

#[derive(Serialize)]
struct Receptive<'a> {
    previous: Step<'a>,
    input: Field<'a>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Step<'a> {
    Window {
        kernel: &'a [u64],
        stride: &'a [u64],
        dilation: &'a [u64],
        padding_before: &'a [u64],
    },
    Whole,
    Pointwise,
    Uneven,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Field<'a> {
    Window {
        size: &'a [u64],
        jump: &'a [u64],
        start: &'a [f64],
    },
    Whole,
    Uneven,
}

#[derive(Serialize)]
struct Totals {
    parameters: u64,
    trainable: u64,
    non_trainable: u64,
    #[serde(skip_serializing_if = "is_zero")]
    buffers: u64,
    connections_without_bias: u64,
    connections_with_bias: u64,
    macs: u64,
    flops: u128,
    activation_bytes: u64,
    parameter_bytes: u64,
}

/// Leaves `buffers` out of the JSON of networks that have none.
fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn formula(counted: &Counted) -> Formula {
    Formula {
        formula: counted.formula.to_string(),
        count: counted.count,
    }
}

fn layer<'a>(info: &'a LayerInfo, total: u64) -> Layer<'a> {
    Layer {
        name: &info.name,
        kind: info.kind,
        settings: &info.settings,
        inputs: &info.inputs,
        input_shapes: info.input_shapes.iter().map(|s| s.dims()).collect(),
        output_shape: info.output.dims(),
        output_vocabulary: info.output.vocabulary(),
        output_size: info
            .formulas
            .iter()
            .map(|f| Size {
                axis: f.axis,
                formula: f.expression.to_string(),
                exact: f.exact.to_string(),
                value: f.value,
                rounded: f.rounded.map(|r| r.name()),
            })
            .collect(),
        parameters: Parameters {
            total: info.parameter_count(),
            trainable: info.trainable,
            non_trainable: info.non_trainable,
            formula: info.parameter_total.as_ref().map(|t| t.formula.to_string()),
            share_of_total: (total > 0).then(|| info.parameter_count() as f64 / total as f64),
            groups: info
                .parameters
                .iter()
                .map(|p| Group {
                    name: p.name,
                    formula: p.size.formula.to_string(),
                    count: p.size.count,
                    trainable: p.trainable,
                })
                .collect(),
        },
        connections: Connections {
            without_bias: formula(&info.connections_without_bias),
            with_bias: formula(&info.connections_with_bias),
        },
        receptive_field: Receptive {
            previous: match &info.step {
                ReceptiveStep::Window(w) => Step::Window {
                    kernel: &w.kernel,
                    stride: &w.stride,
                    dilation: &w.dilation,
                    padding_before: &w.padding_before,
                },
                ReceptiveStep::Whole => Step::Whole,
                ReceptiveStep::Pointwise => Step::Pointwise,
                ReceptiveStep::Uneven => Step::Uneven,
            },
            input: match &info.receptive_field {
                ReceptiveField::Window { size, jump, start } => Field::Window { size, jump, start },
                ReceptiveField::Whole => Field::Whole,
                ReceptiveField::Uneven => Field::Uneven,
            },
        },
        macs: formula(&info.macs),
        activation_bytes: info.activation_bytes,
        auxiliary: info.auxiliary,
    }
}

fn totals_of(totals: &analysis::Totals) -> Totals {
    Totals {
        parameters: totals.parameters(),
        trainable: totals.trainable,
        non_trainable: totals.non_trainable,
        buffers: totals.buffers,
        connections_without_bias: totals.connections_without_bias,
        connections_with_bias: totals.connections_with_bias,
        macs: totals.macs,
        flops: u128::from(totals.macs) * 2,
        activation_bytes: totals.activation_bytes,
        parameter_bytes: totals.parameter_bytes(),
    }
}

/// The document, pretty-printed, with a final line break.
pub fn render(analysis: &Analysis) -> String {
    let document = Document {
        schema: SCHEMA,
        network: &analysis.network,
        layers: Layers { analysis },
        totals: totals_of(&analysis.totals),
        auxiliary_totals: analysis
            .has_auxiliary()
            .then(|| totals_of(&analysis.auxiliary)),
    };
    // Serialising cannot fail: every map key is a string and every float is finite.
    let mut text = serde_json::to_string_pretty(&document).expect("serialisable document");
    text.push('\n');
    text
}

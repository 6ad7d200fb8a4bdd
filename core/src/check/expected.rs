//! What netcalc says belongs in a cell: for each column and each layer (or the totals), the
//! value with the formula it comes from, and what the numbers of the layer's formulas mean
//! ([`Role`]s) so that a wrong factor can be named. Everything is read from the analysis.

use super::columns::Column;
use super::formula::Role;
use super::rows::Subject;
use crate::analysis::{Analysis, Counted, LayerInfo, ReceptiveField};
use crate::expression::Expression;
use crate::layers::{DimensionFormula, ReceptiveStep};
use crate::shape::Shape;

/// netcalc's value for one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// A count and its formula; a percentage in the cell is a share of `share_of`.
    Count {
        /// The count.
        value: u64,
        /// How it is computed.
        formula: Expression,
        /// The total a written percentage refers to.
        share_of: u64,
        /// How the count comes about, for messages (`5·5·96·256+256 = 614656`).
        derivation: String,
        /// The formula as messages show it (a total shows its layers' counts).
        shown: String,
        /// How many of the counted parameters are not trained (0 for other counts).
        non_trainable: u64,
    },
    /// A percentage: `part` of `whole`.
    Share {
        /// The part.
        part: u64,
        /// The whole.
        whole: u64,
    },
    /// Shapes (one per input).
    Shapes(Vec<Shape>),
    /// Output-size formulas; none for a layer without a window, whose output is `output`.
    Sizes {
        /// The formulas per axis.
        formulas: Vec<DimensionFormula>,
        /// The output shape.
        output: Shape,
    },
    /// A receptive field in the previous layer.
    Step(ReceptiveStep),
    /// A receptive field in the network's input.
    Field(ReceptiveField),
    /// Nothing belongs here (e.g. the receptive field of a `Sum` row).
    Nothing,
}

/// netcalc's value for a column of a row.
pub fn expected(column: Column, subject: Subject, analysis: &Analysis) -> Expected {
    let totals = &analysis.totals;
    match subject {
        Subject::Layer(index) => match analysis.layers.get(index) {
            Some(layer) => for_layer(column, layer, analysis),
            None => Expected::Nothing,
        },
        Subject::Total => match column {
            Column::Parameters { trainable_only } => {
                let value = if trainable_only {
                    (totals.trainable, 0)
                } else {
                    (totals.parameters(), totals.non_trainable)
                };
                count_total(analysis, value, |layer| {
                    parameters(layer, trainable_only).map(|(_, formula)| formula)
                })
            }
            Column::Share => Expected::Share {
                part: totals.parameters(),
                whole: totals.parameters(),
            },
            Column::ConnectionsWithoutBias => {
                count_total(analysis, (totals.connections_without_bias, 0), |layer| {
                    counted(&layer.connections_without_bias)
                })
            }
            Column::ConnectionsWithBias => {
                count_total(analysis, (totals.connections_with_bias, 0), |layer| {
                    counted(&layer.connections_with_bias)
                })
            }
            Column::Macs => count_total(analysis, (totals.macs, 0), |layer| counted(&layer.macs)),
            _ => Expected::Nothing,
        },
    }
}

fn for_layer(column: Column, layer: &LayerInfo, analysis: &Analysis) -> Expected {
    let totals = &analysis.totals;
    match column {
        Column::Input => Expected::Shapes(layer.input_shapes.clone()),
        Column::Output => Expected::Shapes(vec![layer.output.clone()]),
        Column::OutputCalculation => Expected::Sizes {
            formulas: layer.formulas.clone(),
            output: layer.output.clone(),
        },
        Column::Parameters { trainable_only } => {
            let (value, formula) =
                parameters(layer, trainable_only).unwrap_or((0, Expression::Number(0)));
            Expected::Count {
                value,
                derivation: derivation(&formula, value),
                shown: formula.to_string(),
                non_trainable: if trainable_only {
                    0
                } else {
                    layer.non_trainable
                },
                formula,
                share_of: if trainable_only {
                    totals.trainable
                } else {
                    totals.parameters()
                },
            }
        }
        Column::Share => Expected::Share {
            part: layer.parameter_count(),
            whole: totals.parameters(),
        },
        Column::ReceptiveField => Expected::Step(layer.step),
        Column::InputReceptiveField => Expected::Field(layer.receptive_field),
        Column::ConnectionsWithoutBias => counted_expected(
            &layer.connections_without_bias,
            totals.connections_without_bias,
        ),
        Column::ConnectionsWithBias => {
            counted_expected(&layer.connections_with_bias, totals.connections_with_bias)
        }
        Column::Macs => counted_expected(&layer.macs, totals.macs),
        Column::Name | Column::Remark => Expected::Nothing,
    }
}

/// A layer's parameters (all, or the trainable ones) and their formula; `None` when it has none.
pub fn parameters(layer: &LayerInfo, trainable_only: bool) -> Option<(u64, Expression)> {
    if !trainable_only || layer.non_trainable == 0 {
        return layer
            .parameter_total
            .as_ref()
            .map(|total| (total.count, total.formula.clone()));
    }
    let formulas: Vec<Expression> = layer
        .parameters
        .iter()
        .filter(|group| group.trainable)
        .map(|group| group.size.formula.clone())
        .collect();
    match formulas.len() {
        0 => None,
        1 => formulas.into_iter().next().map(|f| (layer.trainable, f)),
        _ => Some((layer.trainable, Expression::sum(formulas))),
    }
}

fn counted_expected(counted: &Counted, share_of: u64) -> Expected {
    Expected::Count {
        value: counted.count,
        formula: counted.formula.clone(),
        share_of,
        derivation: derivation(&counted.formula, counted.count),
        shown: counted.formula.to_string(),
        non_trainable: 0,
    }
}

fn counted(counted: &Counted) -> Option<Expression> {
    (counted.count > 0).then(|| counted.formula.clone())
}

/// A total and its formula: the sum of the layers' formulas (layers with a count of 0 left out);
/// the derivation adds the layers' counts, as netcalc's table does.
fn count_total(
    analysis: &Analysis,
    (value, non_trainable): (u64, u64),
    formula_of: impl Fn(&LayerInfo) -> Option<Expression>,
) -> Expected {
    let mut terms: Vec<Expression> = analysis.layers.iter().filter_map(formula_of).collect();
    let counts: Vec<String> = terms
        .iter()
        .filter_map(|term| term.count().ok())
        .map(|count| count.to_string())
        .collect();
    let formula = match terms.len() {
        0 => Expression::Number(0),
        1 => terms.remove(0),
        _ => Expression::sum(terms),
    };
    let (derivation, shown) = if counts.len() > 1 {
        let sum = counts.join("+");
        (format!("{} = {value}", counts.join(" + ")), sum)
    } else {
        (derivation(&formula, value), formula.to_string())
    };
    Expected::Count {
        value,
        formula,
        share_of: value,
        derivation,
        shown,
        non_trainable,
    }
}

/// The layer count each term of a total stands for, to name terms of a written sum.
pub fn total_roles(column: Column, analysis: &Analysis) -> Vec<Role> {
    analysis
        .layers
        .iter()
        .filter_map(|layer| {
            let (value, what) = match column {
                Column::Parameters { trainable_only } => {
                    (parameters(layer, trainable_only)?.0, "parameters")
                }
                Column::ConnectionsWithoutBias => (
                    layer.connections_without_bias.count,
                    "connections without bias",
                ),
                Column::ConnectionsWithBias => {
                    (layer.connections_with_bias.count, "connections with bias")
                }
                Column::Macs => (layer.macs.count, "MACs"),
                _ => return None,
            };
            (value > 0).then(|| Role {
                value,
                meaning: format!("{}'s {what}", layer.name),
                divides: false,
            })
        })
        .collect()
}

/// What the numbers in a layer's formulas mean: input depth D, filters K, window F, stride S,
/// padding P, sizes.
pub fn roles(layer: &LayerInfo) -> Vec<Role> {
    let name = &layer.name;
    let mut roles = Vec::new();
    let mut add_role = |value: u64, meaning: String, divides: bool| {
        if !roles
            .iter()
            .any(|r: &Role| r.value == value && r.meaning == meaning)
        {
            roles.push(Role {
                value,
                meaning,
                divides,
            });
        }
    };
    if let [input] = layer.input_shapes.as_slice() {
        match (input.maps(), input.sequence()) {
            (Some((height, width, depth)), _) => {
                add_role(depth, format!("D: {name} reads {}", maps(depth)), false);
                add_role(height, format!("N: the input is {height}×{width}"), false);
                add_role(width, format!("N: the input is {height}×{width}"), false);
            }
            (None, Some((steps, features))) => {
                add_role(
                    features,
                    format!("D: {name} reads {features} features per step"),
                    false,
                );
                add_role(steps, format!("L: the input has {steps} steps"), false);
            }
            (None, None) => {
                if let Some(units) = input.units() {
                    add_role(units, format!("{name} reads {units} units"), false);
                }
            }
        }
    }
    match (layer.output.maps(), layer.output.sequence()) {
        (Some((height, width, depth)), _) => {
            add_role(depth, format!("K: {name} outputs {}", maps(depth)), false);
            add_role(height, format!("the output is {height}×{width}"), false);
            add_role(width, format!("the output is {height}×{width}"), false);
        }
        (None, Some((steps, features))) => {
            add_role(
                features,
                format!("{name} outputs {features} features per step"),
                false,
            );
            add_role(steps, format!("the output has {steps} steps"), false);
        }
        (None, None) => {
            if let Some(units) = layer.output.units() {
                add_role(units, format!("{name} has {units} units"), false);
            }
        }
    }
    if let ReceptiveStep::Window(window) = layer.step {
        for axis in 0..window.kernel.len() {
            let kernel = window.kernel[axis];
            add_role(
                kernel,
                format!("F: the window is {}", window.kernel.described()),
                false,
            );
            add_role(
                window.stride[axis],
                format!("S: the stride is {}", window.stride[axis]),
                true,
            );
            let padding = window.padding_before[axis];
            if padding > 0 {
                add_role(
                    padding * 2,
                    format!("P: padding {padding} on each side, 2·{padding} in all"),
                    false,
                );
                add_role(padding, format!("P: padding {padding} on each side"), false);
            }
        }
    }
    roles
}

fn maps(count: u64) -> String {
    if count == 1 {
        "1 map".to_string()
    } else {
        format!("{count} maps")
    }
}

/// netcalc's value and derivation for messages: `614656 (5·5·96·256+256)`.
pub fn describe(expected: &Expected) -> (String, String) {
    match expected {
        Expected::Count {
            value, derivation, ..
        } => (value.to_string(), derivation.clone()),
        Expected::Share { part, whole } => (
            crate::report::numbers::percent(*part, *whole),
            format!("{part} of {whole}"),
        ),
        Expected::Shapes(shapes) => (
            shapes
                .iter()
                .map(Shape::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            String::new(),
        ),
        Expected::Sizes { formulas, output } => match formulas.first() {
            Some(first) => (first.value.to_string(), sizes_text(formulas)),
            None => (
                "–".to_string(),
                format!("no window: the output is {output}"),
            ),
        },
        Expected::Step(step) => (step_text(*step), String::new()),
        Expected::Field(field) => (field_text(*field), String::new()),
        Expected::Nothing => ("–".to_string(), String::new()),
    }
}

/// `11·11·3·96+96 = 34944`, or nothing when the formula is the bare number.
pub fn derivation(formula: &Expression, value: u64) -> String {
    if matches!(formula, Expression::Number(_)) {
        String::new()
    } else {
        format!("{formula} = {value}")
    }
}

/// `(227-11)/4+1 = 55` (`= 54.25 → 54` when rounded).
pub fn size_text(formula: &DimensionFormula) -> String {
    if formula.rounded.is_some() {
        format!(
            "{} = {} → {}",
            formula.expression, formula.exact, formula.value
        )
    } else {
        format!("{} = {}", formula.expression, formula.value)
    }
}

/// `(227-11)/4+1 = 55`, per axis when the axes differ.
pub fn sizes_text(formulas: &[DimensionFormula]) -> String {
    let text = size_text;
    match formulas {
        [length] => text(length),
        [height, width] if height.expression == width.expression => text(height),
        several => several
            .iter()
            .map(|f| format!("{}: {}", f.axis, text(f)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// `5×5`, `all units (fully connected)`, `1×1` for a layer that reads one unit.
pub fn step_text(step: ReceptiveStep) -> String {
    match step {
        ReceptiveStep::Window(window) => window.kernel.described(),
        ReceptiveStep::Whole => "all units (fully connected)".to_string(),
        ReceptiveStep::Pointwise => "1×1".to_string(),
        ReceptiveStep::Uneven => "varies (no one window)".to_string(),
    }
}

/// `32×32`, or `the whole input`.
pub fn field_text(field: ReceptiveField) -> String {
    match field {
        ReceptiveField::Window { size, .. } => size.described(),
        ReceptiveField::Whole => "the whole input".to_string(),
        ReceptiveField::Uneven => "varies (no one window)".to_string(),
    }
}

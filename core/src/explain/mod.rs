//! `netcalc explain`: how every number of a layer comes about, in words and formulas, in the
//! style of the exercise sheet's solutions ("Each of the 28·28·6 units in C1 is connected to
//! 5·5+1 units (with bias), so 28·28·6·(5·5+1) = 122304 connections."). Every number and formula
//! is taken from the analysis; [`structure`] reads which factors are units and which are links.
//! Pure text building.

pub mod structure;

use crate::analysis::{Analysis, Counted, LayerInfo, ReceptiveField};
use crate::expression::Expression;
use crate::layers::ReceptiveStep;
use crate::report::numbers::percent;
use structure::{Split, map_groups, split_terms};

/// The explanation of every layer, or of the layer at index `only`.
pub fn explain(analysis: &Analysis, only: Option<usize>) -> String {
    let mut text = String::new();
    for (index, layer) in analysis.layers.iter().enumerate() {
        if only.is_some_and(|chosen| chosen != index) {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        for line in layer_lines(analysis, layer) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

fn layer_lines(analysis: &Analysis, layer: &LayerInfo) -> Vec<String> {
    let mut heading = format!("{} ({}", layer.name, layer.kind);
    if !layer.settings.is_empty() {
        heading.push_str(&format!(": {}", layer.settings));
    }
    heading.push(')');
    if layer.input_shapes.is_empty() {
        let units = layer.output.units().unwrap_or(0);
        let what = match layer.output.vocabulary() {
            Some(vocabulary) => {
                format!("{units} token ids, each a whole number below {vocabulary}")
            }
            None => format!("{} = {units} values", shape_product(layer)),
        };
        return vec![heading, format!("  The network's input: {what}.")];
    }
    let reads: Vec<String> = layer
        .inputs
        .iter()
        .zip(&layer.input_shapes)
        .map(|(name, shape)| format!("{name} {shape}"))
        .collect();
    heading.push_str(&format!(", reading {}", reads.join(" and ")));
    let mut lines = vec![heading];
    lines.push(format!("  Output: {}", output(layer)));
    lines.extend(parameters(analysis, layer));
    lines.push(format!(
        "  Connections without bias: {}",
        connections(layer, &layer.connections_without_bias, false)
    ));
    lines.push(format!(
        "  Connections with bias: {}",
        connections(layer, &layer.connections_with_bias, true)
    ));
    lines.push(format!("  Receptive field: {}", receptive(analysis, layer)));
    lines.push(format!("  MACs: {}", macs(layer)));
    lines
}

/// `28·28·6` for a shape.
fn shape_product(layer: &LayerInfo) -> String {
    Expression::product_of(layer.output.dims()).to_string()
}

fn output(layer: &LayerInfo) -> String {
    if layer.formulas.is_empty() {
        if layer.step == ReceptiveStep::Pointwise
            && layer.input_shapes.first() == Some(&layer.output)
        {
            return match layer.output.rank() {
                1 => format!("{} units, as many as its input.", layer.output),
                _ => format!("{}, the shape of its input.", layer.output),
            };
        }
        return match layer.output.rank() {
            1 => format!("{} units.", layer.output),
            _ => format!("{}.", layer.output),
        };
    }
    let per_axis: Vec<String> = layer
        .formulas
        .iter()
        .map(|formula| {
            let rounded = match formula.rounded {
                Some(rounding) => format!(
                    " = {} → {} (rounded {})",
                    formula.exact,
                    formula.value,
                    match rounding {
                        crate::shape::Rounding::Ceil => "up",
                        _ => "down",
                    }
                ),
                None => format!(" = {}", formula.value),
            };
            format!("{}{rounded}", formula.expression)
        })
        .collect();
    let sizes = match per_axis.as_slice() {
        [length] => format!("{length} steps"),
        [height, width] if height == width => format!("{height} per side"),
        _ => layer
            .formulas
            .iter()
            .zip(&per_axis)
            .map(|(formula, text)| format!("{} {text}", formula.axis))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let rule = layer
        .explanation
        .as_ref()
        .and_then(|e| e.size_rule.as_deref())
        .unwrap_or("(N-F+2P)/S+1");
    format!(
        "{rule} = {sizes}, so {} outputs {}.",
        layer.name, layer.output
    )
}

fn parameters(analysis: &Analysis, layer: &LayerInfo) -> Vec<String> {
    if let (None, Some(tied)) = (&layer.parameter_total, &layer.tied_to) {
        return vec![format!(
            "  Parameters: none of its own; its weights are {tied}'s table, transposed, counted in {tied}."
        )];
    }
    let Some(total) = &layer.parameter_total else {
        return vec![format!(
            "  Parameters: none; {} computes a fixed function of its input.",
            layer.name
        )];
    };
    let all = analysis.totals.parameters();
    let share = format!("{} of the network's {all}", percent(total.count, all));
    if let Some(explanation) = &layer.explanation {
        return vec![format!(
            "  Parameters: {}: {} = {} ({share}).",
            explanation.parameters, total.formula, total.count
        )];
    }
    let inputs = layer.input_shapes.first().map_or(0, |s| s.channels());
    if let Some(groups) = map_groups(&total.formula, kernel_area(layer)) {
        let mut lines = vec![format!(
            "  Parameters: {}'s maps read different numbers of {}'s {inputs} maps:",
            layer.name,
            layer.inputs.join(", ")
        )];
        for group in &groups {
            let value = group.term.count().unwrap_or(0);
            let reading = if group.maps == 1 {
                format!("1 map reads {}", input_maps(group.reads, inputs))
            } else {
                format!(
                    "{} maps read {} each",
                    group.maps,
                    input_maps(group.reads, inputs)
                )
            };
            lines.push(format!(
                "    {reading}, with {} parameters per map: {} = {value}",
                group.per_map, group.term
            ));
        }
        lines.push(format!(
            "    in total {} = {} ({share}).",
            total.formula, total.count
        ));
        return lines;
    }
    let mut sentence = match per_filter(layer) {
        Some(text) => format!("  Parameters: {text}: {} = {}", total.formula, total.count),
        None if total.is_plain() => format!("  Parameters: {}", total.count),
        None => {
            let groups: Vec<String> = layer
                .parameters
                .iter()
                .map(|group| counted_text(group.name, &group.size))
                .collect();
            format!(
                "  Parameters: {}; in total {} = {}",
                groups.join(", "),
                total.formula,
                total.count
            )
        }
    };
    sentence.push_str(&format!(" ({share})"));
    if layer.non_trainable > 0 {
        sentence.push_str(&format!(
            "; {} of them are not trained",
            layer.non_trainable
        ));
    }
    sentence.push('.');
    vec![sentence]
}

/// `3 input maps`, or `all 6 input maps`.
fn input_maps(reads: u64, inputs: u64) -> String {
    match (reads, reads == inputs) {
        (1, _) => "1 input map".to_string(),
        (_, true) => format!("all {reads} input maps"),
        (_, false) => format!("{reads} input maps"),
    }
}

fn counted_text(name: &str, counted: &Counted) -> String {
    if counted.is_plain() {
        format!("{name} {}", counted.count)
    } else {
        format!("{name} {} = {}", counted.formula, counted.count)
    }
}

/// "6 filters, each with 5·5·1 weights and one bias" when the parameters are weights whose last
/// factor is the number of biases.
fn per_filter(layer: &LayerInfo) -> Option<String> {
    let [weights, bias] = layer.parameters.as_slice() else {
        return None;
    };
    let Expression::Product(factors) = &weights.size.formula else {
        return None;
    };
    let (last, each) = factors.split_last()?;
    if *last != Expression::Number(bias.size.count) || bias.size.count != layer.output.channels() {
        return None;
    }
    let each = match each {
        [one] => one.to_string(),
        several => Expression::product(several.to_vec()).to_string(),
    };
    // A window wider than one unit makes a convolution's units filters (conv1d on sequences
    // too); dense units read per position have a window of 1.
    let windowed =
        matches!(layer.step, ReceptiveStep::Window(window) if window.kernel.iter().any(|&k| k > 1));
    let word = if layer.output.rank() == 3 || windowed {
        "filters"
    } else {
        "units"
    };
    Some(format!(
        "{} {word}, each with {each} weights and one bias",
        bias.size.count
    ))
}

fn connections(layer: &LayerInfo, counted: &Counted, with_bias: bool) -> String {
    if counted.count == 0 {
        return format!("none: {} has no weighted links.", layer.name);
    }
    if with_bias && counted.formula == layer.connections_without_bias.formula {
        return format!("the same {}, as {} has no bias.", counted.count, layer.name);
    }
    let links = if with_bias { " (with bias)" } else { "" };
    if let Some(words) = layer
        .explanation
        .as_ref()
        .and_then(|e| e.connections.as_ref())
    {
        return format!(
            "{}, so {} = {} connections.",
            words[usize::from(with_bias)],
            counted.formula,
            counted.count
        );
    }
    if let Some(explanation) = &layer.explanation
        && let Some(per_kind) = &explanation.links
    {
        let per_unit = &per_kind[usize::from(with_bias)];
        let word = if *per_unit == Expression::Number(1) {
            "unit"
        } else {
            "units"
        };
        return format!(
            "{} is connected to {per_unit} {word}{links}, so {} = {} connections.",
            explanation.units, counted.formula, counted.count
        );
    }
    let units = layer.output.units().unwrap_or(0);
    let area = match layer.output.maps() {
        Some((height, width, _)) => height.saturating_mul(width),
        None => 1,
    };
    match split_terms(&counted.formula, units, area).as_deref() {
        Some([single]) => format!(
            "each of the {} units in {} is connected to {} units{links}, so {} = {} connections.",
            single.units, layer.name, single.per_unit, counted.formula, counted.count
        ),
        Some(several) => {
            let groups = layer
                .parameter_total
                .as_ref()
                .and_then(|total| map_groups(&total.formula, kernel_area(layer)))
                .filter(|groups| groups.len() == several.len());
            let inputs = layer.input_shapes.first().map_or(0, |s| s.channels());
            let parts: Vec<String> = several
                .iter()
                .enumerate()
                .map(|(index, split)| {
                    let whose = match groups.as_ref().and_then(|g| g.get(index)) {
                        Some(group) if group.maps == 1 => {
                            format!(" of the map reading {}", input_maps(group.reads, inputs))
                        }
                        Some(group) => format!(
                            " of the {} maps reading {}",
                            group.maps,
                            input_maps(group.reads, inputs)
                        ),
                        None => String::new(),
                    };
                    group_sentence(split, &whose, links)
                })
                .collect();
            format!(
                "{}; so {} = {} connections.",
                parts.join("; "),
                counted.formula,
                counted.count
            )
        }
        None => format!("{} = {} connections.", counted.formula, counted.count),
    }
}

fn kernel_area(layer: &LayerInfo) -> u64 {
    match layer.step {
        ReceptiveStep::Window(window) => window.kernel.iter().fold(1, |a, &k| a.saturating_mul(k)),
        _ => 0,
    }
}

fn group_sentence(split: &Split, whose: &str, links: &str) -> String {
    format!(
        "the {} units{whose} are each connected to {} units{links}",
        split.units, split.per_unit
    )
}

fn receptive(analysis: &Analysis, layer: &LayerInfo) -> String {
    let previous = layer.inputs.join(" and ");
    let in_input = match layer.receptive_field {
        ReceptiveField::Whole => "the whole input".to_string(),
        ReceptiveField::Window { size, .. } => format!("{} of the input", size.described()),
        ReceptiveField::Uneven => {
            "a part of the input whose size varies from unit to unit".to_string()
        }
    };
    match layer.step {
        ReceptiveStep::Whole => {
            format!("all units of {previous} (fully connected), so {in_input}.")
        }
        ReceptiveStep::Pointwise => {
            format!("one unit of {previous}, at the same place, so still {in_input}.")
        }
        ReceptiveStep::Uneven => {
            let part = format!(
                "a part of {previous} that is not the same window for every unit (an output step \
                 moves a fraction of an input unit, or the bins are uneven)"
            );
            match layer.receptive_field {
                ReceptiveField::Whole => {
                    format!(
                        "{part}; {previous} already sees the whole input, so this layer does too."
                    )
                }
                _ => format!("{part}, so {in_input}; netcalc gives no one size for it."),
            }
        }
        ReceptiveStep::Window(window) => {
            let mut text = match *window.kernel {
                [_] => format!("{} of {previous}", window.kernel.described()),
                _ => format!("{} units of {previous}", window.kernel),
            };
            match growth(analysis, layer) {
                Some(growth) => text.push_str(&format!("; in the input {growth}.")),
                None => text.push_str(&format!(", so {in_input}.")),
            }
            text
        }
    }
}

/// `1+(5-1)·1 = 5, so 5×5`: the previous layer's field grows by (F-1) steps of its jump.
fn growth(analysis: &Analysis, layer: &LayerInfo) -> Option<String> {
    let (ReceptiveStep::Window(window), ReceptiveField::Window { size, .. }) =
        (layer.step, layer.receptive_field)
    else {
        return None;
    };
    let [input] = layer.inputs.as_slice() else {
        return None;
    };
    let previous = analysis.layers.iter().find(|l| l.name == *input)?;
    let ReceptiveField::Window {
        size: before, jump, ..
    } = previous.receptive_field
    else {
        return None;
    };
    let axis_formula = |axis: usize| {
        let mut steps = vec![
            Expression::difference(
                Expression::Number(window.kernel[axis]),
                Expression::Number(1),
            ),
            Expression::Number(jump[axis]),
        ];
        if window.dilation[axis] != 1 {
            steps.insert(1, Expression::Number(window.dilation[axis]));
        }
        Expression::sum(vec![
            Expression::Number(before[axis]),
            Expression::product(steps),
        ])
    };
    let formulas: Vec<Expression> = (0..size.len()).map(axis_formula).collect();
    for (formula, &value) in formulas.iter().zip(size.iter()) {
        if formula.count().ok()? != value {
            return None;
        }
    }
    let text = match formulas.as_slice() {
        [first, rest @ ..] if rest.iter().all(|other| other == first) => {
            format!("{first} = {}", size[0])
        }
        several => several
            .iter()
            .zip(size.iter())
            .map(|(formula, value)| format!("{formula} = {value}"))
            .collect::<Vec<_>>()
            .join(" by "),
    };
    Some(format!("{text}, so {}", size.described()))
}

fn macs(layer: &LayerInfo) -> String {
    let macs = &layer.macs;
    if let Some(words) = layer.explanation.as_ref().and_then(|e| e.macs.as_ref()) {
        return format!("{words}: {} = {}.", macs.formula, macs.count);
    }
    if macs.count == 0 {
        return "none (no weights to multiply).".to_string();
    }
    if macs.formula == layer.connections_without_bias.formula {
        return format!(
            "one multiply-accumulate per connection without bias: {}.",
            macs.count
        );
    }
    if Some(macs.count) == layer.output.units() {
        return format!("one per output unit: {} = {}.", macs.formula, macs.count);
    }
    if macs.is_plain() {
        format!("{}.", macs.count)
    } else {
        format!("{} = {}.", macs.formula, macs.count)
    }
}

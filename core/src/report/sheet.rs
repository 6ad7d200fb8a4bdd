//! `netcalc table`: the exercise sheet's table (exercise 4c): Name | Input | Output dim. calc. |
//! Output | Num. params (% of total), one row per layer after the input, and a total.

use super::Grid;
use super::numbers::percent;
use crate::analysis::{Analysis, LayerInfo};
use crate::shape::Rounding;

/// The table's rows.
pub fn grid(analysis: &Analysis) -> Grid {
    let total = analysis.totals.parameters();
    let mut grid = Grid {
        title: format!("{}: output sizes and parameters", analysis.network),
        header: [
            "Name",
            "Input",
            "Output dim. calc.",
            "Output",
            "Num. params (% of total)",
        ]
        .map(String::from)
        .to_vec(),
        right_aligned: vec![],
        rows: Vec::new(),
        notes: Vec::new(),
    };
    let mut rounded = Vec::new();
    for info in analysis
        .layers
        .iter()
        .filter(|info| !info.input_shapes.is_empty())
    {
        grid.rows.push(vec![
            name(info),
            info.input_shapes
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" + "),
            size_formula(info),
            info.output.to_string(),
            parameters(info, total),
        ]);
        for formula in &info.formulas {
            if let Some(rounding) = formula.rounded
                && !rounded.contains(&rounding)
            {
                rounded.push(rounding);
            }
        }
    }
    let terms: Vec<String> = analysis
        .layers
        .iter()
        .filter(|info| info.parameter_count() > 0)
        .map(|info| info.parameter_count().to_string())
        .collect();
    grid.rows.push(vec![
        "Total".to_string(),
        String::new(),
        String::new(),
        String::new(),
        total.to_string(),
    ]);
    let sum = if terms.len() > 1 {
        format!("{} = {total}", terms.join(" + "))
    } else {
        total.to_string()
    };
    grid.notes
        .push(format!("Total number of parameters: {sum}"));
    if analysis.totals.non_trainable > 0 {
        grid.notes.push(format!(
            "Trainable: {}, non-trainable: {}",
            analysis.totals.trainable, analysis.totals.non_trainable
        ));
    }
    if analysis.totals.buffers > 0 {
        grid.notes.push(format!(
            "Buffers (not parameters under PyTorch's conventions): {}",
            analysis.totals.buffers
        ));
    }
    for rounding in rounded {
        let how = match rounding {
            Rounding::Floor => "rounded down (floor), as Keras and PyTorch do",
            Rounding::Ceil => "rounded up (ceil), as Caffe does for pooling",
            Rounding::Exact => continue,
        };
        grid.notes.push(format!("→ marks a size {how}"));
    }
    grid
}

/// `CONV1 (F=11, K=96, S=4, P=0)`.
fn name(info: &LayerInfo) -> String {
    if info.settings.is_empty() {
        info.name.clone()
    } else {
        format!("{} ({})", info.name, info.settings)
    }
}

/// `(227-11)/4+1 = 55`, both axes when they differ, `–` for layers without a window.
fn size_formula(info: &LayerInfo) -> String {
    let texts: Vec<String> = info
        .formulas
        .iter()
        .map(|formula| {
            if formula.rounded.is_some() {
                format!(
                    "{} = {} → {}",
                    formula.expression, formula.exact, formula.value
                )
            } else {
                format!("{} = {}", formula.expression, formula.value)
            }
        })
        .collect();
    match texts.as_slice() {
        [] => "–".to_string(),
        [length] => length.clone(),
        [height, width] if height == width => height.clone(),
        several => info
            .formulas
            .iter()
            .zip(several)
            .map(|(formula, text)| format!("{}: {text}", formula.axis))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// `11·11·3·96+96 = 34944 (0.056%)`, `0`, or with the non-trainable part named.
fn parameters(info: &LayerInfo, total: u64) -> String {
    let Some(sum) = &info.parameter_total else {
        return "0".to_string();
    };
    let mut text = if sum.is_plain() {
        format!("{} ({})", sum.count, percent(sum.count, total))
    } else {
        format!(
            "{} = {} ({})",
            sum.formula,
            sum.count,
            percent(sum.count, total)
        )
    };
    if info.non_trainable > 0 {
        text.push_str(&format!(", {} non-trainable", info.non_trainable));
    }
    text
}

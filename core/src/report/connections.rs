//! `netcalc connections`: the sheet's LeNet-5 summary (exercise 4b): Layer | Receptive field |
//! Parameters to learn | Connections (w/o bias) | Connections (with bias), with a sum row.

use super::Grid;
use crate::analysis::Analysis;
use crate::layers::ReceptiveStep;

/// The table's rows.
pub fn grid(analysis: &Analysis) -> Grid {
    let mut grid = Grid {
        title: format!(
            "{}: receptive fields, parameters and connections",
            analysis.network
        ),
        header: [
            "Layer",
            "Receptive field",
            "Parameters to learn",
            "Connections (w/o bias)",
            "Connections (with bias)",
        ]
        .map(String::from)
        .to_vec(),
        right_aligned: vec![2, 3, 4],
        rows: Vec::new(),
        notes: vec![
            "The receptive field is with respect to the previous layer.".to_string(),
            "Connections with bias count each bias as one more connection (LeCun et al. 1998)."
                .to_string(),
        ],
    };
    for info in analysis
        .layers
        .iter()
        .filter(|info| !info.input_shapes.is_empty())
    {
        grid.rows.push(vec![
            info.name.clone(),
            receptive(info.step),
            info.trainable.to_string(),
            info.connections_without_bias.count.to_string(),
            info.connections_with_bias.count.to_string(),
        ]);
    }
    let totals = &analysis.totals;
    grid.rows.push(vec![
        "Sum".to_string(),
        "—".to_string(),
        totals.trainable.to_string(),
        totals.connections_without_bias.to_string(),
        totals.connections_with_bias.to_string(),
    ]);
    if totals.non_trainable > 0 {
        grid.notes.push(format!(
            "Not counted as parameters to learn: {} fixed (non-trainable) parameters.",
            totals.non_trainable
        ));
    }
    grid
}

/// `5×5`, `All neurons (fully connected)`, `varies (no one window)`, or `–` for layers that see
/// one unit.
fn receptive(step: ReceptiveStep) -> String {
    match step {
        ReceptiveStep::Window(window) => {
            let mut text = window.kernel.described();
            if window.dilation.iter().any(|&d| d != 1) {
                text.push_str(&format!(" (dilation {})", window.dilation));
            }
            text
        }
        ReceptiveStep::Whole => "All neurons (fully connected)".to_string(),
        ReceptiveStep::Pointwise => "–".to_string(),
        ReceptiveStep::Uneven => "varies (no one window)".to_string(),
    }
}

//! `netcalc summary`: a Keras/torchinfo-like overview: per layer its type, output shape,
//! parameters, MACs, activation memory and receptive field on the input; then the totals.

use super::Grid;
use super::numbers::{bytes, thousands};
use crate::analysis::{Analysis, ReceptiveField};

/// The overview's rows.
pub fn grid(analysis: &Analysis) -> Grid {
    let mut grid = Grid {
        title: format!("{}: summary", analysis.network),
        header: [
            "Layer (type)",
            "Output shape",
            "Param #",
            "MACs",
            "Activations",
            "Receptive field",
        ]
        .map(String::from)
        .to_vec(),
        right_aligned: vec![2, 3, 4],
        rows: Vec::new(),
        notes: Vec::new(),
    };
    for info in &analysis.layers {
        grid.rows.push(vec![
            format!("{} ({})", info.name, info.kind),
            info.output.to_string(),
            thousands(info.parameter_count()),
            thousands(info.macs.count),
            bytes(info.activation_bytes),
            field(&info.receptive_field),
        ]);
    }
    let totals = &analysis.totals;
    let mut notes = vec![
        format!(
            "Total params: {} ({} as f32)",
            thousands(totals.parameters()),
            bytes(totals.parameter_bytes())
        ),
        format!("Trainable params: {}", thousands(totals.trainable)),
        format!("Non-trainable params: {}", thousands(totals.non_trainable)),
        format!(
            "MACs per example: {} (FLOPs = 2 × MACs = {})",
            thousands(totals.macs),
            thousands(u128::from(totals.macs) * 2)
        ),
        format!(
            "Connections per example: {} without bias, {} with bias",
            thousands(totals.connections_without_bias),
            thousands(totals.connections_with_bias)
        ),
        format!(
            "Activation memory per example: {} (f32, all layer outputs)",
            bytes(totals.activation_bytes)
        ),
    ];
    if totals.buffers > 0 {
        notes.insert(
            3,
            format!(
                "Buffers: {} (running statistics, not parameters under PyTorch's conventions)",
                thousands(totals.buffers)
            ),
        );
    }
    grid.notes = notes;
    if analysis.has_auxiliary() {
        let auxiliary = &analysis.auxiliary;
        let inference = analysis.inference();
        grid.notes.push(format!(
            "Auxiliary branches (training only, in the totals above): {} params, {} MACs",
            thousands(auxiliary.parameters()),
            thousands(auxiliary.macs),
        ));
        grid.notes.push(format!(
            "Inference network (without them): {} params, {} MACs",
            thousands(inference.parameters()),
            thousands(inference.macs)
        ));
    }
    grid
}

/// `32×32` (`9` steps of a sequence) or `whole input`.
fn field(field: &ReceptiveField) -> String {
    match field {
        ReceptiveField::Window { size, .. } => size.described(),
        ReceptiveField::Whole => "whole input".to_string(),
    }
}

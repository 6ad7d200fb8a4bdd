//! `netcalc summary`: a Keras/torchinfo-like overview: per layer its type, output shape,
//! parameters, MACs, activation memory and receptive field on the input; then the totals. A
//! repeated block may be one row ("encoder_layer × 12 (8 layers each)") with the sums over its
//! copies, the output shape and field of its last layer that a layer outside it reads.

use super::numbers::{bytes, thousands};
use super::{Blocks, Grid};
use crate::analysis::{Analysis, LayerInfo, ReceptiveField};

/// The overview's rows.
pub fn grid(analysis: &Analysis, blocks: Blocks) -> Grid {
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
    let rows = match blocks {
        Blocks::Expanded => analysis.layers.iter().map(Row::Layer).collect(),
        Blocks::Collapsed => rows(analysis),
    };
    let collapsed = rows.iter().any(|row| matches!(row, Row::Block { .. }));
    for row in rows {
        grid.rows.push(match row {
            Row::Layer(info) => vec![
                format!("{} ({})", info.name, info.kind),
                info.output.to_string(),
                thousands(info.parameter_count()),
                thousands(info.macs.count),
                bytes(info.activation_bytes),
                field(&info.receptive_field),
            ],
            Row::Block {
                name,
                count,
                layers,
                exit,
            } => {
                let sum = |value: fn(&LayerInfo) -> u64| -> u64 {
                    layers.iter().map(|info| value(info)).sum()
                };
                let per_copy = layers
                    .iter()
                    .filter(|info| info.copies.0.first().is_some_and(|copy| copy.copy == 0))
                    .count();
                vec![
                    format!(
                        "{name} × {count} ({per_copy} layer{} each)",
                        if per_copy == 1 { "" } else { "s" }
                    ),
                    exit.output.to_string(),
                    thousands(sum(LayerInfo::parameter_count)),
                    thousands(sum(|info| info.macs.count)),
                    bytes(sum(|info| info.activation_bytes)),
                    field(&exit.receptive_field),
                ]
            }
        });
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
    if collapsed {
        notes.push(
            "\"NAME × N\": a repeated block, its N copies summed (--expand lists every layer)"
                .to_string(),
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

/// A row of the summary: a layer, or a repeated block's copies together.
enum Row<'a> {
    Layer(&'a LayerInfo),
    Block {
        /// The block's loop variable, or `repeat`.
        name: String,
        /// Its copies.
        count: usize,
        /// Its layers, in evaluation order.
        layers: Vec<&'a LayerInfo>,
        /// The last of them that a layer outside the block reads (else the last).
        exit: &'a LayerInfo,
    },
}

/// A row per layer outside the repeats, and one per outermost repeated block where its first
/// layer stands.
fn rows(analysis: &Analysis) -> Vec<Row<'_>> {
    let block_of = |info: &LayerInfo| info.copies.0.first().map(|copy| copy.block);
    let mut rows = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for info in &analysis.layers {
        let Some(copy) = info.copies.0.first() else {
            rows.push(Row::Layer(info));
            continue;
        };
        if seen.contains(&copy.block) {
            continue;
        }
        seen.push(copy.block);
        let layers: Vec<&LayerInfo> = analysis
            .layers
            .iter()
            .filter(|other| block_of(other) == Some(copy.block))
            .collect();
        let read_from_outside = |member: &LayerInfo| {
            analysis.layers.iter().any(|reader| {
                block_of(reader) != Some(copy.block) && reader.inputs.contains(&member.name)
            })
        };
        let exit = layers
            .iter()
            .rev()
            .copied()
            .find(|member| read_from_outside(member))
            .unwrap_or(layers[layers.len() - 1]);
        rows.push(Row::Block {
            name: copy
                .variable
                .clone()
                .unwrap_or_else(|| "repeat".to_string()),
            count: copy.count,
            layers,
            exit,
        });
    }
    rows
}

/// `32×32` (`9` steps of a sequence), `whole input`, or `varies` (no one window).
fn field(field: &ReceptiveField) -> String {
    match field {
        ReceptiveField::Window { size, .. } => size.described(),
        ReceptiveField::Whole => "whole input".to_string(),
        ReceptiveField::Uneven => "varies".to_string(),
    }
}

//! `netcalc draw --collapse`: every repeated block of the description (a `repeat`, recorded on
//! each expanded layer as [`crate::syntax::Copies`]) becomes one box, "block × 3". The box lists
//! the layers of one copy (kind and settings; `(varies)` where the copies differ), the parameters
//! and MACs of all copies together, and the output shape of the block's last layer that is read
//! from outside it. Links into and out of the block go to and from that box; links inside it
//! disappear. Blocks nested in a repeated block are part of its box.

use super::Show;
use super::diagram::{Block, Diagram, links, parameters, title};
use crate::analysis::Analysis;
use crate::graph::Network;
use crate::report::numbers::thousands;
use crate::syntax::CopyOf;

impl Diagram {
    /// The diagram with each outermost repeated block drawn as one box.
    pub fn collapsed(network: &Network, analysis: &Analysis, show: Show) -> Diagram {
        let expanded = Diagram::of(network, analysis, show);
        let order = network.order();
        // The outermost block each layer belongs to, if any.
        let outer: Vec<Option<&CopyOf>> = order
            .iter()
            .map(|&index| network.node(index).decl.copies.0.first())
            .collect();
        // Layers to boxes: a box per layer outside the repeats, one per outermost block, in the
        // order of their first layers.
        let mut box_of = vec![0usize; order.len()];
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut block_box: Vec<(usize, usize)> = Vec::new();
        for (position, copy) in outer.iter().enumerate() {
            let existing = copy.and_then(|copy| {
                block_box
                    .iter()
                    .find(|(block, _)| *block == copy.block)
                    .map(|&(_, at)| at)
            });
            let at = match existing {
                Some(at) => at,
                None => {
                    members.push(Vec::new());
                    if let Some(copy) = copy {
                        block_box.push((copy.block, members.len() - 1));
                    }
                    members.len() - 1
                }
            };
            box_of[position] = at;
            members[at].push(position);
        }
        let all_links = links(network);
        let mut collapsed_links: Vec<(usize, usize)> = Vec::new();
        for &(from, to) in &all_links {
            let link = (box_of[from], box_of[to]);
            if link.0 != link.1 && !collapsed_links.contains(&link) {
                collapsed_links.push(link);
            }
        }
        let read_from_outside = |position: usize| {
            all_links
                .iter()
                .any(|&(from, to)| from == position && box_of[to] != box_of[position])
        };
        let blocks = members
            .iter()
            .map(|layers| match outer[layers[0]] {
                None => expanded.blocks[layers[0]].clone(),
                Some(copy) => {
                    let exit = layers
                        .iter()
                        .rev()
                        .copied()
                        .find(|&position| read_from_outside(position))
                        .unwrap_or(layers[layers.len() - 1]);
                    repeated(network, analysis, show, copy, layers, exit)
                }
            })
            .collect();
        Diagram {
            name: expanded.name,
            title: title(analysis, show),
            blocks,
            links: collapsed_links,
        }
    }
}

/// The box of one repeated block.
fn repeated(
    network: &Network,
    analysis: &Analysis,
    show: Show,
    copy: &CopyOf,
    layers: &[usize],
    exit: usize,
) -> Block {
    let order = network.order();
    // Each copy's layers as (kind, settings), in order.
    let copy_layers = |wanted: usize| -> Vec<(&str, String)> {
        layers
            .iter()
            .filter(|&&position| {
                network
                    .node(order[position])
                    .decl
                    .copies
                    .0
                    .first()
                    .map(|c| c.copy)
                    == Some(wanted)
            })
            .map(|&position| {
                (
                    analysis.layers[position].kind,
                    network.node(order[position]).layer.caption().settings,
                )
            })
            .collect()
    };
    let copies: Vec<Vec<(&str, String)>> = (0..copy.count).map(copy_layers).collect();
    let first = copies.first().cloned().unwrap_or_default();
    let same_layers = copies.iter().all(|other| {
        other.len() == first.len() && other.iter().zip(&first).all(|(a, b)| a.0 == b.0)
    });
    let mut details: Vec<String> = if same_layers {
        (0..first.len())
            .map(|index| {
                let settings: Vec<&str> = copies
                    .iter()
                    .map(|layers| layers[index].1.as_str())
                    .collect();
                let merged = merged_settings(&settings);
                if merged.is_empty() {
                    first[index].0.to_string()
                } else {
                    format!("{} {merged}", first[index].0)
                }
            })
            .collect()
    } else {
        let mut lines: Vec<String> = first
            .iter()
            .map(|(kind, settings)| {
                if settings.is_empty() {
                    kind.to_string()
                } else {
                    format!("{kind} {settings}")
                }
            })
            .collect();
        lines.push("(the first copy; others differ)".to_string());
        lines
    };
    let infos = layers.iter().map(|&position| &analysis.layers[position]);
    let trainable: u64 = infos.clone().map(|info| info.trainable).sum();
    let non_trainable: u64 = infos.clone().map(|info| info.non_trainable).sum();
    let macs: u64 = infos.map(|info| info.macs.count).sum();
    if show.parameters && trainable + non_trainable > 0 {
        details.push(format!("{} in all", parameters(trainable, non_trainable)));
    }
    if show.macs && macs > 0 {
        details.push(format!("{} MACs in all", thousands(macs)));
    }
    let name = copy.variable.as_deref().unwrap_or("repeat");
    Block {
        name: format!("{name} × {}", copy.count),
        details,
        table: None,
        output: show
            .shapes
            .then(|| analysis.layers[exit].output.to_string()),
    }
}

/// One layer's settings over all copies: the parts they share as they are, the parts that differ
/// as the copies' values joined by `|` (`3×3, 32|128, relu`); just the first copy's settings
/// when the copies do not even have the same number of parts.
fn merged_settings(settings: &[&str]) -> String {
    let parts: Vec<Vec<&str>> = settings.iter().map(|s| s.split(", ").collect()).collect();
    let first = &parts[0];
    if parts.iter().any(|p| p.len() != first.len()) {
        return format!("{} (varies)", settings[0]);
    }
    (0..first.len())
        .map(|index| {
            let mut values: Vec<&str> = Vec::new();
            for part in &parts {
                if !values.contains(&part[index]) {
                    values.push(part[index]);
                }
            }
            values.join("|")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::merged_settings;

    #[test]
    fn settings_that_differ_between_copies_are_listed() {
        assert_eq!(merged_settings(&["3×3, 32, relu"]), "3×3, 32, relu");
        assert_eq!(
            merged_settings(&["3×3, 32, relu", "3×3, 128, relu", "3×3, 32, relu"]),
            "3×3, 32|128, relu"
        );
        assert_eq!(merged_settings(&["", ""]), "");
        assert_eq!(
            merged_settings(&["3×3, 32", "3×3, 32, /2"]),
            "3×3, 32 (varies)"
        );
    }
}

//! What a drawing says, before any geometry: one block per layer with its name, its kind and key
//! settings (from the kind's own [`Caption`](crate::layers::Caption)), its parameters and MACs
//! when asked for, its connection table, and its output shape for the outgoing edge. Both the
//! picture (SVG, PNG) and the DOT text are made from this, so they say the same.

use super::Show;
use crate::analysis::{Analysis, LayerInfo};
use crate::graph::Network;
use crate::report::numbers::thousands;

/// A network as blocks and links.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    /// The network's name.
    pub name: String,
    /// The line above the picture: the name and the totals shown.
    pub title: String,
    /// One per layer, in evaluation order.
    pub blocks: Vec<Block>,
    /// (from, to) as indices into `blocks`; the links into one block in the order it reads them.
    pub links: Vec<(usize, usize)>,
}

/// One layer's box.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The first line: the layer's name.
    pub name: String,
    /// The lines below it: kind and settings, parameters, MACs.
    pub details: Vec<String>,
    /// A connection table drawn under the text (`table[i][j]`: input map i feeds output map j).
    pub table: Option<Vec<Vec<bool>>>,
    /// The output shape, written beside the outgoing edge.
    pub output: Option<String>,
}

impl Diagram {
    /// The diagram of an analysed network.
    pub fn of(network: &Network, analysis: &Analysis, show: Show) -> Diagram {
        let order = network.order();
        let links = links(network);
        let blocks = order
            .iter()
            .zip(&analysis.layers)
            .map(|(&index, info)| block(info, network.node(index).layer.caption(), show))
            .collect();
        Diagram {
            name: analysis.network.clone(),
            title: title(analysis, show),
            blocks,
            links,
        }
    }
}

/// A layer's kind and key settings: `conv2d 5×5, 6, tanh`.
fn heading(info: &LayerInfo, caption: &crate::layers::Caption) -> String {
    if caption.settings.is_empty() {
        info.kind.to_string()
    } else {
        format!("{} {}", info.kind, caption.settings)
    }
}

/// Every link between layers as (from, to) positions in evaluation order; the links into one
/// layer in the order it reads them.
pub(super) fn links(network: &Network) -> Vec<(usize, usize)> {
    let order = network.order();
    let mut slot = vec![usize::MAX; network.graph().node_count()];
    for (position, index) in order.iter().enumerate() {
        slot[index.index()] = position;
    }
    let mut links = Vec::new();
    for (position, &index) in order.iter().enumerate() {
        for input in network.inputs(index) {
            links.push((slot[input.index()], position));
        }
    }
    links
}

fn block(info: &LayerInfo, caption: crate::layers::Caption, show: Show) -> Block {
    let mut details = vec![heading(info, &caption)];
    if show.parameters && info.parameter_count() > 0 {
        details.push(parameters(info.trainable, info.non_trainable));
    }
    if show.macs && info.macs.count > 0 {
        details.push(format!("{} MACs", thousands(info.macs.count)));
    }
    Block {
        name: info.name.clone(),
        details,
        table: caption.table,
        output: show.shapes.then(|| info.output.to_string()),
    }
}

/// `156 params`, `1,024 params (512 non-trainable)`, `840 non-trainable params`.
pub(super) fn parameters(trainable: u64, non_trainable: u64) -> String {
    let total = trainable + non_trainable;
    let noun = if total == 1 { "param" } else { "params" };
    match (trainable, non_trainable) {
        (_, 0) => format!("{} {noun}", thousands(total)),
        (0, _) => format!("{} non-trainable {noun}", thousands(total)),
        _ => format!(
            "{} {noun} ({} non-trainable)",
            thousands(total),
            thousands(non_trainable)
        ),
    }
}

pub(super) fn title(analysis: &Analysis, show: Show) -> String {
    let totals = &analysis.totals;
    let mut title = analysis.network.clone();
    if show.parameters {
        title.push_str(" · ");
        title.push_str(&parameters(totals.trainable, totals.non_trainable));
    }
    if show.macs {
        title.push_str(&format!(" · {} MACs", thousands(totals.macs)));
    }
    title
}

#[cfg(test)]
mod tests {
    use super::parameters;

    #[test]
    fn parameters_say_which_are_not_trained() {
        assert_eq!(parameters(156, 0), "156 params");
        assert_eq!(parameters(1, 0), "1 param");
        assert_eq!(parameters(512, 512), "1,024 params (512 non-trainable)");
        assert_eq!(parameters(0, 840), "840 non-trainable params");
    }
}

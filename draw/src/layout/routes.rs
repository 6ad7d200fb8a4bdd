//! Step 4: positions along the flow, ports and edge paths. A rank is a row as thick as its
//! thickest box (boxes centred in it), followed by a band for the labels under the boxes. Between
//! two ranks lies a channel holding only edges; it deepens with the widest sideways step an edge
//! takes in it, so that fans stay readable. An edge leaves its source at the middle of the side
//! facing the flow, runs straight through the label band (its trunk), bends in the channel as a
//! cubic curve, runs straight through every rank it passes at its virtual node's position, and
//! arrives at a port on its target: the position of the node it comes from when that lies over
//! the target (so an aligned edge stays straight), spread so that arrowheads keep apart.

use super::ranks::Layering;
use super::{Extent, Graph, Layout, Path, Placed, Point, Route, Segment, spacing};

/// Computes the positions along, the ports and the paths.
pub fn route(graph: &Graph, layering: &Layering, layers: &[Vec<usize>], across: &[f64]) -> Layout {
    let ports = ports(graph, layering, across);
    // The sideways step an edge takes in the channel after each rank.
    let mut widest_step = vec![0.0f64; layers.len()];
    for (edge, chain) in layering.chains.iter().enumerate() {
        for (index, pair) in chain.windows(2).enumerate() {
            let from = across[pair[0]];
            let to = if index + 2 == chain.len() {
                ports[edge]
            } else {
                across[pair[1]]
            };
            let rank = layering.rank[pair[0]];
            widest_step[rank] = widest_step[rank].max((to - from).abs());
        }
    }
    let along_size = |node: usize| graph.nodes.get(node).map_or(0.0, |n| n.along);
    let label_along = |node: usize| {
        graph
            .nodes
            .get(node)
            .and_then(|n| n.label)
            .map_or(0.0, |(_, along)| along)
    };
    // Each rank's start, the middle of its row, and the end of its label band.
    let mut starts = Vec::with_capacity(layers.len());
    let mut middles = Vec::with_capacity(layers.len());
    let mut ends = Vec::with_capacity(layers.len());
    let mut start = 0.0;
    for (rank, layer) in layers.iter().enumerate() {
        let thickness = layer
            .iter()
            .map(|&node| along_size(node))
            .fold(0.0, f64::max);
        let middle = start + thickness / 2.0;
        let band_end = layer
            .iter()
            .filter(|&&node| label_along(node) > 0.0)
            .map(|&node| middle + along_size(node) / 2.0 + spacing::LABEL_ALONG + label_along(node))
            .fold(start + thickness, f64::max);
        let end = band_end + spacing::BAND_END;
        starts.push(start);
        middles.push(middle);
        ends.push(end);
        let channel = (widest_step[rank] / 3.0).clamp(spacing::CHANNEL, spacing::CHANNEL_LONGEST);
        start = end + channel;
    }
    let box_start = |node: usize| middles[layering.rank[node]] - along_size(node) / 2.0;
    let box_end = |node: usize| middles[layering.rank[node]] + along_size(node) / 2.0;

    let mut has_output = vec![false; graph.nodes.len()];
    for &(from, _) in &graph.edges {
        has_output[from] = true;
    }
    let nodes: Vec<Placed> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let centre = across[index];
            let label = node.label.map(|(label_across, label_along)| Extent {
                across: centre + spacing::LABEL_ACROSS,
                along: box_end(index) + spacing::LABEL_ALONG,
                across_size: label_across,
                along_size: label_along,
            });
            let stub = match (label, has_output[index]) {
                (Some(label), false) => Some(Path {
                    start: Point::new(centre, box_end(index)),
                    segments: vec![Segment::Line(Point::new(
                        centre,
                        label.along + label.along_size,
                    ))],
                }),
                _ => None,
            };
            Placed {
                area: Extent {
                    across: centre - node.across / 2.0,
                    along: box_start(index),
                    across_size: node.across,
                    along_size: node.along,
                },
                label,
                stub,
            }
        })
        .collect();

    let edges = layering
        .chains
        .iter()
        .enumerate()
        .map(|(edge, chain)| {
            let source = chain[0];
            let target = chain[chain.len() - 1];
            let port = ports[edge];
            let mut segments = Vec::new();
            let mut at = Point::new(across[source], ends[layering.rank[source]]);
            segments.push(Segment::Line(at));
            for (index, &node) in chain.iter().enumerate().skip(1) {
                let rank = layering.rank[node];
                let last = index + 1 == chain.len();
                let (to_across, to_along) = if last {
                    (port, starts[rank] - spacing::ARROW_LENGTH)
                } else {
                    (across[node], starts[rank])
                };
                let to = Point::new(to_across, to_along);
                match bend(at, to) {
                    Segment::Line(to) => extend(&mut segments, to),
                    curve => segments.push(curve),
                }
                at = to;
                let through = if last {
                    box_start(node) - spacing::ARROW_LENGTH
                } else {
                    ends[rank]
                };
                if through > at.along {
                    at = Point::new(at.across, through);
                    extend(&mut segments, at);
                }
            }
            let tip = Point::new(port, box_start(target));
            let half = spacing::ARROW_WIDTH / 2.0;
            let base = tip.along - spacing::ARROW_LENGTH;
            Route {
                path: Path {
                    start: Point::new(across[source], box_end(source)),
                    segments,
                },
                arrow: [
                    tip,
                    Point::new(port - half, base),
                    Point::new(port + half, base),
                ],
            }
        })
        .collect();

    let across_size = (0..layering.len())
        .map(|node| across[node] + layering.after[node])
        .fold(0.0, f64::max);
    Layout {
        nodes,
        edges,
        across: across_size,
        along: ends.last().copied().unwrap_or(0.0),
    }
}

/// Adds a straight line along the flow to `to`, lengthening the last segment instead when it is
/// a line along the same position across.
fn extend(segments: &mut Vec<Segment>, to: Point) {
    if let Some(Segment::Line(last)) = segments.last_mut()
        && (last.across - to.across).abs() < 1e-9
    {
        *last = to;
        return;
    }
    segments.push(Segment::Line(to));
}

/// A straight line when the ends are aligned, else an S-curve whose control points stand
/// straight above and below its ends (so it leaves and arrives along the flow and stays
/// between their positions along).
fn bend(from: Point, to: Point) -> Segment {
    if (from.across - to.across).abs() < 1e-9 {
        return Segment::Line(to);
    }
    let middle = (from.along + to.along) / 2.0;
    Segment::Curve(
        Point::new(from.across, middle),
        Point::new(to.across, middle),
        to,
    )
}

/// The port across of every edge on its target.
fn ports(graph: &Graph, layering: &Layering, across: &[f64]) -> Vec<f64> {
    let mut ports = vec![0.0; graph.edges.len()];
    let mut arriving: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for (edge, &(_, to)) in graph.edges.iter().enumerate() {
        arriving[to].push(edge);
    }
    for (target, edges) in arriving.iter_mut().enumerate() {
        if edges.is_empty() {
            continue;
        }
        let from = |edge: usize| {
            let chain = &layering.chains[edge];
            across[chain[chain.len() - 2]]
        };
        edges.sort_by(|&a, &b| from(a).total_cmp(&from(b)).then(a.cmp(&b)));
        let centre = across[target];
        let half = graph.nodes[target].across / 2.0;
        let margin = half.min(spacing::PORT_MARGIN);
        let (low, high) = (centre - half + margin, centre + half - margin);
        let mut places: Vec<f64> = edges
            .iter()
            .map(|&edge| from(edge).clamp(low, high))
            .collect();
        for index in 1..places.len() {
            places[index] = places[index].max(places[index - 1] + spacing::PORTS);
        }
        if let Some(last) = places.last_mut() {
            *last = last.min(high);
        }
        for index in (0..places.len().saturating_sub(1)).rev() {
            places[index] = places[index].min(places[index + 1] - spacing::PORTS);
        }
        if places.first().is_some_and(|&first| first < low - 1e-9) {
            // More edges than fit at the spacing: spread them evenly.
            let count = places.len();
            for (index, place) in places.iter_mut().enumerate() {
                *place = if count == 1 {
                    centre
                } else {
                    low + (high - low) * index as f64 / (count - 1) as f64
                };
            }
        }
        for (&edge, &place) in edges.iter().zip(&places) {
            ports[edge] = place;
        }
    }
    ports
}

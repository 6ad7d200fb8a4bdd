use super::ranks::Layering;
use super::*;

fn graph(count: usize, edges: &[(usize, usize)]) -> Graph {
    Graph {
        nodes: vec![
            Node {
                across: 80.0,
                along: 30.0,
                label: Some((40.0, 12.0)),
            };
            count
        ],
        edges: edges.to_vec(),
    }
}

fn centre(layout: &Layout, node: usize) -> f64 {
    let area = &layout.nodes[node].area;
    area.across + area.across_size / 2.0
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn a_chain_runs_straight() {
    let layout = lay_out(&graph(5, &[(0, 1), (1, 2), (2, 3), (3, 4)]));
    for node in 1..5 {
        assert!(close(centre(&layout, node), centre(&layout, 0)));
    }
    for route in &layout.edges {
        assert!(
            route
                .path
                .segments
                .iter()
                .all(|segment| matches!(segment, Segment::Line(_))),
            "{route:?}"
        );
    }
}

#[test]
fn a_fork_and_join_is_centred_over_its_branches() {
    // 0 feeds 1 and 2, which both feed 3.
    let layout = lay_out(&graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]));
    let middle = (centre(&layout, 1) + centre(&layout, 2)) / 2.0;
    assert!(centre(&layout, 1) < centre(&layout, 2));
    assert!(close(centre(&layout, 0), middle));
    assert!(close(centre(&layout, 3), middle));
}

#[test]
fn a_long_edge_runs_straight_past_the_ranks_it_skips() {
    // A residual block: 0 → 1 → 2 → 3 → 4 and the shortcut 0 → 4 past three ranks.
    let layout = lay_out(&graph(5, &[(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]));
    let shortcut = &layout.edges[4].path.segments;
    // It may bend into its lane after the source and out of it before the target, nowhere else.
    let ends: Vec<f64> = shortcut
        .iter()
        .map(|segment| match segment {
            Segment::Line(to) | Segment::Curve(_, _, to) => to.across,
        })
        .collect();
    let curves: Vec<usize> = (0..shortcut.len())
        .filter(|&index| matches!(shortcut[index], Segment::Curve(..)))
        .collect();
    assert!(curves.len() <= 2, "{shortcut:?}");
    let first = curves.first().copied().unwrap_or(0);
    let last = curves.last().copied().unwrap_or(shortcut.len());
    let lane: Vec<f64> = ends[first..last.max(first + 1)].to_vec();
    assert!(
        lane.iter().all(|&across| close(across, lane[0])),
        "{shortcut:?}"
    );
    // The lane lies beside the chain's boxes, not through them.
    let right_of_chain = (1..4)
        .map(|node| {
            let area = &layout.nodes[node].area;
            area.across + area.across_size
        })
        .fold(f64::MIN, f64::max);
    assert!(lane[0] > right_of_chain || lane[0] < layout.nodes[1].area.across);
}

#[test]
fn crossings_that_can_be_avoided_are() {
    // Declared crosswise: 0 feeds 3, 1 feeds 2; 2 and 3 swap places.
    let graph = graph(4, &[(0, 3), (1, 2)]);
    let layering = Layering::of(&graph);
    let layers = order::reduce_crossings(&layering);
    assert_eq!(layers[1], vec![3, 2]);
    let layout = lay_out(&graph);
    assert!(centre(&layout, 3) < centre(&layout, 2));
}

#[test]
fn labels_sit_beside_the_trunk_below_the_box() {
    let layout = lay_out(&graph(2, &[(0, 1)]));
    let placed = &layout.nodes[0];
    let label = placed.label.expect("a label");
    assert!(close(
        label.across,
        centre(&layout, 0) + spacing::LABEL_ACROSS
    ));
    assert!(close(
        label.along,
        placed.area.along + placed.area.along_size + spacing::LABEL_ALONG
    ));
    // A last node with a label gets a stub to stand beside.
    assert!(layout.nodes[1].stub.is_some());
    assert!(layout.nodes[0].stub.is_none());
}

#[test]
fn the_same_graph_gives_the_same_layout() {
    let edges = [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 4),
        (2, 4),
        (3, 5),
        (4, 5),
        (0, 5),
    ];
    assert_eq!(lay_out(&graph(6, &edges)), lay_out(&graph(6, &edges)));
}

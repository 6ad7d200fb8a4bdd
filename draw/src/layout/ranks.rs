//! Step 1: ranks by the longest path from the sources (a layer sits one rank below the deepest
//! layer it reads, as data flows), and virtual nodes on the ranks a long edge passes, so that
//! every edge joins two neighbouring ranks.

use super::{Graph, spacing};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The graph made proper: real nodes (the graph's, first) and virtual ones, each on a rank.
#[derive(Debug, Clone)]
pub struct Layering {
    /// How many of the nodes are the graph's own (they come first).
    pub real: usize,
    /// The rank of every node.
    pub rank: Vec<usize>,
    /// How many ranks there are.
    pub ranks: usize,
    /// Per node, its neighbours on the rank before (one entry per edge).
    pub upper: Vec<Vec<usize>>,
    /// Per node, its neighbours on the rank after (one entry per edge).
    pub lower: Vec<Vec<usize>>,
    /// Per edge of the graph: its source, the virtual nodes it passes, its target.
    pub chains: Vec<Vec<usize>>,
    /// Per node, how far its column reaches before its centre (across).
    pub before: Vec<f64>,
    /// Per node, how far its column reaches after its centre (across), label included.
    pub after: Vec<f64>,
}

impl Layering {
    /// Ranks the graph and adds the virtual nodes.
    pub fn of(graph: &Graph) -> Layering {
        let real = graph.nodes.len();
        let mut rank = longest_path_ranks(graph);
        let mut upper = vec![Vec::new(); real];
        let mut lower = vec![Vec::new(); real];
        let mut chains = Vec::with_capacity(graph.edges.len());
        for &(from, to) in &graph.edges {
            let mut chain = vec![from];
            for passed in rank[from] + 1..rank[to] {
                let node = rank.len();
                rank.push(passed);
                upper.push(Vec::new());
                lower.push(Vec::new());
                chain.push(node);
            }
            chain.push(to);
            for pair in chain.windows(2) {
                lower[pair[0]].push(pair[1]);
                upper[pair[1]].push(pair[0]);
            }
            chains.push(chain);
        }
        let mut before = vec![0.0; rank.len()];
        let mut after = vec![0.0; rank.len()];
        for (index, node) in graph.nodes.iter().enumerate() {
            before[index] = node.across / 2.0;
            after[index] = match node.label {
                Some((across, _)) => (node.across / 2.0).max(spacing::LABEL_ACROSS + across),
                None => node.across / 2.0,
            };
        }
        Layering {
            real,
            ranks: rank.iter().max().map_or(0, |&last| last + 1),
            rank,
            upper,
            lower,
            chains,
            before,
            after,
        }
    }

    /// Whether a node is virtual (a point of a long edge).
    pub fn is_virtual(&self, node: usize) -> bool {
        node >= self.real
    }

    /// How many nodes there are, virtual ones included.
    pub fn len(&self) -> usize {
        self.rank.len()
    }
}

/// Each node's rank: 0 for sources, else one more than its deepest input. Nodes are taken in
/// topological order, the lowest index first among those ready.
fn longest_path_ranks(graph: &Graph) -> Vec<usize> {
    let count = graph.nodes.len();
    let mut inputs_left = vec![0usize; count];
    let mut outputs: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(from, to) in &graph.edges {
        inputs_left[to] += 1;
        outputs[from].push(to);
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
        .filter(|&node| inputs_left[node] == 0)
        .map(Reverse)
        .collect();
    let mut rank = vec![0usize; count];
    let mut seen = 0;
    while let Some(Reverse(node)) = ready.pop() {
        seen += 1;
        for &next in &outputs[node] {
            rank[next] = rank[next].max(rank[node] + 1);
            inputs_left[next] -= 1;
            if inputs_left[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    assert_eq!(seen, count, "the layout needs an acyclic graph");
    rank
}

//! Step 3: each node's position across, by Brandes and Köpf ("Fast and Simple Horizontal
//! Coordinate Assignment", Graph Drawing 2001). Four times (sweeping down or up, from the left or
//! from the right) every node is aligned with a median neighbour on the rank before it, unless
//! that alignment would cross one made earlier in the rank or an edge between two virtual nodes
//! (a long edge's inner segment, which is kept straight first). Aligned nodes form blocks that
//! share one coordinate; blocks are pushed as close as the columns allow. The four results are
//! aligned to the narrowest and each node takes the mean of its two middle values.
//!
//! Each of the four keeps every pair of neighbours in a rank at least their columns apart, and so
//! does the balanced result: for neighbours a before b, each value of b exceeds the value of a in
//! the same run by the distance, so the k-th smallest of b's four exceeds the k-th smallest of
//! a's by it too.

use super::ranks::Layering;
use super::spacing;
use std::collections::HashSet;

/// The position across of every node (real and virtual): its centre.
pub fn assign(layering: &Layering, layers: &[Vec<usize>]) -> Vec<f64> {
    let count = layering.len();
    let mut position = vec![0usize; count];
    for layer in layers {
        for (index, &node) in layer.iter().enumerate() {
            position[node] = index;
        }
    }
    let conflicts = inner_segment_conflicts(layering, layers, &position);
    let mut runs = Vec::with_capacity(4);
    for downwards in [true, false] {
        for from_left in [true, false] {
            let run = Run {
                layering,
                layers,
                position: &position,
                conflicts: &conflicts,
                downwards,
                from_left,
            };
            runs.push((from_left, run.coordinates()));
        }
    }
    // Align the four to the narrowest: the left runs by their lowest point, the right runs by
    // their highest.
    let bounds = |xs: &[f64]| {
        (0..count).fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), node| {
            (
                low.min(xs[node] - layering.before[node]),
                high.max(xs[node] + layering.after[node]),
            )
        })
    };
    let (narrowest_low, narrowest_high) = runs
        .iter()
        .map(|(_, xs)| bounds(xs))
        .min_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
        .unwrap_or((0.0, 0.0));
    for (from_left, xs) in &mut runs {
        let (low, high) = bounds(xs);
        let shift = if *from_left {
            narrowest_low - low
        } else {
            narrowest_high - high
        };
        xs.iter_mut().for_each(|x| *x += shift);
    }
    let mut balanced: Vec<f64> = (0..count)
        .map(|node| {
            let mut values = [
                runs[0].1[node],
                runs[1].1[node],
                runs[2].1[node],
                runs[3].1[node],
            ];
            values.sort_by(f64::total_cmp);
            (values[1] + values[2]) / 2.0
        })
        .collect();
    let (low, _) = bounds(&balanced);
    if low.is_finite() {
        balanced.iter_mut().for_each(|x| *x -= low);
    }
    balanced
}

/// The least distance between the centres of neighbours `a` (first) and `b` in a rank.
fn separation(layering: &Layering, a: usize, b: usize) -> f64 {
    let gap = if layering.is_virtual(a) || layering.is_virtual(b) {
        spacing::EDGES
    } else {
        spacing::BOXES
    };
    layering.after[a] + gap + layering.before[b]
}

/// Edges (upper, lower) that cross an inner segment (an edge between two virtual nodes): they
/// must not be aligned, so that long edges stay straight (type 1 conflicts).
fn inner_segment_conflicts(
    layering: &Layering,
    layers: &[Vec<usize>],
    position: &[usize],
) -> HashSet<(usize, usize)> {
    let mut conflicts = HashSet::new();
    for layer in layers {
        let edges: Vec<(usize, usize)> = layer
            .iter()
            .flat_map(|&upper| {
                layering.lower[upper]
                    .iter()
                    .map(move |&lower| (upper, lower))
            })
            .collect();
        let inner: Vec<(usize, usize)> = edges
            .iter()
            .copied()
            .filter(|&(u, l)| layering.is_virtual(u) && layering.is_virtual(l))
            .collect();
        for &(upper, lower) in &edges {
            if layering.is_virtual(upper) && layering.is_virtual(lower) {
                continue;
            }
            let crosses = inner.iter().any(|&(u, l)| {
                (position[upper] < position[u] && position[lower] > position[l])
                    || (position[upper] > position[u] && position[lower] < position[l])
            });
            if crosses {
                conflicts.insert((upper, lower));
            }
        }
    }
    conflicts
}

/// One of the four alignments and its compaction.
struct Run<'a> {
    layering: &'a Layering,
    layers: &'a [Vec<usize>],
    position: &'a [usize],
    conflicts: &'a HashSet<(usize, usize)>,
    /// Align with upper neighbours (else lower ones).
    downwards: bool,
    /// Take ranks from the left (else mirrored).
    from_left: bool,
}

impl Run<'_> {
    /// A node's place in its rank as this run sees it.
    fn place(&self, node: usize) -> usize {
        if self.from_left {
            self.position[node]
        } else {
            self.layers[self.layering.rank[node]].len() - 1 - self.position[node]
        }
    }

    /// A rank's nodes in this run's order.
    fn ordered(&self, rank: usize) -> Vec<usize> {
        let mut nodes = self.layers[rank].clone();
        if !self.from_left {
            nodes.reverse();
        }
        nodes
    }

    fn coordinates(&self) -> Vec<f64> {
        let count = self.layering.len();
        let mut root: Vec<usize> = (0..count).collect();
        let mut align: Vec<usize> = (0..count).collect();
        let ranks: Vec<usize> = if self.downwards {
            (0..self.layers.len()).collect()
        } else {
            (0..self.layers.len()).rev().collect()
        };
        for &rank in ranks.iter().skip(1) {
            let mut reached: Option<usize> = None;
            for node in self.ordered(rank) {
                let neighbours = if self.downwards {
                    &self.layering.upper[node]
                } else {
                    &self.layering.lower[node]
                };
                // Conflicts are kept as (upper, lower) edges.
                let edge = |neighbour: usize| {
                    if self.downwards {
                        (neighbour, node)
                    } else {
                        (node, neighbour)
                    }
                };
                if neighbours.is_empty() {
                    continue;
                }
                let mut sorted = neighbours.to_vec();
                sorted.sort_by_key(|&n| self.place(n));
                let last = sorted.len() - 1;
                let mut medians = vec![last / 2];
                if last % 2 == 1 {
                    medians.push(last / 2 + 1);
                }
                for median in medians {
                    if align[node] != node {
                        break;
                    }
                    let neighbour = sorted[median];
                    let free = reached.is_none_or(|r| r < self.place(neighbour));
                    if free && !self.conflicts.contains(&edge(neighbour)) {
                        align[neighbour] = node;
                        root[node] = root[neighbour];
                        align[node] = root[node];
                        reached = Some(self.place(neighbour));
                    }
                }
            }
        }
        self.compact(&root)
    }

    /// Places every block as near the start as the columns before it allow: a longest path
    /// over the blocks, in topological order (blocks never cross, so they form a DAG).
    fn compact(&self, root: &[usize]) -> Vec<f64> {
        let count = self.layering.len();
        let mut after: Vec<Vec<(usize, f64)>> = vec![Vec::new(); count];
        let mut waiting = vec![0usize; count];
        for rank in 0..self.layers.len() {
            let nodes = self.ordered(rank);
            for pair in nodes.windows(2) {
                let (first, second) = (pair[0], pair[1]);
                let distance = if self.from_left {
                    separation(self.layering, first, second)
                } else {
                    separation(self.layering, second, first)
                };
                after[root[first]].push((root[second], distance));
                waiting[root[second]] += 1;
            }
        }
        let mut block_at = vec![0.0f64; count];
        let mut ready: Vec<usize> = (0..count)
            .filter(|&node| root[node] == node && waiting[node] == 0)
            .collect();
        ready.reverse();
        while let Some(block) = ready.pop() {
            for &(next, distance) in &after[block] {
                block_at[next] = block_at[next].max(block_at[block] + distance);
                waiting[next] -= 1;
                if waiting[next] == 0 {
                    ready.push(next);
                }
            }
        }
        let sign = if self.from_left { 1.0 } else { -1.0 };
        (0..count).map(|node| sign * block_at[root[node]]).collect()
    }
}

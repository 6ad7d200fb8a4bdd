//! Step 2: the order of the nodes within each rank, chosen to have few edge crossings. Start
//! from declaration order (a rank's nodes sorted by the mean position of their inputs), then
//! sweep down and up, sorting each rank by the weighted median position of its neighbours on the
//! rank just swept (Gansner et al. 1993, as graphviz's `dot`), and swap neighbours while that
//! removes crossings. The order with the fewest crossings seen is kept. Crossings between two
//! ranks are counted in O(E log V) by counting inversions (Barth, Jünger and Mutzel 2004).

use super::ranks::Layering;

/// Sweeps tried at most (each one down or up).
const SWEEPS: usize = 24;
/// Sweeps without improvement after which the search stops.
const PATIENCE: usize = 6;

/// The nodes of each rank, in their order across.
pub fn reduce_crossings(layering: &Layering) -> Vec<Vec<usize>> {
    let mut order = Order::initial(layering);
    let mut best = order.layers.clone();
    let mut fewest = order.crossings(layering);
    let mut stale = 0;
    for sweep in 0..SWEEPS {
        if fewest == 0 || stale == PATIENCE {
            break;
        }
        let downwards = sweep % 2 == 0;
        order.median_sweep(layering, downwards);
        order.transpose(layering);
        let crossings = order.crossings(layering);
        if crossings < fewest {
            fewest = crossings;
            best = order.layers.clone();
            stale = 0;
        } else {
            stale += 1;
        }
    }
    best
}

struct Order {
    layers: Vec<Vec<usize>>,
    position: Vec<usize>,
}

impl Order {
    /// Rank by rank: sources in index order, then each rank by the mean position of its upper
    /// neighbours (ties by index, so declaration order decides).
    fn initial(layering: &Layering) -> Order {
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layering.ranks];
        for node in 0..layering.len() {
            layers[layering.rank[node]].push(node);
        }
        let mut position = vec![0; layering.len()];
        for (rank, layer) in layers.iter_mut().enumerate() {
            if rank > 0 {
                let mean = |node: usize| {
                    let upper = &layering.upper[node];
                    upper.iter().map(|&u| position[u] as f64).sum::<f64>() / upper.len() as f64
                };
                layer.sort_by(|&a, &b| mean(a).total_cmp(&mean(b)).then(a.cmp(&b)));
            }
            for (index, &node) in layer.iter().enumerate() {
                position[node] = index;
            }
        }
        Order { layers, position }
    }

    fn renumber(&mut self, rank: usize) {
        for (index, &node) in self.layers[rank].iter().enumerate() {
            self.position[node] = index;
        }
    }

    /// Sorts every rank by the median of its neighbours on the rank before it in the sweep.
    /// Nodes with no such neighbour keep their places.
    fn median_sweep(&mut self, layering: &Layering, downwards: bool) {
        let ranks: Vec<usize> = if downwards {
            (1..self.layers.len()).collect()
        } else {
            (0..self.layers.len().saturating_sub(1)).rev().collect()
        };
        for rank in ranks {
            let medians: Vec<Option<f64>> = self.layers[rank]
                .iter()
                .map(|&node| {
                    let neighbours = if downwards {
                        &layering.upper[node]
                    } else {
                        &layering.lower[node]
                    };
                    let mut places: Vec<usize> =
                        neighbours.iter().map(|&n| self.position[n]).collect();
                    places.sort_unstable();
                    weighted_median(&places)
                })
                .collect();
            let mut movable: Vec<(f64, usize, usize)> = self.layers[rank]
                .iter()
                .zip(&medians)
                .enumerate()
                .filter_map(|(index, (&node, median))| median.map(|m| (m, index, node)))
                .collect();
            movable.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut sorted = movable.into_iter().map(|(_, _, node)| node);
            let layer: Vec<usize> = self.layers[rank]
                .iter()
                .zip(&medians)
                .map(|(&node, median)| match median {
                    None => node,
                    Some(_) => sorted.next().unwrap_or(node),
                })
                .collect();
            self.layers[rank] = layer;
            self.renumber(rank);
        }
    }

    /// Swaps neighbours within a rank while that lowers the crossings with both adjacent ranks.
    fn transpose(&mut self, layering: &Layering) {
        for _ in 0..8 {
            let mut improved = false;
            for rank in 0..self.layers.len() {
                for index in 1..self.layers[rank].len() {
                    let left = self.layers[rank][index - 1];
                    let right = self.layers[rank][index];
                    let now = self.pair_crossings(layering, left, right);
                    let swapped = self.pair_crossings(layering, right, left);
                    if swapped < now {
                        self.layers[rank].swap(index - 1, index);
                        self.renumber(rank);
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Crossings among the edges of `left` and `right` if `left` stands first.
    fn pair_crossings(&self, layering: &Layering, left: usize, right: usize) -> usize {
        let count = |a: &[usize], b: &[usize]| {
            a.iter()
                .map(|&x| {
                    b.iter()
                        .filter(|&&y| self.position[x] > self.position[y])
                        .count()
                })
                .sum::<usize>()
        };
        count(&layering.upper[left], &layering.upper[right])
            + count(&layering.lower[left], &layering.lower[right])
    }

    /// All crossings between neighbouring ranks.
    fn crossings(&self, layering: &Layering) -> usize {
        (1..self.layers.len())
            .map(|rank| {
                let mut edges: Vec<(usize, usize)> = self.layers[rank - 1]
                    .iter()
                    .flat_map(|&upper| {
                        layering.lower[upper]
                            .iter()
                            .map(move |&lower| (upper, lower))
                    })
                    .map(|(upper, lower)| (self.position[upper], self.position[lower]))
                    .collect();
                edges.sort_unstable();
                inversions(
                    edges.iter().map(|&(_, lower)| lower),
                    self.layers[rank].len(),
                )
            })
            .sum()
    }
}

/// The median of sorted positions, weighted towards the side where they are closer together
/// when their number is even (Gansner et al. 1993); `None` without positions.
fn weighted_median(places: &[usize]) -> Option<f64> {
    let count = places.len();
    let middle = count / 2;
    match count {
        0 => None,
        _ if count % 2 == 1 => Some(places[middle] as f64),
        2 => Some((places[0] + places[1]) as f64 / 2.0),
        _ => {
            let left = (places[middle - 1] - places[0]) as f64;
            let right = (places[count - 1] - places[middle]) as f64;
            if left + right == 0.0 {
                Some((places[middle - 1] + places[middle]) as f64 / 2.0)
            } else {
                Some(
                    (places[middle - 1] as f64 * right + places[middle] as f64 * left)
                        / (left + right),
                )
            }
        }
    }
}

/// Pairs out of order in a sequence of values below `bound` (a Fenwick tree of counts).
fn inversions(values: impl Iterator<Item = usize>, bound: usize) -> usize {
    let mut tree = vec![0usize; bound + 1];
    let mut total = 0;
    for (seen, value) in values.enumerate() {
        // Values seen so far that are greater than this one.
        let mut at_most = 0;
        let mut index = value + 1;
        while index > 0 {
            at_most += tree[index];
            index &= index - 1;
        }
        total += seen - at_most;
        let mut index = value + 1;
        while index <= bound {
            tree[index] += 1;
            index += index & index.wrapping_neg();
        }
    }
    total
}

/// Crossings counted pair by pair: the reference for [`inversions`].
#[cfg(test)]
pub(super) fn naive_crossings(edges: &[(usize, usize)]) -> usize {
    use std::cmp::Ordering;
    let mut count = 0;
    for (i, a) in edges.iter().enumerate() {
        for b in &edges[i + 1..] {
            if (a.0.cmp(&b.0) == Ordering::Less && a.1 > b.1)
                || (a.0.cmp(&b.0) == Ordering::Greater && a.1 < b.1)
            {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inversions_count_crossing_pairs() {
        // Edges (upper, lower) sorted by upper: (0,2) (1,0) (1,1) (2,0) cross in 4 pairs.
        let edges = [(0, 2), (1, 0), (1, 1), (2, 0)];
        assert_eq!(inversions(edges.iter().map(|e| e.1), 3), 4);
        assert_eq!(naive_crossings(&edges), 4);
        // Edges from one node or into one node never cross each other.
        assert_eq!(inversions([0, 1, 1, 2].into_iter(), 3), 0);
    }

    #[test]
    fn medians_lean_towards_the_closer_side() {
        assert_eq!(weighted_median(&[]), None);
        assert_eq!(weighted_median(&[3]), Some(3.0));
        assert_eq!(weighted_median(&[1, 4]), Some(2.5));
        // 0 1 | 2 ... 9: the left pair is tighter, so the median sits nearer 1.
        let median = weighted_median(&[0, 1, 2, 9]).expect("four places");
        assert!(median > 1.0 && median < 1.5, "{median}");
    }
}

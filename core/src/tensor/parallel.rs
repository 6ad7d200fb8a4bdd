//! Splitting kernel work into a fixed number of contiguous parts run on the current rayon pool.
//! The split depends only on the sizes and the part count, so results are reproducible. Without
//! the `executor` feature (the browser build) the parts run one after another on this thread,
//! in the same order, with the same results.

use std::ops::Range;

/// Runs `work` on every item, on the current rayon pool (one item per task), and returns the
/// results in item order.
#[cfg(feature = "executor")]
pub(crate) fn map_each<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    use rayon::prelude::*;
    items.into_par_iter().with_max_len(1).map(&work).collect()
}

/// Runs `work` on every item in order on this thread (no `executor` feature: no threads).
#[cfg(not(feature = "executor"))]
pub(crate) fn map_each<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    items.into_iter().map(work).collect()
}

/// Cuts `0..total` into at most `parts` non-empty contiguous ranges whose lengths differ by at
/// most one (the longer ones first).
pub(crate) fn split(total: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.clamp(1, total.max(1));
    let base = total / parts;
    let longer = total % parts;
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    for part in 0..parts {
        let length = base + usize::from(part < longer);
        if length > 0 {
            ranges.push(start..start + length);
        }
        start += length;
    }
    ranges
}

/// Runs `work(items, slice)` on `data` viewed as consecutive items of `item_length` values, cut
/// into at most `parts` parts of whole items; each call gets its item range and those values.
/// Returns the results in part order (one call, on an empty range, when there are no items).
pub(crate) fn for_each_part<T: Send, R: Send>(
    data: &mut [T],
    item_length: usize,
    parts: usize,
    work: impl Fn(Range<usize>, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let items = data.len().checked_div(item_length).unwrap_or(0);
    let ranges = split(items, parts);
    if ranges.len() <= 1 {
        return vec![work(0..items, data)];
    }
    let mut pieces = Vec::with_capacity(ranges.len());
    let mut rest = data;
    for range in ranges {
        let (piece, tail) = rest.split_at_mut(range.len() * item_length);
        pieces.push((range, piece));
        rest = tail;
    }
    map_each(pieces, |(range, piece)| work(range, piece))
}

/// How many parts a kernel cuts a sum into when the split must not depend on the thread count
/// (enough for 16 threads).
pub(crate) const FIXED_PARTS: usize = 16;

/// Runs `work` on the `parts` parts of `0..total` (see [`split`]), on at most `threads` tasks
/// (each takes a contiguous run of parts), and returns the results in part order. The parts,
/// and so the results, do not depend on `threads`.
pub(crate) fn map_fixed_parts<R: Send>(
    total: usize,
    parts: usize,
    threads: usize,
    work: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    let ranges = split(total, parts);
    let groups = split(ranges.len(), threads);
    if groups.len() <= 1 {
        return ranges.into_iter().map(work).collect();
    }
    let results: Vec<Vec<R>> = map_each(groups, |group| {
        ranges[group].iter().cloned().map(&work).collect()
    });
    results.into_iter().flatten().collect()
}

/// Runs `work` on the parts of `0..total` (see [`split`]) and returns the results in part order.
pub(crate) fn map_parts<R: Send>(
    total: usize,
    parts: usize,
    work: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    let ranges = split(total, parts);
    if ranges.len() <= 1 {
        return ranges.into_iter().map(work).collect();
    }
    map_each(ranges, &work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_everything_once_in_order() {
        assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split(2, 4), vec![0..1, 1..2]);
        assert_eq!(split(0, 2), Vec::<Range<usize>>::new());
        assert_eq!(split(5, 1), vec![0..5]);
    }

    #[test]
    fn for_each_part_hands_out_matching_slices() {
        let mut data = vec![0usize; 12];
        for_each_part(&mut data, 3, 3, |items, slice| {
            assert_eq!(slice.len(), items.len() * 3);
            for (offset, value) in slice.iter_mut().enumerate() {
                *value = items.start * 3 + offset;
            }
        });
        assert_eq!(data, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn map_parts_keeps_part_order() {
        let sums = map_parts(10, 3, |range| range.sum::<usize>());
        assert_eq!(sums, vec![6, 15, 24]);
    }
}

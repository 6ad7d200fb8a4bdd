//! Matches a hand table's rows to the network's layers. First by name, case-insensitively
//! (`CONV1`, `conv1`); then loosely, in order (`C1` for `CONV1`, `DROPOUT` for `DROPOUT1`,
//! `Input` for the input layer); then by position, when the rows left between two matched rows
//! are as many as the layers left between them. `Sum` and `Total` rows stand for the network's
//! totals. A layer needs a row when it has parameters, a window or reads all units of its input
//! (conv, pooling, subsampling, dense, …); rows for layers that only pass values on (input,
//! dropout, flatten, activation, normalisation, merges) are optional.

use crate::analysis::LayerInfo;
use crate::layers::ReceptiveStep;

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The layer at this index of the analysis.
    Layer(usize),
    /// The network's totals.
    Total,
}

/// How a row was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// By its name.
    Name,
    /// By a short form of the name or the layer's kind, in order.
    Loosely,
    /// By its position between matched rows.
    Position,
}

/// Rows matched to layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    /// Per row: what it stands for and how it was matched (`None`: an extra row).
    pub rows: Vec<Option<(Subject, How)>>,
    /// Layers (indices) that need a row and have none.
    pub missing: Vec<usize>,
}

/// Whether a layer must appear in a hand table.
pub fn required(layer: &LayerInfo) -> bool {
    !layer.input_shapes.is_empty()
        && (layer.parameter_count() > 0
            || !layer.formulas.is_empty()
            || matches!(layer.step, ReceptiveStep::Whole | ReceptiveStep::Uneven))
}

/// Whether a row name stands for the totals.
pub fn is_total(name: &str) -> bool {
    matches!(
        name.to_lowercase().as_str(),
        "sum" | "total" | "totals" | "σ" | "∑" | "overall"
    )
}

/// Matches rows (by the name each row gives, empty when there is none) to layers.
pub fn match_rows(names: &[String], layers: &[LayerInfo]) -> Matching {
    let mut rows: Vec<Option<(Subject, How)>> = vec![None; names.len()];
    let mut taken = vec![false; layers.len()];
    for (row, name) in names.iter().enumerate() {
        if is_total(name) {
            rows[row] = Some((Subject::Total, How::Name));
        } else if let Some(index) = layers
            .iter()
            .enumerate()
            .position(|(i, layer)| !taken[i] && layer.name.eq_ignore_ascii_case(name))
        {
            taken[index] = true;
            rows[row] = Some((Subject::Layer(index), How::Name));
        }
    }
    for row in 0..names.len() {
        if rows[row].is_some() {
            continue;
        }
        let (after, before) = window(&rows, row, layers.len());
        if let Some(index) =
            (after..before).find(|&i| !taken[i] && loosely_named(&names[row], &layers[i]))
        {
            taken[index] = true;
            rows[row] = Some((Subject::Layer(index), How::Loosely));
        }
    }
    let mut row = 0;
    while row < names.len() {
        if rows[row].is_some() {
            row += 1;
            continue;
        }
        let gap_end = (row..names.len())
            .find(|&r| rows[r].is_some())
            .unwrap_or(names.len());
        let (after, before) = window(&rows, row, layers.len());
        let free: Vec<usize> = (after..before).filter(|&i| !taken[i]).collect();
        let needed: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&i| required(&layers[i]))
            .collect();
        let count = gap_end - row;
        let chosen = if free.len() == count {
            Some(free)
        } else if needed.len() == count {
            Some(needed)
        } else {
            None
        };
        if let Some(chosen) = chosen {
            for (offset, index) in chosen.into_iter().enumerate() {
                taken[index] = true;
                rows[row + offset] = Some((Subject::Layer(index), How::Position));
            }
        }
        row = gap_end;
    }
    let missing = (0..layers.len())
        .filter(|&i| !taken[i] && required(&layers[i]))
        .collect();
    Matching { rows, missing }
}

/// The layers a row may stand for given the rows already matched around it: after the layer of
/// the nearest matched row above, before the layer of the nearest matched row below.
fn window(rows: &[Option<(Subject, How)>], row: usize, layers: usize) -> (usize, usize) {
    let layer_of = |r: &Option<(Subject, How)>| match r {
        Some((Subject::Layer(index), _)) => Some(*index),
        _ => None,
    };
    let after = rows[..row]
        .iter()
        .rev()
        .find_map(layer_of)
        .map_or(0, |index| index + 1);
    let before = rows[row + 1..].iter().find_map(layer_of).unwrap_or(layers);
    (after, before.max(after))
}

/// `C1` for `CONV1` (first letter and number), `DROPOUT` for `DROPOUT1` (the name without its
/// number), `Input` or `norm` for a layer of that kind.
fn loosely_named(name: &str, layer: &LayerInfo) -> bool {
    let key = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    };
    let (row, own) = (key(name), key(&layer.name));
    if row.is_empty() {
        return false;
    }
    let kind_names = crate::layers::find(layer.kind)
        .map(|kind| {
            std::iter::once(kind.name)
                .chain(kind.aliases.iter().copied())
                .map(key)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if kind_names.contains(&row) {
        return true;
    }
    if let Some(rest) = own.strip_prefix(&row)
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit())
    {
        return true;
    }
    let short = |text: &str| -> Option<(char, String)> {
        let first = text.chars().next()?;
        let digits: String = text
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        (!digits.is_empty() && first.is_alphabetic()).then_some((first, digits))
    };
    matches!((short(&row), short(&own)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;

    fn layers(network: &str) -> Vec<LayerInfo> {
        let builtin = crate::builtin::find(network).expect("built-in");
        let source = Source::new(builtin.file, builtin.text);
        let network = crate::load(&source, crate::Format::Yaml).expect("loads");
        crate::analyse(&network).expect("analyses").layers
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn matched(matching: &Matching, layers: &[LayerInfo]) -> Vec<String> {
        matching
            .rows
            .iter()
            .map(|row| match row {
                Some((Subject::Layer(i), how)) => format!("{}:{how:?}", layers[*i].name),
                Some((Subject::Total, _)) => "total".to_string(),
                None => "extra".to_string(),
            })
            .collect()
    }

    #[test]
    fn the_mnist_table_matches_by_name_and_order() {
        let layers = layers("keras-mnist-cnn");
        let rows = names(&[
            "CONV1", "CONV2", "MAXPOOL1", "DROPOUT", "DENSE1", "DROPOUT", "DENSE2",
        ]);
        let matching = match_rows(&rows, &layers);
        assert_eq!(
            matched(&matching, &layers),
            vec![
                "CONV1:Name",
                "CONV2:Name",
                "MAXPOOL1:Name",
                "DROPOUT1:Loosely",
                "DENSE1:Name",
                "DROPOUT2:Loosely",
                "DENSE2:Name"
            ]
        );
        assert!(matching.missing.is_empty());
    }

    #[test]
    fn short_names_totals_missing_and_extra_rows() {
        let layers = layers("alexnet");
        let rows = names(&["conv1", "M1", "NORM", "CONV2", "CONV9", "Sum"]);
        let matching = match_rows(&rows, &layers);
        assert_eq!(
            matched(&matching, &layers),
            vec![
                "CONV1:Name",
                "MAXPOOL1:Loosely",
                "NORM:Name",
                "CONV2:Name",
                "extra",
                "total"
            ]
        );
        let missing: Vec<&str> = matching
            .missing
            .iter()
            .map(|&i| layers[i].name.as_str())
            .collect();
        assert_eq!(
            missing,
            vec![
                "MAXPOOL2", "CONV3", "CONV4", "CONV5", "MAXPOOL3", "FC6", "FC7", "FC8"
            ]
        );
    }

    #[test]
    fn unknown_names_match_by_position_when_the_counts_agree() {
        let layers = layers("lenet-5");
        let rows = names(&["C1", "pool", "C3", "S4", "C5", "F6", "Output"]);
        let matching = match_rows(&rows, &layers);
        assert_eq!(matched(&matching, &layers)[1], "S2:Position");
        assert!(matching.missing.is_empty());
    }
}

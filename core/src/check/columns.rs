//! Recognises a hand table's columns by their headers, in the sheet's wordings and their obvious
//! variants: `Name`, `Layer`, `Input`, `Output dim. calc.`, `Output`, `Num. params (% of total
//! parameters)`, `Parameters to learn`, `% of total`, `Receptive field`, `Connections (w/o
//! bias)`, `Connections (with bias)`, `MACs`.

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The layer's name, maybe with its settings: `CONV1 (F=11, K=96, S = 4, P = 0)`.
    Name,
    /// The input shape: `[227×227×3]`.
    Input,
    /// The output-size calculation: `(227-11)/4+1 = 55`.
    OutputCalculation,
    /// The output shape: `[55×55×96]`.
    Output,
    /// Parameters, maybe with the share of the total in parentheses. `trainable_only` for
    /// "parameters to learn" / "trainable".
    Parameters {
        /// Only trainable parameters count.
        trainable_only: bool,
    },
    /// The share of all parameters, as a percentage.
    Share,
    /// The receptive field in the previous layer: `5×5`, `All neurons (fully connected)`.
    ReceptiveField,
    /// The receptive field in the network's input.
    InputReceptiveField,
    /// Connections without bias.
    ConnectionsWithoutBias,
    /// Connections with bias (a plain "Connections" column too, as LeCun et al. 1998 count).
    ConnectionsWithBias,
    /// Multiply-accumulates.
    Macs,
    /// Text netcalc does not check (remarks, the layer's type or activation).
    Remark,
}

/// The columns of a header row. When two columns read as the output, the one whose header
/// speaks of a size or dimension (`Output size` beside `Output`) holds the calculation.
pub fn recognise_all(headers: &[String]) -> Vec<Option<Column>> {
    let mut columns: Vec<Option<Column>> = headers
        .iter()
        .map(|header| Column::recognise(header))
        .collect();
    let outputs = columns
        .iter()
        .filter(|c| **c == Some(Column::Output))
        .count();
    if outputs > 1 {
        for (column, header) in columns.iter_mut().zip(headers) {
            let lower = header.to_lowercase();
            if *column == Some(Column::Output) && (lower.contains("size") || lower.contains("dim"))
            {
                *column = Some(Column::OutputCalculation);
            }
        }
    }
    columns
}

impl Column {
    /// The column a header names, or `None` when netcalc does not know it.
    pub fn recognise(header: &str) -> Option<Column> {
        let text = header.to_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '%' || c == '#' || c == '/'))
            .filter(|w| !w.is_empty())
            .collect();
        let has = |word: &str| words.iter().any(|w| w.starts_with(word));
        let has_exact = |word: &str| words.contains(&word);
        if has("receptive") || has_exact("rf") {
            return Some(if has("input") || has("image") {
                Column::InputReceptiveField
            } else {
                Column::ReceptiveField
            });
        }
        if has("connection") {
            let without = has_exact("w/o")
                || has("without")
                || has("excl")
                || has_exact("no")
                || text.contains("w/o");
            return Some(if without {
                Column::ConnectionsWithoutBias
            } else {
                Column::ConnectionsWithBias
            });
        }
        if has("mac") || has("mult") || has("multiply") {
            return Some(Column::Macs);
        }
        if has("param") || has("weights") || has_exact("#") {
            return Some(Column::Parameters {
                trainable_only: has("learn") || has("trainable"),
            });
        }
        if text.contains('%') || has("percent") || has("share") {
            return Some(Column::Share);
        }
        if has("output") || has("size") || has("dim") {
            let calculation = has("calc") || has("formula") || has("computation") || has("deriv");
            return Some(if calculation {
                Column::OutputCalculation
            } else {
                Column::Output
            });
        }
        if has("input") {
            return Some(Column::Input);
        }
        if has("name") || has("layer") {
            return Some(Column::Name);
        }
        if has("remark")
            || has("note")
            || has("comment")
            || has("type")
            || has("kind")
            || has("activation")
        {
            return Some(Column::Remark);
        }
        None
    }

    /// Whether the column's cells are checked (remarks and names are not values).
    pub fn holds_values(self) -> bool {
        !matches!(self, Column::Name | Column::Remark)
    }
}

#[cfg(test)]
mod tests {
    use super::Column::{self, *};
    use super::recognise_all;

    #[test]
    fn the_sheets_headers_are_recognised() {
        for (header, column) in [
            ("Name", Name),
            ("Layer", Name),
            ("Layer (type)", Name),
            ("Input", Input),
            ("Output dim. calc.", OutputCalculation),
            ("Output", Output),
            ("Output shape", Output),
            (
                "Num. params (% of total parameters)",
                Parameters {
                    trainable_only: false,
                },
            ),
            (
                "Parameters to learn",
                Parameters {
                    trainable_only: true,
                },
            ),
            (
                "Param #",
                Parameters {
                    trainable_only: false,
                },
            ),
            ("% of total", Share),
            ("Receptive field", ReceptiveField),
            ("Receptive field (input)", InputReceptiveField),
            ("Connections (w/o bias)", ConnectionsWithoutBias),
            ("Connections without bias", ConnectionsWithoutBias),
            ("Connections (with bias)", ConnectionsWithBias),
            ("Connections", ConnectionsWithBias),
            ("MACs", Macs),
            ("Remarks", Remark),
        ] {
            assert_eq!(Column::recognise(header), Some(column), "{header}");
        }
        assert_eq!(Column::recognise("Colour"), None);
        let headers = ["Layer", "Output size", "Output"].map(String::from);
        assert_eq!(
            recognise_all(&headers),
            vec![Some(Name), Some(OutputCalculation), Some(Output)]
        );
        assert_eq!(Column::recognise(""), None);
    }
}

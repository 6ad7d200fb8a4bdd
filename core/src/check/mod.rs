//! `netcalc check`: verifies a hand-written table cell by cell against the analysis. Rows are
//! matched to layers ([`rows`]), each cell is read ([`cell`]) and judged ([`judge`]) by three
//! separate checks (arithmetic, value, formula); total lines around the tables are checked too
//! ([`totals`]). The result is a list of findings; rendering is in [`render`], and only the
//! command line prints.
//!
//! Cells that hold two variants, `2416 / 1516 (*)`, give the first number for the network
//! checked unless [`Variant::Starred`] asks for the one marked `(*)` (the exercise sheet marks
//! LeNet-5's original C3 table so: check `lenet-5` with the first numbers and `lenet-5-table`
//! with `--variant starred`). The other number is not checked, and the report says how many
//! were skipped.

pub mod cell;
pub mod columns;
pub mod expected;
pub mod formula;
mod grammar;
pub mod hand_table;
pub mod judge;
pub mod notation;
#[cfg(test)]
mod properties;
pub mod render;
pub mod rows;
mod terms;
pub mod totals;

pub use hand_table::HandTableError;

use crate::analysis::Analysis;
use columns::Column;
use hand_table::{Document, Table};
use judge::Problem;
use rows::{How, Subject};
use serde::Serialize;

/// The row name of findings about a table's header.
pub const HEADER_ROW: &str = "header";

/// Which number of a `first / second (*)` cell belongs to the network checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The first (unmarked) number.
    #[default]
    First,
    /// The number marked `(*)`.
    Starred,
}

/// Options of a check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Which variant of two-valued cells to check.
    pub variant: Variant,
}

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The written sides of an equation disagree.
    Arithmetic,
    /// The written result (or shape, field, percentage, setting) is not netcalc's.
    Value,
    /// The written factors are not the layer's.
    Formula,
    /// netcalc cannot read the cell.
    Unreadable,
    /// A layer that needs a row has none.
    MissingRow,
    /// A row stands for no layer of the network.
    ExtraRow,
}

impl Kind {
    /// The kind as printed: `arithmetic`, `missing row`, ….
    pub fn name(self) -> &'static str {
        match self {
            Kind::Arithmetic => "arithmetic",
            Kind::Value => "value",
            Kind::Formula => "formula",
            Kind::Unreadable => "unreadable",
            Kind::MissingRow => "missing row",
            Kind::ExtraRow => "extra row",
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which check found it.
    pub kind: Kind,
    /// The line of the hand table (the header line for a missing row).
    pub line: usize,
    /// The row as written (its name), `Total` for a total line, or the missing layer's name.
    pub row: String,
    /// The layer the row was matched to, when it was.
    pub layer: Option<String>,
    /// The column's header as written (for a total line: what it totals).
    pub column: String,
    /// What was written (the part the problem is about).
    pub written: String,
    /// What netcalc says belongs there.
    pub expected: String,
    /// How netcalc's value comes about.
    pub derivation: String,
    /// What is wrong, in words.
    pub explanation: String,
}

/// The result of checking a hand table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The network checked against.
    pub network: String,
    /// Which variant of two-valued cells was checked.
    pub variant: Variant,
    /// Cells (and total statements) checked.
    pub cells_checked: usize,
    /// Of those, how many have at least one problem.
    pub cells_wrong: usize,
    /// Two-valued cells whose other value was not checked.
    pub unchecked_variants: usize,
    /// The problems, in the order of the hand table's lines.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether everything holds.
    pub fn all_right(&self) -> bool {
        self.findings.is_empty()
    }

    /// How many findings are of this kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }
}

/// Checks a hand table's text against an analysis. `csv` says the file is CSV.
pub fn check_text(
    analysis: &Analysis,
    text: &str,
    csv: bool,
    options: Options,
) -> Result<Report, HandTableError> {
    check(analysis, &hand_table::read(text, csv), options)
}

/// Checks a read hand table against an analysis.
pub fn check(
    analysis: &Analysis,
    document: &Document,
    options: Options,
) -> Result<Report, HandTableError> {
    let statements = totals::statements(document);
    if document.tables.is_empty() && statements.is_empty() {
        return Err(HandTableError::NothingToCheck);
    }
    let mut checker = Checker {
        analysis,
        options,
        report: Report {
            network: analysis.network.clone(),
            variant: options.variant,
            cells_checked: 0,
            cells_wrong: 0,
            unchecked_variants: 0,
            findings: Vec::new(),
        },
    };
    for table in &document.tables {
        checker.table(table)?;
    }
    for statement in statements {
        let subject = Place {
            line: statement.line,
            row: "Total".to_string(),
            layer: None,
            column: total_name(statement.column).to_string(),
        };
        checker.cell(&statement.text, statement.column, Subject::Total, &subject);
    }
    checker.report.findings.sort_by_key(|finding| finding.line);
    Ok(checker.report)
}

/// Where a cell is, for its findings.
struct Place {
    line: usize,
    row: String,
    layer: Option<String>,
    column: String,
}

struct Checker<'a> {
    analysis: &'a Analysis,
    options: Options,
    report: Report,
}

impl Checker<'_> {
    fn table(&mut self, table: &Table) -> Result<(), HandTableError> {
        let columns = columns::recognise_all(&table.headers);
        if columns.iter().all(Option::is_none) {
            return Err(HandTableError::UnknownColumns {
                line: table.header.number,
                span: table.header.span(),
            });
        }
        for (header, column) in table.headers.iter().zip(&columns) {
            if column.is_none() && !header.is_empty() {
                self.add(
                    &Place {
                        line: table.header.number,
                        row: HEADER_ROW.to_string(),
                        layer: None,
                        column: header.clone(),
                    },
                    Problem {
                        kind: Kind::Unreadable,
                        written: header.clone(),
                        expected: String::new(),
                        derivation: String::new(),
                        explanation: "netcalc does not know this column; its cells are not checked"
                            .to_string(),
                    },
                );
            }
        }
        let name_column = columns.iter().position(|c| *c == Some(Column::Name));
        let names: Vec<cell::NameCell> = table
            .rows
            .iter()
            .map(|row| {
                let text = name_column
                    .and_then(|i| row.cells.get(i))
                    .map_or("", String::as_str);
                cell::name_cell(text)
            })
            .collect();
        let row_names: Vec<String> = names.iter().map(|n| n.name.clone()).collect();
        let matching = rows::match_rows(&row_names, &self.analysis.layers);
        for ((row, name), matched) in table.rows.iter().zip(&names).zip(&matching.rows) {
            let written_name = if name.name.is_empty() {
                format!("row {}", row.line.number)
            } else {
                name.name.clone()
            };
            let Some((subject, how)) = *matched else {
                self.extra_row(row.line.number, &written_name);
                continue;
            };
            let layer = match subject {
                Subject::Layer(index) => self.analysis.layers.get(index),
                Subject::Total => None,
            };
            let row_label = match (layer, how) {
                (Some(layer), How::Position) => format!("{written_name} (taken as {})", layer.name),
                _ => written_name.clone(),
            };
            let place = |column: &str| Place {
                line: row.line.number,
                row: row_label.clone(),
                layer: layer.map(|l| l.name.clone()),
                column: column.to_string(),
            };
            if let Some(problem) = &row.problem {
                self.add(
                    &place(""),
                    Problem {
                        kind: Kind::Unreadable,
                        written: row.line.text.clone(),
                        expected: String::new(),
                        derivation: String::new(),
                        explanation: problem.clone(),
                    },
                );
                continue;
            }
            if row.cells.len() > table.headers.len() {
                self.add(
                    &place(""),
                    Problem {
                        kind: Kind::Unreadable,
                        written: row.cells[table.headers.len()..].join(" | "),
                        expected: String::new(),
                        derivation: String::new(),
                        explanation: format!(
                            "the row has {} cells but the header {}; the extra cells are not checked",
                            row.cells.len(),
                            table.headers.len()
                        ),
                    },
                );
            }
            if let Some(layer) = layer
                && !name.settings.is_empty()
                && let Some(index) = name_column
            {
                let problems = judge::settings(name, layer);
                self.count_cell(&place(&table.headers[index]), problems);
            }
            for (index, column) in columns.iter().enumerate() {
                let Some(column) = column.filter(|c| c.holds_values()) else {
                    continue;
                };
                let text = row.cells.get(index).map_or("", String::as_str);
                // A blank cell of a `Sum` row states nothing (sums are often left out).
                if subject == Subject::Total && text.trim().is_empty() {
                    continue;
                }
                self.cell(text, column, subject, &place(&table.headers[index]));
            }
        }
        for index in matching.missing {
            self.missing_row(table.header.number, index);
        }
        Ok(())
    }

    /// Checks one cell (choosing the variant of a two-valued cell).
    fn cell(&mut self, text: &str, column: Column, subject: Subject, place: &Place) {
        let chosen = match cell::variants(text) {
            Err(error) => {
                let problem = Problem {
                    kind: Kind::Unreadable,
                    written: text.to_string(),
                    expected: String::new(),
                    derivation: String::new(),
                    explanation: error.reason,
                };
                self.count_cell(place, vec![problem]);
                return;
            }
            Ok(Some((first, starred))) => {
                self.report.unchecked_variants += 1;
                match self.options.variant {
                    Variant::First => first,
                    Variant::Starred => starred,
                }
            }
            Ok(None) => text.to_string(),
        };
        let expected = expected::expected(column, subject, self.analysis);
        let roles = match subject {
            Subject::Layer(index) => self
                .analysis
                .layers
                .get(index)
                .map(expected::roles)
                .unwrap_or_default(),
            Subject::Total => expected::total_roles(column, self.analysis),
        };
        let problems = judge::judge(&chosen, &expected, &roles);
        self.count_cell(place, problems);
    }

    fn count_cell(&mut self, place: &Place, problems: Vec<Problem>) {
        self.report.cells_checked += 1;
        if !problems.is_empty() {
            self.report.cells_wrong += 1;
        }
        for problem in problems {
            self.add(place, problem);
        }
    }

    fn add(&mut self, place: &Place, problem: Problem) {
        self.report.findings.push(Finding {
            kind: problem.kind,
            line: place.line,
            row: place.row.clone(),
            layer: place.layer.clone(),
            column: place.column.clone(),
            written: problem.written,
            expected: problem.expected,
            derivation: problem.derivation,
            explanation: problem.explanation,
        });
    }

    fn extra_row(&mut self, line: usize, name: &str) {
        let names = self.analysis.layers.iter().map(|l| l.name.as_str());
        let explanation = match crate::suggestion::closest(name, names) {
            Some(close) => format!(
                "{} has no layer {name} (did you mean {close}?)",
                self.analysis.network
            ),
            None => format!("{} has no layer {name}", self.analysis.network),
        };
        self.report.findings.push(Finding {
            kind: Kind::ExtraRow,
            line,
            row: name.to_string(),
            layer: None,
            column: String::new(),
            written: name.to_string(),
            expected: "no such row".to_string(),
            derivation: String::new(),
            explanation,
        });
    }

    fn missing_row(&mut self, line: usize, index: usize) {
        let Some(layer) = self.analysis.layers.get(index) else {
            return;
        };
        let mut facts = Vec::new();
        if let Some(total) = &layer.parameter_total {
            facts.push(format!("{} parameters", total.count));
        }
        if let Some(formula) = layer.formulas.first() {
            facts.push(format!(
                "output size {} = {}",
                formula.expression, formula.value
            ));
        }
        facts.push(format!("output {}", layer.output));
        self.report.findings.push(Finding {
            kind: Kind::MissingRow,
            line,
            row: layer.name.clone(),
            layer: Some(layer.name.clone()),
            column: String::new(),
            written: String::new(),
            expected: format!("a row for {}", layer.name),
            derivation: facts.join(", "),
            explanation: String::new(),
        });
    }
}

/// What a total line totals, in words.
fn total_name(column: Column) -> &'static str {
    match column {
        Column::Parameters {
            trainable_only: true,
        } => "parameters to learn",
        Column::ConnectionsWithoutBias => "connections without bias",
        Column::ConnectionsWithBias => "connections with bias",
        Column::Macs => "MACs",
        _ => "parameters",
    }
}

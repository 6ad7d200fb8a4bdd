//! A checked hand table cell by cell, for the page to colour: each cell `right`, `wrong` (with
//! its findings as `netcalc check` prints them) or `unchecked` (a column netcalc does not know,
//! a blank cell of a sum row, an extra row's cells). Rows are matched to layers as the check
//! matches them, so that the page can explain a row's layer.

use netcalc_core::analysis::Analysis;
use netcalc_core::check::columns::{self, Column};
use netcalc_core::check::hand_table::Document;
use netcalc_core::check::rows::{self, Subject};
use netcalc_core::check::{Finding, Report, cell, render};
use serde::Serialize;

/// The tables of a document, marked.
#[derive(Debug, Serialize)]
pub struct Marked {
    /// One per table of the document.
    pub tables: Vec<MarkedTable>,
    /// Findings that belong to no single cell (a missing row, a header, a total line, a row
    /// that cannot be read), as printed.
    pub other_findings: Vec<String>,
}

/// One table.
#[derive(Debug, Serialize)]
pub struct MarkedTable {
    /// The header's line in the pasted text (1-based).
    pub line: usize,
    /// The column headers as written.
    pub headers: Vec<String>,
    /// The rows.
    pub rows: Vec<MarkedRow>,
}

/// One row.
#[derive(Debug, Serialize)]
pub struct MarkedRow {
    /// Its line in the pasted text.
    pub line: usize,
    /// The layer it was matched to, if any.
    pub layer: Option<String>,
    /// Its cells, one per header (missing cells as empty ones).
    pub cells: Vec<MarkedCell>,
}

/// One cell.
#[derive(Debug, Serialize)]
pub struct MarkedCell {
    /// The cell as written.
    pub text: String,
    /// `right`, `wrong` or `unchecked`.
    pub state: &'static str,
    /// Its findings, each as `netcalc check` prints it.
    pub findings: Vec<String>,
}

/// Marks every cell of `document`'s tables from `report` (made by checking `document` against
/// `analysis`). `table` is the name the findings are printed under.
pub fn mark(analysis: &Analysis, document: &Document, report: &Report, table: &str) -> Marked {
    let mut used = vec![false; report.findings.len()];
    let mut tables = Vec::new();
    for hand in &document.tables {
        let recognised = columns::recognise_all(&hand.headers);
        let name_column = recognised.iter().position(|c| *c == Some(Column::Name));
        let names: Vec<cell::NameCell> = hand
            .rows
            .iter()
            .map(|row| {
                cell::name_cell(
                    name_column
                        .and_then(|i| row.cells.get(i))
                        .map_or("", String::as_str),
                )
            })
            .collect();
        let row_names: Vec<String> = names.iter().map(|n| n.name.clone()).collect();
        let matching = rows::match_rows(&row_names, &analysis.layers);
        let mut marked_rows = Vec::new();
        for ((row, name), matched) in hand.rows.iter().zip(&names).zip(&matching.rows) {
            let line = row.line.number;
            let mut cells = Vec::new();
            let width = hand.headers.len().max(row.cells.len());
            for index in 0..width {
                let text = row.cells.get(index).cloned().unwrap_or_default();
                let header = hand.headers.get(index).map_or("", String::as_str);
                let mut findings = Vec::new();
                if index < hand.headers.len() {
                    for (number, finding) in report.findings.iter().enumerate() {
                        if finding.line == line && finding.column == header && !header.is_empty() {
                            findings.push(render::line(finding, table));
                            used[number] = true;
                        }
                    }
                }
                let checked = match (matched, recognised.get(index).copied().flatten()) {
                    (None, _) | (_, None) => false,
                    (Some((Subject::Total, _)), Some(column)) => {
                        column.holds_values() && !text.trim().is_empty()
                    }
                    (Some(_), Some(Column::Name)) => !name.settings.is_empty(),
                    (Some(_), Some(column)) => column.holds_values(),
                };
                let state = if !findings.is_empty() {
                    "wrong"
                } else if checked && row.problem.is_none() {
                    "right"
                } else {
                    "unchecked"
                };
                cells.push(MarkedCell {
                    text,
                    state,
                    findings,
                });
            }
            let layer = match matched {
                Some((Subject::Layer(index), _)) => {
                    analysis.layers.get(*index).map(|l| l.name.clone())
                }
                _ => None,
            };
            marked_rows.push(MarkedRow { line, layer, cells });
        }
        tables.push(MarkedTable {
            line: hand.header.number,
            headers: hand.headers.clone(),
            rows: marked_rows,
        });
    }
    let other_findings = report
        .findings
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(finding, _): (&Finding, _)| render::line(finding, table))
        .collect();
    Marked {
        tables,
        other_findings,
    }
}

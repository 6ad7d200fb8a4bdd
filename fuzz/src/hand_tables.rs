//! Hand-written tables, as `netcalc check` reads them: tab-separated, Markdown or CSV rows and
//! the prose around them, each cell read as a statement with its formula (LaTeX included), a
//! percentage, shapes, a receptive field or a name with settings. [`lean`] stops after reading;
//! [`pipeline`] checks the table against a built-in network and renders the report.

use netcalc::check::{self, Options, Variant, cell, hand_table, render, totals};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Reads the bytes as a hand table, both as a text file and as a CSV file, and reads every cell
/// and every total statement (each distinct text once) with each of the cell readers.
pub fn lean(bytes: &[u8]) {
    let text = crate::text(bytes);
    let documents = [false, true].map(|csv| hand_table::read(&text, csv));
    let mut cells = BTreeSet::new();
    let mut statements = Vec::new();
    for document in &documents {
        for table in &document.tables {
            let _ = check::columns::recognise_all(&table.headers);
            cells.extend(table.headers.iter().map(String::as_str));
            for row in &table.rows {
                cells.extend(row.cells.iter().map(String::as_str));
            }
        }
        statements.extend(totals::statements(document));
    }
    cells.extend(statements.iter().map(|statement| statement.text.as_str()));
    for text in cells {
        read_cell(text);
    }
}

/// Every reading of a cell's text, as the checks may ask for it; a formula is evaluated too.
fn read_cell(text: &str) {
    let _ = cell::variants(text);
    if let Ok(statement) = cell::statement(text) {
        for element in statement.elements.iter().chain(&statement.rounded) {
            let _ = element.expression.ratio();
            let _ = element.expression.clone().simplified().ascii();
        }
    }
    let _ = cell::percent_cell(text).map(|percent| percent.to_string());
    let _ = cell::shapes(text);
    let _ = cell::field(text);
    let _ = cell::name_cell(text);
}

/// The built-in networks a table is checked against: those the exercise sheet's tables describe.
const NETWORKS: [&str; 5] = [
    "lenet-5",
    "lenet-5-table",
    "alexnet",
    "keras-mnist-cnn",
    "mlp-784-100-100-10",
];

/// The first byte chooses the network (its low three bits, modulo the number of networks),
/// whether the file is CSV (bit 3) and the variant of two-valued cells (bit 4); the rest is the
/// table, checked against the network's analysis and rendered as text and as JSON.
pub fn pipeline(bytes: &[u8]) {
    let Some((&choice, table)) = bytes.split_first() else {
        return;
    };
    let analysis = &analyses()[usize::from(choice & 7) % NETWORKS.len()];
    let csv = choice & 8 != 0;
    let variant = if choice & 16 != 0 {
        Variant::Starred
    } else {
        Variant::First
    };
    let text = crate::text(table);
    if let Ok(report) = check::check_text(analysis, &text, csv, Options { variant }) {
        let _ = render::text(&report, "fuzz");
        let _ = render::json(&report, "fuzz");
        assert!(
            report.cells_wrong <= report.cells_checked,
            "{} wrong cells of {} checked",
            report.cells_wrong,
            report.cells_checked
        );
    }
}

/// The analyses of [`NETWORKS`], computed once.
fn analyses() -> &'static [netcalc::Analysis] {
    static ANALYSES: OnceLock<Vec<netcalc::Analysis>> = OnceLock::new();
    ANALYSES.get_or_init(|| {
        NETWORKS
            .iter()
            .map(|name| {
                let builtin = netcalc::builtin::find(name).expect("a built-in network");
                let source = netcalc::Source::new(builtin.name, builtin.text);
                let network = netcalc::load(&source, netcalc::Format::Yaml).expect("it loads");
                netcalc::analyse(&network).expect("it analyses")
            })
            .collect()
    })
}

//! A check's report as text (one line per problem, then a summary) or as JSON (schema
//! `netcalc.check.v1`: the same findings, with every field). Pure formatting.

use super::{Finding, Kind, Report, Variant};
use serde::Serialize;

/// The schema name written into every JSON report.
pub const SCHEMA: &str = "netcalc.check.v1";

/// One line per finding (`table.tsv:5: CONV2, Num. params: value: written …, should be …`),
/// then the summary.
pub fn text(report: &Report, table: &str) -> String {
    let mut text = String::new();
    for finding in &report.findings {
        text.push_str(&line(finding, table));
        text.push('\n');
    }
    text.push_str(&summary(report));
    text.push('\n');
    text
}

/// One finding as its line of [`text`] (without the line break): `table.tsv:5: CONV2, Num. params:
/// value: written …, should be …`.
pub fn line(finding: &Finding, table: &str) -> String {
    let place = if finding.column.is_empty() {
        finding.row.clone()
    } else {
        format!("{}, {}", finding.row, finding.column)
    };
    let with = |text: &str, open: &str, close: &str| {
        if text.is_empty() {
            String::new()
        } else {
            format!("{open}{text}{close}")
        }
    };
    let body = match finding.kind {
        Kind::Arithmetic => format!(
            "written {}, but {}{}",
            finding.written,
            finding.expected,
            with(&finding.explanation, " (", ")")
        ),
        Kind::Value | Kind::Formula => format!(
            "written {}, should be {}{}{}",
            shown(&finding.written),
            finding.expected,
            with(&finding.derivation, " (", ")"),
            with(&finding.explanation, ": ", "")
        ),
        Kind::Unreadable => format!(
            "cannot read {}: {}",
            shown(&finding.written),
            finding.explanation
        ),
        Kind::MissingRow => format!(
            "no row for {}{}",
            finding.row,
            with(&finding.derivation, " (", ")")
        ),
        Kind::ExtraRow => finding.explanation.clone(),
    };
    format!(
        "{table}:{}: {place}: {}: {body}",
        finding.line,
        finding.kind.name()
    )
}

/// An empty cell shows as `nothing`.
fn shown(text: &str) -> &str {
    if text.is_empty() { "nothing" } else { text }
}

/// `37 cells checked, 3 wrong; 1 missing row` and, for two-valued cells, which value was left.
fn summary(report: &Report) -> String {
    let plural = |count: usize, word: &str| {
        if count == 1 {
            format!("{count} {word}")
        } else {
            format!("{count} {word}s")
        }
    };
    let mut text = format!(
        "{} checked, {} wrong",
        plural(report.cells_checked, "cell"),
        report.cells_wrong
    );
    for (kind, word) in [
        (Kind::MissingRow, "missing row"),
        (Kind::ExtraRow, "extra row"),
    ] {
        let count = report.count(kind);
        if count > 0 {
            text.push_str(&format!(", {}", plural(count, word)));
        }
    }
    let unknown_columns = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Unreadable && f.row == super::HEADER_ROW)
        .count();
    if unknown_columns > 0 {
        text.push_str(&format!(
            ", {} not checked",
            plural(unknown_columns, "unknown column")
        ));
    }
    text.push_str(&format!(" (against {})", report.network));
    if report.unchecked_variants > 0 {
        let (checked, other) = match report.variant {
            Variant::First => ("first", "--variant starred checks those marked (*)"),
            Variant::Starred => ("(*)", "--variant first checks the first ones"),
        };
        text.push_str(&format!(
            "\n{} two values; the {checked} one was checked ({other})",
            plural_cells(report.unchecked_variants)
        ));
    }
    text
}

fn plural_cells(count: usize) -> String {
    if count == 1 {
        "1 cell holds".to_string()
    } else {
        format!("{count} cells hold")
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    table: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report as JSON.
pub fn json(report: &Report, table: &str) -> String {
    let document = Document {
        schema: SCHEMA,
        table,
        report,
    };
    let mut text = serde_json::to_string_pretty(&document)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}

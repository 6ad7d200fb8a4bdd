//! Reports: format an [`Analysis`] as the sheet's tables, the connection summary, a Keras-like
//! summary, or JSON. Pure formatting: every number comes from the analysis, nothing is computed
//! here but its presentation (percentages, thousands separators).

mod connections;
mod grid;
mod json;
pub mod numbers;
mod sheet;
mod summary;

pub use grid::{Grid, OutputFormat};

use crate::analysis::Analysis;

/// The report a command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// `netcalc table`: the exercise sheet's table of output sizes and parameters.
    Table,
    /// `netcalc connections`: receptive field, parameters and connections per layer.
    Connections,
    /// `netcalc summary`: a Keras/torchinfo-like overview.
    Summary,
}

/// Renders a report in a format. JSON is the whole analysis whichever report is asked for (its
/// schema is documented in docs/json-schema.md).
pub fn render(analysis: &Analysis, report: Report, format: OutputFormat) -> String {
    render_with(analysis, report, format, Blocks::Expanded)
}

/// How the summary shows the copies of a repeated block (`repeat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocks {
    /// A row per layer.
    Expanded,
    /// One row per outermost repeated block, "block × 12", with its copies' sums.
    Collapsed,
}

/// [`render`], with the summary's repeated blocks shown as `blocks` says (the sheet's table and
/// the connections always list every layer, since their rows are per-layer formulas; JSON is
/// the whole analysis).
pub fn render_with(
    analysis: &Analysis,
    report: Report,
    format: OutputFormat,
    blocks: Blocks,
) -> String {
    if format == OutputFormat::Json {
        return json::render(analysis);
    }
    let grid = match report {
        Report::Table => sheet::grid(analysis),
        Report::Connections => connections::grid(analysis),
        Report::Summary => summary::grid(analysis, blocks),
    };
    grid.render(format)
}

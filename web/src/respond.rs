//! The page's commands: `analyse`, `check`, `explain` and `builtins`, each a JSON object in and
//! out. A request is `{"command": "analyse", "description": "…"}` (see [`Request`]); a response
//! is `{"ok": true, …}` or `{"ok": false, "error": {"message", "line", "column"}}`.

use crate::cells;
use netcalc_core::analysis::{self, Analysis};
use netcalc_core::check::{self, Variant};
use netcalc_core::error::{self, Error};
use netcalc_core::report::{self, Blocks, OutputFormat, Report};
use netcalc_core::{Format, Network, Source, builtin};
use netcalc_draw::{Diagram, Direction, Picture, Show};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The name a pasted table goes by in the findings (`table:5: CONV2, …`), as a file's name does
/// in `netcalc check FILE`.
pub const TABLE_NAME: &str = "table";

/// A request from the page.
#[derive(Debug, Deserialize)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum Request {
    /// The reports, the picture and the layers of a description.
    Analyse {
        /// The description, DSL or YAML (told apart as the CLI does for a file without a known
        /// extension).
        description: String,
    },
    /// A hand-written table checked against a description.
    Check {
        /// The description.
        description: String,
        /// The table: tab-separated, Markdown or CSV, with total lines around it.
        table: String,
        /// Which number of a `2416 / 1516 (*)` cell to check: `first` (default) or `starred`.
        #[serde(default)]
        variant: Option<String>,
    },
    /// `netcalc explain` for one layer.
    Explain {
        /// The description.
        description: String,
        /// The layer's name (case-insensitive).
        layer: String,
    },
    /// The built-in architectures: names, files and texts.
    Builtins,
}

/// Answers a request given as JSON text with JSON text. Never panics on bad input: a request
/// that cannot be read is an error response too.
pub fn respond(request: &str) -> String {
    let response = match serde_json::from_str::<Request>(request) {
        Ok(request) => answer(request),
        Err(problem) => json!({
            "ok": false,
            "error": {"message": format!("error: the page sent a request netcalc cannot read: {problem}\n"),
                      "line": null, "column": null},
        }),
    };
    response.to_string()
}

/// Answers a request.
pub fn answer(request: Request) -> Value {
    let result = match request {
        Request::Analyse { description } => analyse(&description),
        Request::Check {
            description,
            table,
            variant,
        } => check_table(&description, &table, variant.as_deref()),
        Request::Explain { description, layer } => explain(&description, &layer),
        Request::Builtins => Ok(builtins()),
    };
    match result {
        Ok(mut value) => {
            value["ok"] = json!(true);
            value
        }
        Err(error) => json!({"ok": false, "error": error_value(&error)}),
    }
}

/// An error as the CLI prints it, with the 1-based line and column it points at.
pub fn error_value(error: &Error) -> Value {
    let (line, column) = match error.line_column() {
        Some((line, column)) => (json!(line), json!(column)),
        None => (Value::Null, Value::Null),
    };
    json!({"message": error::render(error), "line": line, "column": column})
}

/// The source a description typed into the page becomes: named like a file of its format, so
/// that messages and the network's default name read as for `netcalc table network.nn`.
pub fn source_of(description: &str) -> (Source, Format) {
    let format = Format::sniff(description);
    let name = match format {
        Format::Yaml => "network.yaml",
        Format::Dsl => "network.nn",
    };
    (Source::new(name, description), format)
}

/// Reads and analyses a description as the CLI does (without `--rounding` or `--conventions`).
pub fn load(description: &str) -> Result<(Network, Analysis), Error> {
    let (source, format) = source_of(description);
    let network = netcalc_core::load(&source, format)?;
    let analysis = analysis::analyse(&network)?;
    Ok((network, analysis))
}

fn analyse(description: &str) -> Result<Value, Error> {
    let (network, analysis) = load(description)?;
    let warnings: Vec<String> = network
        .warnings()
        .into_iter()
        .map(|warning| error::render(&Error::new(&network.source, warning)))
        .collect();
    let table = report::render_with(
        &analysis,
        Report::Table,
        OutputFormat::Table,
        Blocks::Expanded,
    );
    let connections = report::render_with(
        &analysis,
        Report::Connections,
        OutputFormat::Table,
        Blocks::Expanded,
    );
    let summary = report::render_with(
        &analysis,
        Report::Summary,
        OutputFormat::Table,
        Blocks::Collapsed,
    );
    let layers: Vec<&str> = analysis.layers.iter().map(|l| l.name.as_str()).collect();
    Ok(json!({
        "network": analysis.network,
        "table": table,
        "connections": connections,
        "summary": summary,
        "svg": picture(&network, &analysis),
        "layers": layers,
        "warnings": warnings,
    }))
}

/// `netcalc draw`'s SVG with its default flags (top to bottom, shapes and parameters).
pub fn picture(network: &Network, analysis: &Analysis) -> String {
    let show = Show {
        shapes: true,
        parameters: true,
        macs: false,
    };
    let diagram = Diagram::of(network, analysis, show);
    netcalc_draw::svg::render(&Picture::of(&diagram, Direction::TopToBottom))
}

fn check_table(description: &str, table: &str, variant: Option<&str>) -> Result<Value, Error> {
    let (_, analysis) = load(description)?;
    let variant = match variant {
        Some("starred") => Variant::Starred,
        _ => Variant::First,
    };
    let document = check::hand_table::read(table, false);
    let report = check::check(&analysis, &document, check::Options { variant })
        .map_err(|problem| Error::new(&Source::new(TABLE_NAME, table), problem))?;
    let marked = cells::mark(&analysis, &document, &report, TABLE_NAME);
    Ok(json!({
        "text": check::render::text(&report, TABLE_NAME),
        "cells_checked": report.cells_checked,
        "cells_wrong": report.cells_wrong,
        "tables": marked.tables,
        "other_findings": marked.other_findings,
    }))
}

fn explain(description: &str, layer: &str) -> Result<Value, Error> {
    let (_, analysis) = load(description)?;
    let index = analysis
        .layers
        .iter()
        .position(|l| l.name.eq_ignore_ascii_case(layer));
    match index {
        Some(index) => Ok(json!({
            "layer": analysis.layers[index].name,
            "text": netcalc_core::explain::explain(&analysis, Some(index)),
        })),
        None => Ok(json!({
            "layer": layer,
            "text": format!("{} has no layer {layer}\n", analysis.network),
        })),
    }
}

#[derive(Serialize)]
struct BuiltinEntry {
    name: &'static str,
    file: &'static str,
    text: &'static str,
}

fn builtins() -> Value {
    let entries: Vec<BuiltinEntry> = builtin::BUILTINS
        .iter()
        .map(|b| BuiltinEntry {
            name: b.name,
            file: b.file,
            text: b.text,
        })
        .collect();
    json!({ "builtins": entries })
}

//! The command line: parses arguments, reads files and the environment, prints reports and
//! errors, and chooses the exit code. The only module that touches stdout, stderr or the process.

use crate::analysis;
use crate::builtin;
use crate::error::{Error, Locate};
use crate::report::{self, Blocks, OutputFormat, Report};
use crate::source::{Source, Span};
use crate::syntax::{self, Format};
use clap::{Parser, Subcommand, ValueEnum};
use network_options::NetworkOptions;
use std::io::Write;
use std::process::ExitCode;

mod draw;
mod network_options;
mod sweep;
mod train;

/// netcalc: exact numbers for neural-network architectures.
#[derive(Debug, Parser)]
#[command(name = "netcalc", version, about, max_term_width = 100)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Output sizes (with formulas) and parameters per layer, as the exercise sheet's tables.
    Table(ReportArguments),
    /// Receptive field, parameters to learn and connections without / with bias per layer.
    Connections(ReportArguments),
    /// A Keras-like overview: shapes, parameters, MACs, memory, receptive fields, totals. A
    /// repeated block is one row, "block × 12", unless --expand is given.
    Summary(SummaryArguments),
    /// The memory that training needs at a batch size: weights, gradients, optimizer state and
    /// activations, per layer and in all, under a named convention (fp32 or mixed precision).
    Memory(MemoryArguments),
    /// The built-in architectures (or, with --kinds, the layer kinds).
    List {
        /// List the layer kinds instead.
        #[arg(long)]
        kinds: bool,
    },
    /// Checks a hand-written table cell by cell: arithmetic, values and formulas. Exit code 1
    /// when any cell is wrong, 2 when the input cannot be read.
    Check(CheckArguments),
    /// Explains in words and formulas how every number of each layer (or one) comes about.
    Explain {
        /// A description file (.yaml, .yml, .nn), a model file to import (.keras, .json, .onnx) or
        /// a built-in architecture's name.
        network: String,
        /// Only this layer (its name, case-insensitive).
        layer: Option<String>,
        #[command(flatten)]
        options: NetworkOptions,
    },
    /// Prints a description in the other format (or the same, canonically).
    Convert {
        /// A description file (.yaml, .yml, .nn), a model file to import (.keras, .json, .onnx) or
        /// a built-in architecture's name.
        network: String,
        /// The format to write.
        #[arg(long, value_enum)]
        to: ConvertFormat,
    },
    /// Reads another framework's model file (Keras `.keras` or `model.to_json()`, Hugging Face
    /// `config.json`, ONNX) and writes it as a netcalc description. Every command also reads
    /// these files directly.
    Import {
        /// The model file.
        file: String,
        /// The format to write.
        #[arg(long, value_enum, default_value = "yaml")]
        to: ConvertFormat,
    },
    /// Draws the layer graph: a box per layer with its settings and parameters, output shapes
    /// on the edges; SVG or PNG drawn by netcalc, or DOT for graphviz.
    Draw(draw::DrawArguments),
    /// Trains a network on MNIST-style data and writes a run folder (history, plots, weights).
    Train(train::TrainArguments),
    /// Evaluates saved weights on the test images.
    Eval(train::EvalArguments),
    /// Classifies one image (IDX, PGM or PNG) with saved weights.
    Predict(train::PredictArguments),
    /// Data sets: `netcalc data fetch mnist --to DIR`.
    #[command(subcommand)]
    Data(train::DataCommand),
    /// Grid search: expand a grid, train its configurations with k-fold cross-validation,
    /// refit the best (`netcalc sweep run SPEC --data DIR --out FOLDER`).
    #[command(subcommand)]
    Sweep(sweep::SweepCommand),
}

#[derive(Debug, clap::Args)]
struct ReportArguments {
    /// A description file (.yaml, .yml, .nn), a model file to import (.keras, .json, .onnx) or
    /// a built-in architecture's name.
    network: String,
    /// How to print the report.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    #[command(flatten)]
    options: NetworkOptions,
}

#[derive(Debug, clap::Args)]
struct MemoryArguments {
    #[command(flatten)]
    report: ReportArguments,
    /// Examples per batch.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// The optimizer, for its state: sgd none, momentum, rmsprop and adagrad one copy of the
    /// parameters, adam and adadelta two.
    #[arg(long, value_enum, default_value = "adam")]
    optimizer: OptimizerArgument,
    /// fp32 (4 + 4 + 4 per state copy bytes per parameter) or mixed (ZeRO: 2 + 2 + 4 + 4 per
    /// state copy).
    #[arg(long, value_enum, default_value = "fp32")]
    precision: PrecisionArgument,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OptimizerArgument {
    Sgd,
    Momentum,
    Rmsprop,
    Adagrad,
    Adam,
    Adadelta,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PrecisionArgument {
    Fp32,
    Mixed,
}

#[derive(Debug, clap::Args)]
struct SummaryArguments {
    #[command(flatten)]
    report: ReportArguments,
    /// List every layer of the repeated blocks instead of one row per block.
    #[arg(long)]
    expand: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArguments {
    /// A description file (.yaml, .yml, .nn), a model file to import (.keras, .json, .onnx) or
    /// a built-in architecture's name.
    network: String,
    /// The hand-written table: tab-separated, Markdown or CSV with a header row (`-` reads
    /// stdin); total lines around it are checked too.
    table: String,
    /// How to print the findings.
    #[arg(long, value_enum, default_value = "text")]
    format: CheckFormat,
    /// Which number of a `2416 / 1516 (*)` cell belongs to this network.
    #[arg(long, value_enum, default_value = "first")]
    variant: crate::check::Variant,
    #[command(flatten)]
    options: NetworkOptions,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// One line per problem, then a summary.
    Text,
    /// The findings as JSON.
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConvertFormat {
    Yaml,
    Dsl,
}

/// Problems of the command line itself, outside any description.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error("cannot read `{path}`: {message}")]
    Unreadable { path: String, message: String },
    #[error("`{name}` is neither a file nor a built-in architecture")]
    UnknownNetwork {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("{0}")]
    TooLarge(crate::memory::Overflow),
    #[error("`{path}` is not a model file netcalc imports")]
    NotImportable { path: String },
    #[error("`{network}` has no layer `{name}`")]
    UnknownLayer {
        name: String,
        network: String,
        suggestion: Option<String>,
    },
}

impl Locate for CommandError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn help(&self) -> Option<String> {
        match self {
            CommandError::Unreadable { .. } => None,
            CommandError::TooLarge(_) => Some("choose a smaller --batch".to_string()),
            CommandError::NotImportable { .. } => Some(
                "netcalc imports Keras (.keras, the JSON of model.to_json()), Hugging Face \
                 config.json and ONNX (.onnx) files; a description (.yaml, .nn) needs no import"
                    .to_string(),
            ),
            CommandError::UnknownNetwork { suggestion, .. } => Some(match suggestion {
                Some(name) => {
                    format!("did you mean `{name}`? (`netcalc list` shows the built-ins)")
                }
                None => "`netcalc list` shows the built-in architectures".to_string(),
            }),
            CommandError::UnknownLayer {
                suggestion,
                network,
                ..
            } => Some(match suggestion {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!("`netcalc summary {network}` lists the layers"),
            }),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CommandError::Unreadable { .. } => "netcalc::cli::unreadable",
            CommandError::UnknownNetwork { .. } => "netcalc::cli::unknown_network",
            CommandError::UnknownLayer { .. } => "netcalc::cli::unknown_layer",
            CommandError::TooLarge(_) => "netcalc::memory::overflow",
            CommandError::NotImportable { .. } => "netcalc::cli::not_importable",
        }
    }
}

/// Runs netcalc with the process's arguments.
pub fn run() -> ExitCode {
    let arguments = match Arguments::try_parse() {
        Ok(arguments) => arguments,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // Training commands print as they go and choose their own exit codes.
    let command = match arguments.command {
        Command::Train(arguments) => return train::train(arguments),
        Command::Eval(arguments) => return train::eval(arguments),
        Command::Predict(arguments) => return train::predict(arguments),
        Command::Data(command) => return train::data(command),
        Command::Sweep(command) => return sweep::sweep(command),
        Command::Draw(arguments) => return draw::draw(arguments),
        command => command,
    };
    match execute(command) {
        Ok(output) => match (print(&output.text), output.problems) {
            (false, _) => ExitCode::from(2),
            (true, true) => ExitCode::from(1),
            (true, false) => ExitCode::SUCCESS,
        },
        Err(error) => {
            eprint!("{}", render_error(&error));
            ExitCode::from(2)
        }
    }
}

/// Writes to stdout; a closed pipe (`netcalc … | head`) is not an error. False when writing
/// failed.
fn print(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => true,
        Err(error) => error.kind() == std::io::ErrorKind::BrokenPipe,
    }
}

/// Writes to stdout and gives the exit code: 0, or 2 when writing failed.
fn print_status(text: &str) -> ExitCode {
    if print(text) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// An error as text: the same bytes on a terminal and in a pipe (no colour, fixed width).
pub fn render_error(error: &Error) -> String {
    crate::error::render(error)
}

/// What a command prints, and whether it found problems in the user's work (exit code 1).
struct Output {
    text: String,
    problems: bool,
}

impl From<String> for Output {
    fn from(text: String) -> Output {
        Output {
            text,
            problems: false,
        }
    }
}

fn execute(command: Command) -> Result<Output, Error> {
    match command {
        Command::Table(arguments) => {
            report_of(&arguments, Report::Table, Blocks::Expanded).map(Output::from)
        }
        Command::Connections(arguments) => {
            report_of(&arguments, Report::Connections, Blocks::Expanded).map(Output::from)
        }
        Command::Memory(arguments) => memory(&arguments).map(Output::from),
        Command::Summary(arguments) => {
            let blocks = if arguments.expand {
                Blocks::Expanded
            } else {
                Blocks::Collapsed
            };
            report_of(&arguments.report, Report::Summary, blocks).map(Output::from)
        }
        Command::List { kinds } => Ok(Output::from(if kinds {
            list_kinds()
        } else {
            list_builtins()
        })),
        Command::Check(arguments) => check(&arguments),
        Command::Explain {
            network,
            layer,
            options,
        } => explain(&network, layer.as_deref(), options),
        Command::Convert { network, to } => convert(&network, to).map(Output::from),
        Command::Import { file, to } => import(&file, to).map(Output::from),
        Command::Train(_)
        | Command::Eval(_)
        | Command::Predict(_)
        | Command::Data(_)
        | Command::Sweep(_)
        | Command::Draw(_) => {
            unreachable!(
                "`run` dispatches the training, sweep and drawing commands before `execute`"
            )
        }
    }
}

fn explain(network: &str, layer: Option<&str>, options: NetworkOptions) -> Result<Output, Error> {
    let (source, format) = open(network)?;
    let network = crate::load_with(&source, format, options.overrides())?;
    warn(&network);
    let analysis = analysis::analyse(&network)?;
    let chosen = match layer {
        None => None,
        Some(name) => Some(find_layer(&analysis, name)?),
    };
    Ok(crate::explain::explain(&analysis, chosen).into())
}

fn find_layer(analysis: &analysis::Analysis, name: &str) -> Result<usize, Error> {
    analysis
        .layers
        .iter()
        .position(|layer| layer.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            Error::unplaced(CommandError::UnknownLayer {
                name: name.to_string(),
                network: analysis.network.clone(),
                suggestion: crate::suggestion::closest(
                    name,
                    analysis.layers.iter().map(|l| l.name.as_str()),
                )
                .map(str::to_string),
            })
        })
}

fn check(arguments: &CheckArguments) -> Result<Output, Error> {
    let (source, format) = open(&arguments.network)?;
    let network = crate::load_with(&source, format, arguments.options.overrides())?;
    warn(&network);
    let analysis = analysis::analyse(&network)?;
    let bytes = if arguments.table == "-" {
        crate::limits::read_limited(std::io::stdin().lock())
    } else {
        crate::input_file::read_file(std::path::Path::new(&arguments.table))
    }
    .map_err(|error| {
        Error::unplaced(CommandError::Unreadable {
            path: arguments.table.clone(),
            message: error.to_string(),
        })
    })?;
    let name = if arguments.table == "-" {
        "<stdin>"
    } else {
        arguments.table.as_str()
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Error::new(
            &Source::new(name, ""),
            crate::check::HandTableError::NotText,
        ));
    };
    let csv = name.to_lowercase().ends_with(".csv");
    let options = crate::check::Options {
        variant: arguments.variant,
    };
    let report = crate::check::check_text(&analysis, &text, csv, options)
        .map_err(|error| Error::new(&Source::new(name, text.as_str()), error))?;
    let text = match arguments.format {
        CheckFormat::Text => crate::check::render::text(&report, name),
        CheckFormat::Json => crate::check::render::json(&report, name),
    };
    Ok(Output {
        text,
        problems: !report.all_right(),
    })
}

fn convert(network: &str, to: ConvertFormat) -> Result<String, Error> {
    let (source, format) = open(network)?;
    let mut description = syntax::read(&source, format).map_err(|e| Error::new(&source, e))?;
    crate::layers::name_all_positionals(&mut description).map_err(|e| Error::new(&source, e))?;
    Ok(match to {
        ConvertFormat::Yaml => syntax::yaml::print(&description),
        ConvertFormat::Dsl => syntax::dsl::print(&description, &crate::layers::positional_keys),
    })
}

fn import(file: &str, to: ConvertFormat) -> Result<String, Error> {
    let bytes = crate::input_file::read_file(std::path::Path::new(file)).map_err(|error| {
        Error::unplaced(CommandError::Unreadable {
            path: file.to_string(),
            message: error.to_string(),
        })
    })?;
    let Some(importer) = crate::import::Importer::detect(file, &bytes) else {
        return Err(Error::unplaced(CommandError::NotImportable {
            path: file.to_string(),
        }));
    };
    let description = crate::import::import(importer, file, &bytes)?;
    Ok(match to {
        ConvertFormat::Yaml => syntax::yaml::print(&description),
        ConvertFormat::Dsl => syntax::dsl::print(&description, &crate::layers::positional_keys),
    })
}

fn memory(arguments: &MemoryArguments) -> Result<String, Error> {
    use crate::memory::{Optimizer, Precision};
    let (source, format) = open(&arguments.report.network)?;
    let network = crate::load_with(&source, format, arguments.report.options.overrides())?;
    warn(&network);
    let analysis = analysis::analyse(&network)?;
    let optimizer = match arguments.optimizer {
        OptimizerArgument::Sgd => Optimizer::Sgd,
        OptimizerArgument::Momentum => Optimizer::Momentum,
        OptimizerArgument::Rmsprop => Optimizer::Rmsprop,
        OptimizerArgument::Adagrad => Optimizer::Adagrad,
        OptimizerArgument::Adam => Optimizer::Adam,
        OptimizerArgument::Adadelta => Optimizer::Adadelta,
    };
    let precision = match arguments.precision {
        PrecisionArgument::Fp32 => Precision::Fp32,
        PrecisionArgument::Mixed => Precision::Mixed,
    };
    let estimate = crate::memory::estimate(&analysis, arguments.batch, optimizer, precision)
        .map_err(|overflow| Error::unplaced(CommandError::TooLarge(overflow)))?;
    Ok(crate::memory::render(&estimate, arguments.report.format))
}

fn report_of(arguments: &ReportArguments, report: Report, blocks: Blocks) -> Result<String, Error> {
    let (source, format) = open(&arguments.network)?;
    let network = crate::load_with(&source, format, arguments.options.overrides())?;
    warn(&network);
    let analysis = analysis::analyse(&network)?;
    Ok(report::render_with(
        &analysis,
        report,
        arguments.format,
        blocks,
    ))
}

/// Prints the network's warnings (its dangling layers) on stderr, each at its declaration.
fn warn(network: &crate::Network) {
    for warning in network.warnings() {
        eprint!("{}", render_error(&Error::new(&network.source, warning)));
    }
}

/// A file if one exists at `name`, else the built-in architecture of that name.
fn open(name: &str) -> Result<(Source, Format), Error> {
    let path = std::path::Path::new(name);
    if path.exists() {
        let bytes = crate::input_file::read_file(path).map_err(|error| {
            Error::unplaced(CommandError::Unreadable {
                path: name.to_string(),
                message: error.to_string(),
            })
        })?;
        if let Some(importer) = crate::import::Importer::detect(name, &bytes) {
            // Another framework's model: every command reads the description it imports to,
            // shown under the file's name (errors after import point into that description).
            let description = crate::import::import(importer, name, &bytes)?;
            let text = syntax::yaml::print(&description);
            return Ok((
                Source::new(format!("{name} (imported)"), text),
                Format::Yaml,
            ));
        }
        let Ok(text) = String::from_utf8(bytes) else {
            return Err(Error::new(
                &Source::new(name, ""),
                syntax::SyntaxError::NotText,
            ));
        };
        let format = Format::from_path(name).unwrap_or_else(|| Format::sniff(&text));
        return Ok((Source::new(name, text), format));
    }
    match builtin::find(name) {
        Some(builtin) => {
            let format = Format::from_path(builtin.file).unwrap_or(Format::Yaml);
            Ok((
                Source::new(format!("builtin:{}", builtin.file), builtin.text),
                format,
            ))
        }
        None => Err(Error::unplaced(CommandError::UnknownNetwork {
            name: name.to_string(),
            suggestion: crate::suggestion::closest(name, builtin::BUILTINS.iter().map(|b| b.name)),
        })),
    }
}

fn list_builtins() -> String {
    let mut text =
        String::from("Built-in architectures (use the name wherever a file is expected):\n");
    let width = builtin::BUILTINS
        .iter()
        .map(|b| b.name.len())
        .max()
        .unwrap_or(0);
    for builtin in builtin::BUILTINS {
        let source = Source::new(builtin.file, builtin.text);
        let about = syntax::read(&source, Format::Yaml)
            .ok()
            .and_then(|description| description.about)
            .map(|about| about.value)
            .unwrap_or_default();
        text.push_str(&format!("  {:width$}  {about}\n", builtin.name));
    }
    text
}

fn list_kinds() -> String {
    let mut text = String::from("Layer kinds:\n");
    let width = crate::layers::CATALOGUE
        .iter()
        .map(|k| k.name.len())
        .max()
        .unwrap_or(0);
    for kind in crate::layers::CATALOGUE {
        text.push_str(&format!("  {:width$}  {}\n", kind.name, kind.summary));
        if !kind.aliases.is_empty() {
            text.push_str(&format!(
                "  {:width$}  also: {}\n",
                "",
                kind.aliases.join(", ")
            ));
        }
    }
    text
}

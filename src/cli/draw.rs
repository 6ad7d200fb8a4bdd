//! `netcalc draw`: flags, where the picture goes (stdout for SVG and DOT, a file for PNG: never
//! binary to a terminal), and its errors (exit code 2).

use super::{RoundingArgument, open, print, render_error};
use crate::analysis;
use crate::draw::{self, Diagram, Direction, Picture, Show};
use crate::error::{Error, Locate};
use crate::source::Span;
use clap::ValueEnum;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Flags of `netcalc draw`.
#[derive(Debug, clap::Args)]
pub struct DrawArguments {
    /// A description file (.yaml, .yml, .nn) or a built-in architecture's name.
    network: String,
    /// svg, png or dot (default: from --out's extension, else svg).
    #[arg(long, value_enum)]
    format: Option<DrawFormat>,
    /// The direction data flows: TB (top to bottom) or LR (left to right).
    #[arg(long, value_enum, ignore_case = true, default_value = "TB")]
    rankdir: RankDirection,
    /// What the picture shows besides names, kinds and settings: shapes, params and macs,
    /// separated by commas, or none.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "shapes,params"
    )]
    show: Vec<ShowItem>,
    /// Draw each repeated block of the description (`repeat`) as one box, "block × N".
    #[arg(long)]
    collapse: bool,
    /// The file to write (`-` for stdout). Default: stdout for SVG and DOT, NETWORK.png for PNG.
    #[arg(long)]
    out: Option<String>,
    /// What to do with non-integer output sizes; overrides the description's `rounding`.
    #[arg(long, value_enum)]
    rounding: Option<RoundingArgument>,
}

/// What `netcalc draw` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DrawFormat {
    /// SVG text.
    Svg,
    /// A PNG image.
    Png,
    /// graphviz DOT text.
    Dot,
}

impl DrawFormat {
    /// The format a file name's extension asks for.
    fn from_path(path: &str) -> Option<DrawFormat> {
        let extension = std::path::Path::new(path)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
        match extension.as_str() {
            "svg" => Some(DrawFormat::Svg),
            "png" => Some(DrawFormat::Png),
            "dot" | "gv" => Some(DrawFormat::Dot),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DrawFormat::Svg => "svg",
            DrawFormat::Png => "png",
            DrawFormat::Dot => "dot",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RankDirection {
    /// Top to bottom.
    #[value(name = "TB")]
    TopToBottom,
    /// Left to right.
    #[value(name = "LR")]
    LeftToRight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ShowItem {
    /// Output shapes beside the edges.
    Shapes,
    /// Parameters in the boxes.
    Params,
    /// MACs in the boxes.
    Macs,
    /// Nothing but names, kinds and settings.
    None,
}

/// Problems with `netcalc draw`'s flags or its output file.
#[derive(Debug, thiserror::Error)]
enum DrawError {
    #[error("`--show none` cannot be combined with other items")]
    ShowNoneWithOthers,
    #[error("`--format {format}` does not match the file name `{path}`")]
    FormatMismatch { format: &'static str, path: String },
    #[error("cannot tell the format from the file name `{path}`")]
    UnknownExtension { path: String },
    #[error("a PNG is not written to a terminal")]
    BinaryToTerminal,
    #[error("cannot write `{path}`: {message}")]
    Unwritable { path: String, message: String },
    #[error("{0}")]
    Png(#[from] draw::png::PngError),
}

impl Locate for DrawError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn help(&self) -> Option<String> {
        match self {
            DrawError::ShowNoneWithOthers => {
                Some("give `--show none` alone, or list what to show".to_string())
            }
            DrawError::FormatMismatch { .. } | DrawError::UnknownExtension { .. } => Some(
                "name the file .svg, .png, .dot or .gv, or give --format svg|png|dot".to_string(),
            ),
            DrawError::BinaryToTerminal => {
                Some("give --out FILE.png, or pipe the output into a file".to_string())
            }
            DrawError::Unwritable { .. } | DrawError::Png(_) => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DrawError::ShowNoneWithOthers => "netcalc::draw::show_none",
            DrawError::FormatMismatch { .. } => "netcalc::draw::format_mismatch",
            DrawError::UnknownExtension { .. } => "netcalc::draw::unknown_extension",
            DrawError::BinaryToTerminal => "netcalc::draw::binary_to_terminal",
            DrawError::Unwritable { .. } => "netcalc::draw::unwritable",
            DrawError::Png(_) => "netcalc::draw::png",
        }
    }
}

/// Runs `netcalc draw`.
pub fn draw(arguments: DrawArguments) -> ExitCode {
    match run(&arguments) {
        Ok(code) => code,
        Err(error) => {
            eprint!("{}", render_error(&error));
            ExitCode::from(2)
        }
    }
}

fn run(arguments: &DrawArguments) -> Result<ExitCode, Error> {
    let show = show(&arguments.show).map_err(Error::unplaced)?;
    let format = format(arguments).map_err(Error::unplaced)?;
    let (source, source_format) = open(&arguments.network)?;
    let network = crate::load_with(
        &source,
        source_format,
        crate::graph::Overrides {
            rounding: arguments.rounding.map(RoundingArgument::rounding),
            conventions: None,
        },
    )?;
    let analysis = analysis::analyse(&network)?;
    let direction = match arguments.rankdir {
        RankDirection::TopToBottom => Direction::TopToBottom,
        RankDirection::LeftToRight => Direction::LeftToRight,
    };
    let diagram = if arguments.collapse {
        Diagram::collapsed(&network, &analysis, show)
    } else {
        Diagram::of(&network, &analysis, show)
    };
    let (bytes, size) = match format {
        DrawFormat::Dot => (draw::dot::render(&diagram, direction).into_bytes(), None),
        DrawFormat::Svg => (
            draw::svg::render(&Picture::of(&diagram, direction)).into_bytes(),
            None,
        ),
        DrawFormat::Png => {
            let (bytes, width, height) = draw::png::render(&Picture::of(&diagram, direction))
                .map_err(|error| Error::unplaced(DrawError::from(error)))?;
            (bytes, Some((width, height)))
        }
    };
    let path = match (&arguments.out, format) {
        (Some(path), _) => path.clone(),
        (None, DrawFormat::Png) => format!("{}.png", file_stem(&diagram.name)),
        (None, _) => "-".to_string(),
    };
    if path == "-" {
        if format == DrawFormat::Png && std::io::stdout().is_terminal() {
            return Err(Error::unplaced(DrawError::BinaryToTerminal));
        }
        return Ok(if write_stdout(&bytes) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    }
    crate::train::files::write_atomically(std::path::Path::new(&path), &bytes).map_err(
        |error| {
            Error::unplaced(DrawError::Unwritable {
                path: path.clone(),
                message: error.to_string(),
            })
        },
    )?;
    match size {
        Some((width, height)) => eprintln!("wrote {path} ({width}×{height} pixels)"),
        None => eprintln!("wrote {path}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// SVG and DOT are text and go through the common printer; PNG bytes are written as they are.
fn write_stdout(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => print(text),
        Err(_) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
                Ok(()) => true,
                Err(error) => error.kind() == std::io::ErrorKind::BrokenPipe,
            }
        }
    }
}

fn show(items: &[ShowItem]) -> Result<Show, DrawError> {
    if items.contains(&ShowItem::None) {
        if items.len() > 1 {
            return Err(DrawError::ShowNoneWithOthers);
        }
        return Ok(Show {
            shapes: false,
            parameters: false,
            macs: false,
        });
    }
    Ok(Show {
        shapes: items.contains(&ShowItem::Shapes),
        parameters: items.contains(&ShowItem::Params),
        macs: items.contains(&ShowItem::Macs),
    })
}

fn format(arguments: &DrawArguments) -> Result<DrawFormat, DrawError> {
    let from_path = match arguments.out.as_deref() {
        None | Some("-") => None,
        Some(path) => match DrawFormat::from_path(path) {
            Some(format) => Some(format),
            None if arguments.format.is_some() => None,
            None => {
                return Err(DrawError::UnknownExtension {
                    path: path.to_string(),
                });
            }
        },
    };
    match (arguments.format, from_path) {
        (Some(asked), Some(named)) if asked != named => Err(DrawError::FormatMismatch {
            format: asked.name(),
            path: arguments.out.clone().unwrap_or_default(),
        }),
        (Some(asked), _) => Ok(asked),
        (None, Some(named)) => Ok(named),
        (None, None) => Ok(DrawFormat::Svg),
    }
}

/// A file name from a network's name: letters, digits, `.`, `-` and `_` kept, the rest `-`.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "network".to_string()
    } else {
        stem.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_names_come_from_network_names() {
        assert_eq!(file_stem("lenet-5"), "lenet-5");
        assert_eq!(file_stem("my net/v2"), "my-net-v2");
        assert_eq!(file_stem("..."), "network");
    }
}

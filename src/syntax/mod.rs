//! Reading and writing descriptions: YAML and the DSL, both to and from [`Description`].
//! Nothing here knows what a layer kind means; positional DSL values are named later by
//! `layers::name_positionals`.

pub mod ast;
pub mod dsl;
pub mod yaml;
mod yaml_locate;

pub use ast::{Attribute, Description, LayerDecl, Value};

use crate::error::Locate;
use crate::source::{Source, Span};

/// The two description formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML, one document per network.
    Yaml,
    /// netcalc's line-oriented DSL (see GRAMMAR.md).
    Dsl,
}

impl Format {
    /// The format a file name implies: `.yaml`/`.yml` is YAML, `.nn`/`.netcalc` is the DSL.
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else if lower.ends_with(".nn") || lower.ends_with(".netcalc") {
            Some(Format::Dsl)
        } else {
            None
        }
    }

    /// Guesses the format of a text with no telling file name: YAML when its first meaningful line
    /// is a YAML key (`name:`, `layers:`, …) or a document marker, the DSL otherwise.
    pub fn sniff(text: &str) -> Format {
        const YAML_KEYS: [&str; 8] = [
            "name:",
            "conventions:",
            "about:",
            "layers:",
            "input:",
            "rounding:",
            "expect:",
            "train:",
        ];
        let first = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'));
        match first {
            Some(line) if line == "---" || YAML_KEYS.iter().any(|key| line.starts_with(key)) => {
                Format::Yaml
            }
            _ => Format::Dsl,
        }
    }
}

/// Reads a description in the given format.
pub fn read(source: &Source, format: Format) -> Result<Description, SyntaxError> {
    match format {
        Format::Yaml => yaml::read(source),
        Format::Dsl => dsl::read(source),
    }
}

/// A description that cannot be read: malformed text in either format.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyntaxError {
    /// The text breaks the format's grammar.
    #[error("{message}")]
    Malformed {
        /// What is wrong, e.g. "expected a layer kind after `C1:`".
        message: String,
        /// Where.
        span: Span,
        /// What to do about it.
        help: Option<String>,
    },
    /// The text is empty or holds only comments.
    #[error("the description is empty: it declares no layers")]
    Empty {
        /// The end of the text.
        span: Span,
    },
    /// The bytes are not UTF-8 text.
    #[error("the file is not UTF-8 text")]
    NotText,
}

impl Locate for SyntaxError {
    fn span(&self) -> Span {
        match self {
            SyntaxError::Malformed { span, .. } | SyntaxError::Empty { span } => *span,
            SyntaxError::NotText => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            SyntaxError::Malformed { .. } => "here".to_string(),
            SyntaxError::Empty { .. } => "nothing here".to_string(),
            SyntaxError::NotText => "not text".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            SyntaxError::Malformed { help, .. } => help.clone(),
            SyntaxError::Empty { .. } => {
                Some("write at least an input layer, e.g. `input 28x28x1`".to_string())
            }
            SyntaxError::NotText => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SyntaxError::Malformed { .. } => "netcalc::syntax::malformed",
            SyntaxError::Empty { .. } => "netcalc::syntax::empty",
            SyntaxError::NotText => "netcalc::syntax::not_text",
        }
    }
}

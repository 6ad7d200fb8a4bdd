//! Reading and writing descriptions: YAML and the DSL, both to and from [`Description`], and
//! turning a parametrised description into a plain one ([`instantiate()`]) for one configuration
//! of its sweep [`Grid`]. Nothing here knows what a layer kind means; positional DSL values are
//! named later by `layers::name_positionals`.

pub mod ast;
pub mod bare;
pub mod dsl;
mod grid;
mod instantiate;
mod parameter_error;
pub mod yaml;
mod yaml_locate;

pub use ast::{Attribute, Copies, CopyOf, Description, Item, LayerDecl, Repeat, Value};
pub use grid::{Axis, Configuration, Grid};
pub use instantiate::{MAXIMUM_COPIES, MAXIMUM_LAYERS, instantiate};
pub use parameter_error::ParameterError;

use crate::error::Locate;
use crate::source::{Source, Span};

/// The longest key (an attribute's, a parameter's) either format reads: YAML's implicit keys,
/// which netcalc's YAML is written with, end within 1024 characters (libyaml's limit, which
/// serde_yaml applies), so the DSL refuses longer ones and a key means the same in both.
pub const MAX_KEY_LENGTH: usize = 1024;

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
        const YAML_KEYS: [&str; 10] = [
            "name:",
            "conventions:",
            "about:",
            "layers:",
            "input:",
            "rounding:",
            "expect:",
            "train:",
            "let:",
            "sweep:",
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
/// More than [`crate::limits::MAX_LAYERS`] layers are refused (the DSL reader stops reading
/// one layer past the limit).
pub fn read(source: &Source, format: Format) -> Result<Description, SyntaxError> {
    let description = match format {
        Format::Yaml => yaml::read(source),
        Format::Dsl => dsl::read(source),
    }?;
    match description.layers.get(crate::limits::MAX_LAYERS) {
        Some(Item::Layer(layer)) => Err(SyntaxError::TooManyLayers { span: layer.span }),
        Some(Item::Repeat(repeat)) => Err(SyntaxError::TooManyLayers { span: repeat.span }),
        None => Ok(description),
    }
}

/// Reads a grid file: a text in either format that holds nothing but a sweep section (DSL `sweep`
/// lines, a YAML mapping with the one key `sweep`), for checking against a description with
/// [`Grid::new`]. Anything else in the file is an error, as is a file without a sweep entry.
pub fn read_grid(source: &Source, format: Format) -> Result<Vec<Attribute>, SyntaxError> {
    match format {
        Format::Yaml => yaml::read_grid(source),
        Format::Dsl => dsl::read_grid(source),
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
    /// More layers than netcalc analyses.
    #[error(
        "the description declares more than {} layers, the most netcalc reads",
        thousands(crate::limits::MAX_LAYERS)
    )]
    TooManyLayers {
        /// The first layer past the limit.
        span: Span,
    },
}

fn thousands(number: usize) -> String {
    crate::report::numbers::thousands(number as u64)
}

impl Locate for SyntaxError {
    fn span(&self) -> Span {
        match self {
            SyntaxError::Malformed { span, .. }
            | SyntaxError::Empty { span }
            | SyntaxError::TooManyLayers { span } => *span,
            SyntaxError::NotText => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            SyntaxError::Malformed { .. } => "here".to_string(),
            SyntaxError::Empty { .. } => "nothing here".to_string(),
            SyntaxError::NotText => "not text".to_string(),
            SyntaxError::TooManyLayers { .. } => "one layer too many".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            SyntaxError::Malformed { help, .. } => help.clone(),
            SyntaxError::Empty { .. } => {
                Some("write at least an input layer, e.g. `input 28x28x1`".to_string())
            }
            SyntaxError::NotText => None,
            SyntaxError::TooManyLayers { .. } => Some(
                "the limit (README, \"Limits\") keeps an absurd input from filling the memory; \
                 split the network"
                    .to_string(),
            ),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SyntaxError::Malformed { .. } => "netcalc::syntax::malformed",
            SyntaxError::Empty { .. } => "netcalc::syntax::empty",
            SyntaxError::NotText => "netcalc::syntax::not_text",
            SyntaxError::TooManyLayers { .. } => "netcalc::syntax::too_many_layers",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn sniffing_knows_every_top_level_key() {
        for text in [
            "name: x\n",
            "# c\nlet:\n  a: 1\n",
            "sweep: {a: [1]}\n",
            "---\nlayers: []\n",
        ] {
            assert_eq!(Format::sniff(text), Format::Yaml, "{text:?}");
        }
        for text in ["let a=1\n", "sweep a=[1]\n", "repeat 2\n  k\n", "input 5\n"] {
            assert_eq!(Format::sniff(text), Format::Dsl, "{text:?}");
        }
    }
}

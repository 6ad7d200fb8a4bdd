//! The DSL: netcalc's line-oriented text form of a [`Description`], one statement per line (see
//! GRAMMAR.md). [`read()`] is a nom grammar, [`print()`] writes the canonical form. The invariant that
//! ties them together: printing a description and reading the text back gives the description
//! again, and every scalar means what [`super::Value::from_text`] says, as in YAML.

mod failure;
mod layer;
mod parser;
mod printer;
#[cfg(test)]
mod properties;
mod repeat;
#[cfg(test)]
mod tests;
mod values;

use super::{Attribute, Description, SyntaxError, Value};
use crate::source::{Source, Span};

/// Words that start a statement when they open a line and are not followed by `:`.
const KEYWORDS: [&str; 9] = [
    "network",
    "about",
    "rounding",
    "conventions",
    "expect",
    "train",
    "let",
    "sweep",
    "repeat",
];

/// Reads a DSL description. Text that declares no layer (empty, blank, only comments, or only
/// `network`, `about`, `rounding`, `train` and `expect` statements) is [`SyntaxError::Empty`]; anything else that breaks the grammar is [`SyntaxError::Malformed`]
/// with the span of the offending token.
pub fn read(source: &Source) -> Result<Description, SyntaxError> {
    parser::read_text(&source.text)
}

/// Reads a grid file: nothing but `sweep` lines (and blank and comment lines). Any other statement
/// is an error at its first token; a text without a `sweep` line is [`SyntaxError::Empty`].
pub fn read_grid(source: &Source) -> Result<Vec<Attribute>, SyntaxError> {
    let text: &str = &source.text;
    let description = parser::read_statements(text)?;
    let other = [&description.name, &description.about, &description.rounding]
        .into_iter()
        .flatten()
        .map(|word| word.span)
        .chain(description.layers.iter().map(|item| match item {
            super::Item::Layer(layer) => layer.span,
            super::Item::Repeat(repeat) => repeat.span,
        }))
        .chain(
            [
                &description.parameters,
                &description.train,
                &description.expect,
            ]
            .into_iter()
            .flatten()
            .map(|attribute| attribute.key.span),
        )
        .min_by_key(|span| span.offset);
    if let Some(span) = other {
        return Err(SyntaxError::Malformed {
            message: "a grid file holds only `sweep` lines".to_string(),
            span: line_start(text, span),
            help: Some("write the network in its own file; here only `sweep NAME=[…]`".to_string()),
        });
    }
    if description.sweep.is_empty() {
        return Err(no_grid(Span::new(text.len(), 0)));
    }
    Ok(description.sweep)
}

/// The error for a grid file without a sweep entry.
pub(crate) fn no_grid(span: Span) -> SyntaxError {
    SyntaxError::Malformed {
        message: "the grid file sweeps nothing".to_string(),
        span,
        help: Some(
            "write e.g. `sweep kernel_size=[3, 5]` (YAML `sweep: {kernel_size: [3, 5]}`)"
                .to_string(),
        ),
    }
}

/// The span of the first word on the line of `span`: for pointing at a whole statement.
fn line_start(text: &str, span: Span) -> Span {
    let start = text
        .get(..span.offset)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |at| at + 1);
    let line = text.get(start..).unwrap_or_default();
    let indentation = line.len() - line.trim_start_matches([' ', '\t']).len();
    let word = line[indentation..]
        .find(|c: char| c.is_whitespace())
        .unwrap_or(line.len() - indentation);
    Span::new(start + indentation, word)
}

/// The DSL text of one value, as the printer writes it: `3`, `0.5`, `5x5`, `[[32, 64]]`,
/// `"a b"`, `$kernel_size`.
pub fn value_text(value: &Value) -> String {
    printer::value_text(value)
}

/// Writes a description as canonical DSL text: `network`, `about`, `rounding`, `let`, `train`,
/// the layers (repeated blocks with their bodies indented two spaces per level), `expect`, then
/// `sweep`, one statement per line. `positional_keys(kind)` names the kind's
/// positional attributes in order; leading attributes with exactly those keys are written without
/// `key=` (connection tables always keep their key, as they take the lines below).
pub fn print(
    description: &Description,
    positional_keys: &dyn Fn(&str) -> &'static [&'static str],
) -> String {
    printer::print(description, positional_keys)
}

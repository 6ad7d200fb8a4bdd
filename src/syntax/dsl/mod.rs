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
#[cfg(test)]
mod tests;
mod values;

use super::{Description, SyntaxError};
use crate::source::Source;

/// Words that start a statement when they open a line and are not followed by `:`.
const KEYWORDS: [&str; 6] = [
    "network",
    "about",
    "rounding",
    "conventions",
    "expect",
    "train",
];

/// Reads a DSL description. Text with no statement at all (empty, blank or only comments) is
/// [`SyntaxError::Empty`]; anything else that breaks the grammar is [`SyntaxError::Malformed`]
/// with the span of the offending token.
pub fn read(source: &Source) -> Result<Description, SyntaxError> {
    parser::read_text(&source.text)
}

/// Writes a description as canonical DSL text: `network`, `about`, `rounding`, `train`, the
/// layers, then `expect`, one statement per line. `positional_keys(kind)` names the kind's
/// positional attributes in order; leading attributes with exactly those keys are written without
/// `key=` (connection tables always keep their key, as they take the lines below).
pub fn print(
    description: &Description,
    positional_keys: &dyn Fn(&str) -> &'static [&'static str],
) -> String {
    printer::print(description, positional_keys)
}

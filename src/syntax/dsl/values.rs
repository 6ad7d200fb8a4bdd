//! Values: lists, quoted and bare tokens, and connection tables (inline and as a block of rows).
//! Every scalar is classified by [`Value::from_text`], the classifier the YAML reader uses too.

use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, space0};
use nom::combinator::{opt, recognize};

use super::failure::{Failure, Found, Parsed};
use super::parser::{Grammar, at_line_end, comment, is_bare_char, is_grid_char};
use crate::source::Spanned;
use crate::syntax::Value;
use crate::syntax::ast::is_malformed_reference;

/// How deep lists may nest; deeper input is an error rather than a deep recursion.
pub(super) const MAX_LIST_DEPTH: usize = 32;

/// Whether `text`, written bare as a value, reads back as the text itself (the printer's test for
/// leaving a text unquoted).
pub(super) fn bare_text_reads_back(text: &str) -> bool {
    let grammar = Grammar { text };
    match grammar.bare_value(text) {
        Ok((rest, value)) => rest.is_empty() && value.value == Value::Text(text.to_string()),
        Err(_) => false,
    }
}

const INTEGER_HELP: &str = "integers run from -9223372036854775808 to 9223372036854775807; \
                            quote the digits to keep them as text";
const SIZES_HELP: &str = "write sizes as `5x5`, `28x28x6` or `6@28x28` (maps@height×width)";
const REFERENCE_HELP: &str = "`$` starts a reference to a parameter: `$` and its name, a letter \
                              or `_`, then letters, digits, `_`, `.` or `-`; no text starts with `$`";

impl<'a> Grammar<'a> {
    /// `value = list | quoted_string | reference | bare_value ;`
    pub(super) fn value(&self, input: &'a str, depth: usize) -> Parsed<'a, Spanned<Value>> {
        match input.chars().next() {
            Some('[') => self.list(input, depth),
            Some('"') => {
                let (rest, text) = self.quoted_string(input)?;
                if is_malformed_reference(&text) {
                    return self.malformed_reference(input, rest);
                }
                Ok((
                    rest,
                    Spanned::new(Value::from_text(&text), self.span(input, rest)),
                ))
            }
            Some('$') => self.reference(input),
            Some(c) if is_bare_char(c) => self.bare_value(input),
            _ => Err(nom::Err::Error(Failure::unexpected(input))),
        }
    }

    /// `reference = "$" identifier ;`  (followed by no other bare character)
    pub(super) fn reference(&self, input: &'a str) -> Parsed<'a, Spanned<Value>> {
        let (rest, token) = recognize((char('$'), take_while(is_bare_char))).parse(input)?;
        match Value::from_text(token) {
            value @ Value::Reference(_) => Ok((rest, Spanned::new(value, self.span(input, rest)))),
            _ => self.malformed_reference(input, rest),
        }
    }

    fn malformed_reference<T>(&self, input: &'a str, rest: &'a str) -> Parsed<'a, T> {
        let written = self.written(input, rest);
        Failure::new(
            input,
            written.len(),
            format!("malformed reference `{written}`"),
        )
        .help(REFERENCE_HELP)
        .fail()
    }

    /// `list = "[" [ value { "," value } ] "]" ;`  (on one line, spaces allowed)
    pub(super) fn list(&self, input: &'a str, depth: usize) -> Parsed<'a, Spanned<Value>> {
        let (rest, _) = char('[').parse(input)?;
        if depth >= MAX_LIST_DEPTH {
            return Failure::new(
                input,
                1,
                format!("lists nest deeper than {MAX_LIST_DEPTH} levels"),
            )
            .fail();
        }
        let mut items = Vec::new();
        let (mut rest, _) = space0(rest)?;
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((
                after,
                Spanned::new(Value::List(items), self.span(input, after)),
            ));
        }
        loop {
            let (after, item) = match self.value(rest, depth + 1) {
                Ok(done) => done,
                Err(nom::Err::Error(_)) => {
                    let found = Found::at(rest);
                    let message = format!("expected a list item, found {}", found.text);
                    return Failure::new(rest, found.length, message).fail();
                }
                Err(failure) => return Err(failure),
            };
            items.push(item.value);
            let (after, _) = space0(after)?;
            if let Some(after_comma) = after.strip_prefix(',') {
                (rest, _) = space0(after_comma)?;
            } else if let Some(after_bracket) = after.strip_prefix(']') {
                let span = self.span(input, after_bracket);
                return Ok((after_bracket, Spanned::new(Value::List(items), span)));
            } else if at_line_end(after) || after.starts_with('#') {
                return Failure::new(input, 1, "unclosed list")
                    .help("close the list with `]` on the same line")
                    .fail();
            } else {
                let found = Found::at(after);
                let message = format!("expected `,` or `]` in a list, found {}", found.text);
                return Failure::new(after, found.length, message).fail();
            }
        }
    }

    /// `bare_value = bare_character { bare_character } ;` (an inline grid, or classified by
    /// `Value::from_text`)
    pub(super) fn bare_value(&self, input: &'a str) -> Parsed<'a, Spanned<Value>> {
        let (rest, token) = take_while1(is_bare_char).parse(input)?;
        let value = if token.contains('/') && token.chars().all(|c| is_grid_char(c) || c == '/') {
            self.inline_grid(token)?
        } else {
            let value = Value::from_text(token);
            if matches!(value, Value::Text(_)) {
                self.check_literal(token)?;
            }
            value
        };
        Ok((rest, Spanned::new(value, self.span(input, rest))))
    }

    /// A bare token that looks like an integer, sizes or a number but did not read as one is an
    /// error, not text: `99999999999999999999`, `5x`, `1e999`.
    pub(super) fn check_literal(&self, token: &'a str) -> Result<(), nom::Err<Failure<'a>>> {
        let unsigned = token.strip_prefix('-').unwrap_or(token);
        let is_size_sign = |c: char| matches!(c, 'x' | '×' | '@');
        let (message, help) =
            if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
                (
                    format!("integer `{token}` does not fit in 64 bits"),
                    Some(INTEGER_HELP),
                )
            } else if token.starts_with(|c: char| c.is_ascii_digit())
                && token.contains(is_size_sign)
                && token.chars().all(|c| c.is_ascii_digit() || is_size_sign(c))
            {
                (format!("malformed sizes `{token}`"), Some(SIZES_HELP))
            } else if unsigned
                .trim_start_matches('.')
                .starts_with(|c: char| c.is_ascii_digit())
                && token.parse::<f64>().is_ok_and(|number| !number.is_finite())
            {
                (format!("number `{token}` is out of range"), None)
            } else {
                return Ok(());
            };
        let mut failure = Failure::new(token, token.len(), message);
        if let Some(help) = help {
            failure = failure.help(help);
        }
        Err(nom::Err::Failure(failure))
    }

    /// `inline_grid = grid_row "/" { grid_row "/" } [ grid_row ] ;`
    pub(super) fn inline_grid(&self, token: &'a str) -> Result<Value, nom::Err<Failure<'a>>> {
        let mut rows: Vec<&'a str> = token.split('/').collect();
        if rows.len() >= 2 && rows.last().is_some_and(|row| row.is_empty()) {
            rows.pop();
        }
        if let Some(empty) = rows.iter().find(|row| row.is_empty()) {
            let failure =
                Failure::new(empty, 0, format!("empty row in connection table `{token}`"))
                    .help("write each row as `X` and `.`, rows separated by `/`");
            return Err(nom::Err::Failure(failure));
        }
        self.connection_table(&rows)
    }

    /// `grid_block = grid_line { grid_line } ;` where
    /// `grid_line = continuation_line grid_row [ comment ] ;`
    ///
    /// The rows of a connection table on the lines after `key=`, each indented more than the
    /// statement; comment lines among them are skipped.
    pub(super) fn grid_block(
        &self,
        at_break: &'a str,
        indent: usize,
    ) -> Parsed<'a, Spanned<Value>> {
        let mut rows: Vec<&'a str> = Vec::new();
        let mut end = at_break;
        let mut cursor = at_break;
        while let Some(content) = self.continuation(cursor, indent) {
            if let Ok((after, _)) = comment(content) {
                cursor = after;
                continue;
            }
            let Ok((after, (row, row_end))) = self.grid_row(content) else {
                break;
            };
            rows.push(row);
            end = row_end;
            cursor = after;
        }
        let Some(first) = rows.first() else {
            return Err(nom::Err::Error(Failure::unexpected(at_break)));
        };
        let span = self.span(first, end);
        let value = self.connection_table(&rows)?;
        Ok((end, Spanned::new(value, span)))
    }

    /// `grid_row = ( "X" | "x" | "." ) { "X" | "x" | "." } ;`  (alone on its line)
    ///
    /// Returns the input at the line's end, the row, and the input right after the row.
    pub(super) fn grid_row(&self, content: &'a str) -> Parsed<'a, (&'a str, &'a str)> {
        let (row_end, row) = take_while1(is_grid_char).parse(content)?;
        let (rest, _) = space0(row_end)?;
        let (rest, _) = opt(comment).parse(rest)?;
        if !at_line_end(rest) {
            return Err(nom::Err::Error(Failure::unexpected(rest)));
        }
        Ok((rest, (row, row_end)))
    }

    /// Rows of one length become a [`Value::Grid`], through [`Value::from_text`] like a YAML
    /// block of the same rows; a row of another length is an error naming the row.
    pub(super) fn connection_table(
        &self,
        rows: &[&'a str],
    ) -> Result<Value, nom::Err<Failure<'a>>> {
        let width = rows.first().map_or(0, |row| row.len());
        for (index, row) in rows.iter().enumerate() {
            if row.len() != width {
                let message = format!(
                    "row {} of the connection table has {} columns, but row 1 has {width}",
                    index + 1,
                    row.len()
                );
                let failure = Failure::new(row, row.len(), message)
                    .help("every row needs one `X` or `.` per output map");
                return Err(nom::Err::Failure(failure));
            }
        }
        let text: String = rows.iter().flat_map(|row| [*row, "\n"]).collect();
        match Value::from_text(&text) {
            Value::Grid(grid) => Ok(Value::Grid(grid)),
            _ => {
                let at = rows.first().copied().unwrap_or_default();
                Err(nom::Err::Failure(Failure::new(
                    at,
                    at.len(),
                    "malformed connection table",
                )))
            }
        }
    }
}

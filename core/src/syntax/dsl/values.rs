//! Values: lists, quoted and bare tokens, and connection tables (inline and as a block of rows).
//! Every scalar is classified by [`Value::from_text`], the classifier the YAML reader uses too.

use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, space0};
use nom::combinator::{opt, recognize};

use super::failure::{Failure, Found, Parsed};
use super::parser::{Grammar, at_line_end, comment, is_bare_char, is_grid_char};
use crate::source::Spanned;
use crate::syntax::ast::is_malformed_reference;
use crate::syntax::{Value, bare};

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
            // YAML's null: refused with the message YAML gives it (`bare::read`).
            Some('~') => {
                let length = '~'.len_utf8();
                let value = self.bare_token(input, &input[..length])?;
                Ok((&input[length..], value))
            }
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

    /// `bare_value = bare_character { bare_character } ;`, read by [`bare::read`] (an inline
    /// grid, or classified by `Value::from_text` unless refused). Digits followed by `:` and
    /// digits are read on as one token, so that YAML 1.1's `1:30` gets the message YAML gives it.
    pub(super) fn bare_value(&self, input: &'a str) -> Parsed<'a, Spanned<Value>> {
        let (mut rest, mut token) = take_while1(is_bare_char).parse(input)?;
        if rest.starts_with(':') {
            let (after, longer) =
                take_while1(|c: char| c.is_ascii_digit() || matches!(c, ':' | '.' | '+' | '-'))
                    .parse(input)?;
            if bare::sexagesimal(longer.trim_start_matches(['+', '-'])).is_some() {
                (rest, token) = (after, longer);
            }
        }
        let value = self.bare_token(input, token)?;
        Ok((rest, value))
    }

    /// A bare token's value, or its refusal as a failure spanning the trouble.
    fn bare_token(
        &self,
        input: &'a str,
        token: &'a str,
    ) -> Result<Spanned<Value>, nom::Err<Failure<'a>>> {
        match bare::read(token) {
            Ok(value) => Ok(Spanned::new(value, self.span(input, &input[token.len()..]))),
            Err(refusal) => Err(nom::Err::Failure(Failure::refused(token, refusal))),
        }
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

    /// Rows of one length become a [`Value::Grid`], by the rule an inline table and a YAML block
    /// of the same rows follow ([`bare::grid_rows`]); a row of another length is an error naming
    /// the row.
    pub(super) fn connection_table(
        &self,
        rows: &[&'a str],
    ) -> Result<Value, nom::Err<Failure<'a>>> {
        bare::grid_rows(rows)
            .map(Value::Grid)
            .map_err(|(index, refusal)| nom::Err::Failure(Failure::refused(rows[index], refusal)))
    }
}

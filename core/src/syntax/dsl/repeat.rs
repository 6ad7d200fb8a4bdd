//! The repeated block: `repeat COUNT_OR_LIST [as VARIABLE]` on one line, then its body, the
//! statements on the lines below indented deeper than `repeat`. The body's first line sets its
//! indentation; every body statement starts at exactly that indentation and continues, as any
//! statement does, on the lines indented deeper still.

use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::{line_ending, space0};

use super::failure::{Failure, Found, Parsed};
use super::parser::{Grammar, at_line_end, comment, identifier};
use crate::source::{Span, Spanned};
use crate::syntax::{Item, Repeat};

/// No statement of a repeat header continues on the lines below: those hold the body.
const SAME_LINE: usize = usize::MAX;

const BODY_HELP: &str = "write the layers to repeat on the lines below `repeat`, each indented \
                         more than `repeat` and all by the same amount";

impl<'a> Grammar<'a> {
    /// `repeat_statement = "repeat" value [ "as" identifier ] body ;`
    pub(super) fn repeat_statement(&self, input: &'a str, indent: usize) -> Parsed<'a, Repeat> {
        let (after_keyword, _) = tag("repeat").parse(input)?;
        let (rest, more) = self.separator_after_token(after_keyword, SAME_LINE)?;
        if !more {
            return Failure::new(rest, 0, "expected a count or a list after `repeat`")
                .help("write e.g. `repeat 3`, `repeat $blocks as block` or `repeat [32, 64] as filters`")
                .fail();
        }
        let (after_over, over) = match self.value(rest, 0) {
            Ok(done) => done,
            Err(nom::Err::Error(_)) => {
                let found = Found::at(rest);
                let message = format!(
                    "expected a count or a list after `repeat`, found {}",
                    found.text
                );
                return Failure::new(rest, found.length, message).fail();
            }
            Err(failure) => return Err(failure),
        };
        let mut end = after_over;
        let (mut rest, mut more) = self.separator_after_token(after_over, SAME_LINE)?;
        let mut variable = None;
        if more && let Ok((after_as, "as")) = identifier(rest) {
            let (at, found_name) = self.separator_after_token(after_as, SAME_LINE)?;
            let (after, name) = match identifier(at) {
                Ok((after, name)) if found_name => {
                    (after, Spanned::new(name.to_string(), self.span(at, after)))
                }
                _ => {
                    let found = Found::at(at);
                    let message =
                        format!("expected a loop variable after `as`, found {}", found.text);
                    return Failure::new(at, found.length, message)
                        .help("a loop variable is a name such as `block` (letters, digits, `_`, `.`, `-`)")
                        .fail();
                }
            };
            end = after;
            variable = Some(name);
            (rest, more) = self.separator_after_token(end, SAME_LINE)?;
        }
        if more {
            let found = Found::at(rest);
            let message = format!("unexpected {} after the repeat's count", found.text);
            return Failure::new(rest, found.length, message)
                .help("the line holds only `repeat COUNT_OR_LIST [as VARIABLE]`; the layers go on the lines below")
                .fail();
        }
        let span = self.span(input, end);
        let (rest, body) = self.body(rest, indent, span)?;
        Ok((
            rest,
            Repeat {
                over,
                variable,
                body,
                span,
            },
        ))
    }

    /// `body = body_line { body_line } ;` where each body line is a statement (a layer or a
    /// nested repeat) at the body's indentation.
    ///
    /// Starts at the end of the header's line; returns at the end of the body's last line.
    fn body(&self, at_end: &'a str, indent: usize, header: Span) -> Parsed<'a, Vec<Item>> {
        let mut items = Vec::new();
        let mut body_indent = None;
        let mut rest = at_end;
        while let Some((content, line_indent)) = self.next_content_line(rest) {
            if line_indent <= indent {
                break;
            }
            let expected = *body_indent.get_or_insert(line_indent);
            if line_indent != expected {
                let message = format!(
                    "this line is indented {line_indent}, but the repeated block's lines are indented {expected}"
                );
                return Failure::new(content, 0, message)
                    .help("indent every line of a block like its first; a statement continues on the lines right below it, indented more, up to a blank line")
                    .fail();
            }
            let (after, item) = self.body_statement(content, line_indent)?;
            items.push(item);
            rest = after;
        }
        if items.is_empty() {
            let at = self.text.get(header.offset..).unwrap_or_default();
            return Failure::new(at, header.length, "a repeat without layers to repeat")
                .help(BODY_HELP)
                .fail();
        }
        Ok((rest, items))
    }

    /// A statement inside a body: a layer or a nested repeat.
    fn body_statement(&self, content: &'a str, indent: usize) -> Parsed<'a, Item> {
        match self.statement_keyword(content) {
            Some("repeat") => {
                let (rest, repeat) = self.repeat_statement(content, indent)?;
                Ok((rest, Item::Repeat(repeat)))
            }
            Some(keyword) => {
                let message = format!("`{keyword}` cannot stand in a repeated block");
                Failure::new(content, keyword.len(), message)
                    .help("a repeated block holds layers and nested `repeat` blocks; write the other statements without indentation")
                    .fail()
            }
            None => {
                let (rest, layer) = self.layer_statement(content, indent)?;
                Ok((rest, Item::Layer(layer)))
            }
        }
    }

    /// From the end of a line, the next line that holds more than spaces and a comment: its
    /// content after the indentation, and the indentation's width.
    fn next_content_line(&self, at_end: &'a str) -> Option<(&'a str, usize)> {
        let (mut line, _) = line_ending::<_, Failure>(at_end).ok()?;
        loop {
            let (content, indentation) = space0::<_, Failure>(line).ok()?;
            let (after_comment, _) = nom::combinator::opt(comment)
                .parse(content)
                .unwrap_or((content, None));
            if !at_line_end(after_comment) {
                return Some((content, indentation.chars().count()));
            }
            (line, _) = line_ending::<_, Failure>(after_comment).ok()?;
        }
    }
}

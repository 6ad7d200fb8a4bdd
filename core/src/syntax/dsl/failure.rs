//! Parse failures before they are placed in the text, and how a message names what was found.

use nom::IResult;
use nom::error::{ErrorKind, ParseError};

use super::parser::{is_bare_char, is_line_end};
use crate::source::Span;
use crate::syntax::SyntaxError;
use crate::syntax::bare::Refusal;

/// A parse failure before it is placed in the text: the remaining input where it starts, the
/// length of the offending token, and what to tell the user.
#[derive(Debug)]
pub(super) struct Failure<'a> {
    at: &'a str,
    length: usize,
    message: String,
    help: Option<String>,
}

impl<'a> Failure<'a> {
    pub(super) fn new(at: &'a str, length: usize, message: impl Into<String>) -> Failure<'a> {
        Failure {
            at,
            length,
            message: message.into(),
            help: None,
        }
    }

    /// "unexpected `;`", spanning the token found.
    pub(super) fn unexpected(at: &'a str) -> Failure<'a> {
        let found = Found::at(at);
        let message = if found.length == 0 {
            format!("unexpected {}", found.text.trim_start_matches("the "))
        } else {
            format!("unexpected {}", found.text)
        };
        Failure::new(at, found.length, message)
    }

    /// A token [`crate::syntax::bare::read`] refused; `token` is the refused text, and the failure spans the
    /// trouble within it.
    pub(super) fn refused(token: &'a str, refusal: Refusal) -> Failure<'a> {
        let at = token.get(refusal.start..).unwrap_or(token);
        Failure {
            at,
            length: refusal.length,
            message: refusal.message,
            help: refusal.help,
        }
    }

    pub(super) fn help(mut self, help: impl Into<String>) -> Failure<'a> {
        self.help = Some(help.into());
        self
    }

    /// Commits: the failure ends the parse.
    pub(super) fn fail<T>(self) -> Parsed<'a, T> {
        Err(nom::Err::Failure(self))
    }

    /// The syntax error with the span turned into byte offsets of `text`.
    pub(super) fn place(self, text: &str) -> SyntaxError {
        let offset = (self.at.as_ptr() as usize)
            .checked_sub(text.as_ptr() as usize)
            .filter(|offset| *offset <= text.len())
            .unwrap_or(text.len());
        let length = self.length.min(text.len() - offset);
        SyntaxError::Malformed {
            message: self.message,
            span: Span::new(offset, length),
            help: self.help,
        }
    }
}

impl<'a> ParseError<&'a str> for Failure<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Failure<'a> {
        Failure::unexpected(input)
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Failure<'a>) -> Failure<'a> {
        other
    }
}

pub(super) type Parsed<'a, T> = IResult<&'a str, T, Failure<'a>>;

/// What a message says was found at a place: "`5x5`", "`;`" or "the end of the line".
pub(super) struct Found {
    pub(super) text: String,
    pub(super) length: usize,
}

impl Found {
    pub(super) fn at(input: &str) -> Found {
        if input.is_empty() {
            return Found {
                text: "the end of the text".to_string(),
                length: 0,
            };
        }
        if is_line_end(input) {
            return Found {
                text: "the end of the line".to_string(),
                length: 0,
            };
        }
        let token = input.find(|c| !is_bare_char(c)).unwrap_or(input.len());
        if token > 0 {
            let word = input.get(..token).unwrap_or_default();
            return Found {
                text: format!("`{word}`"),
                length: token,
            };
        }
        let first = input.chars().next().unwrap_or(' ');
        Found {
            text: format!("`{}`", first.escape_debug()),
            length: first.len_utf8(),
        }
    }
}

//! The DSL reader: a nom grammar over the whole text with one method per production of
//! GRAMMAR.md. Every scalar token, bare or quoted, becomes a value through [`Value::from_text`], so
//! the DSL and YAML agree on what a token means. Spans are byte offsets of the remaining input
//! (taken with [`nom::Offset`]); every failure carries the span of the token it is about.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while};
use nom::character::complete::{char, line_ending, satisfy, space0};
use nom::combinator::{eof, opt, recognize};
use nom::{Offset, Parser};

use super::KEYWORDS;
use super::failure::{Failure, Found, Parsed};
use crate::source::{Span, Spanned};
use crate::syntax::ast::is_identifier as is_parameter_name;
use crate::syntax::{Attribute, Description, Item, SyntaxError, Value};

const TABLE_HELP: &str = "a connection table goes on the lines below, indented more than this \
                          statement; any other value goes right after `=`";

/// Reads a whole DSL text. Without a layer there is no description, as in YAML (whose
/// `layers: []` is empty too): otherwise `convert` would print YAML that does not read.
pub(super) fn read_text(text: &str) -> Result<Description, SyntaxError> {
    let description = read_statements(text)?;
    if description.layers.is_empty() {
        return Err(SyntaxError::Empty {
            span: Span::new(text.len(), 0),
        });
    }
    Ok(description)
}

/// Reads a whole DSL text's statements, with or without a layer (a grid file has none).
pub(super) fn read_statements(text: &str) -> Result<Description, SyntaxError> {
    let grammar = Grammar { text };
    match grammar.description(text) {
        Ok((_, description)) => Ok(description),
        Err(nom::Err::Error(failure) | nom::Err::Failure(failure)) => Err(failure.place(text)),
        Err(nom::Err::Incomplete(_)) => Err(SyntaxError::Malformed {
            message: "unexpected end of text".to_string(),
            span: Span::new(text.len(), 0),
            help: None,
        }),
    }
}

/// Whether `text` is an identifier: `[A-Za-z_][A-Za-z0-9_.-]*`.
pub(super) fn is_identifier(text: &str) -> bool {
    matches!(identifier(text), Ok((rest, _)) if rest.is_empty())
}

/// Characters of a bare value token: letters, digits and `_ . - + @ / ×`.
pub(super) fn is_bare_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | '@' | '/' | '×')
}

pub(super) fn is_grid_char(c: char) -> bool {
    matches!(c, 'X' | 'x' | '.')
}

pub(super) fn is_line_end(input: &str) -> bool {
    input.starts_with('\n') || input.starts_with("\r\n")
}

/// At the end of a line or of the text: where a statement may stop.
pub(super) fn at_line_end(input: &str) -> bool {
    input.is_empty() || is_line_end(input)
}

/// `identifier = ( letter | "_" ) { letter | digit | "_" | "." | "-" } ;`
pub(super) fn identifier(input: &str) -> Parsed<'_, &str> {
    recognize((
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')),
    ))
    .parse(input)
}

/// `comment = "#" { any character but a line break } ;`
pub(super) fn comment(input: &str) -> Parsed<'_, &str> {
    recognize((char('#'), take_till(|c| c == '\n'))).parse(input)
}

/// The grammar over one text; it holds the text so that it can turn remaining inputs into spans.
pub(super) struct Grammar<'a> {
    pub(super) text: &'a str,
}

impl<'a> Grammar<'a> {
    /// The span from one remaining input to a later one.
    pub(super) fn span(&self, from: &'a str, to: &'a str) -> Span {
        let start = self.text.offset(from);
        let end = self.text.offset(to);
        Span::new(start, end.saturating_sub(start))
    }

    /// The text between two remaining inputs, as written.
    pub(super) fn written(&self, from: &'a str, to: &'a str) -> &'a str {
        from.get(..from.len().saturating_sub(to.len()))
            .unwrap_or_default()
    }

    /// `description = { blank_line | statement line_end } ;`
    pub(super) fn description(&self, input: &'a str) -> Parsed<'a, Description> {
        let mut description = Description::default();
        let mut rest = input.strip_prefix('\u{feff}').unwrap_or(input);
        while !rest.is_empty() {
            if let Ok((after, _)) = self.blank_line(rest) {
                rest = after;
                continue;
            }
            let (after, ()) = self.statement(rest, &mut description)?;
            let (after, _) = self.line_end(after)?;
            rest = after;
            if description.layers.len() > crate::limits::MAX_LAYERS {
                // `syntax::read` refuses it; the rest of the text is not read.
                break;
            }
        }
        Ok((rest, description))
    }

    /// `blank_line = spaces [ comment ] ( line_break | end_of_text ) ;`
    pub(super) fn blank_line(&self, input: &'a str) -> Parsed<'a, &'a str> {
        recognize((space0, opt(comment), alt((line_ending, eof)))).parse(input)
    }

    /// `line_end = line_break | end_of_text ;`
    pub(super) fn line_end(&self, input: &'a str) -> Parsed<'a, &'a str> {
        let attempt: Parsed<'a, &'a str> = alt((line_ending, eof)).parse(input);
        match attempt {
            Ok(done) => Ok(done),
            Err(_) => Failure::unexpected(input).fail(),
        }
    }

    /// `statement = spaces ( network_statement | about_statement | rounding_statement
    /// | let_statement | train_statement | expect_statement | sweep_statement
    /// | repeat_statement | layer_statement ) ;`
    pub(super) fn statement(
        &self,
        input: &'a str,
        description: &mut Description,
    ) -> Parsed<'a, ()> {
        let (content, indentation) = space0(input)?;
        let indent = indentation.chars().count();
        match self.statement_keyword(content) {
            Some("network") => {
                let (rest, (keyword, name)) = self.network_statement(content, indent)?;
                set_once(&mut description.name, name, keyword)?;
                Ok((rest, ()))
            }
            Some("about") => {
                let (rest, (keyword, about)) = self.about_statement(content, indent)?;
                set_once(&mut description.about, about, keyword)?;
                Ok((rest, ()))
            }
            Some("rounding") => {
                let (rest, (keyword, rounding)) = self.rounding_statement(content, indent)?;
                set_once(&mut description.rounding, rounding, keyword)?;
                Ok((rest, ()))
            }
            Some("conventions") => {
                let (rest, (keyword, conventions)) = self.conventions_statement(content, indent)?;
                set_once(&mut description.conventions, conventions, keyword)?;
                Ok((rest, ()))
            }
            Some("train") => self.train_statement(content, indent, &mut description.train),
            Some("expect") => self.expect_statement(content, indent, &mut description.expect),
            Some("let") => self.let_statement(content, indent, &mut description.parameters),
            Some("sweep") => self.sweep_statement(content, indent, &mut description.sweep),
            Some("repeat") => {
                let (rest, repeat) = self.repeat_statement(content, indent)?;
                description.layers.push(Item::Repeat(repeat));
                Ok((rest, ()))
            }
            _ => {
                let (rest, layer) = self.layer_statement(content, indent)?;
                description.layers.push(Item::Layer(layer));
                Ok((rest, ()))
            }
        }
    }

    /// The statement keyword a line starts with: one of [`KEYWORDS`], not followed by `:`.
    pub(super) fn statement_keyword(&self, content: &'a str) -> Option<&'static str> {
        let (rest, word) = identifier(content).ok()?;
        let keyword = KEYWORDS.iter().find(|keyword| **keyword == word)?;
        let (rest, _) = space0::<_, Failure>(rest).ok()?;
        (!rest.starts_with(':')).then_some(*keyword)
    }

    /// `network_statement = "network" name ;`
    pub(super) fn network_statement(
        &self,
        input: &'a str,
        indent: usize,
    ) -> Parsed<'a, (&'a str, Spanned<String>)> {
        self.word_statement(
            input,
            indent,
            "network",
            ("a network name", "the network name"),
        )
        .map_err(|error| {
            error.map(|failure| {
                failure.help("quote a name with spaces or signs: `network \"LeNet 5\"`")
            })
        })
    }

    /// `about_statement = "about" name ;`
    pub(super) fn about_statement(
        &self,
        input: &'a str,
        indent: usize,
    ) -> Parsed<'a, (&'a str, Spanned<String>)> {
        self.word_statement(input, indent, "about", ("a text", "the text"))
            .map_err(|error| {
                error.map(|failure| failure.help("write the text in quotes: `about \"…\"`"))
            })
    }

    /// `rounding_statement = "rounding" name ;`
    pub(super) fn rounding_statement(
        &self,
        input: &'a str,
        indent: usize,
    ) -> Parsed<'a, (&'a str, Spanned<String>)> {
        self.word_statement(
            input,
            indent,
            "rounding",
            ("a rounding mode", "the rounding mode"),
        )
        .map_err(|error| error.map(|failure| failure.help("write one word: `rounding floor`")))
    }

    /// `conventions_statement = "conventions" name ;`
    pub(super) fn conventions_statement(
        &self,
        input: &'a str,
        indent: usize,
    ) -> Parsed<'a, (&'a str, Spanned<String>)> {
        self.word_statement(
            input,
            indent,
            "conventions",
            ("a framework's name", "the conventions"),
        )
        .map_err(|error| error.map(|failure| failure.help("write one word: `conventions pytorch`")))
    }

    /// `keyword name`: the shape of the network, about and rounding statements. Returns the
    /// keyword as written (for duplicate errors) and the name.
    pub(super) fn word_statement(
        &self,
        input: &'a str,
        indent: usize,
        keyword: &'static str,
        (what, the_what): (&str, &str),
    ) -> Parsed<'a, (&'a str, Spanned<String>)> {
        let (rest, written) = tag(keyword).parse(input)?;
        let (rest, more) = self.separator(rest, indent);
        if !more {
            return Failure::new(rest, 0, format!("expected {what} after `{keyword}`")).fail();
        }
        let (rest, name) = match self.name(rest) {
            Ok(done) => done,
            Err(nom::Err::Error(_)) => {
                let found = Found::at(rest);
                let message = format!("expected {what} after `{keyword}`, found {}", found.text);
                return Failure::new(rest, found.length, message).fail();
            }
            Err(failure) => return Err(failure),
        };
        let (rest, ()) = self.end_of_statement(rest, indent, &format!("after {the_what}"))?;
        Ok((rest, (written, name)))
    }

    /// `train_statement = "train" attribute_list ;`
    pub(super) fn train_statement(
        &self,
        input: &'a str,
        indent: usize,
        train: &mut Vec<Attribute>,
    ) -> Parsed<'a, ()> {
        let (rest, _) = tag("train").parse(input)?;
        let (rest, _) = self.attribute_list(rest, indent, "train", train)?;
        Ok((rest, ()))
    }

    /// `let_statement = "let" attribute_list ;`  (keys are identifiers)
    pub(super) fn let_statement(
        &self,
        input: &'a str,
        indent: usize,
        parameters: &mut Vec<Attribute>,
    ) -> Parsed<'a, ()> {
        let (rest, _) = tag("let").parse(input)?;
        let first = parameters.len();
        let (rest, _) = self.attribute_list(rest, indent, "let", parameters)?;
        if let Some(bad) = parameters[first..]
            .iter()
            .find(|parameter| !is_parameter_name(&parameter.key.value))
        {
            let at = self.text.get(bad.key.span.offset..).unwrap_or_default();
            let message = format!(
                "the parameter name {} is not an identifier",
                super::printer::name_text(&bad.key.value)
            );
            return Failure::new(at, bad.key.span.length, message)
                .help("a parameter is referred to as `$NAME`: a letter or `_`, then letters, digits, `_`, `.` or `-`")
                .fail();
        }
        Ok((rest, ()))
    }

    /// `sweep_statement = "sweep" attribute_list ;`
    pub(super) fn sweep_statement(
        &self,
        input: &'a str,
        indent: usize,
        sweep: &mut Vec<Attribute>,
    ) -> Parsed<'a, ()> {
        let (rest, _) = tag("sweep").parse(input)?;
        let (rest, _) = self.attribute_list(rest, indent, "sweep", sweep)?;
        Ok((rest, ()))
    }

    /// `expect_statement = "expect" attribute_list ;`
    pub(super) fn expect_statement(
        &self,
        input: &'a str,
        indent: usize,
        expect: &mut Vec<Attribute>,
    ) -> Parsed<'a, ()> {
        let (rest, _) = tag("expect").parse(input)?;
        let (rest, _) = self.attribute_list(rest, indent, "expect", expect)?;
        Ok((rest, ()))
    }

    /// The end of a statement: nothing but spaces and a comment may follow.
    pub(super) fn end_of_statement(
        &self,
        after: &'a str,
        indent: usize,
        context: &str,
    ) -> Parsed<'a, ()> {
        let (rest, more) = self.separator(after, indent);
        if more {
            let found = Found::at(rest);
            let message = format!("unexpected {} {context}", found.text);
            return Failure::new(rest, found.length, message).fail();
        }
        Ok((rest, ()))
    }

    /// `separator = { spaces | comment | line_break continuation_line } ;`
    ///
    /// Skips to the next token of the statement; the boolean says whether there is one. A line
    /// break continues the statement when the next line is indented more than the statement's
    /// first line (`indent` characters) and is not blank.
    pub(super) fn separator(&self, input: &'a str, indent: usize) -> (&'a str, bool) {
        let mut rest = input;
        loop {
            let after_spaces = rest.trim_start_matches([' ', '\t']);
            let after_comment = comment(after_spaces).map_or(after_spaces, |(after, _)| after);
            if after_comment.is_empty() {
                return (after_comment, false);
            }
            if !is_line_end(after_comment) {
                return (after_comment, true);
            }
            match self.continuation(after_comment, indent) {
                Some(next) => rest = next,
                None => return (after_comment, false),
            }
        }
    }

    /// A separator after a word or value: it must hold at least a space before the next token.
    pub(super) fn separator_after_token(&self, after: &'a str, indent: usize) -> Parsed<'a, bool> {
        let (rest, more) = self.separator(after, indent);
        if more && rest.len() == after.len() {
            return Failure::unexpected(rest).fail();
        }
        Ok((rest, more))
    }

    /// `continuation_line = line_break indentation(deeper than the statement) non_blank ;`
    pub(super) fn continuation(&self, at_break: &'a str, indent: usize) -> Option<&'a str> {
        let (line, _) = line_ending::<_, Failure>(at_break).ok()?;
        let (content, indentation) = space0::<_, Failure>(line).ok()?;
        (indentation.chars().count() > indent && !at_line_end(content)).then_some(content)
    }

    /// `name = identifier | quoted_string ;`
    pub(super) fn name(&self, input: &'a str) -> Parsed<'a, Spanned<String>> {
        if input.starts_with('"') {
            let (rest, text) = self.quoted_string(input)?;
            return Ok((rest, Spanned::new(text, self.span(input, rest))));
        }
        let (rest, word) = identifier(input)?;
        Ok((rest, Spanned::new(word.to_string(), self.span(input, rest))))
    }

    /// `quoted_string = '"' { character | "\" ( '"' | "\" | "n" | "r" | "t" ) } '"' ;`
    pub(super) fn quoted_string(&self, input: &'a str) -> Parsed<'a, String> {
        let (mut rest, _) = char('"').parse(input)?;
        let mut text = String::new();
        loop {
            let mut chars = rest.chars();
            match chars.next() {
                None | Some('\n') => return self.unterminated(input),
                Some('\r') if chars.as_str().starts_with('\n') => return self.unterminated(input),
                Some('"') => return Ok((chars.as_str(), text)),
                Some('\\') => match chars.next() {
                    Some('"') => text.push('"'),
                    Some('\\') => text.push('\\'),
                    Some('n') => text.push('\n'),
                    Some('r') => text.push('\r'),
                    Some('t') => text.push('\t'),
                    Some(other) if other != '\n' && other != '\r' => {
                        let message =
                            format!("unknown escape `\\{}` in a string", other.escape_debug());
                        return Failure::new(rest, 1 + other.len_utf8(), message)
                            .help("the escapes are `\\\"`, `\\\\`, `\\n`, `\\r` and `\\t`")
                            .fail();
                    }
                    _ => return self.unterminated(input),
                },
                Some(other) => text.push(other),
            }
            rest = chars.as_str();
        }
    }

    pub(super) fn unterminated<T>(&self, quote: &'a str) -> Parsed<'a, T> {
        let line = quote.find('\n').unwrap_or(quote.len());
        let line = quote.get(..line).unwrap_or_default().trim_end_matches('\r');
        Failure::new(quote, line.len(), "unterminated string")
            .help("close the string with `\"` on the same line; write a line break as `\\n`")
            .fail()
    }

    /// `attribute_value = value | [ comment ] grid_block ;`  (after `key=`)
    pub(super) fn attribute_value(
        &self,
        after_equals: &'a str,
        indent: usize,
        key: &str,
    ) -> Parsed<'a, Spanned<Value>> {
        let (rest, _) = space0(after_equals)?;
        let (rest, _) = opt(comment).parse(rest)?;
        if at_line_end(rest) {
            return match self.grid_block(rest, indent) {
                Ok(done) => Ok(done),
                Err(nom::Err::Error(_)) => {
                    Failure::new(after_equals, 0, format!("expected a value after `{key}=`"))
                        .help(TABLE_HELP)
                        .fail()
                }
                Err(failure) => Err(failure),
            };
        }
        match self.value(rest, 0) {
            Ok(done) => Ok(done),
            Err(nom::Err::Error(_)) => {
                let found = Found::at(rest);
                let message = format!("expected a value after `{key}=`, found {}", found.text);
                Failure::new(rest, found.length, message).fail()
            }
            Err(failure) => Err(failure),
        }
    }

    /// `attribute_list = attribute { attribute } ;`  (after `expect` or `train`)
    ///
    /// Reads to the end of the statement; returns where the last attribute ends.
    pub(super) fn attribute_list(
        &self,
        after_keyword: &'a str,
        indent: usize,
        keyword: &str,
        list: &mut Vec<Attribute>,
    ) -> Parsed<'a, &'a str> {
        let (mut rest, mut more) = self.separator(after_keyword, indent);
        if !more {
            return Failure::new(rest, 0, format!("expected `key=value` after `{keyword}`")).fail();
        }
        let mut end = after_keyword;
        while more {
            match self.key(rest) {
                Ok((after_equals, (key, written))) => {
                    let (after, value) = self.attribute_value(after_equals, indent, written)?;
                    push_unique(list, Attribute { key, value }, written, keyword)?;
                    end = after;
                }
                Err(nom::Err::Error(_)) => return self.not_an_attribute(rest, keyword),
                Err(failure) => return Err(failure),
            }
            (rest, more) = self.separator_after_token(end, indent)?;
        }
        Ok((rest, end))
    }

    /// The failure for a token where only `key=value` may stand.
    pub(super) fn not_an_attribute<T>(&self, input: &'a str, keyword: &str) -> Parsed<'a, T> {
        if input.starts_with("<-") && keyword == "expect" {
            return Failure::new(input, 2, "the inputs (`<-`) must come before `expect`").fail();
        }
        if let Ok((rest, _)) = self.name(input) {
            let written = self.written(input, rest);
            let message = format!("expected `=` after attribute key `{written}`");
            return Failure::new(input, written.len(), message)
                .help(format!(
                    "only `key=value` may follow `{keyword}`: `{written}=…`"
                ))
                .fail();
        }
        let found = Found::at(input);
        let message = format!(
            "expected `key=value` after `{keyword}`, found {}",
            found.text
        );
        Failure::new(input, found.length, message).fail()
    }
}

/// Stores the value of a statement that may appear once.
pub(super) fn set_once<'a>(
    slot: &mut Option<Spanned<String>>,
    value: Spanned<String>,
    keyword: &'a str,
) -> Result<(), nom::Err<Failure<'a>>> {
    if slot.is_some() {
        let failure = Failure::new(
            keyword,
            keyword.len(),
            format!("duplicate `{keyword}` statement"),
        )
        .help(format!("a description has at most one `{keyword}` line"));
        return Err(nom::Err::Failure(failure));
    }
    *slot = Some(value);
    Ok(())
}

/// Appends an attribute unless its key is already in the list. `keyword` is the statement the
/// list belongs to (`let` and `sweep` lists hold parameters, the others attributes).
pub(super) fn push_unique<'a>(
    list: &mut Vec<Attribute>,
    attribute: Attribute,
    written_key: &'a str,
    keyword: &str,
) -> Result<(), nom::Err<Failure<'a>>> {
    if list
        .iter()
        .any(|known| known.key.value == attribute.key.value)
    {
        let (message, help) = match keyword {
            "let" => (
                format!("the parameter `{}` is declared twice", attribute.key.value),
                "each parameter has one default; `let` lines together declare each name once",
            ),
            "sweep" => (
                format!("the grid sweeps `{}` twice", attribute.key.value),
                "give each parameter one list of values; `sweep` lines together name each once",
            ),
            _ => (
                format!("duplicate attribute `{}`", attribute.key.value),
                "each key may appear once here",
            ),
        };
        let failure = Failure::new(written_key, written_key.len(), message).help(help);
        return Err(nom::Err::Failure(failure));
    }
    list.push(attribute);
    Ok(())
}

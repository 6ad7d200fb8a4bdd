//! The layer statement: `[name:] kind positional… key=value… [<- inputs] [expect …]`.

use nom::Parser;
use nom::bytes::complete::tag;
use nom::character::complete::{char, space0};

use super::failure::{Failure, Found, Parsed};
use super::parser::{Grammar, identifier, is_grid_char, push_unique};
use crate::source::{Span, Spanned};
use crate::syntax::{Attribute, LayerDecl, MAX_KEY_LENGTH, Value};

/// What a line may hold, for a line that starts with neither a statement keyword nor a name.
const LINE_HELP: &str = "a line holds a statement (`network`, `about`, `rounding`, `let`, \
                         `train`, `expect`, `sweep`, `repeat`) or a layer such as \
                         `C1: conv2d 6 5x5`; quote kinds that are not names";

/// Keys that YAML uses for a layer's own fields, so no layer attribute may have them (a DSL
/// layer with one could not be converted), and where the DSL writes each field instead.
fn reserved_key_help(key: &str) -> Option<&'static str> {
    match key {
        "name" => Some("write the layer's name before its kind: `C1: conv2d 6 5x5`"),
        "kind" => Some("the kind is the layer's first word (after `name:`): `C1: conv2d 6 5x5`"),
        "inputs" => Some("name the layers it reads after `<-`: `merged: concat <- a, b`"),
        "expect" => Some("write assertions after the word `expect`: `expect params=156`"),
        "repeat" => Some(
            "a repeated block is a statement of its own: `repeat 3 as block`, its layers indented below",
        ),
        _ => None,
    }
}

impl<'a> Grammar<'a> {
    /// `layer_statement = [ layer_name ] kind { positional } { attribute } [ inputs ]
    /// [ "expect" attribute_list ] ;`
    pub(super) fn layer_statement(&self, input: &'a str, indent: usize) -> Parsed<'a, LayerDecl> {
        let (rest, name) = match self.layer_name(input) {
            Ok((rest, name)) => (rest, Some(name)),
            Err(nom::Err::Error(_)) => (input, None),
            Err(failure) => return Err(failure),
        };
        let written_name = name.as_ref().map(|(_, written)| *written);
        let (rest, kind) = self.kind(rest, indent, written_name)?;
        let mut layer = LayerDecl {
            name: name.map(|(name, _)| name),
            kind,
            positionals: Vec::new(),
            attributes: Vec::new(),
            inputs: Vec::new(),
            expect: Vec::new(),
            span: Span::default(),
            copies: crate::syntax::Copies::default(),
        };
        let mut end = rest;
        let (mut rest, mut more) = self.separator_after_token(end, indent)?;
        while more && !rest.starts_with("<-") && !self.at_expect_keyword(rest) {
            match self.key(rest) {
                Ok((after_equals, (key, written))) => {
                    if let Some(help) = reserved_key_help(&key.value) {
                        let message = format!("`{}` cannot be an attribute of a layer", key.value);
                        return Failure::new(rest, written.len(), message).help(help).fail();
                    }
                    let (after, value) = self.attribute_value(after_equals, indent, written)?;
                    push_unique(
                        &mut layer.attributes,
                        Attribute { key, value },
                        written,
                        "layer",
                    )?;
                    end = after;
                }
                Err(nom::Err::Error(_)) => {
                    let (after, value) = self.positional(rest)?;
                    if !layer.attributes.is_empty() {
                        let message = "positional value after a named attribute";
                        let help = if rest.starts_with(is_grid_char) {
                            "write values without a key first; a connection table row holds \
                             only `X`, `x` and `.`"
                        } else {
                            "write values without a key first, or give this one its key"
                        };
                        return Failure::new(rest, value.span.length, message)
                            .help(help)
                            .fail();
                    }
                    layer.positionals.push(value);
                    end = after;
                }
                Err(failure) => return Err(failure),
            }
            (rest, more) = self.separator_after_token(end, indent)?;
        }
        if more && rest.starts_with("<-") {
            let (after, inputs) = self.inputs(rest, indent)?;
            layer.inputs = inputs;
            end = after;
            (rest, more) = self.separator_after_token(end, indent)?;
            if more && !self.at_expect_keyword(rest) {
                let found = Found::at(rest);
                let message = format!("unexpected {} after the inputs", found.text);
                return Failure::new(rest, found.length, message)
                    .help("separate input names with `,`; attributes go before `<-`")
                    .fail();
            }
        }
        if more {
            let (after_keyword, _) = tag("expect").parse(rest)?;
            let (after, last) =
                self.attribute_list(after_keyword, indent, "expect", &mut layer.expect)?;
            rest = after;
            end = last;
        }
        layer.span = self.span(input, end);
        Ok((rest, layer))
    }

    /// `layer_name = name ":" ;`
    pub(super) fn layer_name(&self, input: &'a str) -> Parsed<'a, (Spanned<String>, &'a str)> {
        let (rest, name) = self.name(input)?;
        let written = self.written(input, rest);
        let (rest, _) = space0(rest)?;
        let (rest, _) = char(':').parse(rest)?;
        Ok((rest, (name, written)))
    }

    /// `kind = name ;`
    pub(super) fn kind(
        &self,
        input: &'a str,
        indent: usize,
        written_name: Option<&str>,
    ) -> Parsed<'a, Spanned<String>> {
        let (rest, more) = match written_name {
            Some(_) => self.separator(input, indent),
            None => (input, true),
        };
        let missing = |found: Found| match written_name {
            Some(name) => {
                let message = format!("expected a layer kind after `{name}:`");
                Failure::new(rest, found.length, message)
            }
            None => {
                let message = format!("expected a layer kind, found {}", found.text);
                Failure::new(rest, found.length, message).help(LINE_HELP)
            }
        };
        if !more {
            return missing(Found::at(rest)).fail();
        }
        match self.name(rest) {
            Ok(done) => Ok(done),
            Err(nom::Err::Error(_)) => missing(Found::at(rest)).fail(),
            Err(failure) => Err(failure),
        }
    }

    /// Whether the next token is the word `expect` that opens a layer's assertions (and not the
    /// key `expect=`, which is an error).
    pub(super) fn at_expect_keyword(&self, input: &'a str) -> bool {
        match identifier(input) {
            Ok((rest, "expect")) => !rest.trim_start_matches([' ', '\t']).starts_with('='),
            _ => false,
        }
    }

    /// `key = name "=" ;`  (spaces may stand around `=`)
    ///
    /// Returns the input after `=`, the key, and the key as written.
    /// A key is at most [`MAX_KEY_LENGTH`] bytes long.
    pub(super) fn key(&self, input: &'a str) -> Parsed<'a, (Spanned<String>, &'a str)> {
        let (rest, key) = self.name(input)?;
        let written = self.written(input, rest);
        let (rest, _) = space0(rest)?;
        let (rest, _) = char('=').parse(rest)?;
        if written.len() > MAX_KEY_LENGTH {
            let message = format!(
                "a key of {} characters; keys are at most {MAX_KEY_LENGTH} long",
                written.chars().count()
            );
            return Failure::new(input, written.len(), message)
                .help("YAML cannot write a longer key, and a key means the same in both formats")
                .fail();
        }
        Ok((rest, (key, written)))
    }

    /// `inputs = "<-" name { "," name } ;`
    pub(super) fn inputs(&self, input: &'a str, indent: usize) -> Parsed<'a, Vec<Spanned<String>>> {
        let (mut rest, _) = tag("<-").parse(input)?;
        let mut names = Vec::new();
        let mut after_what = "`<-`";
        loop {
            let (at, more) = self.separator(rest, indent);
            let name = if more {
                self.name(at)
            } else {
                Err(nom::Err::Error(Failure::unexpected(at)))
            };
            let (after, name) = match name {
                Ok(done) => done,
                Err(nom::Err::Error(_)) => {
                    let found = Found::at(at);
                    let message = format!(
                        "expected a layer name after {after_what}, found {}",
                        found.text
                    );
                    return Failure::new(at, found.length, message).fail();
                }
                Err(failure) => return Err(failure),
            };
            names.push(name);
            let (next, more) = self.separator(after, indent);
            match next.strip_prefix(',') {
                Some(after_comma) if more => {
                    rest = after_comma;
                    after_what = "`,`";
                }
                _ => return Ok((after, names)),
            }
        }
    }

    /// `positional = value ;`  (before any `key=value`)
    pub(super) fn positional(&self, input: &'a str) -> Parsed<'a, Spanned<Value>> {
        let (rest, value) = match self.value(input, 0) {
            Ok(done) => done,
            Err(nom::Err::Error(_)) => return Failure::unexpected(input).fail(),
            Err(failure) => return Err(failure),
        };
        if rest.trim_start_matches([' ', '\t']).starts_with('=') {
            let written = self.written(input, rest);
            return Failure::new(
                input,
                written.len(),
                format!("attribute key `{written}` is not a name"),
            )
            .help(format!(
                "keys start with a letter or `_`; quote any other key: `\"{written}\"=…`"
            ))
            .fail();
        }
        Ok((rest, value))
    }
}

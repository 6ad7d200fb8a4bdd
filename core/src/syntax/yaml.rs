//! The YAML form of a description: [`read`] turns one YAML document into a [`Description`] and
//! [`print()`] writes a description back as canonical YAML. This is the only file that imports
//! serde_yaml (0.9, deprecated upstream), so replacing it later touches nothing else.
//!
//! Scalars are classified like the DSL's: a plain (unquoted) scalar is read from its written text
//! by the DSL's rules for bare tokens ([`bare::read`]), so YAML's own forms that the DSL refuses
//! (`0x10`, `0o17`, `True`, `.inf`, `~`, …) are refused here too, with the same message, and
//! `X./.X` is a connection table in both; a quoted scalar goes through [`Value::from_text`], as a
//! quoted DSL token does. So `5x5` is sizes and a block of `X`/`.` rows is a connection table,
//! quoted or not. serde_yaml types plain scalars by YAML's rules and does not say how they were
//! written, so a second pass asks it for their text ([`reread_plain_scalars`]).
//!
//! Spans. serde_yaml reports positions only for its own syntax errors; those become
//! [`SyntaxError::Malformed`] at the reported byte offset, with the message cleaned of its
//! duplicate position. For everything else the reader asks `yaml_locate`'s outline of the text,
//! which follows block-style YAML and flow collections: top-level keys, the items of the top-level
//! `layers:` list (from the `-` to the end of the item), and the keys and values inside an item,
//! `expect:` or `train:`. Every spanned field gets the best span found. When a key or item cannot
//! be located (layout the outline does not follow, such as `? ` complex keys or a flow collection
//! broken across lines at a shallower indentation) the span falls back to the enclosing item (or
//! the enclosing `expect:`/`train:` entry), then to the `layers:` key, then to `Span::default()`
//! (the start of the text). A top-level value that cannot be located gets `Span::default()`.

use super::SyntaxError;
use super::ast::{
    Attribute, Description, Item, LayerDecl, Repeat, Value, dims_text, grid_text, is_identifier,
    is_malformed_reference,
};
use super::bare;
use super::yaml_locate::{Block, Entry, Outline};
use crate::source::{Source, Span, Spanned};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// The keys a description may have at the top level.
const TOP_LEVEL_KEYS: [&str; 10] = [
    "name",
    "about",
    "rounding",
    "conventions",
    "let",
    "input",
    "layers",
    "expect",
    "train",
    "sweep",
];

/// The keys of a repeated block's item in `layers:`.
const REPEAT_KEYS: [&str; 3] = ["repeat", "as", "layers"];

/// How deeply lists may nest inside one attribute value.
const MAXIMUM_LIST_DEPTH: usize = 32;

/// Reads a YAML description: one document, a mapping with the keys `name`, `about`, `rounding`,
/// `conventions`, `let`, `input`, `layers`, `expect`, `train` and `sweep`. Empty documents
/// (nothing but comments or `---`) are skipped; a second non-empty document is an error, as is a
/// description that declares no layer ([`SyntaxError::Empty`]).
pub fn read(source: &Source) -> Result<Description, SyntaxError> {
    let text: &str = &source.text;
    let outline = Outline::new(text);
    let root = document(text, &outline)?;
    let reader = Reader {
        text,
        outline: &outline,
    };
    let description = reader.description(&root)?;
    if description.layers.is_empty() {
        return Err(SyntaxError::Empty {
            span: Span::new(text.len(), 0),
        });
    }
    Ok(description)
}

/// Reads a grid file: a mapping with the one key `sweep`, whose value is read as a description's
/// `sweep:` is. Any other key is an error at the key; a text without one is an error too.
pub fn read_grid(source: &Source) -> Result<Vec<Attribute>, SyntaxError> {
    let text: &str = &source.text;
    let outline = Outline::new(text);
    let root = match document(text, &outline) {
        Err(SyntaxError::Empty { span }) => return Err(super::dsl::no_grid(span)),
        other => other?,
    };
    let reader = Reader {
        text,
        outline: &outline,
    };
    if let Node::Mapping(entries) = &root {
        for (key, _) in entries {
            if key != &Node::String("sweep".to_string()) {
                let label = key.label();
                let site = Site::in_block(Some(&outline.root), &label, Span::default());
                return Err(malformed(
                    format!("a grid file holds only `sweep`, not `{label}`"),
                    site.key(),
                    Some("write the network in its own file; here only `sweep: {NAME: […]}`"),
                ));
            }
        }
    }
    let description = reader.description(&root)?;
    if description.sweep.is_empty() {
        return Err(super::dsl::no_grid(Span::new(text.len(), 0)));
    }
    Ok(description.sweep)
}

/// The one non-empty document of a text; [`SyntaxError::Empty`] when there is none.
fn document(text: &str, outline: &Outline) -> Result<Node, SyntaxError> {
    let mut documents = parse_documents(text)?;
    match documents.as_slice() {
        [] => Err(SyntaxError::Empty {
            span: Span::new(text.len(), 0),
        }),
        [_] => Ok(documents.swap_remove(0).1),
        [_, (second, _), ..] => Err(malformed(
            "a second YAML document: netcalc reads one network per file",
            outline
                .document_starts
                .get(*second)
                .copied()
                .unwrap_or_default(),
            Some("put each network in its own file; a `---` line starts a new document"),
        )),
    }
}

/// The non-empty documents of a text with their positions among all documents.
fn parse_documents(text: &str) -> Result<Vec<(usize, Node)>, SyntaxError> {
    let mut documents = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        // The iterator repeats a syntax error forever, so the first error must end the loop.
        let mut node = Node::deserialize(document).map_err(|error| yaml_error(&error, text))?;
        if node != Node::Null {
            reread_plain_scalars(text, index, &mut node)?;
            documents.push((index, node));
        }
    }
    Ok(documents)
}

/// A YAML value as serde_yaml reads it, before it means anything to netcalc. Mappings keep their
/// order and their repeated keys, so the reader can point at the repetition.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Null,
    Boolean(bool),
    Integer(i64),
    /// An integer outside `i64`, as its decimal text.
    LargeInteger(String),
    Float(f64),
    String(String),
    /// A plain scalar written as the DSL's inline connection table (`X../.XX`), as written.
    InlineGrid(String),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "nothing (null)",
            Node::Boolean(_) => "a boolean",
            Node::Integer(_) | Node::LargeInteger(_) => "an integer",
            Node::Float(_) => "a number",
            Node::InlineGrid(_) => "a connection table",
            Node::String(_) => "text",
            Node::Sequence(_) => "a list",
            Node::Mapping(_) => "a mapping",
        }
    }

    /// The node as a key in messages.
    fn label(&self) -> String {
        match self {
            Node::Null => "null".to_string(),
            Node::Boolean(boolean) => boolean.to_string(),
            Node::Integer(integer) => integer.to_string(),
            Node::LargeInteger(text) | Node::String(text) | Node::InlineGrid(text) => text.clone(),
            Node::Float(number) => format!("{number:?}"),
            Node::Sequence(_) => "[…]".to_string(),
            Node::Mapping(_) => "{…}".to_string(),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a YAML value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Boolean(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Integer(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(i64::try_from(value)
            .map_or_else(|_| Node::LargeInteger(value.to_string()), Node::Integer))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Node, E> {
        Ok(i64::try_from(value)
            .map_or_else(|_| Node::LargeInteger(value.to_string()), Node::Integer))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node, E> {
        Ok(i64::try_from(value)
            .map_or_else(|_| Node::LargeInteger(value.to_string()), Node::Integer))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element()? {
            items.push(item);
        }
        items.shrink_to_fit();
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut mapping: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = mapping.next_entry()? {
            entries.push(entry);
        }
        // Without the room a growing vector keeps: a layer's mapping is often one or two pairs.
        entries.shrink_to_fit();
        Ok(Node::Mapping(entries))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _: A) -> Result<Node, A::Error> {
        Err(de::Error::custom(
            "YAML tags such as `!name` are not supported",
        ))
    }
}

/// Reads the plain (unquoted) scalars of document `index` again, from their written text, by the
/// DSL's rules for bare tokens ([`bare::read`]): serde_yaml typed them by YAML's own rules, which
/// take `0x10` for 16, `True` for a boolean and `~` for null, while the DSL refuses those tokens.
/// A second pass over the document, guided by the nodes of the first, asks serde_yaml for each
/// scalar as a string; serde_yaml lends plain and unescaped quoted scalars straight from the
/// text, so their position there tells a plain scalar from a quoted one (whose text starts right
/// after its quote). Quoted, escaped, block and multi-line scalars keep the first reading. The
/// first refused token is the error, spanning it exactly.
fn reread_plain_scalars(text: &str, index: usize, root: &mut Node) -> Result<(), SyntaxError> {
    let Some(document) = serde_yaml::Deserializer::from_str(text).nth(index) else {
        return Ok(());
    };
    let mut refused = None;
    let outcome = PlainScalars {
        node: root,
        refused: &mut refused,
        text,
    }
    .deserialize(document);
    match refused {
        Some(error) => Err(error),
        None => outcome.map_err(|error| yaml_error(&error, text)),
    }
}

/// The second pass over one node (see [`reread_plain_scalars`]).
struct PlainScalars<'pass, 'text> {
    node: &'pass mut Node,
    refused: &'pass mut Option<SyntaxError>,
    text: &'text str,
}

impl<'de> DeserializeSeed<'de> for PlainScalars<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let PlainScalars {
            node,
            refused,
            text,
        } = self;
        match node {
            Node::Sequence(items) => deserializer.deserialize_seq(PlainChildren {
                nodes: items.iter_mut().collect(),
                refused,
                text,
            }),
            Node::Mapping(entries) => deserializer.deserialize_map(PlainChildren {
                nodes: entries.iter_mut().map(|(_, value)| value).collect(),
                refused,
                text,
            }),
            scalar => {
                let span = deserializer.deserialize_str(PlainSpan { text })?;
                if let Some(span) = span
                    && refused.is_none()
                    && let Err(error) = reread_plain_scalar(scalar, span, text)
                {
                    *refused = Some(error);
                }
                Ok(())
            }
        }
    }
}

/// The items of a sequence, or the values of a mapping. Keys are names, not values: they keep
/// serde_yaml's reading, and the reader wants them to be text.
struct PlainChildren<'pass, 'text> {
    nodes: Vec<&'pass mut Node>,
    refused: &'pass mut Option<SyntaxError>,
    text: &'text str,
}

impl<'de> Visitor<'de> for PlainChildren<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("the collection the first reading found")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        for node in self.nodes {
            let seed = PlainScalars {
                node,
                refused: &mut *self.refused,
                text: self.text,
            };
            sequence.next_element_seed(seed)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut mapping: A) -> Result<(), A::Error> {
        for value in self.nodes {
            mapping.next_key::<de::IgnoredAny>()?;
            mapping.next_value_seed(PlainScalars {
                node: value,
                refused: &mut *self.refused,
                text: self.text,
            })?;
        }
        Ok(())
    }
}

/// Where a scalar is written, when it is plain and lent from the text.
struct PlainSpan<'text> {
    text: &'text str,
}

impl<'de> Visitor<'de> for PlainSpan<'_> {
    type Value = Option<Span>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a scalar")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Option<Span>, E> {
        let offset = (value.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize);
        let span = offset
            .filter(|offset| !value.is_empty() && offset + value.len() <= self.text.len())
            .map(|offset| Span::new(offset, value.len()));
        let quoted = span.is_some_and(|span| {
            span.offset > 0 && matches!(self.text.as_bytes()[span.offset - 1], b'"' | b'\'')
        });
        Ok(span.filter(|_| !quoted))
    }

    fn visit_str<E>(self, _: &str) -> Result<Option<Span>, E> {
        Ok(None)
    }
}

/// A plain scalar's node as [`bare::read`] reads its written text: the same node when serde_yaml
/// read it the same way, another when not (`X./.X` is a connection table, kept as written so
/// that a name or `about` text reads it as text, as before), or the refusal.
fn reread_plain_scalar(node: &mut Node, span: Span, text: &str) -> Result<(), SyntaxError> {
    let token = &text[span.offset..span.offset + span.length];
    *node = match bare::read(token) {
        Ok(Value::Integer(integer)) => Node::Integer(integer),
        Ok(Value::Number(number)) => Node::Float(number),
        Ok(Value::Boolean(boolean)) => Node::Boolean(boolean),
        Ok(Value::Grid(_)) => Node::InlineGrid(token.to_string()),
        Ok(Value::Text(_) | Value::Dims(_) | Value::List(_) | Value::Reference(_)) => {
            Node::String(token.to_string())
        }
        Err(refusal) => {
            return Err(SyntaxError::Malformed {
                message: refusal.message,
                span: Span::new(span.offset + refusal.start, refusal.length),
                help: refusal.help,
            });
        }
    };
    Ok(())
}

/// A serde_yaml error as a [`SyntaxError`] at the byte offset it reports.
fn yaml_error(error: &serde_yaml::Error, text: &str) -> SyntaxError {
    let full = error.to_string();
    let offset = error_offset(error, &full, text);
    let message = clean_message(&full);
    let help = syntax_help(
        &message,
        text.get(offset..).and_then(|rest| rest.chars().next()),
    );
    let length = text
        .get(offset..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    SyntaxError::Malformed {
        message,
        span: Span::new(offset, length),
        help: help.map(str::to_string),
    }
}

/// The byte offset of a serde_yaml error. libyaml's mark index counts bytes of the UTF-8 input;
/// the line and column are used when the index does not land on a character. Errors from
/// libyaml's reader (bad bytes) carry only `at position N`, also a byte offset.
fn error_offset(error: &serde_yaml::Error, message: &str, text: &str) -> usize {
    let offset = match error.location() {
        Some(location) if (location.line(), location.column(), location.index()) != (1, 1, 0) => {
            if text.is_char_boundary(location.index()) {
                location.index()
            } else {
                line_column_offset(text, location.line(), location.column())
            }
        }
        _ => position_in_message(message).unwrap_or(0),
    };
    floor_char_boundary(text, offset.min(text.len()))
}

/// The byte offset of a 1-based line and column (in characters), counting line breaks as libyaml
/// does (`\r\n`, `\r`, `\n`, U+0085, U+2028, U+2029).
fn line_column_offset(text: &str, line: usize, column: usize) -> usize {
    let mut current_line = 1;
    let mut current_column = 1;
    let mut characters = text.char_indices().peekable();
    while let Some((offset, character)) = characters.next() {
        if current_line == line && current_column == column {
            return offset;
        }
        match character {
            '\r' if characters.peek().is_some_and(|&(_, next)| next == '\n') => {}
            '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                if current_line == line {
                    return offset;
                }
                current_line += 1;
                current_column = 1;
            }
            _ => current_column += 1,
        }
    }
    text.len()
}

fn position_in_message(message: &str) -> Option<usize> {
    let (_, after) = message.split_once(" at position ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// serde_yaml's message without the position the span already shows: `did not find expected key
/// at line 3 column 5, while parsing a block mapping at line 1 column 1` becomes `did not find
/// expected key while parsing a block mapping started at line 1, column 1`.
fn clean_message(message: &str) -> String {
    let (problem, context) = match message.split_once(", while ") {
        Some((problem, context)) => (problem, Some(context)),
        None => (message, None),
    };
    let mut cleaned = strip_position(problem, "");
    if let Some(context) = context {
        cleaned.push_str(" while ");
        cleaned.push_str(&strip_position(context, " started"));
    }
    let mut characters = cleaned.chars();
    match (characters.next(), characters.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => first
            .to_lowercase()
            .chain(cleaned.chars().skip(1))
            .collect(),
        _ => cleaned,
    }
}

/// Removes ` at position N` and rewrites ` at line L column C` as `{prefix} at line L, column C`,
/// or removes it too when there is no prefix.
fn strip_position(text: &str, prefix: &str) -> String {
    if let Some((before, _)) = text.split_once(" at position ") {
        return before.to_string();
    }
    let Some((before, after)) = text.split_once(" at line ") else {
        return text.to_string();
    };
    if prefix.is_empty() {
        return before.to_string();
    }
    format!(
        "{before}{prefix} at line {}",
        after.replacen(" column ", ", column ", 1)
    )
}

fn syntax_help(message: &str, at: Option<char>) -> Option<&'static str> {
    if at == Some('\t') {
        return Some("YAML indents with spaces only: replace the tab with spaces");
    }
    if message.contains("control characters are not allowed")
        || message.contains("invalid") && message.contains("UTF-8")
    {
        return Some("this does not look like a YAML text");
    }
    if message.contains("mapping values are not allowed") {
        return Some("check this line's indentation, and quote a value that contains `: `");
    }
    if message.contains("did not find expected key")
        || message.contains("did not find expected '-'")
    {
        return Some(
            "check the indentation: the keys of one mapping, and the `-` of one list, line up in one column",
        );
    }
    None
}

fn malformed(message: impl Into<String>, span: Span, help: Option<&str>) -> SyntaxError {
    SyntaxError::Malformed {
        message: message.into(),
        span,
        help: help.map(str::to_string),
    }
}

/// Where a `key: value` is written as far as the outline knows, and the span to use when it does
/// not know.
#[derive(Clone, Copy)]
struct Site<'outline> {
    entry: Option<&'outline Entry>,
    fallback: Span,
}

impl<'outline> Site<'outline> {
    fn in_block(block: Option<&'outline Block>, key: &str, fallback: Span) -> Site<'outline> {
        Site {
            entry: block.and_then(|block| block.entry(key)),
            fallback,
        }
    }

    fn key(self) -> Span {
        self.entry.map_or(self.fallback, |entry| entry.key_span)
    }

    fn value(self) -> Span {
        self.entry.map_or(self.fallback, |entry| entry.value_span)
    }

    fn whole(self) -> Span {
        self.entry.map_or(self.fallback, |entry| entry.span)
    }

    /// The block written as this entry's value.
    fn block(self) -> Option<&'outline Block> {
        self.entry.map(|entry| &entry.value)
    }

    /// The site of `key` inside this entry's value.
    fn child(self, key: &str) -> Site<'outline> {
        Site::in_block(self.block(), key, self.whole())
    }

    /// The span of item `index` when the value is a block list, else the value's span.
    fn item(self, index: usize) -> Span {
        match self.block().and_then(|block| block.item(index)) {
            Some(item) => match item.value {
                Block::Scalar(span) => span,
                _ => item.span,
            },
            None => self.value(),
        }
    }
}

/// Turns the document's nodes into a description, taking spans from the outline.
struct Reader<'text> {
    text: &'text str,
    outline: &'text Outline,
}

impl<'text> Reader<'text> {
    fn description(&self, root: &Node) -> Result<Description, SyntaxError> {
        let Node::Mapping(entries) = root else {
            return Err(malformed(
                format!(
                    "a network is written as a YAML mapping (`name: …`, `layers: …`), not as {}",
                    root.type_name()
                ),
                self.outline
                    .document_starts
                    .first()
                    .copied()
                    .unwrap_or_default(),
                Some("start with `name:` and `layers:`"),
            ));
        };
        let root_block = Some(&self.outline.root);
        check_repeated_keys(entries, root_block, Span::default())?;
        let mut description = Description::default();
        let mut input_layer = None;
        let mut layers = Vec::new();
        for (key, value) in entries {
            let label = key.label();
            let site = Site::in_block(root_block, &label, Span::default());
            let known = match key {
                Node::String(key) => TOP_LEVEL_KEYS.iter().find(|known| **known == key),
                _ => None,
            };
            match known.copied() {
                Some("name") => description.name = Some(self.scalar_text(value, site, "name")?),
                Some("about") => description.about = Some(self.scalar_text(value, site, "about")?),
                Some("rounding") => {
                    description.rounding = Some(self.scalar_text(value, site, "rounding")?)
                }
                Some("conventions") => {
                    description.conventions = Some(self.scalar_text(value, site, "conventions")?)
                }
                Some("input") => input_layer = Some(self.input_layer(value, site)?),
                Some("layers") => layers = self.layers(value, site)?,
                Some("expect") => description.expect = self.attributes(value, site, "expect")?,
                Some("train") => description.train = self.attributes(value, site, "train")?,
                Some("let") => description.parameters = self.parameters(value, site)?,
                Some("sweep") => description.sweep = self.attributes(value, site, "sweep")?,
                _ => return Err(unknown_top_level_key(&label, site.key())),
            }
        }
        description.layers.extend(input_layer.map(Item::Layer));
        description.layers.extend(layers);
        Ok(description)
    }

    /// `let`: a mapping of parameters to their defaults; the names are identifiers.
    fn parameters(&self, value: &Node, site: Site) -> Result<Vec<Attribute>, SyntaxError> {
        let parameters = self.attributes(value, site, "let")?;
        if let Some(bad) = parameters
            .iter()
            .find(|parameter| !is_identifier(&parameter.key.value))
        {
            return Err(malformed(
                format!(
                    "the parameter name `{}` is not an identifier",
                    bad.key.value
                ),
                bad.key.span,
                Some(
                    "a parameter is referred to as `$NAME`: a letter or `_`, then letters, digits, `_`, `.` or `-`",
                ),
            ));
        }
        Ok(parameters)
    }

    /// `input: 32x32x1`: an unnamed first layer `{kind: input, shape: 32x32x1}`.
    fn input_layer(&self, value: &Node, site: Site) -> Result<LayerDecl, SyntaxError> {
        let mut layer = LayerDecl::new("input");
        layer.kind.span = site.key();
        layer.attributes.push(Attribute {
            key: Spanned::new("shape".to_string(), site.key()),
            value: self.value(value, site, "input")?,
        });
        layer.span = site.whole();
        Ok(layer)
    }

    /// `layers:` (of the description or of a repeated block): a list of layers and blocks.
    fn layers(&self, value: &Node, site: Site) -> Result<Vec<Item>, SyntaxError> {
        match value {
            Node::Null => Ok(Vec::new()),
            // One layer past the limit is enough for `syntax::read` to refuse the list.
            Node::Sequence(items) => items
                .iter()
                .take(crate::limits::MAX_LAYERS + 1)
                .enumerate()
                .map(|(index, item)| self.item(item, index, site))
                .collect(),
            other => Err(malformed(
                format!(
                    "`layers` must be a list of layers, not {}",
                    other.type_name()
                ),
                site.value(),
                Some("write one `- kind: …` item per layer"),
            )),
        }
    }

    /// An item of `layers:`: a repeated block when it has the key `repeat` and no `kind`, else a
    /// layer.
    fn item(&self, node: &Node, index: usize, layers: Site) -> Result<Item, SyntaxError> {
        if let Node::Mapping(entries) = node {
            let has = |wanted: &str| {
                entries
                    .iter()
                    .any(|(key, _)| matches!(key, Node::String(key) if key == wanted))
            };
            if has("repeat") && !has("kind") {
                return self.repeat(entries, index, layers).map(Item::Repeat);
            }
        }
        self.layer(node, index, layers).map(Item::Layer)
    }

    /// `{repeat: COUNT_OR_LIST, as: VARIABLE, layers: [...]}`.
    fn repeat(
        &self,
        entries: &[(Node, Node)],
        index: usize,
        layers: Site,
    ) -> Result<Repeat, SyntaxError> {
        let item = layers.block().and_then(|block| block.item(index));
        let span = item.map_or(layers.key(), |item| item.span);
        let block = item.map(|item| &item.value);
        check_repeated_keys(entries, block, span)?;
        let mut over = None;
        let mut variable = None;
        let mut body = Vec::new();
        let mut header = span;
        for (key, value) in entries {
            let label = key.label();
            let site = Site::in_block(block, &label, span);
            match REPEAT_KEYS.iter().find(|known| **known == label) {
                Some(&"repeat") => {
                    over = Some(self.value(value, site, "repeat")?);
                    header = site.whole();
                }
                Some(&"as") => {
                    let name = self.layer_text(value, site, "as")?;
                    if !is_identifier(&name.value) {
                        return Err(malformed(
                            format!("the loop variable `{}` is not an identifier", name.value),
                            name.span,
                            Some(
                                "a loop variable is a name such as `block` (letters, digits, `_`, `.`, `-`)",
                            ),
                        ));
                    }
                    variable = Some(name);
                }
                Some(_) => body = self.layers(value, site)?,
                None => {
                    let help = match suggest(&label, &REPEAT_KEYS) {
                        Some(near) => format!("did you mean `{near}`? A repeated block has the keys `repeat`, `as` and `layers`"),
                        None => "a repeated block has the keys `repeat`, `as` and `layers`; the layers' own keys go inside `layers:`".to_string(),
                    };
                    return Err(malformed(
                        format!("unknown key `{label}` in a repeated block"),
                        site.key(),
                        Some(&help),
                    ));
                }
            }
        }
        let Some(over) = over else {
            return Err(malformed("a repeated block has no `repeat`", span, None));
        };
        if body.is_empty() {
            return Err(malformed(
                "a repeat without layers to repeat",
                header,
                Some("list the layers to repeat under `layers:` in the block's item"),
            ));
        }
        Ok(Repeat {
            over,
            variable,
            body,
            span: header,
        })
    }

    fn layer(&self, node: &Node, index: usize, layers: Site) -> Result<LayerDecl, SyntaxError> {
        let item = layers.block().and_then(|block| block.item(index));
        let span = item.map_or(layers.key(), |item| item.span);
        let number = index + 1;
        let Node::Mapping(entries) = node else {
            return Err(malformed(
                format!(
                    "layer {number} is {}, not a mapping of keys",
                    node.type_name()
                ),
                span,
                Some("write a layer as `- kind: conv2d` followed by its keys, e.g. `filters: 6`"),
            ));
        };
        let block = item.map(|item| &item.value);
        check_repeated_keys(entries, block, span)?;
        let mut kind = None;
        let mut layer = LayerDecl::new("");
        layer.span = span;
        for (key, value) in entries {
            let Node::String(key) = key else {
                return Err(malformed(
                    format!(
                        "layer {number} has a key `{}` that is not text",
                        key.label()
                    ),
                    span,
                    Some("quote the key, e.g. `\"1\": …`"),
                ));
            };
            let site = Site::in_block(block, key, span);
            match key.as_str() {
                "kind" => kind = Some(self.layer_text(value, site, "kind")?),
                "name" => layer.name = Some(self.layer_text(value, site, "name")?),
                "inputs" => layer.inputs = self.inputs(value, site)?,
                "expect" => layer.expect = self.attributes(value, site, "expect")?,
                "repeat" => {
                    return Err(malformed(
                        "a layer cannot have the key `repeat`",
                        site.key(),
                        Some(
                            "a repeated block is an item of its own: `- {repeat: 3, as: block, layers: [...]}`",
                        ),
                    ));
                }
                _ => layer.attributes.push(Attribute {
                    key: Spanned::new(key.clone(), site.key()),
                    value: self.value(value, site, key)?,
                }),
            }
        }
        let Some(kind) = kind else {
            let mut near = layer
                .attributes
                .iter()
                .map(|attribute| attribute.key.value.as_str());
            let help = match near.find(|key| suggest(key, &["kind"]).is_some()) {
                Some(misspelt) => format!("did you mean `kind` instead of `{misspelt}`?"),
                None => "add the layer kind, e.g. `kind: conv2d`".to_string(),
            };
            return Err(malformed(
                format!("layer {number} has no `kind`"),
                span,
                Some(&help),
            ));
        };
        layer.kind = kind;
        Ok(layer)
    }

    /// `kind` and `name` of a layer: text only (a name like `1` must be quoted).
    fn layer_text(
        &self,
        value: &Node,
        site: Site,
        key: &str,
    ) -> Result<Spanned<String>, SyntaxError> {
        match value {
            Node::String(text) => Ok(Spanned::new(text.clone(), site.value())),
            Node::Null => Err(no_value(key, site)),
            other => Err(malformed(
                format!("a layer's `{key}` must be text, not {}", other.type_name()),
                site.value(),
                Some(&format!("quote it: `{key}: \"{}\"`", other.label())),
            )),
        }
    }

    /// `name`, `about` and `rounding` of the network: any scalar, numbers kept as written.
    fn scalar_text(
        &self,
        value: &Node,
        site: Site,
        key: &str,
    ) -> Result<Spanned<String>, SyntaxError> {
        let span = site.value();
        let text = match value {
            Node::String(text) => text.clone(),
            Node::Boolean(_)
            | Node::Integer(_)
            | Node::LargeInteger(_)
            | Node::Float(_)
            | Node::InlineGrid(_) => self.written_scalar(site).unwrap_or_else(|| value.label()),
            Node::Null => return Err(no_value(key, site)),
            Node::Sequence(_) | Node::Mapping(_) => {
                return Err(malformed(
                    format!("`{key}` must be a single value, not {}", value.type_name()),
                    span,
                    None,
                ));
            }
        };
        Ok(Spanned::new(text, span))
    }

    /// The text of a plain one-line scalar as written, when the outline located it.
    fn written_scalar(&self, site: Site) -> Option<String> {
        let span = site.entry?.value_span;
        let written = self.text.get(span.offset..span.offset + span.length)?;
        let plain = written
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphanumeric() || matches!(first, '+' | '-' | '.'));
        (plain && !written.contains(['\n', '\r'])).then(|| written.to_string())
    }

    fn inputs(&self, value: &Node, site: Site) -> Result<Vec<Spanned<String>>, SyntaxError> {
        match value {
            Node::String(name) => Ok(vec![Spanned::new(name.clone(), site.value())]),
            Node::Sequence(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Node::String(name) => Ok(Spanned::new(name.clone(), site.item(index))),
                    other => Err(malformed(
                        format!(
                            "`inputs` lists layer names, which are text, not {}",
                            other.type_name()
                        ),
                        site.item(index),
                        Some("quote a name that looks like a number, e.g. `\"1\"`"),
                    )),
                })
                .collect(),
            Node::Null => Err(no_value("inputs", site)),
            other => Err(malformed(
                format!(
                    "`inputs` must be a layer name or a list of names, not {}",
                    other.type_name()
                ),
                site.value(),
                Some("write e.g. `inputs: [C1, S2]`"),
            )),
        }
    }

    /// `expect` and `train`: a mapping of attributes.
    fn attributes(
        &self,
        value: &Node,
        site: Site,
        key: &str,
    ) -> Result<Vec<Attribute>, SyntaxError> {
        let entries = match value {
            Node::Mapping(entries) => entries,
            Node::Null => return Err(no_value(key, site)),
            other => {
                return Err(malformed(
                    format!(
                        "`{key}` must be a mapping of keys, not {}",
                        other.type_name()
                    ),
                    site.value(),
                    Some(&format!("write e.g. `{key}: {{params: 156}}`")),
                ));
            }
        };
        check_repeated_keys(entries, site.block(), site.whole())?;
        entries
            .iter()
            .map(|(name, value)| {
                let Node::String(name) = name else {
                    return Err(malformed(
                        format!("`{key}` has a key `{}` that is not text", name.label()),
                        site.whole(),
                        None,
                    ));
                };
                let child = site.child(name);
                Ok(Attribute {
                    key: Spanned::new(name.clone(), child.key()),
                    value: self.value(value, child, name)?,
                })
            })
            .collect()
    }

    fn value(&self, node: &Node, site: Site, key: &str) -> Result<Spanned<Value>, SyntaxError> {
        Ok(Spanned::new(convert(node, site, key, 0)?, site.value()))
    }
}

/// A YAML value as an attribute [`Value`].
fn convert(node: &Node, site: Site, key: &str, depth: usize) -> Result<Value, SyntaxError> {
    match node {
        Node::Null => Err(no_value(key, site)),
        Node::Boolean(boolean) => Ok(Value::Boolean(*boolean)),
        Node::Integer(integer) => Ok(Value::Integer(*integer)),
        Node::LargeInteger(text) => Err(malformed(
            format!("`{key}`: the integer {text} is too large"),
            site.value(),
            Some("integers go from -9223372036854775808 to 9223372036854775807"),
        )),
        Node::Float(number) if number.is_finite() => Ok(Value::Number(*number)),
        Node::Float(number) => Err(malformed(
            format!(
                "`{key}` must be a finite number, not {}",
                number_text(*number)
            ),
            site.value(),
            None,
        )),
        Node::String(text) if is_malformed_reference(text) => Err(malformed(
            format!("`{key}`: malformed reference `{text}`"),
            site.value(),
            Some(
                "`$` starts a reference to a parameter: `$` and its name, a letter or `_`, then letters, digits, `_`, `.` or `-`; no text starts with `$`",
            ),
        )),
        Node::String(text) => Ok(Value::from_text(text)),
        Node::InlineGrid(token) => bare::read(token)
            .map_err(|refusal| malformed(refusal.message, site.value(), refusal.help.as_deref())),
        Node::Sequence(_) if depth >= MAXIMUM_LIST_DEPTH => Err(malformed(
            format!("`{key}`: lists are nested more than {MAXIMUM_LIST_DEPTH} deep"),
            site.value(),
            None,
        )),
        Node::Sequence(items) => items
            .iter()
            .map(|item| convert(item, site, key, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::List),
        Node::Mapping(_) => Err(malformed(
            format!("`{key}` cannot be a mapping"),
            site.value(),
            Some(
                "a value is a number, text, sizes like `5x5`, a connection table or a list `[a, b]`",
            ),
        )),
    }
}

fn no_value(key: &str, site: Site) -> SyntaxError {
    malformed(
        format!("`{key}` has no value"),
        site.whole(),
        Some("write a value after the colon, or remove the line"),
    )
}

/// Errors at the second occurrence of a key written twice in one mapping.
fn check_repeated_keys(
    entries: &[(Node, Node)],
    block: Option<&Block>,
    fallback: Span,
) -> Result<(), SyntaxError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (key, _) in entries {
        let label = key.label();
        let count = seen.entry(label.clone()).or_default();
        *count += 1;
        if *count > 1 {
            let span = block
                .and_then(|block| block.entry_occurrence(&label, *count - 1))
                .map_or(fallback, |entry| entry.key_span);
            return Err(malformed(
                format!("the key `{label}` is written twice"),
                span,
                Some("keep only one of them"),
            ));
        }
    }
    Ok(())
}

fn unknown_top_level_key(key: &str, span: Span) -> SyntaxError {
    let known = TOP_LEVEL_KEYS.join(", ");
    let help = match suggest(key, &TOP_LEVEL_KEYS) {
        Some(near) => format!("did you mean `{near}`? The top-level keys are {known}"),
        None => format!("the top-level keys are {known}; layer settings go inside `layers:`"),
    };
    malformed(format!("unknown top-level key `{key}`"), span, Some(&help))
}

/// The candidate closest to `word` when it is close enough to be a likely misspelling.
fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    crate::suggestion::closest(word, candidates.iter().copied())
}

/// Writes a description as canonical YAML: `name`, `about`, `rounding`, `let`, `input` (when the
/// first layer is an unnamed `input` layer with only a `shape`), `layers` (each layer with `name`,
/// `kind`, its attributes in order, `inputs`, `expect`; each repeated block with `repeat`, `as`
/// and its own `layers`), then `expect`, `train` and `sweep`.
///
/// Reading the result gives back the same description, provided that positional values have been
/// named (they are not printed), that no layer has an attribute called `name`, `kind`, `inputs`,
/// `expect` or `repeat`, and that keys are not repeated within one mapping. A description without
/// layers prints as `layers: []`, which reads back as [`SyntaxError::Empty`].
pub fn print(description: &Description) -> String {
    let mut out = String::new();
    let fields = [
        ("name", &description.name),
        ("about", &description.about),
        ("rounding", &description.rounding),
        ("conventions", &description.conventions),
    ];
    for (key, field) in fields {
        if let Some(text) = field {
            out.push_str(&format!("{key}: {}\n", scalar_text(&text.value)));
        }
    }
    block_mapping(&mut out, "let", &description.parameters);
    let mut layers = description.layers.as_slice();
    let mut shortcut = false;
    if let Some((shape, rest)) = input_shortcut(layers) {
        out.push_str(&format!("input:{}", block_value(shape, 0)));
        layers = rest;
        shortcut = true;
    }
    if layers.is_empty() {
        // Only the input shortcut needs no `layers:` key.
        if !shortcut {
            out.push_str("layers: []\n");
        }
    } else {
        out.push_str("layers:\n");
        print_items(&mut out, layers, 2);
    }
    for (key, attributes) in [
        ("expect", &description.expect),
        ("train", &description.train),
    ] {
        if !attributes.is_empty() {
            out.push_str(&format!("{key}: {}\n", flow_mapping(attributes)));
        }
    }
    block_mapping(&mut out, "sweep", &description.sweep);
    out
}

/// `key:` and one `name: value` line per attribute, indented two spaces; nothing when empty.
fn block_mapping(out: &mut String, key: &str, attributes: &[Attribute]) {
    if attributes.is_empty() {
        return;
    }
    out.push_str(key);
    out.push_str(":\n");
    for attribute in attributes {
        out.push_str(&format!(
            "  {}:{}",
            scalar_text(&attribute.key.value),
            block_value(&attribute.value.value, 2)
        ));
    }
}

/// The shape of the first layer and the remaining items, when the first item is a layer that can
/// be written as `input: SHAPE`.
fn input_shortcut(layers: &[Item]) -> Option<(&Value, &[Item])> {
    let (Item::Layer(first), rest) = layers.split_first()? else {
        return None;
    };
    let [shape] = first.attributes.as_slice() else {
        return None;
    };
    let shortcut = first.name.is_none()
        && first.kind.value == "input"
        && shape.key.value == "shape"
        && first.inputs.is_empty()
        && first.expect.is_empty();
    shortcut.then_some((&shape.value.value, rest))
}

/// The items of a `layers:` list, their `-` indented `indent` spaces.
fn print_items(out: &mut String, items: &[Item], indent: usize) {
    for item in items {
        match item {
            Item::Layer(layer) => print_layer(out, layer, indent),
            Item::Repeat(repeat) => print_repeat(out, repeat, indent),
        }
    }
}

fn print_repeat(out: &mut String, repeat: &Repeat, indent: usize) {
    let margin = " ".repeat(indent);
    out.push_str(&format!(
        "{margin}- repeat: {}\n",
        flow_value(&repeat.over.value)
    ));
    if let Some(variable) = &repeat.variable {
        out.push_str(&format!("{margin}  as: {}\n", scalar_text(&variable.value)));
    }
    out.push_str(&format!("{margin}  layers:\n"));
    print_items(out, &repeat.body, indent + 4);
}

/// A layer item: `- ` at `indent`, its keys two spaces further in.
fn print_layer(out: &mut String, layer: &LayerDecl, indent: usize) {
    let key_column = indent + 2;
    let mut lines: Vec<String> = Vec::new();
    if let Some(name) = &layer.name {
        lines.push(format!("name: {}\n", scalar_text(&name.value)));
    }
    lines.push(format!("kind: {}\n", scalar_text(&layer.kind.value)));
    for attribute in &layer.attributes {
        let value = block_value(&attribute.value.value, key_column);
        lines.push(format!("{}:{value}", scalar_text(&attribute.key.value)));
    }
    if !layer.inputs.is_empty() {
        let names: Vec<String> = layer
            .inputs
            .iter()
            .map(|name| scalar_text(&name.value))
            .collect();
        lines.push(format!("inputs: [{}]\n", names.join(", ")));
    }
    if !layer.expect.is_empty() {
        lines.push(format!("expect: {}\n", flow_mapping(&layer.expect)));
    }
    let margin = " ".repeat(indent);
    let keys = " ".repeat(key_column);
    for (index, line) in lines.iter().enumerate() {
        if index == 0 {
            out.push_str(&margin);
            out.push_str("- ");
        } else {
            out.push_str(&keys);
        }
        out.push_str(line);
    }
}

/// A value after `key:` in block context, with its line break: a connection table becomes a
/// literal block indented under a key at `key_column`, anything else a flow value.
fn block_value(value: &Value, key_column: usize) -> String {
    match value {
        Value::Grid(grid) => {
            let indent = " ".repeat(key_column + 2);
            let mut text = " |\n".to_string();
            for row in grid_text(grid).lines() {
                text.push_str(&indent);
                text.push_str(row);
                text.push('\n');
            }
            text
        }
        other => format!(" {}\n", flow_value(other)),
    }
}

/// A value on one line, usable inside `[…]` and `{…}`.
fn flow_value(value: &Value) -> String {
    match value {
        Value::Integer(integer) => integer.to_string(),
        Value::Number(number) => number_text(*number),
        Value::Boolean(boolean) => boolean.to_string(),
        Value::Text(text) => scalar_text(text),
        Value::Dims(dims) => dims_text(dims),
        Value::Grid(grid) => double_quoted(&grid_text(grid)),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(flow_value).collect();
            format!("[{}]", items.join(", "))
        }
        // `$` is no YAML indicator and identifiers hold no flow punctuation: a plain scalar.
        Value::Reference(name) => format!("${name}"),
    }
}

/// A float that YAML reads back as the same float: Rust's shortest round-trip form, which always
/// has a `.` or an exponent (`5.0`, `1e-7`).
fn number_text(number: f64) -> String {
    if number.is_nan() {
        ".nan".to_string()
    } else if number.is_infinite() {
        if number > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else {
        format!("{number:?}")
    }
}

fn flow_mapping(attributes: &[Attribute]) -> String {
    let pairs: Vec<String> = attributes
        .iter()
        .map(|attribute| {
            format!(
                "{}: {}",
                scalar_text(&attribute.key.value),
                flow_value(&attribute.value.value)
            )
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Text as a YAML string scalar: plain when that is unambiguous in block and flow context, else
/// double-quoted.
fn scalar_text(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_string()
    } else {
        double_quoted(text)
    }
}

/// Words YAML 1.1 or 1.2 read as null or a boolean.
const RESERVED_WORDS: [&str; 25] = [
    "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes",
    "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
];

/// A conservative test: starts with a letter or `_`, continues with letters, digits, single
/// blanks and `_-./+@'()`, ends without a blank, is not a null or boolean word and reads back as
/// this text by the bare-token rules (not `X./.X`). Such text has no YAML indicator, comment,
/// `: ` or flow punctuation and cannot read as a number.
fn is_plain_safe(text: &str) -> bool {
    let mut characters = text.chars();
    let starts_well = characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
    starts_well
        && characters.all(|c| c.is_ascii_alphanumeric() || " _-./+@'()".contains(c))
        && !text.ends_with(' ')
        && !RESERVED_WORDS.contains(&text)
        && bare::read(text).is_ok_and(|value| value == Value::Text(text.to_string()))
}

fn double_quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            '\0' => quoted.push_str("\\0"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    quoted.push_str(&format!("\\u{code:04X}"));
                } else {
                    quoted.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Characters libyaml does not accept literally or reads as line breaks.
fn needs_escape(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Locate;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const LENET: &str = "\
# LeNet-5 as in LeCun et al. 1998
name: lenet-5
about: where the numbers come from
rounding: floor            # optional
input: 32x32x1
layers:
  - name: C1
    kind: conv2d
    filters: 6
    kernel: 5x5
    activation: tanh
    expect: {output: 28x28x6, params: 156}
  - name: S2
    kind: avgpool2d
    size: 2
  - name: C3
    kind: conv2d
    filters: 16
    kernel: 5
    table: |
      X...XXX..XXXX.XX
      XX...XXX..XXXX.X
    inputs: S2
  - kind: dense
    units: 10
    rate: 0.5
    bias: false
    sizes: [5x5, 6@28x28, [1, \"2\"]]
    inputs: [C1, C3]
expect: {params: 61706}
train: {epochs: 12, optimizer: adadelta}
";

    fn read_text(text: &str) -> Result<Description, SyntaxError> {
        read(&Source::new("test.yaml", text))
    }

    fn spanned_text(text: &str, span: Span) -> &str {
        &text[span.offset..span.offset + span.length]
    }

    fn layer(name: Option<&str>, kind: &str, attributes: Vec<Attribute>) -> LayerDecl {
        let mut layer = LayerDecl::new(kind);
        layer.name = name.map(|name| Spanned::unspanned(name.to_string()));
        layer.attributes = attributes;
        layer
    }

    fn names(names: &[&str]) -> Vec<Spanned<String>> {
        names
            .iter()
            .map(|name| Spanned::unspanned(name.to_string()))
            .collect()
    }

    fn dims(sizes: &[u64]) -> Value {
        Value::Dims(sizes.to_vec())
    }

    #[test]
    fn reads_lenet() {
        let text = |s: &str| Value::Text(s.to_string());
        let row = |s: &str| s.chars().map(|c| c == 'X').collect::<Vec<bool>>();
        let c1 = LayerDecl {
            expect: vec![
                Attribute::new("output", dims(&[28, 28, 6])),
                Attribute::new("params", Value::Integer(156)),
            ],
            ..layer(
                Some("C1"),
                "conv2d",
                vec![
                    Attribute::new("filters", Value::Integer(6)),
                    Attribute::new("kernel", dims(&[5, 5])),
                    Attribute::new("activation", text("tanh")),
                ],
            )
        };
        let c3 = LayerDecl {
            inputs: names(&["S2"]),
            ..layer(
                Some("C3"),
                "conv2d",
                vec![
                    Attribute::new("filters", Value::Integer(16)),
                    Attribute::new("kernel", Value::Integer(5)),
                    Attribute::new(
                        "table",
                        Value::Grid(vec![row("X...XXX..XXXX.XX"), row("XX...XXX..XXXX.X")]),
                    ),
                ],
            )
        };
        let dense = LayerDecl {
            inputs: names(&["C1", "C3"]),
            ..layer(
                None,
                "dense",
                vec![
                    Attribute::new("units", Value::Integer(10)),
                    Attribute::new("rate", Value::Number(0.5)),
                    Attribute::new("bias", Value::Boolean(false)),
                    Attribute::new(
                        "sizes",
                        Value::List(vec![
                            dims(&[5, 5]),
                            dims(&[28, 28, 6]),
                            Value::List(vec![Value::Integer(1), Value::Integer(2)]),
                        ]),
                    ),
                ],
            )
        };
        let expected = Description {
            name: Some(Spanned::unspanned("lenet-5".to_string())),
            about: Some(Spanned::unspanned(
                "where the numbers come from".to_string(),
            )),
            rounding: Some(Spanned::unspanned("floor".to_string())),
            conventions: None,
            layers: vec![
                layer(
                    None,
                    "input",
                    vec![Attribute::new("shape", dims(&[32, 32, 1]))],
                )
                .into(),
                c1.into(),
                layer(
                    Some("S2"),
                    "avgpool2d",
                    vec![Attribute::new("size", Value::Integer(2))],
                )
                .into(),
                c3.into(),
                dense.into(),
            ],
            expect: vec![Attribute::new("params", Value::Integer(61706))],
            train: vec![
                Attribute::new("epochs", Value::Integer(12)),
                Attribute::new("optimizer", text("adadelta")),
            ],
            ..Description::default()
        };
        assert_eq!(read_text(LENET), Ok(expected));
    }

    #[test]
    fn spans_point_at_what_was_written() {
        let description = read_text(LENET).unwrap();
        let at = |span: Span| spanned_text(LENET, span);
        assert_eq!(at(description.name.as_ref().unwrap().span), "lenet-5");
        let layers = description.all_layers();
        let input = layers[0];
        assert_eq!(at(input.span), "input: 32x32x1");
        assert_eq!(at(input.attributes[0].value.span), "32x32x1");
        let c1 = layers[1];
        assert!(at(c1.span).starts_with("- name: C1\n"));
        assert!(at(c1.span).ends_with("expect: {output: 28x28x6, params: 156}"));
        assert_eq!(at(c1.kind.span), "conv2d");
        assert_eq!(at(c1.name.as_ref().unwrap().span), "C1");
        assert_eq!(at(c1.attributes[1].key.span), "kernel");
        assert_eq!(at(c1.attributes[1].value.span), "5x5");
        assert_eq!(at(c1.expect[1].key.span), "params");
        assert_eq!(at(c1.expect[1].value.span), "156");
        let c3 = layers[3];
        assert!(at(c3.attributes[2].value.span).starts_with("|\n      X...XXX"));
        assert_eq!(at(c3.inputs[0].span), "S2");
        let dense = layers[4];
        assert_eq!(at(dense.inputs[1].span), "C3");
        assert_eq!(at(description.train[1].value.span), "adadelta");
        let source = Source::new("test.yaml", LENET);
        assert_eq!(source.line_column(dense.span.offset), (24, 3));
    }

    #[test]
    fn flow_style_layers_are_located() {
        let text = "layers: [{kind: input, shape: 28x28x1}, {name: out, kind: dense, units: 10}]\n";
        let description = read_text(text).unwrap();
        let out = description.all_layers()[1];
        assert_eq!(
            spanned_text(text, out.span),
            "{name: out, kind: dense, units: 10}"
        );
        assert_eq!(spanned_text(text, out.kind.span), "dense");
        assert_eq!(spanned_text(text, out.attributes[0].value.span), "10");
    }

    #[test]
    fn values_are_classified_like_the_dsl() {
        let text = "input: \"28x28x1\"\nlayers:\n  - kind: k\n    a: \"5\"\n    b: '6@28x28'\n    c: 1e-4\n    d: \"true\"\n    e: X.\n    f: \"X.\\n.X\\n\"\n    g: [relu, [1, 2.5]]\n    h: -9223372036854775808\n    i: 9223372036854775807\n";
        let description = read_text(text).unwrap();
        let layers = description.all_layers();
        assert_eq!(layers[0].attributes[0].value.value, dims(&[28, 28, 1]));
        let values: Vec<Value> = layers[1]
            .attributes
            .iter()
            .map(|a| a.value.value.clone())
            .collect();
        assert_eq!(
            values,
            [
                Value::Integer(5),
                dims(&[28, 28, 6]),
                Value::Number(1e-4),
                Value::Boolean(true),
                Value::Text("X.".to_string()),
                Value::Grid(vec![vec![true, false], vec![false, true]]),
                Value::List(vec![
                    Value::Text("relu".to_string()),
                    Value::List(vec![Value::Integer(1), Value::Number(2.5)]),
                ]),
                Value::Integer(i64::MIN),
                Value::Integer(i64::MAX),
            ]
        );
    }

    #[test]
    fn network_names_keep_numbers_as_written() {
        let description = read_text("name: 1.50\nabout: 7\nrounding: true\ninput: 5\n").unwrap();
        assert_eq!(description.name.unwrap().value, "1.50");
        assert_eq!(description.about.unwrap().value, "7");
        assert_eq!(description.rounding.unwrap().value, "true");
    }

    #[test]
    fn inputs_may_be_one_name() {
        let description = read_text("layers:\n  - kind: add\n    inputs: a\n").unwrap();
        assert_eq!(description.all_layers()[0].inputs, names(&["a"]));
    }

    #[test]
    fn empty_descriptions() {
        for text in [
            "",
            "# only a comment\n",
            "---\n",
            "layers: []\n",
            "layers:\n",
            "name: x\n",
        ] {
            assert!(
                matches!(read_text(text), Err(SyntaxError::Empty { .. })),
                "{text:?} should be empty"
            );
        }
        let only_input = read_text("input: 28x28x1\n").unwrap();
        assert_eq!(only_input.layers.len(), 1);
    }

    #[test]
    fn empty_documents_around_the_network_are_ignored() {
        assert!(read_text("---\ninput: 5\n---\n").is_ok());
        assert!(read_text("# c\n---\n---\ninput: 5\n...\n").is_ok());
    }

    #[test]
    fn lists_nest_up_to_the_limit() {
        let nested = |depth: usize| format!("input: {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(read_text(&nested(MAXIMUM_LIST_DEPTH)).is_ok());
        let error = read_text(&nested(MAXIMUM_LIST_DEPTH + 1)).unwrap_err();
        assert!(
            error.to_string().contains("nested more than 32 deep"),
            "{error}"
        );
        // Deeper than serde_yaml's own limit is a syntax error, not a crash.
        assert!(read_text(&nested(1000)).is_err());
    }

    /// Reads a text that must fail and returns the message, the 1-based line and column of the
    /// span, the spanned text and the help.
    fn failure(text: &str) -> (String, (usize, usize), String, String) {
        let source = Source::new("test.yaml", text);
        let error = read(&source).expect_err(text);
        let span = error.span();
        (
            error.to_string(),
            source.line_column(span.offset),
            spanned_text(text, span).to_string(),
            error.help().unwrap_or_default(),
        )
    }

    #[test]
    fn bad_indentation() {
        let (message, position, _, help) =
            failure("name: x\nlayers:\n  - kind: input\n   shape: 5\n");
        assert_eq!(
            message,
            "did not find expected '-' indicator while parsing a block collection started at line 3, column 3"
        );
        assert_eq!(position, (4, 4));
        assert!(help.contains("indentation"), "{help}");
        let (message, position, _, _) = failure("layers:\n  - kind: input\n      shape: 5\n");
        assert_eq!(message, "mapping values are not allowed in this context");
        assert_eq!(position, (3, 12));
    }

    #[test]
    fn tab_indentation() {
        let (message, position, spanned, help) = failure("layers:\n\t- kind: input\n");
        assert_eq!(
            message,
            "found character that cannot start any token while scanning for the next token"
        );
        assert_eq!(position, (2, 1));
        assert_eq!(spanned, "\t");
        assert!(help.contains("tab"), "{help}");
    }

    #[test]
    fn syntax_error_offsets_count_bytes() {
        let (message, position, spanned, _) = failure("name: é\nabout: éé: x\n");
        assert_eq!(message, "mapping values are not allowed in this context");
        assert_eq!((position, spanned.as_str()), ((2, 10), ":"));
        let (_, position, spanned, _) = failure("\u{feff}about: éé: x\n");
        assert_eq!((position, spanned.as_str()), ((1, 11), ":"));
        assert_eq!(line_column_offset("a\r\nb\rcé", 3, 2), 6);
        assert_eq!(line_column_offset("a\r\nb\rcé", 2, 1), 3);
    }

    #[test]
    fn unknown_top_level_key_with_suggestion() {
        let (message, position, spanned, help) = failure("name: x\nlayer:\n  - kind: input\n");
        assert_eq!(message, "unknown top-level key `layer`");
        assert_eq!((position, spanned.as_str()), ((2, 1), "layer"));
        assert!(help.starts_with("did you mean `layers`?"), "{help}");
        let (_, _, _, help) = failure("input: 5\nfilters: 6\n");
        assert!(help.starts_with("the top-level keys are"), "{help}");
    }

    #[test]
    fn missing_kind() {
        let text = "layers:\n  - kind: input\n    shape: 5\n  - name: a\n    knd: relu\n";
        let (message, position, spanned, help) = failure(text);
        assert_eq!(message, "layer 2 has no `kind`");
        assert_eq!(position, (4, 3));
        assert_eq!(spanned, "- name: a\n    knd: relu");
        assert_eq!(help, "did you mean `kind` instead of `knd`?");
    }

    #[test]
    fn kind_not_text() {
        let (message, position, spanned, help) = failure("layers:\n  - kind: 5\n");
        assert_eq!(message, "a layer's `kind` must be text, not an integer");
        assert_eq!((position, spanned.as_str()), ((2, 11), "5"));
        assert_eq!(help, "quote it: `kind: \"5\"`");
        let (message, ..) = failure("layers:\n  - kind: relu\n    name: [a]\n");
        assert_eq!(message, "a layer's `name` must be text, not a list");
    }

    #[test]
    fn layer_not_a_mapping() {
        let (message, position, spanned, _) = failure("layers:\n  - kind: input\n  - conv2d\n");
        assert_eq!(message, "layer 2 is text, not a mapping of keys");
        assert_eq!((position, spanned.as_str()), ((3, 3), "- conv2d"));
    }

    #[test]
    fn null_value() {
        let (message, position, spanned, _) = failure("layers:\n  - kind: conv2d\n    filters:\n");
        assert_eq!(message, "`filters` has no value");
        assert_eq!((position, spanned.as_str()), ((3, 5), "filters:"));
        let (message, position, spanned, _) = failure("input: ~\n");
        assert_eq!(message, "`~` is YAML's null, not a value");
        assert_eq!((position, spanned.as_str()), ((1, 8), "~"));
        let (message, ..) = failure("input: 5\ntrain: {epochs: null}\n");
        assert_eq!(message, "`null` is YAML's null, not a value");
    }

    #[test]
    fn two_documents() {
        let (message, position, spanned, _) =
            failure("layers:\n  - kind: input\n---\nlayers:\n  - kind: input\n");
        assert_eq!(
            message,
            "a second YAML document: netcalc reads one network per file"
        );
        assert_eq!((position, spanned.as_str()), ((3, 1), "---"));
    }

    #[test]
    fn binary_garbage() {
        let (message, position, _, help) = failure("\u{7f}ELF\u{2}\u{1}\u{1}\0\0\0");
        assert_eq!(message, "control characters are not allowed");
        assert_eq!(position, (1, 1));
        assert_eq!(help, "this does not look like a YAML text");
        let (_, position, spanned, _) = failure("name: x\n\0\u{1}");
        assert_eq!((position, spanned.as_str()), ((2, 1), "\0"));
    }

    #[test]
    fn values_netcalc_cannot_use() {
        let cases = [
            (
                "shape: !foo 5",
                "layers[0].shape: YAML tags such as `!name` are not supported",
                (3, 12),
            ),
            (
                "shape: 99999999999999999999",
                "integer `99999999999999999999` does not fit in 64 bits",
                (3, 12),
            ),
            (
                "shape: !!int \"99999999999999999999\"",
                "`shape`: the integer 99999999999999999999 is too large",
                (3, 12),
            ),
            (
                "shape: -.inf",
                "`-.inf` is YAML's infinity; netcalc reads only finite numbers",
                (3, 12),
            ),
            (
                "shape: !!float \".nan\"",
                "`shape` must be a finite number, not .nan",
                (3, 12),
            ),
            ("shape: {a: 1}", "`shape` cannot be a mapping", (3, 12)),
            (
                "shape: 1\n    shape: 2",
                "the key `shape` is written twice",
                (4, 5),
            ),
        ];
        for (line, expected, position) in cases {
            let text = format!("layers:\n  - kind: input\n    {line}\n");
            let (message, at, ..) = failure(&text);
            assert_eq!((message.as_str(), at), (expected, position), "{text}");
        }
        let (message, ..) = failure("- 1\n- 2\n");
        assert_eq!(
            message,
            "a network is written as a YAML mapping (`name: …`, `layers: …`), not as a list"
        );
        let (message, ..) = failure("input: 5\nexpect: 5\n");
        assert_eq!(
            message,
            "`expect` must be a mapping of keys, not an integer"
        );
        let (message, ..) = failure("layers:\n  - kind: add\n    inputs: [a, 1]\n");
        assert_eq!(
            message,
            "`inputs` lists layer names, which are text, not an integer"
        );
    }

    const GRID: &str = "\
let:
  filters: [[32, 64], [128, 256]]
  kernel_size: 3
input: 28x28x1
layers:
  - repeat: $filters
    as: block
    layers:
      - repeat: \"$block\"      # quoted or not, a reference
        as: f
        layers:
          - {kind: conv2d, filters: $f, kernel: $kernel_size}
      - name: pool
        kind: maxpool
        size: 2
  - {repeat: 2, layers: [{kind: dense, units: 4}]}
sweep:
  kernel_size: [3, 5]
";

    #[test]
    fn reads_parameters_repeats_and_the_sweep() {
        let description = read_text(GRID).unwrap();
        let reference = |name: &str| Value::Reference(name.to_string());
        assert_eq!(
            description.parameters,
            [
                Attribute::new(
                    "filters",
                    Value::List(vec![
                        Value::List(vec![Value::Integer(32), Value::Integer(64)]),
                        Value::List(vec![Value::Integer(128), Value::Integer(256)]),
                    ])
                ),
                Attribute::new("kernel_size", Value::Integer(3)),
            ]
        );
        assert_eq!(
            description.sweep,
            [Attribute::new(
                "kernel_size",
                Value::List(vec![Value::Integer(3), Value::Integer(5)])
            )]
        );
        let [Item::Layer(_), Item::Repeat(outer), Item::Repeat(unnamed)] =
            description.layers.as_slice()
        else {
            panic!("input and two repeats expected: {:?}", description.layers);
        };
        assert_eq!(outer.over.value, reference("filters"));
        let [Item::Repeat(inner), Item::Layer(pool)] = outer.body.as_slice() else {
            panic!("a repeat and a layer expected: {:?}", outer.body);
        };
        assert_eq!(inner.over.value, reference("block"));
        let [Item::Layer(conv)] = inner.body.as_slice() else {
            panic!("one layer expected");
        };
        assert_eq!(conv.attributes[0].value.value, reference("f"));
        assert_eq!(conv.attributes[1].value.value, reference("kernel_size"));
        assert!(unnamed.variable.is_none());
        // Spans inside nested items.
        let at = |span: Span| spanned_text(GRID, span);
        assert_eq!(at(outer.span), "repeat: $filters");
        assert_eq!(at(outer.over.span), "$filters");
        assert_eq!(outer.variable.as_ref().map(|v| at(v.span)), Some("block"));
        assert_eq!(at(inner.over.span), "\"$block\"");
        assert_eq!(
            at(conv.span),
            "- {kind: conv2d, filters: $f, kernel: $kernel_size}"
        );
        assert_eq!(at(conv.attributes[1].value.span), "$kernel_size");
        assert_eq!(pool.name.as_ref().map(|n| at(n.span)), Some("pool"));
        assert_eq!(at(unnamed.over.span), "2");
        assert_eq!(at(description.sweep[0].key.span), "kernel_size");
    }

    #[test]
    fn bad_parameters_and_repeats() {
        let cases = [
            (
                "let: {\"a b\": 1}\ninput: 5\n",
                "the parameter name `a b` is not an identifier",
                (1, 7),
            ),
            ("input: $5\n", "`input`: malformed reference `$5`", (1, 8)),
            (
                "layers:\n  - {kind: k, a: [1, \"$\"]}\n",
                "`a`: malformed reference `$`",
                (2, 18),
            ),
            (
                "layers:\n  - repeat: 2\n    as: b\n    layer: [{kind: k}]\n",
                "unknown key `layer` in a repeated block",
                (4, 5),
            ),
            (
                "layers:\n  - repeat: 2\n    as: b\n",
                "a repeat without layers to repeat",
                (2, 5),
            ),
            (
                "layers:\n  - repeat: 2\n    layers: []\n",
                "a repeat without layers to repeat",
                (2, 5),
            ),
            (
                "layers:\n  - repeat: 2\n    as: 5\n    layers: [{kind: k}]\n",
                "a layer's `as` must be text, not an integer",
                (3, 9),
            ),
            (
                "layers:\n  - repeat: 2\n    as: a b\n    layers: [{kind: k}]\n",
                "the loop variable `a b` is not an identifier",
                (3, 9),
            ),
            (
                "layers:\n  - kind: dense\n    repeat: 2\n",
                "a layer cannot have the key `repeat`",
                (3, 5),
            ),
            (
                "layers:\n  - repeat: 2\n    layers:\n      - kind: k\n      - 5\n",
                "layer 2 is an integer, not a mapping of keys",
                (5, 7),
            ),
        ];
        for (text, expected, position) in cases {
            let (message, at, ..) = failure(text);
            assert_eq!((message.as_str(), at), (expected, position), "{text}");
        }
        let (_, _, _, help) =
            failure("layers:\n  - repeat: 2\n    as: b\n    layer: [{kind: k}]\n");
        assert!(help.starts_with("did you mean `layers`?"), "{help}");
    }

    #[test]
    fn grid_files_hold_only_a_sweep() {
        let source = Source::new(
            "grid.yaml",
            "# the sheet's grid\nsweep:\n  kernel_size: [3, 5]\n",
        );
        let sweep = read_grid(&source).unwrap();
        assert_eq!(sweep[0].key.value, "kernel_size");
        for (text, expected, position) in [
            (
                "sweep: {a: [1]}\ninput: 5\n",
                "a grid file holds only `sweep`, not `input`",
                (2, 1),
            ),
            ("# nothing\n", "the grid file sweeps nothing", (2, 1)),
            ("sweep: {}\n", "the grid file sweeps nothing", (2, 1)),
        ] {
            let source = Source::new("grid.yaml", text);
            let error = read_grid(&source).expect_err(text);
            assert_eq!(
                (
                    error.to_string().as_str(),
                    source.line_column(error.span().offset)
                ),
                (expected, position),
                "{text}"
            );
        }
    }

    #[test]
    fn prints_canonical_yaml() {
        let mut first = layer(
            Some("in"),
            "input",
            vec![Attribute::new("shape", dims(&[0, 10]))],
        );
        first.expect = vec![Attribute::new("output", dims(&[0, 10]))];
        let mut second = layer(
            None,
            "conv2d",
            vec![
                Attribute::new("filters", Value::Integer(-3)),
                Attribute::new("rate", Value::Number(5.0)),
                Attribute::new("note", Value::Text("a: b # c".to_string())),
                Attribute::new(
                    "table",
                    Value::Grid(vec![vec![true, false], vec![false, true]]),
                ),
                Attribute::new(
                    "tables",
                    Value::List(vec![Value::Grid(vec![vec![true]]), Value::List(vec![])]),
                ),
                Attribute::new("12", Value::Text("yes".to_string())),
            ],
        );
        second.inputs = names(&["in", "true"]);
        let description = Description {
            name: Some(Spanned::unspanned("12".to_string())),
            layers: vec![first.into(), second.into()],
            train: vec![Attribute::new("seed", Value::Integer(1))],
            ..Description::default()
        };
        let expected = "\
name: \"12\"
layers:
  - name: in
    kind: input
    shape: 0×10
    expect: {output: 0×10}
  - kind: conv2d
    filters: -3
    rate: 5.0
    note: \"a: b # c\"
    table: |
      X.
      .X
    tables: [\"X\\n\", []]
    \"12\": \"yes\"
    inputs: [in, \"true\"]
train: {seed: 1}
";
        assert_eq!(print(&description), expected);
        assert_eq!(read_text(expected), Ok(description));
    }

    #[test]
    fn prints_parameters_repeats_and_the_sweep() {
        let description = read_text(GRID).unwrap();
        let expected = "\
let:
  filters: [[32, 64], [128, 256]]
  kernel_size: 3
input: 28x28x1
layers:
  - repeat: $filters
    as: block
    layers:
      - repeat: $block
        as: f
        layers:
          - kind: conv2d
            filters: $f
            kernel: $kernel_size
      - name: pool
        kind: maxpool
        size: 2
  - repeat: 2
    layers:
      - kind: dense
        units: 4
sweep:
  kernel_size: [3, 5]
";
        assert_eq!(print(&description), expected);
        assert_eq!(read_text(expected), Ok(description));
    }

    #[test]
    fn prints_the_input_shortcut_only_for_a_plain_input_layer() {
        let plain = layer(
            None,
            "input",
            vec![Attribute::new("shape", dims(&[28, 28, 1]))],
        );
        let description = Description {
            layers: vec![plain.clone().into()],
            ..Description::default()
        };
        assert_eq!(print(&description), "input: 28x28x1\n");
        let named = layer(Some("x"), "input", plain.attributes.clone());
        let description = Description {
            layers: vec![named.into(), plain.into()],
            ..Description::default()
        };
        assert_eq!(
            print(&description),
            "layers:\n  - name: x\n    kind: input\n    shape: 28x28x1\n  - kind: input\n    shape: 28x28x1\n"
        );
        assert_eq!(print(&Description::default()), "layers: []\n");
    }

    /// Strings of every kind: arbitrary Unicode, printable ASCII, and words YAML reads specially.
    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,12}",
            "[a-zA-Z_][a-zA-Z0-9_ .'()-]{0,10}",
            prop::sample::select(vec![
                "",
                " ",
                "x ",
                "null",
                "Null",
                "~",
                "true",
                "False",
                "yes",
                "no",
                "on",
                "y",
                "+5",
                "0o17",
                "0b1",
                "1_000",
                ".inf",
                "-.inf",
                ".nan",
                "inf",
                "NaN",
                "a: b",
                "#c",
                "a #c",
                "- x",
                "-",
                "&a",
                "*a",
                "!t",
                "|",
                ">",
                "'",
                "\"",
                "?",
                "%",
                "@x",
                "`x",
                "[a]",
                "{a}",
                "a,b",
                "X.\n.X.\n",
                "X.\n",
                "line\nbreak",
                "\t",
                "\u{85}",
                "\u{2028}",
                "\u{feff}",
                "é",
                "\u{10ffff}",
                "---",
                "...",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let grid = (1..5usize, 1..7usize).prop_flat_map(|(rows, columns)| {
            vec(vec(any::<bool>(), columns), rows).prop_map(Value::Grid)
        });
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::Integer),
            any::<f64>()
                .prop_filter("finite", |n| n.is_finite())
                .prop_map(Value::Number),
            any::<bool>().prop_map(Value::Boolean),
            any_text()
                .prop_filter("reads as text", |text| matches!(
                    Value::from_text(text),
                    Value::Text(_)
                ) && !is_malformed_reference(text))
                .prop_map(Value::Text),
            identifier().prop_map(Value::Reference),
            vec(prop_oneof![0..100u64, any::<u64>()], 2..5).prop_map(Value::Dims),
            grid,
        ];
        leaf.prop_recursive(4, 24, 4, |inner| vec(inner, 0..4).prop_map(Value::List))
    }

    /// Attributes with distinct keys, none of them in `reserved`.
    fn any_attributes(
        most: usize,
        reserved: &'static [&'static str],
    ) -> impl Strategy<Value = Vec<Attribute>> {
        vec((any_text(), any_value()), 0..most).prop_map(move |pairs| {
            let mut seen = HashSet::new();
            pairs
                .into_iter()
                .filter(|(key, _)| !reserved.contains(&key.as_str()) && seen.insert(key.clone()))
                .map(|(key, value)| Attribute::new(&key, value))
                .collect()
        })
    }

    /// Parameter and loop variable names.
    fn identifier() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z_][A-Za-z0-9_.-]{0,8}",
            prop::sample::select(vec!["y", "no", "null", "true", "as", "repeat", "layers"])
                .prop_map(str::to_string),
        ]
    }

    /// Layers and repeated blocks, nested up to three deep, each body holding an item or more.
    fn any_items(size: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Item>> {
        let item = any_layer()
            .prop_map(Item::Layer)
            .prop_recursive(3, 10, 3, |inner| {
                (
                    any_value(),
                    proptest::option::of(identifier()),
                    vec(inner, 1..3),
                )
                    .prop_map(|(over, variable, body)| {
                        Item::Repeat(Repeat::new(over, variable, body))
                    })
            });
        vec(item, size)
    }

    fn any_layer() -> impl Strategy<Value = LayerDecl> {
        (
            proptest::option::of(any_text()),
            any_text(),
            any_attributes(5, &["name", "kind", "inputs", "expect", "repeat"]),
            vec(any_text(), 0..3),
            any_attributes(3, &[]),
        )
            .prop_map(|(name, kind, attributes, inputs, expect)| LayerDecl {
                name: name.map(Spanned::unspanned),
                kind: Spanned::unspanned(kind),
                positionals: Vec::new(),
                attributes,
                inputs: inputs.into_iter().map(Spanned::unspanned).collect(),
                expect,
                span: Span::default(),
                copies: crate::syntax::Copies::default(),
            })
    }

    fn input(shape: Value) -> LayerDecl {
        layer(None, "input", vec![Attribute::new("shape", shape)])
    }

    /// A first layer that is, or almost is, what the `input:` shortcut stands for.
    fn any_first_layer() -> impl Strategy<Value = LayerDecl> {
        prop_oneof![
            any_layer(),
            any_value().prop_map(input),
            (any_value(), any_text()).prop_map(|(shape, name)| LayerDecl {
                name: Some(Spanned::unspanned(name)),
                ..input(shape)
            }),
            (any_value(), any_text()).prop_map(|(shape, from)| LayerDecl {
                inputs: vec![Spanned::unspanned(from)],
                ..input(shape)
            }),
            (any_value(), any_attributes(2, &[])).prop_map(|(shape, expect)| LayerDecl {
                expect,
                ..input(shape)
            }),
        ]
    }

    fn any_description() -> impl Strategy<Value = Description> {
        let parameters = vec((identifier(), any_value()), 0..3).prop_map(|pairs| {
            let mut seen = HashSet::new();
            pairs
                .into_iter()
                .filter(|(key, _)| seen.insert(key.clone()))
                .map(|(key, value)| Attribute::new(&key, value))
                .collect::<Vec<_>>()
        });
        (
            (
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
                proptest::option::of(any_text()),
            ),
            parameters,
            any_first_layer(),
            any_items(0..4),
            any_attributes(3, &[]),
            any_attributes(3, &[]),
            any_attributes(3, &[]),
        )
            .prop_map(
                |(
                    (name, about, rounding, conventions),
                    parameters,
                    first,
                    rest,
                    expect,
                    train,
                    sweep,
                )| {
                    Description {
                        name: name.map(Spanned::unspanned),
                        about: about.map(Spanned::unspanned),
                        rounding: rounding.map(Spanned::unspanned),
                        conventions: conventions.map(Spanned::unspanned),
                        parameters,
                        layers: std::iter::once(Item::Layer(first)).chain(rest).collect(),
                        expect,
                        train,
                        sweep,
                    }
                },
            )
    }

    /// Pieces of YAML syntax and of netcalc's keys, for building near-YAML texts.
    const FRAGMENTS: [&str; 40] = [
        "name:",
        "layers:",
        "input:",
        "expect:",
        "train:",
        "kind:",
        "inputs:",
        "- ",
        "-",
        " ",
        "  ",
        "\n",
        "\n  ",
        "\n    ",
        ":",
        ": ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "|",
        ">-",
        "'",
        "\"",
        "#",
        "---\n",
        "...\n",
        "&a ",
        "*a",
        "!t ",
        "? ",
        "5x5",
        "X.\n",
        "null",
        "1e999",
        "99999999999999999999",
        "\t",
        "conv2d",
        "é",
    ];

    /// Every span a read produced, for checking that spans stay inside the text.
    fn all_spans(result: &Result<Description, SyntaxError>) -> Vec<Span> {
        let description = match result {
            Ok(description) => description,
            Err(error) => return vec![error.span()],
        };
        let attribute_spans = |attributes: &[Attribute]| -> Vec<Span> {
            attributes
                .iter()
                .flat_map(|a| [a.key.span, a.value.span])
                .collect()
        };
        let mut spans: Vec<Span> = [&description.name, &description.about, &description.rounding]
            .into_iter()
            .flatten()
            .map(|text| text.span)
            .collect();
        spans.extend(attribute_spans(&description.expect));
        spans.extend(attribute_spans(&description.train));
        for layer in description.all_layers() {
            spans.extend([layer.span, layer.kind.span]);
            spans.extend(layer.name.iter().chain(&layer.inputs).map(|text| text.span));
            spans.extend(attribute_spans(&layer.attributes));
            spans.extend(attribute_spans(&layer.expect));
        }
        spans
    }

    /// Spans must lie inside the text and on character boundaries, or rendering them would fail.
    fn check_spans(text: &str) -> Result<(), TestCaseError> {
        for span in all_spans(&read_text(text)) {
            let end = span.offset + span.length;
            prop_assert!(end <= text.len(), "{:?} outside {:?}", span, text);
            prop_assert!(text.is_char_boundary(span.offset) && text.is_char_boundary(end));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn printed_descriptions_read_back(description in any_description()) {
            let printed = print(&description);
            prop_assert_eq!(read_text(&printed), Ok(description), "printed:\n{}", printed);
        }

        #[test]
        fn printed_descriptions_are_located(description in any_description()) {
            let printed = print(&description);
            let read_back = read_text(&printed).unwrap();
            for layer in read_back.all_layers() {
                let whole = spanned_text(&printed, layer.span);
                prop_assert!(whole.starts_with("- ") || whole.starts_with("input:"), "{:?} in\n{}", whole, printed);
                if whole.starts_with("- ") {
                    prop_assert_eq!(spanned_text(&printed, layer.kind.span), scalar_text(&layer.kind.value));
                    for attribute in layer.attributes.iter().chain(&layer.expect) {
                        prop_assert_eq!(spanned_text(&printed, attribute.key.span), scalar_text(&attribute.key.value));
                    }
                    for input in &layer.inputs {
                        prop_assert_eq!(spanned_text(&printed, input.span), scalar_text(&input.value));
                    }
                }
            }
        }

        #[test]
        fn read_never_panics_on_any_text(text in any::<String>()) {
            check_spans(&text)?;
        }

        #[test]
        fn read_never_panics_on_yaml_fragments(pieces in vec(prop::sample::select(FRAGMENTS.to_vec()), 0..40)) {
            check_spans(&pieces.concat())?;
        }

        #[test]
        fn read_never_panics_on_damaged_descriptions(
            description in any_description(),
            at in any::<prop::sample::Index>(),
            damage in 0..3u8,
            inserted in any::<char>(),
        ) {
            let mut text = print(&description);
            let mut offset = at.index(text.len() + 1);
            while !text.is_char_boundary(offset) {
                offset -= 1;
            }
            match damage {
                0 => text.truncate(offset),
                1 if offset < text.len() => {
                    text.remove(offset);
                }
                _ => text.insert(offset, inserted),
            }
            check_spans(&text)?;
        }
    }
}

//! JSON with the span of every value, so that an importer's error points at the field it is
//! about. serde_json checks the text first (its message and position for malformed JSON, its
//! nesting limit); a small walker over the text it accepted then records where each value is.

use super::ImportError;
use crate::source::Span;

/// A JSON value and where it is written.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub value: Json,
    /// The bytes of the value in the text.
    pub span: Span,
}

/// A JSON value whose parts carry their spans.
#[derive(Debug, Clone)]
pub enum Json {
    /// `null`.
    Null,
    /// `true`, `false`.
    Boolean(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// `[…]`.
    Array(Vec<Node>),
    /// `{…}`, keys in the order written (a repeated key keeps its first value).
    Object(Vec<(String, Node)>),
}

/// Parses a JSON text.
pub fn parse(text: &str) -> Result<Node, ImportError> {
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let offset = offset_of(text, error.line(), error.column());
        let message = error.to_string();
        let message = match message.rfind(" at line ") {
            Some(end) => message[..end].to_string(),
            None => message,
        };
        return Err(ImportError::Json {
            message,
            span: Span::new(offset, 0),
        });
    }
    let mut walker = Walker { text, at: 0 };
    Ok(walker.value())
}

/// The byte offset of serde_json's 1-based line and column (the column counts bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

struct Walker<'t> {
    text: &'t str,
    at: usize,
}

impl Walker<'_> {
    fn skip_space(&mut self) {
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() && matches!(bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
            self.at += 1;
        }
    }

    fn peek(&self) -> u8 {
        self.text.as_bytes().get(self.at).copied().unwrap_or(0)
    }

    /// Reads one value; the text is valid JSON (serde_json said so).
    fn value(&mut self) -> Node {
        self.skip_space();
        let start = self.at;
        let value = match self.peek() {
            b'{' => {
                self.at += 1;
                let mut members: Vec<(String, Node)> = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek() == b'}' {
                        self.at += 1;
                        break;
                    }
                    if self.peek() == b',' {
                        self.at += 1;
                        continue;
                    }
                    let key = self.string();
                    self.skip_space();
                    self.at += 1; // the colon
                    let value = self.value();
                    if !members.iter().any(|(known, _)| *known == key) {
                        members.push((key, value));
                    }
                }
                Json::Object(members)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        b']' => {
                            self.at += 1;
                            break;
                        }
                        b',' => self.at += 1,
                        _ => items.push(self.value()),
                    }
                }
                Json::Array(items)
            }
            b'"' => Json::String(self.string()),
            b't' => {
                self.at += 4;
                Json::Boolean(true)
            }
            b'f' => {
                self.at += 5;
                Json::Boolean(false)
            }
            b'n' => {
                self.at += 4;
                Json::Null
            }
            _ => {
                let bytes = self.text.as_bytes();
                while self.at < bytes.len()
                    && matches!(
                        bytes[self.at],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.at += 1;
                }
                Json::Number(self.text[start..self.at].to_string())
            }
        };
        Node {
            value,
            span: Span::new(start, self.at - start),
        }
    }

    /// Reads a string at `"`.
    fn string(&mut self) -> String {
        let start = self.at;
        let bytes = self.text.as_bytes();
        self.at += 1;
        while self.at < bytes.len() && bytes[self.at] != b'"' {
            self.at += if bytes[self.at] == b'\\' { 2 } else { 1 };
        }
        self.at = (self.at + 1).min(bytes.len());
        serde_json::from_str(&self.text[start..self.at]).unwrap_or_default()
    }
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Json::Object(members) => members
                .iter()
                .find(|(known, _)| known == key)
                .map(|(_, node)| node),
            _ => None,
        }
    }

    /// The member `key` unless it is absent or null.
    pub fn present(&self, key: &str) -> Option<&Node> {
        self.get(key)
            .filter(|node| !matches!(node.value, Json::Null))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The integer, if this is a number without fraction or exponent that fits in 64 bits.
    pub fn as_integer(&self) -> Option<i64> {
        match &self.value {
            Json::Number(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match &self.value {
            Json::Number(text) => text.parse().ok().filter(|x: &f64| x.is_finite()),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_boolean(&self) -> Option<bool> {
        match &self.value {
            Json::Boolean(value) => Some(*value),
            _ => None,
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Json::Null => "null",
            Json::Boolean(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Reads fields of one JSON object, with errors naming the field by its path.
pub struct Fields<'n> {
    /// The object.
    pub node: &'n Node,
    /// Its path, e.g. `config.layers[2].config`.
    pub path: String,
}

impl<'n> Fields<'n> {
    /// The fields of `node`, reported under `path`.
    pub fn new(node: &'n Node, path: impl Into<String>) -> Fields<'n> {
        Fields {
            node,
            path: path.into(),
        }
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The error for a field that is absent.
    pub fn missing(&self, key: &str) -> ImportError {
        ImportError::Field {
            field: self.name(key),
            problem: "is missing".to_string(),
            span: Span::new(self.node.span.offset, 1.min(self.node.span.length)),
        }
    }

    /// The error for a field of the wrong type or value.
    pub fn wrong(&self, key: &str, node: &Node, expected: &str) -> ImportError {
        ImportError::Field {
            field: self.name(key),
            problem: format!("must be {expected}, not {}", shown(node)),
            span: node.span,
        }
    }

    /// A required member.
    pub fn node(&self, key: &str) -> Result<&'n Node, ImportError> {
        self.node.present(key).ok_or_else(|| self.missing(key))
    }

    /// An optional string.
    pub fn string(&self, key: &str) -> Result<Option<&'n str>, ImportError> {
        match self.node.present(key) {
            None => Ok(None),
            Some(node) => node
                .as_str()
                .map(Some)
                .ok_or_else(|| self.wrong(key, node, "a string")),
        }
    }

    /// A required string.
    pub fn required_string(&self, key: &str) -> Result<&'n str, ImportError> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    /// An optional count (an integer ≥ 0).
    pub fn count(&self, key: &str) -> Result<Option<u64>, ImportError> {
        match self.node.present(key) {
            None => Ok(None),
            Some(node) => match node.as_integer() {
                Some(value) if value >= 0 => Ok(Some(value as u64)),
                _ => Err(self.wrong(key, node, "an integer ≥ 0")),
            },
        }
    }

    /// A required count.
    pub fn required_count(&self, key: &str) -> Result<u64, ImportError> {
        self.count(key)?.ok_or_else(|| self.missing(key))
    }

    /// An optional number.
    pub fn number(&self, key: &str) -> Result<Option<f64>, ImportError> {
        match self.node.present(key) {
            None => Ok(None),
            Some(node) => node
                .as_number()
                .map(Some)
                .ok_or_else(|| self.wrong(key, node, "a number")),
        }
    }

    /// An optional boolean.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ImportError> {
        match self.node.present(key) {
            None => Ok(None),
            Some(node) => node
                .as_boolean()
                .map(Some)
                .ok_or_else(|| self.wrong(key, node, "true or false")),
        }
    }

    /// An optional list of counts; a single count is a list of `repeat` copies of it (Keras
    /// writes `kernel_size: 3` or `[3, 3]`).
    pub fn counts(&self, key: &str, repeat: usize) -> Result<Option<Vec<u64>>, ImportError> {
        let Some(node) = self.node.present(key) else {
            return Ok(None);
        };
        if let Some(value) = node.as_integer().filter(|value| *value >= 0) {
            return Ok(Some(vec![value as u64; repeat]));
        }
        let expected = "an integer ≥ 0 or a list of them";
        let items = node
            .as_array()
            .ok_or_else(|| self.wrong(key, node, expected))?;
        items
            .iter()
            .map(|item| match item.as_integer() {
                Some(value) if value >= 0 => Ok(value as u64),
                _ => Err(self.wrong(key, item, expected)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// A value as a message shows it: short values as written, others by type.
pub fn shown(node: &Node) -> String {
    match &node.value {
        Json::Null => "null".to_string(),
        Json::Boolean(value) => value.to_string(),
        Json::Number(text) => text.clone(),
        Json::String(text) if text.chars().count() <= 40 => format!("\"{text}\""),
        other => Node {
            value: other.clone(),
            span: node.span,
        }
        .type_name()
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_each_value() {
        let text = r#" {"a": [1, -2.5e3, "x\"y"], "b": {"c": null}, "a": true} "#;
        let node = parse(text).expect("valid");
        let a = node.get("a").expect("a");
        let items = a.as_array().expect("array");
        assert_eq!(
            &text[items[1].span.offset..][..items[1].span.length],
            "-2.5e3"
        );
        assert_eq!(items[2].as_str(), Some("x\"y"));
        assert_eq!(
            &text[items[2].span.offset..][..items[2].span.length],
            r#""x\"y""#
        );
        let b = node.get("b").expect("b");
        assert_eq!(&text[b.span.offset..][..b.span.length], r#"{"c": null}"#);
        assert!(b.present("c").is_none());
        assert!(
            a.as_array().is_some(),
            "a repeated key keeps its first value"
        );
    }

    #[test]
    fn malformed_json_points_where_it_breaks() {
        let text = "{\n  \"a\": [1, 2,\n}";
        let Err(ImportError::Json { span, message }) = parse(text) else {
            panic!("malformed JSON accepted")
        };
        assert_eq!(text.as_bytes()[span.offset], b'}', "{message}");
    }
}

//! Where things are written in a YAML text. serde_yaml reports positions only for its own syntax
//! errors, so the YAML reader asks this outline for the spans of keys, values and list items.
//!
//! The outline is a best-effort reading of the text alone, made after serde_yaml has accepted it:
//! block structure by indentation (`key: value`, `- item`), block scalars (`|`, `>`), quoted
//! scalars, comments, document markers, and flow collections (`{a: 1}`, `[a, b]`). It never
//! fails: what it cannot follow is kept as one opaque scalar span (or left out), and the reader
//! falls back to the span of the enclosing node. It must not import serde_yaml.

use crate::source::Span;

/// A located node: a block mapping, a block sequence, anything else as one scalar span, or nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `key: value` lines at one indentation.
    Mapping(Vec<Entry>),
    /// `- item` lines at one indentation.
    Sequence(Vec<Item>),
    /// A scalar, a flow collection or anything the outline does not look into.
    Scalar(Span),
    /// No value written.
    Empty,
}

/// One `key: value` of a block mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as YAML reads it (quotes removed, escapes decoded).
    pub key: String,
    /// Where the key is written (quotes included).
    pub key_span: Span,
    /// The value.
    pub value: Block,
    /// Where the value is written: the scalar (without a trailing comment) or the nested block;
    /// an empty span just after the colon when no value is written.
    pub value_span: Span,
    /// From the key to the end of the value.
    pub span: Span,
}

/// One `- item` of a block sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item's value.
    pub value: Block,
    /// From the `-` to the end of the item.
    pub span: Span,
}

impl Block {
    /// The first entry with this key, when this is a block mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|entry| entry.key == key)
    }

    /// The `occurrence`-th (0-based) entry with this key, for pointing at a repeated key.
    pub fn entry_occurrence(&self, key: &str, occurrence: usize) -> Option<&Entry> {
        self.entries()
            .iter()
            .filter(|entry| entry.key == key)
            .nth(occurrence)
    }

    /// The entries, when this is a block mapping (none otherwise).
    pub fn entries(&self) -> &[Entry] {
        match self {
            Block::Mapping(entries) => entries,
            _ => &[],
        }
    }

    /// The item at `index`, when this is a block sequence.
    pub fn item(&self, index: usize) -> Option<&Item> {
        match self {
            Block::Sequence(items) => items.get(index),
            _ => None,
        }
    }
}

/// The located structure of a whole YAML text.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// The first document's top node.
    pub root: Block,
    /// Where each document starts (its `---` marker or its first content line), in order.
    pub document_starts: Vec<Span>,
}

impl Outline {
    /// Reads the outline of a text. Never fails; unknown structure is left opaque.
    pub fn new(text: &str) -> Outline {
        let lines = split_lines(text);
        let mut parser = Parser {
            pieces: lines.pieces,
            next: 0,
            text,
            last_end: 0,
        };
        let root = parser.block(None);
        Outline {
            root,
            document_starts: lines.document_starts,
        }
    }
}

/// A stretch of content: one line's content after its indentation (or the rest of a line after a
/// `- ` or `key:`), plus any lines absorbed into it (a block scalar's body, a quoted scalar's
/// continuation). Columns are byte columns; indentation and indicators are ASCII.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Column of `start` in its line.
    column: usize,
    /// First byte of the content.
    start: usize,
    /// End of the content on its first line, before any comment and trailing blanks.
    line_end: usize,
    /// End of the content including absorbed lines.
    end: usize,
}

struct Lines {
    pieces: Vec<Piece>,
    document_starts: Vec<Span>,
}

/// What the line scanner is in the middle of.
enum Pending {
    Nothing,
    /// Body lines of a block scalar must be blank or indented deeper than this column.
    BlockScalar {
        deeper_than: usize,
    },
    /// A quoted scalar continues on the next line.
    Quoted {
        quote: char,
    },
}

fn split_lines(text: &str) -> Lines {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut document_starts = Vec::new();
    let mut document_open = false;
    let mut pending = Pending::Nothing;
    let mut offset = 0;
    let body = text.strip_prefix('\u{feff}');
    if body.is_some() {
        offset = '\u{feff}'.len_utf8();
    }
    for raw_line in body.unwrap_or(text).split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        let content_start = line_start + indent;
        let blank = content.trim().is_empty();

        match pending {
            Pending::BlockScalar { deeper_than } => {
                if blank || indent > deeper_than {
                    if !blank && let Some(piece) = pieces.last_mut() {
                        piece.end = line_start + line.trim_end().len();
                    }
                    continue;
                }
                pending = Pending::Nothing;
            }
            Pending::Quoted { quote } => {
                let (content_end, still_open) = scan_content(line, Some(quote));
                if let Some(piece) = pieces.last_mut() {
                    piece.end = line_start + content_end;
                }
                pending = match still_open {
                    Some(quote) => Pending::Quoted { quote },
                    None => Pending::Nothing,
                };
                continue;
            }
            Pending::Nothing => {}
        }

        if blank || content.starts_with('#') {
            continue;
        }
        if indent == 0 && (is_marker(content, "---") || is_marker(content, "...")) {
            if content.starts_with("---") {
                document_starts.push(Span::new(content_start, 3));
                document_open = true;
            } else {
                document_open = false;
            }
            continue;
        }
        if indent == 0 && content.starts_with('%') {
            continue;
        }
        if !document_open {
            document_starts.push(Span::new(content_start, content.trim_end().len()));
            document_open = true;
        }

        let (content_end, open_quote) = scan_content(content, None);
        let piece_end = content_start + content_end;
        pieces.push(Piece {
            column: indent,
            start: content_start,
            line_end: piece_end,
            end: piece_end,
        });
        if let Some(quote) = open_quote {
            pending = Pending::Quoted { quote };
        } else if let Some(deeper_than) = block_scalar_owner(&content[..content_end], indent) {
            pending = Pending::BlockScalar { deeper_than };
        }
    }
    Lines {
        pieces,
        document_starts,
    }
}

fn is_marker(content: &str, marker: &str) -> bool {
    content
        .strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Scans one line's content for where it ends: before a comment (` #` outside quotes) and
/// trailing blanks. `inside` is the quote a previous line left open. Returns the end and the
/// quote still open at the end of the line, if any. A quote opens a quoted scalar only where a
/// node starts (line start, after `: `, `- `, or `[`, `{`, `,` in a flow collection); elsewhere it
/// is part of a plain scalar, as in `it's`.
fn scan_content(content: &str, inside: Option<char>) -> (usize, Option<char>) {
    let mut quote = inside;
    let mut end = 0;
    let mut previous: Option<char> = None;
    let mut node_start = inside.is_none();
    let mut flow_depth = 0usize;
    let mut chars = content.char_indices().peekable();
    while let Some((at, character)) = chars.next() {
        let following = chars.peek().map(|&(_, next)| next);
        match quote {
            Some('"') => {
                if character == '\\' {
                    chars.next();
                } else if character == '"' {
                    quote = None;
                }
                end = at + character.len_utf8();
            }
            Some(_) => {
                if character == '\'' {
                    if following == Some('\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                end = at + character.len_utf8();
            }
            None => {
                if character == '#' && previous.is_none_or(char::is_whitespace) {
                    break;
                }
                let blank_follows = following.is_none_or(char::is_whitespace);
                match character {
                    '"' | '\'' if node_start => quote = Some(character),
                    ':' if blank_follows || flow_depth > 0 => node_start = true,
                    '-' if node_start && blank_follows => {}
                    '[' | '{' if node_start => flow_depth += 1,
                    ']' | '}' if flow_depth > 0 => flow_depth -= 1,
                    ',' if flow_depth > 0 => node_start = true,
                    c if c.is_whitespace() => {}
                    _ => node_start = false,
                }
                if !character.is_whitespace() {
                    end = at + character.len_utf8();
                }
            }
        }
        previous = Some(character);
    }
    (end, quote)
}

/// When a line's content ends with a block scalar header (`|`, `>-`, `|2` …), the column its
/// body must be indented deeper than: the column of the key or `-` that owns the scalar.
fn block_scalar_owner(content: &str, indent: usize) -> Option<usize> {
    let header_start = content.rfind(['|', '>'])?;
    let header = &content[header_start..];
    let indicators_ok = header[1..].len() <= 2
        && header[1..]
            .chars()
            .all(|c| matches!(c, '+' | '-' | '1'..='9'));
    if !indicators_ok {
        return None;
    }
    let before = &content[..header_start];
    // The owner: strip leading `- ` indicators, then a `key:` if there is one.
    let mut column = indent;
    let mut rest = before;
    let mut owner = None;
    while let Some(after) = sequence_rest(rest) {
        owner = Some(column);
        column += rest.len() - after.len();
        rest = after;
    }
    if rest.trim().is_empty() {
        return owner.or(Some(indent));
    }
    let (_, value_start) = split_key(rest)?;
    rest[value_start..].trim().is_empty().then_some(column)
}

/// After a sequence indicator (`-` followed by a blank or the end), the rest with blanks skipped.
fn sequence_rest(content: &str) -> Option<&str> {
    let rest = content.strip_prefix('-')?;
    if rest.is_empty() {
        return Some(rest);
    }
    rest.starts_with([' ', '\t'])
        .then(|| rest.trim_start_matches([' ', '\t']))
}

/// Splits `key: value` content: the key's end (exclusive) and where the value starts (blanks
/// after the colon skipped). `None` when the content is not a block mapping entry.
fn split_key(content: &str) -> Option<(usize, usize)> {
    let first = content.chars().next()?;
    let colon = match first {
        '"' | '\'' => {
            let (closed, open) = scan_quoted(content, first);
            if open {
                return None;
            }
            let after = &content[closed..];
            let blanks = after.len() - after.trim_start_matches([' ', '\t']).len();
            after[blanks..]
                .starts_with(':')
                .then_some(closed + blanks)?
        }
        '[' | '{' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`' | '#' | '?' => return None,
        '-' if sequence_rest(content).is_some() => return None,
        _ => content.match_indices(':').map(|(at, _)| at).find(|&at| {
            content[at + 1..].is_empty() || content[at + 1..].starts_with([' ', '\t'])
        })?,
    };
    let after_colon = colon + 1;
    if !(content[after_colon..].is_empty() || content[after_colon..].starts_with([' ', '\t'])) {
        return None;
    }
    let key_end = content[..colon].trim_end_matches([' ', '\t']).len();
    let value = &content[after_colon..];
    let value_start = after_colon + (value.len() - value.trim_start_matches([' ', '\t']).len());
    Some((key_end, value_start))
}

/// The end of a quoted scalar starting at the beginning of `content`, and whether it is still
/// open at the end of the content.
fn scan_quoted(content: &str, quote: char) -> (usize, bool) {
    let mut chars = content.char_indices().skip(1).peekable();
    while let Some((index, character)) = chars.next() {
        if quote == '"' && character == '\\' {
            chars.next();
        } else if character == quote {
            if quote == '\'' && chars.peek().is_some_and(|&(_, next)| next == '\'') {
                chars.next();
            } else {
                return (index + 1, false);
            }
        }
    }
    (content.len(), true)
}

/// The key as YAML reads it: quotes removed and escapes decoded (best effort).
fn decode_key(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_string();
    };
    let mut key = String::new();
    let mut chars = inner.chars();
    while let Some(character) = chars.next() {
        if character != '\\' {
            key.push(character);
            continue;
        }
        let escaped = match chars.next() {
            Some('n') => Some('\n'),
            Some('t') => Some('\t'),
            Some('r') => Some('\r'),
            Some('0') => Some('\0'),
            Some('x') => hex_char(&mut chars, 2),
            Some('u') => hex_char(&mut chars, 4),
            Some('U') => hex_char(&mut chars, 8),
            other => other,
        };
        key.extend(escaped);
    }
    key
}

fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let hex: String = chars.by_ref().take(digits).collect();
    u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
}

/// Builds blocks from pieces by indentation. Each loop consumes at least one piece, and a piece
/// is only ever replaced by a shorter rest of itself at a deeper column.
struct Parser<'text> {
    pieces: Vec<Piece>,
    next: usize,
    text: &'text str,
    /// End of the last consumed piece.
    last_end: usize,
}

impl<'text> Parser<'text> {
    fn peek(&self) -> Option<Piece> {
        self.pieces.get(self.next).copied()
    }

    fn content(&self, piece: Piece) -> &'text str {
        self.text.get(piece.start..piece.line_end).unwrap_or("")
    }

    fn consume(&mut self) {
        if let Some(piece) = self.peek() {
            self.last_end = piece.end;
            self.next += 1;
        }
    }

    /// Replaces the next piece by its rest from byte `skip` on (after `- ` or `key:`).
    fn replace_with_rest(&mut self, skip: usize) {
        if let Some(piece) = self.pieces.get_mut(self.next) {
            piece.column += skip;
            piece.start += skip;
        }
    }

    /// The node whose pieces are deeper than `parent` (any column at the top).
    fn block(&mut self, parent: Option<usize>) -> Block {
        let Some(piece) = self.peek() else {
            return Block::Empty;
        };
        if parent.is_some_and(|parent| piece.column <= parent) {
            return Block::Empty;
        }
        let content = self.content(piece);
        if sequence_rest(content).is_some() {
            self.sequence(piece.column)
        } else if split_key(content).is_some() {
            self.mapping(piece.column)
        } else {
            self.scalar(parent)
        }
    }

    fn sequence(&mut self, column: usize) -> Block {
        let mut items = Vec::new();
        while let Some(piece) = self.peek() {
            let content = self.content(piece);
            let Some(rest) = sequence_rest(content) else {
                break;
            };
            if piece.column != column {
                break;
            }
            let before = self.next;
            if rest.is_empty() {
                self.consume();
            } else {
                self.replace_with_rest(content.len() - rest.len());
            }
            let value = self.block(Some(column));
            if self.next == before {
                break;
            }
            items.push(Item {
                value,
                span: span_between(piece.start, self.last_end),
            });
        }
        items.shrink_to_fit();
        Block::Sequence(items)
    }

    fn mapping(&mut self, column: usize) -> Block {
        let mut entries = Vec::new();
        while let Some(piece) = self.peek() {
            let content = self.content(piece);
            let Some((key_end, value_start)) = split_key(content) else {
                break;
            };
            if piece.column != column {
                break;
            }
            let key_span = Span::new(piece.start, key_end);
            let key = decode_key(&content[..key_end]);
            let before = self.next;
            let (value, value_span) = if value_start >= content.len() {
                self.consume();
                let colon_end = piece.start + content.len();
                let value = match self.peek() {
                    Some(next)
                        if next.column == column && sequence_rest(self.content(next)).is_some() =>
                    {
                        self.sequence(column)
                    }
                    _ => self.block(Some(column)),
                };
                let value_span = match value {
                    Block::Empty => Span::new(colon_end, 0),
                    _ => span_between(self.first_start_after(before), self.last_end),
                };
                (value, value_span)
            } else {
                self.replace_with_rest(value_start);
                let value_begin = piece.start + value_start;
                let value = self.block(Some(column));
                (value, span_between(value_begin, self.last_end))
            };
            if self.next == before {
                break;
            }
            entries.push(Entry {
                key,
                key_span,
                value,
                value_span,
                span: span_between(piece.start, self.last_end),
            });
        }
        entries.shrink_to_fit();
        Block::Mapping(entries)
    }

    /// Where the value consumed after piece `index` starts.
    fn first_start_after(&self, index: usize) -> usize {
        self.pieces
            .get(index + 1)
            .map_or(self.last_end, |piece| piece.start)
    }

    /// A scalar: this piece and every following piece deeper than `parent` (continuation lines).
    fn scalar(&mut self, parent: Option<usize>) -> Block {
        let Some(first) = self.peek() else {
            return Block::Empty;
        };
        self.consume();
        while let Some(piece) = self.peek() {
            if parent.is_some_and(|parent| piece.column <= parent) {
                break;
            }
            self.consume();
        }
        let span = span_between(first.start, self.last_end);
        match flow_collection(self.text, first.start, 0) {
            Some((block, end)) if end <= self.last_end => block,
            _ => Block::Scalar(span),
        }
    }
}

/// Deepest flow nesting the outline follows; deeper collections stay opaque scalars.
const MAXIMUM_FLOW_DEPTH: usize = 64;

/// A flow collection (`{a: 1, b: [x, y]}` or `[a, b]`) starting at byte `start`: its block and the
/// end of its closing bracket. `None` when the text there is not a well-formed flow collection.
fn flow_collection(text: &str, start: usize, depth: usize) -> Option<(Block, usize)> {
    let open = text.as_bytes().get(start).copied()?;
    let close = match open {
        b'{' => b'}',
        b'[' => b']',
        _ => return None,
    };
    if depth >= MAXIMUM_FLOW_DEPTH {
        return None;
    }
    let mut entries = Vec::new();
    let mut items = Vec::new();
    let mut at = start + 1;
    loop {
        at = skip_flow_blanks(text, at);
        let next = text.as_bytes().get(at).copied()?;
        if next == close {
            at += 1;
            break;
        }
        let (node, node_span, after) = flow_node(text, at, depth)?;
        at = skip_flow_blanks(text, after);
        if text.as_bytes().get(at) == Some(&b':') {
            // `key: value` (in a flow sequence this is a one-pair mapping; the outline keeps the
            // key's span as the item's).
            let value_start = skip_flow_blanks(text, at + 1);
            let (value, value_span, after_value) = match flow_node(text, value_start, depth) {
                Some(found) => found,
                None => (Block::Empty, Span::new(at + 1, 0), at + 1),
            };
            let key = decode_key(text.get(node_span.offset..node_span.offset + node_span.length)?);
            let span = span_between(node_span.offset, value_span.offset + value_span.length);
            if open == b'{' {
                entries.push(Entry {
                    key,
                    key_span: node_span,
                    value,
                    value_span,
                    span,
                });
            } else {
                items.push(Item {
                    value: Block::Scalar(span),
                    span,
                });
            }
            at = skip_flow_blanks(text, after_value);
        } else if open == b'{' {
            let key = decode_key(text.get(node_span.offset..node_span.offset + node_span.length)?);
            let value_span = Span::new(node_span.offset + node_span.length, 0);
            entries.push(Entry {
                key,
                key_span: node_span,
                value: Block::Empty,
                value_span,
                span: node_span,
            });
        } else {
            items.push(Item {
                value: node,
                span: node_span,
            });
        }
        match text.as_bytes().get(at).copied()? {
            b',' => at += 1,
            byte if byte == close => {
                at += 1;
                break;
            }
            _ => return None,
        }
    }
    // A growing vector keeps room for four entries; a layer's mapping of one or two takes less
    // (this held 0.4 KB a layer of a large description).
    let block = if open == b'{' {
        entries.shrink_to_fit();
        Block::Mapping(entries)
    } else {
        items.shrink_to_fit();
        Block::Sequence(items)
    };
    Some((block, at))
}

/// One node inside a flow collection: a nested collection, a quoted scalar or a plain scalar.
/// Returns the node, its span and where it ends. `None` when there is no node here.
fn flow_node(text: &str, at: usize, depth: usize) -> Option<(Block, Span, usize)> {
    let rest = text.get(at..)?;
    let first = rest.chars().next()?;
    match first {
        '{' | '[' => {
            let (block, end) = flow_collection(text, at, depth + 1)?;
            Some((block, span_between(at, end), end))
        }
        '"' | '\'' => {
            let (length, open) = scan_quoted(rest, first);
            if open {
                return None;
            }
            let span = Span::new(at, length);
            Some((Block::Scalar(span), span, at + length))
        }
        ',' | ']' | '}' | ':' | '#' => None,
        _ => {
            let mut end = at;
            let mut previous = ' ';
            let mut characters = rest.char_indices().peekable();
            while let Some((index, character)) = characters.next() {
                let following = characters.peek().map(|&(_, next)| next);
                let ends_here = matches!(character, ',' | ']' | '}')
                    || character == ':'
                        && following
                            .is_none_or(|next| next.is_whitespace() || ",]}".contains(next))
                    || character == '#' && previous.is_whitespace();
                if ends_here {
                    break;
                }
                if !character.is_whitespace() {
                    end = at + index + character.len_utf8();
                }
                previous = character;
            }
            let span = span_between(at, end);
            Some((Block::Scalar(span), span, end))
        }
    }
}

/// Skips blanks, line breaks and comments inside a flow collection.
fn skip_flow_blanks(text: &str, mut at: usize) -> usize {
    let mut after_blank = true;
    while let Some(character) = text.get(at..).and_then(|rest| rest.chars().next()) {
        if character == '#' && after_blank {
            let line_end = text[at..].find('\n').map_or(text.len(), |end| at + end);
            at = line_end;
        } else if character.is_whitespace() {
            after_blank = true;
            at += character.len_utf8();
        } else {
            break;
        }
    }
    at
}

fn span_between(start: usize, end: usize) -> Span {
    Span::new(start, end.saturating_sub(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn text_of(text: &str, span: Span) -> &str {
        &text[span.offset..span.offset + span.length]
    }

    const LENET: &str = "\
# LeNet
name: lenet-5   # the name
input: 32x32x1
layers:
  - name: C1
    kind: conv2d
    kernel: 5x5   # square
  - kind: conv2d
    table: |
      X..
      .X.

    inputs:
      - C1
  -   {kind: dense, units: 10}
expect: {params: 61706}
train:
  epochs: 12
";

    #[test]
    fn finds_top_level_keys_and_values() {
        let outline = Outline::new(LENET);
        let name = outline.root.entry("name").unwrap();
        assert_eq!(text_of(LENET, name.key_span), "name");
        assert_eq!(text_of(LENET, name.value_span), "lenet-5");
        let expect = outline.root.entry("expect").unwrap();
        assert_eq!(text_of(LENET, expect.value_span), "{params: 61706}");
        let train = outline.root.entry("train").unwrap();
        let epochs = train.value.entry("epochs").unwrap();
        assert_eq!(text_of(LENET, epochs.span), "epochs: 12");
        let keys: Vec<&str> = outline
            .root
            .entries()
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["name", "input", "layers", "expect", "train"]);
    }

    #[test]
    fn finds_layer_items_and_their_keys() {
        let outline = Outline::new(LENET);
        let layers = &outline.root.entry("layers").unwrap().value;
        let first = layers.item(0).unwrap();
        assert_eq!(
            text_of(LENET, first.span),
            "- name: C1\n    kind: conv2d\n    kernel: 5x5"
        );
        let kernel = first.value.entry("kernel").unwrap();
        assert_eq!(text_of(LENET, kernel.key_span), "kernel");
        assert_eq!(text_of(LENET, kernel.value_span), "5x5");
        let second = layers.item(1).unwrap();
        let table = second.value.entry("table").unwrap();
        assert_eq!(text_of(LENET, table.value_span), "|\n      X..\n      .X.");
        let inputs = second.value.entry("inputs").unwrap();
        assert_eq!(text_of(LENET, inputs.value.item(0).unwrap().span), "- C1");
        assert!(text_of(LENET, second.span).ends_with("- C1"));
        let third = layers.item(2).unwrap();
        assert_eq!(text_of(LENET, third.span), "-   {kind: dense, units: 10}");
        let units = third.value.entry("units").unwrap();
        assert_eq!(text_of(LENET, units.span), "units: 10");
        assert_eq!(text_of(LENET, units.value_span), "10");
        assert!(layers.item(3).is_none());
    }

    #[test]
    fn sequences_may_sit_at_their_key_column() {
        let text = "layers:\n- kind: input\n  shape: 5\n- kind: relu\nname: x\n";
        let outline = Outline::new(text);
        let layers = &outline.root.entry("layers").unwrap().value;
        assert_eq!(text_of(text, layers.item(1).unwrap().span), "- kind: relu");
        assert_eq!(
            text_of(
                text,
                layers.item(0).unwrap().value.entry("shape").unwrap().span
            ),
            "shape: 5"
        );
        assert!(outline.root.entry("name").is_some());
    }

    #[test]
    fn quoted_keys_and_values_with_hashes_and_colons() {
        let text = "\"a: b\": 'it''s # not a comment' # comment\nc: \"multi\n  line\" # x\nd: 1\nit's: a 'b # c\ne: [x, 'y]']\n";
        let outline = Outline::new(text);
        let quoted = outline.root.entry("a: b").unwrap();
        assert_eq!(text_of(text, quoted.value_span), "'it''s # not a comment'");
        let multi = outline.root.entry("c").unwrap();
        assert_eq!(text_of(text, multi.value_span), "\"multi\n  line\"");
        assert!(outline.root.entry("d").is_some());
        assert_eq!(
            text_of(text, outline.root.entry("it's").unwrap().value_span),
            "a 'b"
        );
        assert_eq!(
            text_of(text, outline.root.entry("e").unwrap().value_span),
            "[x, 'y]']"
        );
    }

    #[test]
    fn follows_flow_collections() {
        let text =
            "a: {b: [x, 'y, z', {c: 1}], \"d\": e f, g}\nh: [1,\n  2] # c\ni: [a: 1]\nj: {k: [}\n";
        let outline = Outline::new(text);
        let a = &outline.root.entry("a").unwrap().value;
        let b = a.entry("b").unwrap();
        assert_eq!(text_of(text, b.value_span), "[x, 'y, z', {c: 1}]");
        assert_eq!(text_of(text, b.value.item(1).unwrap().span), "'y, z'");
        let c = b.value.item(2).unwrap().value.entry("c").unwrap();
        assert_eq!(text_of(text, c.span), "c: 1");
        assert_eq!(text_of(text, a.entry("d").unwrap().value_span), "e f");
        assert_eq!(text_of(text, a.entry("g").unwrap().key_span), "g");
        let h = &outline.root.entry("h").unwrap().value;
        assert_eq!(text_of(text, h.item(1).unwrap().span), "2");
        let i = &outline.root.entry("i").unwrap().value;
        assert_eq!(text_of(text, i.item(0).unwrap().span), "a: 1");
        let j = outline.root.entry("j").unwrap();
        assert!(matches!(j.value, Block::Scalar(_)));
    }

    #[test]
    fn records_where_documents_start() {
        let text = "# c\na: 1\n---\nb: 2\n...\nc: 3\n";
        let outline = Outline::new(text);
        let starts: Vec<&str> = outline
            .document_starts
            .iter()
            .map(|&span| text_of(text, span))
            .collect();
        assert_eq!(starts, ["a: 1", "---", "c: 3"]);
        assert_eq!(Outline::new("---\na: 1\n").document_starts.len(), 1);
    }

    #[test]
    fn never_panics_on_odd_text() {
        for text in [
            "",
            "-",
            "- -",
            ":",
            "a:",
            "\"",
            "'",
            "|",
            "- |\n x",
            "\u{feff}",
            "é: é\n  - ",
            "a: [1,\n2]\nb: 1",
        ] {
            let _ = Outline::new(text);
        }
    }

    fn collect_spans(block: &Block, spans: &mut Vec<Span>) {
        match block {
            Block::Mapping(entries) => {
                for entry in entries {
                    spans.extend([entry.key_span, entry.value_span, entry.span]);
                    collect_spans(&entry.value, spans);
                }
            }
            Block::Sequence(items) => {
                for item in items {
                    spans.push(item.span);
                    collect_spans(&item.value, spans);
                }
            }
            Block::Scalar(span) => spans.push(*span),
            Block::Empty => {}
        }
    }

    const FRAGMENTS: [&str; 24] = [
        "a:", "b: ", "- ", "-", " ", "  ", "\n", "\n  ", "[", "]", "{", "}", ",", ":", "|", ">",
        "'", "\"", "#", "---\n", "\\", "x", "é", "\t",
    ];

    proptest::proptest! {
        #[test]
        fn spans_stay_inside_the_text(
            text in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                proptest::collection::vec(proptest::sample::select(FRAGMENTS.to_vec()), 0..40)
                    .prop_map(|pieces| pieces.concat()),
            ]
        ) {
            let outline = Outline::new(&text);
            let mut spans = outline.document_starts.clone();
            collect_spans(&outline.root, &mut spans);
            for span in spans {
                let end = span.offset + span.length;
                proptest::prop_assert!(end <= text.len(), "{:?} outside {:?}", span, text);
                proptest::prop_assert!(text.is_char_boundary(span.offset) && text.is_char_boundary(end));
            }
        }
    }
}

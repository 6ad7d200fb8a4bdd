//! The description as written, shared by both formats: a network name, options and a list of layer
//! declarations with untyped attributes. Nothing here knows what a layer kind means.

use crate::source::{Span, Spanned};

/// One network as written in YAML or in the DSL. Both readers produce this, both printers take it,
/// and `convert` between the formats is the identity on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Description {
    /// The network's name (`network NAME` / `name:`).
    pub name: Option<Spanned<String>>,
    /// Free text about the network, e.g. where its numbers come from (`about "…"` / `about:`).
    pub about: Option<Spanned<String>>,
    /// What to do when an output size is not an integer (`rounding floor` / `rounding:`).
    pub rounding: Option<Spanned<String>>,
    /// Whose counting conventions the network follows, `keras` or `pytorch`
    /// (`conventions pytorch` / `conventions:`).
    pub conventions: Option<Spanned<String>>,
    /// Layers in the order written.
    pub layers: Vec<LayerDecl>,
    /// Assertions on the network's totals (`expect …` / `expect:`).
    pub expect: Vec<Attribute>,
    /// Training settings (`train …` / `train:`), read by the trainer.
    pub train: Vec<Attribute>,
}

/// One layer as written: an optional name, a kind, attributes, optional explicit inputs and
/// optional assertions on the computed results.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerDecl {
    /// `C1` in `C1: conv2d …`; unnamed layers get a generated name in the graph.
    pub name: Option<Spanned<String>>,
    /// The layer kind, e.g. `conv2d`, exactly as written.
    pub kind: Spanned<String>,
    /// Values written without a key (DSL only), in order. [`crate::layers::name_positionals`]
    /// turns them into keyed attributes using the kind's positional keys.
    pub positionals: Vec<Spanned<Value>>,
    /// Keyed attributes in the order written.
    pub attributes: Vec<Attribute>,
    /// Names of the layers this one reads; empty means "the previous layer".
    pub inputs: Vec<Spanned<String>>,
    /// Assertions on this layer's computed results.
    pub expect: Vec<Attribute>,
    /// The whole declaration.
    pub span: Span,
}

impl LayerDecl {
    /// A declaration of `kind` with nothing else, as built in code.
    pub fn new(kind: &str) -> LayerDecl {
        LayerDecl {
            name: None,
            kind: Spanned::unspanned(kind.to_string()),
            positionals: Vec::new(),
            attributes: Vec::new(),
            inputs: Vec::new(),
            expect: Vec::new(),
            span: Span::default(),
        }
    }

    /// The attribute with this key, if written.
    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.key.value == key)
    }
}

/// `key=value` (DSL) or `key: value` (YAML).
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The key as written.
    pub key: Spanned<String>,
    /// The value.
    pub value: Spanned<Value>,
}

impl Attribute {
    /// An attribute built in code.
    pub fn new(key: &str, value: Value) -> Attribute {
        Attribute {
            key: Spanned::unspanned(key.to_string()),
            value: Spanned::unspanned(value),
        }
    }
}

/// An untyped attribute value. Layers interpret values through `layers::attributes`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `5`, `-1`.
    Integer(i64),
    /// `0.5`, `1e-4`.
    Number(f64),
    /// `true` / `false`.
    Boolean(bool),
    /// Text: `relu`, `same`, `"Le Cun"`. Quotes only delimit text; a text never reads as one of
    /// the other variants (see [`Value::from_text`]).
    Text(String),
    /// Sizes: `5x5`, `28x28x6`, and `6@28x28` (maps@height×width), stored height, width, channels.
    Dims(Vec<u64>),
    /// A connection table: `grid[i][j]` is true when input map `i` feeds output map `j`
    /// (rows are input maps, as in LeCun et al. 1998, Table I).
    Grid(Vec<Vec<bool>>),
    /// `[a, b, c]`.
    List(Vec<Value>),
}

impl Value {
    /// A short name of the value's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Integer(_) => "an integer",
            Value::Number(_) => "a number",
            Value::Boolean(_) => "a boolean",
            Value::Text(_) => "a string",
            Value::Dims(_) => "sizes",
            Value::Grid(_) => "a connection table",
            Value::List(_) => "a list",
        }
    }
}

impl Value {
    /// The value a piece of text stands for, whichever format it came from and whether or not it
    /// was quoted: `12` is an integer, `0.5` a number, `true` a boolean, `5x5`, `28x28x6` and
    /// `6@28x28` are sizes, lines of `X` and `.` (with at least one line break) are a connection
    /// table, and anything else is text. Both readers classify scalars with this one function, so
    /// a value means the same in YAML and in the DSL and converting loses nothing.
    pub fn from_text(text: &str) -> Value {
        if let Some(grid) = parse_grid(text) {
            return Value::Grid(grid);
        }
        let trimmed = text.trim();
        if trimmed != text || trimmed.is_empty() {
            return Value::Text(text.to_string());
        }
        match trimmed {
            "true" => return Value::Boolean(true),
            "false" => return Value::Boolean(false),
            _ => {}
        }
        if let Some(dims) = parse_dims(trimmed) {
            return Value::Dims(dims);
        }
        if is_integer_literal(trimmed) {
            if let Ok(integer) = trimmed.parse::<i64>() {
                return Value::Integer(integer);
            }
            return Value::Text(text.to_string());
        }
        if is_number_literal(trimmed)
            && let Ok(number) = trimmed.parse::<f64>()
            && number.is_finite()
        {
            return Value::Number(number);
        }
        Value::Text(text.to_string())
    }
}

fn is_integer_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `1.5`, `-0.25`, `1e-4`, `2.5E+3`: digits with a fraction or an exponent (no `inf`, `nan`).
fn is_number_literal(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && !(whole.is_empty() && fraction.is_none_or(str::is_empty));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (fraction.is_some() || exponent.is_some())
}

/// `5x5`, `28x28x6` (height, width, channels) or `6@28x28` (maps@height×width).
pub(crate) fn parse_dims(text: &str) -> Option<Vec<u64>> {
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (maps, sizes) = match text.split_once('@') {
        Some((maps, sizes)) => (Some(number(maps)?), sizes),
        None => (None, text),
    };
    let mut dims = sizes
        .split(['x', '×'])
        .map(number)
        .collect::<Option<Vec<u64>>>()?;
    match maps {
        Some(maps) if dims.len() == 2 => {
            dims.push(maps);
            Some(dims)
        }
        None if dims.len() >= 2 => Some(dims),
        _ => None,
    }
}

/// Rows of `X` (connected) and `.` (not connected), one per line, all of one length, with at
/// least one line break in the text.
pub(crate) fn parse_grid(text: &str) -> Option<Vec<Vec<bool>>> {
    if !text.contains('\n') {
        return None;
    }
    let rows: Vec<Vec<bool>> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.chars()
                .map(|c| match c {
                    'X' | 'x' => Some(true),
                    '.' => Some(false),
                    _ => None,
                })
                .collect::<Option<Vec<bool>>>()
        })
        .collect::<Option<_>>()?;
    let width = rows.first()?.len();
    rows.iter().all(|row| row.len() == width).then_some(rows)
}

/// The text form of a grid: one row per line, `X` and `.`, each line ending in a line break.
pub fn grid_text(grid: &[Vec<bool>]) -> String {
    let mut text = String::new();
    for row in grid {
        text.extend(row.iter().map(|&on| if on { 'X' } else { '.' }));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_classified_the_same_in_both_formats() {
        assert_eq!(Value::from_text("12"), Value::Integer(12));
        assert_eq!(Value::from_text("-3"), Value::Integer(-3));
        assert_eq!(Value::from_text("0.5"), Value::Number(0.5));
        assert_eq!(Value::from_text("1e-4"), Value::Number(1e-4));
        assert_eq!(Value::from_text("true"), Value::Boolean(true));
        assert_eq!(Value::from_text("5x5"), Value::Dims(vec![5, 5]));
        assert_eq!(Value::from_text("28x28x6"), Value::Dims(vec![28, 28, 6]));
        assert_eq!(Value::from_text("6@28x28"), Value::Dims(vec![28, 28, 6]));
        assert_eq!(Value::from_text("relu"), Value::Text("relu".into()));
        assert_eq!(Value::from_text("x5"), Value::Text("x5".into()));
        assert_eq!(Value::from_text("inf"), Value::Text("inf".into()));
        assert_eq!(Value::from_text("."), Value::Text(".".into()));
        assert_eq!(
            Value::from_text("X.\n.X\n"),
            Value::Grid(vec![vec![true, false], vec![false, true]])
        );
        assert_eq!(
            Value::from_text("X.\n.X.\n"),
            Value::Text("X.\n.X.\n".into())
        );
        assert_eq!(
            Value::from_text("99999999999999999999"),
            Value::Text("99999999999999999999".into())
        );
    }

    #[test]
    fn grid_text_reads_back() {
        let grid = vec![vec![true, false, true]];
        assert_eq!(Value::from_text(&grid_text(&grid)), Value::Grid(grid));
    }
}

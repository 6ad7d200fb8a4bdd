//! The description as written, shared by both formats: a network name, options, parameters, a
//! list of layer declarations and repeated blocks with untyped attributes, and a sweep grid.
//! Nothing here knows what a layer kind means.

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
    /// Parameters and their default values (`let NAME=VALUE …` / `let:`), in the order written.
    /// References (`$NAME`) elsewhere stand for their values; see [`crate::syntax::instantiate()`].
    pub parameters: Vec<Attribute>,
    /// Whose counting conventions the network follows, `keras` or `pytorch`
    /// (`conventions pytorch` / `conventions:`).
    pub conventions: Option<Spanned<String>>,
    /// Layers and repeated blocks in the order written.
    pub layers: Vec<Item>,
    /// Assertions on the network's totals (`expect …` / `expect:`).
    pub expect: Vec<Attribute>,
    /// Training settings (`train …` / `train:`), read by the trainer.
    pub train: Vec<Attribute>,
    /// The sweep grid (`sweep NAME=LIST …` / `sweep:`): candidate values per parameter, in the
    /// order written. See [`crate::syntax::Grid`].
    pub sweep: Vec<Attribute>,
}

impl Description {
    /// The `let` parameter with this name, if declared.
    pub fn parameter(&self, name: &str) -> Option<&Attribute> {
        self.parameters
            .iter()
            .find(|parameter| parameter.key.value == name)
    }

    /// Every layer declaration, those inside repeated blocks included, in the order written.
    pub fn all_layers(&self) -> Vec<&LayerDecl> {
        let mut layers = Vec::new();
        collect_layers(&self.layers, &mut layers);
        layers
    }

    /// Every layer declaration, those inside repeated blocks included, for changing in place.
    pub fn all_layers_mut(&mut self) -> Vec<&mut LayerDecl> {
        let mut layers = Vec::new();
        collect_layers_mut(&mut self.layers, &mut layers);
        layers
    }

    /// The layers of a description without repeated blocks (as [`crate::syntax::instantiate()`]
    /// returns it), in order; `None` when a repeated block is left.
    pub fn plain_layers(&self) -> Option<Vec<&LayerDecl>> {
        self.layers
            .iter()
            .map(|item| match item {
                Item::Layer(layer) => Some(layer),
                Item::Repeat(_) => None,
            })
            .collect()
    }
}

fn collect_layers<'d>(items: &'d [Item], layers: &mut Vec<&'d LayerDecl>) {
    for item in items {
        match item {
            Item::Layer(layer) => layers.push(layer),
            Item::Repeat(repeat) => collect_layers(&repeat.body, layers),
        }
    }
}

fn collect_layers_mut<'d>(items: &'d mut [Item], layers: &mut Vec<&'d mut LayerDecl>) {
    for item in items {
        match item {
            Item::Layer(layer) => layers.push(layer),
            Item::Repeat(repeat) => collect_layers_mut(&mut repeat.body, layers),
        }
    }
}

/// An entry of a description's layer list: a layer, or a block of layers repeated.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// One layer.
    Layer(LayerDecl),
    /// `repeat COUNT_OR_LIST [as VARIABLE]` and its body.
    Repeat(Repeat),
}

impl From<LayerDecl> for Item {
    fn from(layer: LayerDecl) -> Item {
        Item::Layer(layer)
    }
}

/// A repeated block as written: DSL `repeat 3 as block` with the body indented below it, YAML
/// `{repeat: 3, as: block, layers: [...]}`. [`crate::syntax::instantiate()`] expands it.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    /// How often, or over what: a count, a list, or a reference to one (`$filters`).
    pub over: Spanned<Value>,
    /// The loop variable (`as block`): bound to the copy index (over a count) or to the list's
    /// element (over a list), and the prefix of the copies' layer names (`block.0.conv`).
    pub variable: Option<Spanned<String>>,
    /// The layers and nested blocks of one copy, in order.
    pub body: Vec<Item>,
    /// The header (`repeat 3 as block` / the item's `repeat:` entry).
    pub span: Span,
}

impl Repeat {
    /// A repeated block built in code: over `over`, with this loop variable, around `body`.
    pub fn new(over: Value, variable: Option<String>, body: Vec<Item>) -> Repeat {
        Repeat {
            over: Spanned::unspanned(over),
            variable: variable.map(Spanned::unspanned),
            body,
            span: Span::default(),
        }
    }
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
    /// For a layer of an expanded description: the copies of repeated blocks it belongs to.
    pub copies: Copies,
}

/// Which copy of which repeated block a layer of an expanded description belongs to, outermost
/// block first; empty for a layer written outside any `repeat` (and in every description as
/// read). [`crate::syntax::instantiate()`] records it, so that reports can show a repeated block
/// as one ("block × 3"). Like a span, it says where a layer comes from, not what it is: it
/// compares equal whatever it holds, so descriptions still compare by content.
#[derive(Debug, Clone, Default)]
pub struct Copies(pub Vec<CopyOf>);

impl PartialEq for Copies {
    fn eq(&self, _: &Copies) -> bool {
        true
    }
}

/// One repeated block a layer belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOf {
    /// Tells the block apart: the repeats' expansions numbered in the order they begin (the
    /// same `repeat` nested in another one gives one block per copy of the outer one).
    pub block: usize,
    /// The block's loop variable (`as block`), if it has one.
    pub variable: Option<String>,
    /// Which copy, from 0.
    pub copy: usize,
    /// How many copies the block has.
    pub count: usize,
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
            copies: Copies::default(),
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
    /// `$name`: the value of a parameter or loop variable, substituted by
    /// [`crate::syntax::instantiate()`]. The name is an identifier.
    Reference(String),
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
            Value::Reference(_) => "a reference",
        }
    }
}

impl Value {
    /// The value a piece of text stands for, whichever format it came from and whether or not it
    /// was quoted: `12` is an integer, `0.5` a number, `true` a boolean, `5x5`, `28x28x6` and
    /// `6@28x28` are sizes, lines of `X` and `.` (with at least one line break) are a connection
    /// table, `$name` (an identifier after `$`) is a reference, and anything else is text. Both
    /// readers classify scalars with this one function, so a value means the same in YAML and in
    /// the DSL and converting loses nothing. Text that starts with `$` but is no reference is
    /// returned as text here; both readers refuse it ([`is_malformed_reference`]). Tokens
    /// written without quotes first pass [`super::bare::read`], which refuses other notations.
    pub fn from_text(text: &str) -> Value {
        if let Some(grid) = parse_grid(text) {
            return Value::Grid(grid);
        }
        if let Some(name) = text.strip_prefix('$')
            && is_identifier(name)
        {
            return Value::Reference(name.to_string());
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

/// Whether a text that [`Value::from_text`] keeps as text starts with `$`: a reference that is
/// not one (`$5`, `$`, `$a b`). Both readers refuse such text rather than keep it, so that a
/// misspelt reference never passes as a string.
pub fn is_malformed_reference(text: &str) -> bool {
    text.starts_with('$') && !matches!(Value::from_text(text), Value::Reference(_))
}

/// Whether `text` is an identifier: `[A-Za-z_][A-Za-z0-9_.-]*` (GRAMMAR.md), as parameter and
/// loop variable names must be.
pub fn is_identifier(text: &str) -> bool {
    let mut characters = text.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `12`, `-3`, `+5`, `0`: decimal digits with an optional sign and no leading zero (`017` is
/// octal to YAML 1.1, so it is not read as 17).
fn is_integer_literal(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `1.5`, `-0.25`, `+2.`, `1e-4`, `2.5E+3`: digits with a fraction or an exponent (no `inf`,
/// `nan`).
fn is_number_literal(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
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

/// `5x5`, `28x28x6` (height, width, channels) or `6@28x28` (maps@height×width). `0x10` is a
/// hexadecimal number to YAML, not sizes.
pub(crate) fn parse_dims(text: &str) -> Option<Vec<u64>> {
    if super::bare::radix(text).is_some() {
        return None;
    }
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
    let rows: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if rows.is_empty() {
        return None;
    }
    super::bare::grid_rows(&rows).ok()
}

/// The text form of sizes: `28x28x6`, or `0×16` where `0x16` would be a hexadecimal number.
pub fn dims_text(dims: &[u64]) -> String {
    let sizes: Vec<String> = dims.iter().map(u64::to_string).collect();
    let text = sizes.join("x");
    if super::bare::radix(&text).is_some() {
        sizes.join("×")
    } else {
        text
    }
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
        assert_eq!(Value::from_text("+5"), Value::Integer(5));
        assert_eq!(Value::from_text("+0.5"), Value::Number(0.5));
        assert_eq!(Value::from_text("0"), Value::Integer(0));
        // Quoted, these are text in both formats (bare, they are refused: `bare::read`).
        assert_eq!(Value::from_text("017"), Value::Text("017".into()));
        assert_eq!(Value::from_text("0x10"), Value::Text("0x10".into()));
        assert_eq!(Value::from_text("0x3"), Value::Text("0x3".into()));
        assert_eq!(Value::from_text("0x3x3"), Value::Dims(vec![0, 3, 3]));
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
        assert_eq!(
            Value::from_text("$kernel_size"),
            Value::Reference("kernel_size".into())
        );
        assert_eq!(Value::from_text("$a.b-c"), Value::Reference("a.b-c".into()));
        assert_eq!(Value::from_text("$5"), Value::Text("$5".into()));
        assert_eq!(Value::from_text(" $x"), Value::Text(" $x".into()));
    }

    #[test]
    fn a_dollar_that_starts_no_reference_is_malformed() {
        for text in ["$", "$5", "$-x", "$a b", "$x/2", "$é"] {
            assert!(is_malformed_reference(text), "{text:?}");
        }
        for text in ["$x", "x$", "a $x", " $x", "5"] {
            assert!(!is_malformed_reference(text), "{text:?}");
        }
    }

    #[test]
    fn grid_text_reads_back() {
        let grid = vec![vec![true, false, true]];
        assert_eq!(Value::from_text(&grid_text(&grid)), Value::Grid(grid));
    }
}

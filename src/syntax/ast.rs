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
    /// A bare identifier: `relu`, `same`, `valid`.
    Word(String),
    /// A quoted string.
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
            Value::Word(_) => "a word",
            Value::Text(_) => "a string",
            Value::Dims(_) => "sizes",
            Value::Grid(_) => "a connection table",
            Value::List(_) => "a list",
        }
    }
}

//! Building the description an importer returns: layers in order, each reading the layer before
//! it unless it names its inputs, as a written description would.

use crate::source::Spanned;
use crate::syntax::{Attribute, Description, Item, LayerDecl, Value};

/// A description being built, layer by layer.
#[derive(Debug, Default)]
pub struct Builder {
    description: Description,
    /// The name of the last layer added.
    last: Option<String>,
}

/// One layer being added.
pub struct Layer<'b> {
    builder: &'b mut Builder,
    decl: LayerDecl,
}

impl Builder {
    /// A description named `name`, with `about` saying where it comes from.
    pub fn new(name: &str, about: String) -> Builder {
        let mut builder = Builder::default();
        builder.description.name = Some(Spanned::unspanned(name.to_string()));
        builder.description.about = Some(Spanned::unspanned(about));
        builder
    }

    /// Starts a layer of `kind` named `name`.
    pub fn layer(&mut self, name: &str, kind: &str) -> Layer<'_> {
        let mut decl = LayerDecl::new(kind);
        decl.name = Some(Spanned::unspanned(name.to_string()));
        Layer {
            builder: self,
            decl,
        }
    }

    /// The name of the last layer added.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }

    /// Whether a layer of this name was added.
    pub fn has(&self, name: &str) -> bool {
        self.description
            .layers
            .iter()
            .any(|item| matches!(item, Item::Layer(layer) if layer.name.as_ref().is_some_and(|n| n.value == name)))
    }

    /// The layer of this name, to change an attribute after it was added (an input's
    /// vocabulary, known only from the embedding that reads it).
    pub fn layer_mut(&mut self, name: &str) -> Option<&mut LayerDecl> {
        self.description
            .layers
            .iter_mut()
            .find_map(|item| match item {
                Item::Layer(layer) if layer.name.as_ref().is_some_and(|n| n.value == name) => {
                    Some(layer)
                }
                _ => None,
            })
    }

    /// Adds `count` copies of the layers of `body` (a builder of its own, whose layer names are
    /// those of one copy) as `repeat COUNT as VARIABLE`: copy i's layer `x` is `VARIABLE.i.x`.
    /// The layer after the block reads the last layer of the last copy unless it names its inputs.
    pub fn repeat(&mut self, count: u64, variable: &str, body: Builder) {
        let over = Value::Integer(i64::try_from(count).unwrap_or(i64::MAX));
        self.description
            .layers
            .push(Item::Repeat(crate::syntax::Repeat::new(
                over,
                Some(variable.to_string()),
                body.description.layers,
            )));
        self.last = None;
    }

    /// The description built.
    pub fn finish(self) -> Description {
        self.description
    }
}

impl Layer<'_> {
    /// Sets an attribute.
    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.decl.attributes.push(Attribute::new(key, value));
        self
    }

    /// Sets an attribute when there is a value.
    pub fn set_some(self, key: &str, value: Option<Value>) -> Self {
        match value {
            Some(value) => self.set(key, value),
            None => self,
        }
    }

    /// Reads these layers, in order; none, or the one layer added just before, is the default
    /// and is not written.
    pub fn inputs(mut self, inputs: &[String]) -> Self {
        let implicit = match inputs {
            [] => true,
            [only] => self.builder.last.as_deref() == Some(only.as_str()),
            _ => false,
        };
        if !implicit {
            self.decl.inputs = inputs
                .iter()
                .map(|name| Spanned::unspanned(name.clone()))
                .collect();
        }
        self
    }

    /// Adds the layer.
    pub fn add(self) {
        let name = self.decl.name.as_ref().map(|name| name.value.clone());
        self.builder.description.layers.push(Item::Layer(self.decl));
        self.builder.last = name;
    }
}

/// A shape as a value: one size is an integer (a vector's length), several are `HxW…`.
pub fn shape(values: &[u64]) -> Value {
    match values {
        [one] => integer(*one),
        _ => Value::Dims(values.to_vec()),
    }
}

/// A window (kernel, pool size, stride) as a value: equal sizes are one integer (`3` for 3×3),
/// others `HxW`.
pub fn window(values: &[u64]) -> Value {
    match values {
        [first, rest @ ..] if rest.iter().all(|value| value == first) => integer(*first),
        _ => Value::Dims(values.to_vec()),
    }
}

/// A count as a value.
pub fn integer(value: u64) -> Value {
    Value::Integer(value.min(i64::MAX as u64) as i64)
}

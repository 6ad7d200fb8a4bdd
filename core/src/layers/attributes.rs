//! Typed reading of a declaration's untyped attributes. Each layer kind asks for the keys it knows;
//! whatever it did not ask for is reported as unknown, with the closest known key.

use crate::error::Locate;
use crate::source::{Span, Spanned};
use crate::syntax::{Attribute, LayerDecl, Value};

/// A declaration that names an unknown kind or gives a kind bad attributes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeclarationError {
    /// No such layer kind.
    #[error("unknown layer kind `{kind}`")]
    UnknownKind {
        /// As written.
        kind: String,
        /// The closest known kind.
        suggestion: Option<String>,
        /// The kind's span.
        span: Span,
    },
    /// The kind has no such attribute.
    #[error("`{kind}` has no attribute `{key}`")]
    UnknownAttribute {
        /// The layer kind.
        kind: &'static str,
        /// The key as written.
        key: String,
        /// The closest known key.
        suggestion: Option<String>,
        /// Every key the kind knows.
        known: Vec<&'static str>,
        /// The key's span.
        span: Span,
    },
    /// A required attribute is missing.
    #[error("`{kind}` needs the attribute `{key}`")]
    Missing {
        /// The layer kind.
        kind: &'static str,
        /// The missing key.
        key: &'static str,
        /// The declaration's span.
        span: Span,
    },
    /// The value has the wrong type or range.
    #[error("`{key}` {expected}, got {found}")]
    Invalid {
        /// The key.
        key: String,
        /// What it must be, e.g. "must be a positive integer".
        expected: String,
        /// What was written, described.
        found: String,
        /// The value's span.
        span: Span,
    },
    /// An attribute given twice (positionally and by key).
    #[error("`{key}` is given twice")]
    Duplicate {
        /// The key.
        key: String,
        /// The second occurrence.
        span: Span,
    },
    /// More values without a key than the kind has positional keys.
    #[error("too many values for `{kind}`: {}", takes(keys))]
    TooManyValues {
        /// The kind.
        kind: &'static str,
        /// Its positional keys.
        keys: &'static [&'static str],
        /// The first surplus value.
        span: Span,
    },
}

impl Locate for DeclarationError {
    fn span(&self) -> Span {
        match self {
            DeclarationError::UnknownKind { span, .. }
            | DeclarationError::UnknownAttribute { span, .. }
            | DeclarationError::Missing { span, .. }
            | DeclarationError::Invalid { span, .. }
            | DeclarationError::Duplicate { span, .. }
            | DeclarationError::TooManyValues { span, .. } => *span,
        }
    }

    fn label(&self) -> String {
        match self {
            DeclarationError::UnknownKind { .. } => "unknown kind".to_string(),
            DeclarationError::UnknownAttribute { .. } => "unknown attribute".to_string(),
            DeclarationError::Missing { key, .. } => format!("no `{key}` here"),
            DeclarationError::Invalid { .. } => "invalid value".to_string(),
            DeclarationError::Duplicate { .. } => "given again".to_string(),
            DeclarationError::TooManyValues { .. } => "surplus value".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            DeclarationError::UnknownKind { suggestion, .. } => Some(match suggestion {
                Some(kind) => format!("did you mean `{kind}`? (`netcalc list --kinds` shows all)"),
                None => "`netcalc list --kinds` shows the layer kinds".to_string(),
            }),
            DeclarationError::UnknownAttribute {
                suggestion, known, ..
            } => Some(match suggestion {
                Some(key) => format!("did you mean `{key}`?"),
                None if known.is_empty() => "this kind takes no attributes".to_string(),
                None => format!("known attributes: {}", known.join(", ")),
            }),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DeclarationError::UnknownKind { .. } => "netcalc::layer::unknown_kind",
            DeclarationError::UnknownAttribute { .. } => "netcalc::layer::unknown_attribute",
            DeclarationError::Missing { .. } => "netcalc::layer::missing_attribute",
            DeclarationError::Invalid { .. } => "netcalc::layer::invalid_attribute",
            DeclarationError::Duplicate { .. } => "netcalc::layer::duplicate_attribute",
            DeclarationError::TooManyValues { .. } => "netcalc::layer::too_many_values",
        }
    }
}

/// Keys every layer kind takes, whose meaning is the graph's, not the kind's: `auxiliary`
/// ([`super::is_auxiliary`]).
pub const COMMON_KEYS: [&str; 1] = [super::AUXILIARY];

/// Reads a declaration's attributes for one kind, remembering which keys the kind knows.
pub struct AttributeReader<'d> {
    decl: &'d LayerDecl,
    kind: &'static str,
    known: Vec<&'static str>,
    rounding: Option<crate::shape::Rounding>,
    conventions: Option<crate::conventions::Conventions>,
}

type Read<T> = Result<Option<T>, DeclarationError>;

impl<'d> AttributeReader<'d> {
    /// A reader over `decl` for the kind `kind`.
    pub fn new(decl: &'d LayerDecl, kind: &'static str) -> AttributeReader<'d> {
        AttributeReader {
            decl,
            kind,
            known: Vec::new(),
            rounding: None,
            conventions: None,
        }
    }

    /// The same reader, for a layer of a network whose rounding rule is `rounding`.
    pub fn in_network(self, rounding: crate::shape::Rounding) -> AttributeReader<'d> {
        AttributeReader {
            rounding: Some(rounding),
            ..self
        }
    }

    /// The rounding rule of the network the layer is in, when known.
    pub fn network_rounding(&self) -> Option<crate::shape::Rounding> {
        self.rounding
    }

    /// The same reader, for a layer of a network that follows `conventions`.
    pub fn with_conventions(
        self,
        conventions: crate::conventions::Conventions,
    ) -> AttributeReader<'d> {
        AttributeReader {
            conventions: Some(conventions),
            ..self
        }
    }

    /// The conventions of the network the layer is in, when known.
    pub fn network_conventions(&self) -> Option<crate::conventions::Conventions> {
        self.conventions
    }

    /// The layer's own `conventions=keras|pytorch`, else its network's, else Keras'.
    pub fn conventions(&mut self) -> Result<crate::conventions::Conventions, DeclarationError> {
        let own = self
            .choice("conventions", &crate::conventions::Conventions::NAMES)?
            .and_then(crate::conventions::Conventions::from_name);
        Ok(own.or(self.conventions).unwrap_or_default())
    }

    /// The raw value of `key`, marking the key as known.
    pub fn value(&mut self, key: &'static str) -> Option<&'d Spanned<Value>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        self.decl.attribute(key).map(|attribute| &attribute.value)
    }

    /// An error for `key`'s value.
    pub fn invalid(&self, key: &str, value: &Spanned<Value>, expected: &str) -> DeclarationError {
        DeclarationError::Invalid {
            key: key.to_string(),
            expected: expected.to_string(),
            found: describe(&value.value),
            span: value.span,
        }
    }

    /// An error for a missing `key`.
    pub fn missing(&self, key: &'static str) -> DeclarationError {
        DeclarationError::Missing {
            kind: self.kind,
            key,
            span: self.decl.kind.span,
        }
    }

    /// A positive integer (sizes, counts: 0 and negatives are errors).
    pub fn count(&mut self, key: &'static str) -> Read<u64> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match value.value {
            Value::Integer(n) if n > 0 => Ok(Some(n as u64)),
            _ => Err(self.invalid(key, value, "must be a positive integer")),
        }
    }

    /// A positive integer that must be given.
    pub fn required_count(&mut self, key: &'static str) -> Result<u64, DeclarationError> {
        self.count(key)?.ok_or_else(|| self.missing(key))
    }

    /// An integer ≥ 0.
    pub fn non_negative(&mut self, key: &'static str) -> Read<u64> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match value.value {
            Value::Integer(n) if n >= 0 => Ok(Some(n as u64)),
            _ => Err(self.invalid(key, value, "must be an integer ≥ 0")),
        }
    }

    /// A height×width pair of positive integers: `3` means `3x3`, `3x5` means height 3, width 5.
    pub fn pair(&mut self, key: &'static str) -> Read<[u64; 2]> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match &value.value {
            Value::Integer(n) if *n > 0 => Ok(Some([*n as u64, *n as u64])),
            Value::Dims(dims) if dims.len() == 2 && dims.iter().all(|&d| d > 0) => {
                Ok(Some([dims[0], dims[1]]))
            }
            _ => Err(self.invalid(key, value, "must be a positive integer or HxW")),
        }
    }

    /// One positive integer per position axis of a window: for 2 axes as [`Self::pair`] reads
    /// them, for 1 axis a positive integer.
    pub fn lengths(&mut self, key: &'static str, axes: usize) -> Read<crate::shape::Axes<u64>> {
        if axes == 2 {
            return Ok(self.pair(key)?.map(crate::shape::Axes::from));
        }
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match &value.value {
            Value::Integer(n) if *n > 0 => Ok(Some(crate::shape::Axes::filled(axes, *n as u64))),
            Value::Dims(dims) if dims.len() == axes && dims.iter().all(|&d| d > 0) => {
                Ok(crate::shape::Axes::from_slice(dims))
            }
            _ => Err(self.invalid(key, value, "must be a positive integer")),
        }
    }

    /// A real number (integers accepted).
    pub fn number(&mut self, key: &'static str) -> Read<f64> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match value.value {
            Value::Integer(n) => Ok(Some(n as f64)),
            Value::Number(x) => Ok(Some(x)),
            _ => Err(self.invalid(key, value, "must be a number")),
        }
    }

    /// A real number (integers accepted) that `accept` allows; `expected` says which, e.g.
    /// "must be a number ≥ 0", and is also the message for a value that is not a number.
    pub fn number_where(
        &mut self,
        key: &'static str,
        expected: &str,
        accept: fn(f64) -> bool,
    ) -> Read<f64> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match value.value {
            Value::Integer(n) if accept(n as f64) => Ok(Some(n as f64)),
            Value::Number(x) if accept(x) => Ok(Some(x)),
            _ => Err(self.invalid(key, value, expected)),
        }
    }

    /// `true` or `false`.
    pub fn boolean(&mut self, key: &'static str) -> Read<bool> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match value.value {
            Value::Boolean(b) => Ok(Some(b)),
            _ => Err(self.invalid(key, value, "must be true or false")),
        }
    }

    /// The name of another layer of the network (`tied_to: wte`): text, or an identifier.
    pub fn layer_name(&mut self, key: &'static str) -> Read<Spanned<String>> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match &value.value {
            Value::Text(text) => Ok(Some(Spanned::new(text.clone(), value.span))),
            _ => Err(self.invalid(key, value, "must be a layer's name")),
        }
    }

    /// One of a fixed set of words.
    pub fn choice(&mut self, key: &'static str, options: &[&'static str]) -> Read<&'static str> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        if let Value::Text(text) = &value.value
            && let Some(option) = options.iter().find(|option| **option == text)
        {
            return Ok(Some(option));
        }
        let expected = format!("must be one of {}", options.join(", "));
        Err(self.invalid(key, value, &expected))
    }

    /// A shape: `28x28x1`, `1@28x28`, a list of positive integers, or one positive integer.
    pub fn dims(&mut self, key: &'static str) -> Read<Vec<u64>> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        let dims = match &value.value {
            Value::Dims(dims) => Some(dims.clone()),
            Value::Integer(n) if *n > 0 => Some(vec![*n as u64]),
            Value::List(items) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::Integer(n) if *n > 0 => Some(*n as u64),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match dims {
            Some(dims) if dims.iter().all(|&d| d > 0) => Ok(Some(dims)),
            _ => Err(self.invalid(
                key,
                value,
                "must be a shape of positive sizes, e.g. 28x28x1",
            )),
        }
    }

    /// A connection table (rows: input maps, columns: output maps), all rows of one length. Both
    /// readers only make such tables, but a description built in code may hold any.
    pub fn grid(&mut self, key: &'static str) -> Read<Vec<Vec<bool>>> {
        let Some(value) = self.value(key) else {
            return Ok(None);
        };
        match &value.value {
            Value::Grid(grid)
                if grid
                    .iter()
                    .all(|row| Some(row.len()) == grid.first().map(Vec::len)) =>
            {
                Ok(Some(grid.clone()))
            }
            _ => Err(self.invalid(key, value, "must be a table of X and . rows of one length")),
        }
    }

    /// Fails on the first attribute the kind did not ask for and that is not one of the keys
    /// every kind takes ([`COMMON_KEYS`]; they are suggested for misspellings but not listed).
    pub fn finish(self) -> Result<(), DeclarationError> {
        let unknown: Option<&Attribute> = self.decl.attributes.iter().find(|attribute| {
            let key = attribute.key.value.as_str();
            !self.known.contains(&key) && !COMMON_KEYS.contains(&key)
        });
        match unknown {
            None => Ok(()),
            Some(attribute) => Err(DeclarationError::UnknownAttribute {
                kind: self.kind,
                key: attribute.key.value.clone(),
                suggestion: crate::suggestion::closest(
                    &attribute.key.value,
                    self.known.iter().chain(&COMMON_KEYS).copied(),
                )
                .map(str::to_string),
                known: self.known,
                span: attribute.key.span,
            }),
        }
    }
}

/// A value as quoted in an error: `0 (an integer)`.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Integer(n) => format!("{n}"),
        Value::Number(x) => format!("{x}"),
        Value::Boolean(b) => format!("{b}"),
        Value::Text(text) => format!("`{text}`"),
        Value::Dims(dims) => dims
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("x"),
        other => other.type_name().to_string(),
    }
}

/// "it takes 2 values without a key (filters, kernel)" or "it takes none without a key".
fn takes(keys: &[&str]) -> String {
    match keys {
        [] => "every value needs a key (`key=value`)".to_string(),
        [one] => format!("it takes one value without a key ({one})"),
        several => format!(
            "it takes {} values without a key ({})",
            several.len(),
            several.join(", ")
        ),
    }
}

//! Instantiation: a parametrised description and a configuration in, a plain description out (no
//! `let`, no `sweep`, no references, no repeated blocks, names of repeated layers expanded). It is
//! pure and knows no layer kind; the graph builder calls it with the defaults, and a sweep with
//! each configuration of its grid.
//!
//! The checks come first and do not depend on the configuration: parameters' defaults hold no
//! references, the description's own grid is valid, every reference names a parameter or a loop
//! variable in scope, every parameter is used, no loop variable hides another name, and no named
//! layer sits in a repeat without `as`. Then the repeats are expanded copy by copy with the
//! references substituted; a substituted value keeps the span of its reference, so an error
//! about it later (a non-integer size in configuration 7) points at the reference.
//!
//! References cannot form cycles: a default and a grid value are plain values, a loop variable is
//! bound to an evaluated value, and a repeat's header is evaluated outside its own body.

use super::ParameterError;
use super::ast::{Attribute, Copies, CopyOf, Description, Item, LayerDecl, Repeat, Value};
use super::grid::{Configuration, Grid, closest_parameter, fitting};
use crate::source::{Span, Spanned};
use std::collections::{HashMap, HashSet};

/// How many layers the repeats of a description may expand to. Beyond it the expansion stops
/// with an error instead of filling the memory (reading, graph and analysis are about linear in
/// the layer count; the README's benchmark measured 123 ms for 10,000 layers).
pub const MAXIMUM_LAYERS: usize = 100_000;

/// How many copies the repeats of a description may make in all, counting copies that hold no
/// layer (`repeat 1000000000000` around a `repeat 0`), so that expansion always ends quickly.
pub const MAXIMUM_COPIES: u64 = 1_000_000;

/// The plain description that `configuration` makes of `description`: each parameter takes the
/// configuration's value, or its default; references are replaced by values, repeated blocks by
/// their copies. The result has no parameters, references, repeats or sweep, and instantiating
/// it again gives it back unchanged.
pub fn instantiate(
    description: &Description,
    configuration: &Configuration,
) -> Result<Description, ParameterError> {
    // The grid checks the defaults first.
    Grid::of(description)?;
    let values = parameter_values(description, configuration)?;
    Scopes::check(description)?;
    let mut expander = Expander {
        parameters: &values,
        variables: Vec::new(),
        bodies: Vec::new(),
        layers: Vec::new(),
        names: HashMap::new(),
        blocks: 0,
        copies: 0,
    };
    expander.items(&description.layers, "")?;
    let substitute = |attributes: &[Attribute]| -> Result<Vec<Attribute>, ParameterError> {
        attributes
            .iter()
            .map(|attribute| expander.attribute(attribute))
            .collect()
    };
    let expect = substitute(&description.expect)?;
    let train = substitute(&description.train)?;
    Ok(Description {
        name: description.name.clone(),
        about: description.about.clone(),
        rounding: description.rounding.clone(),
        parameters: Vec::new(),
        conventions: description.conventions.clone(),
        layers: expander.layers.into_iter().map(Item::Layer).collect(),
        expect,
        train,
        sweep: Vec::new(),
    })
}

/// Every parameter's value: the configuration's (of the default's type) or the default.
fn parameter_values(
    description: &Description,
    configuration: &Configuration,
) -> Result<HashMap<String, Value>, ParameterError> {
    let mut values: HashMap<String, Value> = description
        .parameters
        .iter()
        .map(|parameter| (parameter.key.value.clone(), parameter.value.value.clone()))
        .collect();
    for (name, value) in configuration.values() {
        let Some(parameter) = description.parameter(name) else {
            return Err(ParameterError::ConfigurationParameter {
                name: name.clone(),
                suggestion: closest_parameter(description, name),
            });
        };
        let fitted = fitting(&parameter.value.value, value).ok_or_else(|| {
            ParameterError::ConfigurationType {
                name: name.clone(),
                found: value.type_name(),
                expected: parameter.value.value.type_name(),
                span: parameter.value.span,
            }
        })?;
        values.insert(name.clone(), fitted);
    }
    Ok(values)
}

/// The checks on the text as written, independent of the values: references in scope, every
/// parameter used, loop variables hiding nothing, named layers only in named repeats.
struct Scopes<'d> {
    description: &'d Description,
    variables: Vec<&'d str>,
    used: HashSet<&'d str>,
}

impl<'d> Scopes<'d> {
    fn check(description: &'d Description) -> Result<(), ParameterError> {
        let mut scopes = Scopes {
            description,
            variables: Vec::new(),
            used: HashSet::new(),
        };
        scopes.items(&description.layers, false)?;
        for attribute in description.expect.iter().chain(&description.train) {
            scopes.value(&attribute.value)?;
        }
        for parameter in &description.parameters {
            if !scopes.used.contains(parameter.key.value.as_str()) {
                return Err(ParameterError::UnusedParameter {
                    name: parameter.key.value.clone(),
                    span: parameter.key.span,
                });
            }
        }
        Ok(())
    }

    fn items(&mut self, items: &'d [Item], in_unnamed_repeat: bool) -> Result<(), ParameterError> {
        for item in items {
            match item {
                Item::Layer(layer) => {
                    if let Some(name) = layer.name.as_ref().filter(|_| in_unnamed_repeat) {
                        return Err(ParameterError::NamedLayerInUnnamedRepeat {
                            name: name.value.clone(),
                            span: name.span,
                        });
                    }
                    for value in layer_values(layer) {
                        self.value(value)?;
                    }
                }
                Item::Repeat(repeat) => {
                    self.value(&repeat.over)?;
                    if let Some(variable) = &repeat.variable {
                        self.check_hiding(variable)?;
                        self.variables.push(&variable.value);
                    }
                    let unnamed = in_unnamed_repeat || repeat.variable.is_none();
                    self.items(&repeat.body, unnamed)?;
                    if repeat.variable.is_some() {
                        self.variables.pop();
                    }
                }
            }
        }
        Ok(())
    }

    fn check_hiding(&self, variable: &Spanned<String>) -> Result<(), ParameterError> {
        let name = variable.value.as_str();
        let hidden = if self.variables.contains(&name) {
            "the variable of an enclosing repeat".to_string()
        } else if self.description.parameter(name).is_some() {
            format!("the parameter `{name}`")
        } else {
            return Ok(());
        };
        Err(ParameterError::HiddenName {
            name: name.to_string(),
            hidden,
            span: variable.span,
        })
    }

    /// Every reference in a value names a loop variable in scope or a parameter (now used).
    fn value(&mut self, value: &'d Spanned<Value>) -> Result<(), ParameterError> {
        let mut names = Vec::new();
        references(&value.value, &mut names);
        for name in names {
            if self.variables.contains(&name) {
                continue;
            }
            match self.description.parameter(name) {
                Some(parameter) => {
                    self.used.insert(&parameter.key.value);
                }
                None => {
                    let in_scope = self.variables.iter().copied().chain(
                        self.description
                            .parameters
                            .iter()
                            .map(|parameter| parameter.key.value.as_str()),
                    );
                    return Err(ParameterError::UnknownReference {
                        name: name.to_string(),
                        suggestion: crate::suggestion::closest(name, in_scope).map(str::to_string),
                        span: value.span,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Every value of a layer: positional values, attributes and assertions.
fn layer_values(layer: &LayerDecl) -> impl Iterator<Item = &Spanned<Value>> {
    layer.positionals.iter().chain(
        layer
            .attributes
            .iter()
            .chain(&layer.expect)
            .map(|attribute| &attribute.value),
    )
}

/// The names of every reference in a value, in order.
fn references<'v>(value: &'v Value, names: &mut Vec<&'v str>) {
    match value {
        Value::Reference(name) => names.push(name),
        Value::List(items) => {
            for item in items {
                references(item, names);
            }
        }
        _ => {}
    }
}

/// The body of a repeat being copied: the names its own layers are written with, the prefix its
/// copy gives them (`block.1.`), and which copy of which loop variable it is.
struct Body {
    names: HashSet<String>,
    prefix: String,
    variable: Option<String>,
    copy: usize,
    /// The same, as the expanded layers record it.
    copy_of: CopyOf,
}

/// Where a layer of the expanded description came from: for reporting a duplicate name.
struct Origin {
    copy: Option<String>,
}

/// Copies repeated blocks and substitutes references, in the order written.
struct Expander<'p> {
    parameters: &'p HashMap<String, Value>,
    /// Loop variables bound now, innermost last.
    variables: Vec<(String, Value)>,
    /// The repeat bodies being copied, innermost last.
    bodies: Vec<Body>,
    layers: Vec<LayerDecl>,
    names: HashMap<String, Origin>,
    /// Repeats expanded so far (each copy of an enclosing repeat expands its inner ones anew).
    blocks: usize,
    /// Copies made so far, in all repeats.
    copies: u64,
}

impl Expander<'_> {
    fn items(&mut self, items: &[Item], prefix: &str) -> Result<(), ParameterError> {
        for item in items {
            match item {
                Item::Layer(layer) => self.layer(layer, prefix)?,
                Item::Repeat(repeat) => self.repeat(repeat, prefix)?,
            }
        }
        Ok(())
    }

    fn layer(&mut self, layer: &LayerDecl, prefix: &str) -> Result<(), ParameterError> {
        if self.layers.len() >= MAXIMUM_LAYERS {
            return Err(ParameterError::TooManyLayers {
                limit: MAXIMUM_LAYERS,
                span: layer.span,
            });
        }
        let name = layer
            .name
            .as_ref()
            .map(|name| Spanned::new(format!("{prefix}{}", name.value), name.span));
        if let Some(name) = &name {
            let copy = self.copy_description();
            match self.names.get(&name.value) {
                // Two top-level layers of one name are the graph's error, as in a plain
                // description.
                Some(first) if first.copy.is_some() || copy.is_some() => {
                    return Err(ParameterError::DuplicateName {
                        name: name.value.clone(),
                        copy: copy.unwrap_or_else(|| "outside the repeats".to_string()),
                        span: name.span,
                    });
                }
                Some(_) => {}
                None => {
                    self.names.insert(name.value.clone(), Origin { copy });
                }
            }
        }
        let inputs = layer
            .inputs
            .iter()
            .map(|input| Spanned::new(self.resolve(&input.value), input.span))
            .collect();
        let positionals = layer
            .positionals
            .iter()
            .map(|value| self.value(value))
            .collect::<Result<_, _>>()?;
        let attributes = layer
            .attributes
            .iter()
            .map(|attribute| self.attribute(attribute))
            .collect::<Result<_, _>>()?;
        let expect = layer
            .expect
            .iter()
            .map(|attribute| self.attribute(attribute))
            .collect::<Result<_, _>>()?;
        // The blocks being copied now enclose whatever the layer already belonged to (a layer
        // of an expanded description keeps its copies when instantiated again).
        let copies = self
            .bodies
            .iter()
            .map(|body| body.copy_of.clone())
            .chain(layer.copies.0.iter().cloned())
            .collect();
        self.layers.push(LayerDecl {
            name,
            kind: layer.kind.clone(),
            positionals,
            attributes,
            inputs,
            expect,
            span: layer.span,
            copies: Copies(copies),
        });
        Ok(())
    }

    fn repeat(&mut self, repeat: &Repeat, prefix: &str) -> Result<(), ParameterError> {
        let over = self.value(&repeat.over)?;
        let via = match &repeat.over.value {
            Value::Reference(name) => format!(" (the value of `${name}`)"),
            _ => String::new(),
        };
        // Over a count the variable is the copy index; over a list, the element. Lazily: a count
        // may be far beyond what the copy limit lets through.
        let (count, bindings): (usize, Box<dyn Iterator<Item = Value>>) = match over.value {
            Value::Integer(count) if count >= 0 => (
                usize::try_from(count).unwrap_or(usize::MAX),
                Box::new((0..count).map(Value::Integer)),
            ),
            Value::List(items) => (items.len(), Box::new(items.into_iter())),
            Value::Integer(_) | Value::Number(_) => {
                return Err(ParameterError::RepeatCount {
                    found: super::dsl::value_text(&over.value),
                    via,
                    span: over.span,
                });
            }
            other => {
                return Err(ParameterError::RepeatOver {
                    found: other.type_name(),
                    via,
                    span: over.span,
                });
            }
        };
        let names: HashSet<String> = repeat
            .body
            .iter()
            .filter_map(|item| match item {
                Item::Layer(layer) => layer.name.as_ref().map(|name| name.value.clone()),
                Item::Repeat(_) => None,
            })
            .collect();
        let block = self.blocks;
        self.blocks += 1;
        for (copy, binding) in bindings.enumerate() {
            self.copies += 1;
            if self.copies > MAXIMUM_COPIES {
                return Err(ParameterError::TooManyCopies {
                    limit: MAXIMUM_COPIES,
                    span: repeat.span,
                });
            }
            let copy_prefix = match &repeat.variable {
                Some(variable) => format!("{prefix}{}.{copy}.", variable.value),
                None => prefix.to_string(),
            };
            if let Some(variable) = &repeat.variable {
                self.variables.push((variable.value.clone(), binding));
            }
            self.bodies.push(Body {
                names: names.clone(),
                prefix: copy_prefix.clone(),
                variable: repeat.variable.as_ref().map(|v| v.value.clone()),
                copy,
                copy_of: CopyOf {
                    block,
                    variable: repeat.variable.as_ref().map(|v| v.value.clone()),
                    copy,
                    count,
                },
            });
            let result = self.items(&repeat.body, &copy_prefix);
            self.bodies.pop();
            if repeat.variable.is_some() {
                self.variables.pop();
            }
            result?;
        }
        Ok(())
    }

    /// "copy 1 of `block`" (nested: "copy 0 of `outer`, copy 1 of `inner`") for the copy being
    /// expanded, `None` outside the repeats.
    fn copy_description(&self) -> Option<String> {
        let copies: Vec<String> = self
            .bodies
            .iter()
            .filter_map(|body| {
                let variable = body.variable.as_ref()?;
                Some(format!("copy {} of `{variable}`", body.copy))
            })
            .collect();
        (!copies.is_empty()).then(|| copies.join(", "))
    }

    /// An input name: a layer of an enclosing body being copied (innermost first) is the one in
    /// the same copy; any other name stands as written.
    fn resolve(&self, name: &str) -> String {
        self.bodies
            .iter()
            .rev()
            .find(|body| body.names.contains(name))
            .map_or_else(|| name.to_string(), |body| format!("{}{name}", body.prefix))
    }

    fn attribute(&self, attribute: &Attribute) -> Result<Attribute, ParameterError> {
        Ok(Attribute {
            key: attribute.key.clone(),
            value: self.value(&attribute.value)?,
        })
    }

    /// The value with its references replaced; it keeps the span it was written at.
    fn value(&self, value: &Spanned<Value>) -> Result<Spanned<Value>, ParameterError> {
        Ok(Spanned::new(
            self.substitute(&value.value, value.span)?,
            value.span,
        ))
    }

    fn substitute(&self, value: &Value, span: Span) -> Result<Value, ParameterError> {
        match value {
            Value::Reference(name) => self
                .variables
                .iter()
                .rev()
                .find(|(variable, _)| variable == name)
                .map(|(_, bound)| bound)
                .or_else(|| self.parameters.get(name))
                .cloned()
                .ok_or_else(|| ParameterError::UnknownReference {
                    name: name.clone(),
                    suggestion: None,
                    span,
                }),
            Value::List(items) => items
                .iter()
                .map(|item| self.substitute(item, span))
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Ok(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests;

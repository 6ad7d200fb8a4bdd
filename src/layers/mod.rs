//! The layer catalogue: what each layer kind means. One file per kind holds its attributes, shape
//! rule, parameter and connection counts, receptive-field step and MACs; `CATALOGUE` lists the
//! kinds. This is the only module that knows what a kind means: nothing else matches on kinds.

pub mod attributes;
pub mod execution;
pub mod geometry;

mod activation;
mod add;
mod average_pooling;
mod batch_normalization;
mod concat;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod global_pooling;
mod input;
mod local_response_normalization;
mod max_pooling;
mod pooling;
mod rbf;
mod sizes;
mod subsampling;

pub use activation::Activation;
pub use attributes::{AttributeReader, DeclarationError};
pub use execution::{Forward, Gradients, ParameterSpec, Pass, Role, Saved};
pub use geometry::{DimensionFormula, Inference, ReceptiveStep, ShapeError, Window};

use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::syntax::{Attribute, LayerDecl};
use crate::tensor::{Compute, Tensor, TensorError};
use std::fmt;

/// What every layer kind answers. The analysis asks every layer the same questions, so they are
/// methods here; none has a default body, so a new kind cannot forget one. The one exception,
/// [`Layer::backward_parameters`], is a shortcut that defaults to the full backward pass.
pub trait Layer: fmt::Debug + Send + Sync {
    /// The settings shown beside the layer's name, in the sheet's letters: `F=11, K=96, S=4, P=0`.
    fn settings(&self) -> String;

    /// The output shape for these input shapes, with the size formulas. `rounding` is the
    /// network's rule for non-integer sizes; a layer may override it with its own attribute.
    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError>;

    /// The parameter tensors: their counts as formulas, trainable or not. This and the methods
    /// below are called only with inputs for which `infer` succeeded.
    fn parameters(&self, inputs: &[Shape], output: &Shape) -> Vec<ParameterGroup>;

    /// Connections without and with bias, as LeCun et al. (1998) and the exercise sheet count
    /// them: every weighted link from a unit of the previous layer, and each bias as one more.
    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections;

    /// How one output unit sees the previous layer (window, everything, or one unit).
    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep;

    /// Multiply-accumulate operations for one example.
    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression;

    /// The parameter tensors the executor allocates, for these (per-example) input shapes.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec>;

    /// The forward pass on a batch. `parameters` follow `parameter_specs`; a layer may update
    /// non-trainable ones (batch-norm moving statistics) when `pass.training`.
    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError>;

    /// The backward pass: from ∂loss/∂output to ∂loss/∂inputs and ∂loss/∂parameters.
    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError>;

    /// The backward pass when no input needs a gradient (the layer reads only the network's
    /// input): the parameter gradients as [`Layer::backward`] gives them, and `inputs` either
    /// empty or as `backward` gives them. Layers whose input gradient costs a product of its own
    /// (conv2d, dense) leave it out; the default runs `backward`.
    fn backward_parameters(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        self.backward(parameters, inputs, forward, output_gradient, compute)
    }
}

/// One parameter tensor of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterGroup {
    /// `weights`, `bias`, `gamma`, …
    pub name: &'static str,
    /// Its size as a formula, e.g. `11·11·3·96`.
    pub count: Expression,
    /// Whether training changes it.
    pub trainable: bool,
}

/// Connection counts as formulas.
#[derive(Debug, Clone, PartialEq)]
pub struct Connections {
    /// Links from units of the previous layer only.
    pub without_bias: Expression,
    /// Those plus one link per bias (the "augmented" count).
    pub with_bias: Expression,
}

impl Connections {
    /// A layer with no weighted links (flatten, dropout, activations).
    pub fn none() -> Connections {
        Connections {
            without_bias: Expression::Number(0),
            with_bias: Expression::Number(0),
        }
    }
}

/// A layer kind in the catalogue.
pub struct Kind {
    /// The name written in descriptions, e.g. `conv2d`.
    pub name: &'static str,
    /// Other accepted names, e.g. `conv`.
    pub aliases: &'static [&'static str],
    /// Attribute keys that DSL values without a key fill, in order (`conv2d 6 5x5`).
    pub positionals: &'static [&'static str],
    /// One line for `netcalc list` and the docs.
    pub summary: &'static str,
    /// Reads the attributes into a layer.
    pub build: fn(&mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError>,
}

/// Every layer kind. Adding a kind is one file and one line here.
pub static CATALOGUE: &[Kind] = &[
    input::KIND,
    conv2d::KIND,
    dense::KIND,
    activation::KIND,
    max_pooling::KIND,
    average_pooling::KIND,
    subsampling::KIND,
    global_pooling::AVERAGE_KIND,
    global_pooling::MAX_KIND,
    flatten::KIND,
    dropout::KIND,
    local_response_normalization::KIND,
    batch_normalization::KIND,
    rbf::KIND,
    concat::KIND,
    add::KIND,
];

/// The kind with this name or alias.
pub fn find(name: &str) -> Option<&'static Kind> {
    CATALOGUE
        .iter()
        .find(|kind| kind.name == name || kind.aliases.contains(&name))
}

/// The positional keys of a kind (none for an unknown kind).
pub fn positional_keys(name: &str) -> &'static [&'static str] {
    find(name).map_or(&[], |kind| kind.positionals)
}

/// Whether a kind is the graph's source of data (has no inputs of its own).
pub fn is_input(name: &str) -> bool {
    find(name).is_some_and(|kind| kind.name == input::KIND.name)
}

/// Turns DSL values written without a key into keyed attributes, using the kind's positional
/// keys, placed first in order. Unknown kinds and surplus values are errors.
pub fn name_positionals(decl: &mut LayerDecl) -> Result<(), DeclarationError> {
    if decl.positionals.is_empty() {
        return Ok(());
    }
    let kind = find(&decl.kind.value).ok_or_else(|| unknown_kind(decl))?;
    if decl.positionals.len() > kind.positionals.len() {
        let surplus = &decl.positionals[kind.positionals.len()];
        return Err(DeclarationError::TooManyValues {
            kind: kind.name,
            keys: kind.positionals,
            span: surplus.span,
        });
    }
    let named: Vec<Attribute> = std::mem::take(&mut decl.positionals)
        .into_iter()
        .zip(kind.positionals)
        .map(|(value, key)| Attribute {
            key: crate::source::Spanned::new(key.to_string(), value.span),
            value,
        })
        .collect();
    for attribute in &named {
        if let Some(written) = decl.attribute(&attribute.key.value) {
            return Err(DeclarationError::Duplicate {
                key: attribute.key.value.clone(),
                span: written.key.span,
            });
        }
    }
    decl.attributes.splice(0..0, named);
    Ok(())
}

/// Builds the layer a declaration describes, on its own (window layers without their own
/// `rounding` take the caller's).
pub fn build(decl: &LayerDecl) -> Result<Box<dyn Layer>, DeclarationError> {
    build_reading(decl, |reader| reader)
}

/// Builds the layer a declaration describes as part of a network with this rounding rule.
pub fn build_in_network(
    decl: &LayerDecl,
    rounding: Rounding,
) -> Result<Box<dyn Layer>, DeclarationError> {
    build_reading(decl, |reader| reader.in_network(rounding))
}

fn build_reading(
    decl: &LayerDecl,
    prepare: impl FnOnce(AttributeReader) -> AttributeReader,
) -> Result<Box<dyn Layer>, DeclarationError> {
    let kind = find(&decl.kind.value).ok_or_else(|| unknown_kind(decl))?;
    let mut reader = prepare(AttributeReader::new(decl, kind.name));
    match (kind.build)(&mut reader) {
        Ok(layer) => {
            reader.finish()?;
            Ok(layer)
        }
        // A missing key is often a misspelt one: report the misspelling, which names both. Other
        // keys may be ones the kind did not get to read before it stopped, so they are not wrong.
        Err(missing @ DeclarationError::Missing { key, .. }) => {
            let misspelt = reader.finish().err().filter(|unknown| {
                matches!(
                    unknown,
                    DeclarationError::UnknownAttribute { suggestion: Some(near), .. } if near == key
                )
            });
            Err(misspelt.unwrap_or(missing))
        }
        Err(error) => Err(error),
    }
}

fn unknown_kind(decl: &LayerDecl) -> DeclarationError {
    let names = CATALOGUE
        .iter()
        .flat_map(|kind| std::iter::once(kind.name).chain(kind.aliases.iter().copied()));
    DeclarationError::UnknownKind {
        kind: decl.kind.value.clone(),
        suggestion: crate::suggestion::closest(&decl.kind.value, names).map(str::to_string),
        span: decl.kind.span,
    }
}

/// The one input shape of a single-input layer.
pub(crate) fn single(inputs: &[Shape]) -> Result<&Shape, ShapeError> {
    match inputs {
        [input] => Ok(input),
        _ => Err(ShapeError::InputCount {
            expected: "exactly one input",
            found: inputs.len(),
        }),
    }
}

/// The height, width and channels of a single rank-3 input.
pub(crate) fn single_maps(inputs: &[Shape]) -> Result<(u64, u64, u64), ShapeError> {
    let input = single(inputs)?;
    input.maps().ok_or_else(|| ShapeError::Rank {
        expected: "feature maps H×W×C",
        found: input.clone(),
    })
}

/// Units of a shape as a product formula of its axes, e.g. `6·6·256`.
pub(crate) fn units_formula(shape: &Shape) -> Expression {
    Expression::product_of(&shape.0)
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::CATALOGUE;
    use super::testing::declaration;

    /// A kind stops reading at its first missing key; the keys it would have read after that
    /// one are not unknown (found by tests/properties.rs: `maxpool rounding=floor`).
    #[test]
    fn a_key_read_after_a_missing_one_is_not_called_unknown() {
        let error = super::build(&declaration("maxpool rounding=floor")).expect_err("no size");
        assert_eq!(error.to_string(), "`maxpool` needs the attribute `size`");
        let error = super::build(&declaration("maxpool sise=2")).expect_err("misspelt size");
        assert_eq!(error.to_string(), "`maxpool` has no attribute `sise`");
    }

    #[test]
    fn every_name_and_alias_finds_one_kind() {
        let mut names: Vec<&str> = CATALOGUE
            .iter()
            .flat_map(|kind| std::iter::once(kind.name).chain(kind.aliases.iter().copied()))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name or alias is used twice");
    }
}

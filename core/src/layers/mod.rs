//! The layer catalogue: what each layer kind means. One file per kind holds its attributes, shape
//! rule, parameter and connection counts, receptive-field step and MACs; `CATALOGUE` lists the
//! kinds. This is the only module that knows what a kind means: nothing else matches on kinds.

pub mod attributes;
pub mod execution;
pub mod geometry;

mod activation;
mod adaptive_pooling;
mod add;
mod average_pooling;
mod average_pooling1d;
mod batch_normalization;
mod class_token;
mod concat;
mod conv1d;
mod conv2d;
mod conv2d_transpose;
mod dense;
mod dropout;
mod elementwise;
mod embedding;
mod flatten;
mod global_pooling;
mod global_pooling1d;
mod gru;
mod input;
mod layer_normalization;
mod local_response_normalization;
mod lstm;
mod max_pooling;
mod max_pooling1d;
mod multi_head_attention;
mod multiply;
mod permute;
mod pooling;
mod positional_embedding;
mod rbf;
mod recurrence;
mod reshape;
mod rms_normalization;
mod simple_rnn;
mod sizes;
mod subsampling;
mod take;
mod upsampling;

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
/// methods here; none has a default body, so a new kind cannot forget one. The two exceptions:
/// [`Layer::backward_parameters`], a shortcut that defaults to the full backward pass, and
/// [`Layer::explanation`], extra words that most kinds do without.
pub trait Layer: fmt::Debug + Send + Sync {
    /// The settings shown beside the layer's name, in the sheet's letters: `F=11, K=96, S=4, P=0`.
    fn settings(&self) -> String;

    /// What a drawing of the network writes after the kind's name (`5×5, 6, tanh` for a
    /// convolution), and any connection table to draw with the layer.
    fn caption(&self) -> Caption;

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

    /// The layer whose weights this one uses instead of its own, as GPT-2's output layer uses the
    /// token embedding's table (`tied_to`). `None`, the default, for a layer with weights of its
    /// own; only `dense` takes `tied_to`, so the other kinds keep the default.
    fn tie(&self, _inputs: &[Shape]) -> Option<Tie> {
        None
    }

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

    /// Words for `netcalc explain` that the formulas cannot give (an LSTM's gates); `None`, the
    /// default, lets the explanation read the formulas: most kinds are explained by their formulas
    /// alone.
    fn explanation(&self, _inputs: &[Shape], _output: &Shape) -> Option<Explanation> {
        None
    }
}

/// What a layer says of itself for `netcalc explain`, where its formulas alone do not tell what
/// its parts are.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// What the parameters are, the words before their formula: "an LSTM layer has 4 gates …".
    pub parameters: String,
    /// Whose connections are counted: "at each of the 28 steps, each of the 4·128 gate units".
    pub units: String,
    /// One unit's links without and with bias, e.g. `28+128` and `28+128+1`; `None` lets the
    /// explanation read the connection formulas.
    pub links: Option<[Expression; 2]>,
    /// What the MACs are, in words before their formula (attention's products between
    /// positions); `None` lets the explanation read the formula.
    pub macs: Option<String>,
    /// Whose connections are counted without and with bias, in words before their formula, where
    /// `links` cannot say it (attention's four projections); `None` uses `units` and `links`.
    pub connections: Option<[String; 2]>,
    /// The output size rule, where it is not the window's (N-F+2P)/S+1.
    pub size_rule: Option<String>,
}

/// A layer's weights taken from another layer: the analysis checks that the named layer has a
/// parameter tensor of `shape` (this layer's weights, transposed) and counts no weights here;
/// the executor refuses to train such a network (it shares no tensors between layers).
#[derive(Debug, Clone, PartialEq)]
pub struct Tie {
    /// The layer whose tensor is used.
    pub layer: crate::source::Spanned<String>,
    /// The shape that tensor must have (an embedding's `[vocabulary, features]`).
    pub shape: Vec<u64>,
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
    /// A buffer rather than a parameter: state the layer keeps that its framework does not count
    /// among the parameters (PyTorch's BatchNorm running statistics). Buffers are reported apart
    /// and left out of every parameter total.
    pub buffer: bool,
}

/// How a drawing labels a layer (`netcalc draw`): its key settings in a short form, as figures
/// in papers write them, and its connection table when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caption {
    /// The key settings, e.g. `5×5, 6, tanh` (kernel, filters, activation) or `3×3, /2` (window,
    /// stride); empty when the kind says it all (`add`, `flatten`).
    pub settings: String,
    /// `table[i][j]`: input map `i` feeds output map `j` (LeNet-5's C3).
    pub table: Option<Vec<Vec<bool>>>,
}

impl Caption {
    /// Settings only, no table.
    pub fn text(settings: impl Into<String>) -> Caption {
        Caption {
            settings: settings.into(),
            table: None,
        }
    }
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
    conv1d::KIND,
    max_pooling1d::KIND,
    average_pooling1d::KIND,
    global_pooling1d::AVERAGE_KIND,
    global_pooling1d::MAX_KIND,
    flatten::KIND,
    dropout::KIND,
    local_response_normalization::KIND,
    batch_normalization::KIND,
    rbf::KIND,
    concat::KIND,
    add::KIND,
    embedding::KIND,
    positional_embedding::KIND,
    simple_rnn::KIND,
    lstm::KIND,
    gru::KIND,
    layer_normalization::KIND,
    multi_head_attention::KIND,
    conv2d_transpose::KIND,
    upsampling::KIND,
    adaptive_pooling::AVERAGE_KIND,
    adaptive_pooling::MAX_KIND,
    reshape::KIND,
    permute::KIND,
    class_token::KIND,
    take::KIND,
    rms_normalization::KIND,
    multiply::KIND,
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

/// `auxiliary=true` marks the last layer of a branch that only training uses, such as one of
/// GoogLeNet's auxiliary classifiers: nothing reads it, and it is not the network's output. Every
/// kind takes it; the graph reads it ([`crate::graph::Outputs`]).
pub const AUXILIARY: &str = "auxiliary";

/// Whether a declaration is marked `auxiliary=true` (`false` when the key is absent).
pub fn is_auxiliary(decl: &LayerDecl) -> Result<bool, DeclarationError> {
    let kind = find(&decl.kind.value).map_or("layer", |kind| kind.name);
    let mut reader = AttributeReader::new(decl, kind);
    Ok(reader.boolean(AUXILIARY)?.unwrap_or(false))
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
    // Exactly the room needed: growing by doubling left three empty attributes (264 bytes) in
    // most declarations, which counts on descriptions of many thousand layers.
    decl.attributes.reserve_exact(named.len());
    decl.attributes.splice(0..0, named);
    Ok(())
}

/// [`name_positionals`] for every layer of a description, those in repeated blocks included (as
/// `convert` needs before printing YAML, which has no positional values).
pub fn name_all_positionals(
    description: &mut crate::syntax::Description,
) -> Result<(), DeclarationError> {
    description
        .all_layers_mut()
        .into_iter()
        .try_for_each(name_positionals)
}

/// Builds the layer a declaration describes, on its own (window layers without their own
/// `rounding` take the caller's).
pub fn build(decl: &LayerDecl) -> Result<Box<dyn Layer>, DeclarationError> {
    build_reading(decl, |reader| reader)
}

/// Builds the layer a declaration describes as part of a network with this rounding rule and
/// these conventions.
pub fn build_in_network(
    decl: &LayerDecl,
    rounding: Rounding,
    conventions: crate::conventions::Conventions,
) -> Result<Box<dyn Layer>, DeclarationError> {
    build_reading(decl, |reader| {
        reader.in_network(rounding).with_conventions(conventions)
    })
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

/// The one input shape of a single-input layer, which must hold real values: token ids go
/// through an `embedding` first.
pub(crate) fn single(inputs: &[Shape]) -> Result<&Shape, ShapeError> {
    let input = single_of_any(inputs)?;
    values(input)?;
    Ok(input)
}

/// The one input shape of a single-input layer, values or token ids.
pub(crate) fn single_of_any(inputs: &[Shape]) -> Result<&Shape, ShapeError> {
    match inputs {
        [input] => Ok(input),
        _ => Err(ShapeError::InputCount {
            expected: "exactly one input",
            found: inputs.len(),
        }),
    }
}

/// Refuses token ids where real values belong.
pub(crate) fn values(shape: &Shape) -> Result<(), ShapeError> {
    match shape.element() {
        crate::shape::Element::Values => Ok(()),
        crate::shape::Element::Tokens { .. } => Err(ShapeError::Rank {
            expected: "real values (token ids go through an `embedding` first)",
            found: shape.clone(),
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

/// The steps and features of a single L×D sequence input.
pub(crate) fn single_sequence(inputs: &[Shape]) -> Result<(u64, u64), ShapeError> {
    let input = single(inputs)?;
    input.sequence().ok_or_else(|| ShapeError::Rank {
        expected: "a sequence L×D (steps × features)",
        found: input.clone(),
    })
}

/// The position axes and the channels of a single input for a window over `axes` of them:
/// feature maps H×W×C for 2, a sequence L×D for 1.
pub(crate) fn single_positions(inputs: &[Shape], axes: usize) -> Result<(&[u64], u64), ShapeError> {
    let input = single(inputs)?;
    if axes == 1 {
        single_sequence(inputs)?;
    } else {
        single_maps(inputs)?;
    }
    Ok((input.positions(), input.channels()))
}

/// Units of a shape as a product formula of its axes, e.g. `6·6·256`.
pub(crate) fn units_formula(shape: &Shape) -> Expression {
    Expression::product_of(shape.dims())
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

    /// What `netcalc draw` writes after each kind's name: the settings papers' figures show
    /// (ResNet's "7×7 conv, 64, /2"), from every kind's own `caption`.
    #[test]
    fn captions_give_the_key_settings_of_every_kind() {
        let cases = [
            ("input 28x28x1", ""),
            ("conv2d 6 5x5 activation=tanh", "5×5, 6, tanh"),
            ("conv2d 64 7x7 stride=2 padding=3", "7×7, 64, /2"),
            (
                "conv2d 32 3x1 stride=2x1 dilation=2 groups=4",
                "3×1, 32, /2×1, dilation 2, groups 4",
            ),
            ("dense 84 activation=tanh", "84, tanh"),
            ("activation relu", "relu"),
            ("maxpool 3 stride=2", "3×3, /2"),
            ("avgpool 2", "2×2, /2"),
            ("subsample 2 trainable=false", "2×2, /2, fixed"),
            ("subsample 2 activation=sigmoid", "2×2, /2, sigmoid"),
            ("global_avgpool", ""),
            ("global_maxpool", ""),
            ("flatten", ""),
            ("dropout 0.5", "0.5"),
            ("lrn size=5", "size 5"),
            ("batchnorm", ""),
            ("rbf 10", "10"),
            ("concat", ""),
            ("add", ""),
            ("conv1d 16 3", "3, 16"),
            ("maxpool1d 2", "2, /2"),
            ("avgpool1d 2", "2, /2"),
            ("embedding 64", "64 features"),
            ("positional_embedding", ""),
            ("simple_rnn 32", "32 units"),
            (
                "lstm 8 bidirectional=true merge=sum",
                "8 units, bidirectional sum",
            ),
            ("gru 16 reset_after=false", "16 units, reset_after=false"),
            ("layernorm", ""),
            ("multi_head_attention 8 64", "8 heads, key 64"),
            (
                "multi_head_attention 32 kv_heads=4 rotary=true causal=true use_bias=false",
                "32 heads, 4 kv heads, rotary, causal, no bias",
            ),
            ("conv2d_transpose 32 3x3 stride=2", "3×3, 32, /2"),
            ("upsampling2d 2", "size=2"),
            ("adaptive_avgpool 7x7", "to 7×7"),
            ("adaptive_maxpool 7x7", "to 7×7"),
            ("global_avgpool1d", ""),
            ("global_maxpool1d", ""),
            ("reshape 7x112", "[7×112]"),
            ("permute 2x1", "[2, 1]"),
            ("class_token", ""),
            ("take 0", "position 0"),
            ("rms_normalization", ""),
            ("rmsnorm epsilon=1e-5", "epsilon=0.00001"),
            ("multiply", ""),
        ];
        let mut kinds: Vec<&str> = Vec::new();
        for (line, expected) in cases {
            let mut decl = declaration(line);
            super::name_positionals(&mut decl).expect("positionals");
            let layer = super::build(&decl).expect("builds");
            let caption = layer.caption();
            assert_eq!(caption.settings, expected, "`{line}`");
            assert_eq!(caption.table, None);
            kinds.push(super::find(&decl.kind.value).expect("a kind").name);
        }
        for kind in CATALOGUE {
            assert!(
                kinds.contains(&kind.name),
                "no caption case for `{}`",
                kind.name
            );
        }
        let mut decl = declaration("conv2d 2 3x3 table=X./.X");
        super::name_positionals(&mut decl).expect("positionals");
        let caption = super::build(&decl).expect("builds").caption();
        assert_eq!(caption.settings, "3×3, 2");
        assert_eq!(
            caption.table,
            Some(vec![vec![true, false], vec![false, true]])
        );
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

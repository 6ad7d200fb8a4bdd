//! The analysis pass: visits the graph in topological order and asks every layer for its output
//! shape, parameters, connections, receptive-field step and MACs, evaluating every formula with
//! checked arithmetic. Pure: no IO, and user input never makes it panic.

mod expectations;
mod receptive;

pub use expectations::ExpectationError;
pub use receptive::ReceptiveField;

use crate::error::{Error, Locate};
use crate::expression::Expression;
use crate::graph::Network;
use crate::layers::{DimensionFormula, ReceptiveStep, ShapeError};
use crate::shape::Shape;
use crate::source::Span;

/// Everything computed for a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// The network's name.
    pub network: String,
    /// Per layer, in evaluation order.
    pub layers: Vec<LayerInfo>,
    /// Sums over all layers.
    pub totals: Totals,
    /// Sums over the layers of the auxiliary branches (all zero without any): what they add to
    /// `totals` beyond the inference network ([`crate::graph::Outputs`]).
    pub auxiliary: Totals,
}

impl Analysis {
    /// Whether the network has auxiliary branches.
    pub fn has_auxiliary(&self) -> bool {
        self.layers.iter().any(|layer| layer.auxiliary)
    }

    /// The sums of the inference network: all layers but the auxiliary branches.
    pub fn inference(&self) -> Totals {
        self.totals.without(&self.auxiliary)
    }
}

/// A formula and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    /// The formula, e.g. `11·11·3·96+96`.
    pub formula: Expression,
    /// Its value.
    pub count: u64,
}

impl Counted {
    fn evaluate(formula: Expression, what: &str) -> Result<Counted, ShapeError> {
        let count = formula
            .count()
            .map_err(|_| ShapeError::Overflow(format!("{what} `{formula}`")))?;
        Ok(Counted { formula, count })
    }

    /// Whether the formula is just its number (nothing worth printing as a derivation).
    pub fn is_plain(&self) -> bool {
        matches!(self.formula, Expression::Number(_))
    }
}

/// One parameter tensor of a layer, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterInfo {
    /// `weights`, `bias`, …
    pub name: &'static str,
    /// Its size.
    pub size: Counted,
    /// Whether training changes it.
    pub trainable: bool,
}

/// What the analysis computed for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerInfo {
    /// The layer's name.
    pub name: String,
    /// Its kind's catalogue name (`conv2d`).
    pub kind: &'static str,
    /// Its settings in the sheet's letters (`F=11, K=96, S=4, P=0`).
    pub settings: String,
    /// Names of the layers it reads.
    pub inputs: Vec<String>,
    /// Their output shapes.
    pub input_shapes: Vec<Shape>,
    /// Its output shape.
    pub output: Shape,
    /// Output size formulas (window layers only).
    pub formulas: Vec<DimensionFormula>,
    /// Parameter tensors.
    pub parameters: Vec<ParameterInfo>,
    /// All parameters as one formula, e.g. `11·11·3·96+96` (None when there are none).
    pub parameter_total: Option<Counted>,
    /// Trainable parameters.
    pub trainable: u64,
    /// Non-trainable parameters.
    pub non_trainable: u64,
    /// Values the layer keeps that its conventions do not count as parameters (PyTorch's
    /// BatchNorm running statistics), in none of the parameter counts.
    pub buffers: u64,
    /// Connections without bias.
    pub connections_without_bias: Counted,
    /// Connections with bias.
    pub connections_with_bias: Counted,
    /// How one unit sees the previous layer.
    pub step: ReceptiveStep,
    /// What one unit sees of the network's input.
    pub receptive_field: ReceptiveField,
    /// Multiply-accumulates for one example.
    pub macs: Counted,
    /// Bytes of this layer's output for one example, as f32.
    pub activation_bytes: u64,
    /// Part of an auxiliary branch (it feeds only layers marked `auxiliary=true`).
    pub auxiliary: bool,
    /// What the layer says of its parts, for `netcalc explain` (recurrent layers' gates).
    pub explanation: Option<crate::layers::Explanation>,
    /// The layer whose table it uses as its weights (`tied_to`), counted there.
    pub tied_to: Option<String>,
    /// The copies of repeated blocks it comes from (outermost first; none outside `repeat`), so
    /// that reports can show a block as one row. Compares equal whatever it holds.
    pub copies: crate::syntax::Copies,
}

impl LayerInfo {
    /// Trainable plus non-trainable parameters.
    pub fn parameter_count(&self) -> u64 {
        self.trainable + self.non_trainable
    }

    /// Whether any output size was rounded.
    pub fn rounded(&self) -> bool {
        self.formulas.iter().any(|f| f.rounded.is_some())
    }
}

/// Sums over all layers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Trainable parameters.
    pub trainable: u64,
    /// Non-trainable parameters.
    pub non_trainable: u64,
    /// Buffers (not parameters under the network's conventions).
    pub buffers: u64,
    /// Connections without bias.
    pub connections_without_bias: u64,
    /// Connections with bias.
    pub connections_with_bias: u64,
    /// Multiply-accumulates for one example.
    pub macs: u64,
    /// Bytes of all layer outputs for one example, as f32.
    pub activation_bytes: u64,
}

impl Totals {
    /// All parameters.
    pub fn parameters(&self) -> u64 {
        self.trainable + self.non_trainable
    }

    /// Bytes of all parameters as f32.
    pub fn parameter_bytes(&self) -> u64 {
        self.parameters() * 4
    }

    /// Adds another layer's or part's sums; `None` (and `self` partly added) on overflow,
    /// including of [`Totals::parameters`] and [`Totals::parameter_bytes`].
    fn add(&mut self, other: &Totals) -> Option<()> {
        self.trainable = self.trainable.checked_add(other.trainable)?;
        self.non_trainable = self.non_trainable.checked_add(other.non_trainable)?;
        self.buffers = self.buffers.checked_add(other.buffers)?;
        self.trainable
            .checked_add(self.non_trainable)
            .and_then(|all| all.checked_mul(4))?;
        self.connections_without_bias = self
            .connections_without_bias
            .checked_add(other.connections_without_bias)?;
        self.connections_with_bias = self
            .connections_with_bias
            .checked_add(other.connections_with_bias)?;
        self.macs = self.macs.checked_add(other.macs)?;
        self.activation_bytes = self.activation_bytes.checked_add(other.activation_bytes)?;
        Some(())
    }

    /// These sums less a part of them (saturating at zero).
    fn without(&self, part: &Totals) -> Totals {
        Totals {
            trainable: self.trainable.saturating_sub(part.trainable),
            non_trainable: self.non_trainable.saturating_sub(part.non_trainable),
            buffers: self.buffers.saturating_sub(part.buffers),
            connections_without_bias: self
                .connections_without_bias
                .saturating_sub(part.connections_without_bias),
            connections_with_bias: self
                .connections_with_bias
                .saturating_sub(part.connections_with_bias),
            macs: self.macs.saturating_sub(part.macs),
            activation_bytes: self.activation_bytes.saturating_sub(part.activation_bytes),
        }
    }
}

/// A layer whose output cannot be computed, located at its declaration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("layer `{layer}` ({kind}): {problem}")]
pub struct LayerError {
    /// The layer's name.
    pub layer: String,
    /// Its kind.
    pub kind: &'static str,
    /// What is wrong.
    pub problem: ShapeError,
    /// Its declaration.
    pub span: Span,
    /// The input shapes, for the help text.
    pub inputs: Vec<Shape>,
}

impl Locate for LayerError {
    fn span(&self) -> Span {
        self.span
    }

    fn label(&self) -> String {
        match self.inputs.as_slice() {
            [] => "this layer".to_string(),
            shapes => format!(
                "input {}",
                shapes
                    .iter()
                    .map(Shape::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn help(&self) -> Option<String> {
        match &self.problem {
            ShapeError::NotWhole { .. } => Some(
                "choose `rounding floor` (Keras, PyTorch) or `rounding ceil` (Caffe pooling), or change the sizes"
                    .to_string(),
            ),
            ShapeError::WindowTooLarge { .. } => {
                Some("use a smaller kernel, padding, or a larger input".to_string())
            }
            ShapeError::Rank { .. } => Some("a `flatten` or an earlier layer may be missing".to_string()),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self.problem {
            ShapeError::NotWhole { .. } => "netcalc::shape::not_whole",
            ShapeError::WindowTooLarge { .. } => "netcalc::shape::window_too_large",
            ShapeError::Rank { .. } => "netcalc::shape::rank",
            ShapeError::InputCount { .. } => "netcalc::shape::input_count",
            ShapeError::Mismatch(_) => "netcalc::shape::mismatch",
            ShapeError::Overflow(_) => "netcalc::shape::overflow",
        }
    }
}

/// Checks that a layer tied to another (`tied_to`) names a layer analysed before it that has a
/// parameter tensor of the shape the tie needs.
fn check_tie(
    network: &Network,
    analysed: &[LayerInfo],
    tie: &crate::layers::Tie,
) -> Result<(), ShapeError> {
    let name = &tie.layer.value;
    let Some(position) = analysed.iter().position(|info| &info.name == name) else {
        return Err(ShapeError::Mismatch(format!(
            "its weights are tied to `{name}`, but no layer of that name comes before it"
        )));
    };
    let target = network.node(network.order()[position]);
    let shapes: Vec<Vec<u64>> = target
        .layer
        .parameter_specs(&analysed[position].input_shapes)
        .iter()
        .map(|spec| spec.shape.iter().map(|&extent| extent as u64).collect())
        .collect();
    if shapes.contains(&tie.shape) {
        return Ok(());
    }
    let written = |shape: &Vec<u64>| {
        shape
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("×")
    };
    let found = match shapes.as_slice() {
        [] => "no parameters".to_string(),
        several => several
            .iter()
            .map(|shape| format!("[{}]", written(shape)))
            .collect::<Vec<_>>()
            .join(", "),
    };
    Err(ShapeError::Mismatch(format!(
        "its weights are tied to `{name}`, which has {found}, not the [{}] these weights need (transposed)",
        written(&tie.shape)
    )))
}

/// Analyses a network and checks the assertions written in its description.
pub fn analyse(network: &Network) -> Result<Analysis, Error> {
    let analysis = compute(network)?;
    expectations::check(network, &analysis).map_err(|e| Error::new(&network.source, e))?;
    Ok(analysis)
}

/// Analyses a network without checking its assertions.
pub fn compute(network: &Network) -> Result<Analysis, Error> {
    let order = network.order();
    let mut slot_of = vec![usize::MAX; network.graph().node_count()];
    let mut layers: Vec<LayerInfo> = Vec::with_capacity(order.len());
    let mut totals = Totals::default();
    let mut auxiliary = Totals::default();
    for &index in order {
        let node = network.node(index);
        let inputs = network.inputs(index);
        let input_infos: Vec<&LayerInfo> =
            inputs.iter().map(|i| &layers[slot_of[i.index()]]).collect();
        let input_shapes: Vec<Shape> = input_infos.iter().map(|info| info.output.clone()).collect();
        let kind = crate::layers::find(&node.decl.kind.value).map_or("?", |kind| kind.name);
        let fail = |problem: ShapeError| {
            Error::new(
                &network.source,
                LayerError {
                    layer: node.name.clone(),
                    kind,
                    problem,
                    span: node.decl.span,
                    inputs: input_shapes.clone(),
                },
            )
        };
        let layer = &node.layer;
        let inference = layer.infer(&input_shapes, network.rounding).map_err(fail)?;
        let output = inference.output;
        let tie = layer.tie(&input_shapes);
        if let Some(tie) = &tie {
            check_tie(network, &layers, tie).map_err(|problem| {
                Error::new(
                    &network.source,
                    LayerError {
                        layer: node.name.clone(),
                        kind,
                        problem,
                        span: tie.layer.span,
                        inputs: input_shapes.clone(),
                    },
                )
            })?;
        }
        let groups = layer.parameters(&input_shapes, &output);
        // Exactly the room needed (a growing vector took four slots for a dense layer's two).
        let mut parameters = Vec::with_capacity(groups.len());
        let (mut trainable, mut non_trainable, mut buffers) = (0u64, 0u64, 0u64);
        for group in groups {
            // Parameter formulas stay as the layer wrote them: the sheet writes the depth even
            // when it is 1 (`3·3·1·32+32`).
            let size = Counted::evaluate(group.count, "the parameter count").map_err(fail)?;
            if group.buffer {
                buffers = buffers
                    .checked_add(size.count)
                    .ok_or_else(|| fail(ShapeError::Overflow("the buffer count".to_string())))?;
                continue;
            }
            let sum = if group.trainable {
                &mut trainable
            } else {
                &mut non_trainable
            };
            *sum = sum
                .checked_add(size.count)
                .ok_or_else(|| fail(ShapeError::Overflow("the parameter count".to_string())))?;
            parameters.push(ParameterInfo {
                name: group.name,
                size,
                trainable: group.trainable,
            });
        }
        let parameter_total = match parameters.as_slice() {
            [] => None,
            [one] => Some(one.size.clone()),
            several => Some(
                Counted::evaluate(
                    Expression::sum(several.iter().map(|p| p.size.formula.clone()).collect()),
                    "the parameter count",
                )
                .map_err(fail)?,
            ),
        };
        let connections = layer.connections(&input_shapes, &output);
        let connections_without_bias = Counted::evaluate(
            connections.without_bias.simplified(),
            "the connection count",
        )
        .map_err(fail)?;
        let connections_with_bias =
            Counted::evaluate(connections.with_bias.simplified(), "the connection count")
                .map_err(fail)?;
        let macs = Counted::evaluate(
            layer.macs(&input_shapes, &output).simplified(),
            "the MAC count",
        )
        .map_err(fail)?;
        let step = layer.receptive_step(&input_shapes);
        let input_fields: Vec<ReceptiveField> = input_infos
            .iter()
            .map(|info| info.receptive_field)
            .collect();
        let receptive_field = if input_fields.is_empty() {
            ReceptiveField::input(&output)
        } else {
            ReceptiveField::after(step, &input_fields).map_err(fail)?
        };
        let activation_bytes = output
            .units()
            .and_then(|units| units.checked_mul(4))
            .ok_or_else(|| fail(ShapeError::Overflow("the output size".to_string())))?;
        let in_auxiliary_branch = network.outputs().in_auxiliary_branch(index);
        let layer_totals = Totals {
            trainable,
            non_trainable,
            buffers,
            connections_without_bias: connections_without_bias.count,
            connections_with_bias: connections_with_bias.count,
            macs: macs.count,
            activation_bytes,
        };
        let overflow = || fail(ShapeError::Overflow("the network's totals".to_string()));
        totals.add(&layer_totals).ok_or_else(overflow)?;
        if in_auxiliary_branch {
            auxiliary.add(&layer_totals).ok_or_else(overflow)?;
        }
        slot_of[index.index()] = layers.len();
        layers.push(LayerInfo {
            name: node.name.clone(),
            kind,
            settings: layer.settings(),
            explanation: layer.explanation(&input_shapes, &output),
            inputs: inputs
                .iter()
                .map(|i| network.node(*i).name.clone())
                .collect(),
            input_shapes,
            output,
            formulas: inference.formulas,
            parameters,
            parameter_total,
            trainable,
            non_trainable,
            buffers,
            connections_without_bias,
            connections_with_bias,
            step,
            receptive_field,
            macs,
            activation_bytes,
            auxiliary: in_auxiliary_branch,
            copies: node.decl.copies.clone(),
            tied_to: tie.map(|tie| tie.layer.value),
        });
    }
    Ok(Analysis {
        network: network.name.clone(),
        layers,
        totals,
        auxiliary,
    })
}

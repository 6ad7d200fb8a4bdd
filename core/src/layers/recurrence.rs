//! What the recurrent kinds share (`simple_rnn` in `simple_rnn.rs`, `lstm` in `lstm.rs`, `gru` in
//! `gru.rs`): their attributes, shape rule, counts, parameter tensors, and backpropagation through
//! time; each kind's file holds its cell, the step that turns one input step and the previous
//! state into the next state.
//!
//! A recurrent layer reads a sequence L×D and keeps `units` (h) values of state. Each of its G
//! gates (1 for a simple RNN, 4 for an LSTM, 3 for a GRU) has h units, and each gate unit reads
//! the D inputs of the step and the h state values of the previous step, so its weights are
//! G·h·(D+h) (Keras' kernel D×G·h and recurrent kernel h×G·h). Its biases depend on the
//! conventions: Keras has one bias vector per gate (G·h), PyTorch, cuDNN and ONNX have two
//! (`bias_ih` and `bias_hh`, 2·G·h); Keras' GRU with `reset_after=true` has two as well. So
//! Keras' LSTM(128) on 28 features has 4·128·(28+128)+4·128 = 80384 parameters and PyTorch's
//! `nn.LSTM(28, 128)` 4·128·(28+128)+2·4·128 = 80896.
//!
//! Connections and MACs are counted per step, times the steps: at each of the L steps each of the
//! G·h gate units is linked to D+h units (and to its biases), L·G·h·(D+h) links without bias. Only
//! products by weights are MACs; the gates' elementwise products and activations are not counted
//! (as for activations elsewhere). `bidirectional=true` runs a second layer over the reversed
//! sequence and doubles every count; its outputs are joined by `merge=concat` (the default, as in
//! Keras and PyTorch) or `merge=sum`. With `return_sequences=true` the output is every step's
//! state, L×h, otherwise the last step's, h (for the backward direction: its state after reading
//! the whole sequence backwards, at step 1). The state starts at zero for every sequence.
//!
//! Execution projects the whole sequence at once (`X·W + b`, one product), then runs the cell
//! step by step (one product by the recurrent kernel per step); the backward pass runs the steps
//! in reverse (backpropagation through time), then takes the kernel's and the input's gradients
//! in one product each.

use super::sizes::{extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Explanation, Forward, Gradients, Inference,
    Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single_sequence,
};
use crate::conventions::Conventions;
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::matmul::{Product, matmul};
use crate::tensor::{Compute, Tensor, TensorError, expect_length};
use std::fmt;

/// How the two directions of a bidirectional layer are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Merge {
    /// Side by side: 2·h values (Keras' default `merge_mode='concat'`, PyTorch's only form).
    Concat,
    /// Added: h values.
    Sum,
}

/// One recurrent cell kind: what a step computes, forward and backward.
pub(crate) trait Cell: fmt::Debug + Send + Sync {
    /// Gates per unit: 1 for a simple RNN, 4 for an LSTM, 3 for a GRU.
    fn gates(&self) -> usize;
    /// The gates' names, in the order of the weights' columns.
    fn gate_names(&self) -> &'static [&'static str];
    /// The layer as a sentence names it: "an LSTM layer".
    fn called(&self) -> &'static str;
    /// Bias vectors per gate unit under these conventions (when the layer has biases).
    fn biases(&self, conventions: Conventions) -> u64;
    /// Settings beyond the shared ones, e.g. `, reset_after=false`.
    fn settings(&self) -> String;
    /// Whether the state has a second part besides the output (the LSTM's cell state).
    fn has_memory(&self) -> bool;
    /// Values a step keeps per unit and batch row for its backward pass.
    fn saved_per_unit(&self) -> usize;
    /// One step forward.
    fn forward_step(&self, step: StepForward<'_>) -> Result<(), TensorError>;
    /// One step backward.
    fn backward_step(&self, step: StepBackward<'_>) -> Result<(), TensorError>;
}

/// What a cell's forward step reads and writes (rows are batch rows, h = `units`, G = gates).
pub(crate) struct StepForward<'a> {
    /// Rows of the batch.
    pub batch: usize,
    /// h.
    pub units: usize,
    /// The step's input projection `x_t·W + b` (the input bias), `[batch, G·h]`; the cell may
    /// overwrite it.
    pub projected: &'a mut [f32],
    /// The previous state h_{t-1}, `[batch, h]`.
    pub previous: &'a [f32],
    /// The previous memory c_{t-1}, `[batch, h]` (empty for cells without memory).
    pub previous_memory: &'a [f32],
    /// The recurrent kernel U, `[h, G·h]`.
    pub recurrent: &'a [f32],
    /// The recurrent bias, `[G·h]`, when the conventions have a second bias.
    pub recurrent_bias: Option<&'a [f32]>,
    /// The new state h_t, written.
    pub state: &'a mut [f32],
    /// The new memory c_t, written (empty for cells without memory).
    pub memory: &'a mut [f32],
    /// What the backward step needs, `[batch, saved_per_unit·h]`, written.
    pub saved: &'a mut [f32],
    /// Threads for the products.
    pub compute: Compute,
}

/// What a cell's backward step reads and writes.
pub(crate) struct StepBackward<'a> {
    /// Rows of the batch.
    pub batch: usize,
    /// h.
    pub units: usize,
    /// What the forward step saved.
    pub saved: &'a [f32],
    /// h_{t-1}.
    pub previous: &'a [f32],
    /// c_{t-1} (empty without memory).
    pub previous_memory: &'a [f32],
    /// h_t.
    pub state: &'a [f32],
    /// c_t (empty without memory).
    pub memory: &'a [f32],
    /// U, `[h, G·h]`.
    pub recurrent: &'a [f32],
    /// ∂loss/∂h_t, from the output and from later steps.
    pub state_gradient: &'a [f32],
    /// ∂loss/∂c_t from later steps (empty without memory).
    pub memory_gradient: &'a [f32],
    /// ∂loss/∂(x_t·W + b), `[batch, G·h]`, written.
    pub projected_gradient: &'a mut [f32],
    /// ∂loss/∂h_{t-1}, written.
    pub previous_gradient: &'a mut [f32],
    /// ∂loss/∂c_{t-1}, written (empty without memory).
    pub previous_memory_gradient: &'a mut [f32],
    /// ∂loss/∂U, added to.
    pub recurrent_gradient: &'a mut [f32],
    /// ∂loss/∂(recurrent bias), added to, when there is one.
    pub recurrent_bias_gradient: Option<&'a mut [f32]>,
    /// Threads for the products.
    pub compute: Compute,
}

/// A recurrent layer: the shared settings and the kind's cell.
#[derive(Debug)]
pub(crate) struct Recurrent {
    cell: Box<dyn Cell>,
    units: u64,
    return_sequences: bool,
    bidirectional: Option<Merge>,
    use_bias: bool,
    conventions: Conventions,
}

/// The shared settings, read before the cell is made so that a kind can check its own
/// attributes against them.
pub(crate) struct Settings {
    units: u64,
    return_sequences: bool,
    bidirectional: Option<Merge>,
    use_bias: bool,
    /// The conventions the layer counts by: its own `conventions=`, else its network's.
    pub conventions: Conventions,
}

/// Reads `units` (required), `return_sequences`, `bidirectional`, `merge`, `use_bias` and
/// `conventions`.
pub(crate) fn read_settings(reader: &mut AttributeReader) -> Result<Settings, DeclarationError> {
    let units = reader.required_count("units")?;
    let return_sequences = reader.boolean("return_sequences")?.unwrap_or(false);
    let bidirectional = reader.boolean("bidirectional")?.unwrap_or(false);
    let merge = reader.choice("merge", &["concat", "sum"])?;
    // `merge=concat` restates the default and is harmless on one direction; a sum of one
    // direction means nothing, so it asks for the second one.
    if let (Some("sum"), false) = (merge, bidirectional) {
        let value = reader.value("merge").expect("read above");
        return Err(reader.invalid("merge", value, "needs bidirectional=true"));
    }
    let use_bias = reader.boolean("use_bias")?.unwrap_or(true);
    let conventions = reader.conventions()?;
    Ok(Settings {
        units,
        return_sequences,
        bidirectional: bidirectional.then_some(match merge {
            Some("sum") => Merge::Sum,
            _ => Merge::Concat,
        }),
        use_bias,
        conventions,
    })
}

impl Recurrent {
    /// A layer of `cell`s with these settings.
    pub(crate) fn new(settings: Settings, cell: Box<dyn Cell>) -> Recurrent {
        Recurrent {
            cell,
            units: settings.units,
            return_sequences: settings.return_sequences,
            bidirectional: settings.bidirectional,
            use_bias: settings.use_bias,
            conventions: settings.conventions,
        }
    }

    /// Bias vectors per gate unit: 0 without bias, else 1 or 2 by the conventions.
    fn biases(&self) -> u64 {
        if self.use_bias {
            self.cell.biases(self.conventions)
        } else {
            0
        }
    }

    fn directions(&self) -> u64 {
        if self.bidirectional.is_some() { 2 } else { 1 }
    }

    /// Values per step of the output: h, or 2·h for two directions side by side.
    fn output_units(&self) -> u64 {
        match self.bidirectional {
            Some(Merge::Concat) => self.units.saturating_mul(2),
            _ => self.units,
        }
    }

    /// G·h, written h alone for one gate (a simple RNN).
    fn gate_units(&self) -> Vec<Expression> {
        let units = Expression::Number(self.units);
        match self.cell.gates() {
            1 => vec![units],
            gates => vec![Expression::Number(gates as u64), units],
        }
    }

    /// One gate unit's inputs, `D+h`, plus its biases when `with_bias`.
    fn fan_in(&self, features: u64, with_bias: bool) -> Expression {
        let mut terms = vec![Expression::Number(features), Expression::Number(self.units)];
        if with_bias && self.biases() > 0 {
            terms.push(Expression::Number(self.biases()));
        }
        Expression::sum(terms)
    }

    /// `L·G·h·(D+h)` links (with bias `…·(D+h+k)`), times 2 for two directions.
    fn links(&self, input: &Shape, with_bias: bool) -> Expression {
        let (steps, features) = input.sequence().unwrap_or((0, 0));
        let mut factors = Vec::new();
        if self.directions() == 2 {
            factors.push(Expression::Number(2));
        }
        factors.push(Expression::Number(steps));
        factors.extend(self.gate_units());
        factors.push(self.fan_in(features, with_bias));
        Expression::product(factors)
    }

    /// The bias tensors per direction: `bias` (the input bias), then `recurrent_bias`.
    fn bias_names(&self, backward: bool) -> &'static [&'static str] {
        let names: [&'static [&'static str]; 3] = if backward {
            [
                &[],
                &["backward_bias"],
                &["backward_bias", "backward_recurrent_bias"],
            ]
        } else {
            [&[], &["bias"], &["bias", "recurrent_bias"]]
        };
        names[self.biases().min(2) as usize]
    }
}

impl Layer for Recurrent {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        let mut text = format!("{} units", self.units);
        if self.return_sequences {
            text.push_str(", sequences");
        }
        match self.bidirectional {
            Some(Merge::Concat) => text.push_str(", bidirectional"),
            Some(Merge::Sum) => text.push_str(", bidirectional sum"),
            None => {}
        }
        text.push_str(&self.cell.settings());
        if !self.use_bias {
            text.push_str(", no bias");
        } else if self.conventions == Conventions::Pytorch {
            text.push_str(", pytorch biases");
        }
        text
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (steps, features) = single_sequence(inputs)?;
        let output = if self.return_sequences {
            Shape::new(vec![steps, self.output_units()])
        } else {
            Shape::new(vec![self.output_units()])
        };
        // The largest count: connections with bias, L·G·h·(D+h+2) for each direction.
        let largest = self
            .links(&inputs[0], true)
            .count()
            .ok()
            .and(features.checked_add(self.units))
            .and(output.units());
        if largest.is_none() {
            return Err(ShapeError::Overflow("the layer's size".to_string()));
        }
        Ok(Inference::plain(output))
    }

    /// Per direction: `weights` G·h·(D+h), then `bias` G·h, or 2·G·h with two bias vectors.
    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let features = inputs[0].channels();
        let mut groups = Vec::new();
        for backward in [false, true].into_iter().take(self.directions() as usize) {
            let (weights, bias) = if backward {
                ("backward weights", "backward bias")
            } else if self.directions() == 2 {
                ("forward weights", "forward bias")
            } else {
                ("weights", "bias")
            };
            let mut factors = self.gate_units();
            factors.push(self.fan_in(features, false));
            groups.push(ParameterGroup {
                name: weights,
                count: Expression::product(factors),
                trainable: true,
                buffer: false,
            });
            if self.biases() > 0 {
                let mut factors = self.gate_units();
                if self.biases() > 1 {
                    factors.insert(0, Expression::Number(self.biases()));
                }
                groups.push(ParameterGroup {
                    name: bias,
                    count: Expression::product(factors),
                    trainable: true,
                    buffer: false,
                });
            }
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        Connections {
            without_bias: self.links(&inputs[0], false),
            with_bias: self.links(&inputs[0], true),
        }
    }

    /// The last step's state has read every step; with `return_sequences`, step t has read steps
    /// 1…t (and, bidirectional, all of them). Counted as the whole input.
    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
    }

    fn macs(&self, inputs: &[Shape], _: &Shape) -> Expression {
        self.links(&inputs[0], false)
    }

    /// Per direction: `kernel` `[D, G·h]`, `recurrent_kernel` `[h, G·h]` (Keras' names and
    /// layouts, gates side by side in the columns), then the biases `[G·h]`: `bias`, and
    /// `recurrent_bias` under two-bias conventions. The backward direction's names start with
    /// `backward_`.
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let features = inputs.first().map_or(0, |input| extent(input.channels()));
        let units = extent(self.units);
        let gate_units = units.saturating_mul(self.cell.gates());
        let mut specs = Vec::new();
        for backward in [false, true].into_iter().take(self.directions() as usize) {
            let (kernel, recurrent) = if backward {
                ("backward_kernel", "backward_recurrent_kernel")
            } else {
                ("kernel", "recurrent_kernel")
            };
            for (name, rows) in [(kernel, features), (recurrent, units)] {
                specs.push(ParameterSpec {
                    name,
                    shape: vec![rows, gate_units],
                    trainable: true,
                    active: rows.saturating_mul(gate_units),
                    role: Role::Weights {
                        fan_in: rows,
                        fan_out: gate_units,
                    },
                    mask: None,
                });
            }
            for &name in self.bias_names(backward) {
                specs.push(ParameterSpec {
                    name,
                    ..ParameterSpec::bias(gate_units)
                });
            }
        }
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let sizes = self.sizes(input)?;
        let mut directions = Vec::new();
        for (direction, weights) in self.split(parameters)?.into_iter().enumerate() {
            directions.push(self.run_forward(
                &sizes,
                input,
                &weights,
                direction == 1,
                pass.compute,
            )?);
        }
        let output = self.merged(&sizes, &directions)?;
        Ok(Forward {
            output,
            saved: Box::new(Saved { directions }),
        })
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let sizes = self.sizes(input)?;
        if output_gradient.shape() != forward.output.shape() {
            return Err(TensorError::Geometry {
                reason: "the output gradient has another shape than the output".to_string(),
            });
        }
        let saved = forward
            .saved
            .downcast_ref::<Saved>()
            .ok_or_else(|| TensorError::Geometry {
                reason: "the forward pass kept no recurrent states".to_string(),
            })?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        let mut parameter_gradients = Vec::new();
        for (direction, weights) in self.split(parameters)?.into_iter().enumerate() {
            let kept = saved
                .directions
                .get(direction)
                .ok_or_else(|| TensorError::Geometry {
                    reason: "the forward pass kept fewer directions".to_string(),
                })?;
            parameter_gradients.extend(self.run_backward(
                &sizes,
                input,
                &weights,
                kept,
                output_gradient,
                direction,
                &mut input_gradient,
                compute,
            )?);
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: parameter_gradients,
        })
    }

    fn explanation(&self, inputs: &[Shape], _: &Shape) -> Option<Explanation> {
        let (steps, features) = inputs.first()?.sequence()?;
        let gates = self.cell.gates();
        let names = self.cell.gate_names().join(", ");
        let gate_word = if gates == 1 {
            "1 gate".to_string()
        } else {
            format!("{gates} gates ({names})")
        };
        let biases = match self.biases() {
            0 => "no bias".to_string(),
            1 => "one bias (Keras)".to_string(),
            _ if self.conventions == Conventions::Keras => {
                "two biases (Keras' reset_after GRU, as PyTorch)".to_string()
            }
            _ => "two biases (PyTorch, cuDNN)".to_string(),
        };
        let directions = if self.directions() == 2 {
            ", in each of its 2 directions"
        } else {
            ""
        };
        let parameters = format!(
            "{} has {gate_word}{directions}, each with {} units; each gate unit has {features} \
             input weights, {} recurrent weights and {biases}",
            self.cell.called(),
            self.units,
            self.units
        );
        let units = format!(
            "at each of the {steps} steps{directions}, each of the {gates}·{} gate units",
            self.units
        );
        Some(Explanation {
            parameters,
            units,
            links: Some([self.fan_in(features, false), self.fan_in(features, true)]),
            macs: None,
            connections: None,
            size_rule: None,
        })
    }
}

/// The sizes of a forward or backward pass.
struct Sizes {
    batch: usize,
    steps: usize,
    features: usize,
    units: usize,
    gate_units: usize,
}

/// One direction's parameter tensors.
struct Weights<'a> {
    kernel: &'a Tensor,
    recurrent: &'a Tensor,
    bias: Option<&'a Tensor>,
    recurrent_bias: Option<&'a Tensor>,
}

/// What one direction's forward pass keeps: the states (and memories) before and after each step
/// in the order the steps were read, `[steps+1, batch, h]`, and the cell's saved values.
struct Direction {
    states: Vec<f32>,
    memories: Vec<f32>,
    cells: Vec<f32>,
}

/// The forward pass's record for the backward pass.
struct Saved {
    directions: Vec<Direction>,
}

impl Recurrent {
    fn sizes(&self, input: &Tensor) -> Result<Sizes, TensorError> {
        let &[batch, steps, features] = input.shape() else {
            return Err(TensorError::Geometry {
                reason: format!(
                    "a recurrent layer reads batches of sequences [batch, steps, features], got {:?}",
                    input.shape()
                ),
            });
        };
        let units = extent(self.units);
        Ok(Sizes {
            batch,
            steps,
            features,
            units,
            gate_units: units.saturating_mul(self.cell.gates()),
        })
    }

    /// The parameter tensors per direction, in `parameter_specs` order.
    fn split<'p>(&self, parameters: &'p [Tensor]) -> Result<Vec<Weights<'p>>, TensorError> {
        let per_direction = 2 + self.biases().min(2) as usize;
        let expected = per_direction * self.directions() as usize;
        if parameters.len() != expected {
            return Err(TensorError::Geometry {
                reason: format!(
                    "expected {expected} parameter tensors, got {}",
                    parameters.len()
                ),
            });
        }
        Ok(parameters
            .chunks_exact(per_direction)
            .map(|tensors| Weights {
                kernel: &tensors[0],
                recurrent: &tensors[1],
                bias: tensors.get(2),
                recurrent_bias: tensors.get(3),
            })
            .collect())
    }

    /// Runs one direction over the sequence (backwards in time when `reverse`).
    fn run_forward(
        &self,
        sizes: &Sizes,
        input: &Tensor,
        weights: &Weights,
        reverse: bool,
        compute: Compute,
    ) -> Result<Direction, TensorError> {
        let Sizes {
            batch,
            steps,
            features,
            units,
            gate_units,
        } = *sizes;
        expect_length(
            "recurrent kernel",
            weights.kernel.len(),
            crate::tensor::element_count(&[features, gate_units])?,
        )?;
        expect_length(
            "recurrent kernel",
            weights.recurrent.len(),
            crate::tensor::element_count(&[units, gate_units])?,
        )?;
        let rows = crate::tensor::element_count(&[batch, steps])?;
        // X·W + b for every step at once: [batch·steps, G·h].
        let mut projection = vec![0.0f32; crate::tensor::element_count(&[rows, gate_units])?];
        let mut product = Product::new(rows, features, gate_units);
        if let Some(bias) = weights.bias {
            expect_length("recurrent bias", bias.len(), gate_units)?;
            for row in projection.chunks_exact_mut(gate_units.max(1)) {
                row.copy_from_slice(bias.data());
            }
            product = product.accumulating(1.0);
        }
        matmul(
            &product,
            input.data(),
            weights.kernel.data(),
            &mut projection,
            compute,
        )?;
        if let Some(bias) = weights.recurrent_bias {
            expect_length("recurrent bias", bias.len(), gate_units)?;
        }
        let state_size = batch * units;
        let memory_size = if self.cell.has_memory() {
            state_size
        } else {
            0
        };
        let saved_size = batch * units * self.cell.saved_per_unit();
        let mut states = vec![0.0f32; (steps + 1) * state_size];
        let mut memories = vec![0.0f32; (steps + 1) * memory_size];
        let mut cells = vec![0.0f32; steps * saved_size];
        let mut projected = vec![0.0f32; batch * gate_units];
        for step in 0..steps {
            let time = if reverse { steps - 1 - step } else { step };
            for (example, row) in projected.chunks_exact_mut(gate_units.max(1)).enumerate() {
                let start = (example * steps + time) * gate_units;
                row.copy_from_slice(&projection[start..start + gate_units]);
            }
            let (before, after) = states.split_at_mut((step + 1) * state_size);
            let (memory_before, memory_after) = memories.split_at_mut((step + 1) * memory_size);
            self.cell.forward_step(StepForward {
                batch,
                units,
                projected: &mut projected,
                previous: &before[step * state_size..],
                previous_memory: &memory_before[step * memory_size..],
                recurrent: weights.recurrent.data(),
                recurrent_bias: weights.recurrent_bias.map(Tensor::data),
                state: &mut after[..state_size],
                memory: &mut memory_after[..memory_size],
                saved: &mut cells[step * saved_size..(step + 1) * saved_size],
                compute,
            })?;
        }
        Ok(Direction {
            states,
            memories,
            cells,
        })
    }

    /// The layer's output from its directions' states.
    fn merged(&self, sizes: &Sizes, directions: &[Direction]) -> Result<Tensor, TensorError> {
        let Sizes {
            batch,
            steps,
            units,
            ..
        } = *sizes;
        let width = extent(self.output_units());
        let state_size = batch * units;
        let mut output = if self.return_sequences {
            Tensor::zeros(&[batch, steps, width])?
        } else {
            Tensor::zeros(&[batch, width])?
        };
        let values = output.data_mut();
        for (direction, kept) in directions.iter().enumerate() {
            let offset = match self.bidirectional {
                Some(Merge::Concat) => direction * units,
                _ => 0,
            };
            for step in 0..steps {
                let time = if direction == 1 {
                    steps - 1 - step
                } else {
                    step
                };
                if !self.return_sequences && step + 1 != steps {
                    continue;
                }
                let state = &kept.states[(step + 1) * state_size..(step + 2) * state_size];
                for example in 0..batch {
                    let row = if self.return_sequences {
                        (example * steps + time) * width
                    } else {
                        example * width
                    };
                    let target = &mut values[row + offset..row + offset + units];
                    for (sum, value) in target.iter_mut().zip(&state[example * units..]) {
                        *sum += value;
                    }
                }
            }
        }
        Ok(output)
    }

    /// Backpropagation through time for one direction: adds ∂loss/∂input into
    /// `input_gradient` and returns the direction's parameter gradients in spec order.
    #[allow(clippy::too_many_arguments)]
    fn run_backward(
        &self,
        sizes: &Sizes,
        input: &Tensor,
        weights: &Weights,
        kept: &Direction,
        output_gradient: &Tensor,
        direction: usize,
        input_gradient: &mut Tensor,
        compute: Compute,
    ) -> Result<Vec<Tensor>, TensorError> {
        let Sizes {
            batch,
            steps,
            features,
            units,
            gate_units,
        } = *sizes;
        let reverse = direction == 1;
        let width = extent(self.output_units());
        let offset = match self.bidirectional {
            Some(Merge::Concat) => direction * units,
            _ => 0,
        };
        let state_size = batch * units;
        let memory_size = if self.cell.has_memory() {
            state_size
        } else {
            0
        };
        let saved_size = batch * units * self.cell.saved_per_unit();
        let rows = batch * steps;
        let mut projection_gradient = vec![0.0f32; rows * gate_units];
        let mut recurrent_gradient = Tensor::zeros(weights.recurrent.shape())?;
        let mut recurrent_bias_gradient = match weights.recurrent_bias {
            Some(bias) => Some(Tensor::zeros(bias.shape())?),
            None => None,
        };
        let mut state_gradient = vec![0.0f32; state_size];
        let mut memory_gradient = vec![0.0f32; memory_size];
        let mut previous_gradient = vec![0.0f32; state_size];
        let mut previous_memory_gradient = vec![0.0f32; memory_size];
        let mut projected_gradient = vec![0.0f32; batch * gate_units];
        let upstream = output_gradient.data();
        for step in (0..steps).rev() {
            let time = if reverse { steps - 1 - step } else { step };
            // ∂loss/∂h_t: from later steps (already in `state_gradient`) and from the output.
            if self.return_sequences || step + 1 == steps {
                for example in 0..batch {
                    let row = if self.return_sequences {
                        (example * steps + time) * width
                    } else {
                        example * width
                    };
                    let source = &upstream[row + offset..row + offset + units];
                    for (sum, value) in state_gradient[example * units..(example + 1) * units]
                        .iter_mut()
                        .zip(source)
                    {
                        *sum += value;
                    }
                }
            }
            self.cell.backward_step(StepBackward {
                batch,
                units,
                saved: &kept.cells[step * saved_size..(step + 1) * saved_size],
                previous: &kept.states[step * state_size..(step + 1) * state_size],
                previous_memory: &kept.memories[step * memory_size..(step + 1) * memory_size],
                state: &kept.states[(step + 1) * state_size..(step + 2) * state_size],
                memory: &kept.memories[(step + 1) * memory_size..(step + 2) * memory_size],
                recurrent: weights.recurrent.data(),
                state_gradient: &state_gradient,
                memory_gradient: &memory_gradient,
                projected_gradient: &mut projected_gradient,
                previous_gradient: &mut previous_gradient,
                previous_memory_gradient: &mut previous_memory_gradient,
                recurrent_gradient: recurrent_gradient.data_mut(),
                recurrent_bias_gradient: recurrent_bias_gradient.as_mut().map(Tensor::data_mut),
                compute,
            })?;
            for (example, row) in projected_gradient
                .chunks_exact(gate_units.max(1))
                .enumerate()
            {
                let start = (example * steps + time) * gate_units;
                projection_gradient[start..start + gate_units].copy_from_slice(row);
            }
            std::mem::swap(&mut state_gradient, &mut previous_gradient);
            std::mem::swap(&mut memory_gradient, &mut previous_memory_gradient);
        }
        // dW = Xᵀ·dP, with X stored [batch·steps, D].
        let mut kernel_gradient = Tensor::zeros(weights.kernel.shape())?;
        matmul(
            &Product::new(features, rows, gate_units).transposing_a(),
            input.data(),
            &projection_gradient,
            kernel_gradient.data_mut(),
            compute,
        )?;
        // dX += dP·Wᵀ, with W stored [D, G·h].
        matmul(
            &Product::new(rows, gate_units, features)
                .transposing_b()
                .accumulating(1.0),
            &projection_gradient,
            weights.kernel.data(),
            input_gradient.data_mut(),
            compute,
        )?;
        let mut gradients = vec![kernel_gradient, recurrent_gradient];
        if let Some(bias) = weights.bias {
            let mut bias_gradient = Tensor::zeros(bias.shape())?;
            for row in projection_gradient.chunks_exact(gate_units.max(1)) {
                for (sum, value) in bias_gradient.data_mut().iter_mut().zip(row) {
                    *sum += value;
                }
            }
            gradients.push(bias_gradient);
        }
        gradients.extend(recurrent_bias_gradient);
        Ok(gradients)
    }
}

/// `target = a·b` (`accumulate`: `target += a·b`) for row-major `a` `[m, k]` and `b` `[k, n]`.
pub(crate) fn product(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    target: &mut [f32],
    accumulate: bool,
    compute: Compute,
) -> Result<(), TensorError> {
    let product = Product::new(m, k, n);
    let product = if accumulate {
        product.accumulating(1.0)
    } else {
        product
    };
    matmul(&product, a, b, target, compute)
}

/// `target += aᵀ·b` for `a` `[k, m]` and `b` `[k, n]` (a kernel's gradient).
pub(crate) fn add_transposed_product(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    target: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    matmul(
        &Product::new(m, k, n).transposing_a().accumulating(1.0),
        a,
        b,
        target,
        compute,
    )
}

/// `target = a·bᵀ` (`accumulate`: `+=`) for `a` `[m, k]` and `b` `[n, k]` (a gradient through a
/// kernel).
pub(crate) fn product_transposed(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    b: &[f32],
    target: &mut [f32],
    accumulate: bool,
    compute: Compute,
) -> Result<(), TensorError> {
    let product = Product::new(m, k, n).transposing_b();
    let product = if accumulate {
        product.accumulating(1.0)
    } else {
        product
    };
    matmul(&product, a, b, target, compute)
}

/// The recurrent part of every gate's pre-activation, `h·U` (`[batch, units]·[units, width]`)
/// and then the second bias when there is one, added into `target` (`[batch, width]`), or
/// written there when `accumulate` is false.
pub(crate) fn recurrent_part(
    sizes: (usize, usize, usize),
    previous: &[f32],
    recurrent: &[f32],
    recurrent_bias: Option<&[f32]>,
    target: &mut [f32],
    accumulate: bool,
    compute: Compute,
) -> Result<(), TensorError> {
    product(sizes, previous, recurrent, target, accumulate, compute)?;
    if let Some(bias) = recurrent_bias {
        add_to_rows(target, bias);
    }
    Ok(())
}

/// Adds `bias` (`[n]`) to every row of `rows` (`[m, n]`).
pub(crate) fn add_to_rows(rows: &mut [f32], bias: &[f32]) {
    for row in rows.chunks_exact_mut(bias.len().max(1)) {
        for (value, b) in row.iter_mut().zip(bias) {
            *value += b;
        }
    }
}

/// Adds the column sums of `rows` (`[m, n]`) into `sums` (`[n]`).
pub(crate) fn add_column_sums(rows: &[f32], sums: &mut [f32]) {
    for row in rows.chunks_exact(sums.len().max(1)) {
        for (sum, value) in sums.iter_mut().zip(row) {
            *sum += value;
        }
    }
}

/// The shared tests of the recurrent kinds: a naive reference of the forward pass (f64 scalar
/// loops, independent of the layer's products and step functions) and random-shape gradient
/// checks.
#[cfg(test)]
pub(crate) mod testing {
    use crate::layers::testing::declaration;
    use crate::layers::{self, Pass};
    use crate::tensor::{Compute, Tensor};
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// A reference cell step in f64: from x_t·W + b (already with the input bias), the previous
    /// state and memory, U, and the recurrent bias, the new state and memory.
    pub type ReferenceStep = fn(
        projected: &[f64],
        previous: &[f64],
        memory: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>);

    fn uniform(random: &mut ChaCha8Rng) -> f32 {
        (random.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }

    /// Runs the layer of `line` on a random batch of `steps`×`features` sequences and compares
    /// its output with `step` run naively over time (both directions, merged as the layer
    /// says). `directions`, `biases` and `sum` describe the layer's settings.
    #[allow(clippy::too_many_arguments)]
    pub fn check_against_reference(
        line: &str,
        step: ReferenceStep,
        (batch, steps, features, units, gates): (usize, usize, usize, usize, usize),
        directions: usize,
        biases: usize,
        return_sequences: bool,
        sum: bool,
        seed: u64,
    ) {
        let mut decl = declaration(line);
        layers::name_positionals(&mut decl).expect("positionals");
        let layer = layers::build(&decl).expect("layer builds");
        let shape = crate::shape::Shape::new(vec![steps as u64, features as u64]);
        let specs = layer.parameter_specs(std::slice::from_ref(&shape));
        assert_eq!(specs.len(), directions * (2 + biases), "`{line}`");
        let mut random = ChaCha8Rng::seed_from_u64(seed);
        let mut parameters: Vec<Tensor> = specs
            .iter()
            .map(|spec| {
                let data = (0..spec.shape.iter().product::<usize>())
                    .map(|_| uniform(&mut random))
                    .collect();
                Tensor::from_vec(&spec.shape, data).unwrap()
            })
            .collect();
        let values: Vec<f32> = (0..batch * steps * features)
            .map(|_| uniform(&mut random))
            .collect();
        let input = Tensor::from_vec(&[batch, steps, features], values).unwrap();
        let mut generator = ChaCha8Rng::seed_from_u64(1);
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut generator,
        };
        let output = layer
            .forward(&mut parameters, &[&input], &mut pass)
            .expect("forward")
            .output;
        let gate_units = gates * units;
        let wide = |tensor: &Tensor| {
            tensor
                .data()
                .iter()
                .map(|&v| f64::from(v))
                .collect::<Vec<f64>>()
        };
        let mut expected_states: Vec<Vec<Vec<Vec<f64>>>> = Vec::new(); // [direction][example][time]
        for direction in 0..directions {
            let tensors = &parameters[direction * (2 + biases)..(direction + 1) * (2 + biases)];
            let kernel = wide(&tensors[0]);
            let recurrent: Vec<Vec<f64>> = wide(&tensors[1])
                .chunks(gate_units)
                .map(<[f64]>::to_vec)
                .collect();
            let bias = if biases > 0 {
                wide(&tensors[2])
            } else {
                vec![0.0; gate_units]
            };
            let recurrent_bias = if biases > 1 {
                wide(&tensors[3])
            } else {
                vec![0.0; gate_units]
            };
            let mut per_example = Vec::new();
            for example in 0..batch {
                let mut state = vec![0.0; units];
                let mut memory = vec![0.0; units];
                let mut states = vec![Vec::new(); steps];
                for position in 0..steps {
                    let time = if direction == 1 {
                        steps - 1 - position
                    } else {
                        position
                    };
                    let x = &input.data()[(example * steps + time) * features..][..features];
                    let projected: Vec<f64> = (0..gate_units)
                        .map(|column| {
                            bias[column]
                                + (0..features)
                                    .map(|row| {
                                        f64::from(x[row]) * kernel[row * gate_units + column]
                                    })
                                    .sum::<f64>()
                        })
                        .collect();
                    let (next, next_memory) =
                        step(&projected, &state, &memory, &recurrent, &recurrent_bias);
                    state = next;
                    memory = next_memory;
                    states[time] = state.clone();
                }
                // The last state read: step L for forward, step 1 for backward.
                let last = if direction == 1 { 0 } else { steps - 1 };
                states.push(states[last].clone());
                per_example.push(states);
            }
            expected_states.push(per_example);
        }
        let width = if directions == 2 && !sum {
            2 * units
        } else {
            units
        };
        let mut expected = Vec::new();
        for example in 0..batch {
            let times: Vec<usize> = if return_sequences {
                (0..steps).collect()
            } else {
                vec![steps]
            };
            for time in times {
                let mut row = vec![0.0; width];
                for (direction, states) in expected_states.iter().enumerate() {
                    let offset = if sum { 0 } else { direction * units };
                    for unit in 0..units {
                        row[offset + unit] += states[example][time][unit];
                    }
                }
                expected.extend(row);
            }
        }
        assert_eq!(output.len(), expected.len(), "`{line}`: output size");
        for (index, (&got, &want)) in output.data().iter().zip(&expected).enumerate() {
            assert!(
                (f64::from(got) - want).abs() < 1e-5,
                "`{line}`: output {index} is {got}, the reference {want}"
            );
        }
    }

    /// σ in f64.
    pub fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// `previous·U + recurrent_bias`, in f64.
    pub fn recurrent_product(previous: &[f64], recurrent: &[Vec<f64>], bias: &[f64]) -> Vec<f64> {
        (0..bias.len())
            .map(|column| {
                bias[column]
                    + previous
                        .iter()
                        .zip(recurrent)
                        .map(|(h, row)| h * row[column])
                        .sum::<f64>()
            })
            .collect()
    }
}

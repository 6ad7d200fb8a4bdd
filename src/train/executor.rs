//! The executor: a network's parameters, and its forward and backward passes over a batch, layer
//! by layer in the graph's topological order, so branches run and train too.
//!
//! Input layers receive the batches handed to [`Model::forward`], in evaluation order (which is
//! declaration order for input layers). The network's output is the output of the last layer in
//! evaluation order. Every layer's output is checked against the analysis's shape (window layers
//! take their network's rounding rule when they are built, so the two agree), so a disagreement is
//! reported instead of training on other sizes.

mod initialization;
#[cfg(test)]
mod tests;

pub use initialization::Initialization;

use crate::analysis::Analysis;
use crate::graph::Network;
use crate::layers::{Forward, ParameterSpec, Pass};
use crate::tensor::{Compute, Tensor, TensorError};
use petgraph::graph::NodeIndex;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// A network ready to run: every layer's parameters, their gradients, and what the last forward
/// pass kept for the backward pass.
pub struct Model<'n> {
    network: &'n Network,
    /// One per layer, in evaluation order.
    layers: Vec<LayerState>,
    /// Whether every layer's last forward pass was a training pass (so backward may run).
    ready_for_backward: bool,
}

/// One layer's state.
struct LayerState {
    node: NodeIndex,
    name: String,
    /// Positions (in evaluation order) of the layers it reads, in its input order; for an input
    /// layer, which of the batches handed to `forward` it reads.
    reads: Vec<usize>,
    is_input: bool,
    /// Whether the backward pass must reach it: it has parameters, or a layer it reads does.
    /// (The network's input needs no gradient, so neither do parameter-free layers before the
    /// first layer with parameters.)
    needs_gradient: bool,
    /// How many times later layers read it.
    readers: usize,
    /// Its output shape for one example, from the analysis.
    output_shape: Vec<usize>,
    /// `layer.parameter`, one per spec.
    names: Vec<String>,
    specs: Vec<ParameterSpec>,
    parameters: Vec<Tensor>,
    gradients: Vec<Tensor>,
    forward: Option<Forward>,
}

/// A message naming the layer an error happened in.
fn in_layer(name: &str, error: TensorError) -> TensorError {
    let reason = match error {
        TensorError::Geometry { reason } => reason,
        other => other.to_string(),
    };
    TensorError::Geometry {
        reason: format!("layer `{name}`: {reason}"),
    }
}

/// A geometry error with this message.
fn refused(reason: String) -> TensorError {
    TensorError::Geometry { reason }
}

/// Adds `addend` into `sum` value by value (shapes checked by the caller).
fn accumulate(sum: &mut Tensor, addend: &Tensor) {
    for (total, value) in sum.data_mut().iter_mut().zip(addend.data()) {
        *total += value;
    }
}

impl<'n> Model<'n> {
    /// Allocates every layer's parameters and initialises them with `scheme` from `random`
    /// (layers in evaluation order, each layer's tensors in its order). `analysis` must be the
    /// analysis of `network`; each layer's parameter tensors are checked against its counts.
    pub fn new(
        network: &'n Network,
        analysis: &Analysis,
        scheme: Initialization,
        random: &mut ChaCha8Rng,
    ) -> Result<Model<'n>, TensorError> {
        let order = network.order();
        if analysis.layers.len() != order.len() {
            return Err(refused(format!(
                "the analysis has {} layers, the network {}",
                analysis.layers.len(),
                order.len()
            )));
        }
        let position_of: HashMap<NodeIndex, usize> = order
            .iter()
            .enumerate()
            .map(|(position, &node)| (node, position))
            .collect();
        let mut layers: Vec<LayerState> = Vec::with_capacity(order.len());
        let mut input_count = 0;
        for (&node, info) in order.iter().zip(&analysis.layers) {
            let declared = network.node(node);
            let name = declared.name.clone();
            if info.name != name {
                return Err(refused(format!(
                    "the analysis lists `{}` where the network has `{name}`",
                    info.name
                )));
            }
            let is_input = crate::layers::is_input(&declared.decl.kind.value);
            let reads = if is_input {
                input_count += 1;
                vec![input_count - 1]
            } else {
                network
                    .inputs(node)
                    .iter()
                    .map(|input| {
                        position_of
                            .get(input)
                            .copied()
                            .filter(|&read| read < layers.len())
                            .ok_or_else(|| {
                                refused(format!("`{name}` reads a layer evaluated after it"))
                            })
                    })
                    .collect::<Result<Vec<usize>, TensorError>>()?
            };
            if !is_input {
                for &read in &reads {
                    layers[read].readers += 1;
                }
            }
            if let Some(tie) = declared.layer.tie(&info.input_shapes) {
                return Err(in_layer(
                    &name,
                    refused(format!(
                        "its weights are tied to `{}`, and training shares no tensors between layers",
                        tie.layer.value
                    )),
                ));
            }
            let specs = declared.layer.parameter_specs(&info.input_shapes);
            let active: u64 = specs.iter().map(|spec| spec.active as u64).sum();
            // Buffers (PyTorch's running statistics) are tensors too, but not parameters.
            let counted = info.parameter_count() + info.buffers;
            if active != counted {
                return Err(in_layer(
                    &name,
                    refused(format!(
                        "its parameter tensors hold {active} values in use, the analysis counts {counted}"
                    )),
                ));
            }
            let (parameters, gradients) =
                allocate(&specs, scheme, random).map_err(|error| in_layer(&name, error))?;
            let needs_gradient = !is_input
                && (!parameters.is_empty()
                    || reads.iter().any(|&read| layers[read].needs_gradient));
            layers.push(LayerState {
                node,
                names: specs
                    .iter()
                    .map(|spec| format!("{name}.{}", spec.name))
                    .collect(),
                name,
                reads,
                is_input,
                needs_gradient,
                readers: 0,
                output_shape: info
                    .output
                    .dims()
                    .iter()
                    .map(|&extent| usize::try_from(extent).unwrap_or(usize::MAX))
                    .collect(),
                specs,
                parameters,
                gradients,
                forward: None,
            });
        }
        if layers.is_empty() {
            return Err(refused("the network has no layers".to_string()));
        }
        Ok(Model {
            network,
            layers,
            ready_for_backward: false,
        })
    }

    /// The network this model runs.
    pub fn network(&self) -> &'n Network {
        self.network
    }

    /// The number of input layers, i.e. of batches [`Model::forward`] takes.
    pub fn input_count(&self) -> usize {
        self.layers.iter().filter(|layer| layer.is_input).count()
    }

    /// Runs the graph in evaluation order on batches `[batch, …input shape]`, one per input
    /// layer in evaluation order, and returns the output of the last layer. A training pass
    /// (`pass.training`) keeps every layer's output and saved state for [`Model::backward`]; an
    /// inference pass frees each output as soon as its last reader has run.
    pub fn forward(&mut self, inputs: &[Tensor], pass: &mut Pass) -> Result<Tensor, TensorError> {
        let expected = self.input_count();
        if inputs.len() != expected {
            return Err(refused(format!(
                "the network has {expected} input layers but was given {} batches",
                inputs.len()
            )));
        }
        self.ready_for_backward = false;
        let last = self.layers.len() - 1;
        let mut unread: Vec<usize> = self.layers.iter().map(|layer| layer.readers).collect();
        for position in 0..self.layers.len() {
            let (earlier, rest) = self.layers.split_at_mut(position);
            let layer = &mut rest[0];
            let result = {
                let references = if layer.is_input {
                    layer.reads.iter().map(|&batch| &inputs[batch]).collect()
                } else {
                    gather(earlier, &layer.reads, &layer.name)?
                };
                self.network
                    .node(layer.node)
                    .layer
                    .forward(&mut layer.parameters, &references, pass)
                    .map_err(|error| in_layer(&layer.name, error))?
            };
            let per_example = result.output.shape().get(1..).unwrap_or(&[]);
            if per_example != layer.output_shape.as_slice() {
                return Err(in_layer(
                    &layer.name,
                    refused(format!(
                        "it produced examples of shape {per_example:?}, the analysis has {:?}",
                        layer.output_shape
                    )),
                ));
            }
            layer.forward = Some(result);
            if !pass.training {
                if layer.readers == 0 && position != last {
                    layer.forward = None;
                }
                if !layer.is_input {
                    for &read in &layer.reads {
                        unread[read] -= 1;
                        if unread[read] == 0 && read != last {
                            earlier[read].forward = None;
                        }
                    }
                }
            }
        }
        self.ready_for_backward = pass.training;
        match &self.layers[last].forward {
            Some(forward) => Ok(forward.output.clone()),
            None => Err(refused("the last layer kept no output".to_string())),
        }
    }

    /// Runs the backward pass of the last training forward pass from ∂loss/∂output (shaped like
    /// the output) and adds each layer's ∂loss/∂parameter into its gradient tensors. A layer read
    /// by several layers receives the sum of their gradients. Gradients accumulate over calls
    /// until [`Model::zero_gradients`].
    pub fn backward(
        &mut self,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<(), TensorError> {
        if !self.ready_for_backward {
            return Err(refused(
                "backward needs a training forward pass (`Pass { training: true, .. }`) first"
                    .to_string(),
            ));
        }
        let count = self.layers.len();
        let mut pending: Vec<Option<Tensor>> = (0..count).map(|_| None).collect();
        pending[count - 1] = Some(output_gradient.clone());
        for position in (0..count).rev() {
            let Some(gradient) = pending[position].take() else {
                continue;
            };
            let layer = &self.layers[position];
            if !layer.needs_gradient {
                continue;
            }
            // Gradients for the layers it reads, unless none of them needs one.
            let input_gradients = layer
                .reads
                .iter()
                .any(|&read| self.layers[read].needs_gradient);
            let forward = forward_of(layer)?;
            if gradient.shape() != forward.output.shape() {
                return Err(in_layer(
                    &layer.name,
                    refused(format!(
                        "the output gradient has the shape {:?}, the output {:?}",
                        gradient.shape(),
                        forward.output.shape()
                    )),
                ));
            }
            let references = gather(&self.layers, &layer.reads, &layer.name)?;
            let kind = &self.network.node(layer.node).layer;
            let gradients = if input_gradients {
                kind.backward(&layer.parameters, &references, forward, &gradient, compute)
            } else {
                kind.backward_parameters(
                    &layer.parameters,
                    &references,
                    forward,
                    &gradient,
                    compute,
                )
            }
            .map_err(|error| in_layer(&layer.name, error))?;
            let inputs_fit = gradients.inputs.len() == references.len()
                || (!input_gradients && gradients.inputs.is_empty());
            let fits = gradients.parameters.len() == layer.parameters.len()
                && inputs_fit
                && gradients
                    .parameters
                    .iter()
                    .zip(&layer.parameters)
                    .all(|(gradient, parameter)| gradient.shape() == parameter.shape())
                && gradients
                    .inputs
                    .iter()
                    .zip(&references)
                    .all(|(gradient, input)| gradient.shape() == input.shape());
            if !fits {
                return Err(in_layer(
                    &layer.name,
                    refused("its backward pass returned gradients of other shapes".to_string()),
                ));
            }
            let reads = layer.reads.clone();
            for (sum, gradient) in self.layers[position]
                .gradients
                .iter_mut()
                .zip(&gradients.parameters)
            {
                accumulate(sum, gradient);
            }
            for (read, gradient) in reads.into_iter().zip(gradients.inputs) {
                match &mut pending[read] {
                    Some(sum) => accumulate(sum, &gradient),
                    empty => *empty = Some(gradient),
                }
            }
        }
        Ok(())
    }

    /// Sets every gradient tensor to zero.
    pub fn zero_gradients(&mut self) {
        for layer in &mut self.layers {
            for gradient in &mut layer.gradients {
                gradient.data_mut().fill(0.0);
            }
        }
    }

    /// Every parameter tensor with its name (`C1.weights`), its gradient and its spec, layers
    /// in evaluation order and each layer's tensors in its order. Non-trainable tensors
    /// (`spec.trainable == false`, e.g. moving statistics) are included; an optimizer skips them.
    pub fn parameters_mut(
        &mut self,
    ) -> impl Iterator<Item = (&str, &mut Tensor, &Tensor, &ParameterSpec)> {
        self.layers.iter_mut().flat_map(|layer| {
            let LayerState {
                names,
                parameters,
                gradients,
                specs,
                ..
            } = layer;
            names
                .iter()
                .zip(parameters.iter_mut())
                .zip(gradients.iter())
                .zip(specs.iter())
                .map(|(((name, parameter), gradient), spec)| {
                    (name.as_str(), parameter, gradient, spec)
                })
        })
    }

    /// Every parameter tensor with its name, in the order of [`Model::parameters_mut`].
    pub fn named_parameters(&self) -> Vec<(String, &Tensor)> {
        self.layers
            .iter()
            .flat_map(|layer| layer.names.iter().cloned().zip(&layer.parameters))
            .collect()
    }

    /// Replaces every parameter tensor by the one with its name. Every name must be given once,
    /// with the tensor's shape, and no other name; otherwise nothing changes.
    pub fn load_parameters(&mut self, named: Vec<(String, Tensor)>) -> Result<(), TensorError> {
        let mut by_name: HashMap<String, Tensor> = HashMap::with_capacity(named.len());
        for (name, tensor) in named {
            if by_name.contains_key(&name) {
                return Err(refused(format!("the parameter `{name}` is given twice")));
            }
            by_name.insert(name, tensor);
        }
        for layer in &self.layers {
            for (name, parameter) in layer.names.iter().zip(&layer.parameters) {
                let Some(tensor) = by_name.get(name) else {
                    return Err(refused(format!("the parameter `{name}` is missing")));
                };
                if tensor.shape() != parameter.shape() {
                    return Err(refused(format!(
                        "the parameter `{name}` has the shape {:?}, the network needs {:?}",
                        tensor.shape(),
                        parameter.shape()
                    )));
                }
            }
        }
        let total: usize = self.layers.iter().map(|layer| layer.names.len()).sum();
        if by_name.len() != total {
            let mut unknown: Vec<&String> = by_name
                .keys()
                .filter(|name| !self.layers.iter().any(|layer| layer.names.contains(name)))
                .collect();
            unknown.sort();
            return Err(refused(format!(
                "the network has no parameter `{}`",
                unknown.first().map_or("?", |name| name.as_str())
            )));
        }
        for layer in &mut self.layers {
            for (name, parameter) in layer.names.iter().zip(&mut layer.parameters) {
                if let Some(tensor) = by_name.remove(name) {
                    *parameter = tensor;
                }
            }
        }
        self.ready_for_backward = false;
        Ok(())
    }
}

/// A layer's parameter tensors, initialised, and zero gradients of the same shapes.
fn allocate(
    specs: &[ParameterSpec],
    scheme: Initialization,
    random: &mut ChaCha8Rng,
) -> Result<(Vec<Tensor>, Vec<Tensor>), TensorError> {
    let parameters = specs
        .iter()
        .map(|spec| scheme.tensor(spec, random))
        .collect::<Result<Vec<_>, _>>()?;
    let gradients = specs
        .iter()
        .map(|spec| Tensor::zeros(&spec.shape))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((parameters, gradients))
}

/// The kept forward pass of a layer.
fn forward_of(layer: &LayerState) -> Result<&Forward, TensorError> {
    layer.forward.as_ref().ok_or_else(|| {
        in_layer(
            &layer.name,
            refused("its forward pass was not kept".to_string()),
        )
    })
}

/// The kept outputs of the layers at `reads`.
fn gather<'a>(
    layers: &'a [LayerState],
    reads: &[usize],
    name: &str,
) -> Result<Vec<&'a Tensor>, TensorError> {
    reads
        .iter()
        .map(|&read| {
            layers
                .get(read)
                .and_then(|input| input.forward.as_ref())
                .map(|forward| &forward.output)
                .ok_or_else(|| {
                    in_layer(name, refused("an input's output was not kept".to_string()))
                })
        })
        .collect()
}

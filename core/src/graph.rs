//! The layer graph: a petgraph `DiGraph` of layers built from a description, with names resolved,
//! inputs wired, cycles refused and a topological order computed once. Immutable once built.

mod outputs;

pub use outputs::{DanglingLayer, Outputs};

use crate::conventions::Conventions;
use crate::error::{Error, Locate};
use crate::layers::{self, Layer};
use crate::shape::Rounding;
use crate::source::{Source, Span};
use crate::syntax::{Attribute, Configuration, Description, Item, LayerDecl};
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// One layer in the graph.
#[derive(Debug)]
pub struct Node {
    /// Its name: as written, or generated as `<kind>_<n>` (Keras' convention) when unnamed.
    pub name: String,
    /// The declaration it came from (positionals already named).
    pub decl: LayerDecl,
    /// What the layer kind computes.
    pub layer: Box<dyn Layer>,
    /// Marked `auxiliary=true`: the last layer of a branch only training uses ([`Outputs`]).
    pub auxiliary: bool,
}

/// What the command line sets in place of the description.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--rounding`.
    pub rounding: Option<Rounding>,
    /// `--conventions`.
    pub conventions: Option<Conventions>,
}

/// A network: the graph of its layers and its settings.
#[derive(Debug)]
pub struct Network {
    /// The network's name (the description's, or the file's stem).
    pub name: String,
    /// Free text about it.
    pub about: Option<String>,
    /// The description's text.
    pub source: Source,
    /// How non-integer output sizes are handled unless a layer says otherwise.
    pub rounding: Rounding,
    /// Whose counting conventions layers follow unless they say otherwise.
    pub conventions: Conventions,
    /// Assertions on the totals.
    pub expect: Vec<Attribute>,
    /// Training settings as written.
    pub train: Vec<Attribute>,
    graph: DiGraph<Node, usize>,
    order: Vec<NodeIndex>,
    outputs: Outputs,
}

/// A description whose layers cannot form a graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// A layer reads a name no layer has.
    #[error("layer `{layer}` reads `{input}`, but no layer has that name")]
    UnknownInput {
        /// The reading layer.
        layer: String,
        /// The missing name.
        input: String,
        /// The closest existing name.
        suggestion: Option<String>,
        /// The input name's span.
        span: Span,
    },
    /// Two layers share a name.
    #[error("two layers are named `{name}`")]
    DuplicateName {
        /// The name.
        name: String,
        /// The second declaration's name.
        span: Span,
    },
    /// Layers read each other in a circle.
    #[error("layer `{layer}` is part of a cycle: {path}")]
    Cycle {
        /// A layer on the cycle.
        layer: String,
        /// The layers on it, `a → b → a`.
        path: String,
        /// That layer's declaration.
        span: Span,
    },
    /// A layer (other than `input`) with nothing before it.
    #[error("layer `{layer}` has no input")]
    NoInput {
        /// The layer.
        layer: String,
        /// Its declaration.
        span: Span,
    },
    /// An `input` layer that names inputs.
    #[error("input layer `{layer}` cannot read other layers")]
    InputWithInputs {
        /// The layer.
        layer: String,
        /// Its first input name.
        span: Span,
    },
    /// An unknown rounding rule.
    #[error("unknown rounding `{name}`")]
    UnknownRounding {
        /// As written.
        name: String,
        /// Its span.
        span: Span,
    },
    /// A layer marked `auxiliary=true` that another layer reads.
    #[error("layer `{layer}` is marked auxiliary, but `{reader}` reads it")]
    AuxiliaryRead {
        /// The marked layer.
        layer: String,
        /// A layer that reads it.
        reader: String,
        /// The marked layer's declaration.
        span: Span,
    },
    /// Every layer that nothing reads is marked auxiliary.
    #[error("the network has no output that is not auxiliary")]
    NoMainOutput {
        /// The last layer.
        layer: String,
        /// Its declaration.
        span: Span,
    },
    /// Conventions netcalc does not know.
    #[error("unknown conventions `{name}`")]
    UnknownConventions {
        /// As written.
        name: String,
        /// Its span.
        span: Span,
    },
}

impl Locate for GraphError {
    fn span(&self) -> Span {
        match self {
            GraphError::UnknownInput { span, .. }
            | GraphError::DuplicateName { span, .. }
            | GraphError::Cycle { span, .. }
            | GraphError::NoInput { span, .. }
            | GraphError::InputWithInputs { span, .. }
            | GraphError::UnknownRounding { span, .. }
            | GraphError::AuxiliaryRead { span, .. }
            | GraphError::NoMainOutput { span, .. } => *span,
            GraphError::UnknownConventions { span, .. } => *span,
        }
    }

    fn label(&self) -> String {
        match self {
            GraphError::UnknownInput { .. } => "no layer has this name".to_string(),
            GraphError::DuplicateName { .. } => "name used again".to_string(),
            GraphError::Cycle { .. } => "on a cycle".to_string(),
            GraphError::NoInput { .. } => "nothing to read".to_string(),
            GraphError::InputWithInputs { .. } => "inputs of an input".to_string(),
            GraphError::UnknownRounding { .. } => "unknown rounding".to_string(),
            GraphError::AuxiliaryRead { .. } => "marked auxiliary".to_string(),
            GraphError::NoMainOutput { layer, .. } => format!("`{layer}` is auxiliary"),
            GraphError::UnknownConventions { .. } => "unknown conventions".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            GraphError::UnknownInput { suggestion, .. } => suggestion
                .as_ref()
                .map(|name| format!("did you mean `{name}`?")),
            GraphError::DuplicateName { .. } => Some("give each layer its own name".to_string()),
            GraphError::Cycle { .. } => {
                Some("a layer can only read layers that do not read it back".to_string())
            }
            GraphError::NoInput { .. } => {
                Some("start the network with an input layer, e.g. `input 28x28x1`".to_string())
            }
            GraphError::InputWithInputs { .. } => None,
            GraphError::UnknownRounding { .. } => {
                Some(format!("use one of {}", Rounding::NAMES.join(", ")))
            }
            GraphError::AuxiliaryRead { .. } => Some(
                "mark only the last layer of an auxiliary branch, the one no layer reads"
                    .to_string(),
            ),
            GraphError::NoMainOutput { .. } => Some(
                "the network's output is its last layer that no layer reads; do not mark it \
                 auxiliary"
                    .to_string(),
            ),
            GraphError::UnknownConventions { .. } => {
                Some(format!("use one of {}", Conventions::NAMES.join(", ")))
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            GraphError::UnknownInput { .. } => "netcalc::graph::unknown_input",
            GraphError::DuplicateName { .. } => "netcalc::graph::duplicate_name",
            GraphError::Cycle { .. } => "netcalc::graph::cycle",
            GraphError::NoInput { .. } => "netcalc::graph::no_input",
            GraphError::InputWithInputs { .. } => "netcalc::graph::input_with_inputs",
            GraphError::UnknownRounding { .. } => "netcalc::graph::unknown_rounding",
            GraphError::AuxiliaryRead { .. } => "netcalc::graph::auxiliary_read",
            GraphError::NoMainOutput { .. } => "netcalc::graph::no_main_output",
            GraphError::UnknownConventions { .. } => "netcalc::graph::unknown_conventions",
        }
    }
}

/// A declaration error with the name of the layer it is in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("layer `{layer}`: {error}")]
pub struct InLayer {
    /// The layer's name (written or generated).
    pub layer: String,
    /// What is wrong with its declaration.
    pub error: layers::DeclarationError,
}

impl Locate for InLayer {
    fn span(&self) -> Span {
        self.error.span()
    }

    fn label(&self) -> String {
        self.error.label()
    }

    fn help(&self) -> Option<String> {
        self.error.help()
    }

    fn code(&self) -> &'static str {
        self.error.code()
    }
}

impl Network {
    /// Builds the graph of a description: instantiates it with its parameters' defaults
    /// ([`crate::syntax::instantiate()`]: references replaced, repeated blocks expanded; a plain
    /// description stays as it is), names positional values, builds every layer, wires inputs
    /// (the previous layer unless named), and orders the layers. `overrides` replace the
    /// description's `rounding` and `conventions` (the command line's `--rounding` and
    /// `--conventions`).
    pub fn build(
        source: &Source,
        description: Description,
        fallback_name: &str,
        overrides: Overrides,
    ) -> Result<Network, Error> {
        let fail = |error: GraphError| Error::new(source, error);
        let description = crate::syntax::instantiate(&description, &Configuration::defaults())
            .map_err(|error| Error::new(source, error))?;
        // An instantiated description holds layers only.
        let declarations: Vec<LayerDecl> = description
            .layers
            .into_iter()
            .filter_map(|item| match item {
                Item::Layer(layer) => Some(layer),
                Item::Repeat(_) => None,
            })
            .collect();
        if declarations.is_empty() {
            let end = Span::new(source.text.len(), 0);
            return Err(Error::new(
                source,
                crate::syntax::SyntaxError::Empty { span: end },
            ));
        }
        let rounding = match &description.rounding {
            None => Rounding::default(),
            Some(name) => Rounding::from_name(&name.value).ok_or_else(|| {
                fail(GraphError::UnknownRounding {
                    name: name.value.clone(),
                    span: name.span,
                })
            })?,
        };
        let rounding = overrides.rounding.unwrap_or(rounding);
        let conventions = match &description.conventions {
            None => Conventions::default(),
            Some(name) => Conventions::from_name(&name.value).ok_or_else(|| {
                fail(GraphError::UnknownConventions {
                    name: name.value.clone(),
                    span: name.span,
                })
            })?,
        };
        let conventions = overrides.conventions.unwrap_or(conventions);
        let mut graph: DiGraph<Node, usize> =
            DiGraph::with_capacity(declarations.len(), declarations.len());
        let mut by_name: HashMap<String, NodeIndex> = HashMap::with_capacity(declarations.len());
        let mut generated: HashMap<&'static str, usize> = HashMap::new();
        let written: std::collections::HashSet<&str> = declarations
            .iter()
            .filter_map(|decl| decl.name.as_ref().map(|name| name.value.as_str()))
            .collect();
        for mut decl in declarations.iter().cloned() {
            let name = match &decl.name {
                Some(name) => {
                    if by_name.contains_key(&name.value) {
                        return Err(fail(GraphError::DuplicateName {
                            name: name.value.clone(),
                            span: name.span,
                        }));
                    }
                    name.value.clone()
                }
                None => {
                    let kind = layers::find(&decl.kind.value).map_or("layer", |kind| kind.name);
                    let counter = generated.entry(kind).or_insert(0);
                    loop {
                        *counter += 1;
                        let candidate = format!("{kind}_{counter}");
                        if !written.contains(candidate.as_str())
                            && !by_name.contains_key(&candidate)
                        {
                            break candidate;
                        }
                    }
                }
            };
            let in_layer = |error| {
                Error::new(
                    source,
                    InLayer {
                        layer: name.clone(),
                        error,
                    },
                )
            };
            layers::name_positionals(&mut decl).map_err(in_layer)?;
            let layer = layers::build_in_network(&decl, rounding, conventions).map_err(in_layer)?;
            let auxiliary = layers::is_auxiliary(&decl).map_err(in_layer)?;
            let index = graph.add_node(Node {
                name: name.clone(),
                decl,
                layer,
                auxiliary,
            });
            by_name.insert(name, index);
        }
        let indices: Vec<NodeIndex> = graph.node_indices().collect();
        for (position, &index) in indices.iter().enumerate() {
            let node = &graph[index];
            let is_input = layers::is_input(&node.decl.kind.value);
            let inputs = node.decl.inputs.clone();
            if is_input {
                if let Some(first) = inputs.first() {
                    return Err(fail(GraphError::InputWithInputs {
                        layer: node.name.clone(),
                        span: first.span,
                    }));
                }
                continue;
            }
            if inputs.is_empty() {
                let Some(&previous) = position.checked_sub(1).and_then(|p| indices.get(p)) else {
                    return Err(fail(GraphError::NoInput {
                        layer: node.name.clone(),
                        span: node.decl.kind.span,
                    }));
                };
                graph.add_edge(previous, index, 0);
                continue;
            }
            for (slot, input) in inputs.iter().enumerate() {
                let Some(&from) = by_name.get(&input.value) else {
                    let names = by_name.keys().map(String::as_str);
                    return Err(fail(GraphError::UnknownInput {
                        layer: graph[index].name.clone(),
                        input: input.value.clone(),
                        suggestion: crate::suggestion::closest(&input.value, names)
                            .map(str::to_string),
                        span: input.span,
                    }));
                };
                graph.add_edge(from, index, slot);
            }
        }
        let order = topological_order(&graph).map_err(fail)?;
        let outputs = outputs::find(&graph).map_err(fail)?;
        Ok(Network {
            name: description
                .name
                .map_or_else(|| fallback_name.to_string(), |name| name.value),
            about: description.about.map(|about| about.value),
            source: source.clone(),
            rounding,
            conventions,
            expect: description.expect,
            train: description.train,
            graph,
            order,
            outputs,
        })
    }

    /// The network's outputs: its main output, auxiliary heads and dangling layers.
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// What the network's structure warns about: each dangling layer, at its declaration.
    pub fn warnings(&self) -> Vec<DanglingLayer> {
        let output = &self.graph[self.outputs.main].name;
        self.outputs
            .dangling
            .iter()
            .map(|&node| {
                let node = &self.graph[node];
                DanglingLayer {
                    layer: node.name.clone(),
                    output: output.clone(),
                    span: node
                        .decl
                        .name
                        .as_ref()
                        .map_or(node.decl.kind.span, |name| name.span),
                }
            })
            .collect()
    }

    /// The network without its auxiliary branches (itself, rebuilt, when it has none): what
    /// training and inference run. Every kept layer keeps its name and reads the same layers
    /// (written out, since the layer above it may be gone); the totals' `expect` is left out,
    /// since it counts the auxiliary branches too.
    pub fn without_auxiliary(&self) -> Result<Network, Error> {
        let layers = self
            .graph
            .node_indices()
            .filter(|&node| !self.outputs.in_auxiliary_branch(node))
            .map(|node| {
                let kept = &self.graph[node];
                let mut decl = kept.decl.clone();
                let span = decl.name.as_ref().map_or(decl.kind.span, |name| name.span);
                decl.name = Some(crate::source::Spanned::new(kept.name.clone(), span));
                if !layers::is_input(&decl.kind.value) {
                    decl.inputs = self
                        .inputs(node)
                        .into_iter()
                        .map(|input| {
                            crate::source::Spanned::new(self.graph[input].name.clone(), span)
                        })
                        .collect();
                }
                crate::syntax::Item::Layer(decl)
            })
            .collect();
        let description = Description {
            name: Some(crate::source::Spanned::unspanned(self.name.clone())),
            about: self.about.clone().map(crate::source::Spanned::unspanned),
            rounding: None,
            parameters: Vec::new(),
            conventions: None,
            layers,
            expect: Vec::new(),
            train: self.train.clone(),
            sweep: Vec::new(),
        };
        Network::build(
            &self.source,
            description,
            &self.name,
            Overrides {
                rounding: Some(self.rounding),
                conventions: Some(self.conventions),
            },
        )
    }

    /// The layers in evaluation order (declaration order where the inputs allow it).
    pub fn order(&self) -> &[NodeIndex] {
        &self.order
    }

    /// A layer.
    pub fn node(&self, index: NodeIndex) -> &Node {
        &self.graph[index]
    }

    /// The layers a layer reads, in the order it names them.
    pub fn inputs(&self, index: NodeIndex) -> Vec<NodeIndex> {
        let mut edges: Vec<(usize, NodeIndex)> = self
            .graph
            .edges_directed(index, petgraph::Direction::Incoming)
            .map(|edge| (*edge.weight(), petgraph::visit::EdgeRef::source(&edge)))
            .collect();
        edges.sort_by_key(|(slot, _)| *slot);
        edges.into_iter().map(|(_, node)| node).collect()
    }

    /// The underlying petgraph graph.
    pub fn graph(&self) -> &DiGraph<Node, usize> {
        &self.graph
    }
}

/// Kahn's algorithm, taking the earliest-declared ready layer first, so a sequential description
/// keeps its order. On a cycle, reports a layer on it and the path around it.
fn topological_order(graph: &DiGraph<Node, usize>) -> Result<Vec<NodeIndex>, GraphError> {
    let mut waiting: Vec<usize> = graph
        .node_indices()
        .map(|index| {
            graph
                .edges_directed(index, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> = waiting
        .iter()
        .enumerate()
        .filter(|(_, count)| **count == 0)
        .map(|(index, _)| Reverse(index))
        .collect();
    let mut order = Vec::with_capacity(graph.node_count());
    while let Some(Reverse(index)) = ready.pop() {
        let node = NodeIndex::new(index);
        order.push(node);
        for next in graph.neighbors_directed(node, petgraph::Direction::Outgoing) {
            waiting[next.index()] -= 1;
            if waiting[next.index()] == 0 {
                ready.push(Reverse(next.index()));
            }
        }
    }
    if order.len() == graph.node_count() {
        return Ok(order);
    }
    // Walk backwards along unfinished inputs until a layer repeats: that closes a cycle.
    let start = waiting.iter().position(|&count| count > 0).unwrap_or(0);
    let mut path = vec![NodeIndex::new(start)];
    loop {
        let current = *path.last().unwrap_or(&NodeIndex::new(start));
        let Some(previous) = graph
            .neighbors_directed(current, petgraph::Direction::Incoming)
            .find(|n| waiting[n.index()] > 0)
        else {
            break;
        };
        if let Some(at) = path.iter().position(|&n| n == previous) {
            path.drain(..at);
            break;
        }
        path.push(previous);
    }
    path.reverse();
    let first = path[0];
    let names: Vec<&str> = path
        .iter()
        .chain(std::iter::once(&first))
        .map(|&n| graph[n].name.as_str())
        .collect();
    Err(GraphError::Cycle {
        layer: graph[first].name.clone(),
        path: names.join(" → "),
        span: graph[first].decl.span,
    })
}

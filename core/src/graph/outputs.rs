//! The network's outputs, the layers no layer reads: its main output, which training and
//! inference read; the auxiliary heads, marked `auxiliary=true` (GoogLeNet's extra classifiers,
//! which only training uses); and the dangling layers, which are neither and most often come from
//! a misspelt `inputs`. The layers that feed only auxiliary heads form the auxiliary branches,
//! counted apart in the summary. Found once when the network is built.

use super::{GraphError, Node};
use crate::error::Locate;
use crate::source::Span;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

/// The outputs of a network and the layers of its auxiliary branches.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    /// The network's output: of the layers nothing reads and not marked auxiliary, the one
    /// declared last.
    pub main: NodeIndex,
    /// The layers marked `auxiliary=true`, in declaration order.
    pub auxiliary: Vec<NodeIndex>,
    /// The other layers nothing reads, in declaration order.
    pub dangling: Vec<NodeIndex>,
    /// Per layer (by node index): whether it feeds only auxiliary heads.
    branch: Vec<bool>,
}

impl Outputs {
    /// Whether a layer belongs to an auxiliary branch: every path from it ends at an auxiliary
    /// head (the heads themselves included).
    pub fn in_auxiliary_branch(&self, node: NodeIndex) -> bool {
        self.branch.get(node.index()).copied().unwrap_or(false)
    }

    /// Whether the network has auxiliary branches.
    pub fn has_auxiliary(&self) -> bool {
        !self.auxiliary.is_empty()
    }
}

/// Finds the outputs of a wired graph whose nodes are in declaration order. A layer marked
/// auxiliary that another layer reads is an error, and so is a network whose every output is
/// marked auxiliary.
pub(super) fn find(graph: &DiGraph<Node, usize>) -> Result<Outputs, GraphError> {
    let reader = |node: NodeIndex| graph.neighbors_directed(node, Direction::Outgoing).last();
    let mut auxiliary = Vec::new();
    let mut unread = Vec::new();
    for node in graph.node_indices() {
        match (graph[node].auxiliary, reader(node)) {
            (true, Some(reading)) => {
                return Err(GraphError::AuxiliaryRead {
                    layer: graph[node].name.clone(),
                    reader: graph[reading].name.clone(),
                    span: graph[node].decl.span,
                });
            }
            (true, None) => auxiliary.push(node),
            (false, None) => unread.push(node),
            (false, Some(_)) => {}
        }
    }
    let Some(main) = unread.pop() else {
        let last = graph.node_indices().next_back().unwrap_or_default();
        return Err(GraphError::NoMainOutput {
            layer: graph[last].name.clone(),
            span: graph[last].decl.span,
        });
    };
    // Everything a non-auxiliary output reads, directly or not, serves inference.
    let mut serves = vec![false; graph.node_count()];
    let mut stack: Vec<NodeIndex> = unread.iter().copied().chain([main]).collect();
    while let Some(node) = stack.pop() {
        if !std::mem::replace(&mut serves[node.index()], true) {
            stack.extend(graph.neighbors_directed(node, Direction::Incoming));
        }
    }
    Ok(Outputs {
        main,
        auxiliary,
        dangling: unread,
        branch: serves.iter().map(|serves| !serves).collect(),
    })
}

/// A layer that feeds nothing: no layer reads it, it is not the network's output and it is not
/// marked auxiliary. Its parameters and MACs still count in the totals. A warning: the library
/// returns it ([`super::Network::warnings`]), the command line prints it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "layer `{layer}` feeds nothing (the network's output is `{output}`), yet it counts in the totals"
)]
pub struct DanglingLayer {
    /// The layer.
    pub layer: String,
    /// The network's output.
    pub output: String,
    /// Where the layer is declared (its name, or its kind when unnamed).
    pub span: Span,
}

impl Locate for DanglingLayer {
    fn span(&self) -> Span {
        self.span
    }

    fn label(&self) -> String {
        "read by no layer".to_string()
    }

    fn help(&self) -> Option<String> {
        Some(
            "name it in a later layer's inputs (a misspelt name leaves it unread), or mark it \
             `auxiliary=true` if it ends a branch that only training uses"
                .to_string(),
        )
    }

    fn code(&self) -> &'static str {
        "netcalc::graph::dangling_layer"
    }

    fn is_warning(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::graph::Network;
    use crate::source::Source;
    use crate::syntax::Format;

    fn network(text: &str) -> Result<Network, crate::Error> {
        crate::load(&Source::new("test.nn", text), Format::Dsl)
    }

    fn names(network: &Network, nodes: &[petgraph::graph::NodeIndex]) -> Vec<String> {
        nodes
            .iter()
            .map(|&node| network.node(node).name.clone())
            .collect()
    }

    fn branch(network: &Network) -> Vec<String> {
        let outputs = network.outputs();
        network
            .graph()
            .node_indices()
            .filter(|&node| outputs.in_auxiliary_branch(node))
            .map(|node| network.node(node).name.clone())
            .collect()
    }

    const HEADS: &str = "input 28x28x1\nstem: conv2d 8 3x3\n\
                         aux_pool: avgpool 2x2 <- stem\naux: dense 10 auxiliary=true\n\
                         body: conv2d 8 3x3 <- stem\nflatten\nout: dense 10\n\
                         late_aux: dense 10 auxiliary=true <- body\n";

    #[test]
    fn a_chain_has_one_output_and_no_warning() {
        let network = network("input 8\ndense 4\nout: dense 2\n").unwrap();
        let outputs = network.outputs();
        assert_eq!(names(&network, &[outputs.main]), ["out"]);
        assert!(outputs.dangling.is_empty() && outputs.auxiliary.is_empty());
        assert!(network.warnings().is_empty());
        assert!(branch(&network).is_empty());
    }

    #[test]
    fn auxiliary_heads_and_the_layers_only_they_read_form_branches() {
        let network = network(HEADS).unwrap();
        let outputs = network.outputs();
        // The head declared after the output does not take its place.
        assert_eq!(names(&network, &[outputs.main]), ["out"]);
        assert_eq!(names(&network, &outputs.auxiliary), ["aux", "late_aux"]);
        assert!(outputs.dangling.is_empty());
        assert_eq!(branch(&network), ["aux_pool", "aux", "late_aux"]);
        assert!(network.warnings().is_empty());
    }

    #[test]
    fn a_layer_nothing_reads_is_dangling_and_warned_about_at_its_name() {
        let text = "input 8\nstem: dense 4\nside: dense 3 <- stem\nout: dense 2 <- stem\n";
        let network = network(text).unwrap();
        let outputs = network.outputs();
        assert_eq!(names(&network, &[outputs.main]), ["out"]);
        assert_eq!(names(&network, &outputs.dangling), ["side"]);
        // A dangling branch serves no auxiliary head: it is not an auxiliary branch.
        assert!(branch(&network).is_empty());
        let warnings = network.warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].layer, "side");
        assert_eq!(warnings[0].output, "out");
        assert_eq!(&text[warnings[0].span.offset..][..4], "side");
        // An unnamed dangling layer is pointed at by its kind.
        let network = crate::load(
            &Source::new(
                "t.nn",
                "input 8\nstem: dense 4\ndense 3\nout: dense 2 <- stem\n",
            ),
            Format::Dsl,
        )
        .unwrap();
        assert_eq!(network.warnings()[0].layer, "dense_1");
    }

    #[test]
    fn marking_a_layer_that_is_read_or_every_output_is_an_error() {
        let error = network("input 8\nhead: dense 4 auxiliary=true\ndense 2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "layer `head` is marked auxiliary, but `dense_1` reads it"
        );
        let error = network("input 8\nhead: dense 4 auxiliary=true\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the network has no output that is not auxiliary"
        );
        let error = network("input 8\nhead: dense 4 auxiliary=yes\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "layer `head`: `auxiliary` must be true or false, got `yes`"
        );
        let error = network("input 8\nhead: dense 4 auxilary=true\n").unwrap_err();
        assert!(
            crate::error::Locate::help(&*error.kind)
                .is_some_and(|help| help.contains("did you mean `auxiliary`?")),
            "{error}"
        );
    }

    #[test]
    fn the_analysis_sums_the_auxiliary_branches_apart() {
        let analysis = crate::analyse(&network(HEADS).unwrap()).unwrap();
        // aux_pool: 0; aux: 13·13·8 inputs → 10 units, 1352·10+10; late_aux on body's
        // 24×24×8: 4608·10+10.
        let auxiliary = 1352 * 10 + 10 + 4608 * 10 + 10;
        assert_eq!(analysis.auxiliary.parameters(), auxiliary);
        assert_eq!(analysis.auxiliary.macs, 1352 * 10 + 4608 * 10);
        let flagged: Vec<&str> = analysis
            .layers
            .iter()
            .filter(|layer| layer.auxiliary)
            .map(|layer| layer.name.as_str())
            .collect();
        assert_eq!(flagged, ["aux_pool", "aux", "late_aux"]);
        let inference = crate::analyse(&network(HEADS).unwrap().without_auxiliary().unwrap())
            .unwrap()
            .totals;
        assert_eq!(analysis.inference(), inference);
        assert!(
            !crate::analyse(&network("input 8\ndense 2\n").unwrap())
                .unwrap()
                .has_auxiliary()
        );
    }

    #[test]
    fn without_auxiliary_keeps_names_and_inputs() {
        let full = network(HEADS).unwrap();
        let trained = full.without_auxiliary().unwrap();
        let kept: Vec<String> = trained
            .order()
            .iter()
            .map(|&node| trained.node(node).name.clone())
            .collect();
        assert_eq!(kept, ["input_1", "stem", "body", "flatten_1", "out"]);
        let body = trained.order()[2];
        assert_eq!(names(&trained, &trained.inputs(body)), ["stem"]);
        assert!(!trained.outputs().has_auxiliary());
        assert_eq!(names(&trained, &[trained.outputs().main]), ["out"]);
    }
}

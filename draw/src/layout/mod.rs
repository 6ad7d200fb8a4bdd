//! A layered ("Sugiyama") layout of a directed acyclic graph of boxes, computed in two abstract
//! axes: `along` the flow (ranks follow each other along it) and `across` it (the boxes of one
//! rank sit side by side across it). Drawing top to bottom maps them to y and x, left to right
//! to x and y. The steps, one file each:
//!
//! 1. `ranks.rs`: ranks by the longest path from the sources; an edge that spans several ranks
//!    becomes a chain through one virtual node per rank it passes, so every edge joins
//!    neighbouring ranks and long edges are routed around the boxes they pass.
//! 2. `order.rs`: the order within each rank, by median sweeps down and up with adjacent swaps,
//!    keeping the order with the fewest crossings.
//! 3. `coordinates.rs`: the position across, by Brandes and Köpf's method: four alignments of
//!    nodes with their median neighbours, each compacted, then balanced. Chains are centred and
//!    a long edge's virtual nodes line up, so it runs straight.
//! 4. `routes.rs`: positions along (rank rows, label bands and the channels between ranks),
//!    ports, and each edge's path.
//!
//! Every box owns a column: its extent across plus, on one side of its outgoing trunk, the label
//! of its output. Columns of one rank never overlap, edges run straight through ranks only at
//! their own columns and bend only in the channels between ranks, where there are no boxes. So
//! boxes do not overlap and edges do not cross boxes; `inspect.rs` checks both on the result.
//! The layout is a pure function of its input: the same graph gives the same numbers.

mod coordinates;
mod order;
mod ranks;
mod routes;

/// A graph to lay out: boxes and edges between them (from, to). It must be acyclic.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// The boxes.
    pub nodes: Vec<Node>,
    /// The edges, as indices into `nodes`. Edges into one node keep their order here.
    pub edges: Vec<(usize, usize)>,
}

/// A box to place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    /// Its size across the flow.
    pub across: f64,
    /// Its size along the flow.
    pub along: f64,
    /// The label beside its outgoing trunk (across, along), if it has one.
    pub label: Option<(f64, f64)>,
}

/// A point in the layout's axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Across the flow.
    pub across: f64,
    /// Along the flow.
    pub along: f64,
}

impl Point {
    /// The point at these coordinates.
    pub fn new(across: f64, along: f64) -> Point {
        Point { across, along }
    }
}

/// A piece of an edge's path, from where the previous one ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Segment {
    /// A straight line to the point.
    Line(Point),
    /// A cubic Bézier curve through two control points to the last.
    Curve(Point, Point, Point),
}

/// A path: a start and the segments after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Where it starts.
    pub start: Point,
    /// What follows.
    pub segments: Vec<Segment>,
}

/// An axis-aligned rectangle in the layout's axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// Lowest coordinate across.
    pub across: f64,
    /// Lowest coordinate along.
    pub along: f64,
    /// Size across.
    pub across_size: f64,
    /// Size along.
    pub along_size: f64,
}

/// Where a node ended up.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// Its box.
    pub area: Extent,
    /// Its label, beside its outgoing trunk.
    pub label: Option<Extent>,
    /// For a node with a label and no outgoing edge: the trunk stub the label stands beside.
    pub stub: Option<Path>,
}

/// An edge's route: its path and the arrowhead at its end (tip first).
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// From the source's trunk to the target's port.
    pub path: Path,
    /// The arrowhead: tip on the target's border, then the two corners of its base.
    pub arrow: [Point; 3],
}

/// The result: a place for every node, a route for every edge (in the graph's order), and the
/// size of the whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Per node of the graph.
    pub nodes: Vec<Placed>,
    /// Per edge of the graph.
    pub edges: Vec<Route>,
    /// The size across.
    pub across: f64,
    /// The size along.
    pub along: f64,
}

/// Distances the layout keeps, in the picture's units.
pub mod spacing {
    /// Between the columns of two boxes side by side.
    pub const BOXES: f64 = 24.0;
    /// Between a box's column and an edge passing it, or between two such edges.
    pub const EDGES: f64 = 10.0;
    /// From a trunk to the label beside it.
    pub const LABEL_ACROSS: f64 = 5.0;
    /// From a box's end to its label.
    pub const LABEL_ALONG: f64 = 2.0;
    /// After a rank's labels, before the channel.
    pub const BAND_END: f64 = 3.0;
    /// The shortest channel between two ranks.
    pub const CHANNEL: f64 = 26.0;
    /// The longest channel (wide fans get deeper channels, up to this).
    pub const CHANNEL_LONGEST: f64 = 90.0;
    /// The length of an arrowhead.
    pub const ARROW_LENGTH: f64 = 7.0;
    /// The width of an arrowhead.
    pub const ARROW_WIDTH: f64 = 7.0;
    /// Between two edges arriving at one box.
    pub const PORTS: f64 = 14.0;
    /// Between a box's corner and its outermost port.
    pub const PORT_MARGIN: f64 = 8.0;
}

/// Lays out a graph. Deterministic; runs in about O(edges · ranks) plus the sweeps.
pub fn lay_out(graph: &Graph) -> Layout {
    let layering = ranks::Layering::of(graph);
    let layers = order::reduce_crossings(&layering);
    let across = coordinates::assign(&layering, &layers);
    routes::route(graph, &layering, &layers, &across)
}

#[cfg(test)]
mod tests;

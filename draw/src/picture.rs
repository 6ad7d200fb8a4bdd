//! The picture: a diagram measured (text with the bundled font's widths), laid out, and mapped
//! to x and y for the chosen direction. Everything the SVG and PNG writers draw is here as
//! rectangles, text at positions and paths, so both draw the same picture.

use super::Direction;
use super::diagram::{Block, Diagram};
use super::layout::{self, Extent, Graph, Node, Point, Segment};
use super::text;

/// Font size of a layer's name.
pub const NAME_SIZE: f64 = 12.0;
/// Font size of the lines under the name.
pub const DETAIL_SIZE: f64 = 11.0;
/// Font size of the output shapes beside the edges.
pub const LABEL_SIZE: f64 = 10.5;
/// Font size of the title.
pub const TITLE_SIZE: f64 = 14.0;
/// Space inside a box, left and right of its widest line.
const PADDING_ACROSS: f64 = 9.0;
/// Space inside a box, above and below its text.
const PADDING_ALONG: f64 = 5.0;
/// The narrowest box.
const NARROWEST: f64 = 56.0;
/// Line heights as a multiple of the font size.
const LINE_SPACING: f64 = 1.25;
/// Around the whole picture.
const MARGIN: f64 = 12.0;
/// Below the title.
const TITLE_GAP: f64 = 12.0;
/// A connection-table cell's side.
const CELL: f64 = 5.0;
/// The step from one cell to the next.
const CELL_STEP: f64 = 6.0;
/// The widest a connection table is drawn; larger tables get smaller cells.
const TABLE_WIDEST: f64 = 240.0;
/// Above a connection table, below the text.
const TABLE_GAP: f64 = 4.0;

/// A position in the picture (x to the right, y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Horizontal.
    pub x: f64,
    /// Vertical, downwards.
    pub y: f64,
}

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left side.
    pub x: f64,
    /// Top side.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl Rect {
    /// Right side.
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    /// Bottom side.
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// Whether the two share more than a border.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Whether `other` lies inside this one (borders may touch).
    pub fn contains(&self, other: &Rect) -> bool {
        const SLACK: f64 = 1e-6;
        other.x >= self.x - SLACK
            && other.y >= self.y - SLACK
            && other.right() <= self.right() + SLACK
            && other.bottom() <= self.bottom() + SLACK
    }
}

/// Where a text's `x` is: its left end or its middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `x` is the left end.
    Start,
    /// `x` is the middle.
    Middle,
}

/// A line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    /// What it says.
    pub content: String,
    /// Its anchor's horizontal position.
    pub x: f64,
    /// Its baseline.
    pub baseline: f64,
    /// Font size.
    pub size: f64,
    /// What `x` marks.
    pub anchor: Anchor,
}

impl Text {
    /// The width the font's advances give.
    pub fn width(&self) -> f64 {
        text::width(&self.content, self.size)
    }

    /// The left end.
    pub fn left(&self) -> f64 {
        match self.anchor {
            Anchor::Start => self.x,
            Anchor::Middle => self.x - self.width() / 2.0,
        }
    }

    /// The box the font reserves for it: advances across, ascent to descent.
    pub fn bounds(&self) -> Rect {
        let ascent = text::ascent(self.size);
        Rect {
            x: self.left(),
            y: self.baseline - ascent,
            width: self.width(),
            height: ascent + text::descent(self.size),
        }
    }
}

/// A connection-table cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Where it is.
    pub rect: Rect,
    /// Whether the input map feeds the output map.
    pub connected: bool,
}

/// A layer's box with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerBox {
    /// The layer's name.
    pub name: String,
    /// The box.
    pub rect: Rect,
    /// Its lines, the name first.
    pub lines: Vec<Text>,
    /// Its connection table, row by row.
    pub cells: Vec<Cell>,
}

/// A piece of a path, from where the previous one ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece {
    /// A straight line to the point.
    Line(Position),
    /// A cubic Bézier curve through two control points to the last.
    Curve(Position, Position, Position),
}

/// A line drawn: an edge (with its arrowhead) or a trunk stub under a last layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// The block it leaves.
    pub from: usize,
    /// The block it enters (none for a stub).
    pub to: Option<usize>,
    /// Where it starts.
    pub start: Position,
    /// What follows.
    pub pieces: Vec<Piece>,
    /// The arrowhead, tip first.
    pub arrow: Option<[Position; 3]>,
}

/// Everything drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// The network's name.
    pub name: String,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The title line.
    pub title: Text,
    /// One per block of the diagram.
    pub boxes: Vec<LayerBox>,
    /// Output shapes beside the edges.
    pub labels: Vec<Text>,
    /// Edges and stubs.
    pub strokes: Vec<Stroke>,
}

/// A block's box size (width, height) and where its text lines and table go inside it,
/// relative to its top left corner.
struct Measured {
    width: f64,
    height: f64,
    lines: Vec<(String, f64, f64)>,
    cells: Vec<(Rect, bool)>,
}

fn line_height(size: f64) -> f64 {
    size * LINE_SPACING
}

/// The box of a block: as wide as its widest line or its table, and wide enough across the flow
/// for the arrowheads of all its inputs at the port spacing (in a left-to-right picture that is
/// its height, and its content is centred in it).
fn measure(block: &Block, inputs: usize, direction: Direction) -> Measured {
    let sized: Vec<(&str, f64)> = std::iter::once((block.name.as_str(), NAME_SIZE))
        .chain(
            block
                .details
                .iter()
                .map(|line| (line.as_str(), DETAIL_SIZE)),
        )
        .collect();
    let text_width = sized
        .iter()
        .map(|(line, size)| text::width(line, *size))
        .fold(0.0, f64::max);
    let (rows, columns) = block.table.as_ref().map_or((0, 0), |table| {
        (table.len(), table.first().map_or(0, Vec::len))
    });
    let step = if columns == 0 {
        CELL_STEP
    } else {
        CELL_STEP.min(TABLE_WIDEST / columns as f64)
    };
    let cell = step * CELL / CELL_STEP;
    let table_width = if columns == 0 {
        0.0
    } else {
        step * (columns - 1) as f64 + cell
    };
    let table_height = if rows == 0 {
        0.0
    } else {
        step * (rows - 1) as f64 + cell
    };
    let ports = inputs.saturating_sub(1) as f64 * layout::spacing::PORTS
        + 2.0 * layout::spacing::PORT_MARGIN;
    let mut width = (text_width.max(table_width) + 2.0 * PADDING_ACROSS).max(NARROWEST);
    if direction == Direction::TopToBottom {
        width = width.max(ports);
    }
    let width = width.ceil();
    let content: f64 = sized
        .iter()
        .map(|(_, size)| line_height(*size))
        .sum::<f64>()
        + if rows == 0 {
            0.0
        } else {
            TABLE_GAP + table_height
        };
    let mut height = (content + 2.0 * PADDING_ALONG).ceil();
    if direction == Direction::LeftToRight {
        height = height.max(ports.ceil());
    }
    let mut y = (height - content) / 2.0;
    let mut lines = Vec::new();
    for (line, size) in &sized {
        let height = line_height(*size);
        let ink = text::ascent(*size) + text::descent(*size);
        lines.push((
            line.to_string(),
            *size,
            y + (height - ink) / 2.0 + text::ascent(*size),
        ));
        y += height;
    }
    let mut cells = Vec::new();
    if let Some(table) = &block.table {
        y += TABLE_GAP;
        let left = (width - table_width) / 2.0;
        for (row, connected) in table.iter().enumerate() {
            for (column, &connected) in connected.iter().enumerate() {
                cells.push((
                    Rect {
                        x: left + column as f64 * step,
                        y: y + row as f64 * step,
                        width: cell,
                        height: cell,
                    },
                    connected,
                ));
            }
        }
    }
    Measured {
        width,
        height,
        lines,
        cells,
    }
}

impl Picture {
    /// Measures, lays out and places a diagram.
    pub fn of(diagram: &Diagram, direction: Direction) -> Picture {
        let mut inputs = vec![0usize; diagram.blocks.len()];
        for &(_, to) in &diagram.links {
            inputs[to] += 1;
        }
        let measured: Vec<Measured> = diagram
            .blocks
            .iter()
            .zip(&inputs)
            .map(|(block, &inputs)| measure(block, inputs, direction))
            .collect();
        let label_size = |label: &str| {
            (
                text::width(label, LABEL_SIZE),
                text::ascent(LABEL_SIZE) + text::descent(LABEL_SIZE),
            )
        };
        let flip = direction == Direction::LeftToRight;
        let oriented = |(width, height): (f64, f64)| {
            if flip {
                (height, width)
            } else {
                (width, height)
            }
        };
        let graph = Graph {
            nodes: diagram
                .blocks
                .iter()
                .zip(&measured)
                .map(|(block, size)| {
                    let (across, along) = oriented((size.width, size.height));
                    Node {
                        across,
                        along,
                        label: block.output.as_deref().map(|l| oriented(label_size(l))),
                    }
                })
                .collect(),
            edges: diagram.links.clone(),
        };
        let layout = layout::lay_out(&graph);

        let title = Text {
            content: diagram.title.clone(),
            x: MARGIN,
            baseline: MARGIN + text::ascent(TITLE_SIZE),
            size: TITLE_SIZE,
            anchor: Anchor::Start,
        };
        let top = MARGIN + line_height(TITLE_SIZE) + TITLE_GAP;
        let place = |point: Point| {
            let (x, y) = if flip {
                (point.along, point.across)
            } else {
                (point.across, point.along)
            };
            Position {
                x: MARGIN + x,
                y: top + y,
            }
        };
        let rect = |extent: &Extent| {
            let corner = place(Point::new(extent.across, extent.along));
            let (width, height) = oriented((extent.across_size, extent.along_size));
            Rect {
                x: corner.x,
                y: corner.y,
                width,
                height,
            }
        };
        let pieces = |segments: &[Segment]| {
            segments
                .iter()
                .map(|segment| match *segment {
                    Segment::Line(to) => Piece::Line(place(to)),
                    Segment::Curve(a, b, to) => Piece::Curve(place(a), place(b), place(to)),
                })
                .collect::<Vec<Piece>>()
        };

        let mut boxes = Vec::with_capacity(diagram.blocks.len());
        let mut labels = Vec::new();
        let mut strokes = Vec::new();
        for (index, ((block, size), placed)) in diagram
            .blocks
            .iter()
            .zip(&measured)
            .zip(&layout.nodes)
            .enumerate()
        {
            let area = rect(&placed.area);
            boxes.push(LayerBox {
                name: block.name.clone(),
                rect: area,
                lines: size
                    .lines
                    .iter()
                    .map(|(content, text_size, baseline)| Text {
                        content: content.clone(),
                        x: area.x + area.width / 2.0,
                        baseline: area.y + baseline,
                        size: *text_size,
                        anchor: Anchor::Middle,
                    })
                    .collect(),
                cells: size
                    .cells
                    .iter()
                    .map(|(cell, connected)| Cell {
                        rect: Rect {
                            x: area.x + cell.x,
                            y: area.y + cell.y,
                            ..*cell
                        },
                        connected: *connected,
                    })
                    .collect(),
            });
            if let (Some(output), Some(label)) = (&block.output, &placed.label) {
                let bounds = rect(label);
                labels.push(Text {
                    content: output.clone(),
                    x: bounds.x,
                    baseline: bounds.y + text::ascent(LABEL_SIZE),
                    size: LABEL_SIZE,
                    anchor: Anchor::Start,
                });
            }
            if let Some(stub) = &placed.stub {
                strokes.push(Stroke {
                    from: index,
                    to: None,
                    start: place(stub.start),
                    pieces: pieces(&stub.segments),
                    arrow: None,
                });
            }
        }
        for (&(from, to), route) in diagram.links.iter().zip(&layout.edges) {
            strokes.push(Stroke {
                from,
                to: Some(to),
                start: place(route.path.start),
                pieces: pieces(&route.path.segments),
                arrow: Some(route.arrow.map(place)),
            });
        }
        let (width, height) = oriented((layout.across, layout.along));
        Picture {
            name: diagram.name.clone(),
            width: (2.0 * MARGIN + width.max(title.width())).ceil(),
            height: (top + height + MARGIN).ceil(),
            title,
            boxes,
            labels,
            strokes,
        }
    }
}

/// Colours and line widths both writers use.
pub mod style {
    /// An sRGB colour.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Colour(pub u8, pub u8, pub u8);

    impl Colour {
        /// `#rrggbb`.
        pub fn hex(self) -> String {
            format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
        }
    }

    /// The background.
    pub const BACKGROUND: Colour = Colour(255, 255, 255);
    /// Inside a box.
    pub const BOX_FILL: Colour = Colour(236, 242, 250);
    /// A box's border.
    pub const BOX_BORDER: Colour = Colour(61, 90, 128);
    /// Text in boxes and the title.
    pub const TEXT: Colour = Colour(27, 27, 27);
    /// Output shapes beside the edges.
    pub const LABEL: Colour = Colour(70, 70, 70);
    /// Edges and arrowheads.
    pub const EDGE: Colour = Colour(90, 90, 90);
    /// A connected cell of a connection table.
    pub const CONNECTED: Colour = Colour(61, 90, 128);
    /// An unconnected cell.
    pub const UNCONNECTED: Colour = Colour(214, 222, 232);
    /// Width of edges.
    pub const EDGE_WIDTH: f64 = 1.2;
    /// Width of box borders.
    pub const BORDER_WIDTH: f64 = 1.0;
    /// Corner radius of boxes.
    pub const CORNER: f64 = 4.0;
}

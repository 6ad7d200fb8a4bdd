//! Pictures of a network's layer graph (`netcalc draw`), in the spirit of Keras'
//! `plot_model(show_shapes=True)`: a box per layer with its name, kind, key settings and
//! parameters, and its output shape beside its outgoing edge.
//!
//! The pipeline: [`Diagram`] (what each box says, from the network and its analysis; with
//! `--collapse`, [`Diagram::collapsed`] makes a repeated block one box) →
//! [`Picture`] (text measured with the bundled font's widths, a layered layout of our own in
//! `layout/`, mapped to x and y) → SVG text ([`svg`]) or PNG bytes ([`png`]). [`dot`] writes the
//! diagram for graphviz instead, which lays it out itself. Everything but `png` is pure
//! computation on values: no files, processes or threads, so it can run wherever the core runs
//! (WebAssembly included); `png` rasterises in memory with tiny-skia and the bundled font, and
//! is the only part that needs them. [`inspect`] checks a picture's geometry.

// The core's modules under their names in this crate, so that `crate::graph::Network` and the
// like read as they do in the core.
use netcalc_core::{analysis, graph, layers, report, syntax};

mod collapse;
pub mod diagram;
pub mod dot;
pub mod inspect;
pub mod layout;
pub mod picture;
pub mod png;
pub mod svg;
pub mod text;

pub use diagram::{Block, Diagram};
pub use picture::Picture;

/// Which way the data flows in the picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Inputs at the top (graphviz's `rankdir=TB`).
    #[default]
    TopToBottom,
    /// Inputs at the left (`rankdir=LR`).
    LeftToRight,
}

impl Direction {
    /// graphviz's name for it: `TB` or `LR`.
    pub fn rankdir(self) -> &'static str {
        match self {
            Direction::TopToBottom => "TB",
            Direction::LeftToRight => "LR",
        }
    }
}

/// What the boxes and edges show besides names, kinds and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Show {
    /// Output shapes beside the edges.
    pub shapes: bool,
    /// Parameter counts in the boxes.
    pub parameters: bool,
    /// MACs in the boxes.
    pub macs: bool,
}

impl Default for Show {
    /// Shapes and parameters, as `plot_model(show_shapes=True)` and the issue ask.
    fn default() -> Show {
        Show {
            shapes: true,
            parameters: true,
            macs: false,
        }
    }
}

#[cfg(test)]
mod tests;

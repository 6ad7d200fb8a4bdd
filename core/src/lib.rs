//! netcalc's core: reads a neural-network description (YAML or DSL), builds its layer graph and
//! computes shapes, parameters, connections, receptive fields and MACs per layer; prints the
//! reports, checks a hand-written table and explains every number. It needs no file system,
//! process or threads (the `executor` feature adds the multi-threaded GEMM and rayon for
//! training), so it compiles for WebAssembly.
#![warn(missing_docs)]

pub mod analysis;
pub mod builtin;
pub mod check;
pub mod conventions;
pub mod error;
pub mod explain;
pub mod expression;
pub mod graph;
pub mod layers;
pub mod limits;
pub mod memory;
pub mod report;
pub mod shape;
pub mod source;
pub mod suggestion;
pub mod syntax;
pub mod tensor;

pub use analysis::{Analysis, analyse};
pub use error::{Error, Result};
pub use graph::Network;
pub use source::Source;
pub use syntax::Format;

/// Reads a description and builds its layer graph. The network's name falls back to the source
/// name's file stem.
pub fn load(source: &Source, format: Format) -> Result<Network> {
    load_with(source, format, graph::Overrides::default())
}

/// [`load`], with a rounding rule and conventions replacing the description's.
pub fn load_with(source: &Source, format: Format, overrides: graph::Overrides) -> Result<Network> {
    let description = syntax::read(source, format).map_err(|e| Error::new(source, e))?;
    let stem = std::path::Path::new(source.name.trim_start_matches("builtin:"))
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("network");
    Network::build(source, description, stem, overrides)
}

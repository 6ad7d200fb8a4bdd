//! netcalc: reads a neural-network description (YAML or DSL), builds its layer graph and computes
//! shapes, parameters, connections, receptive fields and MACs per layer.
#![warn(missing_docs)]

pub mod error;
pub mod source;
pub mod syntax;
pub mod tensor;

//! netcalc: the command-line tool and everything that needs files, processes or threads
//! (training, data sets, sweeps, importing model files). The analysis itself is the core crate
//! (`core/`, `netcalc-core`) and the pictures are `draw/` (`netcalc-draw`); both are re-exported
//! here under their old paths (`netcalc::layers`, `netcalc::draw`, …), so that code and tests
//! name one crate.
#![warn(missing_docs)]

pub use netcalc_core::{
    analysis, builtin, check, conventions, error, explain, expression, graph, layers, limits,
    memory, report, shape, source, suggestion, syntax, tensor,
};
pub use netcalc_draw as draw;

pub mod cli;
pub mod data;
pub mod import;
pub mod input_file;
pub mod sweep;
pub mod train;

pub use netcalc_core::{
    Analysis, Error, Format, Network, Result, Source, analyse, load, load_with,
};

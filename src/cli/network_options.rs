//! The options every analysing command takes to override a description's global settings.
//!
//! `table`, `connections`, `summary`, `check`, `explain` and `draw` take `--rounding` and
//! `--conventions`. `train`, `eval`, `predict` and `sweep` do not: a run's weights must fit the
//! network again when `eval` or `--resume` read them later, so what changes the network
//! (PyTorch's second recurrent bias, ceil rounding) is written in the description, which the run
//! folder names.

use crate::conventions::Conventions;
use crate::shape::Rounding;
use clap::ValueEnum;

/// `--rounding` and `--conventions`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub(super) struct NetworkOptions {
    /// What to do with non-integer output sizes; overrides the description's `rounding`.
    #[arg(long, value_enum)]
    rounding: Option<RoundingArgument>,
    /// Whose counting conventions to follow (BatchNorm buffers, recurrent biases, pooling's ceil
    /// rule, defaults); overrides the description's `conventions`.
    #[arg(long, value_enum)]
    conventions: Option<ConventionsArgument>,
}

impl NetworkOptions {
    /// What the options change in the description.
    pub(super) fn overrides(self) -> crate::graph::Overrides {
        crate::graph::Overrides {
            rounding: self.rounding.map(RoundingArgument::rounding),
            conventions: self.conventions.map(ConventionsArgument::conventions),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoundingArgument {
    /// A non-integer size is an error.
    Exact,
    /// Round down (Keras, PyTorch).
    Floor,
    /// Round up (Caffe pooling).
    Ceil,
}

impl RoundingArgument {
    fn rounding(self) -> Rounding {
        match self {
            RoundingArgument::Exact => Rounding::Exact,
            RoundingArgument::Floor => Rounding::Floor,
            RoundingArgument::Ceil => Rounding::Ceil,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConventionsArgument {
    /// Keras' (the default).
    Keras,
    /// PyTorch's.
    Pytorch,
}

impl ConventionsArgument {
    fn conventions(self) -> Conventions {
        match self {
            ConventionsArgument::Keras => Conventions::Keras,
            ConventionsArgument::Pytorch => Conventions::Pytorch,
        }
    }
}

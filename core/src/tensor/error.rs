//! The error every tensor kernel returns when its arguments do not fit together.

use crate::error::Locate;
use crate::source::Span;

/// Why a kernel refused its arguments. Kernels check before they compute, so an error leaves the
/// output buffers untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    /// A buffer does not have the length the sizes imply.
    #[error("{what} has {actual} values, expected {expected}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// The length the sizes imply.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A size does not fit in `usize`.
    #[error("the size of the {what} overflows")]
    Overflow {
        /// What was being sized.
        what: &'static str,
    },
    /// The sizes of a convolution or pooling do not make sense together.
    #[error("invalid geometry: {reason}")]
    Geometry {
        /// What is wrong.
        reason: String,
    },
    /// A reshape to a shape with another number of values.
    #[error("cannot reshape {from:?} into {to:?}")]
    Reshape {
        /// The old shape.
        from: Vec<usize>,
        /// The requested shape.
        to: Vec<usize>,
    },
    /// A multi-index of the wrong rank or outside the shape.
    #[error("index {index:?} is outside the shape {shape:?}")]
    Index {
        /// The index given.
        index: Vec<usize>,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// A tensor of the wrong rank.
    #[error("expected a rank-{expected} tensor, got shape {shape:?}")]
    Rank {
        /// The rank needed.
        expected: usize,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// A class label not below the number of classes.
    #[error("label {label} is not below the number of classes {classes}")]
    Label {
        /// The label given.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A thread count of zero.
    #[error("the thread count must be at least 1")]
    NoThreads,
}

impl Locate for TensorError {
    /// Kernels see no description text, so their errors point nowhere.
    fn span(&self) -> Span {
        Span::default()
    }

    fn code(&self) -> &'static str {
        match self {
            TensorError::Length { .. } => "netcalc::tensor::length",
            TensorError::Overflow { .. } => "netcalc::tensor::overflow",
            TensorError::Geometry { .. } => "netcalc::tensor::geometry",
            TensorError::Reshape { .. } => "netcalc::tensor::reshape",
            TensorError::Index { .. } => "netcalc::tensor::index",
            TensorError::Rank { .. } => "netcalc::tensor::rank",
            TensorError::Label { .. } => "netcalc::tensor::label",
            TensorError::NoThreads => "netcalc::tensor::no_threads",
        }
    }
}

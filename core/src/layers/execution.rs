//! What the trainer asks of a layer besides its counts: its parameter tensors, and its forward
//! and backward pass on a batch. Batched tensors are `[batch, …]` with the analysis's per-example
//! shape after the batch axis (NHWC maps, `[batch, units]` vectors); the layouts of weights are
//! those of `crate::tensor` (HWIO convolution weights, `[in, out]` dense weights).

use crate::tensor::{Compute, Tensor};
use rand_chacha::ChaCha8Rng;
use std::any::Any;

/// One parameter tensor a layer needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSpec {
    /// `weights`, `bias`, `gamma`, `moving_mean`, …
    pub name: &'static str,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Whether the optimizer changes it.
    pub trainable: bool,
    /// How many of its entries are used (fewer than all when a connection table masks weights);
    /// the sum over a layer's specs equals the analysis's parameter count.
    pub active: usize,
    /// What it is, which decides how it starts.
    pub role: Role,
    /// Which entries are used, when not all are (row-major like the tensor; a connection table's
    /// unconnected weights are `false`). Unused entries start at 0 and stay 0.
    pub mask: Option<Vec<bool>>,
}

impl ParameterSpec {
    /// One trainable bias per unit, as conv2d and dense have.
    pub fn bias(units: usize) -> ParameterSpec {
        ParameterSpec {
            name: "bias",
            shape: vec![units],
            trainable: true,
            active: units,
            role: Role::Bias,
            mask: None,
        }
    }
}

/// What a parameter tensor is, for initialisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    /// Connection weights with these fan-in and fan-out (per output unit, per input unit).
    Weights {
        /// Inputs per output unit.
        fan_in: usize,
        /// Outputs per input unit.
        fan_out: usize,
    },
    /// Biases (start at 0, or N(0, 1) under Nielsen's scheme).
    Bias,
    /// Starts at this constant (batch-norm gamma 1, beta 0, moving statistics, subsampling
    /// coefficients).
    Constant(f32),
    /// Fixed ±1 codes (LeCun's RBF output centres), drawn once from the seeded generator.
    Codes,
}

/// What a forward pass needs besides parameters and inputs.
pub struct Pass<'a> {
    /// Threads and workspace for kernels.
    pub compute: Compute,
    /// Training (dropout active, batch statistics) or inference.
    pub training: bool,
    /// The run's one seeded generator (dropout masks).
    pub random: &'a mut ChaCha8Rng,
}

/// Whatever a layer's forward pass keeps for its backward pass (argmax positions, dropout
/// masks, normalised inputs); each layer downcasts its own type.
pub type Saved = Box<dyn Any + Send + Sync>;

/// The result of a forward pass.
pub struct Forward {
    /// The layer's output.
    pub output: Tensor,
    /// Kept for the backward pass.
    pub saved: Saved,
}

impl Forward {
    /// An output with nothing saved.
    pub fn plain(output: Tensor) -> Forward {
        Forward {
            output,
            saved: Box::new(()),
        }
    }
}

/// The result of a backward pass.
pub struct Gradients {
    /// ∂loss/∂input, one per input, shaped like the inputs.
    pub inputs: Vec<Tensor>,
    /// ∂loss/∂parameter, one per parameter spec, shaped like it (zeros where not trainable or
    /// masked).
    pub parameters: Vec<Tensor>,
}

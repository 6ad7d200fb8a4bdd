//! `netcalc memory`: what training a network needs in memory at a batch size, from the analysis
//! alone (no file system, no executor): per layer its trainable parameters and the activations
//! kept for the backward pass, then the totals of weights, gradients, optimizer state and
//! activations under a named convention.
//!
//! Conventions (bytes per trainable parameter):
//! - `fp32`: weights 4, gradients 4, optimizer state 4 per state copy (SGD none, momentum one,
//!   Adam two moments, Adadelta two accumulators): fp32 + Adam = 4 + 4 + 8 = 16.
//! - `mixed`, as ZeRO counts it (Rajbhandari et al. 2020, section 3.1): fp16 weights 2, fp16
//!   gradients 2, and the optimizer state in fp32 with an fp32 master copy of the weights: 4 +
//!   4 per state copy, so mixed + Adam = 2 + 2 + 12 = 16.
//!
//! Non-trainable parameters and buffers (BatchNorm's running statistics) are weights only, in
//! fp32 under both conventions. Activations are every layer's output at the batch size (what
//! netcalc's executor keeps through a training pass), 4 bytes each in fp32 and 2 in mixed
//! precision; what a layer keeps besides its output (dropout masks, pre-activations) and the
//! backward pass's temporaries are not counted.

use crate::analysis::Analysis;
use crate::report::numbers::{bytes, thousands};
use crate::report::{Grid, OutputFormat};

/// An optimizer, for the state it keeps per trainable parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimizer {
    /// Plain SGD: no state.
    Sgd,
    /// SGD with momentum (or Nesterov's): one velocity.
    Momentum,
    /// RMSprop: one running mean of squares.
    Rmsprop,
    /// Adagrad: one sum of squares.
    Adagrad,
    /// Adam (and AdamW): two moments.
    Adam,
    /// Adadelta: two running means (squared gradients and squared updates).
    Adadelta,
}

impl Optimizer {
    /// Every optimizer with its name.
    pub const ALL: [(Optimizer, &'static str); 6] = [
        (Optimizer::Sgd, "sgd"),
        (Optimizer::Momentum, "momentum"),
        (Optimizer::Rmsprop, "rmsprop"),
        (Optimizer::Adagrad, "adagrad"),
        (Optimizer::Adam, "adam"),
        (Optimizer::Adadelta, "adadelta"),
    ];

    /// State tensors per trainable parameter.
    pub fn state_copies(self) -> u64 {
        match self {
            Optimizer::Sgd => 0,
            Optimizer::Momentum | Optimizer::Rmsprop | Optimizer::Adagrad => 1,
            Optimizer::Adam | Optimizer::Adadelta => 2,
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        Optimizer::ALL
            .iter()
            .find(|(optimizer, _)| *optimizer == self)
            .map_or("?", |(_, name)| name)
    }
}

/// Whose bytes per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Everything in f32.
    Fp32,
    /// fp16 weights, gradients and activations, fp32 master weights and state (ZeRO's count).
    Mixed,
}

/// Bytes per trainable parameter, split as the convention counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerParameter {
    /// The weights used in the passes.
    pub weights: u64,
    /// Their gradients.
    pub gradients: u64,
    /// The optimizer's state (with the fp32 master copy under mixed precision).
    pub state: u64,
}

impl PerParameter {
    /// The bytes of a trainable parameter under a precision and an optimizer.
    pub fn of(precision: Precision, optimizer: Optimizer) -> PerParameter {
        let copies = optimizer.state_copies();
        match precision {
            Precision::Fp32 => PerParameter {
                weights: 4,
                gradients: 4,
                state: 4 * copies,
            },
            Precision::Mixed => PerParameter {
                weights: 2,
                gradients: 2,
                state: 4 + 4 * copies,
            },
        }
    }

    /// All of them.
    pub fn total(self) -> u64 {
        self.weights + self.gradients + self.state
    }
}

/// One layer's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerMemory {
    /// The layer's name and kind, as the summary writes them.
    pub name: String,
    /// Trainable parameters.
    pub trainable: u64,
    /// Non-trainable parameters and buffers.
    pub fixed: u64,
    /// Activation values kept at the batch size.
    pub activations: u64,
    /// Bytes: parameters under the convention plus activations.
    pub bytes: u64,
}

/// The estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// The network's name.
    pub network: String,
    /// The batch size.
    pub batch: u64,
    /// The optimizer.
    pub optimizer: Optimizer,
    /// The precision.
    pub precision: Precision,
    /// Bytes per trainable parameter.
    pub per_parameter: PerParameter,
    /// Per layer, in evaluation order.
    pub layers: Vec<LayerMemory>,
    /// Bytes of the weights (trainable, then non-trainable and buffers in fp32).
    pub weights: u64,
    /// Bytes of the gradients.
    pub gradients: u64,
    /// Bytes of the optimizer's state.
    pub state: u64,
    /// Bytes of the activations.
    pub activations: u64,
}

impl Estimate {
    /// Everything.
    pub fn total(&self) -> u64 {
        self.weights + self.gradients + self.state + self.activations
    }
}

/// A size too large for 64 bits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the memory of `{network}` at batch {batch} does not fit in 64 bits")]
pub struct Overflow {
    /// The network.
    pub network: String,
    /// The batch size.
    pub batch: u64,
}

/// The estimate for an analysed network. Arithmetic is checked: an absurd batch is an error.
pub fn estimate(
    analysis: &Analysis,
    batch: u64,
    optimizer: Optimizer,
    precision: Precision,
) -> Result<Estimate, Overflow> {
    let overflow = || Overflow {
        network: analysis.network.clone(),
        batch,
    };
    let per_parameter = PerParameter::of(precision, optimizer);
    let activation_bytes = match precision {
        Precision::Fp32 => 4,
        Precision::Mixed => 2,
    };
    let mut layers = Vec::with_capacity(analysis.layers.len());
    let (mut weights, mut gradients, mut state, mut activations) = (0u64, 0u64, 0u64, 0u64);
    for info in &analysis.layers {
        let fixed = info.non_trainable + info.buffers;
        let values = (info.activation_bytes / 4)
            .checked_mul(batch)
            .ok_or_else(overflow)?;
        let layer_weights = info
            .trainable
            .checked_mul(per_parameter.weights)
            .and_then(|w| w.checked_add(fixed.checked_mul(4)?))
            .ok_or_else(overflow)?;
        let layer_gradients = info
            .trainable
            .checked_mul(per_parameter.gradients)
            .ok_or_else(overflow)?;
        let layer_state = info
            .trainable
            .checked_mul(per_parameter.state)
            .ok_or_else(overflow)?;
        let layer_activations = values.checked_mul(activation_bytes).ok_or_else(overflow)?;
        let layer_bytes = [layer_gradients, layer_state, layer_activations]
            .iter()
            .try_fold(layer_weights, |sum, &part| sum.checked_add(part))
            .ok_or_else(overflow)?;
        weights = weights.checked_add(layer_weights).ok_or_else(overflow)?;
        gradients = gradients
            .checked_add(layer_gradients)
            .ok_or_else(overflow)?;
        state = state.checked_add(layer_state).ok_or_else(overflow)?;
        activations = activations
            .checked_add(layer_activations)
            .ok_or_else(overflow)?;
        layers.push(LayerMemory {
            name: format!("{} ({})", info.name, info.kind),
            trainable: info.trainable,
            fixed,
            activations: values,
            bytes: layer_bytes,
        });
    }
    weights
        .checked_add(gradients)
        .and_then(|sum| sum.checked_add(state))
        .and_then(|sum| sum.checked_add(activations))
        .ok_or_else(overflow)?;
    Ok(Estimate {
        network: analysis.network.clone(),
        batch,
        optimizer,
        precision,
        per_parameter,
        layers,
        weights,
        gradients,
        state,
        activations,
    })
}

/// The convention in words: `fp32 + adam: 4 (weights) + 4 (gradients) + 8 (state: 2 copies) =
/// 16 bytes per trainable parameter`.
pub fn convention(estimate: &Estimate) -> String {
    let per = estimate.per_parameter;
    let copies = estimate.optimizer.state_copies();
    match estimate.precision {
        Precision::Fp32 => format!(
            "Convention: fp32 + {}: {} (weights) + {} (gradients) + {} ({} state cop{} in fp32) = {} bytes per trainable parameter",
            estimate.optimizer.name(),
            per.weights,
            per.gradients,
            per.state,
            copies,
            if copies == 1 { "y" } else { "ies" },
            per.total()
        ),
        Precision::Mixed => format!(
            "Convention: mixed precision as in ZeRO (Rajbhandari et al. 2020) + {}: {} (fp16 weights) + {} (fp16 gradients) + {} (fp32 master weights and {} state cop{}) = {} bytes per trainable parameter",
            estimate.optimizer.name(),
            per.weights,
            per.gradients,
            per.state,
            copies,
            if copies == 1 { "y" } else { "ies" },
            per.total()
        ),
    }
}

/// The estimate as a table, then its totals and conventions.
pub fn render(estimate: &Estimate, format: OutputFormat) -> String {
    let precision = match estimate.precision {
        Precision::Fp32 => "fp32",
        Precision::Mixed => "mixed",
    };
    let mut grid = Grid {
        title: format!(
            "{}: training memory at batch {}, {}, {precision}",
            estimate.network,
            estimate.batch,
            estimate.optimizer.name()
        ),
        header: [
            "Layer (type)",
            "Trainable params",
            "Fixed params",
            "Activations kept",
            "Bytes",
        ]
        .map(String::from)
        .to_vec(),
        right_aligned: vec![1, 2, 3, 4],
        rows: estimate
            .layers
            .iter()
            .map(|layer| {
                vec![
                    layer.name.clone(),
                    thousands(layer.trainable),
                    thousands(layer.fixed),
                    thousands(layer.activations),
                    bytes(layer.bytes),
                ]
            })
            .collect(),
        notes: Vec::new(),
    };
    let activation_bytes = match estimate.precision {
        Precision::Fp32 => 4,
        Precision::Mixed => 2,
    };
    grid.notes = vec![
        format!("Weights: {}", bytes(estimate.weights)),
        format!("Gradients: {}", bytes(estimate.gradients)),
        format!(
            "Optimizer state ({}): {}",
            estimate.optimizer.name(),
            bytes(estimate.state)
        ),
        format!(
            "Activations (every layer's output at batch {}, {activation_bytes} bytes each): {}",
            estimate.batch,
            bytes(estimate.activations)
        ),
        format!("Total: {}", bytes(estimate.total())),
        convention(estimate),
        "Fixed params (non-trainable, buffers) are weights only, 4 bytes each; layers' other saved state and the backward pass's temporaries are not counted".to_string(),
    ];
    grid.render(format)
}

#[cfg(test)]
mod tests {
    use super::{Optimizer, PerParameter, Precision, estimate};
    use crate::source::Source;
    use crate::syntax::Format;

    #[test]
    fn the_named_conventions_hold() {
        // fp32 + Adam = 16 bytes per parameter; ZeRO's mixed precision with Adam: 2 + 2 + 12.
        assert_eq!(
            PerParameter::of(Precision::Fp32, Optimizer::Adam).total(),
            16
        );
        assert_eq!(
            PerParameter::of(Precision::Mixed, Optimizer::Adam),
            PerParameter {
                weights: 2,
                gradients: 2,
                state: 12
            }
        );
        assert_eq!(PerParameter::of(Precision::Fp32, Optimizer::Sgd).total(), 8);
        assert_eq!(
            PerParameter::of(Precision::Fp32, Optimizer::Momentum).state,
            4
        );
        assert_eq!(
            PerParameter::of(Precision::Fp32, Optimizer::Adadelta).state,
            8
        );
    }

    /// A dense network counted by hand: 784·10+10 = 7,850 trainable parameters, outputs 784 and
    /// 10 values per example.
    #[test]
    fn a_small_network_by_hand() {
        let network = crate::load(
            &Source::new("t.nn", "input 784\ndense 10 activation=softmax\n"),
            Format::Dsl,
        )
        .expect("loads");
        let analysis = crate::analysis::analyse(&network).expect("analyses");
        let estimate = estimate(&analysis, 32, Optimizer::Adam, Precision::Fp32).expect("fits");
        assert_eq!(estimate.weights, 7_850 * 4);
        assert_eq!(estimate.gradients, 7_850 * 4);
        assert_eq!(estimate.state, 7_850 * 8);
        assert_eq!(estimate.activations, 32 * (784 + 10) * 4);
        let mixed = super::estimate(&analysis, 32, Optimizer::Sgd, Precision::Mixed).expect("fits");
        assert_eq!(mixed.total(), 7_850 * (2 + 2 + 4) + 32 * (784 + 10) * 2);
        assert!(super::estimate(&analysis, u64::MAX, Optimizer::Sgd, Precision::Fp32).is_err());
    }
}

//! Optimizers: how a parameter tensor moves along its gradient. The update rules are Keras'
//! (the sheet's runs used Keras 2): SGD with optional momentum, Adadelta, Adam and RMSprop, each
//! keeping its state per parameter tensor, in f32, element by element, so an update depends only
//! on the values it is given.

use crate::train::options::{OptimizerKind, TrainOptions};

/// Keras' fuzz factor ε, the default of every optimizer here.
pub const EPSILON: f32 = 1e-7;

/// Moves parameters along their gradients. Tensors are named by a stable index (the model's
/// order of trainable tensors); each optimizer keeps what it needs per index.
pub trait Optimizer: Send {
    /// Starts one step over all tensors (Adam counts steps for its bias correction).
    fn begin_step(&mut self);

    /// Updates tensor `index` in place from its gradient (same length).
    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]);
}

/// The optimizer the options ask for.
pub fn from_options(options: &TrainOptions) -> Box<dyn Optimizer> {
    let rate = options.learning_rate as f32;
    match options.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(rate, options.momentum as f32)),
        OptimizerKind::Adadelta => Box::new(Adadelta::new(rate, 0.95, EPSILON)),
        OptimizerKind::Adam => Box::new(Adam::new(rate, 0.9, 0.999, EPSILON)),
        OptimizerKind::RmsProp => Box::new(RmsProp::new(rate, 0.9, EPSILON)),
    }
}

/// The per-index state vectors of an optimizer, created as zeros on first use.
#[derive(Debug, Default)]
struct State {
    slots: Vec<Vec<f32>>,
}

impl State {
    fn slot(&mut self, index: usize, length: usize) -> &mut Vec<f32> {
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, Vec::new);
        }
        let slot = &mut self.slots[index];
        if slot.len() != length {
            *slot = vec![0.0; length];
        }
        slot
    }
}

/// Stochastic gradient descent. Without momentum: w ← w − η·g. With momentum μ (Keras):
/// v ← μ·v − η·g, w ← w + v.
#[derive(Debug)]
pub struct Sgd {
    rate: f32,
    momentum: f32,
    velocity: State,
}

impl Sgd {
    /// SGD with learning rate `rate` and momentum `momentum` (0 for none).
    pub fn new(rate: f32, momentum: f32) -> Sgd {
        Sgd {
            rate,
            momentum,
            velocity: State::default(),
        }
    }
}

impl Optimizer for Sgd {
    fn begin_step(&mut self) {}

    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]) {
        if self.momentum == 0.0 {
            for (value, &g) in values.iter_mut().zip(gradient) {
                *value -= self.rate * g;
            }
            return;
        }
        let velocity = self.velocity.slot(index, values.len());
        for ((value, &g), v) in values.iter_mut().zip(gradient).zip(velocity.iter_mut()) {
            *v = self.momentum * *v - self.rate * g;
            *value += *v;
        }
    }
}

/// Adadelta (Zeiler 2012) as Keras: a ← ρa + (1−ρ)g², Δ ← g·√(d + ε)/√(a + ε), w ← w − η·Δ,
/// d ← ρd + (1−ρ)Δ².
#[derive(Debug)]
pub struct Adadelta {
    rate: f32,
    rho: f32,
    epsilon: f32,
    accumulated: State,
    deltas: State,
}

impl Adadelta {
    /// Adadelta with learning rate `rate` (Keras: 1.0), decay `rho` (0.95) and `epsilon`.
    pub fn new(rate: f32, rho: f32, epsilon: f32) -> Adadelta {
        Adadelta {
            rate,
            rho,
            epsilon,
            accumulated: State::default(),
            deltas: State::default(),
        }
    }
}

impl Optimizer for Adadelta {
    fn begin_step(&mut self) {}

    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]) {
        let accumulated = self.accumulated.slot(index, values.len());
        let deltas = self.deltas.slot(index, values.len());
        for (((value, &g), a), d) in values
            .iter_mut()
            .zip(gradient)
            .zip(accumulated.iter_mut())
            .zip(deltas.iter_mut())
        {
            *a = self.rho * *a + (1.0 - self.rho) * g * g;
            let step = g * (*d + self.epsilon).sqrt() / (*a + self.epsilon).sqrt();
            *value -= self.rate * step;
            *d = self.rho * *d + (1.0 - self.rho) * step * step;
        }
    }
}

/// Adam (Kingma and Ba 2015) as Keras: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
/// w ← w − η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε).
#[derive(Debug)]
pub struct Adam {
    rate: f32,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    steps: i32,
    first: State,
    second: State,
}

impl Adam {
    /// Adam with learning rate `rate` (Keras: 0.001), `beta_1` (0.9), `beta_2` (0.999), `epsilon`.
    pub fn new(rate: f32, beta_1: f32, beta_2: f32, epsilon: f32) -> Adam {
        Adam {
            rate,
            beta_1,
            beta_2,
            epsilon,
            steps: 0,
            first: State::default(),
            second: State::default(),
        }
    }
}

impl Optimizer for Adam {
    fn begin_step(&mut self) {
        self.steps = self.steps.saturating_add(1);
    }

    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]) {
        let t = self.steps.max(1);
        let corrected =
            self.rate * (1.0 - self.beta_2.powi(t)).sqrt() / (1.0 - self.beta_1.powi(t));
        let first = self.first.slot(index, values.len());
        let second = self.second.slot(index, values.len());
        for (((value, &g), m), v) in values
            .iter_mut()
            .zip(gradient)
            .zip(first.iter_mut())
            .zip(second.iter_mut())
        {
            *m = self.beta_1 * *m + (1.0 - self.beta_1) * g;
            *v = self.beta_2 * *v + (1.0 - self.beta_2) * g * g;
            *value -= corrected * *m / (v.sqrt() + self.epsilon);
        }
    }
}

/// RMSprop (Hinton's lecture 6e) as Keras: a ← ρa + (1−ρ)g², w ← w − η·g/(√a + ε).
#[derive(Debug)]
pub struct RmsProp {
    rate: f32,
    rho: f32,
    epsilon: f32,
    accumulated: State,
}

impl RmsProp {
    /// RMSprop with learning rate `rate` (Keras: 0.001), decay `rho` (0.9) and `epsilon`.
    pub fn new(rate: f32, rho: f32, epsilon: f32) -> RmsProp {
        RmsProp {
            rate,
            rho,
            epsilon,
            accumulated: State::default(),
        }
    }
}

impl Optimizer for RmsProp {
    fn begin_step(&mut self) {}

    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]) {
        let accumulated = self.accumulated.slot(index, values.len());
        for ((value, &g), a) in values.iter_mut().zip(gradient).zip(accumulated.iter_mut()) {
            *a = self.rho * *a + (1.0 - self.rho) * g * g;
            *value -= self.rate * g / (a.sqrt() + self.epsilon);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(found: &[f32], expected: &[f64]) {
        assert_eq!(found.len(), expected.len());
        for (&found, &expected) in found.iter().zip(expected) {
            assert!(
                (f64::from(found) - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                "{found} vs {expected}"
            );
        }
    }

    /// Two steps of an optimizer on one tensor [1, −2] with gradients [0.5, −1] then [0.25, 2].
    fn two_steps(optimizer: &mut dyn Optimizer) -> (Vec<f32>, Vec<f32>) {
        let mut values = vec![1.0f32, -2.0];
        optimizer.begin_step();
        optimizer.update(0, &mut values, &[0.5, -1.0]);
        let first = values.clone();
        optimizer.begin_step();
        optimizer.update(0, &mut values, &[0.25, 2.0]);
        (first, values)
    }

    #[test]
    fn plain_sgd() {
        let (first, second) = two_steps(&mut Sgd::new(0.1, 0.0));
        close(&first, &[0.95, -1.9]);
        close(&second, &[0.925, -2.1]);
    }

    #[test]
    fn sgd_with_momentum() {
        // v1 = −0.1·g1 = [−0.05, 0.1]; v2 = 0.9·v1 − 0.1·g2 = [−0.07, −0.11].
        let (first, second) = two_steps(&mut Sgd::new(0.1, 0.9));
        close(&first, &[0.95, -1.9]);
        close(&second, &[0.88, -2.01]);
    }

    #[test]
    fn adadelta_by_hand() {
        // Element 0, ρ = 0.95, ε = 1e-7, η = 1. Step 1: a = 0.05·0.25 = 0.0125,
        // Δ = 0.5·√1e-7/√(0.0125 + 1e-7), d = 0.05·Δ². Step 2 from there with g = 0.25.
        let (rho, epsilon) = (0.95f64, 1e-7f64);
        let mut expected = [1.0f64, -2.0];
        let mut states = [(0.0f64, 0.0f64); 2];
        let mut after_first = [0.0; 2];
        for (step, gradients) in [[0.5, -1.0], [0.25, 2.0]].iter().enumerate() {
            for (element, &g) in gradients.iter().enumerate() {
                let (a, d) = &mut states[element];
                *a = rho * *a + (1.0 - rho) * g * g;
                let delta = g * (*d + epsilon).sqrt() / (*a + epsilon).sqrt();
                expected[element] -= delta;
                *d = rho * *d + (1.0 - rho) * delta * delta;
            }
            if step == 0 {
                after_first = expected;
            }
        }
        // The first step moves each weight by about √(ε/(1−ρ)) ≈ 1.41e-3 whatever the gradient.
        assert!((after_first[0] - (1.0 - 1.4142e-3)).abs() < 1e-6);
        let (first, second) = two_steps(&mut Adadelta::new(1.0, 0.95, 1e-7));
        close(&first, &after_first);
        close(&second, &expected);
    }

    #[test]
    fn adam_by_hand() {
        // Step 1: m = 0.1g, v = 0.001g², corrected rate η·√0.001/0.1, so the step is
        // η·g/|g| = η·sign(g) (up to ε): w = [1 − 0.01, −2 + 0.01].
        let (first, second) = two_steps(&mut Adam::new(0.01, 0.9, 0.999, 1e-7));
        close(&first, &[0.99, -1.99]);
        // Step 2, element 0: m = 0.9·0.05 + 0.1·0.25 = 0.07, v = 0.999·2.5e-4 + 0.001·0.0625
        // = 3.1225e-4, rate 0.01·√(1 − 0.999²)/(1 − 0.9²).
        let rate = 0.01 * (1.0f64 - 0.999f64.powi(2)).sqrt() / (1.0 - 0.9f64.powi(2));
        let element_0 = 0.99 - rate * 0.07 / (3.1225e-4f64.sqrt() + 1e-7);
        // Element 1: m = 0.9·(−0.1) + 0.1·2 = 0.11, v = 0.999·0.001 + 0.001·4 = 0.004999.
        let element_1 = -1.99 - rate * 0.11 / (0.004999f64.sqrt() + 1e-7);
        close(&second, &[element_0, element_1]);
    }

    #[test]
    fn rmsprop_by_hand() {
        // Step 1: a = 0.1·g², step η·g/(√(0.1)·|g| + ε).
        let (first, second) = two_steps(&mut RmsProp::new(0.01, 0.9, 1e-7));
        let step = |g: f64, a: f64| 0.01 * g / (a.sqrt() + 1e-7);
        let a0 = 0.1 * 0.25;
        let a1 = 0.1 * 1.0;
        let first_expected = [1.0 - step(0.5, a0), -2.0 - step(-1.0, a1)];
        close(&first, &first_expected);
        let a0 = 0.9 * a0 + 0.1 * 0.0625;
        let a1 = 0.9 * a1 + 0.1 * 4.0;
        close(
            &second,
            &[
                first_expected[0] - step(0.25, a0),
                first_expected[1] - step(2.0, a1),
            ],
        );
    }

    #[test]
    fn state_is_kept_per_tensor() {
        let mut optimizer = Sgd::new(1.0, 0.5);
        let mut a = vec![0.0f32];
        let mut b = vec![0.0f32, 0.0];
        optimizer.begin_step();
        optimizer.update(0, &mut a, &[1.0]);
        optimizer.update(1, &mut b, &[2.0, 2.0]);
        optimizer.begin_step();
        optimizer.update(0, &mut a, &[0.0]);
        optimizer.update(1, &mut b, &[0.0, 0.0]);
        // Tensor 0 coasts on its own velocity −1 · 0.5; tensor 1 on −2 · 0.5.
        assert_eq!(a, vec![-1.5]);
        assert_eq!(b, vec![-3.0, -3.0]);
    }
}

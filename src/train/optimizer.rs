//! Optimizers: how a parameter tensor moves along its gradient. The update rules are Keras'
//! (the sheet's runs used Keras 2): SGD with optional momentum, Adadelta, Adam and RMSprop, each
//! keeping its state per parameter tensor, in f32, element by element, so an update depends only
//! on the values it is given. The state can be taken out as named vectors ([`OptimizerState`])
//! and put back, so a resumed run continues exactly where the saved one stopped.

use crate::train::options::{OptimizerKind, TrainOptions};
use std::collections::BTreeMap;

/// Keras' fuzz factor ε, the default of every optimizer here.
pub const EPSILON: f32 = 1e-7;

/// Moves parameters along their gradients. Tensors are named by a stable index (the model's
/// order of trainable tensors); each optimizer keeps what it needs per index.
pub trait Optimizer: Send {
    /// Starts one step over all tensors (Adam counts steps for its bias correction).
    fn begin_step(&mut self);

    /// Updates tensor `index` in place from its gradient (same length).
    fn update(&mut self, index: usize, values: &mut [f32], gradient: &[f32]);

    /// Which optimizer this is.
    fn kind(&self) -> OptimizerKind;

    /// Its state so far: nothing before the first step.
    fn state(&self) -> OptimizerState;

    /// Replaces its state by `state`, which must be this optimizer's, with every vector it keeps
    /// for each of the tensors of lengths `lengths` (the model's trainable tensors in index
    /// order), or nothing at all (not stepped yet). Anything else is refused and the optimizer
    /// is left as it was.
    fn restore(&mut self, state: &OptimizerState, lengths: &[usize]) -> Result<(), StateError>;
}

/// An optimizer's state: per trainable tensor `N`, the vectors it keeps, named `SLOT.N`
/// (`velocity.3`; Adadelta's `accumulated_gradient.3` and `accumulated_update.3`; Adam's
/// `first_moment.3` and `second_moment.3`; RMSprop's `accumulated_gradient.3`), and its counters
/// (Adam's `steps`). Plain SGD keeps nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerState {
    /// The optimizer it belongs to.
    pub optimizer: OptimizerKind,
    /// Vectors by name.
    pub vectors: BTreeMap<String, Vec<f32>>,
    /// Counters by name.
    pub counters: BTreeMap<String, u64>,
}

impl OptimizerState {
    /// The state of an optimizer that has not stepped yet.
    pub fn empty(optimizer: OptimizerKind) -> OptimizerState {
        OptimizerState {
            optimizer,
            vectors: BTreeMap::new(),
            counters: BTreeMap::new(),
        }
    }
}

/// A state an optimizer cannot take back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct StateError(String);

/// How an optimizer is called in messages: its name, and for SGD whether it has momentum (the
/// two keep different state).
pub fn label(kind: OptimizerKind, momentum: f64) -> String {
    match kind {
        OptimizerKind::Sgd if momentum == 0.0 => "sgd without momentum".to_string(),
        OptimizerKind::Sgd => "sgd with momentum".to_string(),
        other => other.name().to_string(),
    }
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

    /// Adds the vectors of the tensors that have one as `NAME.INDEX`.
    fn export(&self, name: &str, vectors: &mut BTreeMap<String, Vec<f32>>) {
        for (index, slot) in self.slots.iter().enumerate() {
            if !slot.is_empty() {
                vectors.insert(format!("{name}.{index}"), slot.clone());
            }
        }
    }
}

/// Checks a state against what an optimizer keeps (vectors `slots`, counters `counters`) for
/// tensors of `lengths`, and returns the vectors per slot (each one per tensor, or none at all
/// when the state is empty) and every counter (0 when the state is empty).
fn checked(
    state: &OptimizerState,
    kind: OptimizerKind,
    label: &str,
    slots: &[&str],
    counters: &[&str],
    lengths: &[usize],
) -> Result<(Vec<State>, Vec<u64>), StateError> {
    if state.optimizer != kind {
        return Err(StateError(format!(
            "the state is {}'s, not {}'s",
            state.optimizer.name(),
            kind.name()
        )));
    }
    let expected = || {
        let mut kept: Vec<String> = slots.iter().map(|slot| format!("{slot}.N")).collect();
        kept.extend(
            counters
                .iter()
                .map(|counter| format!("the counter {counter}")),
        );
        if kept.is_empty() {
            format!("{label} keeps no state")
        } else {
            format!(
                "{label} keeps {} (N from 0 to {})",
                kept.join(", "),
                lengths.len().saturating_sub(1)
            )
        }
    };
    let mut found: Vec<Vec<Option<Vec<f32>>>> = vec![vec![None; lengths.len()]; slots.len()];
    for (name, values) in &state.vectors {
        let parsed = name.rsplit_once('.').and_then(|(slot, index)| {
            let position = slots.iter().position(|known| *known == slot)?;
            let number: usize = index.parse().ok()?;
            (number.to_string() == index && number < lengths.len()).then_some((position, number))
        });
        let Some((position, index)) = parsed else {
            return Err(StateError(format!(
                "`{name}` is not part of its state: {}",
                expected()
            )));
        };
        if values.len() != lengths[index] {
            return Err(StateError(format!(
                "`{name}` has {} values, but tensor {index} has {}",
                values.len(),
                lengths[index]
            )));
        }
        found[position][index] = Some(values.clone());
    }
    for name in state.counters.keys() {
        if !counters.contains(&name.as_str()) {
            return Err(StateError(format!(
                "the counter `{name}` is not part of its state: {}",
                expected()
            )));
        }
    }
    let counter_values: Vec<u64> = counters
        .iter()
        .map(|name| state.counters.get(*name).copied().unwrap_or(0))
        .collect();
    if state.vectors.is_empty() {
        // Not stepped yet: nothing to count either.
        if let Some((name, count)) = state.counters.iter().find(|(_, count)| **count != 0) {
            return Err(StateError(format!(
                "the counter `{name}` is {count}, but the state has no vectors"
            )));
        }
        return Ok((
            slots.iter().map(|_| State::default()).collect(),
            counter_values,
        ));
    }
    let mut restored = Vec::with_capacity(slots.len());
    for (slot, vectors) in slots.iter().zip(found) {
        let mut state = State::default();
        for (index, values) in vectors.into_iter().enumerate() {
            let values = values.ok_or_else(|| {
                StateError(format!("`{slot}.{index}` is missing: {}", expected()))
            })?;
            state.slots.push(values);
        }
        restored.push(state);
    }
    if let Some(name) = counters
        .iter()
        .find(|name| !state.counters.contains_key(**name))
    {
        return Err(StateError(format!(
            "the counter `{name}` is missing: {}",
            expected()
        )));
    }
    Ok((restored, counter_values))
}

/// The names of the vectors the optimizers keep, and of Adam's step counter.
const VELOCITY: &str = "velocity";
const ACCUMULATED_GRADIENT: &str = "accumulated_gradient";
const ACCUMULATED_UPDATE: &str = "accumulated_update";
const FIRST_MOMENT: &str = "first_moment";
const SECOND_MOMENT: &str = "second_moment";
const STEPS: &str = "steps";

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

    fn kind(&self) -> OptimizerKind {
        OptimizerKind::Sgd
    }

    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::empty(OptimizerKind::Sgd);
        self.velocity.export(VELOCITY, &mut state.vectors);
        state
    }

    fn restore(&mut self, state: &OptimizerState, lengths: &[usize]) -> Result<(), StateError> {
        // Plain SGD keeps nothing; with momentum, the velocity.
        let slots: &[&str] = if self.momentum == 0.0 {
            &[]
        } else {
            &[VELOCITY]
        };
        let label = label(OptimizerKind::Sgd, f64::from(self.momentum));
        let (restored, _) = checked(state, OptimizerKind::Sgd, &label, slots, &[], lengths)?;
        self.velocity = restored.into_iter().next().unwrap_or_default();
        Ok(())
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

    fn kind(&self) -> OptimizerKind {
        OptimizerKind::Adadelta
    }

    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::empty(OptimizerKind::Adadelta);
        self.accumulated
            .export(ACCUMULATED_GRADIENT, &mut state.vectors);
        self.deltas.export(ACCUMULATED_UPDATE, &mut state.vectors);
        state
    }

    fn restore(&mut self, state: &OptimizerState, lengths: &[usize]) -> Result<(), StateError> {
        let kind = OptimizerKind::Adadelta;
        let slots = [ACCUMULATED_GRADIENT, ACCUMULATED_UPDATE];
        let (restored, _) = checked(state, kind, kind.name(), &slots, &[], lengths)?;
        let mut restored = restored.into_iter();
        self.accumulated = restored.next().unwrap_or_default();
        self.deltas = restored.next().unwrap_or_default();
        Ok(())
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

    fn kind(&self) -> OptimizerKind {
        OptimizerKind::Adam
    }

    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::empty(OptimizerKind::Adam);
        self.first.export(FIRST_MOMENT, &mut state.vectors);
        self.second.export(SECOND_MOMENT, &mut state.vectors);
        state
            .counters
            .insert(STEPS.to_string(), u64::try_from(self.steps).unwrap_or(0));
        state
    }

    fn restore(&mut self, state: &OptimizerState, lengths: &[usize]) -> Result<(), StateError> {
        let kind = OptimizerKind::Adam;
        let slots = [FIRST_MOMENT, SECOND_MOMENT];
        let (restored, counters) = checked(state, kind, kind.name(), &slots, &[STEPS], lengths)?;
        let count = counters.first().copied().unwrap_or(0);
        let steps = i32::try_from(count).map_err(|_| {
            StateError(format!(
                "the counter `{STEPS}` is {count}, more than Adam counts ({})",
                i32::MAX
            ))
        })?;
        let mut restored = restored.into_iter();
        self.first = restored.next().unwrap_or_default();
        self.second = restored.next().unwrap_or_default();
        self.steps = steps;
        Ok(())
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

    fn kind(&self) -> OptimizerKind {
        OptimizerKind::RmsProp
    }

    fn state(&self) -> OptimizerState {
        let mut state = OptimizerState::empty(OptimizerKind::RmsProp);
        self.accumulated
            .export(ACCUMULATED_GRADIENT, &mut state.vectors);
        state
    }

    fn restore(&mut self, state: &OptimizerState, lengths: &[usize]) -> Result<(), StateError> {
        let kind = OptimizerKind::RmsProp;
        let slots = [ACCUMULATED_GRADIENT];
        let (restored, _) = checked(state, kind, kind.name(), &slots, &[], lengths)?;
        self.accumulated = restored.into_iter().next().unwrap_or_default();
        Ok(())
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

    /// Every optimizer, with state (and plain SGD, without).
    fn every_optimizer() -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::new(0.1, 0.0)),
            Box::new(Sgd::new(0.1, 0.9)),
            Box::new(Adadelta::new(1.0, 0.95, 1e-7)),
            Box::new(Adam::new(0.01, 0.9, 0.999, 1e-7)),
            Box::new(RmsProp::new(0.01, 0.9, 1e-7)),
        ]
    }

    /// Steps over two tensors of lengths 2 and 3 with gradients that change per step.
    fn steps(optimizer: &mut dyn Optimizer, tensors: &mut [Vec<f32>; 2], from: usize, to: usize) {
        for step in from..to {
            optimizer.begin_step();
            for (index, values) in tensors.iter_mut().enumerate() {
                let gradient: Vec<f32> = (0..values.len())
                    .map(|element| ((step * 7 + index * 3 + element) % 5) as f32 * 0.3 - 0.6)
                    .collect();
                optimizer.update(index, values, &gradient);
            }
        }
    }

    const LENGTHS: [usize; 2] = [2, 3];

    fn start() -> [Vec<f32>; 2] {
        [vec![1.0, -2.0], vec![0.5, 0.25, -0.75]]
    }

    #[test]
    fn a_restored_state_continues_exactly() {
        for which in 0..every_optimizer().len() {
            let fresh = || every_optimizer().swap_remove(which);
            let mut uninterrupted = start();
            steps(fresh().as_mut(), &mut uninterrupted, 0, 5);
            let mut first = fresh();
            let mut resumed = start();
            steps(first.as_mut(), &mut resumed, 0, 3);
            let state = first.state();
            assert_eq!(state.optimizer, first.kind());
            let mut second = fresh();
            second.restore(&state, &LENGTHS).unwrap();
            assert_eq!(second.state(), state);
            steps(second.as_mut(), &mut resumed, 3, 5);
            assert_eq!(resumed, uninterrupted, "optimizer {which}");
            // Without its state, an optimizer that keeps one goes elsewhere.
            let mut forgetful = start();
            steps(fresh().as_mut(), &mut forgetful, 0, 3);
            steps(fresh().as_mut(), &mut forgetful, 3, 5);
            assert_eq!(
                forgetful == uninterrupted,
                state.vectors.is_empty(),
                "optimizer {which}"
            );
        }
    }

    #[test]
    fn the_states_are_named_per_tensor() {
        let names = |optimizer: &mut dyn Optimizer| {
            steps(optimizer, &mut start(), 0, 2);
            let state = optimizer.state();
            let mut names: Vec<String> = state.vectors.keys().cloned().collect();
            names.extend(
                state
                    .counters
                    .iter()
                    .map(|(name, count)| format!("{name}={count}")),
            );
            names
        };
        assert!(names(&mut Sgd::new(0.1, 0.0)).is_empty());
        assert_eq!(names(&mut Sgd::new(0.1, 0.9)), ["velocity.0", "velocity.1"]);
        assert_eq!(
            names(&mut Adadelta::new(1.0, 0.95, 1e-7)),
            [
                "accumulated_gradient.0",
                "accumulated_gradient.1",
                "accumulated_update.0",
                "accumulated_update.1"
            ]
        );
        assert_eq!(
            names(&mut Adam::new(0.01, 0.9, 0.999, 1e-7)),
            [
                "first_moment.0",
                "first_moment.1",
                "second_moment.0",
                "second_moment.1",
                "steps=2"
            ]
        );
        assert_eq!(
            names(&mut RmsProp::new(0.01, 0.9, 1e-7)),
            ["accumulated_gradient.0", "accumulated_gradient.1"]
        );
    }

    #[test]
    fn an_empty_state_is_a_fresh_start() {
        for which in 0..every_optimizer().len() {
            let mut stepped = every_optimizer().swap_remove(which);
            steps(stepped.as_mut(), &mut start(), 0, 2);
            let kind = stepped.kind();
            stepped
                .restore(&OptimizerState::empty(kind), &LENGTHS)
                .unwrap();
            assert_eq!(
                stepped.state(),
                every_optimizer().swap_remove(which).state()
            );
        }
    }

    /// Adam's state after two steps, and what `restore` says of it once `spoil` has changed it.
    fn refused(spoil: impl FnOnce(&mut OptimizerState)) -> String {
        let mut adam = Adam::new(0.01, 0.9, 0.999, 1e-7);
        steps(&mut adam, &mut start(), 0, 2);
        let before = adam.state();
        let mut state = before.clone();
        spoil(&mut state);
        let error = adam.restore(&state, &LENGTHS).unwrap_err().to_string();
        assert_eq!(adam.state(), before, "a refused state changes nothing");
        error
    }

    #[test]
    fn a_state_that_does_not_fit_is_refused() {
        assert_eq!(
            refused(|state| state.optimizer = OptimizerKind::Adadelta),
            "the state is adadelta's, not adam's"
        );
        let renamed = |from: &'static str, to: &'static str| {
            move |state: &mut OptimizerState| {
                let values = state.vectors.remove(from).unwrap();
                state.vectors.insert(to.to_string(), values);
            }
        };
        let keeps = "adam keeps first_moment.N, second_moment.N, the counter steps (N from 0 to 1)";
        assert_eq!(
            refused(renamed("first_moment.1", "velocity.1")),
            format!("`velocity.1` is not part of its state: {keeps}")
        );
        assert_eq!(
            refused(renamed("first_moment.1", "first_moment.2")),
            format!("`first_moment.2` is not part of its state: {keeps}")
        );
        assert_eq!(
            refused(renamed("first_moment.1", "first_moment.01")),
            format!("`first_moment.01` is not part of its state: {keeps}")
        );
        assert_eq!(
            refused(|state| {
                state.vectors.remove("second_moment.0");
            }),
            format!("`second_moment.0` is missing: {keeps}")
        );
        assert_eq!(
            refused(|state| {
                state.vectors.get_mut("first_moment.1").unwrap().push(0.0);
            }),
            "`first_moment.1` has 4 values, but tensor 1 has 3"
        );
        assert_eq!(
            refused(|state| {
                state.counters.clear();
            }),
            format!("the counter `steps` is missing: {keeps}")
        );
        assert_eq!(
            refused(|state| {
                state.counters.insert("epochs".to_string(), 2);
            }),
            format!("the counter `epochs` is not part of its state: {keeps}")
        );
        assert_eq!(
            refused(|state| {
                state.vectors.clear();
            }),
            "the counter `steps` is 2, but the state has no vectors"
        );
        assert_eq!(
            refused(|state| {
                state.counters.insert("steps".to_string(), u64::MAX);
            }),
            format!(
                "the counter `steps` is {}, more than Adam counts (2147483647)",
                u64::MAX
            )
        );
        // Plain SGD keeps nothing, so it refuses a velocity rather than ignoring it.
        let mut momentum = Sgd::new(0.1, 0.9);
        steps(&mut momentum, &mut start(), 0, 1);
        let error = Sgd::new(0.1, 0.0)
            .restore(&momentum.state(), &LENGTHS)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`velocity.0` is not part of its state: sgd without momentum keeps no state"
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

//! `simple_rnn`: the fully connected recurrent layer (Elman 1990; Keras' `SimpleRNN`, PyTorch's
//! `nn.RNN`): h_t = act(x_t·W + h_{t-1}·U + b), with `activation` tanh (the default, as in both
//! frameworks), relu or linear. One gate: h(D+h) weights plus h biases (Keras) or 2h (PyTorch's
//! `bias_ih` and `bias_hh`). Counting, directions and time are shared with the other recurrent
//! kinds (`recurrence.rs`).

use super::recurrence::{
    self, Cell, Recurrent, StepBackward, StepForward, add_column_sums, add_transposed_product,
    product_transposed, recurrent_part,
};
use super::{AttributeReader, DeclarationError, Kind, Layer};
use crate::conventions::Conventions;
use crate::tensor::TensorError;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "simple_rnn",
    aliases: &["rnn", "simplernn"],
    positionals: &["units"],
    summary: "fully connected recurrent layer: units, activation (tanh, relu, linear), return_sequences, bidirectional, merge, use_bias, conventions",
    build,
};

/// The state's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Tanh,
    Relu,
    Linear,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let function = match reader.choice("activation", &["tanh", "relu", "linear"])? {
        Some("relu") => Function::Relu,
        Some("linear") => Function::Linear,
        _ => Function::Tanh,
    };
    let settings = recurrence::read_settings(reader)?;
    Ok(Box::new(Recurrent::new(
        settings,
        Box::new(SimpleRnn { function }),
    )))
}

/// The simple recurrent cell.
#[derive(Debug)]
struct SimpleRnn {
    function: Function,
}

impl Cell for SimpleRnn {
    fn gates(&self) -> usize {
        1
    }

    fn gate_names(&self) -> &'static [&'static str] {
        &["state"]
    }

    fn called(&self) -> &'static str {
        "a simple RNN layer"
    }

    fn biases(&self, conventions: Conventions) -> u64 {
        match conventions {
            Conventions::Keras => 1,
            Conventions::Pytorch => 2,
        }
    }

    fn settings(&self) -> String {
        match self.function {
            Function::Tanh => String::new(),
            Function::Relu => ", relu".to_string(),
            Function::Linear => ", linear".to_string(),
        }
    }

    fn has_memory(&self) -> bool {
        false
    }

    /// Nothing: the derivative comes from the new state.
    fn saved_per_unit(&self) -> usize {
        0
    }

    fn forward_step(&self, step: StepForward<'_>) -> Result<(), TensorError> {
        let StepForward {
            batch,
            units,
            projected,
            previous,
            recurrent,
            recurrent_bias,
            state,
            compute,
            ..
        } = step;
        recurrent_part(
            (batch, units, units),
            previous,
            recurrent,
            recurrent_bias,
            projected,
            true,
            compute,
        )?;
        for (value, &a) in state.iter_mut().zip(projected.iter()) {
            *value = match self.function {
                Function::Tanh => a.tanh(),
                Function::Relu => a.max(0.0),
                Function::Linear => a,
            };
        }
        Ok(())
    }

    fn backward_step(&self, step: StepBackward<'_>) -> Result<(), TensorError> {
        let StepBackward {
            batch,
            units,
            previous,
            state,
            recurrent,
            state_gradient,
            projected_gradient,
            previous_gradient,
            recurrent_gradient,
            recurrent_bias_gradient,
            compute,
            ..
        } = step;
        for ((gradient, &d_state), &value) in
            projected_gradient.iter_mut().zip(state_gradient).zip(state)
        {
            *gradient = match self.function {
                Function::Tanh => d_state * (1.0 - value * value),
                Function::Relu if value > 0.0 => d_state,
                Function::Relu => 0.0,
                Function::Linear => d_state,
            };
        }
        add_transposed_product(
            (units, batch, units),
            previous,
            projected_gradient,
            recurrent_gradient,
            compute,
        )?;
        product_transposed(
            (batch, units, units),
            projected_gradient,
            recurrent,
            previous_gradient,
            false,
            compute,
        )?;
        if let Some(sums) = recurrent_bias_gradient {
            add_column_sums(projected_gradient, sums);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::recurrence::testing::{
        ReferenceStep, check_against_reference, recurrent_product,
    };
    use crate::layers::testing::{Values, check, check_details, check_gradients_with};

    fn tanh_step(
        projected: &[f64],
        previous: &[f64],
        _: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let q = recurrent_product(previous, recurrent, recurrent_bias);
        let state = projected
            .iter()
            .zip(&q)
            .map(|(p, q)| (p + q).tanh())
            .collect();
        (state, Vec::new())
    }

    fn relu_step(
        projected: &[f64],
        previous: &[f64],
        _: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let q = recurrent_product(previous, recurrent, recurrent_bias);
        let state = projected
            .iter()
            .zip(&q)
            .map(|(p, q)| (p + q).max(0.0))
            .collect();
        (state, Vec::new())
    }

    #[test]
    fn counts_match_keras_and_pytorch() {
        // Keras' SimpleRNN(32) on (20, 8): kernel (8, 32), recurrent_kernel (32, 32), bias
        // (32,): 256 + 1024 + 32 = 1,312. PyTorch's nn.RNN(8, 32) adds bias_hh_l0: 1,344.
        check(
            "simple_rnn 32",
            &[&[20, 8]],
            "32",
            "32·(8+32)+32 = 1312",
            "20·32·(8+32) = 25600",
            "20·32·(8+32+1) = 26240",
        );
        check(
            "rnn 32 conventions=pytorch return_sequences=true",
            &[&[20, 8]],
            "[20×32]",
            "32·(8+32)+2·32 = 1344",
            "20·32·(8+32) = 25600",
            "20·32·(8+32+2) = 26880",
        );
        check_details(
            "simple_rnn 4 activation=relu bidirectional=true",
            &[&[3, 2]],
            "4 units, bidirectional, relu",
            [2 * (4 * 6 + 4), 0],
            "2·3·4·(2+4) = 144",
            "whole",
        );
    }

    #[test]
    fn the_forward_pass_follows_the_equations() {
        let tanh: ReferenceStep = tanh_step;
        let relu: ReferenceStep = relu_step;
        check_against_reference("simple_rnn 3", tanh, (2, 4, 2, 3, 1), 1, 1, false, false, 1);
        check_against_reference(
            "simple_rnn 3 activation=relu conventions=pytorch return_sequences=true",
            relu,
            (2, 4, 2, 3, 1),
            1,
            2,
            true,
            false,
            2,
        );
        check_against_reference(
            "simple_rnn 2 bidirectional=true merge=sum",
            tanh,
            (2, 3, 3, 2, 1),
            2,
            1,
            false,
            true,
            3,
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backpropagation through time agrees with finite differences on random small shapes
        /// and settings (tanh and linear: relu's kink is checked in activation.rs).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            sequence in crate::layers::testing::small_sequences(),
            units in 1u64..4,
            function in proptest::sample::select(&["tanh", "linear"][..]),
            return_sequences in proptest::bool::ANY,
            directions in proptest::sample::select(&["", " bidirectional=true", " bidirectional=true merge=sum"][..]),
            conventions in proptest::sample::select(&["keras", "pytorch"][..]),
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!(
                "simple_rnn {units} activation={function} return_sequences={return_sequences} conventions={conventions}{directions}"
            );
            check_gradients_with(&line, &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients_with("simple_rnn 3", &[&[4, 2]], 2, Values::default());
        check_gradients_with(
            "simple_rnn 3 activation=relu",
            &[&[4, 2]],
            2,
            Values {
                seed: 3,
                distinct: true,
            },
        );
    }
}

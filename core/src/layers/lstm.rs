//! `lstm`: long short-term memory (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
//! al. 2000, as Keras' `LSTM` and PyTorch's `nn.LSTM` compute it). Four gates per unit, in Keras'
//! column order: input i, forget f, cell candidate g, output o. With a = x_t·W + h_{t-1}·U + b:
//! i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c_t = f⊙c_{t-1} + i⊙g; h_t = o⊙tanh(c_t).
//! Counting, bias conventions, directions and time are shared with the other recurrent kinds
//! (`recurrence.rs`): 4h(D+h) weights plus 4h biases (Keras) or 8h (PyTorch).

use super::recurrence::{
    self, Cell, Recurrent, StepBackward, StepForward, add_column_sums, add_transposed_product,
    product_transposed, recurrent_part,
};
use super::{AttributeReader, DeclarationError, Kind, Layer};
use crate::conventions::Conventions;
use crate::tensor::TensorError;
use crate::tensor::elementwise::sigmoid;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "lstm",
    aliases: &["long_short_term_memory"],
    positionals: &["units"],
    summary: "LSTM: units, return_sequences, bidirectional, merge (concat, sum), use_bias, conventions (keras: 4h(D+h)+4h, pytorch: +8h)",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let settings = recurrence::read_settings(reader)?;
    Ok(Box::new(Recurrent::new(settings, Box::new(Lstm))))
}

/// The LSTM cell.
#[derive(Debug)]
struct Lstm;

impl Cell for Lstm {
    fn gates(&self) -> usize {
        4
    }

    fn gate_names(&self) -> &'static [&'static str] {
        &["input", "forget", "cell", "output"]
    }

    fn called(&self) -> &'static str {
        "an LSTM layer"
    }

    /// Keras: one bias per gate unit; PyTorch: `bias_ih` and `bias_hh`.
    fn biases(&self, conventions: Conventions) -> u64 {
        match conventions {
            Conventions::Keras => 1,
            Conventions::Pytorch => 2,
        }
    }

    fn settings(&self) -> String {
        String::new()
    }

    fn has_memory(&self) -> bool {
        true
    }

    /// The four gates' values i, f, g, o.
    fn saved_per_unit(&self) -> usize {
        4
    }

    fn forward_step(&self, step: StepForward<'_>) -> Result<(), TensorError> {
        let StepForward {
            batch,
            units,
            projected,
            previous,
            previous_memory,
            recurrent,
            recurrent_bias,
            state,
            memory,
            saved,
            compute,
        } = step;
        let width = 4 * units;
        // a = x·W + b (in `projected`) + h·U (+ the second bias).
        recurrent_part(
            (batch, units, width),
            previous,
            recurrent,
            recurrent_bias,
            projected,
            true,
            compute,
        )?;
        for example in 0..batch {
            let a = &projected[example * width..(example + 1) * width];
            let kept = &mut saved[example * width..(example + 1) * width];
            for unit in 0..units {
                let input = sigmoid(a[unit]);
                let forget = sigmoid(a[units + unit]);
                let candidate = a[2 * units + unit].tanh();
                let output = sigmoid(a[3 * units + unit]);
                let at = example * units + unit;
                let cell = forget * previous_memory[at] + input * candidate;
                memory[at] = cell;
                state[at] = output * cell.tanh();
                kept[unit] = input;
                kept[units + unit] = forget;
                kept[2 * units + unit] = candidate;
                kept[3 * units + unit] = output;
            }
        }
        Ok(())
    }

    fn backward_step(&self, step: StepBackward<'_>) -> Result<(), TensorError> {
        let StepBackward {
            batch,
            units,
            saved,
            previous,
            previous_memory,
            memory,
            recurrent,
            state_gradient,
            memory_gradient,
            projected_gradient,
            previous_gradient,
            previous_memory_gradient,
            recurrent_gradient,
            recurrent_bias_gradient,
            compute,
            ..
        } = step;
        let width = 4 * units;
        for example in 0..batch {
            let kept = &saved[example * width..(example + 1) * width];
            let gradient = &mut projected_gradient[example * width..(example + 1) * width];
            for unit in 0..units {
                let at = example * units + unit;
                let (input, forget, candidate, output) = (
                    kept[unit],
                    kept[units + unit],
                    kept[2 * units + unit],
                    kept[3 * units + unit],
                );
                let squashed = memory[at].tanh();
                let d_state = state_gradient[at];
                let d_cell = memory_gradient[at] + d_state * output * (1.0 - squashed * squashed);
                previous_memory_gradient[at] = d_cell * forget;
                gradient[unit] = d_cell * candidate * input * (1.0 - input);
                gradient[units + unit] = d_cell * previous_memory[at] * forget * (1.0 - forget);
                gradient[2 * units + unit] = d_cell * input * (1.0 - candidate * candidate);
                gradient[3 * units + unit] = d_state * squashed * output * (1.0 - output);
            }
        }
        // dU += h_{t-1}ᵀ·da, dh_{t-1} = da·Uᵀ, d(second bias) += Σ da.
        add_transposed_product(
            (units, batch, width),
            previous,
            projected_gradient,
            recurrent_gradient,
            compute,
        )?;
        product_transposed(
            (batch, width, units),
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
        ReferenceStep, check_against_reference, recurrent_product, sigmoid,
    };
    use crate::layers::testing::{Values, check, check_details, check_error, check_gradients_with};

    /// The LSTM equations, written out on their own in f64.
    fn reference(
        projected: &[f64],
        previous: &[f64],
        memory: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let units = previous.len();
        let a: Vec<f64> = recurrent_product(previous, recurrent, recurrent_bias)
            .iter()
            .zip(projected)
            .map(|(r, p)| r + p)
            .collect();
        let mut state = vec![0.0; units];
        let mut cell = vec![0.0; units];
        for j in 0..units {
            let (i, f, g, o) = (
                sigmoid(a[j]),
                sigmoid(a[units + j]),
                a[2 * units + j].tanh(),
                sigmoid(a[3 * units + j]),
            );
            cell[j] = f * memory[j] + i * g;
            state[j] = o * cell[j].tanh();
        }
        (state, cell)
    }

    #[test]
    fn counts_match_keras_and_pytorch() {
        // Keras: LSTM(128) on input_shape=(28, 28) has 80,384 parameters (4·(128·(28+128)+128);
        // kernel (28, 512), recurrent_kernel (128, 512), bias (512,)), as model.summary() shows
        // for the MNIST row-by-row LSTM.
        check(
            "lstm 128",
            &[&[28, 28]],
            "128",
            "4·128·(28+128)+4·128 = 80384",
            "28·4·128·(28+128) = 2236416",
            "28·4·128·(28+128+1) = 2250752",
        );
        // PyTorch: nn.LSTM(28, 128) has weight_ih_l0 (4·128, 28), weight_hh_l0 (4·128, 128),
        // bias_ih_l0 (4·128) and bias_hh_l0 (4·128): 14336 + 65536 + 512 + 512 = 80896.
        check(
            "lstm 128 conventions=pytorch",
            &[&[28, 28]],
            "128",
            "4·128·(28+128)+2·4·128 = 80896",
            "28·4·128·(28+128) = 2236416",
            "28·4·128·(28+128+2) = 2265088",
        );
        // Keras' Bidirectional(LSTM(64, return_sequences=True)) on (100, 32): 2·4·(64·96+64) =
        // 49,664 parameters, output (None, 100, 128).
        check(
            "lstm 64 bidirectional=true return_sequences=true",
            &[&[100, 32]],
            "[100×128]",
            "4·64·(32+64)+4·64+4·64·(32+64)+4·64 = 49664",
            "2·100·4·64·(32+64) = 4915200",
            "2·100·4·64·(32+64+1) = 4966400",
        );
        check(
            "lstm 8 bidirectional=true merge=sum use_bias=false",
            &[&[5, 3]],
            "8",
            "4·8·(3+8)+4·8·(3+8) = 704",
            "2·5·4·8·(3+8) = 3520",
            "2·5·4·8·(3+8) = 3520",
        );
        check_details(
            "lstm 128 return_sequences=true conventions=pytorch",
            &[&[28, 28]],
            "128 units, sequences, pytorch biases",
            [80896, 0],
            "28·4·128·(28+128) = 2236416",
            "whole",
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        check_error(
            "lstm 4",
            &[&[28, 28, 1]],
            "expects a sequence L×D (steps × features), got [28×28×1]",
        );
        check_error(
            "lstm 4",
            &[&[28]],
            "expects a sequence L×D (steps × features), got 28",
        );
        check_error(
            "lstm 0",
            &[&[2, 2]],
            "`units` must be a positive integer, got 0",
        );
        check_error(
            "lstm 4 merge=sum",
            &[&[2, 2]],
            "`merge` needs bidirectional=true, got `sum`",
        );
        check_error(
            "lstm 4 conventions=caffe",
            &[&[2, 2]],
            "`conventions` must be one of keras, pytorch, got `caffe`",
        );
    }

    #[test]
    fn the_forward_pass_follows_the_equations() {
        let step: ReferenceStep = reference;
        check_against_reference("lstm 3", step, (2, 4, 2, 3, 4), 1, 1, false, false, 1);
        check_against_reference(
            "lstm 3 return_sequences=true conventions=pytorch",
            step,
            (2, 4, 2, 3, 4),
            1,
            2,
            true,
            false,
            2,
        );
        check_against_reference(
            "lstm 2 bidirectional=true return_sequences=true",
            step,
            (3, 3, 2, 2, 4),
            2,
            1,
            true,
            false,
            3,
        );
        check_against_reference(
            "lstm 2 bidirectional=true merge=sum use_bias=false",
            step,
            (2, 5, 3, 2, 4),
            2,
            0,
            false,
            true,
            4,
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backpropagation through time agrees with finite differences on random small shapes
        /// and settings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            sequence in crate::layers::testing::small_sequences(),
            units in 1u64..4,
            return_sequences in proptest::bool::ANY,
            directions in proptest::sample::select(&["", " bidirectional=true", " bidirectional=true merge=sum"][..]),
            conventions in proptest::sample::select(&["keras", "pytorch"][..]),
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!(
                "lstm {units} return_sequences={return_sequences} use_bias={use_bias} conventions={conventions}{directions}"
            );
            check_gradients_with(&line, &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients_with("lstm 3", &[&[4, 2]], 2, Values::default());
        check_gradients_with(
            "lstm 2 return_sequences=true bidirectional=true conventions=pytorch",
            &[&[3, 3]],
            2,
            Values::default(),
        );
    }
}

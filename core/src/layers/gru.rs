//! `gru`: gated recurrent units (Cho et al. 2014), as Keras' `GRU` and PyTorch's `nn.GRU` compute
//! them. Three gates per unit, in Keras' column order: update z, reset r, candidate n. With
//! p = x_t·W + b (the input bias) and q = h_{t-1}·U + b' (the recurrent bias):
//!
//! - `reset_after=true` (Keras 2.x and 3 default, PyTorch, cuDNN): z = σ(p_z + q_z),
//!   r = σ(p_r + q_r), n = tanh(p_n + r⊙q_n); two bias vectors per gate in both conventions
//!   (Keras' bias has the shape (2, 3h)), so 3h(D+h)+6h parameters.
//! - `reset_after=false` (Keras 1, Cho et al.): the reset gate applies before the product,
//!   n = tanh(p_n + (r⊙h_{t-1})·U_n), one bias vector: 3h(D+h)+3h. PyTorch has no such GRU, so
//!   PyTorch conventions refuse it.
//!
//! Then h_t = z⊙h_{t-1} + (1-z)⊙n. Counting, directions and time are shared with the other
//! recurrent kinds (`recurrence.rs`).

use super::recurrence::{
    self, Cell, Recurrent, StepBackward, StepForward, add_column_sums, add_transposed_product,
    product, product_transposed,
};
use super::{AttributeReader, DeclarationError, Kind, Layer};
use crate::conventions::Conventions;
use crate::tensor::TensorError;
use crate::tensor::elementwise::sigmoid;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "gru",
    aliases: &["gated_recurrent_unit"],
    positionals: &["units"],
    summary: "GRU: units, reset_after (default true: 3h(D+h)+6h; false: +3h), return_sequences, bidirectional, merge, use_bias, conventions",
    build,
};

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let reset_after = reader.boolean("reset_after")?.unwrap_or(true);
    let settings = recurrence::read_settings(reader)?;
    if !reset_after
        && settings.conventions == Conventions::Pytorch
        && let Some(value) = reader.value("reset_after")
    {
        return Err(reader.invalid(
            "reset_after",
            value,
            "must be true under PyTorch conventions (torch.nn.GRU resets after the recurrent product)",
        ));
    }
    Ok(Box::new(Recurrent::new(
        settings,
        Box::new(Gru { reset_after }),
    )))
}

/// The GRU cell.
#[derive(Debug)]
struct Gru {
    reset_after: bool,
}

impl Cell for Gru {
    fn gates(&self) -> usize {
        3
    }

    fn gate_names(&self) -> &'static [&'static str] {
        &["update", "reset", "candidate"]
    }

    fn called(&self) -> &'static str {
        "a GRU layer"
    }

    /// Two (input and recurrent) when the reset gate applies after the product, in Keras as in
    /// PyTorch; one for Keras' `reset_after=false`.
    fn biases(&self, _: Conventions) -> u64 {
        if self.reset_after { 2 } else { 1 }
    }

    fn settings(&self) -> String {
        if self.reset_after {
            String::new()
        } else {
            ", reset_after=false".to_string()
        }
    }

    fn has_memory(&self) -> bool {
        false
    }

    /// z, r, n, and q_n (reset after) or r⊙h_{t-1} (reset before).
    fn saved_per_unit(&self) -> usize {
        4
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
            saved,
            compute,
            ..
        } = step;
        let width = 3 * units;
        // q = h·U (+ b'); with the reset gate before the product only its z and r parts are
        // used here, and the candidate's product is taken below from r⊙h.
        let mut recurrent_part = vec![0.0f32; batch * width];
        super::recurrence::recurrent_part(
            (batch, units, width),
            previous,
            recurrent,
            recurrent_bias,
            &mut recurrent_part,
            false,
            compute,
        )?;
        for example in 0..batch {
            let p = &projected[example * width..(example + 1) * width];
            let q = &recurrent_part[example * width..(example + 1) * width];
            let kept = &mut saved[example * 4 * units..(example + 1) * 4 * units];
            for unit in 0..units {
                let update = sigmoid(p[unit] + q[unit]);
                let reset = sigmoid(p[units + unit] + q[units + unit]);
                kept[unit] = update;
                kept[units + unit] = reset;
                kept[3 * units + unit] = if self.reset_after {
                    q[2 * units + unit]
                } else {
                    reset * previous[example * units + unit]
                };
            }
        }
        if !self.reset_after {
            // (r⊙h)·U over all columns; the candidate's columns are the ones read.
            let reset_state: Vec<f32> = (0..batch * units)
                .map(|at| saved[(at / units) * 4 * units + 3 * units + at % units])
                .collect();
            product(
                (batch, units, width),
                &reset_state,
                recurrent,
                &mut recurrent_part,
                false,
                compute,
            )?;
        }
        for example in 0..batch {
            let p = &projected[example * width..(example + 1) * width];
            let q = &recurrent_part[example * width..(example + 1) * width];
            let kept = &mut saved[example * 4 * units..(example + 1) * 4 * units];
            for unit in 0..units {
                let at = example * units + unit;
                let (update, reset) = (kept[unit], kept[units + unit]);
                let candidate = if self.reset_after {
                    (p[2 * units + unit] + reset * q[2 * units + unit]).tanh()
                } else {
                    (p[2 * units + unit] + q[2 * units + unit]).tanh()
                };
                kept[2 * units + unit] = candidate;
                state[at] = update * previous[at] + (1.0 - update) * candidate;
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
            recurrent,
            state_gradient,
            projected_gradient,
            previous_gradient,
            recurrent_gradient,
            recurrent_bias_gradient,
            compute,
            ..
        } = step;
        let width = 3 * units;
        // ∂loss/∂q for the recurrent product of h_{t-1} (all three parts when resetting after,
        // z and r otherwise), and ∂loss/∂(candidate's pre-activation) for the reset-before product.
        let mut recurrent_part_gradient = vec![0.0f32; batch * width];
        let mut candidate_gradient = vec![0.0f32; batch * width];
        for example in 0..batch {
            let kept = &saved[example * 4 * units..(example + 1) * 4 * units];
            let d_p = &mut projected_gradient[example * width..(example + 1) * width];
            let d_q = &mut recurrent_part_gradient[example * width..(example + 1) * width];
            let d_n = &mut candidate_gradient[example * width..(example + 1) * width];
            for unit in 0..units {
                let at = example * units + unit;
                let (update, reset, candidate, kept_q) = (
                    kept[unit],
                    kept[units + unit],
                    kept[2 * units + unit],
                    kept[3 * units + unit],
                );
                let d_state = state_gradient[at];
                previous_gradient[at] = d_state * update;
                let d_update = d_state * (previous[at] - candidate) * update * (1.0 - update);
                let d_candidate = d_state * (1.0 - update) * (1.0 - candidate * candidate);
                d_p[unit] = d_update;
                d_q[unit] = d_update;
                d_p[2 * units + unit] = d_candidate;
                if self.reset_after {
                    let d_reset = d_candidate * kept_q * reset * (1.0 - reset);
                    d_p[units + unit] = d_reset;
                    d_q[units + unit] = d_reset;
                    d_q[2 * units + unit] = d_candidate * reset;
                } else {
                    d_n[2 * units + unit] = d_candidate;
                }
            }
        }
        if !self.reset_after {
            // n's pre-activation holds (r⊙h)·U_n: dU_n += (r⊙h)ᵀ·dn, d(r⊙h) = dn·U_nᵀ.
            let reset_state: Vec<f32> = (0..batch * units)
                .map(|at| saved[(at / units) * 4 * units + 3 * units + at % units])
                .collect();
            add_transposed_product(
                (units, batch, width),
                &reset_state,
                &candidate_gradient,
                recurrent_gradient,
                compute,
            )?;
            let mut reset_state_gradient = vec![0.0f32; batch * units];
            product_transposed(
                (batch, width, units),
                &candidate_gradient,
                recurrent,
                &mut reset_state_gradient,
                false,
                compute,
            )?;
            for example in 0..batch {
                let kept = &saved[example * 4 * units..(example + 1) * 4 * units];
                let d_p = &mut projected_gradient[example * width..(example + 1) * width];
                let d_q = &mut recurrent_part_gradient[example * width..(example + 1) * width];
                for unit in 0..units {
                    let at = example * units + unit;
                    let reset = kept[units + unit];
                    previous_gradient[at] += reset_state_gradient[at] * reset;
                    let d_reset = reset_state_gradient[at] * previous[at] * reset * (1.0 - reset);
                    d_p[units + unit] = d_reset;
                    d_q[units + unit] = d_reset;
                }
            }
        }
        add_transposed_product(
            (units, batch, width),
            previous,
            &recurrent_part_gradient,
            recurrent_gradient,
            compute,
        )?;
        product_transposed(
            (batch, width, units),
            &recurrent_part_gradient,
            recurrent,
            previous_gradient,
            true,
            compute,
        )?;
        if let Some(sums) = recurrent_bias_gradient {
            add_column_sums(&recurrent_part_gradient, sums);
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

    /// The GRU equations with the reset gate after the product, in f64.
    fn reset_after(
        projected: &[f64],
        previous: &[f64],
        _: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let units = previous.len();
        let q = recurrent_product(previous, recurrent, recurrent_bias);
        let state = (0..units)
            .map(|j| {
                let z = sigmoid(projected[j] + q[j]);
                let r = sigmoid(projected[units + j] + q[units + j]);
                let n = (projected[2 * units + j] + r * q[2 * units + j]).tanh();
                z * previous[j] + (1.0 - z) * n
            })
            .collect();
        (state, Vec::new())
    }

    /// The GRU equations with the reset gate before the product (one bias), in f64.
    fn reset_before(
        projected: &[f64],
        previous: &[f64],
        _: &[f64],
        recurrent: &[Vec<f64>],
        recurrent_bias: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let units = previous.len();
        let q = recurrent_product(previous, recurrent, recurrent_bias);
        let r: Vec<f64> = (0..units)
            .map(|j| sigmoid(projected[units + j] + q[units + j]))
            .collect();
        let reset_state: Vec<f64> = r.iter().zip(previous).map(|(r, h)| r * h).collect();
        let q_reset = recurrent_product(&reset_state, recurrent, recurrent_bias);
        let state = (0..units)
            .map(|j| {
                let z = sigmoid(projected[j] + q[j]);
                let n = (projected[2 * units + j] + q_reset[2 * units + j]).tanh();
                z * previous[j] + (1.0 - z) * n
            })
            .collect();
        (state, Vec::new())
    }

    #[test]
    fn counts_match_keras_and_pytorch() {
        // Keras' GRU(64) on (10, 32), reset_after=True: kernel (32, 192), recurrent_kernel
        // (64, 192), bias (2, 192): 6144 + 12288 + 384 = 18,816. PyTorch's nn.GRU(32, 64):
        // weight_ih_l0 (192, 32), weight_hh_l0 (192, 64), bias_ih_l0 and bias_hh_l0 (192): the same.
        for line in ["gru 64", "gru 64 conventions=pytorch"] {
            check(
                line,
                &[&[10, 32]],
                "64",
                "3·64·(32+64)+2·3·64 = 18816",
                "10·3·64·(32+64) = 184320",
                "10·3·64·(32+64+2) = 188160",
            );
        }
        // Keras' GRU(64, reset_after=False): bias (192,), 18,624 (the Keras 1 count).
        check(
            "gru 64 reset_after=false",
            &[&[10, 32]],
            "64",
            "3·64·(32+64)+3·64 = 18624",
            "10·3·64·(32+64) = 184320",
            "10·3·64·(32+64+1) = 186240",
        );
        check_details(
            "gru 4 reset_after=false return_sequences=true bidirectional=true merge=sum",
            &[&[6, 2]],
            "4 units, sequences, bidirectional sum, reset_after=false",
            [2 * (3 * 4 * 6 + 3 * 4), 0],
            "2·6·3·4·(2+4) = 864",
            "whole",
        );
    }

    #[test]
    fn pytorch_has_no_gru_that_resets_before_the_product() {
        check_error(
            "gru 4 reset_after=false conventions=pytorch",
            &[&[2, 2]],
            "`reset_after` must be true under PyTorch conventions (torch.nn.GRU resets after the recurrent product), got false",
        );
    }

    #[test]
    fn the_forward_pass_follows_the_equations() {
        let after: ReferenceStep = reset_after;
        let before: ReferenceStep = reset_before;
        check_against_reference("gru 3", after, (2, 4, 2, 3, 3), 1, 2, false, false, 1);
        check_against_reference(
            "gru 3 reset_after=false return_sequences=true",
            before,
            (2, 4, 3, 3, 3),
            1,
            1,
            true,
            false,
            2,
        );
        check_against_reference(
            "gru 2 bidirectional=true return_sequences=true use_bias=false",
            after,
            (3, 3, 2, 2, 3),
            2,
            0,
            true,
            false,
            3,
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
            reset_after in proptest::bool::ANY,
            return_sequences in proptest::bool::ANY,
            directions in proptest::sample::select(&["", " bidirectional=true", " bidirectional=true merge=sum"][..]),
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let line = format!(
                "gru {units} reset_after={reset_after} return_sequences={return_sequences} use_bias={use_bias}{directions}"
            );
            check_gradients_with(&line, &[sequence.as_slice()], 2, Values { seed, distinct: false });
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients_with("gru 3", &[&[4, 2]], 2, Values::default());
        check_gradients_with("gru 3 reset_after=false", &[&[4, 2]], 2, Values::default());
    }
}

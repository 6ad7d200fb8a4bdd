//! `dropout`: during training, sets each unit to 0 with probability `rate` and scales the others by
//! 1/(1-rate) (Srivastava et al. 2014, inverted as Keras does); at inference it is the identity.
//! The shape is unchanged and nothing is counted: no parameters, no connections, no MACs, as in
//! the sheet's exercise 3b table (DROPOUT rows with 0 parameters).
//!
//! The mask ([`crate::tensor::keep_mask`]): each training pass draws one 64-bit key from the pass's seeded generator, and value
//! `i` (row-major) is dropped when the top 53 bits of the `i`-th output of SplitMix64 seeded
//! with that key (Steele, Lea and Flood 2014), read as a uniform number in [0, 1), fall below
//! `rate`. A value's draw is a function of the key and its index alone (counter-based), so the
//! mask depends only on the seed, never on the thread count, costs a few integer operations per
//! value instead of a ChaCha word, and the backward pass recomputes it from the key instead of
//! keeping a factor per value.

use super::sizes::{one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::keep_mask::KeepMask;
use crate::tensor::{Compute, Tensor, TensorError};
use rand_chacha::rand_core::Rng;

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "dropout",
    aliases: &[],
    positionals: &["rate"],
    summary: "drops units with probability rate during training; shape unchanged",
    build,
};

#[derive(Debug)]
struct Dropout {
    /// The probability of dropping a unit, in [0, 1).
    rate: f64,
}

/// What a forward pass did, for its backward pass.
enum Dropped {
    /// Inference (or rate 0): the identity.
    Nothing,
    /// Training: the mask's key; each value's factor is 0 or 1/(1 − rate).
    Mask(KeepMask),
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let rate = reader
        .number_where(
            "rate",
            "must be a number from 0 up to but not including 1",
            |rate| (0.0..1.0).contains(&rate),
        )?
        .ok_or_else(|| reader.missing("rate"))?;
    Ok(Box::new(Dropout { rate }))
}

impl Layer for Dropout {
    fn settings(&self) -> String {
        format!("rate={}", self.rate)
    }

    fn caption(&self) -> super::Caption {
        super::Caption::text(self.rate.to_string())
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        Ok(Inference::plain(single(inputs)?.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }

    fn parameter_specs(&self, _: &[Shape]) -> Vec<ParameterSpec> {
        Vec::new()
    }

    fn forward(
        &self,
        _: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        if !pass.training || self.rate == 0.0 {
            return Ok(Forward {
                output: input.clone(),
                saved: Box::new(Dropped::Nothing),
            });
        }
        let mask = KeepMask::new(self.rate, pass.random.next_u64());
        let output = Tensor::from_vec(input.shape(), mask.apply(input.data(), pass.compute))?;
        Ok(Forward {
            output,
            saved: Box::new(Dropped::Mask(mask)),
        })
    }

    fn backward(
        &self,
        _: &[Tensor],
        _: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        same_shape("the output gradient", output_gradient, &forward.output)?;
        let input_gradient = match forward.saved.downcast_ref::<Dropped>() {
            Some(Dropped::Nothing) => output_gradient.clone(),
            Some(Dropped::Mask(mask)) => Tensor::from_vec(
                output_gradient.shape(),
                mask.apply(output_gradient.data(), compute),
            )?,
            None => {
                return Err(TensorError::Geometry {
                    reason: "dropout's backward pass got another layer's forward pass".to_string(),
                });
            }
        };
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random shapes and rates (one mask per check).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            rate in proptest::sample::select(&[0.0, 0.1, 0.25, 0.5, 0.8][..]),
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("dropout {rate}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients, declaration};
    use crate::layers::{self, Pass};
    use crate::tensor::{Compute, Tensor};
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn keeps_the_shape_and_counts_nothing() {
        // Exercise 3b: Dropout(0.25) on [12×12×64] and Dropout(0.5) on 128, 0 parameters each.
        check(
            "dropout 0.25",
            &[&[12, 12, 64]],
            "[12×12×64]",
            "0",
            "0",
            "0",
        );
        check("dropout rate=0.5", &[&[128]], "128", "0", "0", "0");
        check("dropout 0", &[&[128]], "128", "0", "0", "0");
        check_details(
            "dropout 0.5",
            &[&[128]],
            "rate=0.5",
            [0, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn bad_rates_and_inputs_are_errors() {
        let range = "must be a number from 0 up to but not including 1";
        for (line, found) in [
            ("dropout 1", "1"),
            ("dropout 1.5", "1.5"),
            ("dropout -0.1", "-0.1"),
            ("dropout half", "`half`"),
        ] {
            check_error(line, &[&[4]], &format!("`rate` {range}, got {found}"));
        }
        check_error("dropout", &[&[4]], "`dropout` needs the attribute `rate`");
        check_error(
            "dropout 0.5",
            &[&[4], &[4]],
            "takes exactly one input, got 2",
        );
    }

    #[test]
    fn masks_do_not_depend_on_the_thread_count() {
        let mask = crate::tensor::keep_mask::KeepMask::new(0.25, 7);
        let values: Vec<f32> = (0..3 * crate::tensor::keep_mask::PARALLEL_MINIMUM + 5)
            .map(|index| index as f32)
            .collect();
        let single = mask.apply(&values, crate::tensor::Compute::single());
        for threads in [2, 3] {
            let compute = crate::tensor::Compute::new(threads).unwrap();
            assert_eq!(mask.apply(&values, compute), single);
        }
        // Each value is its own draw: about a quarter dropped, the rest scaled by 4/3.
        let dropped = single.iter().filter(|&&value| value == 0.0).count() - 1;
        let share = dropped as f64 / (values.len() - 1) as f64;
        assert!((0.23..0.27).contains(&share), "{share}");
        assert!(
            single
                .iter()
                .zip(&values)
                .all(|(&out, &value)| { out == 0.0 || out == value * (4.0f32 / 3.0) })
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("dropout 0.5", &[&[4, 3, 2]], 2);
        check_gradients("dropout 0.25", &[&[40]], 3);
        check_gradients("dropout 0", &[&[5]], 2);
    }

    fn run(rate: &str, training: bool, seed: u64) -> Tensor {
        let mut decl = declaration(&format!("dropout {rate}"));
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        let mut random = ChaCha8Rng::seed_from_u64(seed);
        let mut pass = Pass {
            compute: Compute::single(),
            training,
            random: &mut random,
        };
        let input = Tensor::full(&[10, 1000], 1.0).unwrap();
        layer.forward(&mut [], &[&input], &mut pass).unwrap().output
    }

    #[test]
    fn training_drops_about_rate_and_scales_the_rest() {
        let output = run("0.25", true, 3);
        let kept = output.data().iter().filter(|&&v| v != 0.0).count();
        // 10,000 draws with p = 0.75: the standard deviation of the count is about 43.
        assert!((7300..7700).contains(&kept), "kept {kept}");
        assert!(
            output
                .data()
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6)
        );
        assert_eq!(run("0.25", true, 3), output, "same seed, same mask");
        assert_ne!(run("0.25", true, 4), output, "another seed, another mask");
    }

    #[test]
    fn inference_is_the_identity() {
        assert_eq!(
            run("0.5", false, 3),
            Tensor::full(&[10, 1000], 1.0).unwrap()
        );
    }
}

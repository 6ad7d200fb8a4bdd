//! How parameters start: Glorot uniform (Keras' default), He normal, or Nielsen's scheme, all
//! drawn from the run's seeded ChaCha8 generator in a fixed order, so a seed fixes every value.

use crate::layers::{ParameterSpec, Role};
use crate::tensor::{Tensor, TensorError};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

/// A weight initialisation scheme (the options of training name them; this is what they mean). Whatever the scheme, `Role::Constant(c)` parameters start at
/// `c` and `Role::Codes` parameters at ±1 with equal odds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Initialization {
    /// Weights uniform in ±√(6 / (fan_in + fan_out)) (Glorot & Bengio 2010, Keras'
    /// `glorot_uniform`), biases 0.
    #[default]
    GlorotUniform,
    /// Weights normal with standard deviation √(2 / fan_in) (He et al. 2015; Keras' `he_normal`
    /// truncates the normal, this does not), biases 0.
    He,
    /// Weights normal with standard deviation 1/√fan_in, biases standard normal (Nielsen,
    /// "Neural Networks and Deep Learning", chapter 3, `network2.py`).
    Nielsen,
    /// Weights and biases standard normal (Nielsen's `large_weight_initializer`, used by his
    /// chapter 3 overfitting experiments that exercise 1 of the sheet adapts).
    NielsenLarge,
}

impl Initialization {
    /// A tensor shaped like `spec`, filled as the scheme says for its role.
    pub fn tensor(
        self,
        spec: &ParameterSpec,
        random: &mut ChaCha8Rng,
    ) -> Result<Tensor, TensorError> {
        let mut tensor = Tensor::zeros(&spec.shape)?;
        let values = tensor.data_mut();
        match (spec.role, self) {
            (Role::Weights { fan_in, fan_out }, Initialization::GlorotUniform) => {
                let limit = (6.0 / (fan_in as f64 + fan_out as f64).max(1.0)).sqrt();
                for value in values {
                    *value = (limit * (2.0 * uniform(random) - 1.0)) as f32;
                }
            }
            (Role::Weights { fan_in, .. }, Initialization::He) => {
                normals(values, (2.0 / (fan_in as f64).max(1.0)).sqrt(), random);
            }
            (Role::Weights { fan_in, .. }, Initialization::Nielsen) => {
                normals(values, 1.0 / (fan_in as f64).max(1.0).sqrt(), random);
            }
            (Role::Weights { .. }, Initialization::NielsenLarge) => normals(values, 1.0, random),
            (Role::Bias, Initialization::Nielsen | Initialization::NielsenLarge) => {
                normals(values, 1.0, random)
            }
            (Role::Bias, _) => {}
            (Role::Constant(constant), _) => values.fill(constant),
            (Role::Codes, _) => {
                for value in values {
                    *value = if random.next_u32() & 1 == 1 {
                        1.0
                    } else {
                        -1.0
                    };
                }
            }
        }
        if let Some(mask) = &spec.mask {
            for (value, &used) in tensor.data_mut().iter_mut().zip(mask) {
                if !used {
                    *value = 0.0;
                }
            }
        }
        Ok(tensor)
    }
}

/// A uniform number in [0, 1) from 53 random bits.
fn uniform(random: &mut ChaCha8Rng) -> f64 {
    (random.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Fills `values` with normal numbers of mean 0 and this standard deviation, two at a time by the
/// Box–Muller transform (the second of the last pair is dropped for an odd count).
fn normals(values: &mut [f32], deviation: f64, random: &mut ChaCha8Rng) {
    for pair in values.chunks_mut(2) {
        // 1 − u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - uniform(random)).ln()).sqrt();
        let angle = std::f64::consts::TAU * uniform(random);
        let draws = [radius * angle.cos(), radius * angle.sin()];
        for (value, draw) in pair.iter_mut().zip(draws) {
            *value = (deviation * draw) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;

    fn spec(shape: &[usize], role: Role) -> ParameterSpec {
        ParameterSpec {
            name: "weights",
            shape: shape.to_vec(),
            trainable: true,
            active: shape.iter().product(),
            role,
            mask: None,
        }
    }

    #[test]
    fn nielsens_large_scheme_draws_standard_normals_whatever_the_fan_in() {
        let weights = spec(
            &[100, 100],
            Role::Weights {
                fan_in: 100,
                fan_out: 100,
            },
        );
        let mut random = ChaCha8Rng::seed_from_u64(5);
        let large = Initialization::NielsenLarge
            .tensor(&weights, &mut random)
            .unwrap();
        let small = Initialization::Nielsen
            .tensor(&weights, &mut random)
            .unwrap();
        let deviation = |values: &[f32]| {
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            (values
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt()
        };
        assert!((deviation(large.data()) - 1.0).abs() < 0.03);
        assert!((deviation(small.data()) - 0.1).abs() < 0.003);
    }

    #[test]
    fn masked_entries_start_at_zero() {
        let mut masked = spec(
            &[2, 2],
            Role::Weights {
                fan_in: 2,
                fan_out: 2,
            },
        );
        masked.mask = Some(vec![true, false, false, true]);
        let mut random = ChaCha8Rng::seed_from_u64(3);
        let tensor = Initialization::GlorotUniform
            .tensor(&masked, &mut random)
            .unwrap();
        let values = tensor.data();
        assert_eq!((values[1], values[2]), (0.0, 0.0));
        assert!(values[0] != 0.0 && values[3] != 0.0);
    }

    /// The mean and standard deviation of the values.
    fn moments(tensor: &Tensor) -> (f64, f64) {
        let count = tensor.len() as f64;
        let mean = tensor.data().iter().map(|&v| f64::from(v)).sum::<f64>() / count;
        let variance = tensor
            .data()
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / count;
        (mean, variance.sqrt())
    }

    #[test]
    fn weights_follow_each_scheme() {
        let mut random = ChaCha8Rng::seed_from_u64(5);
        let weights = spec(
            &[200, 100],
            Role::Weights {
                fan_in: 200,
                fan_out: 100,
            },
        );
        let glorot = Initialization::GlorotUniform
            .tensor(&weights, &mut random)
            .unwrap();
        let limit = (6.0f64 / 300.0).sqrt();
        assert!(glorot.data().iter().all(|&v| f64::from(v).abs() <= limit));
        let (mean, deviation) = moments(&glorot);
        // A uniform on ±limit has standard deviation limit/√3.
        assert!(mean.abs() < 0.002 && (deviation - limit / 3f64.sqrt()).abs() < 0.002);
        let he = Initialization::He.tensor(&weights, &mut random).unwrap();
        let (mean, deviation) = moments(&he);
        assert!(
            mean.abs() < 0.003 && (deviation - 0.1).abs() < 0.002,
            "{mean} {deviation}"
        );
        let nielsen = Initialization::Nielsen
            .tensor(&weights, &mut random)
            .unwrap();
        let (mean, deviation) = moments(&nielsen);
        let expected = 1.0 / 200f64.sqrt();
        assert!(mean.abs() < 0.002 && (deviation - expected).abs() < 0.002);
    }

    #[test]
    fn biases_constants_and_codes() {
        let mut random = ChaCha8Rng::seed_from_u64(6);
        let bias = spec(&[5001], Role::Bias);
        let zeros = Initialization::GlorotUniform
            .tensor(&bias, &mut random)
            .unwrap();
        assert!(zeros.data().iter().all(|&v| v == 0.0));
        assert_eq!(
            Initialization::He.tensor(&bias, &mut random).unwrap(),
            zeros
        );
        let normal = Initialization::Nielsen.tensor(&bias, &mut random).unwrap();
        let (mean, deviation) = moments(&normal);
        assert!(
            mean.abs() < 0.05 && (deviation - 1.0).abs() < 0.05,
            "{mean} {deviation}"
        );
        let constant = spec(&[3], Role::Constant(1.5));
        let ones = Initialization::Nielsen
            .tensor(&constant, &mut random)
            .unwrap();
        assert_eq!(ones.data(), &[1.5, 1.5, 1.5]);
        let codes = spec(&[1000], Role::Codes);
        let codes = Initialization::He.tensor(&codes, &mut random).unwrap();
        let positive = codes.data().iter().filter(|&&v| v == 1.0).count();
        assert!(codes.data().iter().all(|&v| v == 1.0 || v == -1.0));
        assert!((430..570).contains(&positive), "{positive}");
    }

    #[test]
    fn a_seed_fixes_every_value() {
        let weights = spec(
            &[7, 3],
            Role::Weights {
                fan_in: 7,
                fan_out: 3,
            },
        );
        let draw = |seed| {
            let mut random = ChaCha8Rng::seed_from_u64(seed);
            Initialization::Nielsen
                .tensor(&weights, &mut random)
                .unwrap()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}

//! A counter-based random keep mask (dropout's): value `i` is dropped when the top 53 bits of
//! the `i`-th output of SplitMix64 seeded with the mask's key (Steele, Lea and Flood 2014),
//! read as a uniform number in [0, 1), fall below the rate, and kept times 1/(1 − rate)
//! otherwise. A value's factor is a function of the key and its index alone, so the threads'
//! runs, the vector width and the instruction set never change a result.

use super::Compute;
use super::parallel::for_each_part;

/// A keep mask over any number of values, as a function of the value's index.
#[derive(Debug, Clone, Copy)]
pub struct KeepMask {
    key: u64,
    /// A value is dropped when its draw's top 53 bits are below this: `rate · 2^53`, rounded
    /// up, so that `draw < threshold` exactly when `draw / 2^53 < rate`.
    threshold: u64,
    /// The factor of a kept value, 1/(1 − rate).
    scale: f32,
}

/// SplitMix64's golden-ratio increment.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Values from which a mask is applied by all the threads (fewer: one thread, as starting them
/// costs more than it saves).
pub const PARALLEL_MINIMUM: usize = 1 << 14;

impl KeepMask {
    /// The mask that drops values with probability `rate` (in [0, 1)), drawn from `key`.
    pub fn new(rate: f64, key: u64) -> KeepMask {
        KeepMask {
            key,
            threshold: (rate * (1u64 << 53) as f64).ceil() as u64,
            scale: (1.0 / (1.0 - rate)) as f32,
        }
    }

    /// The `index`-th output of SplitMix64 seeded with the key (its state after `index + 1`
    /// steps, mixed), top 53 bits.
    #[inline(always)]
    fn draw(&self, index: u64) -> u64 {
        let mut z = self
            .key
            .wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) >> 11
    }

    /// Value `index`'s factor: 0 (dropped) or the scale.
    #[inline(always)]
    pub fn factor(&self, index: usize) -> f32 {
        if self.draw(index as u64) < self.threshold {
            0.0
        } else {
            self.scale
        }
    }

    /// `values` times their factors, value `i` of `values` being value `i` of the mask.
    pub fn apply(&self, values: &[f32], compute: Compute) -> Vec<f32> {
        let mut output = values.to_vec();
        let threads = if output.len() < PARALLEL_MINIMUM {
            1
        } else {
            compute.threads()
        };
        for_each_part(&mut output, 1, threads, |indices, run| {
            self.apply_run(indices.start, run);
        });
        output
    }

    /// Multiplies `run`, the values from index `first` on, by their factors: with AVX-512's
    /// 64-bit vector multiplies where the processor has them (the loop below, compiled for
    /// them, draws eight values at once), else one value at a time. The products are the same.
    fn apply_run(&self, first: usize, run: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the processor has AVX-512F and AVX-512DQ.
            unsafe { self.apply_run_avx512(first, run) };
            return;
        }
        self.apply_run_portable(first, run);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn apply_run_avx512(&self, first: usize, run: &mut [f32]) {
        self.apply_run_portable(first, run);
    }

    #[inline(always)]
    fn apply_run_portable(&self, first: usize, run: &mut [f32]) {
        let first = first as u64;
        for (offset, value) in run.iter_mut().enumerate() {
            let dropped = self.draw(first + offset as u64) < self.threshold;
            *value *= if dropped { 0.0 } else { self.scale };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_loop_gives_the_factors_one_by_one() {
        let mask = KeepMask::new(0.3, 12345);
        let values: Vec<f32> = (0..1003).map(|index| 1.0 + index as f32).collect();
        for first in [0usize, 5, 1 << 40] {
            let mut run = values.clone();
            mask.apply_run(first, &mut run);
            for (offset, (&out, &value)) in run.iter().zip(&values).enumerate() {
                assert_eq!(
                    out.to_bits(),
                    (value * mask.factor(first + offset)).to_bits()
                );
            }
        }
    }

    /// SplitMix64 as its authors state it (Steele, Lea and Flood 2014; Vigna's `splitmix64.c`):
    /// a state advanced by the golden gamma, each output the mixed state.
    struct SequentialSplitMix(u64);

    impl SequentialSplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn the_mask_draws_are_splitmix64_outputs_by_index() {
        for key in [0, 1, 7, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mask = KeepMask::new(0.5, key);
            let mut sequential = SequentialSplitMix(key);
            for index in 0..1000 {
                assert_eq!(
                    mask.draw(index),
                    sequential.next() >> 11,
                    "key {key} index {index}"
                );
            }
        }
        // The reference itself: seeded with 1234567, SplitMix64's first outputs are
        // 6457827717110365317 and 3203168211198807973 (Rosetta Code, "Pseudo-random
        // numbers/Splitmix64").
        let mut reference = SequentialSplitMix(1234567);
        assert_eq!(reference.next(), 6457827717110365317);
        assert_eq!(reference.next(), 3203168211198807973);
    }

    #[test]
    fn the_threshold_drops_exactly_the_draws_below_the_rate() {
        for rate in [0.0, 0.1, 0.25, 0.5, 0.8, 1.0 / 3.0, 0.999_999] {
            let mask = KeepMask::new(rate, 0);
            let unit = (1u64 << 53) as f64;
            for draw in [
                0,
                1,
                mask.threshold.saturating_sub(1),
                mask.threshold,
                mask.threshold + 1,
                (1 << 53) - 1,
            ] {
                assert_eq!(
                    draw < mask.threshold,
                    (draw as f64 / unit) < rate,
                    "rate {rate} draw {draw}"
                );
            }
        }
    }
}

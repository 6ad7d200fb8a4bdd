//! Vectors of f32 lanes for the hand-written kernels, chosen once per call for the processor it
//! runs on: AVX-512 (16 lanes), AVX2 with FMA (8 lanes), or portable code (8 lanes in an array,
//! which the compiler maps onto whatever the build's target offers). A kernel is a [`Kernel`]:
//! [`dispatch`] runs its generic body inside a function compiled for the detected instruction
//! set, so every [`Simd`] operation becomes one or two instructions there.
//!
//! Results depend on the instruction set only through fused multiply-adds (AVX-512 and AVX2
//! round `a·b + c` once, the portable code twice) and the lane count (how a kernel groups its
//! sums); on one machine every call takes the same path, so results are reproducible.
//!
//! Also the vector functions the kernels need: `exp`, `tanh` and the logistic sigmoid, accurate
//! to a few units in the last place (see the tests), where libm's scalar calls cost more than
//! the convolutions around them (LeNet-5's tanh units took a third of its training time).

/// The vector instructions kernels use: the widest the processor has, unless a caller asks
/// for narrower ones (tests run every kernel with each set the machine offers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Instructions {
    /// Plain Rust on arrays of 8 values, for any processor.
    Portable,
    /// x86-64 AVX2 with fused multiply-add: 8 lanes.
    Avx2,
    /// x86-64 AVX-512F: 16 lanes.
    Avx512,
}

impl Instructions {
    /// The widest set this processor has.
    pub fn best() -> Instructions {
        *Instructions::available()
            .last()
            .unwrap_or(&Instructions::Portable)
    }

    /// Every set this processor has, narrowest first.
    pub fn available() -> Vec<Instructions> {
        #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
        let mut sets = vec![Instructions::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                sets.push(Instructions::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                sets.push(Instructions::Avx512);
            }
        }
        sets
    }

    /// Values per vector.
    pub fn lanes(self) -> usize {
        match self {
            Instructions::Portable | Instructions::Avx2 => 8,
            Instructions::Avx512 => 16,
        }
    }

    /// The name used in messages: `portable`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Instructions::Portable => "portable",
            Instructions::Avx2 => "avx2",
            Instructions::Avx512 => "avx512",
        }
    }
}

/// A kernel body generic over the vector type; [`dispatch`] picks the instruction set.
pub(crate) trait Kernel {
    /// What the kernel returns.
    type Output;
    /// Runs the body with `simd`'s vectors. Implementations are `#[inline(always)]`, so that the
    /// body is compiled inside the instruction-set-specific function [`dispatch`] calls.
    fn run<S: Simd>(self, simd: S) -> Self::Output;
}

/// Runs `kernel` with the vectors of `instructions`, which must be among
/// [`Instructions::available`] (a [`Compute`](super::Compute) only holds such sets; the
/// portable code runs if the processor lacks them after all).
pub(crate) fn dispatch<K: Kernel>(instructions: Instructions, kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        match instructions {
            Instructions::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
                // SAFETY: the processor has AVX-512F.
                return unsafe { x86::run_avx512(kernel) };
            }
            Instructions::Avx2
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma") =>
            {
                // SAFETY: the processor has AVX2 and FMA.
                return unsafe { x86::run_avx2(kernel) };
            }
            _ => {}
        }
    }
    let _ = instructions;
    kernel.run(Portable)
}

/// Vectors of `LANES` f32 values and the operations the kernels use. Loads and stores take raw
/// pointers: the kernels check their slices' lengths once and then address within them.
pub(crate) trait Simd: Copy + Send + Sync {
    /// Values per vector.
    const LANES: usize;
    /// A vector.
    type V: Copy;

    /// Every lane `value`.
    fn splat(self, value: f32) -> Self::V;
    /// `LANES` values from `from`.
    ///
    /// # Safety
    /// `from .. from + LANES` must be readable.
    unsafe fn load(self, from: *const f32) -> Self::V;
    /// Writes the lanes to `to`.
    ///
    /// # Safety
    /// `to .. to + LANES` must be writable.
    unsafe fn store(self, to: *mut f32, vector: Self::V);
    /// `a + b`.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a − b`.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b`.
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a / b`.
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b + c`, rounded once where the processor fuses it.
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// The larger of each pair (`b` when either is NaN).
    fn max(self, a: Self::V, b: Self::V) -> Self::V;
    /// The smaller of each pair (`b` when either is NaN).
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// `|a|`.
    fn abs(self, a: Self::V) -> Self::V;
    /// `|magnitude|` with the sign of `sign`.
    fn copy_sign(self, magnitude: Self::V, sign: Self::V) -> Self::V;
    /// Per lane: `if a < b { then } else { otherwise }`.
    fn select_less(self, a: Self::V, b: Self::V, then: Self::V, otherwise: Self::V) -> Self::V;
    /// 2ⁿ for lanes holding integers n in −126..=127.
    fn exp2_integer(self, n: Self::V) -> Self::V;
    /// Runs `kernel` with these vectors again, from code compiled for any processor (such as a
    /// closure a worker thread runs): the body is compiled for this instruction set.
    fn vectorize<K: Kernel>(self, kernel: K) -> K::Output;
    /// Accumulator vectors a kernel's register tile may hold (the rest of the registers hold
    /// operands): 24 of AVX-512's 32, 12 of AVX2's 16, 6 portable arrays (12 SSE registers).
    const ACCUMULATORS: usize;
    /// The most vectors of output channels one register tile spans.
    const TILE_VECTORS: usize;

    /// The first `count` (< LANES) values from `from`, zeros after them.
    ///
    /// # Safety
    /// `from .. from + count` must be readable.
    #[inline(always)]
    unsafe fn load_partial(self, from: *const f32, count: usize) -> Self::V {
        let mut lanes = [0.0f32; 16];
        // SAFETY: the caller guarantees `count` readable values; count < LANES ≤ 16.
        unsafe { std::ptr::copy_nonoverlapping(from, lanes.as_mut_ptr(), count) };
        // SAFETY: `lanes` holds 16 ≥ LANES values.
        unsafe { self.load(lanes.as_ptr()) }
    }

    /// Writes the first `count` (< LANES) lanes to `to`.
    ///
    /// # Safety
    /// `to .. to + count` must be writable.
    #[inline(always)]
    unsafe fn store_partial(self, to: *mut f32, vector: Self::V, count: usize) {
        let mut lanes = [0.0f32; 16];
        // SAFETY: `lanes` holds 16 ≥ LANES values.
        unsafe { self.store(lanes.as_mut_ptr(), vector) };
        // SAFETY: the caller guarantees `count` writable values.
        unsafe { std::ptr::copy_nonoverlapping(lanes.as_ptr(), to, count) };
    }

    /// `e^x`, within 2 units in the last place; inputs are clamped to [−87.3, 88.3], so the
    /// result is never infinite and never below 1.2·10⁻³⁸ (NaN stays NaN).
    #[inline(always)]
    fn exp(self, x: Self::V) -> Self::V {
        // e^x = 2ⁿ · e^r with n = round(x / ln 2) and |r| ≤ ln 2 / 2; e^r = 1 + r + r²·P(r).
        let x = self.min(self.splat(88.3), self.max(self.splat(-87.3), x));
        // Adding and subtracting 1.5·2²³ rounds to the nearest integer (|x / ln 2| < 2²²).
        let shifter = self.splat(12_582_912.0);
        let n = self.sub(
            self.mul_add(x, self.splat(std::f32::consts::LOG2_E), shifter),
            shifter,
        );
        // ln 2 in two parts, so that n·ln 2 is subtracted almost exactly.
        let r = self.mul_add(n, self.splat(-0.693_145_75), x);
        let r = self.mul_add(n, self.splat(-1.428_606_8e-6), r);
        // A near-minimax fit of (e^r − 1 − r) / r² on [−ln 2 / 2, ln 2 / 2] (relative error
        // 3·10⁻⁹; fitted for this module by reweighted least squares).
        let mut p = self.splat(1.381_630_3e-3);
        p = self.mul_add(p, r, self.splat(8.368_704_5e-3));
        p = self.mul_add(p, r, self.splat(4.166_835_5e-2));
        p = self.mul_add(p, r, self.splat(0.166_665_21));
        p = self.mul_add(p, r, self.splat(0.499_999_94));
        let e_r = self.add(self.mul_add(self.mul(r, r), p, r), self.splat(1.0));
        // −126 ≤ n ≤ 127 after the clamp: 2ⁿ is a normal number.
        self.mul(e_r, self.exp2_integer(n))
    }

    /// `tanh(x)`, within 2 units in the last place.
    #[inline(always)]
    fn tanh(self, x: Self::V) -> Self::V {
        let a = self.abs(x);
        // Small |x|: x + x³·P(x²), a near-minimax fit on [0, 0.625] (relative error 2·10⁻¹⁰;
        // fitted for this module), free of the cancellation 1 − 2/(e^2x + 1) has near 0.
        let y = self.mul(x, x);
        let mut p = self.splat(2.143_133_4e-3);
        p = self.mul_add(p, y, self.splat(-8.177_651e-3));
        p = self.mul_add(p, y, self.splat(2.170_084_4e-2));
        p = self.mul_add(p, y, self.splat(-5.394_68e-2));
        p = self.mul_add(p, y, self.splat(0.133_332_06));
        p = self.mul_add(p, y, self.splat(-0.333_333_3));
        let small = self.mul_add(self.mul(x, y), p, x);
        // Larger |x|: 1 − 2/(e^2|x| + 1); beyond 9.1 that is 1 in f32, and the clamp keeps e^2|x|
        // finite.
        // (The clamp's bound goes first: a NaN `a` then comes through `min`.)
        let clamped = self.min(self.splat(9.1), a);
        let e = self.exp(self.add(clamped, clamped));
        let large = self.sub(
            self.splat(1.0),
            self.div(self.splat(2.0), self.add(e, self.splat(1.0))),
        );
        // The sign of x on both (the polynomial loses it for −0).
        self.copy_sign(self.select_less(a, self.splat(0.625), small, large), x)
    }

    /// The logistic sigmoid `1 / (1 + e^−x)`, within 2.5 units in the last place where it is
    /// above 1.22·10⁻³⁸ (below x = −87.3 it stays at that instead of going subnormal or 0).
    #[inline(always)]
    fn sigmoid(self, x: Self::V) -> Self::V {
        // e = e^−|x| ≤ 1 never overflows: σ(|x|) = 1 / (1 + e), σ(−|x|) = e / (1 + e).
        let e = self.exp(self.sub(self.splat(0.0), self.abs(x)));
        let numerator = self.select_less(x, self.splat(0.0), e, self.splat(1.0));
        self.div(numerator, self.add(self.splat(1.0), e))
    }
}

/// Portable vectors: 8 lanes in an array, plain Rust per lane.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

/// The vector of [`Portable`].
type Lanes8 = [f32; 8];

#[inline(always)]
fn each(a: Lanes8, b: Lanes8, operation: impl Fn(f32, f32) -> f32) -> Lanes8 {
    std::array::from_fn(|lane| operation(a[lane], b[lane]))
}

impl Simd for Portable {
    const LANES: usize = 8;
    const ACCUMULATORS: usize = 6;
    const TILE_VECTORS: usize = 1;
    type V = Lanes8;

    #[inline(always)]
    fn vectorize<K: Kernel>(self, kernel: K) -> K::Output {
        kernel.run(self)
    }

    #[inline(always)]
    fn splat(self, value: f32) -> Lanes8 {
        [value; 8]
    }
    #[inline(always)]
    unsafe fn load(self, from: *const f32) -> Lanes8 {
        // SAFETY: the caller guarantees 8 readable values.
        unsafe { std::ptr::read_unaligned(from.cast::<Lanes8>()) }
    }
    #[inline(always)]
    unsafe fn store(self, to: *mut f32, vector: Lanes8) {
        // SAFETY: the caller guarantees 8 writable values.
        unsafe { std::ptr::write_unaligned(to.cast::<Lanes8>(), vector) }
    }
    #[inline(always)]
    fn add(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| a + b)
    }
    #[inline(always)]
    fn sub(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| a - b)
    }
    #[inline(always)]
    fn mul(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| a * b)
    }
    #[inline(always)]
    fn div(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| a / b)
    }
    #[inline(always)]
    fn mul_add(self, a: Lanes8, b: Lanes8, c: Lanes8) -> Lanes8 {
        // Not fused: `f32::mul_add` would call libm where the target lacks FMA.
        std::array::from_fn(|lane| a[lane] * b[lane] + c[lane])
    }
    #[inline(always)]
    fn max(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| if a > b { a } else { b })
    }
    #[inline(always)]
    fn min(self, a: Lanes8, b: Lanes8) -> Lanes8 {
        each(a, b, |a, b| if a < b { a } else { b })
    }
    #[inline(always)]
    fn abs(self, a: Lanes8) -> Lanes8 {
        a.map(f32::abs)
    }
    #[inline(always)]
    fn copy_sign(self, magnitude: Lanes8, sign: Lanes8) -> Lanes8 {
        each(magnitude, sign, f32::copysign)
    }
    #[inline(always)]
    fn select_less(self, a: Lanes8, b: Lanes8, then: Lanes8, otherwise: Lanes8) -> Lanes8 {
        std::array::from_fn(|lane| {
            if a[lane] < b[lane] {
                then[lane]
            } else {
                otherwise[lane]
            }
        })
    }
    #[inline(always)]
    fn exp2_integer(self, n: Lanes8) -> Lanes8 {
        n.map(|n| f32::from_bits(((n as i32 + 127) as u32) << 23))
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Kernel, Simd};
    use std::arch::x86_64::*;

    /// AVX-512F vectors; only made by [`run_avx512`], after the processor was checked.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx512(());

    /// AVX2 + FMA vectors; only made by [`run_avx2`], after the processor was checked.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Avx2(());

    /// # Safety
    /// The processor must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn run_avx512<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(Avx512(()))
    }

    /// # Safety
    /// The processor must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_avx2<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(Avx2(()))
    }

    // SAFETY (every `unsafe` block in these two impls): a value of `Avx512` (`Avx2`) exists only
    // inside `run_avx512` (`run_avx2`), which runs after the processor was found to have the
    // instructions, so the intrinsics may execute; pointer contracts are the callers'.
    impl Simd for Avx512 {
        const LANES: usize = 16;
        const ACCUMULATORS: usize = 24;
        const TILE_VECTORS: usize = 4;
        type V = __m512;

        #[inline(always)]
        fn vectorize<K: Kernel>(self, kernel: K) -> K::Output {
            unsafe { run_avx512(kernel) }
        }

        #[inline(always)]
        fn splat(self, value: f32) -> __m512 {
            unsafe { _mm512_set1_ps(value) }
        }
        #[inline(always)]
        unsafe fn load(self, from: *const f32) -> __m512 {
            unsafe { _mm512_loadu_ps(from) }
        }
        #[inline(always)]
        unsafe fn store(self, to: *mut f32, vector: __m512) {
            unsafe { _mm512_storeu_ps(to, vector) }
        }
        #[inline(always)]
        unsafe fn load_partial(self, from: *const f32, count: usize) -> __m512 {
            unsafe { _mm512_maskz_loadu_ps(((1u32 << count) - 1) as u16, from) }
        }
        #[inline(always)]
        unsafe fn store_partial(self, to: *mut f32, vector: __m512, count: usize) {
            unsafe { _mm512_mask_storeu_ps(to, ((1u32 << count) - 1) as u16, vector) }
        }
        #[inline(always)]
        fn add(self, a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_add_ps(a, b) }
        }
        #[inline(always)]
        fn sub(self, a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_sub_ps(a, b) }
        }
        #[inline(always)]
        fn mul(self, a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_mul_ps(a, b) }
        }
        #[inline(always)]
        fn div(self, a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_div_ps(a, b) }
        }
        #[inline(always)]
        fn mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
            unsafe { _mm512_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn max(self, a: __m512, b: __m512) -> __m512 {
            // vmaxps returns its second operand when either is NaN.
            unsafe { _mm512_max_ps(a, b) }
        }
        #[inline(always)]
        fn min(self, a: __m512, b: __m512) -> __m512 {
            unsafe { _mm512_min_ps(a, b) }
        }
        #[inline(always)]
        fn abs(self, a: __m512) -> __m512 {
            unsafe {
                _mm512_castsi512_ps(_mm512_and_si512(
                    _mm512_castps_si512(a),
                    _mm512_set1_epi32(0x7fff_ffff),
                ))
            }
        }
        #[inline(always)]
        fn copy_sign(self, magnitude: __m512, sign: __m512) -> __m512 {
            unsafe {
                let magnitude = _mm512_and_si512(
                    _mm512_castps_si512(magnitude),
                    _mm512_set1_epi32(0x7fff_ffff),
                );
                let sign = _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32(i32::MIN));
                _mm512_castsi512_ps(_mm512_or_si512(magnitude, sign))
            }
        }
        #[inline(always)]
        fn select_less(self, a: __m512, b: __m512, then: __m512, otherwise: __m512) -> __m512 {
            unsafe {
                let less = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b);
                _mm512_mask_blend_ps(less, otherwise, then)
            }
        }
        #[inline(always)]
        fn exp2_integer(self, n: __m512) -> __m512 {
            unsafe {
                let exponent = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
                _mm512_castsi512_ps(_mm512_slli_epi32::<23>(exponent))
            }
        }
    }

    impl Simd for Avx2 {
        const LANES: usize = 8;
        const ACCUMULATORS: usize = 12;
        const TILE_VECTORS: usize = 2;
        type V = __m256;

        #[inline(always)]
        fn vectorize<K: Kernel>(self, kernel: K) -> K::Output {
            unsafe { run_avx2(kernel) }
        }

        #[inline(always)]
        fn splat(self, value: f32) -> __m256 {
            unsafe { _mm256_set1_ps(value) }
        }
        #[inline(always)]
        unsafe fn load(self, from: *const f32) -> __m256 {
            unsafe { _mm256_loadu_ps(from) }
        }
        #[inline(always)]
        unsafe fn store(self, to: *mut f32, vector: __m256) {
            unsafe { _mm256_storeu_ps(to, vector) }
        }
        #[inline(always)]
        fn add(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_add_ps(a, b) }
        }
        #[inline(always)]
        fn sub(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_sub_ps(a, b) }
        }
        #[inline(always)]
        fn mul(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_mul_ps(a, b) }
        }
        #[inline(always)]
        fn div(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_div_ps(a, b) }
        }
        #[inline(always)]
        fn mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
            unsafe { _mm256_fmadd_ps(a, b, c) }
        }
        #[inline(always)]
        fn max(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_max_ps(a, b) }
        }
        #[inline(always)]
        fn min(self, a: __m256, b: __m256) -> __m256 {
            unsafe { _mm256_min_ps(a, b) }
        }
        #[inline(always)]
        fn abs(self, a: __m256) -> __m256 {
            unsafe { _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff))) }
        }
        #[inline(always)]
        fn copy_sign(self, magnitude: __m256, sign: __m256) -> __m256 {
            unsafe {
                let sign_bit = _mm256_castsi256_ps(_mm256_set1_epi32(i32::MIN));
                _mm256_or_ps(
                    _mm256_andnot_ps(sign_bit, magnitude),
                    _mm256_and_ps(sign_bit, sign),
                )
            }
        }
        #[inline(always)]
        fn select_less(self, a: __m256, b: __m256, then: __m256, otherwise: __m256) -> __m256 {
            unsafe {
                let less = _mm256_cmp_ps::<_CMP_LT_OQ>(a, b);
                _mm256_blendv_ps(otherwise, then, less)
            }
        }
        #[inline(always)]
        fn exp2_integer(self, n: __m256) -> __m256 {
            unsafe {
                let exponent = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
                _mm256_castsi256_ps(_mm256_slli_epi32::<23>(exponent))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a vector function to every value of `inputs` with vectors `S`.
    struct Map<'a> {
        inputs: &'a [f32],
        function: Function,
    }

    #[derive(Clone, Copy)]
    enum Function {
        Exp,
        Tanh,
        Sigmoid,
    }

    impl Kernel for Map<'_> {
        type Output = Vec<f32>;
        #[inline(always)]
        fn run<S: Simd>(self, simd: S) -> Vec<f32> {
            map_with(simd, self.inputs, self.function)
        }
    }

    #[inline(always)]
    fn map_with<S: Simd>(simd: S, inputs: &[f32], function: Function) -> Vec<f32> {
        let mut outputs = vec![0.0f32; inputs.len()];
        for (input, output) in inputs.chunks(S::LANES).zip(outputs.chunks_mut(S::LANES)) {
            // SAFETY: both chunks hold `input.len()` values, at most LANES.
            unsafe {
                let x = if input.len() == S::LANES {
                    simd.load(input.as_ptr())
                } else {
                    simd.load_partial(input.as_ptr(), input.len())
                };
                let y = match function {
                    Function::Exp => simd.exp(x),
                    Function::Tanh => simd.tanh(x),
                    Function::Sigmoid => simd.sigmoid(x),
                };
                if input.len() == S::LANES {
                    simd.store(output.as_mut_ptr(), y);
                } else {
                    simd.store_partial(output.as_mut_ptr(), y, input.len());
                }
            }
        }
        outputs
    }

    /// Every 61st f32 bit pattern with |x| ≤ `limit` (about 2·10⁷ values), both signs.
    fn samples(limit: f32) -> Vec<f32> {
        (0..limit.to_bits())
            .step_by(61)
            .flat_map(|bits| [f32::from_bits(bits), -f32::from_bits(bits)])
            .collect()
    }

    /// The error of `got` against `want` in units of the last place of `want` (as an f32).
    fn ulps(got: f32, want: f64) -> f64 {
        let rounded = want as f32;
        let ulp = (f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()) as f64;
        (f64::from(got) - want).abs() / ulp
    }

    /// Checks `function` against `reference` on `inputs` (where the reference's magnitude is at
    /// least `floor`) with every instruction set of this machine: at most `bound` units in the
    /// last place.
    fn check(
        function: Function,
        inputs: &[f32],
        reference: fn(f64) -> f64,
        floor: f64,
        bound: f64,
    ) {
        for instructions in Instructions::available() {
            let outputs = dispatch(instructions, Map { inputs, function });
            for (&x, &y) in inputs.iter().zip(&outputs) {
                let want = reference(f64::from(x));
                if want.abs() < floor {
                    continue;
                }
                let error = ulps(y, want);
                assert!(error <= bound, "{x}: got {y}, want {want} ({error} ulp)");
            }
        }
    }

    #[test]
    fn exp_is_within_two_ulps() {
        let inputs: Vec<f32> = samples(87.0);
        // Measured worst: 1.003 ulp.
        check(Function::Exp, &inputs, f64::exp, 0.0, 2.0);
    }

    #[test]
    fn tanh_is_within_two_ulps() {
        let inputs = samples(30.0);
        // Measured worst: 1.30 ulp.
        check(Function::Tanh, &inputs, f64::tanh, 0.0, 2.0);
    }

    #[test]
    fn sigmoid_is_within_two_and_a_half_ulps_above_its_floor() {
        let inputs = samples(100.0);
        // Measured worst: 2.03 ulp.
        check(
            Function::Sigmoid,
            &inputs,
            |x| 1.0 / (1.0 + (-x).exp()),
            1.22e-38,
            2.5,
        );
    }

    #[test]
    fn edge_values() {
        let inputs = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e-30,
            -1e-30,
            200.0,
            -200.0,
            f32::NAN,
        ];
        for instructions in Instructions::available() {
            let run = |function| {
                dispatch(
                    instructions,
                    Map {
                        inputs: &inputs,
                        function,
                    },
                )
            };
            let tanh = run(Function::Tanh);
            assert_eq!(tanh[..8], [0.0, -0.0, 1.0, -1.0, 1e-30, -1e-30, 1.0, -1.0]);
            assert!(tanh[1].is_sign_negative() && tanh[8].is_nan());
            let sigmoid = run(Function::Sigmoid);
            assert_eq!(sigmoid[..3], [0.5, 0.5, 1.0]);
            assert!(sigmoid[3] >= 0.0 && sigmoid[3] < 1.3e-38 && sigmoid[8].is_nan());
            let exp = run(Function::Exp);
            assert_eq!(exp[..2], [1.0, 1.0]);
            assert!(exp[2].is_finite() && exp[2] > 1e38 && exp[8].is_nan());
        }
    }
}

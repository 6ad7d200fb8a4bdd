//! Dense f32 matrix products `C = α·op(A)·op(B) + β·C` over row-major slices, computed by the
//! `gemm` crate (built with its `x86-v4` feature, which picks AVX-512 kernels at run time where
//! the processor has them). Also the strided form the convolution kernels use on sub-matrices.
//!
//! `gemm` splits a product over tiles of C only; every value of C is summed over K in the same
//! order whatever the thread count, so products are reproducible.

use super::{Compute, TensorError, element_count, expect_length};

/// The sizes and options of one product `C = alpha·op(A)·op(B) + beta·C`, where `op(A)` is
/// `m×k`, `op(B)` is `k×n` and C is `m×n`, all row-major.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// Rows of `op(A)` and C.
    pub m: usize,
    /// Columns of `op(A)`, rows of `op(B)`: the length of each dot product.
    pub k: usize,
    /// Columns of `op(B)` and C.
    pub n: usize,
    /// A is stored `k×m` and used transposed.
    pub transpose_a: bool,
    /// B is stored `n×k` and used transposed.
    pub transpose_b: bool,
    /// The factor on the product.
    pub alpha: f32,
    /// The factor on the old C; when it is 0 the old C is not read at all (NaNs in it vanish).
    pub beta: f32,
}

impl Product {
    /// `C = A·B` with A `m×k` and B `k×n`.
    pub fn new(m: usize, k: usize, n: usize) -> Product {
        Product {
            m,
            k,
            n,
            transpose_a: false,
            transpose_b: false,
            alpha: 1.0,
            beta: 0.0,
        }
    }

    /// The same product with A stored `k×m` and used transposed.
    pub fn transposing_a(self) -> Product {
        Product {
            transpose_a: true,
            ..self
        }
    }

    /// The same product with B stored `n×k` and used transposed.
    pub fn transposing_b(self) -> Product {
        Product {
            transpose_b: true,
            ..self
        }
    }

    /// The same product scaled by `alpha`.
    pub fn scaled(self, alpha: f32) -> Product {
        Product { alpha, ..self }
    }

    /// The same product added to `beta` times the old C (`beta = 1` accumulates).
    pub fn accumulating(self, beta: f32) -> Product {
        Product { beta, ..self }
    }

    /// The floating-point operations of the product, `2·m·k·n`.
    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.k as f64 * self.n as f64
    }
}

/// Computes `C = alpha·op(A)·op(B) + beta·C` (see [`Product`]). A must hold `m·k` values, B
/// `k·n` and C `m·n`; they are checked before anything is written.
pub fn matmul(
    product: &Product,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    compute: Compute,
) -> Result<(), TensorError> {
    let Product { m, k, n, .. } = *product;
    expect_length("matrix A", a.len(), element_count(&[m, k])?)?;
    expect_length("matrix B", b.len(), element_count(&[k, n])?)?;
    expect_length("matrix C", c.len(), element_count(&[m, n])?)?;
    let a_layout = if product.transpose_a {
        Layout::row_major(0, k, m, m).transposed()
    } else {
        Layout::row_major(0, m, k, k)
    };
    let b_layout = if product.transpose_b {
        Layout::row_major(0, n, k, k).transposed()
    } else {
        Layout::row_major(0, k, n, n)
    };
    multiply(
        Target {
            data: c,
            layout: Layout::row_major(0, m, n, n),
        },
        Operand {
            data: a,
            layout: a_layout,
        },
        Operand {
            data: b,
            layout: b_layout,
        },
        product.alpha,
        product.beta,
        compute.threads(),
    )
}

/// Where a matrix lies in a slice: its first value, its extents and the steps between rows and
/// between columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub offset: usize,
    pub rows: usize,
    pub columns: usize,
    pub row_stride: usize,
    pub column_stride: usize,
}

impl Layout {
    /// A matrix whose rows are contiguous and `row_stride` apart.
    pub fn row_major(offset: usize, rows: usize, columns: usize, row_stride: usize) -> Layout {
        Layout {
            offset,
            rows,
            columns,
            row_stride,
            column_stride: 1,
        }
    }

    /// The transpose of the matrix, in place.
    pub fn transposed(self) -> Layout {
        Layout {
            offset: self.offset,
            rows: self.columns,
            columns: self.rows,
            row_stride: self.column_stride,
            column_stride: self.row_stride,
        }
    }

    /// Checks that every value lies inside a slice of `length` values and that the strides fit
    /// the pointer arithmetic of `gemm`.
    fn check(&self, what: &'static str, length: usize) -> Result<(isize, isize), TensorError> {
        let overflow = || TensorError::Overflow { what };
        let row_stride = isize::try_from(self.row_stride).map_err(|_| overflow())?;
        let column_stride = isize::try_from(self.column_stride).map_err(|_| overflow())?;
        if self.rows > 0 && self.columns > 0 {
            let last = (self.rows - 1)
                .checked_mul(self.row_stride)
                .and_then(|rows| {
                    (self.columns - 1)
                        .checked_mul(self.column_stride)
                        .and_then(|columns| rows.checked_add(columns))
                })
                .and_then(|span| span.checked_add(self.offset))
                .ok_or_else(overflow)?;
            if last >= length {
                return Err(TensorError::Length {
                    what,
                    expected: last + 1,
                    actual: length,
                });
            }
        }
        Ok((row_stride, column_stride))
    }
}

/// A matrix read by a product.
pub(crate) struct Operand<'a> {
    pub data: &'a [f32],
    pub layout: Layout,
}

/// The matrix a product writes.
pub(crate) struct Target<'a> {
    pub data: &'a mut [f32],
    pub layout: Layout,
}

/// `target = alpha·a·b + beta·target` on strided sub-matrices, split over `threads` tasks by
/// `gemm`. When `beta` is 0 the target is only written.
pub(crate) fn multiply(
    target: Target<'_>,
    a: Operand<'_>,
    b: Operand<'_>,
    alpha: f32,
    beta: f32,
    threads: usize,
) -> Result<(), TensorError> {
    let (m, k, n) = (a.layout.rows, a.layout.columns, b.layout.columns);
    if b.layout.rows != k || target.layout.rows != m || target.layout.columns != n {
        return Err(TensorError::Geometry {
            reason: format!(
                "cannot multiply {}×{} by {}×{} into {}×{}",
                m, k, b.layout.rows, n, target.layout.rows, target.layout.columns
            ),
        });
    }
    let (a_row_stride, a_column_stride) = a.layout.check("matrix A", a.data.len())?;
    let (b_row_stride, b_column_stride) = b.layout.check("matrix B", b.data.len())?;
    let (c_row_stride, c_column_stride) = target.layout.check("matrix C", target.data.len())?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        scale(target, beta);
        return Ok(());
    }
    let strides = Strides {
        a: (a_row_stride, a_column_stride),
        b: (b_row_stride, b_column_stride),
        c: (c_row_stride, c_column_stride),
    };
    product(target, a, b, (m, k, n), strides, alpha, beta, threads);
    Ok(())
}

/// The row and column strides of the three matrices of a product, in values.
struct Strides {
    a: (isize, isize),
    b: (isize, isize),
    c: (isize, isize),
}

/// `target = alpha·a·b + beta·target` by the `gemm` crate, on up to `threads` rayon tasks.
#[cfg(feature = "executor")]
#[allow(clippy::too_many_arguments)]
fn product(
    target: Target<'_>,
    a: Operand<'_>,
    b: Operand<'_>,
    (m, k, n): (usize, usize, usize),
    strides: Strides,
    alpha: f32,
    beta: f32,
    threads: usize,
) {
    let Strides {
        a: (a_row_stride, a_column_stride),
        b: (b_row_stride, b_column_stride),
        c: (c_row_stride, c_column_stride),
    } = strides;
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `check` proved that every value each layout addresses lies inside its slice
    // (m, n, k > 0 here, so the offsets are in bounds too) and that the strides fit in isize.
    // The target is borrowed mutably and the operands immutably, so nothing aliases.
    // `gemm` computes dst := alpha·dst + beta·lhs·rhs, reading dst only when asked to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            target.data.as_mut_ptr().add(target.layout.offset),
            c_column_stride,
            c_row_stride,
            beta != 0.0,
            a.data.as_ptr().add(a.layout.offset),
            a_column_stride,
            a_row_stride,
            b.data.as_ptr().add(b.layout.offset),
            b_column_stride,
            b_row_stride,
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// `target = alpha·a·b + beta·target` by plain loops on this thread: the build without the
/// `executor` feature (the browser page), which runs no threads and carries no GEMM. Each sum
/// runs over `k` in order, in f32.
#[cfg(not(feature = "executor"))]
#[allow(clippy::too_many_arguments)]
fn product(
    target: Target<'_>,
    a: Operand<'_>,
    b: Operand<'_>,
    (m, k, n): (usize, usize, usize),
    strides: Strides,
    alpha: f32,
    beta: f32,
    _threads: usize,
) {
    // `check` proved every addressed offset lies inside its slice, so these indices are in bounds.
    let at =
        |offset: usize, (row_stride, column_stride): (isize, isize), row: usize, column: usize| {
            (offset as isize + row as isize * row_stride + column as isize * column_stride) as usize
        };
    for row in 0..m {
        for column in 0..n {
            let mut sum = 0.0f32;
            for inner in 0..k {
                sum += a.data[at(a.layout.offset, strides.a, row, inner)]
                    * b.data[at(b.layout.offset, strides.b, inner, column)];
            }
            let index = at(target.layout.offset, strides.c, row, column);
            target.data[index] = if beta == 0.0 {
                alpha * sum
            } else {
                alpha * sum + beta * target.data[index]
            };
        }
    }
}

/// `target = beta·target` (zeros when `beta` is 0, whatever was there), for empty products.
fn scale(target: Target<'_>, beta: f32) {
    let layout = target.layout;
    for row in 0..layout.rows {
        for column in 0..layout.columns {
            let index = layout.offset + row * layout.row_stride + column * layout.column_stride;
            let value = &mut target.data[index];
            *value = if beta == 0.0 { 0.0 } else { beta * *value };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::testing::values;
    use proptest::prelude::*;

    /// The product in f64 with plain loops, reading A and B as stored.
    fn reference(product: &Product, a: &[f32], b: &[f32], c: &[f32]) -> Vec<f64> {
        let Product { m, k, n, .. } = *product;
        let mut result = vec![0.0; m * n];
        for row in 0..m {
            for column in 0..n {
                let mut sum = 0.0f64;
                for inner in 0..k {
                    let a_value = if product.transpose_a {
                        a[inner * m + row]
                    } else {
                        a[row * k + inner]
                    };
                    let b_value = if product.transpose_b {
                        b[column * k + inner]
                    } else {
                        b[inner * n + column]
                    };
                    sum += f64::from(a_value) * f64::from(b_value);
                }
                let old = if product.beta == 0.0 {
                    0.0
                } else {
                    f64::from(product.beta) * f64::from(c[row * n + column])
                };
                result[row * n + column] = f64::from(product.alpha) * sum + old;
            }
        }
        result
    }

    fn assert_close(actual: &[f32], expected: &[f64], k: usize) {
        assert_eq!(actual.len(), expected.len());
        let tolerance = 1e-5 * (k as f64 + 1.0);
        for (index, (&got, &want)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (f64::from(got) - want).abs() <= tolerance * (1.0 + want.abs()),
                "value {index}: got {got}, want {want}"
            );
        }
    }

    proptest! {
        #[test]
        fn matches_the_reference(
            m in 1usize..40,
            k in 0usize..40,
            n in 1usize..40,
            transpose_a: bool,
            transpose_b: bool,
            alpha in prop::sample::select(vec![1.0f32, -0.5, 2.0]),
            beta in prop::sample::select(vec![0.0f32, 1.0, 0.25]),
            threads in 1usize..3,
            seed: u64,
        ) {
            let mut product = Product::new(m, k, n).scaled(alpha).accumulating(beta);
            product.transpose_a = transpose_a;
            product.transpose_b = transpose_b;
            let a = values(m * k, seed);
            let b = values(k * n, seed ^ 1);
            let mut c = values(m * n, seed ^ 2);
            let expected = reference(&product, &a, &b, &c);
            matmul(&product, &a, &b, &mut c, Compute::new(threads).unwrap()).unwrap();
            assert_close(&c, &expected, k);
        }
    }

    #[test]
    fn a_small_product_by_hand() {
        // [1 2 3; 4 5 6] · [1 0; 0 1; 1 1] = [4 5; 10 11]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [f32::NAN; 4];
        matmul(&Product::new(2, 3, 2), &a, &b, &mut c, Compute::single()).unwrap();
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
    }

    #[test]
    fn beta_zero_ignores_nan_and_k_zero_scales() {
        let mut c = [f32::NAN, 2.0];
        matmul(&Product::new(1, 0, 2), &[], &[], &mut c, Compute::single()).unwrap();
        assert_eq!(c, [0.0, 0.0]);
        let mut c = [3.0, 2.0];
        let product = Product::new(1, 0, 2).accumulating(0.5);
        matmul(&product, &[], &[], &mut c, Compute::single()).unwrap();
        assert_eq!(c, [1.5, 1.0]);
    }

    #[test]
    fn wrong_lengths_are_errors_and_leave_c_alone() {
        let mut c = [7.0; 4];
        let result = matmul(
            &Product::new(2, 3, 2),
            &[0.0; 5],
            &[0.0; 6],
            &mut c,
            Compute::single(),
        );
        assert_eq!(
            result,
            Err(TensorError::Length {
                what: "matrix A",
                expected: 6,
                actual: 5
            })
        );
        assert_eq!(c, [7.0; 4]);
    }

    #[test]
    fn large_products_are_reproducible_for_a_thread_count() {
        let (m, k, n) = (300, 200, 170);
        let a = values(m * k, 11);
        let b = values(k * n, 12);
        let product = Product::new(m, k, n);
        let expected = reference(&product, &a, &b, &[]);
        let mut first = vec![0.0; m * n];
        let mut second = vec![0.0; m * n];
        let compute = Compute::new(2).unwrap();
        matmul(&product, &a, &b, &mut first, compute).unwrap();
        matmul(&product, &a, &b, &mut second, compute).unwrap();
        assert_eq!(first, second);
        assert_close(&first, &expected, k);
    }

    #[test]
    fn strided_layouts_out_of_bounds_are_errors() {
        let data = [0.0f32; 10];
        let mut out = [0.0f32; 4];
        let result = multiply(
            Target {
                data: &mut out,
                layout: Layout::row_major(0, 2, 2, 2),
            },
            Operand {
                data: &data,
                layout: Layout::row_major(4, 2, 2, 5),
            },
            Operand {
                data: &data,
                layout: Layout::row_major(0, 2, 2, 2),
            },
            1.0,
            0.0,
            1,
        );
        assert!(matches!(result, Err(TensorError::Length { .. })));
    }
}

//! CPU f32 tensors and the kernels a trainer composes: matrix products, 2-D convolution, pooling,
//! activations and losses. Nothing here knows about layers or graphs: kernels take slices, sizes
//! and a [`Compute`] setting, and check every length before touching memory.
//!
//! # Layout convention
//!
//! All tensors are dense, row-major (the last index varies fastest) `f32` buffers.
//!
//! - **Activations are NHWC**: `[batch, height, width, channels]`, channels last. The value of
//!   image `n`, row `y`, column `x`, channel `c` sits at `((n·H + y)·W + x)·C + c`. A fully
//!   connected layer's activations are `[batch, features]`.
//! - **Convolution weights are HWIO**: `[kernel_height, kernel_width, in_channels_per_group,
//!   out_channels]`; weight `(ky, kx, i, o)` sits at `((ky·KW + kx)·I + i)·O + o`, where
//!   `I = in_channels / groups`. Output channel `o` belongs to group `o / (O / groups)` and reads
//!   the input channels `group·I .. (group+1)·I`.
//! - **Dense weights** are `[in_features, out_features]`, so a dense layer is `Y = X·W`.
//! - **Biases** are `[out_channels]`.
//!
//! # Threads and determinism
//!
//! A [`Compute`] carries the caller's thread count (and the convolution workspace budget).
//! A kernel splits its work into at most that many tasks and runs them on the current rayon pool
//! (the global one unless the caller runs inside its own `ThreadPool::install`). How the work is
//! split, and so every rounding, depends only on the thread count and the workspace budget, never
//! on timing: a kernel gives bit-identical results for the same inputs and the same [`Compute`].

pub mod allocation;
pub mod convolution;
pub mod elementwise;
pub mod keep_mask;
pub mod matmul;
pub mod normalization;
pub mod pointwise;
pub mod pooling;
pub mod smooth;

mod error;
mod parallel;
pub(crate) mod simd;
#[cfg(test)]
mod testing;

pub use error::TensorError;
pub use simd::Instructions;

/// The workspace budget of a [`Compute`] unless the caller sets another: 2 MiB, shared by the
/// threads. Column buffers about the size of a core's L2 cache measured as fast as or faster
/// than 32 MiB ones (see `bench/README.md`); raise it only to bound memory differently.
pub const DEFAULT_WORKSPACE_BYTES: usize = 2 << 20;

/// How a kernel may use the machine: how many threads, how much scratch memory, which vector
/// instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compute {
    threads: usize,
    workspace_bytes: usize,
    instructions: Instructions,
}

impl Compute {
    /// A setting with `threads` worker tasks (at least 1), the default workspace budget and the
    /// widest vector instructions of the processor.
    pub fn new(threads: usize) -> Result<Compute, TensorError> {
        if threads == 0 {
            return Err(TensorError::NoThreads);
        }
        Ok(Compute {
            threads,
            ..Compute::single()
        })
    }

    /// One thread, the default workspace budget, the widest vector instructions.
    pub fn single() -> Compute {
        Compute {
            threads: 1,
            workspace_bytes: DEFAULT_WORKSPACE_BYTES,
            instructions: Instructions::best(),
        }
    }

    /// The same setting with other vector instructions, when the processor has them (else an
    /// error naming the set).
    pub fn with_instructions(self, instructions: Instructions) -> Result<Compute, TensorError> {
        if !Instructions::available().contains(&instructions) {
            return Err(TensorError::Geometry {
                reason: format!(
                    "this processor lacks the {} instructions",
                    instructions.name()
                ),
            });
        }
        Ok(Compute {
            instructions,
            ..self
        })
    }

    /// The vector instructions kernels use.
    pub fn instructions(&self) -> Instructions {
        self.instructions
    }

    /// The same setting with another budget for scratch buffers (im2col columns), in bytes. The
    /// convolution kernels process as many images at once as fit, but always at least one.
    pub fn with_workspace_bytes(self, workspace_bytes: usize) -> Compute {
        Compute {
            workspace_bytes,
            ..self
        }
    }

    /// The number of worker tasks.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The scratch-memory budget in bytes.
    pub fn workspace_bytes(&self) -> usize {
        self.workspace_bytes
    }
}

/// The size of a batch of NHWC feature maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nhwc {
    /// Images in the batch.
    pub batch: usize,
    /// Rows of each image.
    pub height: usize,
    /// Columns of each image.
    pub width: usize,
    /// Channels of each pixel.
    pub channels: usize,
}

impl Nhwc {
    /// A batch size from its four extents.
    pub fn new(batch: usize, height: usize, width: usize, channels: usize) -> Nhwc {
        Nhwc {
            batch,
            height,
            width,
            channels,
        }
    }

    /// The number of values, or an error when it does not fit in `usize`.
    pub fn len(&self) -> Result<usize, TensorError> {
        element_count(&[self.batch, self.height, self.width, self.channels])
    }

    /// Whether the batch holds no value.
    pub fn is_empty(&self) -> bool {
        self.batch == 0 || self.height == 0 || self.width == 0 || self.channels == 0
    }

    /// The extents as a shape `[batch, height, width, channels]`.
    pub fn shape(&self) -> [usize; 4] {
        [self.batch, self.height, self.width, self.channels]
    }
}

/// Zero padding around an image: rows added above and below, columns left and right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Padding {
    /// Rows added above.
    pub top: usize,
    /// Rows added below.
    pub bottom: usize,
    /// Columns added on the left.
    pub left: usize,
    /// Columns added on the right.
    pub right: usize,
}

impl Padding {
    /// Padding from its four sides.
    pub fn new(top: usize, bottom: usize, left: usize, right: usize) -> Padding {
        Padding {
            top,
            bottom,
            left,
            right,
        }
    }

    /// The same padding on every side.
    pub fn uniform(amount: usize) -> Padding {
        Padding::new(amount, amount, amount, amount)
    }
}

/// The number of positions a sliding window takes along one axis:
/// `(input + before + after − dilation·(kernel − 1) − 1) / stride + 1`, or an error when the
/// window does not fit once or a step is zero.
pub fn output_extent(
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    before: usize,
    after: usize,
) -> Result<usize, TensorError> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return Err(TensorError::Geometry {
            reason: format!(
                "kernel ({kernel}), stride ({stride}) and dilation ({dilation}) must be at least 1"
            ),
        });
    }
    let overflow = || TensorError::Overflow {
        what: "padded extent",
    };
    let padded = input
        .checked_add(before)
        .and_then(|sum| sum.checked_add(after))
        .ok_or_else(overflow)?;
    let reach = dilation
        .checked_mul(kernel - 1)
        .and_then(|span| span.checked_add(1))
        .ok_or_else(overflow)?;
    if padded < reach {
        return Err(TensorError::Geometry {
            reason: format!("a window reaching {reach} does not fit in the padded extent {padded}"),
        });
    }
    Ok((padded - reach) / stride + 1)
}

/// The number of values of a shape (1 for the empty shape), or an error on overflow.
pub fn element_count(shape: &[usize]) -> Result<usize, TensorError> {
    shape
        .iter()
        .try_fold(1usize, |count, &extent| count.checked_mul(extent))
        .ok_or(TensorError::Overflow { what: "shape" })
}

/// Checks that a slice has the length a kernel expects.
pub(crate) fn expect_length(
    what: &'static str,
    actual: usize,
    expected: usize,
) -> Result<(), TensorError> {
    if actual == expected {
        Ok(())
    } else {
        Err(TensorError::Length {
            what,
            expected,
            actual,
        })
    }
}

/// A dense row-major f32 tensor: a shape and exactly as many values as the shape holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    shape: Vec<usize>,
    data: allocation::Values,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Result<Tensor, TensorError> {
        Tensor::full(shape, 0.0)
    }

    /// A tensor with every value equal to `value`.
    pub fn full(shape: &[usize], value: f32) -> Result<Tensor, TensorError> {
        let count = element_count(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: allocation::Values::new(vec![value; count]),
        })
    }

    /// A tensor whose values are unspecified (those of an earlier, dropped tensor, or zeros),
    /// for a kernel that overwrites every value: it saves the zero-filling of [`Tensor::zeros`].
    /// A caller that leaves a value unwritten reads stale numbers, so only the kernels whose
    /// documentation says the target "is overwritten" may fill it.
    pub fn for_overwrite(shape: &[usize]) -> Result<Tensor, TensorError> {
        let count = element_count(shape)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: allocation::Values::new(allocation::for_overwrite(count)),
        })
    }

    /// A tensor from its values in row-major order; their number must match the shape.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor, TensorError> {
        let count = element_count(shape)?;
        expect_length("tensor data", data.len(), count)?;
        Ok(Tensor {
            shape: shape.to_vec(),
            data: allocation::Values::new(data),
        })
    }

    /// The extents, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values in row-major order, writable (the shape stays).
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Gives up the tensor for its values.
    pub fn into_data(self) -> Vec<f32> {
        self.data.into_vec()
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no value.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The same values under another shape with the same number of values.
    pub fn reshape(self, shape: &[usize]) -> Result<Tensor, TensorError> {
        if element_count(shape)? != self.data.len() {
            return Err(TensorError::Reshape {
                from: self.shape,
                to: shape.to_vec(),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data: self.data,
        })
    }

    /// The position in [`Tensor::data`] of a multi-index, or an error when it has the wrong rank
    /// or lies outside the shape.
    pub fn offset(&self, index: &[usize]) -> Result<usize, TensorError> {
        let outside = || TensorError::Index {
            index: index.to_vec(),
            shape: self.shape.clone(),
        };
        if index.len() != self.shape.len() {
            return Err(outside());
        }
        let mut offset = 0usize;
        for (&position, &extent) in index.iter().zip(&self.shape) {
            if position >= extent {
                return Err(outside());
            }
            // Cannot overflow: the result is below the element count, which fits in usize.
            offset = offset * extent + position;
        }
        Ok(offset)
    }

    /// The value at a multi-index.
    pub fn get(&self, index: &[usize]) -> Result<f32, TensorError> {
        let offset = self.offset(index)?;
        Ok(self.data[offset])
    }

    /// Writes the value at a multi-index.
    pub fn set(&mut self, index: &[usize], value: f32) -> Result<(), TensorError> {
        let offset = self.offset(index)?;
        self.data[offset] = value;
        Ok(())
    }

    /// The shape read as NHWC, when the tensor has rank 4.
    pub fn nhwc(&self) -> Result<Nhwc, TensorError> {
        match self.shape[..] {
            [batch, height, width, channels] => Ok(Nhwc::new(batch, height, width, channels)),
            _ => Err(TensorError::Rank {
                expected: 4,
                shape: self.shape.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tensor_for_overwrite_takes_a_dropped_buffer_of_its_length() {
        // A length no other test uses; other tests' threads share the kept buffers, so a few
        // tries allow for one of them pushing this buffer out in between.
        let count = (1 << 18) + 12_345;
        let reused = (0..10).any(|_| {
            let poisoned = Tensor::full(&[count], f32::NAN).unwrap();
            let address = poisoned.data().as_ptr();
            drop(poisoned);
            let taken = Tensor::for_overwrite(&[count]).unwrap();
            taken.data().as_ptr() == address && taken.data().iter().all(|value| value.is_nan())
        });
        assert!(reused);
        // Small buffers are not kept: a fresh one is zeros.
        drop(Tensor::full(&[1000], f32::NAN).unwrap());
        assert!(
            Tensor::for_overwrite(&[1000])
                .unwrap()
                .data()
                .iter()
                .all(|&value| value == 0.0)
        );
    }

    #[test]
    fn from_vec_checks_the_length() {
        assert!(Tensor::from_vec(&[2, 3], vec![0.0; 6]).is_ok());
        assert_eq!(
            Tensor::from_vec(&[2, 3], vec![0.0; 5]),
            Err(TensorError::Length {
                what: "tensor data",
                expected: 6,
                actual: 5
            })
        );
    }

    #[test]
    fn shapes_that_overflow_are_errors() {
        assert!(matches!(
            Tensor::zeros(&[usize::MAX, 2]),
            Err(TensorError::Overflow { .. })
        ));
    }

    #[test]
    fn offsets_are_row_major() {
        let values: Vec<f32> = (0..24).map(|value| value as f32).collect();
        let tensor = Tensor::from_vec(&[2, 3, 4], values).unwrap();
        assert_eq!(tensor.offset(&[1, 2, 3]), Ok(23));
        assert_eq!(tensor.offset(&[1, 0, 2]), Ok(14));
        assert_eq!(tensor.get(&[0, 1, 1]), Ok(5.0));
        assert!(tensor.offset(&[2, 0, 0]).is_err());
        assert!(tensor.offset(&[0, 0]).is_err());
    }

    #[test]
    fn set_writes_where_get_reads() {
        let mut tensor = Tensor::zeros(&[2, 2]).unwrap();
        tensor.set(&[1, 0], 7.5).unwrap();
        assert_eq!(tensor.data(), &[0.0, 0.0, 7.5, 0.0]);
        assert!(tensor.set(&[0, 2], 1.0).is_err());
    }

    #[test]
    fn reshape_keeps_values_and_checks_count() {
        let tensor = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let reshaped = tensor.clone().reshape(&[3, 2]).unwrap();
        assert_eq!(reshaped.shape(), &[3, 2]);
        assert_eq!(reshaped.get(&[2, 1]), Ok(6.0));
        assert!(matches!(
            tensor.reshape(&[4, 2]),
            Err(TensorError::Reshape { .. })
        ));
    }

    #[test]
    fn nhwc_reads_rank_four_shapes_only() {
        let tensor = Tensor::zeros(&[2, 5, 4, 3]).unwrap();
        assert_eq!(tensor.nhwc(), Ok(Nhwc::new(2, 5, 4, 3)));
        assert!(Tensor::zeros(&[2, 3]).unwrap().nhwc().is_err());
    }

    #[test]
    fn output_extent_follows_the_formula() {
        // (227 - 11) / 4 + 1 = 55
        assert_eq!(output_extent(227, 11, 4, 1, 0, 0), Ok(55));
        // (5 + 1 + 1 - 2*(3-1) - 1) / 1 + 1 = 3
        assert_eq!(output_extent(5, 3, 1, 2, 1, 1), Ok(3));
        assert_eq!(output_extent(7, 2, 2, 1, 0, 0), Ok(3));
        assert!(output_extent(2, 3, 1, 1, 0, 0).is_err());
        assert!(output_extent(5, 3, 0, 1, 0, 0).is_err());
    }

    #[test]
    fn compute_rejects_zero_threads() {
        assert_eq!(Compute::new(0), Err(TensorError::NoThreads));
        let compute = Compute::new(2).unwrap().with_workspace_bytes(1024);
        assert_eq!(compute.threads(), 2);
        assert_eq!(compute.workspace_bytes(), 1024);
    }
}

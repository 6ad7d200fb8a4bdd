//! How grey-scale images become the network's input. A network whose input is feature maps
//! H×W×1 gets each image centred with zero padding (MNIST's 28×28 in LeNet-5's 32×32 input: 2
//! pixels on each side, as LeCun et al. 1998 padded the digits); a network whose input is a
//! vector of rows·cols units gets the image flattened row by row (the MLPs' 784 inputs); a
//! network whose input is a sequence of rows steps of cols features reads the image row by row
//! (an LSTM on MNIST: 28 steps of 28 pixels). Images are never scaled: an image larger than the
//! input, or an input of another kind, is an error.

use crate::data::mnist::Dataset;
use crate::shape::Shape;
use crate::tensor::Tensor;
use crate::train::error::TrainError;

/// Where an image's pixels go in one example of the network's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputLayout {
    /// Maps `height × width × 1`, the image placed at (`top`, `left`).
    Maps {
        /// Input height.
        height: usize,
        /// Input width.
        width: usize,
        /// Image height.
        rows: usize,
        /// Image width.
        cols: usize,
        /// Zero rows above the image (the extra one below when the difference is odd).
        top: usize,
        /// Zero columns left of the image.
        left: usize,
    },
    /// A sequence of `rows` steps of `cols` features: the image's rows in order.
    Rows {
        /// Image height: the steps.
        rows: usize,
        /// Image width: the features of each step.
        cols: usize,
    },
    /// A vector of `rows · cols` units.
    Flat {
        /// Image height.
        rows: usize,
        /// Image width.
        cols: usize,
    },
}

impl InputLayout {
    /// The layout that puts `rows × cols` images into an input of shape `input`.
    pub fn new(input: &Shape, rows: usize, cols: usize) -> Result<InputLayout, TrainError> {
        let dims: Vec<usize> = input
            .dims()
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
            .collect();
        let described = dims
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("×");
        match dims.as_slice() {
            [units] if Some(*units) == rows.checked_mul(cols) && input.vocabulary().is_none() => {
                Ok(InputLayout::Flat { rows, cols })
            }
            [steps, features] if *steps == rows && *features == cols => {
                Ok(InputLayout::Rows { rows, cols })
            }
            [height, width, 1] if *height >= rows && *width >= cols => Ok(InputLayout::Maps {
                height: *height,
                width: *width,
                rows,
                cols,
                top: (height - rows) / 2,
                left: (width - cols) / 2,
            }),
            _ => Err(TrainError::Network(format!(
                "the network's input is {described}, which does not take {rows}×{cols} grey-scale \
                 images: use an input of {} units, a sequence {rows}x{cols} (rows as steps) or H×W×1 \
                 maps with H ≥ {rows}, W ≥ {cols} (images are zero-padded to fit, never scaled)",
                rows * cols
            ))),
        }
    }

    /// The shape of one example.
    pub fn shape(&self) -> Vec<usize> {
        match *self {
            InputLayout::Maps { height, width, .. } => vec![height, width, 1],
            InputLayout::Rows { rows, cols } => vec![rows, cols],
            InputLayout::Flat { rows, cols } => vec![rows * cols],
        }
    }

    /// Values per example.
    pub fn size(&self) -> usize {
        self.shape().iter().product()
    }

    /// Writes one image (`rows × cols` pixels) into one example's values (`size()` of them,
    /// zeros where the image does not reach).
    pub fn place(&self, image: &[f32], example: &mut [f32]) {
        match *self {
            InputLayout::Flat { .. } | InputLayout::Rows { .. } => example.copy_from_slice(image),
            InputLayout::Maps {
                width,
                cols,
                top,
                left,
                ..
            } => {
                example.fill(0.0);
                for (row, pixels) in image.chunks_exact(cols).enumerate() {
                    let start = (top + row) * width + left;
                    example[start..start + cols].copy_from_slice(pixels);
                }
            }
        }
    }

    /// The batch `[indices.len(), …shape]` of the data set's images at `indices`.
    pub fn batch(&self, dataset: &Dataset, indices: &[usize]) -> Result<Tensor, TrainError> {
        let size = self.size();
        let mut values = vec![0.0f32; indices.len() * size];
        for (example, &index) in values.chunks_exact_mut(size).zip(indices) {
            let image = dataset.image(index).ok_or_else(|| {
                TrainError::Network(format!(
                    "image {index} is not in the data set of {} images",
                    dataset.len()
                ))
            })?;
            self.place(image, example);
        }
        let mut shape = vec![indices.len()];
        shape.extend(self.shape());
        Ok(Tensor::from_vec(&shape, values)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnist_in_lenets_input_is_centred_with_two_zero_pixels_each_side() {
        let layout = InputLayout::new(&Shape::new(vec![32, 32, 1]), 28, 28).unwrap();
        assert_eq!(layout.shape(), vec![32, 32, 1]);
        let image: Vec<f32> = (0..28 * 28).map(|i| i as f32 + 1.0).collect();
        let mut example = vec![-1.0; 32 * 32];
        layout.place(&image, &mut example);
        assert_eq!(example[2 * 32 + 2], 1.0, "first pixel at (2, 2)");
        assert_eq!(example[29 * 32 + 29], 784.0, "last pixel at (29, 29)");
        assert_eq!(example[..2 * 32].iter().filter(|&&v| v == 0.0).count(), 64);
        assert_eq!(example.iter().filter(|&&v| v == 0.0).count(), 32 * 32 - 784);
    }

    #[test]
    fn an_mlp_gets_flattened_images_and_a_cnn_the_image_as_it_is() {
        assert_eq!(
            InputLayout::new(&Shape::new(vec![784]), 28, 28).unwrap(),
            InputLayout::Flat { rows: 28, cols: 28 }
        );
        let same = InputLayout::new(&Shape::new(vec![28, 28, 1]), 28, 28).unwrap();
        let image: Vec<f32> = (0..784).map(|i| i as f32).collect();
        let mut example = vec![0.0; 784];
        same.place(&image, &mut example);
        assert_eq!(example, image);
    }

    #[test]
    fn a_sequence_input_reads_the_rows_as_steps() {
        let layout = InputLayout::new(&Shape::new(vec![28, 28]), 28, 28).unwrap();
        assert_eq!(layout, InputLayout::Rows { rows: 28, cols: 28 });
        assert_eq!(layout.shape(), vec![28, 28]);
        let image: Vec<f32> = (0..784).map(|i| i as f32).collect();
        let mut example = vec![0.0; 784];
        layout.place(&image, &mut example);
        // Step 3, feature 5 is row 3, column 5 of the image.
        assert_eq!(example[3 * 28 + 5], image[3 * 28 + 5]);
        assert_eq!(example, image);
    }

    #[test]
    fn inputs_that_do_not_take_the_images_are_errors() {
        let shapes = [
            Shape::new(vec![100]),
            Shape::new(vec![28, 28, 3]),
            Shape::new(vec![24, 24, 1]),
            Shape::new(vec![14, 56]),
            Shape::new(vec![28, 28, 1, 1]),
            Shape::tokens(784, 256),
        ];
        for shape in shapes {
            let error = InputLayout::new(&shape, 28, 28).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("does not take 28×28 grey-scale images"),
                "{error}"
            );
        }
    }
}

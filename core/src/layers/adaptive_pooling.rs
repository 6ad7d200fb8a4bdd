//! `adaptive_avgpool` and `adaptive_maxpool`: pooling to a fixed output size (PyTorch
//! `nn.AdaptiveAvgPool2d(output_size)` / `nn.AdaptiveMaxPool2d`), H×W×C → h×w×C whatever H and W.
//! Output row i pools input rows ⌊i·H/h⌋ … ⌈(i+1)·H/h⌉ − 1, PyTorch's rule (`start_index` and
//! `end_index` in ATen's AdaptiveAveragePooling.cpp), so where h does not divide H the bins are
//! uneven and may overlap: 5 rows to 3 pool rows 0–1, 1–3 and 3–4. Keras has no such layer.
//!
//! No parameters and no MACs. Connections: each output unit reads its bin, so C·(Σ bin heights)·
//! (Σ bin widths), written with each bin's size: 5×5 to 3×3 on C maps is (2+3+2)·(2+3+2)·C. The
//! receptive step is a regular window (kernel = stride = H/h) when h divides H and w divides W;
//! uneven bins have no one window, and the field is then reported as varying from unit to unit.

use super::sizes::{extent, one, same_shape};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, Window, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Axes, Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry for adaptive average pooling.
pub const AVERAGE_KIND: Kind = Kind {
    name: "adaptive_avgpool",
    aliases: &["adaptive_avgpool2d", "adaptive_average_pooling"],
    positionals: &["output_size"],
    summary: "average pooling to a fixed size: output_size (PyTorch's bins, uneven when the size does not divide)",
    build: build_average,
};

/// The catalogue entry for adaptive max pooling.
pub const MAX_KIND: Kind = Kind {
    name: "adaptive_maxpool",
    aliases: &["adaptive_maxpool2d", "adaptive_max_pooling"],
    positionals: &["output_size"],
    summary: "max pooling to a fixed size: output_size (PyTorch's bins, uneven when the size does not divide)",
    build: build_max,
};

#[derive(Debug)]
struct Adaptive {
    output: [u64; 2],
    max: bool,
}

fn build_average(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let output = reader
        .pair("output_size")?
        .ok_or_else(|| reader.missing("output_size"))?;
    Ok(Box::new(Adaptive { output, max: false }))
}

fn build_max(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let output = reader
        .pair("output_size")?
        .ok_or_else(|| reader.missing("output_size"))?;
    Ok(Box::new(Adaptive { output, max: true }))
}

/// PyTorch's bins of `input` units into `output`: (start, end) with end exclusive.
fn bins(input: u64, output: u64) -> Vec<(u64, u64)> {
    (0..output)
        .map(|i| {
            let start = (i * input) / output;
            let end = ((i + 1) * input).div_ceil(output);
            (start, end)
        })
        .collect()
}

impl Adaptive {
    /// Σ bin sizes: bins·size when all are as large, else a sum of each bin's size.
    fn bin_sum(input: u64, output: u64) -> Expression {
        let sizes: Vec<u64> = bins(input, output)
            .into_iter()
            .map(|(start, end)| end - start)
            .collect();
        match sizes.as_slice() {
            [one] => Expression::Number(*one),
            [first, rest @ ..] if rest.iter().all(|size| size == first) => {
                Expression::product(vec![Expression::Number(output), Expression::Number(*first)])
            }
            _ => Expression::sum(sizes.into_iter().map(Expression::Number).collect()),
        }
    }

    /// For each output unit of one example: its input units (one example's NHWC offsets).
    fn sources(&self, shape: &[usize]) -> Result<(Vec<usize>, Vec<Vec<usize>>), TensorError> {
        let &[batch, height, width, channels] = shape else {
            return Err(TensorError::Geometry {
                reason: format!("adaptive pooling reads NHWC batches, got {shape:?}"),
            });
        };
        let [out_height, out_width] = self.output.map(extent);
        let rows = bins(height as u64, out_height as u64);
        let columns = bins(width as u64, out_width as u64);
        let mut sources = Vec::new();
        for example in 0..batch {
            for &(top, bottom) in &rows {
                for &(left, right) in &columns {
                    for channel in 0..channels {
                        let mut cells = Vec::new();
                        for row in top as usize..bottom as usize {
                            for column in left as usize..right as usize {
                                cells.push(
                                    ((example * height + row) * width + column) * channels
                                        + channel,
                                );
                            }
                        }
                        sources.push(cells);
                    }
                }
            }
        }
        Ok((vec![batch, out_height, out_width, channels], sources))
    }
}

/// What max pooling keeps: the input offset of each output's maximum.
struct Chosen(Vec<usize>);

impl Layer for Adaptive {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        format!("to {}×{}", self.output[0], self.output[1])
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let output = Shape::new(vec![self.output[0], self.output[1], channels]);
        let links = height
            .checked_mul(width)
            .and_then(|area| area.checked_mul(channels))
            .and_then(|units| units.checked_mul(4));
        if links.is_none() || output.units().is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference::plain(output))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        let (height, width, channels) = inputs[0].maps().unwrap_or((0, 0, 0));
        let links = Expression::product(vec![
            Self::bin_sum(height, self.output[0]),
            Self::bin_sum(width, self.output[1]),
            Expression::Number(channels),
        ]);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        match inputs.first().and_then(Shape::maps) {
            Some((height, width, _))
                if height.is_multiple_of(self.output[0])
                    && width.is_multiple_of(self.output[1]) =>
            {
                let kernel = Axes::from([height / self.output[0], width / self.output[1]]);
                ReceptiveStep::Window(Window {
                    kernel,
                    stride: kernel,
                    dilation: Axes::from([1, 1]),
                    padding_before: Axes::from([0, 0]),
                })
            }
            _ => ReceptiveStep::Uneven,
        }
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
        _: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (shape, sources) = self.sources(input.shape())?;
        let values = input.data();
        let mut output = Vec::with_capacity(sources.len());
        let mut chosen = Vec::new();
        for cells in &sources {
            if self.max {
                let best = cells.iter().copied().fold(cells[0], |best, at| {
                    if values[at] > values[best] { at } else { best }
                });
                chosen.push(best);
                output.push(values[best]);
            } else {
                let sum: f32 = cells.iter().map(|&at| values[at]).sum();
                output.push(sum / cells.len() as f32);
            }
        }
        Ok(Forward {
            output: Tensor::from_vec(&shape, output)?,
            saved: Box::new(Chosen(chosen)),
        })
    }

    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        same_shape("the output gradient", output_gradient, &forward.output)?;
        let (_, sources) = self.sources(input.shape())?;
        let mut gradient = Tensor::zeros(input.shape())?;
        let target = gradient.data_mut();
        if self.max {
            let Chosen(chosen) =
                forward
                    .saved
                    .downcast_ref::<Chosen>()
                    .ok_or_else(|| TensorError::Geometry {
                        reason: "adaptive max pooling needs its own forward pass".to_string(),
                    })?;
            for (&at, &value) in chosen.iter().zip(output_gradient.data()) {
                target[at] += value;
            }
        } else {
            for (cells, &value) in sources.iter().zip(output_gradient.data()) {
                let share = value / cells.len() as f32;
                for &at in cells {
                    target[at] += share;
                }
            }
        }
        Ok(Gradients {
            inputs: vec![gradient],
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::bins;
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients_with, run_forward,
    };
    use crate::tensor::Tensor;

    /// PyTorch's bins: start ⌊i·in/out⌋, end ⌈(i+1)·in/out⌉. For 5 → 3 they are [0, 2), [1, 4),
    /// [3, 5); 7 → 7 the identity; 10 → 4 [0, 3), [2, 5), [5, 8), [7, 10).
    #[test]
    fn bins_follow_pytorch() {
        assert_eq!(bins(5, 3), vec![(0, 2), (1, 4), (3, 5)]);
        assert_eq!(bins(7, 7), (0..7).map(|i| (i, i + 1)).collect::<Vec<_>>());
        assert_eq!(bins(10, 4), vec![(0, 3), (2, 5), (5, 8), (7, 10)]);
    }

    #[test]
    fn counts_follow_the_bins() {
        // torchvision's ResNet: AdaptiveAvgPool2d((1, 1)) on 7×7×512; VGG: (7, 7) on 7×7×512.
        check(
            "adaptive_avgpool 1",
            &[&[7, 7, 512]],
            "[1×1×512]",
            "0",
            "7·7·512 = 25088",
            "7·7·512 = 25088",
        );
        check_details(
            "adaptive_avgpool 7",
            &[&[14, 14, 512]],
            "to 7×7",
            [0, 0],
            "0",
            "window 2x2 stride 2x2 dilation 1x1 before 0x0",
        );
        check(
            "adaptive_maxpool 3",
            &[&[5, 5, 2]],
            "[3×3×2]",
            "0",
            "(2+3+2)·(2+3+2)·2 = 98",
            "(2+3+2)·(2+3+2)·2 = 98",
        );
        check_details(
            "adaptive_maxpool 3",
            &[&[5, 5, 2]],
            "to 3×3",
            [0, 0],
            "0",
            "uneven",
        );
        check_error(
            "adaptive_avgpool",
            &[&[5, 5, 2]],
            "`adaptive_avgpool` needs the attribute `output_size`",
        );
    }

    /// On 5 values pooled to 3, the middle output averages inputs 1, 2 and 3 (the bins overlap).
    #[test]
    fn uneven_bins_overlap() {
        let input = Tensor::from_vec(&[1, 1, 5, 1], vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let output = run_forward("adaptive_avgpool 1x3", &mut [], &[&input], false).output;
        assert_eq!(output.data(), &[1.5, 3.0, 4.5]);
        let output = run_forward("adaptive_maxpool 1x3", &mut [], &[&input], false).output;
        assert_eq!(output.data(), &[2.0, 4.0, 5.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random maps and output sizes.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            maps in crate::layers::testing::small_maps(),
            output in (1u64..4, 1u64..4),
            max in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let kind = if max { "adaptive_maxpool" } else { "adaptive_avgpool" };
            let line = format!("{kind} {}x{}", output.0, output.1);
            check_gradients_with(&line, &[maps.as_slice()], 2, Values { seed, distinct: true });
        }
    }
}

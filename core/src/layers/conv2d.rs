//! `conv2d`: 2-D convolution over H×W×C maps, with stride, padding, dilation, groups (depthwise
//! when groups = input channels), an optional bias, and an optional connection table between input
//! and output maps (LeCun et al. 1998, Table I: C3 reads 3, 4 or 6 of S2's 6 maps).
//!
//! The same code runs `conv1d` (`conv1d.rs`) over L×C sequences: its window has one axis, and a
//! sequence `[N, L, C]` runs through the kernels as maps `[N, 1, L, C]` of one row (the same values
//! in the same order) with a 1×k kernel.
//!
//! Executed, it is `act(conv(x, W) + b)` through the kernels of `crate::tensor::convolution`
//! (direct tiles or im2col + GEMM, picked by the shape), with HWIO weights
//! `[KH, KW, C/groups, filters]` (`[K, C/groups, filters]` for `conv1d`). Padding is split as
//! the analysis splits it (`same`: the odd unit after). The connection table is a mask over the weights' last two axes: every forward
//! pass writes zeros into the unconnected weights (so they are exactly zero whatever initialised
//! or loaded them), the kernels ignore them, and their gradient is zero.

use super::geometry::{DefaultStride, WindowSpec};
use super::pooling::batch_shape;
use super::sizes::{extent, one, split_parameters};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, activation,
    single_positions,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::convolution::{
    Conv2dGeometry, ConvBackward, ConvGradients, conv2d_backward, conv2d_forward,
};
use crate::tensor::pointwise::Pointwise;
use crate::tensor::{Compute, Nhwc, Padding, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "conv2d",
    aliases: &["conv", "convolution"],
    positionals: &["filters", "kernel"],
    summary: "2-D convolution: filters, kernel, stride, padding, dilation, groups, use_bias, table, activation",
    build,
};

/// A convolution over feature maps (a window over 2 axes) or sequences (1 axis).
#[derive(Debug)]
pub(crate) struct Conv2d {
    filters: u64,
    window: WindowSpec,
    groups: u64,
    use_bias: bool,
    /// `table[i][j]`: input map `i` feeds output map `j`.
    table: Option<Vec<Vec<bool>>>,
    activation: Option<Activation>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    build_over(reader, 2)
}

/// Reads a convolution whose window slides over `axes` position axes (2: maps, 1: sequences).
pub(crate) fn build_over(
    reader: &mut AttributeReader,
    axes: usize,
) -> Result<Box<dyn Layer>, DeclarationError> {
    let filters = reader.required_count("filters")?;
    let window = WindowSpec::read(reader, "kernel", DefaultStride::One, true, axes)?;
    let groups = reader.count("groups")?.unwrap_or(1);
    let use_bias = reader.boolean("use_bias")?.unwrap_or(true);
    let table = reader.grid("table")?;
    if let (Some(_), true) = (&table, groups != 1) {
        let value = reader.value("table").expect("read above");
        return Err(reader.invalid("table", value, "cannot be combined with groups"));
    }
    let activation = Activation::read(reader, "activation")?;
    Ok(Box::new(Conv2d {
        filters,
        window,
        groups,
        use_bias,
        table,
        activation,
    }))
}

impl Conv2d {
    /// Output maps grouped by how many input maps they read: (number of maps, inputs each),
    /// in order of first appearance.
    fn fan_in_groups(&self, channels: u64) -> Vec<(u64, u64)> {
        match &self.table {
            None => vec![(self.filters, channels / self.groups)],
            Some(table) => {
                let mut groups: Vec<(u64, u64)> = Vec::new();
                for output in 0..self.filters as usize {
                    let reads = table.iter().filter(|row| row[output]).count() as u64;
                    match groups.iter_mut().find(|(_, inputs)| *inputs == reads) {
                        Some((maps, _)) => *maps += 1,
                        None => groups.push((1, reads)),
                    }
                }
                groups
            }
        }
    }

    /// The connection table as the kernels' mask, `[input maps, filters]` row-major.
    fn mask(&self) -> Option<Vec<bool>> {
        self.table
            .as_ref()
            .map(|table| table.iter().flatten().copied().collect())
    }

    /// The batch as the kernels' maps: NHWC, or a batch of sequences `[N, L, C]` as `[N, 1, L, C]`.
    fn maps_of(&self, input: &Tensor) -> Result<Nhwc, TensorError> {
        match (self.window.kernel.len(), input.shape()) {
            (1, &[batch, length, channels]) => Ok(Nhwc::new(batch, 1, length, channels)),
            _ => input.nhwc(),
        }
    }

    /// The kernels' geometry for a batch of `input` maps: padding before as the analysis has it,
    /// the rest after, plus what the layer's own `rounding=ceil` needs for its last window. A
    /// window over one axis is a 1×k window on maps one row high.
    fn geometry(&self, input: Nhwc) -> Result<Conv2dGeometry, TensorError> {
        let one_axis = self.window.kernel.len() == 1;
        let sizes = if one_axis {
            vec![input.width as u64]
        } else {
            vec![input.height as u64, input.width as u64]
        };
        let rounding = self.window.rounding.unwrap_or(Rounding::Floor);
        let (outputs, _) =
            self.window
                .output(&sizes, rounding)
                .map_err(|error| TensorError::Geometry {
                    reason: error.to_string(),
                })?;
        let before = self.window.padding_before(&sizes);
        let mut after = vec![0u64; sizes.len()];
        for axis in 0..sizes.len() {
            let total = self.window.total_padding(axis, sizes[axis]);
            let reach = (outputs[axis].saturating_sub(1))
                .saturating_mul(self.window.stride[axis])
                .saturating_add(self.window.effective_kernel(axis));
            let needed = reach.saturating_sub(sizes[axis].saturating_add(before[axis]));
            after[axis] = needed.max(total.saturating_sub(before[axis]));
        }
        // The kernels' two axes: (height, width), with height 1 for a window over one axis.
        let two = |values: &[u64], first: u64| match *values {
            [length] => (extent(first), extent(length)),
            [height, width, ..] => (extent(height), extent(width)),
            [] => (extent(first), extent(first)),
        };
        let (before_y, before_x) = two(&before, 0);
        let (after_y, after_x) = two(&after, 0);
        let padding = Padding::new(before_y, after_y, before_x, after_x);
        let (kernel_height, kernel_width) = two(&self.window.kernel, 1);
        let (stride_y, stride_x) = two(&self.window.stride, 1);
        let (dilation_y, dilation_x) = two(&self.window.dilation, 1);
        let geometry =
            Conv2dGeometry::new(input, extent(self.filters), (kernel_height, kernel_width))
                .with_stride((stride_y, stride_x))
                .with_padding(padding)
                .with_dilation((dilation_y, dilation_x))
                .with_groups(extent(self.groups));
        Ok(match self.mask() {
            Some(mask) => geometry.with_mask(mask),
            None => geometry,
        })
    }

    /// The kernel's factors, one per axis (`5·5`, or `3` for a 1-D window).
    fn kernel_area(&self) -> Vec<Expression> {
        self.window
            .kernel
            .iter()
            .map(|&k| Expression::Number(k))
            .collect()
    }
}

impl Layer for Conv2d {
    fn settings(&self) -> String {
        let mut text = self.window.settings();
        text.insert_str(
            text.find(", S=").unwrap_or(text.len()),
            &format!(", K={}", self.filters),
        );
        if self.groups != 1 {
            text.push_str(&format!(", G={}", self.groups));
        }
        if self.table.is_some() {
            text.push_str(", table");
        }
        if !self.use_bias {
            text.push_str(", no bias");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn caption(&self) -> super::Caption {
        let mut text = self.window.caption(false);
        text.insert_str(
            text.find(',').unwrap_or(text.len()),
            &format!(", {}", self.filters),
        );
        if self.groups != 1 {
            text.push_str(&format!(", groups {}", self.groups));
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        super::Caption {
            settings: text,
            table: self.table.clone(),
        }
    }

    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError> {
        let (positions, channels) = single_positions(inputs, self.window.kernel.len())?;
        if channels % self.groups != 0 || !self.filters.is_multiple_of(self.groups) {
            return Err(ShapeError::Mismatch(format!(
                "groups={} must divide both the input channels ({channels}) and the filters ({})",
                self.groups, self.filters
            )));
        }
        if let Some(table) = &self.table {
            let columns = table.first().map_or(0, Vec::len) as u64;
            if table.len() as u64 != channels || columns != self.filters {
                return Err(ShapeError::Mismatch(format!(
                    "the connection table is {}×{} but must be {channels}×{} (input maps × filters)",
                    table.len(),
                    columns,
                    self.filters
                )));
            }
        }
        let (sizes, formulas) = self.window.output(positions, rounding)?;
        let output = Shape::new(sizes.iter().copied().chain([self.filters]).collect());
        let weights: Vec<u64> = self
            .window
            .kernel
            .iter()
            .copied()
            .chain([channels, self.filters])
            .collect();
        if output.units().is_none()
            || weights
                .iter()
                .try_fold(1u64, |a, &b| a.checked_mul(b))
                .is_none()
        {
            return Err(ShapeError::Overflow("the layer's size".to_string()));
        }
        Ok(Inference { output, formulas })
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let channels = inputs[0].channels();
        if self.table.is_some() {
            // The sheet's per-group form: 6·(5·5·3+1)+9·(5·5·4+1)+1·(5·5·6+1).
            let terms = self
                .fan_in_groups(channels)
                .into_iter()
                .map(|(maps, reads)| {
                    let mut per_map = Expression::product(
                        self.kernel_area()
                            .into_iter()
                            .chain([Expression::Number(reads)])
                            .collect(),
                    );
                    if self.use_bias {
                        per_map = Expression::sum(vec![per_map, Expression::Number(1)]);
                    }
                    Expression::product(vec![Expression::Number(maps), per_map])
                })
                .collect();
            let name = if self.use_bias {
                "weights and bias"
            } else {
                "weights"
            };
            return vec![ParameterGroup {
                name,
                count: Expression::sum(terms),
                trainable: true,
                buffer: false,
            }];
        }
        let mut weights = self.kernel_area();
        weights.extend([
            Expression::Number(channels / self.groups),
            Expression::Number(self.filters),
        ]);
        let mut groups = vec![ParameterGroup {
            name: "weights",
            count: Expression::product(weights),
            trainable: true,
            buffer: false,
        }];
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: Expression::Number(self.filters),
                trainable: true,
                buffer: false,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections {
        let channels = inputs[0].channels();
        let positions = output.positions();
        let per_group = |maps: u64, reads: u64, bias: bool| {
            let mut fan_in = Expression::product(
                self.kernel_area()
                    .into_iter()
                    .chain([Expression::Number(reads)])
                    .collect(),
            );
            if bias {
                fan_in = Expression::sum(vec![fan_in.simplified(), Expression::Number(1)]);
            }
            Expression::product(
                positions
                    .iter()
                    .chain([&maps])
                    .map(|&n| Expression::Number(n))
                    .chain([fan_in])
                    .collect(),
            )
            .simplified()
        };
        let count = |bias: bool| {
            let terms: Vec<Expression> = self
                .fan_in_groups(channels)
                .into_iter()
                .map(|(maps, reads)| per_group(maps, reads, bias))
                .collect();
            Expression::sum(terms).simplified()
        };
        Connections {
            without_bias: count(false),
            with_bias: count(self.use_bias),
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        self.window.receptive_step(inputs[0].positions())
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.connections(inputs, output).without_bias
    }

    /// HWIO weights `[KH, KW, C/groups, filters]` (`[K, C/groups, filters]` over one axis), then
    /// the bias `[filters]` when there is one.
    /// Fan-in and fan-out as Keras computes them from the kernel's shape: `KH·KW·C/groups` and
    /// `KH·KW·filters`. With a connection table, only connected weights count: the fan-in is the
    /// connected weights per filter and the fan-out per input map, each averaged over the maps and
    /// rounded to the nearest integer (C3: 25·60/16 ≈ 94 and 25·60/6 = 250).
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let channels = inputs.first().map_or(0, Shape::channels);
        let per_group = extent(channels.checked_div(self.groups).unwrap_or(0));
        let kernel: Vec<usize> = self.window.kernel.iter().map(|&k| extent(k)).collect();
        let area = kernel.iter().fold(1usize, |a, &k| a.saturating_mul(k));
        let filters = extent(self.filters);
        let (active, fan_in, fan_out) = match &self.table {
            None => (
                area.saturating_mul(per_group).saturating_mul(filters),
                area.saturating_mul(per_group),
                area.saturating_mul(filters),
            ),
            Some(table) => {
                let connected = area.saturating_mul(table.iter().flatten().filter(|&&c| c).count());
                let average = |count: usize| {
                    connected
                        .saturating_add(count / 2)
                        .checked_div(count)
                        .unwrap_or(0)
                        .max(1)
                };
                (connected, average(filters), average(extent(channels)))
            }
        };
        let mut specs = vec![ParameterSpec {
            name: "weights",
            shape: kernel.iter().copied().chain([per_group, filters]).collect(),
            trainable: true,
            active,
            role: Role::Weights { fan_in, fan_out },
            // HWIO: the table's [input map, filter] pattern repeats at every kernel position.
            mask: self.mask().map(|pattern| {
                pattern
                    .iter()
                    .copied()
                    .cycle()
                    .take(pattern.len().saturating_mul(area))
                    .collect()
            }),
        }];
        if self.use_bias {
            specs.push(ParameterSpec::bias(filters));
        }
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let geometry = self.geometry(self.maps_of(input)?)?;
        if let (Some(mask), Some(weights)) = (&geometry.mask, parameters.first_mut()) {
            // The mask repeats over the kernel taps: weight index mod (C·filters).
            for (weight, &connected) in weights.data_mut().iter_mut().zip(mask.iter().cycle()) {
                if !connected {
                    *weight = 0.0;
                }
            }
        }
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
        let mut output = Tensor::for_overwrite(&batch_shape(&self.window, geometry.output()?))?;
        // Elementwise activations are applied as the kernel stores its output; softmax and the
        // functions differentiated from their input after, keeping that input.
        let fused = activation::fused(self.activation);
        conv2d_forward(
            &geometry,
            input.data(),
            weights.data(),
            bias.map(Tensor::data),
            fused.unwrap_or(Pointwise::Identity),
            output.data_mut(),
            pass.compute,
        )?;
        let (output, kept) = match fused {
            Some(_) => (output, None),
            None => {
                let kept = activation::keep_input(self.activation, &output);
                let output = activation::apply(self.activation, output, pass.compute)?;
                (output, kept)
            }
        };
        Ok(Forward {
            output,
            saved: Box::new(kept),
        })
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        self.backward_pass(parameters, inputs, forward, output_gradient, compute, true)
    }

    fn backward_parameters(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        self.backward_pass(parameters, inputs, forward, output_gradient, compute, false)
    }
}

impl Conv2d {
    /// The backward pass, with the input gradient (backward-data) or without it.
    fn backward_pass(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
        with_input_gradient: bool,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let geometry = self.geometry(self.maps_of(input)?)?;
        let (weights, bias) = split_parameters(parameters, self.use_bias)?;
        // Elementwise activations are undone inside the kernels, from the output; softmax and
        // the functions differentiated from their (kept) input here.
        let (gradient, activation) = match activation::fused(self.activation) {
            Some(function) => (
                std::borrow::Cow::Borrowed(output_gradient),
                Some((forward.output.data(), function)),
            ),
            None => {
                let kept = forward
                    .saved
                    .downcast_ref::<Option<Tensor>>()
                    .and_then(Option::as_ref);
                let gradient = activation::gradient(
                    self.activation,
                    kept,
                    &forward.output,
                    output_gradient,
                    compute,
                )?;
                (gradient, None)
            }
        };
        let mut input_gradient = if with_input_gradient {
            Some(Tensor::for_overwrite(input.shape())?)
        } else {
            None
        };
        let mut weight_gradient = Tensor::zeros(weights.shape())?;
        let mut bias_gradient = bias.map(|bias| Tensor::zeros(bias.shape())).transpose()?;
        conv2d_backward(
            &geometry,
            ConvBackward {
                input: input.data(),
                weights: weights.data(),
                output_gradient: gradient.data(),
                activation,
            },
            ConvGradients {
                input: input_gradient.as_mut().map(Tensor::data_mut),
                weights: weight_gradient.data_mut(),
                bias: bias_gradient.as_mut().map(Tensor::data_mut),
            },
            compute,
        )?;
        Ok(Gradients {
            inputs: input_gradient.into_iter().collect(),
            parameters: std::iter::once(weight_gradient)
                .chain(bias_gradient)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes, strides, paddings,
        /// dilations, groups and bias settings.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            (height, width, channels, kernel, stride, padding) in crate::layers::testing::window_cases(),
            dilation in 1u64..3,
            filters_per_group in 1u64..3,
            grouped in proptest::bool::ANY,
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let groups = if grouped { channels } else { 1 };
            let line = format!(
                "conv2d {} {kernel} stride={stride} padding={padding} dilation={dilation} groups={groups} use_bias={use_bias} rounding=floor",
                filters_per_group * groups
            );
            // The dilated window spans (dilation−1)·(kernel−1) more cells.
            let spread = (dilation - 1) * (kernel - 1);
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with(
                &line,
                &[&[height + spread, width + spread, channels]],
                2,
                values,
            );
        }

        /// Backward agrees with finite differences under random connection tables (the C3
        /// mask): unconnected weights stay out of the output and get no gradient.
        #[test]
        fn connection_tables_match_finite_differences_on_random_shapes(
            table in proptest::collection::vec(proptest::collection::vec(proptest::bool::ANY, 1..5), 2..5),
            (height, width) in (2u64..5, 2u64..5),
            kernel in 1u64..3,
            use_bias in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            let filters = table[0].len();
            let rows: Vec<String> = table
                .iter()
                .map(|row| (0..filters).map(|j| if *row.get(j).unwrap_or(&false) { 'X' } else { '.' }).collect())
                .collect();
            let line = format!(
                "conv2d {filters} {kernel} table={} use_bias={use_bias}",
                rows.join("/")
            );
            let values = crate::layers::testing::Values { seed, distinct: false };
            crate::layers::testing::check_gradients_with(
                &line,
                &[&[height, width, table.len() as u64]],
                2,
                values,
            );
        }
    }

    use crate::layers::testing::{check, check_error, check_gradients, declaration};

    /// LeCun et al. 1998, Table I, as printed in exercise sheet 5.
    const C3_TABLE: &str = "table=X...XXX..XXXX.XX/XX...XXX..XXXX.X/XXX...XXX..X.XXX/.XXX..XXXX..X.XX/..XXX..XXXX.XX.X/...XXX..XXXX.XXX";

    #[test]
    fn lenet_counts_match_the_sheet() {
        check(
            "conv2d 6 5",
            &[&[32, 32, 1]],
            "[28×28×6]",
            "5·5·1·6+6 = 156",
            "28·28·6·5·5 = 117600",
            "28·28·6·(5·5+1) = 122304",
        );
        check(
            "conv2d 16 5",
            &[&[14, 14, 6]],
            "[10×10×16]",
            "5·5·6·16+16 = 2416",
            "10·10·16·5·5·6 = 240000",
            "10·10·16·(5·5·6+1) = 241600",
        );
        check(
            "conv2d 120 5x5",
            &[&[5, 5, 16]],
            "[1×1×120]",
            "5·5·16·120+120 = 48120",
            "120·5·5·16 = 48000",
            "120·(5·5·16+1) = 48120",
        );
    }

    #[test]
    fn the_c3_table_counts_per_group_of_maps() {
        let line = format!("conv2d 16 5 {C3_TABLE}");
        check(
            &line,
            &[&[14, 14, 6]],
            "[10×10×16]",
            "6·(5·5·3+1)+9·(5·5·4+1)+1·(5·5·6+1) = 1516",
            "10·10·6·5·5·3+10·10·9·5·5·4+10·10·5·5·6 = 150000",
            "10·10·6·(5·5·3+1)+10·10·9·(5·5·4+1)+10·10·(5·5·6+1) = 151600",
        );
    }

    #[test]
    fn alexnet_rows_match_the_sheet() {
        check(
            "conv2d 96 11 stride=4",
            &[&[227, 227, 3]],
            "[55×55×96]",
            "11·11·3·96+96 = 34944",
            "55·55·96·11·11·3 = 105415200",
            "55·55·96·(11·11·3+1) = 105705600",
        );
        check(
            "conv2d 256 5 padding=2",
            &[&[27, 27, 96]],
            "[27×27×256]",
            "5·5·96·256+256 = 614656",
            "27·27·256·5·5·96 = 447897600",
            "27·27·256·(5·5·96+1) = 448084224",
        );
        // The 2012 paper's two towers: each filter reads half of the maps.
        check(
            "conv2d 256 5 padding=2 groups=2",
            &[&[27, 27, 96]],
            "[27×27×256]",
            "5·5·48·256+256 = 307456",
            "27·27·256·5·5·48 = 223948800",
            "27·27·256·(5·5·48+1) = 224135424",
        );
    }

    #[test]
    fn depthwise_dilated_and_biasless() {
        check(
            "conv2d 32 3 groups=32 padding=same",
            &[&[8, 8, 32]],
            "[8×8×32]",
            "3·3·1·32+32 = 320",
            "8·8·32·3·3 = 18432",
            "8·8·32·(3·3+1) = 20480",
        );
        check(
            "conv2d 4 3 dilation=2",
            &[&[9, 9, 1]],
            "[5×5×4]",
            "3·3·1·4+4 = 40",
            "5·5·4·3·3 = 900",
            "5·5·4·(3·3+1) = 1000",
        );
        check(
            "conv2d 4 3 use_bias=false",
            &[&[5, 5, 2]],
            "[3×3×4]",
            "3·3·2·4 = 72",
            "3·3·4·3·3·2 = 648",
            "3·3·4·3·3·2 = 648",
        );
    }

    #[test]
    fn impossible_settings_are_errors() {
        check_error(
            "conv2d 16 5",
            &[&[4, 4, 6]],
            "the height of the window (5) is larger than the padded input (4)",
        );
        check_error(
            "conv2d 96 11 stride=4",
            &[&[224, 224, 3]],
            "the output height `(224-11)/4+1 = 54.25` is not a whole number",
        );
        check_error(
            "conv2d 10 3 groups=3",
            &[&[8, 8, 6]],
            "groups=3 must divide both the input channels (6) and the filters (10)",
        );
        check_error(
            "conv2d 16 5",
            &[&[784]],
            "expects feature maps H×W×C, got 784",
        );
        check_error(
            "conv2d 0 5",
            &[&[8, 8, 1]],
            "`filters` must be a positive integer, got 0",
        );
        check_error(
            "conv2d 2 5 table=X./X.",
            &[&[8, 8, 6]],
            "the connection table is 2×2 but must be 6×2 (input maps × filters)",
        );
        check_error(
            "conv2d 6 5 kernal=3",
            &[&[8, 8, 1]],
            "`conv2d` has no attribute `kernal`",
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients("conv2d 3 3", &[&[5, 5, 2]], 2);
        check_gradients("conv2d 2 3x2 stride=2x1", &[&[7, 5, 2]], 2);
        check_gradients("conv2d 2 3 padding=1", &[&[4, 4, 3]], 2);
        check_gradients("conv2d 2 3 padding=1x0 use_bias=false", &[&[4, 4, 1]], 3);
        check_gradients("conv2d 3 3 dilation=2", &[&[7, 6, 1]], 2);
        check_gradients("conv2d 4 3 groups=2", &[&[5, 5, 4]], 2);
        check_gradients("conv2d 1 1", &[&[3, 3, 4]], 2);
    }

    #[test]
    fn same_padding_and_rounding_match_finite_differences() {
        // Stride 2 on 6: total padding 1, all of it after.
        check_gradients("conv2d 2 3 stride=2 padding=same", &[&[6, 6, 1]], 2);
        // An even kernel: total padding 3, one before and two after.
        check_gradients("conv2d 2 4 padding=same", &[&[5, 5, 2]], 2);
        // Depthwise.
        check_gradients("conv2d 3 3 groups=3 padding=same", &[&[4, 4, 3]], 2);
        // (6-3)/2+1 = 2.5: floor drops the last column, ceil pads one more after.
        check_gradients("conv2d 2 3 stride=2", &[&[6, 6, 1]], 2);
        check_gradients("conv2d 2 3 stride=2 rounding=ceil", &[&[6, 6, 1]], 2);
    }

    #[test]
    fn activations_match_finite_differences() {
        // Every function: the elementwise ones the kernels fuse (relu, tanh, scaled_tanh,
        // sigmoid, linear) and the ones applied after them (softmax, and those differentiated
        // from their kept input: gelu, silu, …).
        for function in super::Activation::NAMES {
            let line = format!("conv2d 3 2 activation={function}");
            check_gradients(&line, &[&[4, 4, 2]], 2);
        }
    }

    #[test]
    fn connection_tables_match_finite_differences() {
        check_gradients("conv2d 3 3 table=X.X/XX./.XX", &[&[5, 5, 3]], 2);
        let line = format!("conv2d 16 5 {C3_TABLE}");
        check_gradients(&line, &[&[10, 10, 6]], 2);
        check_gradients(&format!("{line} use_bias=false"), &[&[9, 9, 6]], 1);
    }

    #[test]
    fn c3_specs_count_the_connected_weights() {
        let mut decl = declaration(&format!("conv2d 16 5 {C3_TABLE}"));
        crate::layers::name_positionals(&mut decl).unwrap();
        let layer = crate::layers::build(&decl).unwrap();
        let specs = layer.parameter_specs(&[crate::shape::Shape::new(vec![14, 14, 6])]);
        assert_eq!(specs[0].shape, vec![5, 5, 6, 16]);
        assert_eq!(specs[0].active, 1500);
        assert_eq!(
            specs[0].role,
            crate::layers::Role::Weights {
                fan_in: 94,
                fan_out: 250
            }
        );
        assert_eq!((specs[1].shape.clone(), specs[1].active), (vec![16], 16));
    }

    #[test]
    fn unconnected_weights_are_zeroed_ignored_and_get_no_gradient() {
        use crate::layers::Pass;
        use crate::tensor::{Compute, Tensor};
        use rand_chacha::ChaCha8Rng;
        use rand_chacha::rand_core::SeedableRng;
        let mut decl = declaration("conv2d 2 1 table=X./.X use_bias=false");
        crate::layers::name_positionals(&mut decl).unwrap();
        let layer = crate::layers::build(&decl).unwrap();
        // Weights [1, 1, 2, 2]: (input 0 → filter 1) and (input 1 → filter 0) are unconnected.
        let mut parameters =
            vec![Tensor::from_vec(&[1, 1, 2, 2], vec![2.0, 5.0, 7.0, 3.0]).unwrap()];
        let input = Tensor::from_vec(&[1, 1, 1, 2], vec![1.0, 10.0]).unwrap();
        let mut random = ChaCha8Rng::seed_from_u64(0);
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut random,
        };
        let forward = layer
            .forward(&mut parameters, &[&input], &mut pass)
            .unwrap();
        assert_eq!(parameters[0].data(), &[2.0, 0.0, 0.0, 3.0]);
        assert_eq!(forward.output.data(), &[2.0, 30.0]);
        let gradient = Tensor::from_vec(&[1, 1, 1, 2], vec![1.0, 1.0]).unwrap();
        let gradients = layer
            .backward(
                &parameters,
                &[&input],
                &forward,
                &gradient,
                Compute::single(),
            )
            .unwrap();
        assert_eq!(gradients.parameters[0].data(), &[1.0, 0.0, 0.0, 10.0]);
        assert_eq!(gradients.inputs[0].data(), &[2.0, 3.0]);
    }

    /// Runs `line` with all weights 1 and no bias on one image holding 1, 2, 3, … row by row.
    fn ones_filter_output(line: &str, size: usize) -> crate::tensor::Tensor {
        use crate::layers::Pass;
        use crate::tensor::{Compute, Tensor};
        use rand_chacha::ChaCha8Rng;
        use rand_chacha::rand_core::SeedableRng;
        let mut decl = declaration(line);
        crate::layers::name_positionals(&mut decl).unwrap();
        let layer = crate::layers::build(&decl).unwrap();
        let shape = crate::shape::Shape::new(vec![size as u64, size as u64, 1]);
        let spec = &layer.parameter_specs(&[shape])[0];
        let mut parameters = vec![Tensor::full(&spec.shape, 1.0).unwrap()];
        let values = (1..=size * size).map(|v| v as f32).collect();
        let input = Tensor::from_vec(&[1, size, size, 1], values).unwrap();
        let mut random = ChaCha8Rng::seed_from_u64(0);
        let mut pass = Pass {
            compute: Compute::single(),
            training: false,
            random: &mut random,
        };
        layer
            .forward(&mut parameters, &[&input], &mut pass)
            .unwrap()
            .output
    }

    #[test]
    fn same_padding_puts_the_odd_unit_after() {
        // 2×2 window on 3×3: one unit of padding, after (bottom, right), as Keras does.
        // Input rows 1 2 3 / 4 5 6 / 7 8 9.
        let output = ones_filter_output("conv2d 1 2 padding=same use_bias=false", 3);
        assert_eq!(output.shape(), &[1, 3, 3, 1]);
        assert_eq!(
            output.data(),
            &[12.0, 16.0, 9.0, 24.0, 28.0, 15.0, 15.0, 17.0, 9.0]
        );
    }

    #[test]
    fn ceil_rounding_pads_the_last_window_after() {
        // 2×2 windows, stride 2 on 3×3: ⌈(3-2)/2⌉+1 = 2, the second window half in padding.
        let output = ones_filter_output("conv2d 1 2 stride=2 rounding=ceil use_bias=false", 3);
        assert_eq!(output.shape(), &[1, 2, 2, 1]);
        assert_eq!(output.data(), &[12.0, 9.0, 15.0, 9.0]);
        let output = ones_filter_output("conv2d 1 2 stride=2 rounding=floor use_bias=false", 3);
        assert_eq!(output.data(), &[12.0]);
    }
    /// A description built in code may hold a table whose rows differ in length (the readers
    /// refuse one); the layer once indexed past the end of a short row.
    #[test]
    fn a_ragged_connection_table_is_an_error_not_a_panic() {
        let mut decl = crate::layers::testing::declaration("conv2d 2 3");
        decl.attributes.push(crate::syntax::Attribute::new(
            "table",
            crate::syntax::Value::Grid(vec![vec![true, true], vec![true]]),
        ));
        crate::layers::name_positionals(&mut decl).expect("positionals");
        let error = crate::layers::build(&decl).expect_err("a ragged table");
        assert_eq!(
            error.to_string(),
            "`table` must be a table of X and . rows of one length, got a connection table"
        );
    }
}

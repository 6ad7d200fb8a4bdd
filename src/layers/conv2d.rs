//! `conv2d`: 2-D convolution over H×W×C maps, with stride, padding, dilation, groups (depthwise
//! when groups = input channels), an optional bias, and an optional connection table between input
//! and output maps (LeCun et al. 1998, Table I: C3 reads 3, 4 or 6 of S2's 6 maps).

use super::geometry::{DefaultStride, WindowSpec};
use super::{
    Activation, AttributeReader, Connections, DeclarationError, Inference, Kind, Layer,
    ParameterGroup, ReceptiveStep, ShapeError, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "conv2d",
    aliases: &["conv", "convolution"],
    positionals: &["filters", "kernel"],
    summary: "2-D convolution: filters, kernel, stride, padding, dilation, groups, use_bias, table, activation",
    build,
};

#[derive(Debug)]
struct Conv2d {
    filters: u64,
    window: WindowSpec,
    groups: u64,
    use_bias: bool,
    /// `table[i][j]`: input map `i` feeds output map `j`.
    table: Option<Vec<Vec<bool>>>,
    activation: Option<Activation>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let filters = reader.required_count("filters")?;
    let window = WindowSpec::read(reader, "kernel", DefaultStride::One, true)?;
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

    fn kernel_area(&self) -> Vec<Expression> {
        vec![
            Expression::Number(self.window.kernel[0]),
            Expression::Number(self.window.kernel[1]),
        ]
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

    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
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
        let ([out_height, out_width], formulas) = self.window.output(height, width, rounding)?;
        let output = Shape(vec![out_height, out_width, self.filters]);
        let weights = [
            self.window.kernel[0],
            self.window.kernel[1],
            channels,
            self.filters,
        ];
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
        }];
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: Expression::Number(self.filters),
                trainable: true,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections {
        let channels = inputs[0].channels();
        let (out_height, out_width, _) = output.maps().unwrap_or((0, 0, 0));
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
            Expression::product(vec![
                Expression::Number(out_height),
                Expression::Number(out_width),
                Expression::Number(maps),
                fan_in,
            ])
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
        let (height, width, _) = inputs[0].maps().unwrap_or((0, 0, 0));
        self.window.receptive_step(height, width)
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.connections(inputs, output).without_bias
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_error};

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

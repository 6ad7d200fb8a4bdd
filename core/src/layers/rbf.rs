//! `rbf`: LeNet-5's output layer of Euclidean radial basis function units (LeCun et al. 1998,
//! section II.B): output unit i computes Σ_j (x_j - w_ij)² over every input unit. Like `dense` it
//! reads any input shape as its units. The centres w were chosen by hand and kept fixed, so they
//! are `units·inputs` non-trainable parameters (LeNet-5: 84·10 = 840) and no trainable ones. Each
//! output unit has one link per input unit and no bias: `units·inputs` connections with and
//! without bias (840, the sheet's output-layer count without bias). MACs: one
//! subtract-square-accumulate per link, `units·inputs`.
//!
//! Execution: the centres are one `[inputs, units]` tensor (laid out like `dense` weights, column j
//! holding unit j's centre), drawn as ±1 codes and never trained (their gradient is zero). With
//! x the example's units flattened, y_j = Σ_i (x_i − c_ij)² = Σ_i x_i² − 2·(x·C)_j + Σ_i c_ij², and
//! ∂y_j/∂x_i = 2·(x_i − c_ij), so ∂L/∂x_i = 2·(x_i·Σ_j g_j − (g·Cᵀ)_i); both products run on the
//! matrix-multiply kernel.

use super::sizes::{batch_and_units, extent, one};
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::matmul::{Product, matmul};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "rbf",
    aliases: &["euclidean_rbf"],
    positionals: &["units"],
    summary: "LeNet-5's Euclidean RBF output units with fixed centres: units",
    build,
};

#[derive(Debug)]
struct Rbf {
    units: u64,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Rbf {
        units: reader.required_count("units")?,
    }))
}

impl Rbf {
    /// `units·inputs`, written with the input's axes: `10·84`.
    fn links(&self, inputs: &[Shape]) -> Expression {
        let fan_in = inputs.first().map_or(Expression::Number(0), |input| {
            units_formula(input).simplified()
        });
        Expression::product(vec![Expression::Number(self.units), fan_in])
    }
}

impl Layer for Rbf {
    fn settings(&self) -> String {
        format!("{} units, fixed centres", self.units)
    }

    fn caption(&self) -> super::Caption {
        super::Caption::text(self.units.to_string())
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        input
            .units()
            .and_then(|units| units.checked_mul(self.units))
            .ok_or_else(|| ShapeError::Overflow("the centre count".to_string()))?;
        Ok(Inference::plain(Shape::new(vec![self.units])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        vec![ParameterGroup {
            name: "centres",
            count: self.links(inputs),
            trainable: false,
            buffer: false,
        }]
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        let links = self.links(inputs);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
    }

    fn macs(&self, inputs: &[Shape], _: &Shape) -> Expression {
        self.links(inputs)
    }

    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let fan_in = inputs.first().and_then(Shape::units).unwrap_or(0);
        let units = self.units;
        vec![ParameterSpec {
            name: "centres",
            shape: vec![extent(fan_in), extent(units)],
            trainable: false,
            active: extent(fan_in.saturating_mul(units)),
            role: Role::Codes,
            mask: None,
        }]
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let input = one(inputs)?;
        let (batch, fan_in, units, centres) = sizes(parameters, input)?;
        let mut output = Tensor::zeros(&[batch, units])?;
        // −2·x·C, then the squared norms of x (per row) and of each centre (per column).
        matmul(
            &Product::new(batch, fan_in, units).scaled(-2.0),
            input.data(),
            centres.data(),
            output.data_mut(),
            pass.compute,
        )?;
        let mut centre_norms = vec![0.0f32; units];
        for row in centres.data().chunks_exact(units) {
            for (norm, &value) in centre_norms.iter_mut().zip(row) {
                *norm += value * value;
            }
        }
        let rows = output.data_mut().chunks_exact_mut(units);
        for (row, example) in rows.zip(input.data().chunks_exact(fan_in)) {
            let norm: f32 = example.iter().map(|&value| value * value).sum();
            for (value, &centre_norm) in row.iter_mut().zip(&centre_norms) {
                *value += norm + centre_norm;
            }
        }
        Ok(Forward::plain(output))
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let input = one(inputs)?;
        let (batch, fan_in, units, centres) = sizes(parameters, input)?;
        let mut input_gradient = Tensor::zeros(input.shape())?;
        // −2·g·Cᵀ, then 2·x_i·Σ_j g_j.
        matmul(
            &Product::new(batch, units, fan_in)
                .transposing_b()
                .scaled(-2.0),
            output_gradient.data(),
            centres.data(),
            input_gradient.data_mut(),
            compute,
        )?;
        let examples = input_gradient
            .data_mut()
            .chunks_exact_mut(fan_in)
            .zip(input.data().chunks_exact(fan_in));
        for ((gradient, example), upstream) in
            examples.zip(output_gradient.data().chunks_exact(units))
        {
            let total: f32 = upstream.iter().sum();
            for (value, &unit) in gradient.iter_mut().zip(example) {
                *value += 2.0 * unit * total;
            }
        }
        Ok(Gradients {
            inputs: vec![input_gradient],
            parameters: vec![Tensor::zeros(centres.shape())?],
        })
    }
}

/// The batch size, the units per example, the RBF units and the centres, checked against each
/// other.
fn sizes<'a>(
    parameters: &'a [Tensor],
    input: &Tensor,
) -> Result<(usize, usize, usize, &'a Tensor), TensorError> {
    let [centres] = parameters else {
        return Err(TensorError::Geometry {
            reason: format!("rbf needs one centre tensor, got {}", parameters.len()),
        });
    };
    let (batch, fan_in) = batch_and_units(input)?;
    match centres.shape() {
        &[rows, units] if rows == fan_in && units > 0 => Ok((batch, fan_in, units, centres)),
        shape => Err(TensorError::Geometry {
            reason: format!("rbf centres {shape:?} do not fit {fan_in} input units"),
        }),
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random sizes (the centres are fixed, so
        /// their gradient must be zero).
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            units in 1u64..6,
            shape in crate::layers::testing::small_shapes(),
            batch in 1usize..4,
            seed in proptest::num::u64::ANY,
        ) {
            let values = crate::layers::testing::Values { seed, distinct: false };
            let line = format!("rbf {units}");
            crate::layers::testing::check_gradients_with(&line, &[shape.as_slice()], batch, values);
        }
    }

    use crate::layers::testing::{check, check_details, check_error, check_gradients};

    #[test]
    fn lenet_output_layer() {
        // LeCun et al. 1998: 10 RBF units on F6's 84 outputs, 84·10 fixed parameters; the sheet
        // counts the output layer's 840 links without bias.
        check(
            "rbf 10",
            &[&[84]],
            "10",
            "10·84 = 840",
            "10·84 = 840",
            "10·84 = 840",
        );
        check_details(
            "euclidean_rbf 10",
            &[&[84]],
            "10 units, fixed centres",
            [0, 840],
            "10·84 = 840",
            "whole",
        );
        // Any shape is read as its units, as `dense` does.
        check(
            "rbf units=3",
            &[&[2, 2, 4]],
            "3",
            "3·2·2·4 = 48",
            "3·2·2·4 = 48",
            "3·2·2·4 = 48",
        );
    }

    #[test]
    fn bad_settings_and_inputs_are_errors() {
        check_error(
            "rbf 0",
            &[&[84]],
            "`units` must be a positive integer, got 0",
        );
        check_error("rbf", &[&[84]], "`rbf` needs the attribute `units`");
        check_error("rbf 10", &[&[84], &[84]], "takes exactly one input, got 2");
        check_error(
            "rbf 4294967296",
            &[&[4294967296, 2]],
            "the centre count does not fit in 64 bits",
        );
        check_error(
            "rbf 10 use_bias=true",
            &[&[84]],
            "`rbf` has no attribute `use_bias`",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("rbf 10", &[&[12]], 3);
        check_gradients("rbf 3", &[&[2, 2, 3]], 2);
        check_gradients("euclidean_rbf 1", &[&[5]], 4);
    }

    #[test]
    fn outputs_are_squared_distances_to_the_centres() {
        use crate::layers::testing::declaration;
        use crate::layers::{self, Pass};
        use crate::tensor::{Compute, Tensor};
        use rand_chacha::ChaCha8Rng;
        use rand_chacha::rand_core::SeedableRng;

        let mut decl = declaration("rbf 2");
        layers::name_positionals(&mut decl).unwrap();
        let layer = layers::build(&decl).unwrap();
        // Centres (1, −1, 1) and (−1, −1, 1), one per column.
        let centres = Tensor::from_vec(&[3, 2], vec![1.0, -1.0, -1.0, -1.0, 1.0, 1.0]).unwrap();
        let input = Tensor::from_vec(&[2, 3], vec![1.0, -1.0, 1.0, 0.0, 2.0, 0.5]).unwrap();
        let mut random = ChaCha8Rng::seed_from_u64(1);
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut random,
        };
        let output = layer
            .forward(&mut [centres], &[&input], &mut pass)
            .unwrap()
            .output;
        // (0, 0, 0)² → 0 and (2, 0, 0)² → 4; (−1, 3, −0.5)² → 10.25 and (1, 3, −0.5)² → 10.25.
        assert_eq!(output.shape(), &[2, 2]);
        assert_eq!(output.data(), &[0.0, 4.0, 10.25, 10.25]);
    }
}

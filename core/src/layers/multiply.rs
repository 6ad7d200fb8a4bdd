//! `multiply`: the elementwise product of two or more inputs of one shape (Keras `Multiply`,
//! `torch.mul`), the gate of Llama's SwiGLU feed-forward, down(silu(gate(x)) ⊙ up(x)). No
//! parameters. Connections are counted as `add` counts them: each output unit reads one unit
//! from each of its n inputs, `units·n` links, with and without bias (there is none). MACs: the
//! product of n values takes n−1 multiplications per unit, so `units·(n−1)`; `add` counts none,
//! as its work is additions only. (Counters differ here: fvcore and thop count one operation per
//! output element of a `mul`, ptflops none; netcalc counts the multiplications.) In the backward
//! pass input i receives the output gradient times the product of the other inputs.

use super::elementwise;
use super::sizes::same_shape;
use super::{
    AttributeReader, Connections, DeclarationError, Forward, Gradients, Inference, Kind, Layer,
    ParameterGroup, ParameterSpec, Pass, ReceptiveStep, ShapeError, units_formula, values,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "multiply",
    aliases: &["mul"],
    positionals: &[],
    summary: "elementwise product of two or more inputs of one shape (SwiGLU's gate)",
    build,
};

#[derive(Debug)]
struct Multiply;

fn build(_: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Multiply))
}

impl Layer for Multiply {
    fn settings(&self) -> String {
        String::new()
    }

    fn caption(&self) -> super::Caption {
        super::Caption::default()
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let first = elementwise::common_shape(inputs, "multiply")?;
        values(first)?;
        Ok(Inference::plain(first.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, inputs: &[Shape], output: &Shape) -> Connections {
        elementwise::connections(inputs, output)
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        let factors = inputs.len().saturating_sub(1) as u64;
        if factors == 1 {
            units_formula(output)
        } else {
            Expression::product(vec![units_formula(output), Expression::Number(factors)])
        }
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
        let [first, rest @ ..] = inputs else {
            return Err(TensorError::Geometry {
                reason: "multiply needs at least one input".to_string(),
            });
        };
        let mut output = (*first).clone();
        for input in rest {
            same_shape("an input of multiply", input, first)?;
            for (product, &value) in output.data_mut().iter_mut().zip(input.data()) {
                *product *= value;
            }
        }
        Ok(Forward::plain(output))
    }

    /// ∂x_i = ∂y ⊙ Π_{j≠i} x_j, each product formed directly (not y / x_i, which fails at 0).
    fn backward(
        &self,
        _: &[Tensor],
        inputs: &[&Tensor],
        _: &Forward,
        output_gradient: &Tensor,
        _: Compute,
    ) -> Result<Gradients, TensorError> {
        let mut gradients = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            same_shape("the output gradient", output_gradient, input)?;
            let mut gradient = output_gradient.clone();
            for (j, other) in inputs.iter().enumerate() {
                if j != i {
                    for (value, &factor) in gradient.data_mut().iter_mut().zip(other.data()) {
                        *value *= factor;
                    }
                }
            }
            gradients.push(gradient);
        }
        Ok(Gradients {
            inputs: gradients,
            parameters: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients, check_gradients_with,
        run_forward,
    };
    use crate::tensor::Tensor;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences for 2–4 random inputs of one random shape.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            shape in crate::layers::testing::small_shapes(),
            count in 2usize..5,
            batch in 1usize..3,
            seed in proptest::num::u64::ANY,
        ) {
            let inputs = vec![shape.as_slice(); count];
            check_gradients_with("multiply", &inputs, batch, Values { seed, distinct: false });
        }
    }

    #[test]
    fn multiplies_inputs_of_one_shape() {
        // TinyLlama's SwiGLU gate: silu(gate) ⊙ up, two [L×5632] sequences (L = 16 here).
        check(
            "multiply",
            &[&[16, 5632], &[16, 5632]],
            "[16×5632]",
            "0",
            "16·5632·2 = 180224",
            "16·5632·2 = 180224",
        );
        check_details(
            "multiply",
            &[&[16, 5632], &[16, 5632]],
            "",
            [0, 0],
            "16·5632 = 90112",
            "pointwise",
        );
        check_details(
            "mul",
            &[&[10], &[10], &[10]],
            "",
            [0, 0],
            "10·2 = 20",
            "pointwise",
        );
    }

    #[test]
    fn the_product_is_elementwise() {
        let a = Tensor::from_vec(&[1, 3], vec![1.0, -2.0, 0.5]).unwrap();
        let b = Tensor::from_vec(&[1, 3], vec![4.0, 3.0, 0.0]).unwrap();
        let output = run_forward("multiply", &mut [], &[&a, &b], true).output;
        assert_eq!(output.data(), &[4.0, -6.0, 0.0]);
    }

    #[test]
    fn mismatched_inputs_are_errors() {
        check_error(
            "multiply",
            &[&[4, 8], &[4, 9]],
            "cannot multiply [4×8] and [4×9]: the shapes must be equal",
        );
        check_error("multiply", &[&[10]], "takes at least two inputs, got 1");
        check_error(
            "multiply scale=2",
            &[&[10], &[10]],
            "`multiply` has no attribute `scale`",
        );
    }

    #[test]
    fn backward_matches_finite_differences() {
        check_gradients("multiply", &[&[3, 3, 2], &[3, 3, 2]], 2);
        check_gradients("multiply", &[&[6], &[6], &[6]], 3);
    }
}

//! `rbf`: LeNet-5's output layer of Euclidean radial basis function units (LeCun et al. 1998,
//! section II.B): output unit i computes Σ_j (x_j - w_ij)² over every input unit. Like `dense` it
//! reads any input shape as its units. The centres w were chosen by hand and kept fixed, so they
//! are `units·inputs` non-trainable parameters (LeNet-5: 84·10 = 840) and no trainable ones. Each
//! output unit has one link per input unit and no bias: `units·inputs` connections with and
//! without bias (840, the sheet's output-layer count without bias). MACs: one
//! subtract-square-accumulate per link, `units·inputs`.

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

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

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        input
            .units()
            .and_then(|units| units.checked_mul(self.units))
            .ok_or_else(|| ShapeError::Overflow("the centre count".to_string()))?;
        Ok(Inference::plain(Shape(vec![self.units])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        vec![ParameterGroup {
            name: "centres",
            count: self.links(inputs),
            trainable: false,
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
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error};

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
}

//! `dense`: fully connected units. Every input unit feeds every output unit, whatever the input's
//! shape (Caffe's InnerProduct and the sheet's `FC6` on `[6×6×256]`), so no flatten is required.

use super::{
    Activation, AttributeReader, Connections, DeclarationError, Inference, Kind, Layer,
    ParameterGroup, ReceptiveStep, ShapeError, single, units_formula,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "dense",
    aliases: &["fc", "linear", "fully_connected"],
    positionals: &["units"],
    summary: "fully connected layer: units, use_bias, activation",
    build,
};

#[derive(Debug)]
struct Dense {
    units: u64,
    use_bias: bool,
    activation: Option<Activation>,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Dense {
        units: reader.required_count("units")?,
        use_bias: reader.boolean("use_bias")?.unwrap_or(true),
        activation: Activation::read(reader, "activation")?,
    }))
}

impl Layer for Dense {
    fn settings(&self) -> String {
        let mut text = format!("{} neurons", self.units);
        if !self.use_bias {
            text.push_str(", no bias");
        }
        if let Some(activation) = self.activation {
            text.push_str(&format!(", {}", activation.name()));
        }
        text
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let input = single(inputs)?;
        input
            .units()
            .and_then(|units| units.checked_mul(self.units))
            .ok_or_else(|| ShapeError::Overflow("the weight count".to_string()))?;
        Ok(Inference::plain(Shape(vec![self.units])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let mut weights = units_formula(&inputs[0]);
        if let Expression::Product(factors) = &mut weights {
            factors.push(Expression::Number(self.units));
        }
        let mut groups = vec![ParameterGroup {
            name: "weights",
            count: weights.simplified(),
            trainable: true,
        }];
        if self.use_bias {
            groups.push(ParameterGroup {
                name: "bias",
                count: Expression::Number(self.units),
                trainable: true,
            });
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        let units = Expression::Number(self.units);
        let fan_in = units_formula(&inputs[0]).simplified();
        let without_bias = Expression::product(vec![units.clone(), fan_in.clone()]);
        let with_bias = if self.use_bias {
            Expression::product(vec![
                units,
                Expression::sum(vec![fan_in, Expression::Number(1)]),
            ])
        } else {
            without_bias.clone()
        };
        Connections {
            without_bias,
            with_bias,
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
    }

    fn macs(&self, inputs: &[Shape], output: &Shape) -> Expression {
        self.connections(inputs, output).without_bias
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_error};

    #[test]
    fn counts_match_the_sheet() {
        // Exercise sheet 5, exercise 4b, F6 and the output layer.
        check(
            "dense 84",
            &[&[120]],
            "84",
            "120·84+84 = 10164",
            "84·120 = 10080",
            "84·(120+1) = 10164",
        );
        check(
            "dense 10",
            &[&[84]],
            "10",
            "84·10+10 = 850",
            "10·84 = 840",
            "10·(84+1) = 850",
        );
        // Exercise 4c, FC6 on AlexNet's [6×6×256].
        check(
            "dense 4096",
            &[&[6, 6, 256]],
            "4096",
            "6·6·256·4096+4096 = 37752832",
            "4096·6·6·256 = 37748736",
            "4096·(6·6·256+1) = 37752832",
        );
        check(
            "dense 10 use_bias=false",
            &[&[84]],
            "10",
            "84·10 = 840",
            "10·84 = 840",
            "10·84 = 840",
        );
    }

    #[test]
    fn bad_settings_are_errors() {
        check_error(
            "dense 0",
            &[&[4]],
            "`units` must be a positive integer, got 0",
        );
        check_error(
            "dense 10 activaton=relu",
            &[&[4]],
            "`dense` has no attribute `activaton`",
        );
        check_error(
            "dense 4294967296",
            &[&[4294967296, 2]],
            "the weight count does not fit in 64 bits",
        );
    }
}

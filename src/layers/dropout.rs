//! `dropout`: during training, sets each unit to 0 with probability `rate` and scales the others by
//! 1/(1-rate) (Srivastava et al. 2014, inverted as Keras does); at inference it is the identity.
//! The shape is unchanged and nothing is counted: no parameters, no connections, no MACs, as in
//! the sheet's exercise 3b table (DROPOUT rows with 0 parameters).

use super::{
    AttributeReader, Connections, DeclarationError, Inference, Kind, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "dropout",
    aliases: &[],
    positionals: &["rate"],
    summary: "drops units with probability rate during training; shape unchanged",
    build,
};

#[derive(Debug)]
struct Dropout {
    /// The probability of dropping a unit, in [0, 1).
    rate: f64,
}

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let rate = reader
        .number_where(
            "rate",
            "must be a number from 0 up to but not including 1",
            |rate| (0.0..1.0).contains(&rate),
        )?
        .ok_or_else(|| reader.missing("rate"))?;
    Ok(Box::new(Dropout { rate }))
}

impl Layer for Dropout {
    fn settings(&self) -> String {
        format!("rate={}", self.rate)
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        Ok(Inference::plain(single(inputs)?.clone()))
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], _: &Shape) -> Connections {
        Connections::none()
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Pointwise
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{check, check_details, check_error};

    #[test]
    fn keeps_the_shape_and_counts_nothing() {
        // Exercise 3b: Dropout(0.25) on [12×12×64] and Dropout(0.5) on 128, 0 parameters each.
        check(
            "dropout 0.25",
            &[&[12, 12, 64]],
            "[12×12×64]",
            "0",
            "0",
            "0",
        );
        check("dropout rate=0.5", &[&[128]], "128", "0", "0", "0");
        check("dropout 0", &[&[128]], "128", "0", "0", "0");
        check_details(
            "dropout 0.5",
            &[&[128]],
            "rate=0.5",
            [0, 0],
            "0",
            "pointwise",
        );
    }

    #[test]
    fn bad_rates_and_inputs_are_errors() {
        let range = "must be a number from 0 up to but not including 1";
        for (line, found) in [
            ("dropout 1", "1"),
            ("dropout 1.5", "1.5"),
            ("dropout -0.1", "-0.1"),
            ("dropout half", "`half`"),
        ] {
            check_error(line, &[&[4]], &format!("`rate` {range}, got {found}"));
        }
        check_error("dropout", &[&[4]], "`dropout` needs the attribute `rate`");
        check_error(
            "dropout 0.5",
            &[&[4], &[4]],
            "takes exactly one input, got 2",
        );
    }
}

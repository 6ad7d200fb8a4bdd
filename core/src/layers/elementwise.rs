//! What the elementwise merges (`add`, `multiply`) share: two or more inputs of one shape, and
//! their connections, each output unit reading one unit of every input (`units·n` links, with
//! and without bias, as there is none).

use super::{Connections, ShapeError, units_formula};
use crate::expression::Expression;
use crate::shape::Shape;

/// The one shape of two or more equal input shapes; `verb` names the operation in the message
/// when they differ ("cannot add [4] and [5]").
pub(crate) fn common_shape<'s>(inputs: &'s [Shape], verb: &str) -> Result<&'s Shape, ShapeError> {
    let [first, rest @ ..] = inputs else {
        return Err(too_few(inputs));
    };
    if rest.is_empty() {
        return Err(too_few(inputs));
    }
    if let Some(other) = rest.iter().find(|other| *other != first) {
        return Err(ShapeError::Mismatch(format!(
            "cannot {verb} {first} and {other}: the shapes must be equal"
        )));
    }
    let links = first
        .units()
        .and_then(|units| units.checked_mul(inputs.len() as u64));
    if links.is_none() {
        return Err(ShapeError::Overflow("the connection count".to_string()));
    }
    Ok(first)
}

/// `units·n` links for n inputs, with and without bias.
pub(crate) fn connections(inputs: &[Shape], output: &Shape) -> Connections {
    let links = Expression::product(vec![
        units_formula(output),
        Expression::Number(inputs.len() as u64),
    ]);
    Connections {
        without_bias: links.clone(),
        with_bias: links,
    }
}

fn too_few(inputs: &[Shape]) -> ShapeError {
    ShapeError::InputCount {
        expected: "at least two inputs",
        found: inputs.len(),
    }
}

//! Receptive fields with respect to the network's input: size, jump (distance in input units
//! between neighbouring output units) and start (centre of the first unit, in input units, with
//! input unit centres at 0.5, 1.5, …), composed layer by layer from each layer's step.

use crate::layers::{ReceptiveStep, ShapeError};

/// The part of the input one unit of a layer sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReceptiveField {
    /// A window of the input, per axis (height, width).
    Window {
        /// Size in input units.
        size: [u64; 2],
        /// Input units between neighbouring units of this layer.
        jump: [u64; 2],
        /// Centre of the first unit, in input coordinates.
        start: [f64; 2],
    },
    /// The whole input (after a dense or global layer).
    Whole,
}

impl ReceptiveField {
    /// The field of an input layer: each unit sees itself.
    pub fn input() -> ReceptiveField {
        ReceptiveField::Window {
            size: [1, 1],
            jump: [1, 1],
            start: [0.5, 0.5],
        }
    }

    /// The field after a layer with this step, reading layers with these fields. Several inputs
    /// (concat, add) combine to the widest field per axis.
    pub fn after(
        step: ReceptiveStep,
        inputs: &[ReceptiveField],
    ) -> Result<ReceptiveField, ShapeError> {
        let mut combined: Option<([u64; 2], [u64; 2], [f64; 2])> = None;
        for input in inputs {
            match (input, &mut combined) {
                (ReceptiveField::Whole, _) => return Ok(ReceptiveField::Whole),
                (ReceptiveField::Window { size, jump, start }, None) => {
                    combined = Some((*size, *jump, *start));
                }
                (ReceptiveField::Window { size, jump, start }, Some((s, j, b))) => {
                    for axis in 0..2 {
                        s[axis] = s[axis].max(size[axis]);
                        j[axis] = j[axis].max(jump[axis]);
                        b[axis] = b[axis].min(start[axis]);
                    }
                }
            }
        }
        let Some((size, jump, start)) = combined else {
            return Ok(ReceptiveField::input());
        };
        match step {
            ReceptiveStep::Whole => Ok(ReceptiveField::Whole),
            ReceptiveStep::Pointwise => Ok(ReceptiveField::Window { size, jump, start }),
            ReceptiveStep::Window(window) => {
                let overflow = || ShapeError::Overflow("the receptive field".to_string());
                let mut next = (size, jump, start);
                for axis in 0..2 {
                    let span = window.dilation[axis]
                        .checked_mul(window.kernel[axis] - 1)
                        .ok_or_else(overflow)?;
                    next.0[axis] = span
                        .checked_mul(jump[axis])
                        .and_then(|grow| size[axis].checked_add(grow))
                        .ok_or_else(overflow)?;
                    next.1[axis] = jump[axis]
                        .checked_mul(window.stride[axis])
                        .ok_or_else(overflow)?;
                    next.2[axis] = start[axis]
                        + (span as f64 / 2.0 - window.padding_before[axis] as f64)
                            * jump[axis] as f64;
                }
                Ok(ReceptiveField::Window {
                    size: next.0,
                    jump: next.1,
                    start: next.2,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Window;

    fn window(kernel: u64, stride: u64, padding: u64) -> ReceptiveStep {
        ReceptiveStep::Window(Window {
            kernel: [kernel; 2],
            stride: [stride; 2],
            dilation: [1; 2],
            padding_before: [padding; 2],
        })
    }

    #[test]
    fn lenet_c5_sees_the_whole_32_by_32_input() {
        let mut field = ReceptiveField::input();
        for step in [
            window(5, 1, 0),
            window(2, 2, 0),
            window(5, 1, 0),
            window(2, 2, 0),
            window(5, 1, 0),
        ] {
            field = ReceptiveField::after(step, &[field]).unwrap();
        }
        assert_eq!(
            field,
            ReceptiveField::Window {
                size: [32, 32],
                jump: [4, 4],
                start: [16.0, 16.0]
            }
        );
    }

    #[test]
    fn padding_moves_the_start_and_dense_sees_everything() {
        let field = ReceptiveField::after(window(3, 1, 1), &[ReceptiveField::input()]).unwrap();
        assert_eq!(
            field,
            ReceptiveField::Window {
                size: [3, 3],
                jump: [1, 1],
                start: [0.5, 0.5]
            }
        );
        assert_eq!(
            ReceptiveField::after(ReceptiveStep::Whole, &[field]).unwrap(),
            ReceptiveField::Whole
        );
    }
}

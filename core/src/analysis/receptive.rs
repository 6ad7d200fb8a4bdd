//! Receptive fields with respect to the network's input: size, jump (distance in input units
//! between neighbouring output units) and start (centre of the first unit, in input units, with
//! input unit centres at 0.5, 1.5, …), composed layer by layer from each layer's step.

use crate::layers::{ReceptiveStep, ShapeError};
use crate::shape::{Axes, MAX_POSITION_AXES, Shape};

/// The part of the input one unit of a layer sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReceptiveField {
    /// A window of the input, per position axis (height and width of maps, the steps of a
    /// sequence).
    Window {
        /// Size in input units.
        size: Axes<u64>,
        /// Input units between neighbouring units of this layer.
        jump: Axes<u64>,
        /// Centre of the first unit, in input coordinates.
        start: Axes<f64>,
    },
    /// The whole input (after a dense, global or recurrent layer).
    Whole,
    /// Parts of the input that differ in size from unit to unit (after an uneven step, until a
    /// layer sees the whole input).
    Uneven,
}

impl ReceptiveField {
    /// The field of an input layer of this shape: each unit sees itself, on each position axis.
    /// A vector's units are fields of 1×1, as the sheet's tables have always shown them.
    pub fn input(shape: &Shape) -> ReceptiveField {
        let axes = match shape.positions().len() {
            0 => 2,
            axes => axes.min(MAX_POSITION_AXES),
        };
        ReceptiveField::Window {
            size: Axes::filled(axes, 1),
            jump: Axes::filled(axes, 1),
            start: Axes::filled(axes, 0.5),
        }
    }

    /// The field after a layer with this step, reading layers with these fields. Several inputs
    /// (concat, add) combine to the widest field per axis.
    pub fn after(
        step: ReceptiveStep,
        inputs: &[ReceptiveField],
    ) -> Result<ReceptiveField, ShapeError> {
        let mut combined: Option<(Axes<u64>, Axes<u64>, Axes<f64>)> = None;
        if inputs.is_empty() {
            return Err(ShapeError::InputCount {
                expected: "at least one input",
                found: 0,
            });
        }
        if inputs.contains(&ReceptiveField::Whole) || step == ReceptiveStep::Whole {
            return Ok(ReceptiveField::Whole);
        }
        if inputs.contains(&ReceptiveField::Uneven) || step == ReceptiveStep::Uneven {
            return Ok(ReceptiveField::Uneven);
        }
        // Every input is a window now.
        for input in inputs {
            let ReceptiveField::Window { size, jump, start } = input else {
                continue;
            };
            match &mut combined {
                None => combined = Some((*size, *jump, *start)),
                Some((s, j, b)) => {
                    if size.len() != s.len() {
                        return Err(ShapeError::Mismatch(format!(
                            "cannot merge receptive fields over {} and {} axes",
                            s.len(),
                            size.len()
                        )));
                    }
                    for axis in 0..s.len() {
                        s[axis] = s[axis].max(size[axis]);
                        j[axis] = j[axis].max(jump[axis]);
                        b[axis] = b[axis].min(start[axis]);
                    }
                }
            }
        }
        let Some((size, jump, start)) = combined else {
            return Err(ShapeError::InputCount {
                expected: "at least one input",
                found: 0,
            });
        };
        match step {
            ReceptiveStep::Whole => Ok(ReceptiveField::Whole),
            ReceptiveStep::Uneven => Ok(ReceptiveField::Uneven),
            ReceptiveStep::Pointwise => Ok(ReceptiveField::Window { size, jump, start }),
            ReceptiveStep::Window(window) => {
                if window.kernel.len() != size.len() {
                    return Err(ShapeError::Mismatch(format!(
                        "a window over {} axes cannot follow a receptive field over {}",
                        window.kernel.len(),
                        size.len()
                    )));
                }
                let overflow = || ShapeError::Overflow("the receptive field".to_string());
                let mut next = (size, jump, start);
                for axis in 0..size.len() {
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
            kernel: Axes::from([kernel; 2]),
            stride: Axes::from([stride; 2]),
            dilation: Axes::from([1; 2]),
            padding_before: Axes::from([padding; 2]),
        })
    }

    #[test]
    fn lenet_c5_sees_the_whole_32_by_32_input() {
        let mut field = ReceptiveField::input(&Shape::new(vec![32, 32, 1]));
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
                size: Axes::from([32, 32]),
                jump: Axes::from([4, 4]),
                start: Axes::from([16.0, 16.0])
            }
        );
    }

    #[test]
    fn padding_moves_the_start_and_dense_sees_everything() {
        let field = ReceptiveField::after(
            window(3, 1, 1),
            &[ReceptiveField::input(&Shape::new(vec![8, 8, 3]))],
        )
        .unwrap();
        assert_eq!(
            field,
            ReceptiveField::Window {
                size: Axes::from([3, 3]),
                jump: Axes::from([1, 1]),
                start: Axes::from([0.5, 0.5])
            }
        );
        assert_eq!(
            ReceptiveField::after(ReceptiveStep::Whole, &[field]).unwrap(),
            ReceptiveField::Whole
        );
    }

    #[test]
    fn an_uneven_step_leaves_no_window_until_a_layer_sees_everything() {
        let input = ReceptiveField::input(&Shape::new(vec![8, 8, 3]));
        let uneven = ReceptiveField::after(ReceptiveStep::Uneven, &[input]).unwrap();
        assert_eq!(uneven, ReceptiveField::Uneven);
        assert_eq!(
            ReceptiveField::after(window(3, 1, 1), &[uneven]).unwrap(),
            ReceptiveField::Uneven
        );
        assert_eq!(
            ReceptiveField::after(ReceptiveStep::Pointwise, &[input, uneven]).unwrap(),
            ReceptiveField::Uneven
        );
        assert_eq!(
            ReceptiveField::after(ReceptiveStep::Whole, &[uneven]).unwrap(),
            ReceptiveField::Whole
        );
    }

    #[test]
    fn on_a_sequence_fields_are_counted_in_steps() {
        // Two causal 1-D convolutions of kernel 3, the second dilated by 2 (WaveNet's stack):
        // 1+2·1 = 3, then 3+2·(3-1)·1 = 7 steps.
        let step = |kernel: u64, dilation: u64| {
            ReceptiveStep::Window(Window {
                kernel: Axes::from([kernel]),
                stride: Axes::from([1]),
                dilation: Axes::from([dilation]),
                padding_before: Axes::from([dilation * (kernel - 1)]),
            })
        };
        let input = ReceptiveField::input(&Shape::new(vec![16, 8]));
        let first = ReceptiveField::after(step(3, 1), &[input]).unwrap();
        let second = ReceptiveField::after(step(3, 2), &[first]).unwrap();
        let ReceptiveField::Window { size, .. } = second else {
            panic!("a window");
        };
        assert_eq!(size, [7]);
        assert_eq!(size.described(), "7 steps");
        // A field over steps does not merge with one over height and width.
        let maps = ReceptiveField::input(&Shape::new(vec![4, 4, 1]));
        assert!(ReceptiveField::after(ReceptiveStep::Pointwise, &[second, maps]).is_err());
        assert!(ReceptiveField::after(step(3, 1), &[maps]).is_err());
        assert!(ReceptiveField::after(ReceptiveStep::Pointwise, &[]).is_err());
    }
}

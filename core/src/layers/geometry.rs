//! Arithmetic shared by sliding-window layers (convolution, pooling, subsampling): reading kernel,
//! stride, padding and dilation, the output-size formula `(N-F+P)/S+1` with its rounding, and the
//! receptive-field step. Also the shape-inference result and error types every layer uses.

use super::attributes::{AttributeReader, DeclarationError};
use crate::expression::{Expression, Ratio};
use crate::shape::{Axes, Rounding, Shape};
use crate::syntax::Value;

/// Why a layer cannot produce an output for its inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    /// The output size formula does not give a whole number.
    #[error("the output {axis} `{formula} = {value}` is not a whole number")]
    NotWhole {
        /// `height` or `width`.
        axis: &'static str,
        /// The formula.
        formula: String,
        /// Its exact value, e.g. `54.25`.
        value: String,
    },
    /// The window does not fit into the (padded) input.
    #[error("the {axis} of the window ({window}) is larger than the padded input ({input})")]
    WindowTooLarge {
        /// `height` or `width`.
        axis: &'static str,
        /// Effective window size (with dilation).
        window: u64,
        /// Input size plus padding.
        input: u64,
    },
    /// The input has the wrong rank.
    #[error("expects {expected}, got {found}")]
    Rank {
        /// What the layer needs.
        expected: &'static str,
        /// What it got.
        found: Shape,
    },
    /// The layer got the wrong number of inputs.
    #[error("takes {expected}, got {found}")]
    InputCount {
        /// What the layer needs.
        expected: &'static str,
        /// How many it got.
        found: usize,
    },
    /// Inputs that cannot be merged, or settings that do not fit the input.
    #[error("{0}")]
    Mismatch(String),
    /// A size or count needs more than 64 bits.
    #[error("{0} does not fit in 64 bits")]
    Overflow(String),
}

/// One output axis's size formula and value.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionFormula {
    /// `height` or `width`.
    pub axis: &'static str,
    /// `(227-11)/4+1`.
    pub expression: Expression,
    /// The exact value of the formula.
    pub exact: Ratio,
    /// The size used: the exact value, or its rounding.
    pub value: u64,
    /// The rounding applied when the exact value was not whole.
    pub rounded: Option<Rounding>,
}

/// The result of shape inference for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    /// The output shape.
    pub output: Shape,
    /// Size formulas for the axes a window layer computes (empty for other layers).
    pub formulas: Vec<DimensionFormula>,
}

impl Inference {
    /// An output with no size formula.
    pub fn plain(output: Shape) -> Inference {
        Inference {
            output,
            formulas: Vec::new(),
        }
    }
}

/// How one output unit sees the layer's input, for receptive fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceptiveStep {
    /// A sliding window.
    Window(Window),
    /// Every input unit (dense, global pooling, RBF).
    Whole,
    /// The unit at the same place (activations, dropout, normalisation, merges).
    Pointwise,
    /// A part of the input whose size and place vary from unit to unit, so that no one window
    /// describes it: upsampling and strided transposed convolutions (an output step moves a
    /// fraction of an input unit), adaptive pooling with uneven bins.
    Uneven,
}

/// A sliding window's geometry per position axis (height and width of maps, the steps of a
/// sequence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Kernel size.
    pub kernel: Axes<u64>,
    /// Stride.
    pub stride: Axes<u64>,
    /// Dilation (1 = none).
    pub dilation: Axes<u64>,
    /// Padding before the first input unit (top, left; or before the first step).
    pub padding_before: Axes<u64>,
}

/// How a window layer pads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    Valid,
    /// Keras/TensorFlow `same`: output = ⌈input / stride⌉, padding split with the odd unit after.
    Same,
    /// Keras `causal` (1-D windows only): d·(F-1) units before the first step and none after, so
    /// output step t sees input steps up to t.
    Causal,
    /// The same number of units before and after, per axis.
    Explicit(Axes<u64>),
}

/// Kernel, stride, dilation and padding of a window layer, read from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Kernel size per axis (height, width; or length).
    pub kernel: Axes<u64>,
    /// Stride per axis.
    pub stride: Axes<u64>,
    /// Dilation per axis.
    pub dilation: Axes<u64>,
    /// Padding.
    pub padding: Padding,
    /// This layer's own rounding rule, overriding the network's.
    pub rounding: Option<Rounding>,
    /// PyTorch's rule for rounding up: a last window that would start in the right padding is
    /// dropped (`conventions: pytorch`).
    pub pytorch_ceil: bool,
}

/// The default stride of a window layer.
#[derive(Debug, Clone, Copy)]
pub enum DefaultStride {
    /// 1 (convolutions).
    One,
    /// The window size (pooling: non-overlapping windows).
    Window,
}

/// The padding words and forms accepted on maps.
const PADDING_HELP: &str = "must be `valid`, `same`, an integer ≥ 0 or HxW";

/// The names of the position axes of a window over `count` of them.
fn axis_names(count: usize) -> &'static [&'static str] {
    match count {
        1 => &["length"],
        2 => &["height", "width"],
        _ => &["depth", "height", "width"],
    }
}

impl WindowSpec {
    /// Reads `kernel_key` (required), `stride`, `padding`, `dilation` (when `dilation` is true)
    /// and `rounding` for a window over `axes` position axes: 2 for maps (`3` or `3x5`), 1 for
    /// sequences (`3`, and `causal` padding).
    pub fn read(
        reader: &mut AttributeReader,
        kernel_key: &'static str,
        default_stride: DefaultStride,
        dilation: bool,
        axes: usize,
    ) -> Result<WindowSpec, DeclarationError> {
        let kernel = reader
            .lengths(kernel_key, axes)?
            .ok_or_else(|| reader.missing(kernel_key))?;
        let stride = reader
            .lengths("stride", axes)?
            .unwrap_or(match default_stride {
                DefaultStride::One => Axes::filled(axes, 1),
                DefaultStride::Window => kernel,
            });
        let dilation = if dilation {
            reader
                .lengths("dilation", axes)?
                .unwrap_or(Axes::filled(axes, 1))
        } else {
            Axes::filled(axes, 1)
        };
        let padding = match reader.value("padding") {
            None => Padding::Valid,
            Some(value) => match &value.value {
                Value::Text(word) if word == "valid" => Padding::Valid,
                Value::Text(word) if word == "same" => Padding::Same,
                Value::Text(word) if word == "causal" && axes == 1 => Padding::Causal,
                Value::Integer(n) if *n >= 0 => Padding::Explicit(Axes::filled(axes, *n as u64)),
                Value::Dims(dims) if dims.len() == axes => {
                    Padding::Explicit(Axes::from_slice(dims).unwrap_or_default())
                }
                _ => {
                    let help = if axes == 1 {
                        "must be `valid`, `same`, `causal` or an integer ≥ 0"
                    } else {
                        PADDING_HELP
                    };
                    return Err(reader.invalid("padding", value, help));
                }
            },
        };
        // The layer's own rule, else its network's, so the executor rounds as the analysis does.
        let rounding = reader
            .choice("rounding", &Rounding::NAMES)?
            .and_then(Rounding::from_name)
            .or(reader.network_rounding());
        let pytorch_ceil =
            reader.network_conventions() == Some(crate::conventions::Conventions::Pytorch);
        Ok(WindowSpec {
            kernel,
            stride,
            dilation,
            padding,
            rounding,
            pytorch_ceil,
        })
    }

    /// The kernel size with dilation: `d·(F-1)+1`.
    pub fn effective_kernel(&self, axis: usize) -> u64 {
        self.dilation[axis]
            .saturating_mul(self.kernel[axis] - 1)
            .saturating_add(1)
    }

    /// The output size per axis for an input of these sizes (one per kernel axis), with the
    /// formulas.
    pub fn output(
        &self,
        input: &[u64],
        rounding: Rounding,
    ) -> Result<(Axes<u64>, Vec<DimensionFormula>), ShapeError> {
        let rounding = self.rounding.unwrap_or(rounding);
        let mut sizes = Axes::filled(self.kernel.len(), 0);
        let mut formulas = Vec::with_capacity(self.kernel.len());
        let names = axis_names(self.kernel.len());
        for (axis, (&name, &size)) in names.iter().zip(input).enumerate() {
            let formula = self.axis_output(axis, name, size, rounding)?;
            sizes[axis] = formula.value;
            formulas.push(formula);
        }
        Ok((sizes, formulas))
    }

    /// Total padding on one axis for an input of `input` units.
    pub fn total_padding(&self, axis: usize, input: u64) -> u64 {
        match self.padding {
            Padding::Valid => 0,
            Padding::Explicit(each) => each[axis].saturating_mul(2),
            Padding::Causal => self.effective_kernel(axis) - 1,
            Padding::Same => {
                let stride = self.stride[axis];
                let output = input.div_ceil(stride);
                (output.saturating_sub(1))
                    .saturating_mul(stride)
                    .saturating_add(self.effective_kernel(axis))
                    .saturating_sub(input)
            }
        }
    }

    fn axis_output(
        &self,
        axis: usize,
        name: &'static str,
        input: u64,
        rounding: Rounding,
    ) -> Result<DimensionFormula, ShapeError> {
        let window = self.effective_kernel(axis);
        let padding = self.total_padding(axis, input);
        let padded = input
            .checked_add(padding)
            .ok_or_else(|| ShapeError::Overflow(format!("the padded {name}")))?;
        if window > padded {
            return Err(ShapeError::WindowTooLarge {
                axis: name,
                window,
                input: padded,
            });
        }
        let mut numerator =
            Expression::difference(Expression::Number(input), Expression::Number(window));
        if padding > 0 {
            numerator = Expression::sum(vec![numerator, Expression::Number(padding)]);
        }
        let mut expression = Expression::sum(vec![
            Expression::quotient(numerator, Expression::Number(self.stride[axis])),
            Expression::Number(1),
        ]);
        let mut exact = expression
            .ratio()
            .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
        // PyTorch (`pooling_output_shape`): rounding up must not add a window that starts in
        // the right padding, i.e. at or after input + left padding; such a window is dropped,
        // written `-1` in the formula.
        let rounds_up = matches!(self.padding, Padding::Explicit(_) | Padding::Valid)
            && self.rounding.unwrap_or(rounding) == Rounding::Ceil
            && exact.integer().is_none();
        if self.pytorch_ceil && rounds_up {
            let last_start = u64::try_from(exact.ceil() - 1)
                .unwrap_or(0)
                .saturating_mul(self.stride[axis]);
            if last_start >= input.saturating_add(padding / 2) {
                expression = Expression::difference(expression, Expression::Number(1));
                exact = expression
                    .ratio()
                    .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
            }
        }
        // `same` padding is defined by rounding down when the padding is clamped at zero, and
        // Keras' `causal` output is ⌈input / stride⌉, which is the floor of this formula.
        let rounding = if matches!(self.padding, Padding::Same | Padding::Causal) {
            Rounding::Floor
        } else {
            rounding
        };
        let (value, rounded) = match (exact.integer(), rounding) {
            (Some(value), _) => (value, None),
            (None, Rounding::Exact) => {
                return Err(ShapeError::NotWhole {
                    axis: name,
                    formula: expression.to_string(),
                    value: exact.to_string(),
                });
            }
            (None, Rounding::Floor) => (exact.floor(), Some(Rounding::Floor)),
            (None, Rounding::Ceil) => (exact.ceil(), Some(Rounding::Ceil)),
        };
        let value =
            u64::try_from(value).map_err(|_| ShapeError::Overflow(format!("the output {name}")))?;
        Ok(DimensionFormula {
            axis: name,
            expression,
            exact,
            value,
            rounded,
        })
    }

    /// Padding before the first unit of each axis (top, left; or before the first step) for an
    /// input of these sizes.
    pub fn padding_before(&self, input: &[u64]) -> Axes<u64> {
        let mut before = Axes::filled(self.kernel.len(), 0);
        for (axis, &size) in input.iter().enumerate().take(before.len()) {
            let total = self.total_padding(axis, size);
            before[axis] = match self.padding {
                Padding::Causal => total,
                _ => total / 2,
            };
        }
        before
    }

    /// The sheet's letters: `F=11, S=4, P=0` (with `F=3x5` for non-square windows, `P=same`,
    /// `D=2` for dilation).
    pub fn settings(&self) -> String {
        let padding = match self.padding {
            Padding::Valid => "0".to_string(),
            Padding::Same => "same".to_string(),
            Padding::Causal => "causal".to_string(),
            Padding::Explicit(each) => axes_text(each, "x"),
        };
        let mut text = format!(
            "F={}, S={}, P={}",
            axes_text(self.kernel, "x"),
            axes_text(self.stride, "x"),
            padding
        );
        if self.dilation.iter().any(|&d| d != 1) {
            text.push_str(&format!(", D={}", axes_text(self.dilation, "x")));
        }
        text
    }

    /// The window as drawings show it: `5×5`, with the stride after a slash when it is not 1
    /// (`3×3, /2`, `1×1, /2×1`) or always (`always_stride`, for pooling, whose default stride is
    /// the window), and the dilation when it is not 1 (`3×3, dilation 2`).
    pub fn caption(&self, always_stride: bool) -> String {
        let joined = |values: &[u64]| {
            values
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("×")
        };
        let compact = |values: &[u64]| match values.split_first() {
            Some((first, rest)) if rest.iter().all(|value| value == first) => first.to_string(),
            _ => joined(values),
        };
        let mut text = joined(&self.kernel);
        if always_stride || self.stride.iter().any(|&s| s != 1) {
            text.push_str(&format!(", /{}", compact(&self.stride)));
        }
        if self.dilation.iter().any(|&d| d != 1) {
            text.push_str(&format!(", dilation {}", compact(&self.dilation)));
        }
        text
    }

    /// The receptive-field step for an input of these sizes.
    pub fn receptive_step(&self, input: &[u64]) -> ReceptiveStep {
        ReceptiveStep::Window(Window {
            kernel: self.kernel,
            stride: self.stride,
            dilation: self.dilation,
            padding_before: self.padding_before(input),
        })
    }
}

/// One number when every axis has it (`3`), else the axes joined by `separator` (`3x5`).
pub fn axes_text(values: Axes<u64>, separator: &str) -> String {
    match values.split_first() {
        Some((first, rest)) if rest.iter().all(|v| v == first) => first.to_string(),
        _ => values
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(separator),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kernel: u64, stride: u64, padding: Padding) -> WindowSpec {
        WindowSpec {
            kernel: Axes::from([kernel; 2]),
            stride: Axes::from([stride; 2]),
            dilation: Axes::from([1; 2]),
            padding,
            rounding: None,
            pytorch_ceil: false,
        }
    }

    #[test]
    fn output_size_formulas_read_like_the_sheet() {
        let (sizes, formulas) = spec(11, 4, Padding::Valid)
            .output(&[227, 227], Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [55, 55]);
        assert_eq!(formulas[0].expression.to_string(), "(227-11)/4+1");
        let (sizes, formulas) = spec(5, 1, Padding::Explicit(Axes::from([2, 2])))
            .output(&[27, 27], Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [27, 27]);
        assert_eq!(formulas[1].expression.to_string(), "(27-5+4)/1+1");
    }

    #[test]
    fn non_whole_sizes_are_errors_unless_rounded() {
        let error = spec(11, 4, Padding::Valid)
            .output(&[224, 224], Rounding::Exact)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the output height `(224-11)/4+1 = 54.25` is not a whole number"
        );
        let (sizes, formulas) = spec(2, 2, Padding::Valid)
            .output(&[3, 3], Rounding::Floor)
            .unwrap();
        assert_eq!(sizes, [1, 1]);
        assert_eq!(formulas[0].rounded, Some(Rounding::Floor));
        let (sizes, _) = spec(3, 2, Padding::Valid)
            .output(&[6, 6], Rounding::Ceil)
            .unwrap();
        assert_eq!(sizes, [3, 3]);
    }

    /// The figure: torch's `MaxPool2d(2, 2, padding=1, ceil_mode=True)` on a 5×5 input
    /// gives 3×3 (the fourth window would start at 6 ≥ 5 + 1, in the right padding), where plain
    /// rounding up gives ⌈(5-2+2)/2+1⌉ = ⌈3.5⌉ = 4. PyTorch's rule, from `pooling_output_shape`
    /// in ATen's Pool.h: out = ⌈(in + 2p − k)/s⌉ + 1, minus 1 if (out − 1)·s ≥ in + p.
    #[test]
    fn pytorch_drops_a_last_window_that_starts_in_the_padding() {
        let keras = spec(2, 2, Padding::Explicit(Axes::from([1, 1])));
        let (sizes, _) = keras.output(&[5, 5], Rounding::Ceil).unwrap();
        assert_eq!(sizes, [4, 4]);
        let pytorch = WindowSpec {
            pytorch_ceil: true,
            ..keras
        };
        let (sizes, formulas) = pytorch.output(&[5, 5], Rounding::Ceil).unwrap();
        assert_eq!(sizes, [3, 3]);
        assert_eq!(formulas[0].expression.to_string(), "(5-2+2)/2+1-1");
        // Where the last window starts inside the input, nothing is dropped: 6×6, k=3, s=2,
        // p=1 gives ⌈(6-3+2)/2+1⌉ = 4 in both (the fourth window starts at 6 < 6 + 1).
        let (sizes, _) = WindowSpec {
            kernel: Axes::from([3; 2]),
            ..pytorch
        }
        .output(&[6, 6], Rounding::Ceil)
        .unwrap();
        assert_eq!(sizes, [4, 4]);
        // Without padding the last window always starts inside: 6×6, k=3, s=2 gives 3.
        let (sizes, _) = WindowSpec {
            kernel: Axes::from([3; 2]),
            padding: Padding::Valid,
            ..pytorch
        }
        .output(&[6, 6], Rounding::Ceil)
        .unwrap();
        assert_eq!(sizes, [3, 3]);
    }

    #[test]
    fn same_padding_keeps_the_size_at_stride_one() {
        let (sizes, formulas) = spec(3, 1, Padding::Same)
            .output(&[224, 224], Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [224, 224]);
        assert_eq!(formulas[0].expression.to_string(), "(224-3+2)/1+1");
        let (sizes, _) = spec(3, 2, Padding::Same)
            .output(&[7, 7], Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [4, 4]);
    }

    #[test]
    fn one_axis_windows_slide_along_the_steps() {
        let spec = WindowSpec {
            kernel: Axes::from([3]),
            stride: Axes::from([2]),
            dilation: Axes::from([2]),
            padding: Padding::Causal,
            rounding: None,
            pytorch_ceil: false,
        };
        // Keras Conv1D(kernel_size=3, strides=2, dilation_rate=2, padding='causal') on 10 steps:
        // 2·(3-1) = 4 steps of padding before, (10-5+4)/2+1 = 5.5, floor 5 (Keras' causal
        // output is ⌈10/2⌉ = 5).
        let (sizes, formulas) = spec.output(&[10], Rounding::Floor).unwrap();
        assert_eq!(sizes, [5]);
        assert_eq!(formulas[0].axis, "length");
        assert_eq!(formulas[0].expression.to_string(), "(10-5+4)/2+1");
        assert_eq!(spec.padding_before(&[10]), [4]);
        assert_eq!(spec.settings(), "F=3, S=2, P=causal, D=2");
    }

    #[test]
    fn a_window_larger_than_the_input_is_an_error() {
        let error = spec(5, 1, Padding::Valid)
            .output(&[4, 4], Rounding::Exact)
            .unwrap_err();
        assert!(matches!(
            error,
            ShapeError::WindowTooLarge {
                window: 5,
                input: 4,
                ..
            }
        ));
    }
}

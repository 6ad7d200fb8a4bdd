//! Arithmetic shared by sliding-window layers (convolution, pooling, subsampling): reading kernel,
//! stride, padding and dilation, the output-size formula `(N-F+P)/S+1` with its rounding, and the
//! receptive-field step. Also the shape-inference result and error types every layer uses.

use super::attributes::{AttributeReader, DeclarationError};
use crate::expression::{Expression, Ratio};
use crate::shape::{Rounding, Shape};
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
}

/// A sliding window's geometry per axis (height, width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Kernel size.
    pub kernel: [u64; 2],
    /// Stride.
    pub stride: [u64; 2],
    /// Dilation (1 = none).
    pub dilation: [u64; 2],
    /// Padding before the first input unit (top, left).
    pub padding_before: [u64; 2],
}

/// How a window layer pads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding.
    Valid,
    /// Keras/TensorFlow `same`: output = ⌈input / stride⌉, padding split with the odd unit after.
    Same,
    /// The same number of units before and after, per axis (height, width).
    Explicit([u64; 2]),
}

/// Kernel, stride, dilation and padding of a window layer, read from its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowSpec {
    /// Kernel size (height, width).
    pub kernel: [u64; 2],
    /// Stride (height, width).
    pub stride: [u64; 2],
    /// Dilation (height, width).
    pub dilation: [u64; 2],
    /// Padding.
    pub padding: Padding,
    /// This layer's own rounding rule, overriding the network's.
    pub rounding: Option<Rounding>,
}

/// The default stride of a window layer.
#[derive(Debug, Clone, Copy)]
pub enum DefaultStride {
    /// 1 (convolutions).
    One,
    /// The window size (pooling: non-overlapping windows).
    Window,
}

/// The padding words and forms accepted.
const PADDING_HELP: &str = "must be `valid`, `same`, an integer ≥ 0 or HxW";

impl WindowSpec {
    /// Reads `kernel_key` (required), `stride`, `padding`, `dilation` (when `dilation` is true)
    /// and `rounding`.
    pub fn read(
        reader: &mut AttributeReader,
        kernel_key: &'static str,
        default_stride: DefaultStride,
        dilation: bool,
    ) -> Result<WindowSpec, DeclarationError> {
        let kernel = reader
            .pair(kernel_key)?
            .ok_or_else(|| reader.missing(kernel_key))?;
        let stride = reader.pair("stride")?.unwrap_or(match default_stride {
            DefaultStride::One => [1, 1],
            DefaultStride::Window => kernel,
        });
        let dilation = if dilation {
            reader.pair("dilation")?.unwrap_or([1, 1])
        } else {
            [1, 1]
        };
        let padding = match reader.value("padding") {
            None => Padding::Valid,
            Some(value) => match &value.value {
                Value::Text(word) if word == "valid" => Padding::Valid,
                Value::Text(word) if word == "same" => Padding::Same,
                Value::Integer(n) if *n >= 0 => Padding::Explicit([*n as u64, *n as u64]),
                Value::Dims(dims) if dims.len() == 2 => Padding::Explicit([dims[0], dims[1]]),
                _ => return Err(reader.invalid("padding", value, PADDING_HELP)),
            },
        };
        // The layer's own rule, else its network's, so the executor rounds as the analysis does.
        let rounding = reader
            .choice("rounding", &Rounding::NAMES)?
            .and_then(Rounding::from_name)
            .or(reader.network_rounding());
        Ok(WindowSpec {
            kernel,
            stride,
            dilation,
            padding,
            rounding,
        })
    }

    /// The kernel size with dilation: `d·(F-1)+1`.
    pub fn effective_kernel(&self, axis: usize) -> u64 {
        self.dilation[axis]
            .saturating_mul(self.kernel[axis] - 1)
            .saturating_add(1)
    }

    /// Output height and width for an input of `height`×`width`, with the formulas.
    pub fn output(
        &self,
        height: u64,
        width: u64,
        rounding: Rounding,
    ) -> Result<([u64; 2], Vec<DimensionFormula>), ShapeError> {
        let rounding = self.rounding.unwrap_or(rounding);
        let mut sizes = [0; 2];
        let mut formulas = Vec::with_capacity(2);
        for (axis, (name, input)) in [("height", height), ("width", width)]
            .into_iter()
            .enumerate()
        {
            let formula = self.axis_output(axis, name, input, rounding)?;
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
        let expression = Expression::sum(vec![
            Expression::quotient(numerator, Expression::Number(self.stride[axis])),
            Expression::Number(1),
        ]);
        let exact = expression
            .ratio()
            .ok_or_else(|| ShapeError::Overflow(format!("the output {name}")))?;
        // `same` padding is defined by rounding down when the padding is clamped at zero.
        let rounding = if self.padding == Padding::Same {
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

    /// Padding before the first unit (top, left) for an input of `height`×`width`.
    pub fn padding_before(&self, height: u64, width: u64) -> [u64; 2] {
        [
            self.total_padding(0, height) / 2,
            self.total_padding(1, width) / 2,
        ]
    }

    /// The sheet's letters: `F=11, S=4, P=0` (with `F=3x5` for non-square windows, `P=same`,
    /// `D=2` for dilation).
    pub fn settings(&self) -> String {
        let pair = |p: [u64; 2]| {
            if p[0] == p[1] {
                p[0].to_string()
            } else {
                format!("{}x{}", p[0], p[1])
            }
        };
        let padding = match self.padding {
            Padding::Valid => "0".to_string(),
            Padding::Same => "same".to_string(),
            Padding::Explicit(each) => pair(each),
        };
        let mut text = format!(
            "F={}, S={}, P={}",
            pair(self.kernel),
            pair(self.stride),
            padding
        );
        if self.dilation != [1, 1] {
            text.push_str(&format!(", D={}", pair(self.dilation)));
        }
        text
    }

    /// The window as drawings show it: `5×5`, with the stride after a slash when it is not 1
    /// (`3×3, /2`, `1×1, /2×1`) or always (`always_stride`, for pooling, whose default stride is
    /// the window), and the dilation when it is not 1 (`3×3, dilation 2`).
    pub fn caption(&self, always_stride: bool) -> String {
        let pair = |p: [u64; 2]| {
            if p[0] == p[1] {
                p[0].to_string()
            } else {
                format!("{}×{}", p[0], p[1])
            }
        };
        let mut text = format!("{}×{}", self.kernel[0], self.kernel[1]);
        if always_stride || self.stride != [1, 1] {
            text.push_str(&format!(", /{}", pair(self.stride)));
        }
        if self.dilation != [1, 1] {
            text.push_str(&format!(", dilation {}", pair(self.dilation)));
        }
        text
    }

    /// The receptive-field step for an input of `height`×`width`.
    pub fn receptive_step(&self, height: u64, width: u64) -> ReceptiveStep {
        ReceptiveStep::Window(Window {
            kernel: self.kernel,
            stride: self.stride,
            dilation: self.dilation,
            padding_before: self.padding_before(height, width),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kernel: u64, stride: u64, padding: Padding) -> WindowSpec {
        WindowSpec {
            kernel: [kernel; 2],
            stride: [stride; 2],
            dilation: [1; 2],
            padding,
            rounding: None,
        }
    }

    #[test]
    fn output_size_formulas_read_like_the_sheet() {
        let (sizes, formulas) = spec(11, 4, Padding::Valid)
            .output(227, 227, Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [55, 55]);
        assert_eq!(formulas[0].expression.to_string(), "(227-11)/4+1");
        let (sizes, formulas) = spec(5, 1, Padding::Explicit([2, 2]))
            .output(27, 27, Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [27, 27]);
        assert_eq!(formulas[1].expression.to_string(), "(27-5+4)/1+1");
    }

    #[test]
    fn non_whole_sizes_are_errors_unless_rounded() {
        let error = spec(11, 4, Padding::Valid)
            .output(224, 224, Rounding::Exact)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the output height `(224-11)/4+1 = 54.25` is not a whole number"
        );
        let (sizes, formulas) = spec(2, 2, Padding::Valid)
            .output(3, 3, Rounding::Floor)
            .unwrap();
        assert_eq!(sizes, [1, 1]);
        assert_eq!(formulas[0].rounded, Some(Rounding::Floor));
        let (sizes, _) = spec(3, 2, Padding::Valid)
            .output(6, 6, Rounding::Ceil)
            .unwrap();
        assert_eq!(sizes, [3, 3]);
    }

    #[test]
    fn same_padding_keeps_the_size_at_stride_one() {
        let (sizes, formulas) = spec(3, 1, Padding::Same)
            .output(224, 224, Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [224, 224]);
        assert_eq!(formulas[0].expression.to_string(), "(224-3+2)/1+1");
        let (sizes, _) = spec(3, 2, Padding::Same)
            .output(7, 7, Rounding::Exact)
            .unwrap();
        assert_eq!(sizes, [4, 4]);
    }

    #[test]
    fn a_window_larger_than_the_input_is_an_error() {
        let error = spec(5, 1, Padding::Valid)
            .output(4, 4, Rounding::Exact)
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

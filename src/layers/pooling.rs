//! What the sliding-window pooling kinds share (`maxpool` in `max_pooling.rs`, `avgpool` in
//! `average_pooling.rs`): a window read with [`WindowSpec`] whose stride defaults to the window
//! (non-overlapping windows), no parameters, and the LeCun/exercise-sheet connection count: every
//! output unit is linked to the k_h·k_w units of its window in its own map, and there is no bias,
//! so the counts without and with bias are equal. Padded positions count as links, as `conv2d`
//! counts them. Pooling compares or adds, it does not multiply-accumulate, so its MACs are 0.

use super::geometry::{DefaultStride, Padding, WindowSpec};
use super::{
    AttributeReader, Connections, DeclarationError, Inference, Layer, ParameterGroup,
    ReceptiveStep, ShapeError, single_maps,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};

/// A sliding-window pooling layer over H×W×C maps; each map is pooled on its own. Max and
/// average pooling are counted alike, so the analysis needs no field saying which one this is;
/// the kind's name tells them apart.
#[derive(Debug)]
struct Pooling {
    window: WindowSpec,
}

/// Reads `size` (required), `stride` (default: `size`), `padding` and `rounding`.
pub(crate) fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    Ok(Box::new(Pooling {
        window: read_window(reader)?,
    }))
}

/// Reads a pooling window and refuses explicit padding as large as the window, which would make
/// windows that hold no input unit at all (PyTorch is stricter and allows at most half a window).
pub(crate) fn read_window(reader: &mut AttributeReader) -> Result<WindowSpec, DeclarationError> {
    let window = WindowSpec::read(reader, "size", DefaultStride::Window, false)?;
    if let Padding::Explicit(padding) = window.padding
        && (padding[0] >= window.kernel[0] || padding[1] >= window.kernel[1])
        && let Some(value) = reader.value("padding")
    {
        let [height, width] = window.kernel;
        let size = if height == width {
            height.to_string()
        } else {
            format!("{height}x{width}")
        };
        let expected = format!("must be smaller than the window ({size}) on each side");
        return Err(reader.invalid("padding", value, &expected));
    }
    Ok(window)
}

impl Pooling {
    /// The links without bias: `out_h·out_w·C·k_h·k_w`, with factors of 1 dropped.
    fn links(&self, output: &Shape) -> Expression {
        let (height, width, channels) = output.maps().unwrap_or((0, 0, 0));
        Expression::product_of(&[
            height,
            width,
            channels,
            self.window.kernel[0],
            self.window.kernel[1],
        ])
        .simplified()
    }
}

impl Layer for Pooling {
    fn settings(&self) -> String {
        self.window.settings()
    }

    fn infer(&self, inputs: &[Shape], rounding: Rounding) -> Result<Inference, ShapeError> {
        let (height, width, channels) = single_maps(inputs)?;
        let ([out_height, out_width], formulas) = self.window.output(height, width, rounding)?;
        let output = Shape(vec![out_height, out_width, channels]);
        let links = output.units().and_then(|units| {
            units
                .checked_mul(self.window.kernel[0])?
                .checked_mul(self.window.kernel[1])
        });
        if links.is_none() {
            return Err(ShapeError::Overflow("the connection count".to_string()));
        }
        Ok(Inference { output, formulas })
    }

    fn parameters(&self, _: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        Vec::new()
    }

    fn connections(&self, _: &[Shape], output: &Shape) -> Connections {
        let links = self.links(output);
        Connections {
            without_bias: links.clone(),
            with_bias: links,
        }
    }

    fn receptive_step(&self, inputs: &[Shape]) -> ReceptiveStep {
        let (height, width, _) = single_maps(inputs).unwrap_or((0, 0, 0));
        self.window.receptive_step(height, width)
    }

    fn macs(&self, _: &[Shape], _: &Shape) -> Expression {
        Expression::Number(0)
    }
}

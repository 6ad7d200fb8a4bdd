//! Curves of a run: accuracy and cost against epochs, for training and (when there is any)
//! validation data, as SVG and PNG, drawn with `plotters`. Text is laid out with the bundled
//! Liberation Sans (SIL Open Font License, `assets/fonts/`), so both images look the same on
//! every machine and no system font is needed; the PNG is encoded with the `png` crate.

use crate::train::history::{EpochRecord, History};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::OnceLock;

/// The font bundled for plot text.
const FONT: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
/// Image size in pixels.
const SIZE: (u32, u32) = (800, 500);

/// The colour of the first series (matplotlib's first).
pub(crate) const BLUE: RGBColor = RGBColor(31, 119, 180);
/// The colour of the second series, and of what stands out.
pub(crate) const ORANGE: RGBColor = RGBColor(230, 97, 1);

/// Which figure of the history is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// Accuracy in percent.
    Accuracy,
    /// Cost (loss plus L2 penalty).
    Cost,
}

impl Curve {
    /// The file stem: `accuracy` or `cost`.
    pub fn name(self) -> &'static str {
        match self {
            Curve::Accuracy => "accuracy",
            Curve::Cost => "cost",
        }
    }

    fn training(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Curve::Accuracy => Some(record.accuracy * 100.0),
            Curve::Cost => Some(record.loss),
        }
        .filter(|value| value.is_finite())
    }

    fn validation(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Curve::Accuracy => record.validation_accuracy.map(|value| value * 100.0),
            Curve::Cost => record.validation_loss,
        }
        .filter(|value| value.is_finite())
    }
}

/// A plot that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {curve} plot: {reason}")]
pub struct PlotError {
    /// `accuracy` or `cost`.
    pub curve: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Registers the bundled font as `sans-serif` for plotters (once per process).
pub(crate) fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
                .map_err(|_| "the bundled font cannot be read".to_string())
        })
        .clone()
}

/// The curve as an SVG document.
pub fn svg(history: &History, curve: Curve, title: &str) -> Result<String, PlotError> {
    let fail = |reason: String| PlotError {
        curve: curve.name(),
        reason,
    };
    register_font().map_err(fail)?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, history, curve, title).map_err(fail)?;
    }
    Ok(text)
}

/// The curve as a PNG image (8-bit RGB).
pub fn png(history: &History, curve: Curve, title: &str) -> Result<Vec<u8>, PlotError> {
    let fail = |reason: String| PlotError {
        curve: curve.name(),
        reason,
    };
    register_font().map_err(fail)?;
    let mut pixels = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, history, curve, title).map_err(fail)?;
    }
    encode_png(&pixels, SIZE).map_err(fail)
}

/// RGB pixels (8 bits each, row after row) of an image of `size` as PNG bytes.
pub(crate) fn encode_png(pixels: &[u8], size: (u32, u32)) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|error| error.to_string())?;
        writer
            .write_image_data(pixels)
            .map_err(|error| error.to_string())?;
    }
    Ok(bytes)
}

fn draw<Backend: DrawingBackend>(
    root: &DrawingArea<Backend, plotters::coord::Shift>,
    history: &History,
    curve: Curve,
    title: &str,
) -> Result<(), String> {
    let text = |error: DrawingAreaErrorKind<Backend::ErrorType>| error.to_string();
    root.fill(&WHITE).map_err(text)?;
    let training: Vec<(usize, f64)> = history
        .epochs
        .iter()
        .filter_map(|record| Some((record.epoch, curve.training(record)?)))
        .collect();
    let validation: Vec<(usize, f64)> = history
        .epochs
        .iter()
        .filter_map(|record| Some((record.epoch, curve.validation(record)?)))
        .collect();
    let first = history.epochs.first().map_or(1, |record| record.epoch);
    let last = history.last_epoch().max(first + 1);
    let values = training.iter().chain(&validation).map(|(_, value)| *value);
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    let (low, high) = match curve {
        _ if !low.is_finite() => (0.0, 1.0),
        Curve::Accuracy => ((low - 1.0).max(0.0), 100.0),
        Curve::Cost => (0.0, if high > 0.0 { high * 1.05 } else { 1.0 }),
    };
    let (y_label, caption) = match curve {
        Curve::Accuracy => ("accuracy (%)", format!("{title}: accuracy")),
        Curve::Cost => ("cost", format!("{title}: cost")),
    };
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(first..last, low..high)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((last - first + 1).min(12))
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    let (blue, orange) = (BLUE, ORANGE);
    chart
        .draw_series(LineSeries::new(training, blue.stroke_width(2)))
        .map_err(text)?
        .label("training")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    if !validation.is_empty() {
        chart
            .draw_series(LineSeries::new(validation, orange.stroke_width(2)))
            .map_err(text)?
            .label("validation")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(match curve {
            Curve::Accuracy => SeriesLabelPosition::LowerRight,
            Curve::Cost => SeriesLabelPosition::UpperRight,
        })
        .draw()
        .map_err(text)?;
    root.present().map_err(text)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        History {
            epochs: (1..=5)
                .map(|epoch| EpochRecord {
                    epoch,
                    loss: 1.0 / epoch as f64,
                    accuracy: 0.8 + 0.03 * epoch as f64,
                    validation_loss: Some(0.5 + 0.02 * epoch as f64),
                    validation_accuracy: Some(0.85),
                    seconds: 1.0,
                })
                .collect(),
        }
    }

    #[test]
    fn svg_has_both_series_and_labels() {
        let text = svg(&history(), Curve::Accuracy, "mlp").unwrap();
        assert!(text.starts_with("<svg"));
        assert!(text.contains("mlp: accuracy"));
        assert!(text.contains("\ntraining\n") && text.contains("\nvalidation\n"));
        assert!(text.contains("epoch"));
        // Each series is a line and a legend mark in its colour.
        assert_eq!(text.matches("stroke=\"#1F77B4\"").count(), 2);
        assert_eq!(text.matches("stroke=\"#E66101\"").count(), 2);
    }

    #[test]
    fn png_is_an_image_with_ink() {
        let bytes = png(&history(), Curve::Cost, "mlp").unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), SIZE);
        let pixels = &pixels[..info.buffer_size()];
        let blue = pixels
            .chunks_exact(3)
            .filter(|pixel| *pixel == [31, 119, 180])
            .count();
        let dark = pixels
            .chunks_exact(3)
            .filter(|pixel| pixel.iter().all(|&channel| channel < 80))
            .count();
        assert!(blue > 500, "the training curve is drawn ({blue} pixels)");
        assert!(dark > 2000, "text and axes are drawn ({dark} pixels)");
    }

    #[test]
    fn a_single_epoch_without_validation_still_plots() {
        let mut history = history();
        history.epochs.truncate(1);
        history.epochs[0].validation_loss = None;
        history.epochs[0].validation_accuracy = None;
        history.epochs[0].loss = f64::NAN;
        let text = svg(&history, Curve::Cost, "net").unwrap();
        assert!(!text.contains("validation"));
        assert!(png(&History::default(), Curve::Accuracy, "net").is_ok());
    }
}

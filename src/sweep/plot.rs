//! `accuracy-vs-parameters.svg` and `.png`: each configuration's mean fold accuracy against its
//! parameter count (logarithmic axis), with a bar of ± one standard deviation and its index
//! beside it; the best configuration in orange. Drawn with plotters and the bundled font, as the
//! run curves are (crate::train::plot).

use crate::sweep::results::SweepResults;
use crate::train::plot::{BLUE, ORANGE, encode_png, register_font};
use plotters::prelude::*;

/// Image size in pixels.
const SIZE: (u32, u32) = (800, 500);

/// One configuration's point.
struct Point {
    index: usize,
    parameters: f64,
    mean: f64,
    std: f64,
    best: bool,
}

fn points(results: &SweepResults) -> Vec<Point> {
    let best = results.best().map(|best| best.configuration.index);
    results
        .configurations
        .iter()
        .filter_map(|result| {
            Some(Point {
                index: result.configuration.index,
                parameters: result.configuration.parameters.max(1) as f64,
                mean: result.mean()? * 100.0,
                std: result.std()? * 100.0,
                best: Some(result.configuration.index) == best,
            })
        })
        .collect()
}

/// The plot as an SVG document.
pub fn svg(results: &SweepResults) -> Result<String, String> {
    register_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, results)?;
    }
    Ok(text)
}

/// The plot as a PNG image.
pub fn png(results: &SweepResults) -> Result<Vec<u8>, String> {
    register_font()?;
    let mut pixels = vec![0u8; SIZE.0 as usize * SIZE.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, results)?;
    }
    encode_png(&pixels, SIZE)
}

fn draw<Backend: DrawingBackend>(
    root: &DrawingArea<Backend, plotters::coord::Shift>,
    results: &SweepResults,
) -> Result<(), String> {
    let text = |error: DrawingAreaErrorKind<Backend::ErrorType>| error.to_string();
    root.fill(&WHITE).map_err(text)?;
    let points = points(results);
    let (mut left, mut right) = points
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(low, high), point| {
            (low.min(point.parameters), high.max(point.parameters))
        });
    if !left.is_finite() {
        (left, right) = (1.0, 10.0);
    }
    let (left, right) = (left / 1.5, right * 1.5);
    let (low, high) =
        points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), point| {
                (
                    low.min(point.mean - point.std),
                    high.max(point.mean + point.std),
                )
            });
    let (low, high) = if low.is_finite() {
        let margin = ((high - low) * 0.1).max(0.5);
        ((low - margin).max(0.0), (high + margin).min(100.0))
    } else {
        (0.0, 100.0)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: mean accuracy against parameters", results.name),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((left..right).log_scale(), low..high)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("parameters")
        .y_desc(format!("mean accuracy (%), {}", results.evaluation))
        .x_label_formatter(&|value| crate::report::numbers::thousands(value.round() as u64))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(text)?;
    for point in &points {
        let colour = if point.best { ORANGE } else { BLUE };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    (point.parameters, point.mean - point.std),
                    (point.parameters, point.mean + point.std),
                ],
                colour.stroke_width(1),
            )))
            .map_err(text)?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (point.parameters, point.mean),
                4,
                colour.filled(),
            )))
            .map_err(text)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("#{}", point.index),
                (point.parameters, point.mean),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))
            .map_err(text)?;
    }
    root.present().map_err(text)?;
    Ok(())
}

//! The picture as PNG bytes, rasterised in memory by tiny-skia (anti-aliased paths) with the
//! bundled Liberation Sans: every glyph's outline (read by ab_glyph) is filled as a path, placed
//! with the same advances the layout measured, so the PNG shows exactly the SVG's geometry.
//! This is the one part of drawing that needs a rasteriser and the font file; the rest is plain
//! computation.

use super::picture::style::{self, Colour};
use super::picture::{Picture, Piece, Rect, Text};
use super::text;
use ab_glyph::{Font, FontRef, OutlineCurve};
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Transform};

/// The bundled font.
const FONT: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
/// Pixels per picture unit, for sharp text on high-density screens.
pub const SCALE: f64 = 2.0;
/// The longest side a PNG gets, in pixels (the largest many image viewers and libraries open);
/// larger pictures are drawn at a smaller scale.
pub const LONGEST_SIDE: f64 = 32_767.0;
/// The most pixels a PNG gets; larger pictures are drawn at a smaller scale.
pub const MOST_PIXELS: f64 = 60_000_000.0;

/// A picture that could not be rasterised.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the PNG: {reason}")]
pub struct PngError {
    /// What went wrong.
    pub reason: String,
}

/// The pixels per picture unit for a picture: [`SCALE`], or less so that it stays within
/// [`LONGEST_SIDE`] and [`MOST_PIXELS`].
pub fn scale_for(picture: &Picture) -> f64 {
    let longest = picture.width.max(picture.height).max(1.0);
    let area = (picture.width * picture.height).max(1.0);
    SCALE
        .min(LONGEST_SIDE / longest)
        .min((MOST_PIXELS / area).sqrt())
}

/// The PNG file of a picture, and its size in pixels.
pub fn render(picture: &Picture) -> Result<(Vec<u8>, u32, u32), PngError> {
    let fail = |reason: String| PngError { reason };
    let font = FontRef::try_from_slice(FONT)
        .map_err(|_| fail("the bundled font cannot be read".to_string()))?;
    let scale = scale_for(picture);
    let width = (picture.width * scale).ceil().max(1.0) as u32;
    let height = (picture.height * scale).ceil().max(1.0) as u32;
    let mut pixmap = Pixmap::new(width, height)
        .ok_or_else(|| fail(format!("a {width}×{height} image is too large")))?;
    pixmap.fill(colour(style::BACKGROUND));
    let transform = Transform::from_scale(scale as f32, scale as f32);
    let mut canvas = Canvas {
        pixmap: &mut pixmap,
        transform,
        font: &font,
    };
    canvas.text(&picture.title, style::TEXT);
    for stroke in &picture.strokes {
        let mut path = PathBuilder::new();
        path.move_to(stroke.start.x as f32, stroke.start.y as f32);
        for piece in &stroke.pieces {
            match *piece {
                Piece::Line(to) => path.line_to(to.x as f32, to.y as f32),
                Piece::Curve(a, b, to) => path.cubic_to(
                    a.x as f32,
                    a.y as f32,
                    b.x as f32,
                    b.y as f32,
                    to.x as f32,
                    to.y as f32,
                ),
            }
        }
        canvas.stroke(path, style::EDGE, style::EDGE_WIDTH);
        if let Some([tip, left, right]) = stroke.arrow {
            let mut arrow = PathBuilder::new();
            arrow.move_to(tip.x as f32, tip.y as f32);
            arrow.line_to(left.x as f32, left.y as f32);
            arrow.line_to(right.x as f32, right.y as f32);
            arrow.close();
            canvas.fill(arrow, style::EDGE);
        }
    }
    for layer in &picture.boxes {
        canvas.fill(rounded(&layer.rect), style::BOX_FILL);
        canvas.stroke(rounded(&layer.rect), style::BOX_BORDER, style::BORDER_WIDTH);
        for line in &layer.lines {
            canvas.text(line, style::TEXT);
        }
        for cell in &layer.cells {
            let mut path = PathBuilder::new();
            if let Some(rect) = tiny_skia::Rect::from_xywh(
                cell.rect.x as f32,
                cell.rect.y as f32,
                cell.rect.width as f32,
                cell.rect.height as f32,
            ) {
                path.push_rect(rect);
            }
            let colour = if cell.connected {
                style::CONNECTED
            } else {
                style::UNCONNECTED
            };
            canvas.fill(path, colour);
        }
    }
    for label in &picture.labels {
        canvas.text(label, style::LABEL);
    }
    let bytes = pixmap
        .encode_png()
        .map_err(|error| fail(error.to_string()))?;
    Ok((bytes, width, height))
}

fn colour(colour: Colour) -> tiny_skia::Color {
    tiny_skia::Color::from_rgba8(colour.0, colour.1, colour.2, 255)
}

fn paint(colour: Colour) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color_rgba8(colour.0, colour.1, colour.2, 255);
    paint.anti_alias = true;
    paint
}

/// A box's outline with rounded corners.
fn rounded(rect: &Rect) -> PathBuilder {
    let r = style::CORNER.min(rect.width / 2.0).min(rect.height / 2.0) as f32;
    let (x, y) = (rect.x as f32, rect.y as f32);
    let (right, bottom) = (rect.right() as f32, rect.bottom() as f32);
    let mut path = PathBuilder::new();
    path.move_to(x + r, y);
    path.line_to(right - r, y);
    path.quad_to(right, y, right, y + r);
    path.line_to(right, bottom - r);
    path.quad_to(right, bottom, right - r, bottom);
    path.line_to(x + r, bottom);
    path.quad_to(x, bottom, x, bottom - r);
    path.line_to(x, y + r);
    path.quad_to(x, y, x + r, y);
    path.close();
    path
}

struct Canvas<'a> {
    pixmap: &'a mut Pixmap,
    transform: Transform,
    font: &'a FontRef<'static>,
}

impl Canvas<'_> {
    fn fill(&mut self, path: PathBuilder, colour: Colour) {
        if let Some(path) = path.finish() {
            self.pixmap.fill_path(
                &path,
                &paint(colour),
                FillRule::Winding,
                self.transform,
                None,
            );
        }
    }

    fn stroke(&mut self, path: PathBuilder, colour: Colour, width: f64) {
        if let Some(path) = path.finish() {
            let stroke = tiny_skia::Stroke {
                width: width as f32,
                ..tiny_skia::Stroke::default()
            };
            self.pixmap
                .stroke_path(&path, &paint(colour), &stroke, self.transform, None);
        }
    }

    /// Fills the glyph outlines of a line of text, advancing by the layout's widths.
    fn text(&mut self, line: &Text, colour: Colour) {
        let path = glyph_outlines(self.font, line);
        self.fill(path, colour);
    }
}

/// The outlines of a line's glyphs as one path, in picture units.
fn glyph_outlines(font: &FontRef<'_>, line: &Text) -> PathBuilder {
    let units = (line.size / text::UNITS_PER_EM) as f32;
    let baseline = line.baseline as f32;
    let mut pen = line.left() as f32;
    let mut path = PathBuilder::new();
    for character in line.content.chars() {
        if let Some(outline) = font.outline(font.glyph_id(character)) {
            let place =
                |point: ab_glyph::Point| (pen + point.x * units, baseline - point.y * units);
            let mut end: Option<ab_glyph::Point> = None;
            for curve in &outline.curves {
                let (start, finish) = match *curve {
                    OutlineCurve::Line(a, b) => (a, b),
                    OutlineCurve::Quad(a, _, b) => (a, b),
                    OutlineCurve::Cubic(a, _, _, b) => (a, b),
                };
                if end != Some(start) {
                    if end.is_some() {
                        path.close();
                    }
                    let (x, y) = place(start);
                    path.move_to(x, y);
                }
                match *curve {
                    OutlineCurve::Line(_, b) => {
                        let (x, y) = place(b);
                        path.line_to(x, y);
                    }
                    OutlineCurve::Quad(_, control, b) => {
                        let (cx, cy) = place(control);
                        let (x, y) = place(b);
                        path.quad_to(cx, cy, x, y);
                    }
                    OutlineCurve::Cubic(_, first, second, b) => {
                        let (ax, ay) = place(first);
                        let (bx, by) = place(second);
                        let (x, y) = place(b);
                        path.cubic_to(ax, ay, bx, by, x, y);
                    }
                }
                end = Some(finish);
            }
            if end.is_some() {
                path.close();
            }
        }
        pen += (f64::from(text::advance(character)) * line.size / text::UNITS_PER_EM) as f32;
    }
    path
}

/// The ink of a line of text: the bounds of its glyph outlines, in picture units (None for
/// blank text). Tests use it to check that glyphs, not only advances, stay in their boxes.
pub fn ink_bounds(line: &Text) -> Option<Rect> {
    let font = FontRef::try_from_slice(FONT).ok()?;
    let bounds = glyph_outlines(&font, line).finish()?.bounds();
    Some(Rect {
        x: f64::from(bounds.left()),
        y: f64::from(bounds.top()),
        width: f64::from(bounds.width()),
        height: f64::from(bounds.height()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advance_table_is_the_fonts() {
        let font = FontRef::try_from_slice(FONT).expect("bundled font");
        assert_eq!(font.units_per_em(), Some(text::UNITS_PER_EM as f32));
        assert_eq!(font.ascent_unscaled(), text::ASCENT as f32);
        assert_eq!(font.descent_unscaled(), -text::DESCENT as f32);
        for &(character, units) in text::ADVANCES {
            let glyph = font.glyph_id(character);
            assert_ne!(glyph.0, 0, "the font has no glyph for {character:?}");
            assert_eq!(
                font.h_advance_unscaled(glyph),
                f32::from(units),
                "advance of {character:?}"
            );
        }
    }

    #[test]
    fn large_pictures_get_fewer_pixels_per_unit() {
        let picture = |width: f64, height: f64| Picture {
            name: String::new(),
            width,
            height,
            title: Text {
                content: String::new(),
                x: 0.0,
                baseline: 0.0,
                size: 12.0,
                anchor: super::super::picture::Anchor::Start,
            },
            boxes: Vec::new(),
            labels: Vec::new(),
            strokes: Vec::new(),
        };
        // ResNet-50 top to bottom keeps 2 pixels per unit; left to right it is too wide.
        assert_eq!(scale_for(&picture(430.0, 15063.0)), 2.0);
        assert_eq!(scale_for(&picture(35043.0, 184.0)), 32_767.0 / 35043.0);
        // A large square is limited by its area.
        let scale = scale_for(&picture(10_000.0, 10_000.0));
        assert!((scale * 10_000.0).powi(2) <= MOST_PIXELS + 1.0);
    }

    #[test]
    fn glyph_ink_stays_within_the_fonts_line_box() {
        // For every character of the table, the outline lies within its advance (with the
        // small overhangs italic-like glyphs have) and between descent and ascent.
        for &(character, _) in text::ADVANCES {
            let line = Text {
                content: character.to_string(),
                x: 100.0,
                baseline: 100.0,
                size: 12.0,
                anchor: super::super::picture::Anchor::Start,
            };
            let Some(ink) = ink_bounds(&line) else {
                continue;
            };
            let reserved = line.bounds();
            assert!(
                ink.x >= reserved.x - 1.0 && ink.right() <= reserved.right() + 1.0,
                "{character:?}: ink {ink:?} reserved {reserved:?}"
            );
            assert!(
                ink.y >= reserved.y - 0.5 && ink.bottom() <= reserved.bottom() + 0.5,
                "{character:?}: ink {ink:?} reserved {reserved:?}"
            );
        }
    }
}

//! The picture as SVG text: deterministic (coordinates to a tenth, fixed order), with text in
//! Liberation Sans or a metric-compatible font (Arial, Helvetica), as the layout measured it.

use super::picture::style::{self, Colour};
use super::picture::{Anchor, Picture, Piece, Position, Rect, Stroke, Text};
use std::fmt::Write;

/// The SVG document of a picture.
pub fn render(picture: &Picture) -> String {
    let mut svg = String::new();
    let (width, height) = (number(picture.width), number(picture.height));
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"'Liberation Sans', Arial, Helvetica, sans-serif\">"
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(&picture.name));
    let _ = writeln!(
        svg,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"{}\"/>",
        style::BACKGROUND.hex()
    );
    text(&mut svg, &picture.title, style::TEXT);
    let _ = writeln!(
        svg,
        "<g fill=\"none\" stroke=\"{}\" stroke-width=\"{}\">",
        style::EDGE.hex(),
        number(style::EDGE_WIDTH)
    );
    for stroke in &picture.strokes {
        let _ = writeln!(svg, "<path d=\"{}\"/>", path(stroke));
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, "<g fill=\"{}\">", style::EDGE.hex());
    for arrow in picture.strokes.iter().filter_map(|stroke| stroke.arrow) {
        let [tip, left, right] = arrow.map(point);
        let _ = writeln!(svg, "<path d=\"M{tip} L{left} L{right} Z\"/>");
    }
    let _ = writeln!(svg, "</g>");
    for layer in &picture.boxes {
        let _ = writeln!(
            svg,
            "<g class=\"layer\" data-name=\"{}\">",
            escape(&layer.name)
        );
        let paint = format!(
            "rx=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"",
            number(style::CORNER),
            style::BOX_FILL.hex(),
            style::BOX_BORDER.hex(),
            number(style::BORDER_WIDTH)
        );
        rectangle(&mut svg, &layer.rect, &paint);
        for line in &layer.lines {
            text(&mut svg, line, style::TEXT);
        }
        for cell in &layer.cells {
            let colour = if cell.connected {
                style::CONNECTED
            } else {
                style::UNCONNECTED
            };
            rectangle(&mut svg, &cell.rect, &format!("fill=\"{}\"", colour.hex()));
        }
        let _ = writeln!(svg, "</g>");
    }
    for label in &picture.labels {
        text(&mut svg, label, style::LABEL);
    }
    svg.push_str("</svg>\n");
    svg
}

/// A `<rect>` with its position and size, then `paint` (its other attributes).
fn rectangle(svg: &mut String, rect: &Rect, paint: &str) {
    let _ = writeln!(
        svg,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {paint}/>",
        number(rect.x),
        number(rect.y),
        number(rect.width),
        number(rect.height),
    );
}

fn text(svg: &mut String, text: &Text, colour: Colour) {
    let anchor = match text.anchor {
        Anchor::Start => "",
        Anchor::Middle => " text-anchor=\"middle\"",
    };
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{}\"{anchor}>{}</text>",
        number(text.x),
        number(text.baseline),
        number(text.size),
        colour.hex(),
        escape(&text.content)
    );
}

fn path(stroke: &Stroke) -> String {
    let mut d = format!("M{}", point(stroke.start));
    for piece in &stroke.pieces {
        match *piece {
            Piece::Line(to) => {
                let _ = write!(d, " L{}", point(to));
            }
            Piece::Curve(a, b, to) => {
                let _ = write!(d, " C{} {} {}", point(a), point(b), point(to));
            }
        }
    }
    d
}

fn point(position: Position) -> String {
    format!("{},{}", number(position.x), number(position.y))
}

/// A coordinate to a tenth, without a trailing `.0` or a negative zero.
fn number(value: f64) -> String {
    let tenths = (value * 10.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!(
            "{}{}.{}",
            if tenths < 0 { "-" } else { "" },
            (tenths / 10).abs(),
            (tenths % 10).abs()
        )
    }
}

/// Text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(character),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::{escape, number};

    #[test]
    fn numbers_are_written_to_a_tenth() {
        assert_eq!(number(12.0), "12");
        assert_eq!(number(12.04), "12");
        assert_eq!(number(12.05), "12.1");
        assert_eq!(number(-0.04), "0");
        assert_eq!(number(-0.25), "-0.3");
        assert_eq!(number(-3.5), "-3.5");
    }

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}

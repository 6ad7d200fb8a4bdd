//! Checks a picture's geometry, independently of how the layout built it: boxes and labels do
//! not overlap, text fits inside its box, and no edge crosses a box or a label (curves are
//! flattened into short segments and every segment is clipped against every rectangle). Tests
//! run this on every built-in architecture, every fixture and random graphs.

use super::picture::{Picture, Piece, Position, Rect, Stroke};
use std::fmt;

/// Something wrong with a picture.
#[derive(Debug, Clone, PartialEq)]
pub enum Defect {
    /// Two boxes or labels share area.
    Overlap(String, String),
    /// A line of text, or a table cell, reaches outside its box.
    TextOutside(String, String),
    /// An edge passes through a box or a label.
    EdgeThrough(String, String),
    /// Something lies outside the picture.
    OutsidePicture(String),
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Overlap(a, b) => write!(f, "{a} overlaps {b}"),
            Defect::TextOutside(layer, text) => write!(f, "`{text}` reaches outside {layer}"),
            Defect::EdgeThrough(edge, thing) => write!(f, "{edge} passes through {thing}"),
            Defect::OutsidePicture(thing) => write!(f, "{thing} lies outside the picture"),
        }
    }
}

/// Text and boxes may touch; an edge may run this close to a rectangle's border.
const TOLERANCE: f64 = 0.5;

/// Everything wrong with a picture (nothing when it is fine).
pub fn defects(picture: &Picture) -> Vec<Defect> {
    let mut defects = Vec::new();
    // The rectangles that must stay apart: boxes, labels and the title.
    let mut areas: Vec<(String, Rect)> = picture
        .boxes
        .iter()
        .map(|layer| (format!("box `{}`", layer.name), layer.rect))
        .collect();
    areas.extend(
        picture
            .labels
            .iter()
            .map(|label| (format!("label `{}`", label.content), label.bounds())),
    );
    areas.push((
        format!("title `{}`", picture.title.content),
        picture.title.bounds(),
    ));
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        width: picture.width,
        height: picture.height,
    };
    for (index, (name, rect)) in areas.iter().enumerate() {
        if !canvas.contains(rect) {
            defects.push(Defect::OutsidePicture(name.clone()));
        }
        for (other, other_rect) in &areas[index + 1..] {
            if rect.overlaps(other_rect) {
                defects.push(Defect::Overlap(name.clone(), other.clone()));
            }
        }
    }
    for layer in &picture.boxes {
        let name = format!("box `{}`", layer.name);
        for line in &layer.lines {
            if !layer.rect.contains(&line.bounds()) {
                defects.push(Defect::TextOutside(name.clone(), line.content.clone()));
            }
        }
        for cell in &layer.cells {
            if !layer.rect.contains(&cell.rect) {
                defects.push(Defect::TextOutside(
                    name.clone(),
                    "a table cell".to_string(),
                ));
            }
        }
    }
    for stroke in &picture.strokes {
        let name = match stroke.to {
            Some(to) => format!(
                "edge `{}` → `{}`",
                picture.boxes[stroke.from].name, picture.boxes[to].name
            ),
            None => format!("stub under `{}`", picture.boxes[stroke.from].name),
        };
        let segments = flatten(stroke);
        for (thing, rect) in &areas {
            // An edge starts on its source's border and its arrow ends on its target's: it
            // may touch them (and anything else) but not enter them.
            let inner = Rect {
                x: rect.x + TOLERANCE,
                y: rect.y + TOLERANCE,
                width: rect.width - 2.0 * TOLERANCE,
                height: rect.height - 2.0 * TOLERANCE,
            };
            if segments.iter().any(|&(a, b)| crosses(a, b, &inner)) {
                defects.push(Defect::EdgeThrough(name.clone(), thing.clone()));
            }
        }
        for &(a, b) in &segments {
            for point in [a, b] {
                let dot = Rect {
                    x: point.x,
                    y: point.y,
                    width: 0.0,
                    height: 0.0,
                };
                if !canvas.contains(&dot) {
                    defects.push(Defect::OutsidePicture(name.clone()));
                }
            }
        }
    }
    defects.dedup();
    defects
}

/// A stroke as straight segments: lines as they are, curves in 24 steps, the arrowhead's sides.
fn flatten(stroke: &Stroke) -> Vec<(Position, Position)> {
    let mut segments = Vec::new();
    let mut at = stroke.start;
    for piece in &stroke.pieces {
        match *piece {
            Piece::Line(to) => {
                segments.push((at, to));
                at = to;
            }
            Piece::Curve(a, b, to) => {
                const STEPS: usize = 24;
                let start = at;
                for step in 1..=STEPS {
                    let t = step as f64 / STEPS as f64;
                    let u = 1.0 - t;
                    let blend = |p: f64, q: f64, r: f64, s: f64| {
                        u * u * u * p + 3.0 * u * u * t * q + 3.0 * u * t * t * r + t * t * t * s
                    };
                    let point = Position {
                        x: blend(start.x, a.x, b.x, to.x),
                        y: blend(start.y, a.y, b.y, to.y),
                    };
                    segments.push((at, point));
                    at = point;
                }
                at = to;
            }
        }
    }
    if let Some([tip, left, right]) = stroke.arrow {
        segments.extend([(tip, left), (left, right), (right, tip)]);
    }
    segments
}

/// Whether the segment from `a` to `b` enters the rectangle (Liang–Barsky clipping).
fn crosses(a: Position, b: Position, rect: &Rect) -> bool {
    if rect.width <= 0.0 || rect.height <= 0.0 {
        return false;
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let mut low = 0.0f64;
    let mut high = 1.0f64;
    for (p, q) in [
        (-dx, a.x - rect.x),
        (dx, rect.right() - a.x),
        (-dy, a.y - rect.y),
        (dy, rect.bottom() - a.y),
    ] {
        if p == 0.0 {
            if q <= 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                low = low.max(r);
            } else {
                high = high.min(r);
            }
        }
    }
    low < high
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f64, y: f64) -> Position {
        Position { x, y }
    }

    #[test]
    fn segments_entering_a_rectangle_are_found() {
        let rect = Rect {
            x: 10.0,
            y: 10.0,
            width: 10.0,
            height: 10.0,
        };
        assert!(crosses(at(0.0, 15.0), at(30.0, 15.0), &rect));
        assert!(crosses(at(15.0, 15.0), at(15.0, 16.0), &rect));
        assert!(crosses(at(0.0, 0.0), at(30.0, 30.0), &rect));
        // Along a border, beside it, or stopping short: not inside.
        assert!(!crosses(at(10.0, 0.0), at(10.0, 30.0), &rect));
        assert!(!crosses(at(0.0, 0.0), at(30.0, 5.0), &rect));
        assert!(!crosses(at(15.0, 0.0), at(15.0, 9.0), &rect));
    }
}

//! Pictures of random graphs keep their geometry (no overlaps, text inside its box, no edge
//! through a box or label), and the geometry check finds each kind of defect when one is made on
//! purpose.

use super::inspect::{Defect, defects};
use super::picture::{Picture, Piece, Position};
use super::{Block, Diagram, Direction};
use proptest::prelude::*;

/// Text with narrow and wide characters, including some outside the advance table.
fn words() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9_.×@W \\-\\[\\]木]{1,26}").expect("a valid regex")
}

fn block() -> impl Strategy<Value = Block> {
    (
        words(),
        proptest::collection::vec(words(), 0..4),
        proptest::option::weighted(0.15, (1usize..7, 1usize..20, any::<u64>())),
        proptest::option::weighted(0.8, words()),
    )
        .prop_map(|(name, details, table, output)| Block {
            name,
            details,
            table: table.map(|(rows, columns, bits)| {
                (0..rows)
                    .map(|row| {
                        (0..columns)
                            .map(|column| bits >> ((row * columns + column) % 64) & 1 == 1)
                            .collect()
                    })
                    .collect()
            }),
            output,
        })
}

/// A random DAG: each block reads up to three earlier blocks (or none: another source), so
/// links go forward only; reading the same block twice is allowed, as `add <- a, a` is.
fn diagram() -> impl Strategy<Value = Diagram> {
    proptest::collection::vec(
        (block(), proptest::collection::vec(any::<usize>(), 0..4)),
        1..20,
    )
    .prop_map(|blocks| {
        let mut links = Vec::new();
        for (index, (_, inputs)) in blocks.iter().enumerate().skip(1) {
            for &input in inputs {
                links.push((input % index, index));
            }
        }
        Diagram {
            name: "random".to_string(),
            title: "random · a title".to_string(),
            blocks: blocks.into_iter().map(|(block, _)| block).collect(),
            links,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_graphs_are_drawn_without_overlaps_or_crossed_boxes(diagram in diagram()) {
        for direction in [Direction::TopToBottom, Direction::LeftToRight] {
            let picture = Picture::of(&diagram, direction);
            let found = defects(&picture);
            prop_assert!(found.is_empty(), "{direction:?}: {}", found.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        }
    }
}

fn sample() -> Picture {
    let block = |name: &str| Block {
        name: name.to_string(),
        details: vec!["conv2d 3×3, 16".to_string()],
        table: None,
        output: Some("[28×28×16]".to_string()),
    };
    let diagram = Diagram {
        name: "sample".to_string(),
        title: "sample".to_string(),
        blocks: vec![block("a"), block("b"), block("c"), block("d")],
        links: vec![(0, 1), (1, 2), (2, 3), (0, 3)],
    };
    Picture::of(&diagram, Direction::TopToBottom)
}

#[test]
fn the_sample_is_fine() {
    assert_eq!(defects(&sample()), Vec::new());
}

#[test]
fn a_box_moved_onto_another_is_an_overlap() {
    let mut picture = sample();
    picture.boxes[1].rect.y = picture.boxes[0].rect.y + 5.0;
    assert!(
        defects(&picture)
            .iter()
            .any(|d| matches!(d, Defect::Overlap(a, b) if a == "box `a`" && b == "box `b`"))
    );
}

#[test]
fn a_box_too_narrow_for_its_text_is_found() {
    let mut picture = sample();
    picture.boxes[2].rect.width = 20.0;
    picture.boxes[2].rect.x += 30.0;
    assert!(
        defects(&picture)
            .iter()
            .any(|d| matches!(d, Defect::TextOutside(layer, text) if layer == "box `c`" && text == "conv2d 3×3, 16"))
    );
}

#[test]
fn an_edge_through_a_box_is_found() {
    let mut picture = sample();
    // Send the shortcut a → d straight down through b and c.
    let stroke = picture
        .strokes
        .iter_mut()
        .find(|stroke| stroke.from == 0 && stroke.to == Some(3))
        .expect("the shortcut");
    let x = picture.boxes[1].rect.x + 10.0;
    let end = picture.boxes[3].rect.y;
    stroke.pieces = vec![Piece::Line(Position { x, y: end })];
    let found = defects(&picture);
    assert!(
        found
            .iter()
            .any(|d| matches!(d, Defect::EdgeThrough(edge, thing) if edge == "edge `a` → `d`" && thing == "box `b`")),
        "{found:?}"
    );
}

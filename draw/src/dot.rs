//! The diagram as graphviz DOT, for people who want graphviz's layout: the same box text as the
//! picture, output shapes on the edges (a last layer's on a short edge to an invisible point),
//! a connection table as rows of `X` and `.` in a monospaced font, and `rankdir`. Deterministic: blocks in
//! evaluation order, links in the order their targets read them.

use super::Direction;
use super::diagram::{Block, Diagram};
use super::picture::style;
use std::fmt::Write;

const FONT: &str = "Liberation Sans,Arial,Helvetica,sans-serif";

/// The DOT text of a diagram.
pub fn render(diagram: &Diagram, direction: Direction) -> String {
    let mut dot = String::new();
    let _ = writeln!(dot, "digraph {} {{", quote(&diagram.name));
    let _ = writeln!(
        dot,
        "  graph [rankdir={}, label={}, labelloc=t, labeljust=l, fontname={}, fontsize=14];",
        direction.rankdir(),
        quote(&diagram.title),
        quote(FONT)
    );
    let _ = writeln!(
        dot,
        "  node [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", color=\"{}\", fontname={}, fontsize=11];",
        style::BOX_FILL.hex(),
        style::BOX_BORDER.hex(),
        quote(FONT)
    );
    let _ = writeln!(
        dot,
        "  edge [color=\"{}\", fontname={}, fontsize=10, fontcolor=\"{}\"];",
        style::EDGE.hex(),
        quote(FONT),
        style::LABEL.hex()
    );
    for (index, block) in diagram.blocks.iter().enumerate() {
        let _ = writeln!(dot, "  n{index} [label={}];", label(block));
    }
    let mut has_output = vec![false; diagram.blocks.len()];
    for &(from, to) in &diagram.links {
        has_output[from] = true;
        match &diagram.blocks[from].output {
            Some(shape) => {
                let _ = writeln!(dot, "  n{from} -> n{to} [label={}];", quote(shape));
            }
            None => {
                let _ = writeln!(dot, "  n{from} -> n{to};");
            }
        }
    }
    for (index, block) in diagram.blocks.iter().enumerate() {
        if let (Some(shape), false) = (&block.output, has_output[index]) {
            let _ = writeln!(dot, "  n{index}_output [shape=point, style=invis];");
            let _ = writeln!(
                dot,
                "  n{index} -> n{index}_output [label={}, arrowhead=none];",
                quote(shape)
            );
        }
    }
    dot.push_str("}\n");
    dot
}

/// A block's label: a quoted string with one line per line of text, or, when it carries a
/// connection table, an HTML-like label with the table's rows in a monospaced font, written as
/// descriptions write them (`X` connected, `.` not).
fn label(block: &Block) -> String {
    let lines: Vec<&str> = std::iter::once(block.name.as_str())
        .chain(block.details.iter().map(String::as_str))
        .collect();
    let Some(table) = &block.table else {
        return quote(&lines.join("\n"));
    };
    let text: Vec<String> = lines.iter().map(|line| html(line)).collect();
    let rows: Vec<String> = table
        .iter()
        .map(|row| {
            row.iter()
                .map(|&connected| if connected { 'X' } else { '.' })
                .collect()
        })
        .collect();
    format!(
        "<{}<BR/><FONT FACE=\"Courier,monospace\" POINT-SIZE=\"9\">{}</FONT>>",
        text.join("<BR/>"),
        rows.join("<BR/>")
    )
}

/// A DOT quoted string; line breaks become centred `\n` breaks.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            _ => quoted.push(character),
        }
    }
    quoted.push('"');
    quoted
}

/// Text inside an HTML-like label.
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}

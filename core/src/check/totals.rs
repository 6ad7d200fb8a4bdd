//! Finds the statements of totals in the prose around the tables: a line that mentions a total
//! (`Total number of parameters: 62 million …: $…= 62378344$`), or a line right after such a
//! lead-in (`So altogether we have` / `$$784 \times 100 + … = 89610$$`). Each number or equation
//! on it is one statement, checked like a cell of a `Sum` row. Remarks in parentheses
//! (`(note that the fc layers have 94% of the parameters!)`) and other prose are not checked.

use super::columns::Column;
use super::hand_table::{Document, Line};

/// One statement of a total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotalStatement {
    /// The line it is on.
    pub line: usize,
    /// Its text (a number, or an equation such as `320 + 18496 = 18816`).
    pub text: String,
    /// What it totals, as the column of a table would say.
    pub column: Column,
}

/// The total statements of a document, in order.
pub fn statements(document: &Document) -> Vec<TotalStatement> {
    let tables: Vec<(usize, usize)> = document
        .tables
        .iter()
        .map(|table| {
            let last = table
                .rows
                .last()
                .map_or(table.header.number, |r| r.line.number);
            (table.header.number, last)
        })
        .collect();
    let mut found = Vec::new();
    let mut previous: Option<&Line> = None;
    for line in &document.prose {
        let lead_in = previous.and_then(|p| {
            let last = last_sentence(&p.text);
            let leads = line.number - p.number <= 3
                && !tables
                    .iter()
                    .any(|(start, _)| *start > p.number && *start < line.number)
                && mentions_total(last)
                && (last.trim_end().ends_with(':') || !last.contains(char::is_numeric));
            leads.then_some(last)
        });
        let stated = match (total_part(&line.text), lead_in) {
            (Some(part), _) => Some(part),
            (None, Some(_)) => Some(line.text.as_str()),
            (None, None) => None,
        };
        if let Some(part) = stated.filter(|part| part.contains(|c: char| c.is_ascii_digit())) {
            let context = format!("{} {part}", lead_in.unwrap_or(""));
            let column = topic(&context);
            for text in segments(part) {
                found.push(TotalStatement {
                    line: line.number,
                    text,
                    column,
                });
            }
        }
        previous = Some(line);
    }
    found
}

/// The line from the first sentence that mentions a total, if that part holds a number.
fn total_part(text: &str) -> Option<&str> {
    let mut start = 0;
    for sentence in sentences(text) {
        if mentions_total(sentence) {
            let part = &text[start..];
            return part.contains(|c: char| c.is_ascii_digit()).then_some(part);
        }
        start += sentence.len();
    }
    None
}

/// The sentences of a line, each with its end (`. `, `! `, `? `); decimals do not end one.
fn sentences(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for index in 0..bytes.len() {
        let ends =
            matches!(bytes[index], b'.' | b'!' | b'?') && bytes.get(index + 1) == Some(&b' ');
        if ends {
            found.push(&text[start..index + 2]);
            start = index + 2;
        }
    }
    if start < text.len() {
        found.push(&text[start..]);
    }
    found
}

fn last_sentence(text: &str) -> &str {
    sentences(text).last().copied().unwrap_or("")
}

fn mentions_total(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphabetic()).collect();
    words
        .iter()
        .any(|w| matches!(*w, "total" | "altogether" | "overall" | "sum"))
        || lower.contains("in all")
}

/// What a total line is about: parameters unless it says connections or MACs.
fn topic(text: &str) -> Column {
    let lower = text.to_lowercase();
    if lower.contains("connection") {
        let without = ["without", "w/o", "excluding", "no bias"]
            .iter()
            .any(|w| lower.contains(w));
        if without {
            Column::ConnectionsWithoutBias
        } else {
            Column::ConnectionsWithBias
        }
    } else if lower.contains("mac") || lower.contains("multiply") {
        Column::Macs
    } else {
        Column::Parameters {
            trainable_only: lower.contains("learn") || lower.contains("trainable"),
        }
    }
}

/// The statements on a line: each `$…$` / `$$…$$` formula, and in the text around them each part
/// after a colon that holds a number (remarks in parentheses removed, leading words dropped).
fn segments(text: &str) -> Vec<String> {
    let mut math = Vec::new();
    let mut prose = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        prose.push_str(&rest[..start]);
        let after = &rest[start..];
        let delimiter = if after.starts_with("$$") { "$$" } else { "$" };
        let inner = &after[delimiter.len()..];
        match inner.find(delimiter) {
            Some(end) => {
                math.push(inner[..end].to_string());
                rest = &inner[end + delimiter.len()..];
            }
            None => {
                prose.push_str(after);
                rest = "";
            }
        }
    }
    prose.push_str(rest);
    let prose = without_remarks(&prose);
    let parts: Vec<&str> = if prose.contains(':') {
        prose.split(':').skip(1).collect()
    } else {
        vec![prose.as_str()]
    };
    let mut found: Vec<String> = parts.into_iter().filter_map(from_first_number).collect();
    found.extend(math.into_iter().filter(|m| m.contains(char::is_numeric)));
    found
}

/// The text without parenthesised remarks (parentheses holding a word of two or more letters)
/// and without parentheses left holding no number once the formulas in them were taken out
/// (`0.32 million ($314000 + 4010 = 318010$)`: the formula is a statement of its own).
fn without_remarks(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut group = String::new();
    for character in text.chars() {
        match character {
            '(' => {
                depth += 1;
                group.push(character);
            }
            ')' if depth > 0 => {
                depth -= 1;
                group.push(character);
                if depth == 0 {
                    if !has_word(&group) && group.contains(|c: char| c.is_ascii_digit()) {
                        out.push_str(&group);
                    }
                    group.clear();
                }
            }
            _ if depth > 0 => group.push(character),
            _ => out.push(character),
        }
    }
    out.push_str(&group);
    out
}

fn has_word(text: &str) -> bool {
    text.split(|c: char| !c.is_alphabetic())
        .any(|word| word.chars().count() >= 2)
}

/// The part from the first number that starts a word (so `CONV1` does not count), trimmed; `None`
/// when there is none.
fn from_first_number(text: &str) -> Option<String> {
    let mut before: Option<char> = None;
    for (index, character) in text.char_indices() {
        let starts = character.is_ascii_digit() || matches!(character, '≈' | '~');
        if starts && !before.is_some_and(char::is_alphanumeric) {
            let part = text[index..].trim();
            return (!part.is_empty()).then(|| part.to_string());
        }
        before = Some(character);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::hand_table::read;

    fn found(text: &str) -> Vec<(usize, String, Column)> {
        statements(&read(text, false))
            .into_iter()
            .map(|s| (s.line, s.text, s.column))
            .collect()
    }

    const PARAMETERS: Column = Column::Parameters {
        trainable_only: false,
    };

    #[test]
    fn the_sheets_total_lines() {
        let text = "Total number of parameters: 62 million (note that the fc layers have 94% of \
                    the parameters!):\n\n$$34944 + 614656 = 62378344$$\n";
        assert_eq!(
            found(text),
            vec![
                (1, "62 million".to_string(), PARAMETERS),
                (3, "34944 + 614656 = 62378344".to_string(), PARAMETERS),
            ]
        );
        let text = "Total number of parameters: 1.2 million (note that the first dense layer has \
                    98.3% of the parameters!): $320 + 18496 + 1179776 + 1290 = 1199882$";
        assert_eq!(
            found(text),
            vec![
                (1, "1.2 million".to_string(), PARAMETERS),
                (
                    1,
                    "320 + 18496 + 1179776 + 1290 = 1199882".to_string(),
                    PARAMETERS
                ),
            ]
        );
        let text = "Full connection needs 100×10 synaptic weights, plus 10 bias parameters. So \
                    altogether we have\n\n$$784 \\times 100 + 100 = 89610 \\text{ parameters.}$$";
        assert_eq!(
            found(text),
            vec![(
                3,
                "784 \\times 100 + 100 = 89610 \\text{ parameters.}".to_string(),
                PARAMETERS
            )]
        );
    }

    #[test]
    fn an_equation_in_parentheses_is_a_statement_of_its_own() {
        let text = "Total number of parameters: 0.32 million ($314000 + 4010 = 318010$)";
        assert_eq!(
            found(text),
            vec![
                (1, "0.32 million".to_string(), PARAMETERS),
                (1, "314000 + 4010 = 318010".to_string(), PARAMETERS),
            ]
        );
    }

    #[test]
    fn prose_without_totals_is_not_checked() {
        assert!(found("Note: C1 has 6 maps.\nThe receptive field is 5x5.").is_empty());
        assert_eq!(
            found("Total connections without bias: 422824")[0].2,
            Column::ConnectionsWithoutBias
        );
    }
}

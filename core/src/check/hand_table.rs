//! Reads a hand-written table file into tables (a header row and body rows) and the lines of
//! prose around them. Tables are tab-separated (as pasted from a document), Markdown (`| a | b |`)
//! or CSV; a blank line or a line of prose ends a table, so one file may hold several tables,
//! like the two LeNet-5 summaries of the exercise sheet. Reading never fails on content: which
//! tables and lines mean something is decided by the checks.

use super::columns::Column;
use crate::error::Locate;
use crate::source::Span;

/// A hand-written file, split into tables and prose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// The tables, in order.
    pub tables: Vec<Table>,
    /// Lines outside tables that are not blank.
    pub prose: Vec<Line>,
}

/// One table: a header row and its body rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The header row.
    pub header: Line,
    /// The header cells.
    pub headers: Vec<String>,
    /// The body rows.
    pub rows: Vec<Row>,
}

/// A body row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Where it is.
    pub line: Line,
    /// Its cells, trimmed.
    pub cells: Vec<String>,
    /// Why the row could not be split into cells (an unclosed CSV quote).
    pub problem: Option<String>,
}

/// A line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// Byte offset of its first character.
    pub offset: usize,
    /// Its text, without the line break.
    pub text: String,
}

impl Line {
    /// The span of the whole line.
    pub fn span(&self) -> Span {
        Span::new(self.offset, self.text.len())
    }
}

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Tabs,
    Markdown,
    Csv,
}

/// Reads a file's text. `csv` says the file is CSV (by its extension); otherwise tabs and
/// Markdown rows are recognised by their look, and CSV when the first line reads as a CSV header
/// (every field a short, known column header without digits).
pub fn read(text: &str, csv: bool) -> Document {
    let lines = lines(text);
    let layout_of = |line: &Line| {
        if line.text.contains('\t') {
            Some(Layout::Tabs)
        } else if line.text.trim_start().starts_with('|') {
            Some(Layout::Markdown)
        } else {
            None
        }
    };
    let any_layout = lines.iter().any(|line| layout_of(line).is_some());
    let csv = csv || (!any_layout && looks_like_csv_header(&lines));
    let mut document = Document::default();
    let mut current: Option<(Table, Layout)> = None;
    for line in lines {
        let layout = if csv && !line.text.trim().is_empty() {
            csv_layout(
                &line,
                current.as_ref().map(|(table, _)| table.headers.len()),
            )
        } else {
            layout_of(&line)
        };
        match (layout, &mut current) {
            (Some(layout), Some((table, table_layout))) if layout == *table_layout => {
                if layout == Layout::Markdown && is_markdown_rule(&line.text) {
                    continue;
                }
                let (cells, problem) = split(&line.text, layout);
                table.rows.push(Row {
                    line,
                    cells,
                    problem,
                });
            }
            (Some(layout), _) => {
                if let Some((table, _)) = current.take() {
                    document.tables.push(table);
                }
                let (headers, _) = split(&line.text, layout);
                current = Some((
                    Table {
                        header: line,
                        headers,
                        rows: Vec::new(),
                    },
                    layout,
                ));
            }
            (None, _) => {
                if let Some((table, _)) = current.take() {
                    document.tables.push(table);
                }
                if !line.text.trim().is_empty() {
                    document.prose.push(line);
                }
            }
        }
    }
    if let Some((table, _)) = current {
        document.tables.push(table);
    }
    document
}

fn lines(text: &str) -> Vec<Line> {
    let mut offset = 0;
    let mut all = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let content = raw.strip_suffix('\r').unwrap_or(raw);
        all.push(Line {
            number: index + 1,
            offset,
            text: content.to_string(),
        });
        offset += raw.len() + 1;
    }
    all
}

/// In a CSV file, a line belongs to the table when it splits into as many fields as the header
/// (or, for a header, into at least two).
fn csv_layout(line: &Line, header_width: Option<usize>) -> Option<Layout> {
    let (fields, problem) = split(&line.text, Layout::Csv);
    let fits = match header_width {
        Some(width) => fields.len() == width || problem.is_some(),
        None => {
            fields.len() >= 2
                && fields
                    .iter()
                    .any(|field| Column::recognise(field).is_some())
        }
    };
    fits.then_some(Layout::Csv)
}

fn looks_like_csv_header(lines: &[Line]) -> bool {
    let Some(first) = lines.iter().find(|line| !line.text.trim().is_empty()) else {
        return false;
    };
    let (fields, problem) = split(&first.text, Layout::Csv);
    problem.is_none() && fields.len() >= 2 && fields.iter().all(|field| looks_like_header(field))
}

/// A short, known column header without digits.
fn looks_like_header(field: &str) -> bool {
    field.len() <= 40
        && !field.contains(|c: char| c.is_ascii_digit())
        && Column::recognise(field).is_some()
}

fn is_markdown_rule(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.contains('-')
        && trimmed
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// The cells of a row, trimmed; trailing empty cells are dropped.
fn split(text: &str, layout: Layout) -> (Vec<String>, Option<String>) {
    let (mut cells, problem) = match layout {
        Layout::Tabs => (text.split('\t').map(str::to_string).collect(), None),
        Layout::Markdown => (markdown_cells(text), None),
        Layout::Csv => csv_cells(text),
    };
    for cell in &mut cells {
        *cell = cell.trim().to_string();
    }
    while cells.last().is_some_and(String::is_empty) {
        cells.pop();
    }
    (cells, problem)
}

/// `| a | b \| c |` → `a`, `b | c`.
fn markdown_cells(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
    let inner = if inner.ends_with('|') && !inner.ends_with("\\|") {
        &inner[..inner.len() - 1]
    } else {
        inner
    };
    let mut cells = vec![String::new()];
    let mut characters = inner.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '\\' if characters.peek() == Some(&'|') => {
                characters.next();
                if let Some(cell) = cells.last_mut() {
                    cell.push('|');
                }
            }
            '|' => cells.push(String::new()),
            other => {
                if let Some(cell) = cells.last_mut() {
                    cell.push(other);
                }
            }
        }
    }
    cells
}

/// RFC 4180 fields on one line: `a,"b, c","d ""e"""`.
fn csv_cells(text: &str) -> (Vec<String>, Option<String>) {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        let cell = cells.last_mut();
        match (character, quoted) {
            ('"', false) if cell.as_ref().is_some_and(|c| c.trim().is_empty()) => quoted = true,
            ('"', true) if characters.peek() == Some(&'"') => {
                characters.next();
                if let Some(cell) = cell {
                    cell.push('"');
                }
            }
            ('"', true) => quoted = false,
            (',', false) => cells.push(String::new()),
            (other, _) => {
                if let Some(cell) = cell {
                    cell.push(other);
                }
            }
        }
    }
    let problem = quoted.then(|| "a quoted CSV field is not closed on its line".to_string());
    (cells, problem)
}

/// Why a hand table cannot be checked at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HandTableError {
    /// The file holds neither a table nor a total line.
    #[error("found no table and no total line to check")]
    NothingToCheck,
    /// A table's header names no column netcalc knows.
    #[error("the table at line {line} has no column netcalc recognises")]
    UnknownColumns {
        /// The header's line number.
        line: usize,
        /// The header line.
        span: Span,
    },
    /// The file is not UTF-8 text.
    #[error("the hand table is not UTF-8 text")]
    NotText,
}

impl Locate for HandTableError {
    fn span(&self) -> Span {
        match self {
            HandTableError::UnknownColumns { span, .. } => *span,
            HandTableError::NothingToCheck | HandTableError::NotText => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            HandTableError::UnknownColumns { .. } => "header row".to_string(),
            _ => "here".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            HandTableError::NothingToCheck => Some(
                "write a table with a header row (tab-separated, Markdown or CSV) or a line \
                 such as `Total number of parameters: … = 62378344`"
                    .to_string(),
            ),
            HandTableError::UnknownColumns { .. } => Some(
                "name the columns as the sheet does: Name, Input, Output dim. calc., Output, \
                 Num. params, Receptive field, Connections (w/o bias), Connections (with bias), \
                 MACs"
                    .to_string(),
            ),
            HandTableError::NotText => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            HandTableError::NothingToCheck => "netcalc::check::nothing_to_check",
            HandTableError::UnknownColumns { .. } => "netcalc::check::unknown_columns",
            HandTableError::NotText => "netcalc::check::not_text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_separated_tables_and_prose_split_apart() {
        let text = "Excluding bias:\n\nLayer\tParameters\nC1\t156\nSum\t—\t\n\nTotal: 156\n";
        let document = read(text, false);
        assert_eq!(document.tables.len(), 1);
        let table = &document.tables[0];
        assert_eq!(table.headers, vec!["Layer", "Parameters"]);
        assert_eq!(table.header.number, 3);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1].cells, vec!["Sum", "—"]);
        let prose: Vec<&str> = document.prose.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(prose, vec!["Excluding bias:", "Total: 156"]);
    }

    #[test]
    fn markdown_and_csv_rows() {
        let document = read(
            "| Name | Output |\n|---|:--:|\n| a \\| b | [1×2] |\n",
            false,
        );
        assert_eq!(document.tables[0].rows.len(), 1);
        assert_eq!(document.tables[0].rows[0].cells, vec!["a | b", "[1×2]"]);
        let document = read("Name,Num. params\nCONV1,\"1,199,882\"\n", false);
        assert_eq!(document.tables[0].rows[0].cells, vec!["CONV1", "1,199,882"]);
        let document = read("Name,Num. params\nCONV1,\"1,19\n", true);
        assert!(document.tables[0].rows[0].problem.is_some());
    }

    #[test]
    fn two_tables_separated_by_prose() {
        let text = "A\tB\n1\t2\nNote\nC\tD\n3\t4\n";
        let document = read(text, false);
        assert_eq!(document.tables.len(), 2);
        assert_eq!(document.tables[1].header.offset, 13);
    }
}

//! A report as rows of text cells with a title and notes, and its rendering as a terminal table
//! (comfy-table, fixed: the same bytes on a terminal and in a pipe), Markdown or CSV.

use comfy_table::{ContentArrangement, Table, presets};

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A boxed text table.
    Table,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// Comma-separated values (RFC 4180), header first.
    Csv,
    /// The whole analysis as JSON.
    Json,
}

/// Rows of cells ready to print.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    /// A line above the table.
    pub title: String,
    /// Column headers.
    pub header: Vec<String>,
    /// Columns (by index) aligned to the right.
    pub right_aligned: Vec<usize>,
    /// Body rows.
    pub rows: Vec<Vec<String>>,
    /// Lines below the table.
    pub notes: Vec<String>,
}

impl Grid {
    /// Prints the grid. CSV holds only the header and rows (no title, no notes).
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Table => self.table(),
            OutputFormat::Markdown => self.markdown(),
            OutputFormat::Csv | OutputFormat::Json => self.csv(),
        }
    }

    fn table(&self) -> String {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(self.header.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        for &index in &self.right_aligned {
            if let Some(column) = table.column_mut(index) {
                column.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
        let mut text = format!("{}\n{table}\n", self.title);
        for note in &self.notes {
            text.push_str(note);
            text.push('\n');
        }
        text
    }

    fn markdown(&self) -> String {
        let escape = |cell: &str| cell.replace('|', "\\|");
        let line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| escape(c)).collect();
            format!("| {} |\n", cells.join(" | "))
        };
        let mut text = format!("**{}**\n\n", self.title);
        text.push_str(&line(&self.header));
        let rules: Vec<String> = (0..self.header.len())
            .map(|i| {
                if self.right_aligned.contains(&i) {
                    "---:".to_string()
                } else {
                    "---".to_string()
                }
            })
            .collect();
        text.push_str(&format!("| {} |\n", rules.join(" | ")));
        for row in &self.rows {
            text.push_str(&line(row));
        }
        if !self.notes.is_empty() {
            text.push('\n');
            for note in &self.notes {
                text.push_str(note);
                text.push_str("  \n");
            }
        }
        text
    }

    fn csv(&self) -> String {
        let field = |cell: &String| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                cell.clone()
            }
        };
        let mut text = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let fields: Vec<String> = row.iter().map(field).collect();
            text.push_str(&fields.join(","));
            text.push_str("\r\n");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            title: "t".into(),
            header: vec!["a".into(), "b".into()],
            right_aligned: vec![1],
            rows: vec![vec!["x|y".into(), "1,2 \"q\"".into()]],
            notes: vec!["n".into()],
        }
    }

    #[test]
    fn csv_quotes_and_markdown_escapes() {
        assert_eq!(
            grid().render(OutputFormat::Csv),
            "a,b\r\nx|y,\"1,2 \"\"q\"\"\"\r\n"
        );
        assert_eq!(
            grid().render(OutputFormat::Markdown),
            "**t**\n\n| a | b |\n| --- | ---: |\n| x\\|y | 1,2 \"q\" |\n\nn  \n"
        );
    }
}

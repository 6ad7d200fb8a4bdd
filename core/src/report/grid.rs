//! A report as rows of text cells with a title and notes, and its rendering as a terminal table
//! (boxed as comfy-table's `UTF8_FULL_CONDENSED`, the same bytes on a terminal and in a pipe),
//! Markdown or CSV.

use unicode_width::UnicodeWidthStr;

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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

    /// The boxed table, drawn as comfy-table's `UTF8_FULL_CONDENSED` preset draws it (a test
    /// compares the two), straight into the text: drawing it with comfy-table took a copy of
    /// every cell and several more of every line, about 1.7 KB a layer on large networks.
    fn table(&self) -> String {
        let columns = self.header.len();
        // A column is at least one character wide, even when all its cells are empty.
        let mut widths = vec![1; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                for line in cell.lines() {
                    *width = (*width).max(line.width());
                }
            }
        }
        let mut text = String::with_capacity(
            (self.rows.len() + 5) * (widths.iter().sum::<usize>() + 3 * columns + 1) * 3 / 2,
        );
        text.push_str(&self.title);
        text.push('\n');
        let rule = |text: &mut String, [left, line, middle, right]: [char; 4]| {
            text.push(left);
            for (index, width) in widths.iter().enumerate() {
                if index > 0 {
                    text.push(middle);
                }
                text.extend(std::iter::repeat_n(line, width + 2));
            }
            text.push(right);
            text.push('\n');
        };
        let row = |text: &mut String, cells: &[String]| {
            let height = cells
                .iter()
                .map(|cell| cell.lines().count())
                .max()
                .unwrap_or(0);
            for number in 0..height.max(1) {
                text.push('│');
                for (index, width) in widths.iter().enumerate() {
                    if index > 0 {
                        text.push('┆');
                    }
                    let line = cells
                        .get(index)
                        .and_then(|cell| cell.lines().nth(number))
                        .unwrap_or("");
                    let padding = width - line.width();
                    text.push(' ');
                    if self.right_aligned.contains(&index) {
                        text.extend(std::iter::repeat_n(' ', padding));
                        text.push_str(line);
                    } else {
                        text.push_str(line);
                        text.extend(std::iter::repeat_n(' ', padding));
                    }
                    text.push(' ');
                }
                text.push('│');
                text.push('\n');
            }
        };
        rule(&mut text, ['┌', '─', '┬', '┐']);
        row(&mut text, &self.header);
        rule(&mut text, ['╞', '═', '╪', '╡']);
        for cells in &self.rows {
            row(&mut text, cells);
        }
        rule(&mut text, ['└', '─', '┴', '┘']);
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

    /// comfy-table's drawing of a grid, as netcalc printed tables before it drew them itself.
    fn comfy(grid: &Grid) -> String {
        use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(grid.header.clone());
        for row in &grid.rows {
            table.add_row(row.clone());
        }
        for &index in &grid.right_aligned {
            if let Some(column) = table.column_mut(index) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        let mut text = format!("{}\n{table}\n", grid.title);
        for note in &grid.notes {
            text.push_str(note);
            text.push('\n');
        }
        text
    }

    #[test]
    fn the_table_is_drawn_as_comfy_table_draws_it() {
        assert_eq!(grid().render(OutputFormat::Table), comfy(&grid()));
        let cells = [
            "",
            "x",
            "3×3",
            "12,345",
            "名前",
            "a·b²",
            "two\nlines",
            "é",
            "[26×26×8]",
        ];
        let mut seed = 7u64;
        let mut next = |bound: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % bound
        };
        for _ in 0..200 {
            let columns = 1 + next(5);
            let pick = |next: &mut dyn FnMut(usize) -> usize| cells[next(cells.len())].to_string();
            let grid = Grid {
                title: "title".into(),
                header: (0..columns).map(|_| pick(&mut next)).collect(),
                right_aligned: (0..columns).filter(|_| next(2) == 0).collect(),
                rows: (0..next(4))
                    .map(|_| (0..columns).map(|_| pick(&mut next)).collect())
                    .collect(),
                notes: vec!["note".into()],
            };
            assert_eq!(grid.render(OutputFormat::Table), comfy(&grid), "{grid:?}");
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

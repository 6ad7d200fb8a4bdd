//! Reads the text of one hand-written cell (after [`notation::normalise`]): a statement such as
//! `11·11·3·96+96 = 34944 (0.056%)`, `(227-11)/4+1 = 55`, `62 million`, `1,199,882`; a shape
//! such as `[55·55·96]` or `4096`; a receptive field such as `5·5` or `All neurons (fully
//! connected)`; a layer name with its settings, `CONV1 (F=11, K=96, S = 4, P = 0)`; and cells
//! holding two variants, `2416 / 1516 (*)`. Statements are read by the nom grammar in
//! `grammar.rs`. Text it cannot read is an [`Unreadable`] with the reason, never a guess.
//!
//! [`notation::normalise`]: super::notation::normalise

use super::grammar::{decimal, statement_production};
use super::notation::{is_dash, normalise};
use crate::expression::Expression;

/// Why a cell cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What is wrong, e.g. "cannot read `?? + 4`".
    pub reason: String,
}

impl Unreadable {
    pub(super) fn at(rest: &str) -> Unreadable {
        let shown: String = rest.trim().chars().take(24).collect();
        Unreadable {
            reason: if shown.is_empty() {
                "the text ends too early".to_string()
            } else {
                format!("cannot read from `{shown}`")
            },
        }
    }

    fn new(reason: impl Into<String>) -> Unreadable {
        Unreadable {
            reason: reason.into(),
        }
    }
}

/// One side of `=` as written: an expression, and when it is a single number, how precisely
/// the number was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// The value as a formula (a literal number is `Number`; a decimal is `digits/10^k`).
    pub expression: Expression,
    /// Set when the element is one written number rather than a computation.
    pub literal: Option<Literal>,
    /// The text it was read from (in the normalised notation, trimmed).
    pub text: String,
}

/// A number as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// The power of ten the number is precise to when written approximately (`62 million`: 6,
    /// `1.2 million`: 5, `≈ 4100`: 2); `None` when it is meant exactly.
    pub precision: Option<i32>,
}

impl Element {
    /// Whether the element is a computation (has an operator) rather than one number.
    pub fn is_formula(&self) -> bool {
        self.literal.is_none()
    }
}

/// A percentage as written: `0.056%` is 56 with 3 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent {
    /// The digits as an integer.
    pub scaled: u128,
    /// Digits after the decimal point.
    pub decimals: u32,
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.scaled.to_string();
        let decimals = self.decimals as usize;
        if decimals == 0 {
            return write!(f, "{digits}%");
        }
        let padded = format!("{digits:0>width$}", width = decimals + 1);
        let (whole, fraction) = padded.split_at(padded.len() - decimals);
        write!(f, "{whole}.{fraction}%")
    }
}

/// A statement: `a = b = c`, optionally `→ d` (rounded), optionally a percentage.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The sides of the equation chain, in order; the last is the written result.
    pub elements: Vec<Element>,
    /// A value after `→`: the result rounded (output sizes).
    pub rounded: Option<Element>,
    /// A percentage written after the result.
    pub percent: Option<Percent>,
    /// A count of fixed parameters written after it, `, 840 non-trainable` (netcalc's tables).
    pub non_trainable: Option<u64>,
}

impl Statement {
    /// The written result: the rounded value if given, else the last side.
    pub fn result(&self) -> Option<&Element> {
        self.rounded.as_ref().or(self.elements.last())
    }

    /// The first side that is a computation (the written formula), if any.
    pub fn formula(&self) -> Option<&Element> {
        self.elements.iter().find(|element| element.is_formula())
    }
}

/// A receptive field as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `5×5`, or a single `5`: square on maps, the steps of a sequence.
    Window(Vec<u64>),
    /// `All neurons (fully connected)`, `whole input`.
    Whole,
    /// `varies`, `uneven`: no one window.
    Varies,
}

/// One setting written beside a layer's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// `S = 4`: key and value, as written (spaces removed).
    Pair(String, String),
    /// `4096 neurons`: a count and its word.
    Count(u64, String),
}

/// A name cell: the layer's name (its first word) and the settings written in parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameCell {
    /// `CONV1`.
    pub name: String,
    /// `F=11`, `K=96`, … (words that are neither are left out).
    pub settings: Vec<Setting>,
}

/// Splits a cell holding two variants, `2416 / 1516 (*)`: the first number and the one marked
/// `(*)`. Cells without the `(*)` mark are one variant.
pub fn variants(text: &str) -> Result<Option<(String, String)>, Unreadable> {
    if !text.contains("(*)") {
        return Ok(None);
    }
    let unmarked = text.replacen("(*)", " ", 1);
    if unmarked.contains("(*)") {
        return Err(Unreadable::new("more than one `(*)` mark"));
    }
    let parts: Vec<&str> = unmarked.split(" / ").collect();
    match parts.as_slice() {
        [first, second] => Ok(Some((first.trim().to_string(), second.trim().to_string()))),
        _ => Err(Unreadable::new(
            "a `(*)` cell must hold two values separated by ` / `",
        )),
    }
}

/// Longer cells are unreadable. netcalc's own total of GPT-2 medium is about 2,400 bytes (one
/// term per layer); the formula tree stays shallow however long the cell (sums are flat,
/// parentheses nest at most 32 deep and one sum chains at most 256 subtractions), so the length
/// only bounds the work.
const MAX_CELL_LENGTH: usize = 16384;

/// Reads a statement: `11·11·3·96+96 = 34944 (0.056%)`, `0`, `62 million`,
/// `(224-11)/4+1 = 54.25 → 54`, `89610 parameters.`, `10·84 = 840 (1.38%), 840 non-trainable`.
pub fn statement(text: &str) -> Result<Statement, Unreadable> {
    if text.len() > MAX_CELL_LENGTH {
        return Err(Unreadable::new(format!(
            "the cell is longer than {MAX_CELL_LENGTH} bytes"
        )));
    }
    let derivation = derivation_in_parentheses(text);
    let normal = normalise(derivation.as_deref().unwrap_or(text));
    let (rest, statement) = statement_production(&normal).map_err(|_| Unreadable::at(&normal))?;
    if !rest.trim().is_empty() {
        return Err(Unreadable::at(rest));
    }
    Ok(statement)
}

/// `320 ($3 \cdot 3 \cdot 1 \cdot 32 + 32$)`, `$18496$ ($… = 18496$)`, `1179776 ($…$, 98.32%)`:
/// a result followed by its formula in math mode inside parentheses. Math that opens inside the
/// parentheses makes them prose around the formula, not a factor (`6(5·5+1)` stays a product),
/// so the cell reads as the chain `formula = result`, with what follows the formula in the
/// parentheses (a percentage) kept after it. A percentage alone in math (`($0.11\%$)`) is left
/// as it is.
fn derivation_in_parentheses(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let inner_end = trimmed.strip_suffix(')')?.len();
    let mut depth = 0usize;
    let open = trimmed[..inner_end]
        .char_indices()
        .rev()
        .find_map(|(index, c)| {
            match c {
                ')' => depth += 1,
                '(' if depth == 0 => return Some(index),
                '(' => depth -= 1,
                _ => {}
            }
            None
        })?;
    let before = trimmed[..open].trim();
    let outside_math = before.matches('$').count().is_multiple_of(2);
    let content = trimmed[open + 1..inner_end].trim();
    let delimiter = if content.starts_with("$$") { "$$" } else { "$" };
    let math_end = content
        .strip_prefix(delimiter)?
        .find(delimiter)
        .map(|end| 2 * delimiter.len() + end)?;
    let (math, after) = content.split_at(math_end);
    let after = after.trim();
    let beside = match after.strip_prefix(',') {
        Some(beside) => Some(beside.trim()),
        None if after.is_empty() => None,
        None => return None,
    };
    let percentage = normalise(math).trim().ends_with('%');
    if before.is_empty() || !outside_math || percentage {
        return None;
    }
    Some(match beside {
        Some(beside) => format!("{math} = {before} ({beside})"),
        None => format!("{math} = {before}"),
    })
}

/// Reads a percentage cell: `0.99%`, `(0.056%)`, `60.52` (the column says it is a percentage).
pub fn percent_cell(text: &str) -> Result<Percent, Unreadable> {
    let normal = normalise(text);
    let trimmed = normal.trim();
    let inner = trimmed
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(trimmed);
    let (rest, percent) = decimal(inner.trim()).map_err(|_| Unreadable::at(inner))?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('%').unwrap_or(rest);
    if !rest.trim().is_empty() {
        return Err(Unreadable::at(rest));
    }
    Ok(percent)
}

/// Reads shapes: `[55×55×96]`, `4096`, `(None, 26, 26, 32)`, `100 tokens` (token ids, as the
/// tables print an input of them); several joined by `+`.
pub fn shapes(text: &str) -> Result<Vec<Vec<u64>>, Unreadable> {
    let normal = normalise(text);
    normal.split('+').map(shape).collect()
}

fn shape(text: &str) -> Result<Vec<u64>, Unreadable> {
    let trimmed = text.trim();
    let trimmed = ["token ids", "tokens", "token"]
        .iter()
        .find_map(|unit| trimmed.strip_suffix(unit))
        .map_or(trimmed, str::trim_end);
    let inner = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .or_else(|| trimmed.strip_prefix('(').and_then(|t| t.strip_suffix(')')))
        .unwrap_or(trimmed);
    let mut dims = Vec::new();
    for (index, part) in inner.split(['·', ',']).enumerate() {
        let part = part.trim();
        if index == 0 && matches!(part, "None" | "none" | "?" | "N" | "batch") {
            continue;
        }
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Unreadable::new(format!("`{}` is not a shape", text.trim())));
        }
        let dim = part
            .parse::<u64>()
            .map_err(|_| Unreadable::new(format!("`{part}` does not fit in 64 bits")))?;
        dims.push(dim);
    }
    if dims.is_empty() {
        return Err(Unreadable::new(format!("`{}` is not a shape", text.trim())));
    }
    Ok(dims)
}

/// Reads a receptive field: `5×5`, `5`, `All neurons (fully connected)`, `whole input`. A
/// remark in parentheses after a window is allowed (`5×5 (in C1)`).
pub fn field(text: &str) -> Result<Field, Unreadable> {
    let normal = normalise(text);
    let lower = normal.to_lowercase();
    if lower
        .split(|c: char| !c.is_alphabetic())
        .any(|word| ["varies", "vary", "uneven", "irregular"].contains(&word))
    {
        return Ok(Field::Varies);
    }
    let words = ["all", "fully", "whole", "entire", "global", "every"];
    if lower
        .split(|c: char| !c.is_alphabetic())
        .any(|word| words.contains(&word))
    {
        return Ok(Field::Whole);
    }
    let window = match normal.find('(') {
        Some(open) if normal.trim_end().ends_with(')') => &normal[..open],
        _ => &normal[..],
    };
    // `3 steps` on a sequence.
    let window = window.trim();
    let window = window
        .strip_suffix("steps")
        .or_else(|| window.strip_suffix("step"))
        .unwrap_or(window);
    let dims = shape(window)?;
    match dims.as_slice() {
        [_] | [_, _] => Ok(Field::Window(dims)),
        _ => Err(Unreadable::new(format!(
            "`{}` is not a receptive field (write `5×5` or `all`)",
            text.trim()
        ))),
    }
}

impl Field {
    /// Whether a written window is this size per axis; a single number stands for the same size
    /// on every axis (`5` for 5×5 on maps, 5 steps on a sequence).
    pub fn is_window(&self, axes: &[u64]) -> bool {
        match self {
            Field::Window(written) => match written.as_slice() {
                [side] => !axes.is_empty() && axes.iter().all(|axis| axis == side),
                sizes => sizes == axes,
            },
            Field::Whole | Field::Varies => false,
        }
    }
}

/// Reads a name cell: `CONV1 (F=11, K=96, S = 4, P = 0)`, `FC6 (4096 neurons)`, `C1`.
pub fn name_cell(text: &str) -> NameCell {
    let trimmed = text.trim();
    let end = trimmed
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(trimmed.len());
    let name = trimmed[..end].trim_end_matches([':', ',']).to_string();
    let mut settings = Vec::new();
    if let (Some(open), Some(close)) = (trimmed.find('('), trimmed.rfind(')'))
        && open < close
    {
        // LaTeX around the settings (`($F=11$, $K=96$)`, `($F = 11, K = 96$)`) goes first.
        let inside = normalise(&trimmed[open + 1..close]);
        for item in inside.split([',', ';']) {
            let item: String = item.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some((key, value)) = item.split_once('=') {
                let key = key.trim();
                let value: String = normalise(value).split_whitespace().collect();
                if !key.is_empty() && !value.is_empty() {
                    settings.push(Setting::Pair(key.to_string(), value));
                }
            } else if let Some((count, word)) = item.split_once(' ')
                && let Ok(count) = count.parse::<u64>()
            {
                settings.push(Setting::Count(count, word.trim().to_lowercase()));
            }
        }
    }
    NameCell { name, settings }
}

/// Whether a cell says "nothing here" (`–`, `—`, empty).
pub fn is_empty(text: &str) -> bool {
    is_dash(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(element: &Element) -> String {
        element
            .expression
            .ratio()
            .map_or("?".to_string(), |r| r.to_string())
    }

    #[test]
    fn the_sheets_cells_read() {
        let s = statement("$11 \\cdot 11 \\cdot 3 \\cdot 96 + 96 = 34944$ (0.056%)").unwrap();
        assert_eq!(s.elements.len(), 2);
        assert_eq!(s.elements[0].expression.to_string(), "11·11·3·96+96");
        assert_eq!(value(&s.elements[1]), "34944");
        assert_eq!(
            s.percent,
            Some(Percent {
                scaled: 56,
                decimals: 3
            })
        );
        let s = statement("$(227-11)/4+1=55$").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "(227-11)/4+1");
        let s = statement("28*28*6*(5*5+1) = 122304").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "28·28·6·(5·5+1)");
        assert_eq!(value(&s.elements[0]), "122304");
        let s = statement("$(27-5+4)/1+1 = 27$").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "(27-5+4)/1+1");
        assert_eq!(value(&s.elements[0]), "27");
    }

    #[test]
    fn numbers_with_separators_and_scales() {
        for (text, expected, precision) in [
            ("1,199,882", "1199882", None),
            ("1 199 882", "1199882", None),
            ("1'199'882", "1199882", None),
            ("62 million", "62000000", Some(6)),
            ("1.2 million", "1200000", Some(5)),
            ("≈ 62400000", "62400000", Some(5)),
            ("0", "0", None),
            ("54.25", "54.25", None),
        ] {
            let s = statement(text).unwrap();
            assert_eq!(s.elements.len(), 1, "{text}");
            assert_eq!(value(&s.elements[0]), expected, "{text}");
            assert_eq!(
                s.elements[0].literal.map(|l| l.precision),
                Some(precision),
                "{text}"
            );
        }
    }

    #[test]
    fn operators_and_structure() {
        let s = statement("6(5x5+1)").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "6·(5·5+1)");
        let s = statement("(5*5 + 1)*6 = 156 parameter").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "(5·5+1)·6");
        let s = statement("$$784 \\times 100 + 100 = 78500 \\text{ parameters.}$$").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "784·100+100");
        let s = statement("(224-11)/4+1 = 54.25 → 54").unwrap();
        assert_eq!(s.rounded.as_ref().map(value), Some("54".to_string()));
        let s = statement("10-4-3").unwrap();
        assert_eq!(value(&s.elements[0]), "3");
        let s = statement("(2·3)·4").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "(2·3)·4");
    }

    #[test]
    fn a_formula_in_math_inside_parentheses_is_the_results_derivation() {
        let s = statement("320 ($3 \\cdot 3 \\cdot 1 \\cdot 32 + 32$)").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "3·3·1·32+32");
        assert_eq!(value(&s.elements[1]), "320");
        let s = statement("$18496$ ($3 \\cdot 3 \\cdot 32 \\cdot 64 + 64 = 18496$)").unwrap();
        assert_eq!(s.elements.len(), 3);
        let s = statement("1179776 ($12 \\cdot 12 \\cdot 64 \\cdot 128 + 128$, 98.32%)").unwrap();
        assert_eq!(value(&s.elements[1]), "1179776");
        assert_eq!(
            s.percent,
            Some(Percent {
                scaled: 9832,
                decimals: 2
            })
        );
        // A percentage alone in math is a percentage; parentheses in math, or without math,
        // are a factor.
        let s = statement("$128 \\cdot 10 + 10 = 1290$ ($0.11\\%$)").unwrap();
        assert_eq!(
            s.percent,
            Some(Percent {
                scaled: 11,
                decimals: 2
            })
        );
        let s = statement("$6(5 \\cdot 5+1)$").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "6·(5·5+1)");
        let s = statement("6 (5x5+1)").unwrap();
        assert_eq!(s.elements[0].expression.to_string(), "6·(5·5+1)");
        assert!(statement("320 ($3 \\cdot 3$ and more)").is_err());
    }

    #[test]
    fn what_cannot_be_read_says_so() {
        for text in [
            "abc",
            "5 + ",
            "12 apples",
            "((((1",
            "99999999999999999999",
            "1,2",
            "\\lfloor 3 \\rfloor",
        ] {
            assert!(statement(text).is_err(), "{text}");
        }
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(statement(&deep).is_err());
    }

    #[test]
    fn variants_shapes_fields_and_names() {
        assert_eq!(
            variants("2416 / 1516 (*)").unwrap(),
            Some(("2416".to_string(), "1516".to_string()))
        );
        assert_eq!(variants("2416").unwrap(), None);
        assert!(variants("1 / 2 / 3 (*)").is_err());
        assert_eq!(shapes("[55×55×96]").unwrap(), vec![vec![55, 55, 96]]);
        assert_eq!(shapes("4096").unwrap(), vec![vec![4096]]);
        assert_eq!(shapes("100 tokens").unwrap(), vec![vec![100]]);
        // Long sums read (a deep network's total); long chains of subtractions do not.
        let long = vec!["4198400"; 400].join(" + ");
        assert!(statement(&format!("{long} = {}", 4_198_400u64 * 400)).is_ok());
        let chain = vec!["1"; 300].join(" - ");
        assert!(statement(&format!("{chain} = -298")).is_err());
        assert_eq!(shapes("[100] token ids").unwrap(), vec![vec![100]]);
        assert_eq!(
            shapes("(None, 26, 26, 32)").unwrap(),
            vec![vec![26, 26, 32]]
        );
        assert!(shapes("[55×5a×96]").is_err());
        assert_eq!(field("5×5").unwrap(), Field::Window(vec![5, 5]));
        assert_eq!(field("3").unwrap(), Field::Window(vec![3]));
        assert_eq!(field("9 steps").unwrap(), Field::Window(vec![9]));
        assert_eq!(field("1 step").unwrap(), Field::Window(vec![1]));
        assert_eq!(
            field("All neurons (fully connected)").unwrap(),
            Field::Whole
        );
        assert!(field("5×5×5").is_err());
        let name = name_cell("CONV1 (F=11, K=96, S = 4, P = 0)");
        assert_eq!(name.name, "CONV1");
        assert_eq!(
            name.settings,
            vec![
                Setting::Pair("F".into(), "11".into()),
                Setting::Pair("K".into(), "96".into()),
                Setting::Pair("S".into(), "4".into()),
                Setting::Pair("P".into(), "0".into()),
            ]
        );
        for latex in [
            "CONV1 ($F=11$, $K=96$, $S = 4$, $P = 0$)",
            "CONV1 ($F = 11, K = 96, S=4, P=0$)",
        ] {
            assert_eq!(name_cell(latex).settings, name.settings, "{latex}");
        }
        let name = name_cell("FC6 (4096 neurons)");
        assert_eq!(name.settings, vec![Setting::Count(4096, "neurons".into())]);
        assert_eq!(
            percent_cell("(0.99%)").unwrap(),
            Percent {
                scaled: 99,
                decimals: 2
            }
        );
        assert_eq!(
            Percent {
                scaled: 56,
                decimals: 3
            }
            .to_string(),
            "0.056%"
        );
    }
}

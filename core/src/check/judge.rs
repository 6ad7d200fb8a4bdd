//! Judges one cell against netcalc's value. A statement gets three checks, each its own problem:
//! arithmetic (the written sides of `=` agree), value (the written result is netcalc's; a
//! percentage is right when netcalc's share rounds to it at the precision written; `62 million`
//! is right when the value rounds to it) and formula (the written factors are the layer's). Shapes
//! and receptive fields are compared as values. Text that cannot be read is a problem too.

use super::Kind;
use super::cell::{self, Element, Field, NameCell, Percent, Setting, Statement};
use super::expected::{Expected, field_text, size_text, sizes_text, step_text};
use super::formula::{Comparison, Role, compare};
use crate::analysis::{LayerInfo, ReceptiveField};
use crate::expression::{Expression, Ratio};
use crate::layers::{DimensionFormula, ReceptiveStep};
use crate::shape::Shape;

/// One thing wrong with a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which check found it.
    pub kind: Kind,
    /// The part of the cell it is about, as written.
    pub written: String,
    /// What netcalc says belongs there.
    pub expected: String,
    /// How netcalc's value comes about (`5·5·96·256+256 = 614656`), when it helps.
    pub derivation: String,
    /// What is wrong, in words, when the rest does not say it.
    pub explanation: String,
}

fn problem(kind: Kind, written: impl Into<String>, expected: impl Into<String>) -> Problem {
    Problem {
        kind,
        written: written.into(),
        expected: expected.into(),
        derivation: String::new(),
        explanation: String::new(),
    }
}

impl Problem {
    fn derived(mut self, derivation: impl Into<String>) -> Problem {
        self.derivation = derivation.into();
        self
    }

    fn explained(mut self, explanation: impl Into<String>) -> Problem {
        self.explanation = explanation.into();
        self
    }
}

fn unreadable(text: &str, reason: impl Into<String>) -> Problem {
    problem(Kind::Unreadable, text.trim(), "").explained(reason)
}

/// Judges a cell's text against netcalc's value; `roles` name the numbers of the layer's
/// formulas.
pub fn judge(text: &str, expected: &Expected, roles: &[Role]) -> Vec<Problem> {
    match expected {
        Expected::Count {
            value,
            formula,
            share_of,
            derivation,
            shown,
            non_trainable,
        } => {
            let mut problems = count(text, (*value, derivation, shown), formula, *share_of, roles);
            if let Ok(statement) = cell::statement(text)
                && let Some(written) = statement.non_trainable
                && written != *non_trainable
            {
                problems.push(problem(
                    Kind::Value,
                    format!("{written} non-trainable"),
                    format!("{non_trainable} non-trainable"),
                ));
            }
            problems
        }
        Expected::Share { part, whole } => share_cell(text, *part, *whole),
        Expected::Shapes(shapes) => shapes_cell(text, shapes),
        Expected::Sizes { formulas, output } => sizes(text, formulas, output, roles),
        Expected::Step(step) => step_cell(text, *step),
        Expected::Field(field) => field_cell(text, *field),
        Expected::Nothing => nothing(text),
    }
}

fn count(
    text: &str,
    (value, derivation, shown): (u64, &str, &str),
    formula: &Expression,
    share_of: u64,
    roles: &[Role],
) -> Vec<Problem> {
    if cell::is_empty(text) {
        return if value == 0 {
            Vec::new()
        } else {
            vec![
                problem(Kind::Value, text.trim(), value.to_string())
                    .derived(derivation)
                    .explained("nothing is written"),
            ]
        };
    }
    let statement = match cell::statement(text) {
        Ok(statement) => statement,
        Err(error) => return vec![unreadable(text, error.reason)],
    };
    let mut problems = arithmetic(&statement, false);
    if let Some(result) = statement.result()
        && !matches_value(result, whole(value))
    {
        problems.push(problem(Kind::Value, &result.text, value.to_string()).derived(derivation));
    }
    if let Some(percent) = statement.percent {
        problems.extend(share_problem(percent, value, share_of));
    }
    if let Some(written) = statement.formula()
        && !matches!(formula, Expression::Number(_))
        && let Comparison::Different(differences) = compare(&written.expression, formula, roles)
    {
        problems
            .push(problem(Kind::Formula, &written.text, shown).explained(differences.join("; ")));
    }
    problems
}

/// The sides of `a = b = c` agree; `→ d` is `c` rounded. In size cells (`sizes`) a whole number
/// after a fraction is its rounding.
fn arithmetic(statement: &Statement, sizes: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    for pair in statement.elements.windows(2) {
        let [left, right] = pair else { continue };
        let (Some(left_value), Some(right_value)) =
            (left.expression.ratio(), right.expression.ratio())
        else {
            problems.push(
                problem(
                    Kind::Arithmetic,
                    format!("{} = {}", left.text, right.text),
                    "",
                )
                .explained("it cannot be evaluated (a division by zero or a number too large)"),
            );
            continue;
        };
        let agree = matches_value(right, left_value)
            || matches_value(left, right_value)
            || (sizes && is_rounding(left_value, right_value));
        if !agree {
            problems.push(problem(
                Kind::Arithmetic,
                format!("{} = {}", left.text, right.text),
                format!("{} = {left_value}", left.text),
            ));
        }
    }
    if let (Some(rounded), Some(last)) = (&statement.rounded, statement.elements.last())
        && let (Some(exact), Some(value)) = (last.expression.ratio(), rounded.expression.ratio())
        && !is_rounding(exact, value)
        && exact != value
    {
        problems.push(
            problem(
                Kind::Arithmetic,
                format!("{} → {}", last.text, rounded.text),
                format!("{} → {} or {}", last.text, exact.floor(), exact.ceil()),
            )
            .explained("a rounded value is the number rounded down or up"),
        );
    }
    problems
}

fn is_rounding(exact: Ratio, rounded: Ratio) -> bool {
    rounded.denominator == 1
        && exact.denominator != 1
        && (rounded.numerator == exact.floor() || rounded.numerator == exact.ceil())
}

fn whole(value: u64) -> Ratio {
    Ratio {
        numerator: i128::from(value),
        denominator: 1,
    }
}

/// Whether a written side stands for `target`: exactly, or rounded to the precision written.
fn matches_value(element: &Element, target: Ratio) -> bool {
    let Some(written) = element.expression.ratio() else {
        return false;
    };
    match element.literal.and_then(|literal| literal.precision) {
        Some(precision) => within(target, written, precision),
        None => written == target,
    }
}

/// Whether `written` is `actual` rounded to a multiple of `10^precision`.
fn within(actual: Ratio, written: Ratio, precision: i32) -> bool {
    let difference = actual
        .numerator
        .checked_mul(written.denominator)
        .zip(written.numerator.checked_mul(actual.denominator))
        .and_then(|(a, b)| a.checked_sub(b))
        .map(i128::unsigned_abs);
    let denominator = actual
        .denominator
        .checked_mul(written.denominator)
        .map(i128::unsigned_abs);
    let (Some(difference), Some(denominator)) = (difference, denominator) else {
        return false;
    };
    let power = 10u128.checked_pow(precision.unsigned_abs());
    let (left, right) = if precision >= 0 {
        (
            difference.checked_mul(2),
            power.and_then(|p| denominator.checked_mul(p)),
        )
    } else {
        (
            power.and_then(|p| difference.checked_mul(2)?.checked_mul(p)),
            Some(denominator),
        )
    };
    matches!((left, right), (Some(left), Some(right)) if left <= right)
}

/// Whether netcalc's share `part/whole` rounds to the written percentage at its precision.
pub fn share_matches(part: u64, whole: u64, percent: Percent) -> bool {
    if whole == 0 {
        return percent.scaled == 0;
    }
    let scale = 10u128.checked_pow(percent.decimals);
    let written = percent.scaled.checked_mul(u128::from(whole));
    let actual = scale.and_then(|s| u128::from(part).checked_mul(100)?.checked_mul(s));
    match (written, actual) {
        (Some(written), Some(actual)) => written
            .abs_diff(actual)
            .checked_mul(2)
            .is_some_and(|twice| twice <= u128::from(whole)),
        _ => false,
    }
}

fn share_problem(percent: Percent, part: u64, whole: u64) -> Option<Problem> {
    if share_matches(part, whole, percent) {
        return None;
    }
    let exact = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    Some(
        problem(
            Kind::Value,
            percent.to_string(),
            crate::report::numbers::percent(part, whole),
        )
        .derived(format!("{part} of {whole} is {exact:.4}%")),
    )
}

fn share_cell(text: &str, part: u64, whole: u64) -> Vec<Problem> {
    if cell::is_empty(text) {
        return if part == 0 {
            Vec::new()
        } else {
            vec![
                problem(
                    Kind::Value,
                    text.trim(),
                    crate::report::numbers::percent(part, whole),
                )
                .explained("nothing is written"),
            ]
        };
    }
    match cell::percent_cell(text) {
        Ok(percent) => share_problem(percent, part, whole).into_iter().collect(),
        Err(error) => vec![unreadable(text, error.reason)],
    }
}

fn shapes_text(shapes: &[Shape]) -> String {
    shapes
        .iter()
        .map(Shape::to_string)
        .collect::<Vec<_>>()
        .join(" + ")
}

fn shapes_cell(text: &str, shapes: &[Shape]) -> Vec<Problem> {
    if cell::is_empty(text) {
        return vec![
            problem(Kind::Value, text.trim(), shapes_text(shapes)).explained("nothing is written"),
        ];
    }
    match cell::shapes(text) {
        Ok(written) => {
            let same = written.len() == shapes.len()
                && written.iter().zip(shapes).all(|(w, s)| *w == s.dims());
            if same {
                Vec::new()
            } else {
                vec![problem(Kind::Value, text.trim(), shapes_text(shapes))]
            }
        }
        Err(error) => vec![unreadable(text, error.reason)],
    }
}

fn sizes(
    text: &str,
    formulas: &[DimensionFormula],
    output: &Shape,
    roles: &[Role],
) -> Vec<Problem> {
    if formulas.is_empty() {
        if cell::is_empty(text) {
            return Vec::new();
        }
        return vec![
            problem(Kind::Value, text.trim(), "–")
                .explained(format!("no window: the output {output} is not calculated")),
        ];
    }
    if cell::is_empty(text) {
        return vec![
            problem(Kind::Value, text.trim(), sizes_text(formulas))
                .explained("the output size is calculated"),
        ];
    }
    let parts: Vec<&str> = text
        .split(';')
        .map(|part| {
            let part = part.trim();
            match part.split_once(':') {
                Some((label, rest))
                    if matches!(
                        label.trim().to_lowercase().as_str(),
                        "height" | "width" | "h" | "w"
                    ) =>
                {
                    rest
                }
                _ => part,
            }
        })
        .collect();
    let pairs: Vec<(&str, &DimensionFormula)> = match parts.as_slice() {
        [one] => {
            let mut distinct: Vec<&DimensionFormula> = Vec::new();
            for formula in formulas {
                if !distinct.iter().any(|f| f.expression == formula.expression) {
                    distinct.push(formula);
                }
            }
            distinct.into_iter().map(|f| (*one, f)).collect()
        }
        several if several.len() == formulas.len() => {
            several.iter().copied().zip(formulas.iter()).collect()
        }
        _ => {
            return vec![unreadable(
                text,
                "write one calculation, or one per axis (`height: …; width: …`)",
            )];
        }
    };
    let mut problems = Vec::new();
    for (part, formula) in pairs {
        let statement = match cell::statement(part) {
            Ok(statement) => statement,
            Err(error) => {
                problems.push(unreadable(part, error.reason));
                continue;
            }
        };
        if statement.percent.is_some() {
            problems.push(unreadable(part, "a percentage does not belong in a size"));
        }
        problems.extend(arithmetic(&statement, true));
        let size = size_text(formula);
        if let Some(result) = statement.result()
            && !matches_value(result, whole(formula.value))
        {
            let mut wrong =
                problem(Kind::Value, &result.text, formula.value.to_string()).derived(&size);
            if result.expression.ratio() == Some(formula.exact) {
                wrong = wrong.explained("the size must be rounded to a whole number");
            }
            problems.push(wrong);
        }
        if let Some(written) = statement.formula()
            && let Comparison::Different(differences) =
                compare(&written.expression, &formula.expression, roles)
        {
            problems.push(
                problem(Kind::Formula, &written.text, formula.expression.to_string())
                    .explained(differences.join("; ")),
            );
        }
    }
    problems
}

fn step_cell(text: &str, step: ReceptiveStep) -> Vec<Problem> {
    let wrong = || vec![problem(Kind::Value, text.trim(), step_text(step))];
    if cell::is_empty(text) {
        return if step == ReceptiveStep::Pointwise {
            Vec::new()
        } else {
            wrong()
        };
    }
    let written = match cell::field(text) {
        Ok(field) => field,
        Err(error) => return vec![unreadable(text, error.reason)],
    };
    let right = match (written, step) {
        (Field::Whole, ReceptiveStep::Whole) | (Field::Varies, ReceptiveStep::Uneven) => true,
        (written @ Field::Window(_), ReceptiveStep::Window(window)) => {
            written.is_window(&window.kernel)
        }
        (written @ Field::Window(_), ReceptiveStep::Pointwise) => written.is_window(&[1, 1]),
        _ => false,
    };
    if right { Vec::new() } else { wrong() }
}

fn field_cell(text: &str, field: ReceptiveField) -> Vec<Problem> {
    let wrong = || vec![problem(Kind::Value, text.trim(), field_text(field))];
    if cell::is_empty(text) {
        return wrong();
    }
    let written = match cell::field(text) {
        Ok(field) => field,
        Err(error) => return vec![unreadable(text, error.reason)],
    };
    let right = match (written, field) {
        (Field::Whole, ReceptiveField::Whole) | (Field::Varies, ReceptiveField::Uneven) => true,
        (written @ Field::Window(_), ReceptiveField::Window { size, .. }) => {
            written.is_window(&size)
        }
        _ => false,
    };
    if right { Vec::new() } else { wrong() }
}

fn nothing(text: &str) -> Vec<Problem> {
    if cell::is_empty(text) {
        Vec::new()
    } else {
        vec![problem(Kind::Value, text.trim(), "–").explained("nothing belongs here")]
    }
}

/// Checks the settings written beside a name (`F=11, K=96, S = 4, P = 0`, `4096 neurons`)
/// against the layer's. Words that are neither a `key=value` nor a count are not checked.
pub fn settings(name: &NameCell, layer: &LayerInfo) -> Vec<Problem> {
    let own: Vec<(String, String)> = layer
        .settings
        .split(", ")
        .filter_map(|item| item.split_once('='))
        .map(|(key, value)| (key.trim().to_uppercase(), square(value.trim())))
        .collect();
    let own_count: Option<(u64, &str)> = layer.settings.split(", ").find_map(|item| {
        let (count, word) = item.split_once(' ')?;
        Some((count.parse().ok()?, word))
    });
    let mut problems = Vec::new();
    for setting in &name.settings {
        match setting {
            Setting::Pair(key, value) => {
                let as_written = key.to_uppercase();
                let letter = if own.iter().any(|(k, _)| *k == as_written) {
                    as_written
                } else {
                    setting_letter(key)
                };
                let written = format!("{key}={value}");
                match own.iter().find(|(k, _)| *k == letter) {
                    Some((_, right)) if *right == square(value) => {}
                    Some((_, right)) => {
                        problems.push(problem(Kind::Value, written, format!("{letter}={right}")))
                    }
                    None => problems.push(
                        problem(Kind::Value, written, layer.settings.clone())
                            .explained(format!("{} has no setting {letter}", layer.name)),
                    ),
                }
            }
            Setting::Count(count, word) => match own_count {
                Some((right, _)) if right == *count => {}
                Some((right, own_word)) => problems.push(problem(
                    Kind::Value,
                    format!("{count} {word}"),
                    format!("{right} {own_word}"),
                )),
                None => problems.push(
                    problem(
                        Kind::Value,
                        format!("{count} {word}"),
                        layer.settings.clone(),
                    )
                    .explained(format!("{} has no count of units", layer.name)),
                ),
            },
        }
    }
    problems
}

/// The sheet's letter for a setting written as a word: `stride` → `S`.
fn setting_letter(key: &str) -> String {
    match key.to_lowercase().as_str() {
        "stride" | "s" => "S",
        "padding" | "pad" | "p" => "P",
        "kernel" | "filter" | "size" | "window" | "f" => "F",
        "filters" | "kernels" | "maps" | "k" => "K",
        "dilation" | "d" => "D",
        _ => return key.to_uppercase(),
    }
    .to_string()
}

/// `5x5`, `5×5` and `5·5` as `5`; other values as written, without spaces.
fn square(value: &str) -> String {
    let value: String = value.split_whitespace().collect();
    let parts: Vec<&str> = value.split(['x', '×', '·']).collect();
    match parts.as_slice() {
        [a, b] if a == b => (*a).to_string(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(scaled: u128, decimals: u32) -> Percent {
        Percent { scaled, decimals }
    }

    #[test]
    fn percentages_hold_at_the_precision_written() {
        assert!(share_matches(34944, 62378344, percent(56, 3)));
        assert!(share_matches(34944, 62378344, percent(6, 2)));
        assert!(share_matches(34944, 62378344, percent(0, 0)));
        assert!(!share_matches(34944, 62378344, percent(57, 3)));
        assert!(share_matches(16781312, 62378344, percent(2690, 2)));
        assert!(share_matches(1179776, 1199882, percent(983, 1)));
        assert!(share_matches(1179776, 1199882, percent(98, 0)));
        assert!(!share_matches(1179776, 1199882, percent(99, 0)));
        assert!(!share_matches(5, 0, percent(1, 0)));
    }

    #[test]
    fn approximate_numbers_round_to_the_value() {
        assert!(within(whole(62378344), whole(62000000), 6));
        assert!(!within(whole(62378344), whole(63000000), 6));
        assert!(within(whole(1199882), whole(1200000), 5));
        assert!(!within(whole(1199882), whole(1100000), 5));
        let quarter = Ratio {
            numerator: 217,
            denominator: 4,
        };
        assert!(within(quarter, whole(54), 0));
    }
}

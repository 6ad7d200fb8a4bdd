//! Reads the text of one hand-written cell (after [`notation::normalise`]): a statement such as
//! `11·11·3·96+96 = 34944 (0.056%)`, `(227-11)/4+1 = 55`, `62 million`, `1,199,882`; a shape
//! such as `[55·55·96]` or `4096`; a receptive field such as `5·5` or `All neurons (fully
//! connected)`; a layer name with its settings, `CONV1 (F=11, K=96, S = 4, P = 0)`; and cells
//! holding two variants, `2416 / 1516 (*)`. A nom grammar, one function per production. Text it
//! cannot read is an [`Unreadable`] with the reason, never a guess.
//!
//! [`notation::normalise`]: super::notation::normalise

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, space0};
use nom::combinator::opt;
use nom::{IResult, Parser};

use super::notation::{is_dash, normalise};
use crate::expression::Expression;

type Parsed<'a, T> = IResult<&'a str, T>;

/// Why a cell cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What is wrong, e.g. "cannot read `?? + 4`".
    pub reason: String,
}

impl Unreadable {
    fn at(rest: &str) -> Unreadable {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `5×5` (a single `5` is square).
    Window([u64; 2]),
    /// `All neurons (fully connected)`, `whole input`.
    Whole,
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

/// Longer cells are unreadable: a formula chains at most a few hundred operators, and this
/// bounds the depth of the formula tree that evaluation walks.
const MAX_CELL_LENGTH: usize = 1000;

/// How deep parentheses may nest; deeper text is unreadable rather than a deep recursion.
const MAX_DEPTH: usize = 32;

/// Reads a statement: `11·11·3·96+96 = 34944 (0.056%)`, `0`, `62 million`,
/// `(224-11)/4+1 = 54.25 → 54`, `89610 parameters.`, `10·84 = 840 (1.38%), 840 non-trainable`.
pub fn statement(text: &str) -> Result<Statement, Unreadable> {
    if text.len() > MAX_CELL_LENGTH {
        return Err(Unreadable::new(format!(
            "the cell is longer than {MAX_CELL_LENGTH} bytes"
        )));
    }
    let normal = normalise(text);
    let (rest, statement) = statement_production(&normal).map_err(|_| Unreadable::at(&normal))?;
    if !rest.trim().is_empty() {
        return Err(Unreadable::at(rest));
    }
    Ok(statement)
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

/// Reads shapes: `[55×55×96]`, `4096`, `(None, 26, 26, 32)`; several joined by `+`.
pub fn shapes(text: &str) -> Result<Vec<Vec<u64>>, Unreadable> {
    let normal = normalise(text);
    normal.split('+').map(shape).collect()
}

fn shape(text: &str) -> Result<Vec<u64>, Unreadable> {
    let trimmed = text.trim();
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
    let dims = shape(window)?;
    match dims.as_slice() {
        [side] => Ok(Field::Window([*side, *side])),
        [height, width] => Ok(Field::Window([*height, *width])),
        _ => Err(Unreadable::new(format!(
            "`{}` is not a receptive field (write `5×5` or `all`)",
            text.trim()
        ))),
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
        for item in trimmed[open + 1..close].split([',', ';']) {
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

// The grammar, over normalised text.

/// `statement = chain [ percent ] [ words ] ;`
fn statement_production(input: &str) -> Parsed<'_, Statement> {
    let (rest, (elements, rounded)) = chain(input)?;
    let (rest, percent) = opt(percent_part).parse(rest)?;
    let (rest, non_trainable) = opt(non_trainable_part).parse(rest)?;
    let (rest, _) = opt(words).parse(rest)?;
    let (rest, _) = space0(rest)?;
    Ok((
        rest,
        Statement {
            elements,
            rounded,
            percent,
            non_trainable,
        },
    ))
}

/// `non_trainable_part = "," digits ("non-trainable" | "fixed") ;`
fn non_trainable_part(input: &str) -> Parsed<'_, u64> {
    let (rest, _) = space0(input)?;
    let (rest, _) = char(',').parse(rest)?;
    let (rest, _) = space0(rest)?;
    let (rest, digits) = digit1(rest)?;
    let (rest, _) = space0(rest)?;
    let (rest, _) = alt((tag("non-trainable"), tag("fixed"))).parse(rest)?;
    match digits.parse::<u64>() {
        Ok(count) => Ok((rest, count)),
        Err(_) => Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        ))),
    }
}

/// `chain = side { ("=" | "≈") side } [ "→" side ] ;`
#[allow(clippy::type_complexity)]
fn chain(input: &str) -> Parsed<'_, (Vec<Element>, Option<Element>)> {
    let (mut rest, first) = side(input)?;
    let mut elements = vec![first];
    // A side that cannot be read ends the chain there, so the leftover text names the place.
    loop {
        let (after, _) = space0(rest)?;
        let Some(after) = after.strip_prefix('=').or_else(|| after.strip_prefix('≈')) else {
            break;
        };
        let Ok((after, element)) = side(after) else {
            break;
        };
        elements.push(element);
        rest = after;
    }
    let (after, _) = space0(rest)?;
    if let Some(after) = after.strip_prefix('→')
        && let Ok((after, element)) = side(after)
    {
        return Ok((after, (elements, Some(element))));
    }
    Ok((rest, (elements, None)))
}

/// `side = [ "≈" ] sum ;` A single number after `≈` is precise to its last non-zero digit.
fn side(input: &str) -> Parsed<'_, Element> {
    let (start, _) = space0(input)?;
    let (rest, approximate) = opt(char('≈')).parse(start)?;
    let (rest, _) = space0(rest)?;
    let (rest, mut operand) = sum(rest, 0)?;
    operand.text = compact(&start[..start.len() - rest.len()]);
    if approximate.is_some()
        && let Some(literal) = &mut operand.literal
        && literal.precision.is_none()
    {
        literal.precision = Some(trailing_zeros(&operand.expression));
    }
    Ok((rest, operand))
}

/// The text without spaces around operators: `11 · 11 · 3` → `11·11·3`; `62 million` stays.
fn compact(text: &str) -> String {
    let is_operator = |c: char| matches!(c, '·' | '/' | '+' | '-' | '(' | ')' | '≈');
    let characters: Vec<char> = text.trim().chars().collect();
    let mut out = String::with_capacity(text.len());
    for (index, &character) in characters.iter().enumerate() {
        if character == ' ' {
            let before = out.chars().last();
            let after = characters[index + 1..].iter().find(|c| **c != ' ');
            if before.is_none_or(is_operator)
                || after.is_none_or(|c| is_operator(*c))
                || before == Some(' ')
            {
                continue;
            }
        }
        out.push(character);
    }
    out
}

fn trailing_zeros(expression: &Expression) -> i32 {
    match expression {
        &Expression::Number(value) if value > 0 => {
            let mut n = value;
            let mut zeros = 0;
            while n % 10 == 0 {
                n /= 10;
                zeros += 1;
            }
            zeros
        }
        _ => 0,
    }
}

/// `sum = product { ("+" | "-") product } ;`
fn sum(input: &str, depth: usize) -> Parsed<'_, Element> {
    let (mut rest, first) = product(input, depth)?;
    let mut single = Some(first.clone());
    let mut terms = vec![first.expression];
    let mut accumulated: Option<Expression> = None;
    loop {
        let (after, _) = space0(rest)?;
        let operator = match after.chars().next() {
            Some(c @ ('+' | '-')) => c,
            _ => break,
        };
        let (after, _) = space0(&after[1..])?;
        let (after, next) = match product(after, depth) {
            Ok(done) => done,
            Err(_) => break,
        };
        single = None;
        if operator == '+' {
            terms.push(next.expression);
        } else {
            let left = fold_terms(accumulated.take(), std::mem::take(&mut terms));
            accumulated = Some(Expression::difference(left, next.expression));
        }
        rest = after;
    }
    if let Some(single) = single {
        return Ok((rest, single));
    }
    let expression = fold_terms(accumulated, terms);
    Ok((
        rest,
        Element {
            expression,
            literal: None,
            text: String::new(),
        },
    ))
}

/// The running sum: what came before a `-` (if anything) followed by the terms since.
fn fold_terms(before: Option<Expression>, mut terms: Vec<Expression>) -> Expression {
    match (before, terms.len()) {
        (Some(before), 0) => before,
        (None, 1) => terms.remove(0),
        (Some(before), _) => {
            terms.insert(0, before);
            Expression::sum(terms)
        }
        (None, _) => Expression::sum(terms),
    }
}

/// `product = factor { ("·" | "/") factor | "(" sum ")" } ;` (a parenthesis right after a
/// factor multiplies: `6(5·5+1)`).
fn product(input: &str, depth: usize) -> Parsed<'_, Element> {
    let (mut rest, first) = factor(input, depth)?;
    let mut single = Some(first.clone());
    let mut expression = first.expression;
    loop {
        let (after, _) = space0(rest)?;
        let (after, operator) = match after.chars().next() {
            Some(c @ ('·' | '/')) => (&after[c.len_utf8()..], c),
            Some('(') => (after, '·'),
            _ => break,
        };
        let (after, _) = space0(after)?;
        let (after, next) = match factor(after, depth) {
            Ok(done) => done,
            Err(_) => break,
        };
        single = None;
        expression = if operator == '/' {
            Expression::quotient(expression, next.expression)
        } else {
            match expression {
                Expression::Product(mut factors) => {
                    factors.push(next.expression);
                    Expression::Product(factors)
                }
                other => Expression::product(vec![other, next.expression]),
            }
        };
        rest = after;
    }
    match single {
        Some(single) => Ok((rest, single)),
        None => Ok((
            rest,
            Element {
                expression,
                literal: None,
                text: String::new(),
            },
        )),
    }
}

/// `factor = number | "(" sum ")" ;`
fn factor(input: &str, depth: usize) -> Parsed<'_, Element> {
    if let Some(inner) = input.strip_prefix('(') {
        if depth >= MAX_DEPTH {
            return Err(nom::Err::Failure(nom::error::Error::new(
                input,
                nom::error::ErrorKind::TooLarge,
            )));
        }
        let (rest, _) = space0(inner)?;
        let (rest, element) = sum(rest, depth + 1)?;
        let (rest, _) = space0(rest)?;
        let (rest, _) = char(')').parse(rest)?;
        return Ok((
            rest,
            Element {
                expression: parenthesised(element.expression),
                literal: None,
                text: String::new(),
            },
        ));
    }
    number(input)
}

/// A parenthesised product is wrapped in a one-term sum so that `(5·5)·6` keeps `5·5` as one
/// factor, as written; sums and numbers need no wrapping.
fn parenthesised(expression: Expression) -> Expression {
    match expression {
        Expression::Product(_) => Expression::Sum(vec![expression]),
        other => other,
    }
}

/// Scale words and their powers of ten.
const SCALES: [(&str, u32); 10] = [
    ("thousand", 3),
    ("k", 3),
    ("K", 3),
    ("million", 6),
    ("millions", 6),
    ("mio", 6),
    ("Mio", 6),
    ("M", 6),
    ("billion", 9),
    ("bn", 9),
];

/// `number = digits { separator three_digits } [ "." digits ] [ scale ] ;` Separators are `,`,
/// `'` and a space (one kind per number).
fn number(input: &str) -> Parsed<'_, Element> {
    let (mut rest, first) = digit1(input)?;
    let mut digits = first.to_string();
    if first.len() <= 3 {
        for separator in [',', '\'', ' '] {
            let mut grouped = rest;
            let mut groups = String::new();
            while let Some(after) = grouped.strip_prefix(separator) {
                let group: String = after.chars().take_while(char::is_ascii_digit).collect();
                if group.len() != 3 {
                    break;
                }
                groups.push_str(&group);
                grouped = &after[3..];
            }
            if !groups.is_empty() {
                digits.push_str(&groups);
                rest = grouped;
                break;
            }
        }
    }
    let mut decimals = 0u32;
    if let Some(after) = rest.strip_prefix('.')
        && let Ok((after, fraction)) = digit1::<_, nom::error::Error<&str>>(after)
    {
        digits.push_str(fraction);
        decimals = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
        rest = after;
    }
    let (rest, scale) = opt(scale).parse(rest)?;
    let exponent = scale.unwrap_or(0);
    let Ok(mantissa) = digits.parse::<u64>() else {
        return Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        )));
    };
    let expression = scaled(mantissa, exponent, decimals).ok_or_else(|| {
        nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        ))
    })?;
    let precision = scale.map(|exponent| exponent as i32 - decimals as i32);
    Ok((
        rest,
        Element {
            expression,
            literal: Some(Literal { precision }),
            text: String::new(),
        },
    ))
}

/// `mantissa · 10^exponent / 10^decimals` as a number or a quotient of numbers.
fn scaled(mantissa: u64, exponent: u32, decimals: u32) -> Option<Expression> {
    let power = |p: u32| 10u64.checked_pow(p);
    if decimals <= exponent {
        Some(Expression::Number(
            mantissa.checked_mul(power(exponent - decimals)?)?,
        ))
    } else {
        Some(Expression::quotient(
            Expression::Number(mantissa),
            Expression::Number(power(decimals - exponent)?),
        ))
    }
}

/// `scale = " "? ("thousand" | "k" | "million" | "M" | …) ;` followed by a word boundary.
fn scale(input: &str) -> Parsed<'_, u32> {
    let (rest, _) = space0(input)?;
    let (rest, word) = take_while1(|c: char| c.is_alphabetic())(rest)?;
    match SCALES.iter().find(|(name, _)| *name == word) {
        Some((_, exponent)) => Ok((rest, *exponent)),
        None => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

/// `percent_part = "(" decimal "%" [ words ] ")" | decimal "%" ;`
fn percent_part(input: &str) -> Parsed<'_, Percent> {
    let (rest, _) = space0(input)?;
    alt((
        |i| {
            let (i, _) = char('(').parse(i)?;
            let (i, _) = space0(i)?;
            let (i, percent) = decimal(i)?;
            let (i, _) = space0(i)?;
            let (i, _) = char('%').parse(i)?;
            let (i, _) = opt(words).parse(i)?;
            let (i, _) = space0(i)?;
            let (i, _) = char(')').parse(i)?;
            Ok((i, percent))
        },
        |i| {
            let (i, percent) = decimal(i)?;
            let (i, _) = space0(i)?;
            let (i, _) = char('%').parse(i)?;
            Ok((i, percent))
        },
    ))
    .parse(rest)
}

/// Percentages with more decimals than this are unreadable (nobody writes them, and they
/// would not fit the exact comparison).
const MAX_DECIMALS: u32 = 12;

/// `decimal = digits [ "." digits ] ;`
fn decimal(input: &str) -> Parsed<'_, Percent> {
    let (rest, whole) = digit1(input)?;
    let (rest, fraction) = opt(|i| {
        let (i, _) = tag(".").parse(i)?;
        digit1(i)
    })
    .parse(rest)?;
    let digits = format!("{whole}{}", fraction.unwrap_or(""));
    let Ok(scaled) = digits.parse::<u128>() else {
        return Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        )));
    };
    let decimals = u32::try_from(fraction.map_or(0, str::len)).unwrap_or(u32::MAX);
    if decimals > MAX_DECIMALS {
        return Err(nom::Err::Failure(nom::error::Error::new(
            input,
            nom::error::ErrorKind::TooLarge,
        )));
    }
    Ok((rest, Percent { scaled, decimals }))
}

/// Words that may follow a result or a percentage: `parameters.`, `of total`, `connections`.
const WORDS: [&str; 27] = [
    "parameters",
    "parameter",
    "params",
    "param",
    "connections",
    "connection",
    "weights",
    "weight",
    "units",
    "neurons",
    "macs",
    "mac",
    "multiply-accumulates",
    "mult-adds",
    "operations",
    "trainable",
    "learnable",
    "to",
    "learn",
    "in",
    "total",
    "all",
    "of",
    "the",
    "with",
    "without",
    "bias",
];

/// `words = word { word } ;` from a fixed vocabulary, each optionally ending in `.`, `!` or `:`.
fn words(input: &str) -> Parsed<'_, ()> {
    let mut rest = input;
    let mut count = 0;
    loop {
        let (after, _) = space0(rest)?;
        let (after, word) = match take_while1::<_, _, nom::error::Error<&str>>(|c: char| {
            c.is_alphabetic() || c == '-'
        })(after)
        {
            Ok(done) => done,
            Err(_) => break,
        };
        if !WORDS.contains(&word.to_lowercase().as_str()) {
            break;
        }
        let (after, _) = take_while(|c: char| matches!(c, '.' | '!' | ':'))(after)?;
        rest = after;
        count += 1;
    }
    if count == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Alpha,
        )));
    }
    Ok((rest, ()))
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
        assert_eq!(
            shapes("(None, 26, 26, 32)").unwrap(),
            vec![vec![26, 26, 32]]
        );
        assert!(shapes("[55×5a×96]").is_err());
        assert_eq!(field("5×5").unwrap(), Field::Window([5, 5]));
        assert_eq!(field("3").unwrap(), Field::Window([3, 3]));
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

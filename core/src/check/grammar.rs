//! The nom grammar of a statement cell, over normalised text (see [`notation`]): one function per
//! production, `statement = chain [percent] [non_trainable] [words]`, where a chain is sides
//! joined by `=` or `≈` and a side is a sum of products of numbers and parenthesised sums.
//!
//! [`notation`]: super::notation

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1, space0};
use nom::combinator::opt;
use nom::{IResult, Parser};

use super::cell::{Element, Literal, Percent, Statement};
use crate::expression::Expression;

type Parsed<'a, T> = IResult<&'a str, T>;

/// How deep parentheses may nest; deeper text is unreadable rather than a deep recursion.
const MAX_DEPTH: usize = 32;
/// How many subtractions one sum may chain: each nests the formula tree one level deeper.
const MAX_DIFFERENCES: usize = 256;

/// `statement = chain [ percent ] [ words ] ;`
pub(super) fn statement_production(input: &str) -> Parsed<'_, Statement> {
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
    let mut differences = 0;
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
            // Each `-` nests the sum so far one level deeper; bound it as parentheses are.
            differences += 1;
            if differences > MAX_DIFFERENCES {
                return Err(nom::Err::Failure(nom::error::Error::new(
                    after,
                    nom::error::ErrorKind::TooLarge,
                )));
            }
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
pub(super) fn decimal(input: &str) -> Parsed<'_, Percent> {
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

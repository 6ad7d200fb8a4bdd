//! A formula read as a sum of terms, each a product of factors (a factor multiplies or divides),
//! in three readings: the top-level terms (inner sums taken as their values), the flattened terms
//! (nested sums opened) and the expanded terms (products multiplied out). Also the regrouping of
//! factors (`25·96` for `5·5·96`) with exact fractions. Used by [`formula`](super::formula).

use crate::expression::{Expression, Ratio};

/// A factor of a term: a number that multiplies, or one that divides (`/4`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Factor {
    pub(super) value: Ratio,
    pub(super) divides: bool,
}

impl Factor {
    pub(super) fn times(value: Ratio) -> Factor {
        Factor {
            value,
            divides: false,
        }
    }

    /// What it multiplies the term by.
    pub(super) fn amount(self) -> Option<Ratio> {
        if self.divides {
            reciprocal(self.value)
        } else {
            Some(self.value)
        }
    }

    pub(super) fn inverted(self) -> Factor {
        Factor {
            value: self.value,
            divides: !self.divides,
        }
    }

    pub(super) fn is_one(self) -> bool {
        is_one(self.value)
    }

    pub(super) fn text(self) -> String {
        if self.divides {
            format!("/{}", self.value)
        } else {
            self.value.to_string()
        }
    }
}

/// One term of a sum: a sign and its factors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Term {
    pub(super) negative: bool,
    pub(super) factors: Vec<Factor>,
}

impl Term {
    /// The factors that matter: all but those equal to 1.
    pub(super) fn essential(&self) -> Vec<Factor> {
        self.factors
            .iter()
            .copied()
            .filter(|f| !f.is_one())
            .collect()
    }

    /// What the essential factors multiply by, for regrouping (`None` on overflow or `/0`).
    pub(super) fn amounts(&self) -> Option<Vec<Ratio>> {
        self.essential().into_iter().map(Factor::amount).collect()
    }

    pub(super) fn is_zero(&self) -> bool {
        self.factors.iter().any(|f| f.value.numerator == 0)
    }

    pub(super) fn text(&self) -> String {
        let mut text = String::new();
        if self.negative {
            text.push('-');
        }
        let essential = self.essential();
        let (divisors, multipliers): (Vec<Factor>, Vec<Factor>) =
            essential.into_iter().partition(|f| f.divides);
        let multipliers: Vec<String> = multipliers.iter().map(|f| f.text()).collect();
        if multipliers.is_empty() {
            text.push('1');
        }
        text.push_str(&multipliers.join("·"));
        for divisor in divisors {
            text.push_str(&divisor.text());
        }
        text
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Level {
    Top,
    Flat,
    Expanded,
}

pub(super) const LEVELS: [Level; 3] = [Level::Top, Level::Flat, Level::Expanded];

/// Expanded readings (products of sums multiplied out) with more terms than this are not
/// compared: expanding can multiply the terms.
const MAX_EXPANDED_TERMS: usize = 64;
/// Readings of the terms as written (top level, or nested sums flattened) with more terms than
/// this are not compared (the matching of written and expected terms grows with their product);
/// the totals of deep networks (ResNet-50's 107 terms, GPT-2 medium's 293) stay well below it.
const MAX_LISTED_TERMS: usize = 1024;
/// More factors than this are compared as they are, without regrouping.
const MAX_GROUPED_FACTORS: usize = 16;

pub(super) fn terms(expression: &Expression, level: Level) -> Option<Vec<Term>> {
    match level {
        Level::Top => match expression {
            Expression::Sum(items) => items
                .iter()
                .map(|item| Some(term(false, factors(item)?)))
                .collect(),
            Expression::Difference(left, right) => Some(vec![
                term(false, factors(left)?),
                term(true, factors(right)?),
            ]),
            other => Some(vec![term(false, factors(other)?)]),
        },
        Level::Flat => flat(expression),
        Level::Expanded => expanded(expression).filter(|t| t.len() <= MAX_EXPANDED_TERMS),
    }
    .filter(|t| t.len() <= MAX_LISTED_TERMS)
}

fn term(negative: bool, factors: Vec<Factor>) -> Term {
    Term { negative, factors }
}

/// The factors of a product; an inner sum or difference is one factor, its value.
fn factors(expression: &Expression) -> Option<Vec<Factor>> {
    match expression {
        Expression::Number(n) => Some(vec![Factor::times(whole(*n))]),
        Expression::Product(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(factors(item)?);
            }
            Some(all)
        }
        Expression::Quotient(numerator, denominator) => {
            let mut all = factors(numerator)?;
            all.extend(factors(denominator)?.into_iter().map(Factor::inverted));
            Some(all)
        }
        Expression::Sum(items) if items.len() == 1 => factors(&items[0]),
        compound => Some(vec![Factor::times(compound.ratio()?)]),
    }
}

fn flat(expression: &Expression) -> Option<Vec<Term>> {
    match expression {
        Expression::Sum(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(flat(item)?);
            }
            Some(all)
        }
        Expression::Difference(left, right) => {
            let mut all = flat(left)?;
            all.extend(flat(right)?.into_iter().map(negated));
            Some(all)
        }
        other => Some(vec![term(false, factors(other)?)]),
    }
}

fn negated(mut term: Term) -> Term {
    term.negative = !term.negative;
    term
}

fn expanded(expression: &Expression) -> Option<Vec<Term>> {
    match expression {
        Expression::Number(n) => Some(vec![term(false, vec![Factor::times(whole(*n))])]),
        Expression::Sum(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(expanded(item)?);
                if all.len() > MAX_EXPANDED_TERMS {
                    return None;
                }
            }
            Some(all)
        }
        Expression::Difference(left, right) => {
            let mut all = expanded(left)?;
            all.extend(expanded(right)?.into_iter().map(negated));
            Some(all)
        }
        Expression::Product(items) => {
            let mut all = vec![term(false, Vec::new())];
            for item in items {
                let next = expanded(item)?;
                if all.len().saturating_mul(next.len()) > MAX_EXPANDED_TERMS {
                    return None;
                }
                all = all
                    .iter()
                    .flat_map(|a| next.iter().map(move |b| multiply(a, b)))
                    .collect();
            }
            Some(all)
        }
        Expression::Quotient(numerator, denominator) => {
            let divisor = match expanded(denominator)?.as_slice() {
                [single] if !single.negative => {
                    single.factors.iter().map(|f| f.inverted()).collect()
                }
                _ => vec![Factor::times(denominator.ratio()?).inverted()],
            };
            Some(
                expanded(numerator)?
                    .into_iter()
                    .map(|mut t| {
                        t.factors.extend(divisor.iter().copied());
                        t
                    })
                    .collect(),
            )
        }
    }
}

fn multiply(a: &Term, b: &Term) -> Term {
    let mut factors = a.factors.clone();
    factors.extend(b.factors.iter().copied());
    term(a.negative != b.negative, factors)
}

pub(super) fn without_zero_terms(terms: Vec<Term>) -> Vec<Term> {
    terms.into_iter().filter(|t| !t.is_zero()).collect()
}

// Exact fractions (the analysis's `Ratio`, kept reduced here too).

fn whole(n: u64) -> Ratio {
    Ratio {
        numerator: i128::from(n),
        denominator: 1,
    }
}

fn is_one(r: Ratio) -> bool {
    r.numerator == 1 && r.denominator == 1
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn reduced(numerator: i128, denominator: i128) -> Option<Ratio> {
    if denominator == 0 {
        return None;
    }
    let divisor = gcd(numerator.unsigned_abs(), denominator.unsigned_abs()).max(1);
    let divisor = i128::try_from(divisor).ok()?;
    let sign = if denominator < 0 { -1 } else { 1 };
    Some(Ratio {
        numerator: sign * (numerator / divisor),
        denominator: sign * (denominator / divisor),
    })
}

fn reciprocal(r: Ratio) -> Option<Ratio> {
    reduced(r.denominator, r.numerator)
}

fn times(a: Ratio, b: Ratio) -> Option<Ratio> {
    reduced(
        a.numerator.checked_mul(b.numerator)?,
        a.denominator.checked_mul(b.denominator)?,
    )
}

fn product_of(factors: &[Ratio]) -> Option<Ratio> {
    factors.iter().try_fold(whole(1), |acc, f| times(acc, *f))
}

// Matching.

pub(super) fn same_factors(a: &[Ratio], b: &[Ratio]) -> bool {
    let mut left = a.to_vec();
    let mut right = b.to_vec();
    let key = |r: &Ratio| (r.numerator, r.denominator);
    left.sort_by_key(key);
    right.sort_by_key(key);
    left == right
}

/// Whether every factor of `coarse` is the product of its own group of `fine`'s factors.
pub(super) fn coarsens(coarse: &[Ratio], fine: &[Ratio]) -> bool {
    if coarse.len() > fine.len() || fine.len() > MAX_GROUPED_FACTORS {
        return false;
    }
    if product_of(coarse) != product_of(fine) || product_of(coarse).is_none() {
        return false;
    }
    let mut partial = vec![whole(1); coarse.len()];
    let mut budget = MAX_GROUPING_STEPS;
    assign(coarse, fine, 0, &mut partial, &mut budget)
}

/// Regrouping gives up (as "not the same grouping") after this many tries.
const MAX_GROUPING_STEPS: usize = 100_000;

fn assign(
    coarse: &[Ratio],
    fine: &[Ratio],
    next: usize,
    partial: &mut [Ratio],
    budget: &mut usize,
) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some(&factor) = fine.get(next) else {
        return partial.iter().zip(coarse).all(|(p, c)| p == c);
    };
    for group in 0..coarse.len() {
        // Groups with the same target and the same progress are interchangeable.
        if (0..group)
            .any(|other| coarse[other] == coarse[group] && partial[other] == partial[group])
        {
            continue;
        }
        let Some(grown) = times(partial[group], factor) else {
            continue;
        };
        if !may_reach(grown, coarse[group]) {
            continue;
        }
        let before = partial[group];
        partial[group] = grown;
        if assign(coarse, fine, next + 1, partial, budget) {
            return true;
        }
        partial[group] = before;
    }
    false
}

/// Whether a partial product of whole numbers can still grow into the target (it divides it).
fn may_reach(partial: Ratio, target: Ratio) -> bool {
    if partial.denominator != 1 || target.denominator != 1 || partial.numerator == 0 {
        return true;
    }
    target.numerator % partial.numerator == 0
}

//! Compares the factors a person wrote with the factors of netcalc's formula, and says what is
//! wrong in the layer's own terms ("has 48 where 96 belongs (D: CONV2 reads 96 maps)").
//!
//! Both formulas are read as sums of terms, each term a product of factors. Order does not
//! matter, factors of 1 do not matter, and grouping does not matter: `25·96·256` stands for
//! `5·5·96·256`, `6·76` for `6·(5·5·3+1)`. Three readings of each formula are tried: the top-level
//! terms (inner sums taken as their values), the flattened terms (nested sums opened), and the
//! expanded terms (products multiplied out, so `(5·5+1)·6` reads as `5·5·6+6`). The formulas
//! agree when some pair of readings pairs every term with a term of the other side.

use super::terms::{Factor, LEVELS, Term, coarsens, same_factors, terms, without_zero_terms};
use crate::expression::Expression;

/// A number in a layer's formula and what it means there, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The number.
    pub value: u64,
    /// What it is, e.g. "D: CONV2 reads 96 maps".
    pub meaning: String,
    /// Whether the number divides in the formula (a stride) rather than multiplies.
    pub divides: bool,
}

/// The outcome of comparing a written formula with the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The written factors are the right ones.
    Same,
    /// They are not; each entry says one thing that differs.
    Different(Vec<String>),
}

/// Compares `written` with `expected`, naming numbers through `roles`.
pub fn compare(written: &Expression, expected: &Expression, roles: &[Role]) -> Comparison {
    let mut best: Option<Reading> = None;
    for written_level in LEVELS {
        let Some(written_terms) = terms(written, written_level) else {
            continue;
        };
        let written_terms = without_zero_terms(written_terms);
        for expected_level in LEVELS {
            let Some(expected_terms) = terms(expected, expected_level) else {
                continue;
            };
            let expected_terms = without_zero_terms(expected_terms);
            let pairing = pair_terms(&written_terms, &expected_terms);
            let matched = pairing.iter().filter(|p| p.is_some()).count();
            let unmatched = written_terms.len() + expected_terms.len() - 2 * matched;
            if unmatched == 0 {
                return Comparison::Same;
            }
            if best.as_ref().is_none_or(|b| unmatched < b.unmatched) {
                best = Some(Reading {
                    unmatched,
                    written: written_terms.clone(),
                    expected: expected_terms,
                    pairing,
                });
            }
        }
    }
    match best {
        None => Comparison::Different(vec!["the formula cannot be evaluated".to_string()]),
        Some(best) => Comparison::Different(describe(
            &best.written,
            &best.expected,
            &best.pairing,
            roles,
        )),
    }
}

/// A pair of readings of the two formulas and how their terms pair up.
struct Reading {
    unmatched: usize,
    written: Vec<Term>,
    expected: Vec<Term>,
    pairing: Vec<Option<usize>>,
}

fn compatible(written: &Term, expected: &Term) -> bool {
    if written.negative != expected.negative {
        return false;
    }
    let (Some(w), Some(e)) = (written.amounts(), expected.amounts()) else {
        return false;
    };
    same_factors(&w, &e) || coarsens(&w, &e) || coarsens(&e, &w)
}

/// For each written term, the expected term it pairs with (a maximum matching).
fn pair_terms(written: &[Term], expected: &[Term]) -> Vec<Option<usize>> {
    let edges: Vec<Vec<usize>> = written
        .iter()
        .map(|w| {
            (0..expected.len())
                .filter(|&e| compatible(w, &expected[e]))
                .collect()
        })
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; expected.len()];
    for start in 0..written.len() {
        let mut seen = vec![false; expected.len()];
        augment(start, &edges, &mut owner, &mut seen);
    }
    let mut pairing = vec![None; written.len()];
    for (e, w) in owner.iter().enumerate() {
        if let Some(w) = w {
            pairing[*w] = Some(e);
        }
    }
    pairing
}

fn augment(
    written: usize,
    edges: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &e in &edges[written] {
        if seen[e] {
            continue;
        }
        seen[e] = true;
        if owner[e].is_none_or(|other| augment(other, edges, owner, seen)) {
            owner[e] = Some(written);
            return true;
        }
    }
    false
}

// Explaining the difference.

fn describe(
    written: &[Term],
    expected: &[Term],
    pairing: &[Option<usize>],
    roles: &[Role],
) -> Vec<String> {
    let mut open_written: Vec<&Term> = written
        .iter()
        .zip(pairing)
        .filter(|(_, p)| p.is_none())
        .map(|(t, _)| t)
        .collect();
    let mut open_expected: Vec<&Term> = expected
        .iter()
        .enumerate()
        .filter(|(e, _)| !pairing.contains(&Some(*e)))
        .map(|(_, t)| t)
        .collect();
    let mut problems = Vec::new();
    // Pair the left-over terms that share the most factors, and name the factors that differ.
    loop {
        let mut best: Option<(usize, usize, usize)> = None;
        for (wi, w) in open_written.iter().enumerate() {
            for (ei, e) in open_expected.iter().enumerate() {
                let shared = shared_factors(&w.essential(), &e.essential());
                if best.is_none_or(|(most, ..)| shared > most) {
                    best = Some((shared, wi, ei));
                }
            }
        }
        let Some((shared, wi, ei)) = best else { break };
        let alone = open_written.len() == 1 && open_expected.len() == 1;
        if shared == 0 && !alone {
            break;
        }
        let (w, e) = (open_written.remove(wi), open_expected.remove(ei));
        problems.extend(differing_factors(w, e, roles));
    }
    for e in open_expected {
        problems.push(format!(
            "leaves out the term {}{}",
            e.text(),
            term_role(e, roles)
        ));
    }
    for w in open_written {
        problems.push(format!("has a term {} that does not belong", w.text()));
    }
    problems
}

fn shared_factors(a: &[Factor], b: &[Factor]) -> usize {
    let mut rest = b.to_vec();
    a.iter()
        .filter(|f| match rest.iter().position(|r| r == *f) {
            Some(index) => {
                rest.remove(index);
                true
            }
            None => false,
        })
        .count()
}

/// What differs between two paired terms, factor by factor.
fn differing_factors(written: &Term, expected: &Term, roles: &[Role]) -> Vec<String> {
    let mut problems = Vec::new();
    if written.negative != expected.negative {
        problems.push(if written.negative {
            format!(
                "subtracts {} where it should add it",
                expected_text(expected)
            )
        } else {
            format!(
                "adds {} where it should subtract it",
                expected_text(expected)
            )
        });
    }
    let mut extra_written = written.factors.clone();
    let mut extra_expected = Vec::new();
    for factor in &expected.factors {
        match extra_written.iter().position(|w| w == factor) {
            Some(index) => {
                extra_written.remove(index);
            }
            None => extra_expected.push(*factor),
        }
    }
    let key = |f: &Factor| (f.value.numerator, f.value.denominator);
    extra_written.sort_by_key(key);
    extra_expected.sort_by_key(key);
    // Multipliers pair with multipliers and divisors with divisors first.
    let mut pairs = Vec::new();
    for divides in [false, true] {
        let written_kind: Vec<usize> = (0..extra_written.len())
            .filter(|&i| extra_written[i].divides == divides)
            .collect();
        let expected_kind: Vec<usize> = (0..extra_expected.len())
            .filter(|&i| extra_expected[i].divides == divides)
            .collect();
        pairs.extend(written_kind.into_iter().zip(expected_kind));
    }
    let mut used_written = vec![false; extra_written.len()];
    let mut used_expected = vec![false; extra_expected.len()];
    for &(w, e) in &pairs {
        used_written[w] = true;
        used_expected[e] = true;
    }
    let mut left_written = (0..extra_written.len()).filter(|&i| !used_written[i]);
    let mut left_expected = (0..extra_expected.len()).filter(|&i| !used_expected[i]);
    let mut rest_written = Vec::new();
    let mut rest_expected = Vec::new();
    loop {
        match (left_written.next(), left_expected.next()) {
            (Some(w), Some(e)) => pairs.push((w, e)),
            (Some(w), None) => rest_written.push(w),
            (None, Some(e)) => rest_expected.push(e),
            (None, None) => break,
        }
    }
    pairs.sort_unstable();
    for (w, e) in pairs {
        problems.push(substitution(extra_written[w], extra_expected[e], roles));
    }
    for e in rest_expected {
        let factor = extra_expected[e];
        if !factor.is_one() {
            problems.push(format!(
                "leaves out the factor {}{}",
                factor.text(),
                factor_role(factor, roles)
            ));
        }
    }
    for w in rest_written {
        let factor = extra_written[w];
        if !factor.is_one() {
            problems.push(format!("has an extra factor {}", factor.text()));
        }
    }
    if problems.is_empty() {
        problems.push(format!(
            "groups the factors of {} differently ({})",
            expected.text(),
            written.text()
        ));
    }
    problems
}

fn expected_text(term: &Term) -> String {
    let mut positive = term.clone();
    positive.negative = false;
    positive.text()
}

fn substitution(written: Factor, expected: Factor, roles: &[Role]) -> String {
    if written.divides && expected.divides {
        format!(
            "divides by {} where it should divide by {}{}",
            written.value,
            expected.value,
            factor_role(expected, roles)
        )
    } else {
        format!(
            "has {} where {} belongs{}",
            written.text(),
            expected.text(),
            factor_role(expected, roles)
        )
    }
}

/// ` (D: CONV2 reads 96 maps)` when the number has a meaning in the layer.
fn factor_role(factor: Factor, roles: &[Role]) -> String {
    if factor.value.denominator != 1 {
        return String::new();
    }
    let meanings: Vec<&str> = roles
        .iter()
        .filter(|role| {
            i128::from(role.value) == factor.value.numerator && role.divides == factor.divides
        })
        .map(|role| role.meaning.as_str())
        .collect();
    if meanings.is_empty() {
        String::new()
    } else {
        format!(" ({})", meanings.join("; or "))
    }
}

fn term_role(term: &Term, roles: &[Role]) -> String {
    match term.essential().as_slice() {
        [single] => factor_role(*single, roles),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::cell::statement;

    fn written(text: &str) -> Expression {
        let statement = statement(text).expect("readable");
        statement.elements[0].expression.clone()
    }

    fn role(value: u64, meaning: &str) -> Role {
        Role {
            value,
            meaning: meaning.to_string(),
            divides: meaning.starts_with("S:"),
        }
    }

    #[test]
    fn the_same_factors_in_any_order_grouping_or_layout_agree() {
        for (text, expected) in [
            ("5·5·96·256+256", "5·5·96·256+256"),
            ("256+96·256·5·5", "5·5·96·256+256"),
            ("25·96·256+256", "5·5·96·256+256"),
            ("(5*5+1)*6", "5·5·1·6+6"),
            ("3·3·32+32", "3·3·1·32+32"),
            ("6*76 + 9*101 + 151", "6·(5·5·3+1)+9·(5·5·4+1)+1·(5·5·6+1)"),
            (
                "6*7500 + 9*10000 + 15000",
                "10·10·6·5·5·3+10·10·9·5·5·4+10·10·5·5·6",
            ),
            ("(27-5+2·2)/1+1", "(27-5+4)/1+1"),
            ("84·(120+1)", "120·84+84"),
            ("34944 + 614656", "(11·11·3·96+96)+(5·5·96·256+256)"),
        ] {
            let expected = written(expected);
            assert_eq!(
                compare(&written(text), &expected, &[]),
                Comparison::Same,
                "{text} against {expected}"
            );
        }
    }

    #[test]
    fn a_wrong_depth_is_named() {
        let roles = [
            role(96, "D: CONV2 reads 96 maps"),
            role(256, "K: CONV2 has 256 filters"),
        ];
        let expected = written("5·5·96·256+256");
        assert_eq!(
            compare(&written("5·5·1·256+256"), &expected, &roles),
            Comparison::Different(vec![
                "has 1 where 96 belongs (D: CONV2 reads 96 maps)".to_string()
            ])
        );
        assert_eq!(
            compare(&written("5·5·48·512+256"), &expected, &roles),
            Comparison::Different(vec![
                "has 48 where 96 belongs (D: CONV2 reads 96 maps)".to_string(),
                "has 512 where 256 belongs (K: CONV2 has 256 filters)".to_string(),
            ])
        );
        assert_eq!(
            compare(&written("5·5·96·256"), &expected, &roles),
            Comparison::Different(vec![
                "leaves out the term 256 (K: CONV2 has 256 filters)".to_string()
            ])
        );
    }

    #[test]
    fn size_formulas_name_stride_and_padding() {
        let roles = [role(4, "S: the stride is 4"), role(2, "P: padding 2")];
        assert_eq!(
            compare(&written("(227-11)/2+1"), &written("(227-11)/4+1"), &roles),
            Comparison::Different(vec![
                "divides by 2 where it should divide by 4 (S: the stride is 4)".to_string()
            ])
        );
        assert_eq!(
            compare(&written("(27-5)/1+1"), &written("(27-5+4)/1+1"), &[]),
            Comparison::Different(vec!["leaves out the term 4".to_string()])
        );
    }
}

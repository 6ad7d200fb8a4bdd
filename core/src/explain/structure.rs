//! Reads the structure of the analysis's formulas for the explanations: which factors of a
//! connection count are the layer's units and which the links of one unit (`28·28·6·(5·5+1)`:
//! 28·28·6 units, 5·5+1 links each), and the groups of a parameter count written per group of maps
//! (`6·(5·5·3+1)+9·(5·5·4+1)+1·(5·5·6+1)`: 6 maps reading 3 inputs, …). Only numbers are read; a
//! formula of another shape gives `None` and the explanation falls back to the formula itself.

use crate::expression::Expression;

/// A count read as units × links per unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The factors that count the units, e.g. `28·28·6`.
    pub units: Expression,
    /// The factors that count one unit's links, e.g. `5·5+1`.
    pub per_unit: Expression,
    /// The term as a whole.
    pub term: Expression,
}

/// Splits each term of a count into units × links per unit. A single product splits where its
/// factors multiply to `units` (a prefix, or else any subset); each term of a sum splits after
/// its leading numbers, which must count whole maps (a multiple of `area`) and at most `units`.
pub fn split_terms(formula: &Expression, units: u64, area: u64) -> Option<Vec<Split>> {
    match formula {
        Expression::Sum(terms) if terms.len() > 1 => terms
            .iter()
            .map(|term| split_group(term, units, area))
            .collect(),
        other => split_whole(other, units).map(|split| vec![split]),
    }
}

fn factors_of(term: &Expression) -> Vec<Expression> {
    match term {
        Expression::Product(factors) => factors.clone(),
        other => vec![other.clone()],
    }
}

fn value(expression: &Expression) -> Option<u64> {
    expression.count().ok()
}

fn product(factors: Vec<Expression>) -> Expression {
    match factors.len() {
        1 => factors.into_iter().next().unwrap_or(Expression::Number(1)),
        _ => Expression::product(factors),
    }
}

fn split_whole(term: &Expression, units: u64) -> Option<Split> {
    let factors = factors_of(term);
    if factors.len() < 2 {
        return None;
    }
    let mut running = 1u64;
    for length in 1..factors.len() {
        running = running.checked_mul(value(&factors[length - 1])?)?;
        if running == units {
            return Some(Split {
                units: product(factors[..length].to_vec()),
                per_unit: product(factors[length..].to_vec()),
                term: term.clone(),
            });
        }
    }
    // Not a prefix: look for any set of factors that multiply to the units (`2·2·128` for 128
    // global-pooling units, each linked to 2·2).
    let values: Vec<u64> = factors.iter().map(value).collect::<Option<_>>()?;
    if values.len() > 12 {
        return None;
    }
    for mask in 1u32..(1 << values.len()) - 1 {
        let chosen = (0..values.len()).filter(|i| mask & (1 << i) != 0);
        let total = chosen
            .clone()
            .try_fold(1u64, |acc, i| acc.checked_mul(values[i]));
        if total == Some(units) {
            let (unit_factors, rest): (Vec<_>, Vec<_>) = factors
                .iter()
                .enumerate()
                .partition(|(i, _)| mask & (1 << i) != 0);
            return Some(Split {
                units: product(unit_factors.into_iter().map(|(_, f)| f.clone()).collect()),
                per_unit: product(rest.into_iter().map(|(_, f)| f.clone()).collect()),
                term: term.clone(),
            });
        }
    }
    None
}

fn split_group(term: &Expression, units: u64, area: u64) -> Option<Split> {
    let factors = factors_of(term);
    let mut best = None;
    let mut running = 1u64;
    for length in 1..factors.len() {
        let Expression::Number(n) = factors[length - 1] else {
            break;
        };
        running = running.checked_mul(n)?;
        if area > 0 && running.is_multiple_of(area) && running <= units {
            best = Some(length);
        }
    }
    let length = best?;
    Some(Split {
        units: product(factors[..length].to_vec()),
        per_unit: product(factors[length..].to_vec()),
        term: term.clone(),
    })
}

/// A group of maps in a parameter count written per group: `maps·(weights+1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapGroup {
    /// Output maps in the group.
    pub maps: u64,
    /// Input maps each of them reads.
    pub reads: u64,
    /// One map's parameters, e.g. `5·5·3+1`.
    pub per_map: Expression,
    /// The group's term, e.g. `6·(5·5·3+1)`.
    pub term: Expression,
}

/// The groups of a parameter count of the form `m₁·(k·k·r₁+1)+m₂·(k·k·r₂+1)+…`, where
/// `kernel_area` is k·k; `None` for any other form.
pub fn map_groups(formula: &Expression, kernel_area: u64) -> Option<Vec<MapGroup>> {
    let Expression::Sum(terms) = formula else {
        return None;
    };
    terms
        .iter()
        .map(|term| {
            let Expression::Product(factors) = term else {
                return None;
            };
            let [Expression::Number(maps), per_map] = factors.as_slice() else {
                return None;
            };
            let weights = match per_map {
                Expression::Sum(parts) => match parts.as_slice() {
                    [weights, Expression::Number(1)] => weights,
                    _ => return None,
                },
                other => other,
            };
            let Expression::Product(_) = weights else {
                return None;
            };
            let weight_count = value(weights)?;
            if kernel_area == 0 || weight_count % kernel_area != 0 {
                return None;
            }
            Some(MapGroup {
                maps: *maps,
                reads: weight_count / kernel_area,
                per_map: per_map.clone(),
                term: term.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::Expression as E;

    fn n(value: u64) -> E {
        E::Number(value)
    }

    #[test]
    fn a_connection_count_splits_into_units_and_links() {
        let with_bias = E::product(vec![
            n(28),
            n(28),
            n(6),
            E::sum(vec![E::product_of(&[5, 5]), n(1)]),
        ]);
        let splits = split_terms(&with_bias, 28 * 28 * 6, 28 * 28).unwrap();
        assert_eq!(splits[0].units.to_string(), "28·28·6");
        assert_eq!(splits[0].per_unit.to_string(), "5·5+1");
        let pooled = E::product_of(&[2, 2, 128]);
        let splits = split_terms(&pooled, 128, 1).unwrap();
        assert_eq!(splits[0].units.to_string(), "128");
        assert_eq!(splits[0].per_unit.to_string(), "2·2");
        assert!(split_terms(&n(0), 10, 1).is_none());
    }

    #[test]
    fn the_c3_groups_are_read_from_the_parameter_count() {
        let group = |maps, reads| {
            E::product(vec![
                n(maps),
                E::sum(vec![E::product_of(&[5, 5, reads]), n(1)]),
            ])
        };
        let formula = E::sum(vec![group(6, 3), group(9, 4), group(1, 6)]);
        let groups = map_groups(&formula, 25).unwrap();
        let read: Vec<(u64, u64)> = groups.iter().map(|g| (g.maps, g.reads)).collect();
        assert_eq!(read, vec![(6, 3), (9, 4), (1, 6)]);
        let plain = E::sum(vec![E::product_of(&[5, 5, 6, 16]), n(16)]);
        assert!(map_groups(&plain, 25).is_none());
    }
}

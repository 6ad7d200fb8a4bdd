//! Arithmetic formulas such as `11·11·3·96+96` or `(227-11)/4+1`: layers build them, the analysis
//! evaluates them, and the reports print them. A printed number and its formula are therefore
//! always one computation.

use std::fmt;

/// A formula over non-negative integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// A literal.
    Number(u64),
    /// `a+b+…`.
    Sum(Vec<Expression>),
    /// `a-b`.
    Difference(Box<Expression>, Box<Expression>),
    /// `a·b·…`.
    Product(Vec<Expression>),
    /// `a/b` (exact; the result may be a fraction).
    Quotient(Box<Expression>, Box<Expression>),
}

/// A formula whose value does not fit the arithmetic (more than 64 bits, or a division by zero).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{formula}` does not fit in 64 bits")]
pub struct Overflow {
    /// The formula, printed.
    pub formula: String,
}

/// An exact fraction, kept reduced with a positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Numerator.
    pub numerator: i128,
    /// Denominator, > 0.
    pub denominator: i128,
}

impl Ratio {
    fn new(numerator: i128, denominator: i128) -> Option<Ratio> {
        if denominator == 0 {
            return None;
        }
        let divisor = gcd(numerator.unsigned_abs(), denominator.unsigned_abs()).max(1) as i128;
        let sign = if denominator < 0 { -1 } else { 1 };
        Some(Ratio {
            numerator: sign * numerator / divisor,
            denominator: sign * denominator / divisor,
        })
    }

    /// The value when it is a whole number.
    pub fn integer(self) -> Option<i128> {
        (self.denominator == 1).then_some(self.numerator)
    }

    /// Rounded towards minus infinity.
    pub fn floor(self) -> i128 {
        self.numerator.div_euclid(self.denominator)
    }

    /// Rounded towards plus infinity.
    pub fn ceil(self) -> i128 {
        -(-self.numerator).div_euclid(self.denominator)
    }
}

impl fmt::Display for Ratio {
    /// Whole numbers as integers, fractions as decimals with up to four places: `54.25`, `1.3333`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denominator == 1 {
            return write!(f, "{}", self.numerator);
        }
        let scaled = self.numerator * 10_000 / self.denominator;
        let sign = if scaled < 0 { "-" } else { "" };
        let scaled = scaled.unsigned_abs();
        let fraction = format!("{:04}", scaled % 10_000);
        write!(
            f,
            "{sign}{}.{}",
            scaled / 10_000,
            fraction.trim_end_matches('0')
        )
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Expression {
    /// `a·b·…` of plain numbers.
    pub fn product_of(factors: &[u64]) -> Expression {
        Expression::Product(factors.iter().map(|&f| Expression::Number(f)).collect())
    }

    /// `a+b+…`.
    pub fn sum(terms: Vec<Expression>) -> Expression {
        Expression::Sum(terms)
    }

    /// `a·b·…`.
    pub fn product(factors: Vec<Expression>) -> Expression {
        Expression::Product(factors)
    }

    /// `a-b`.
    pub fn difference(left: Expression, right: Expression) -> Expression {
        Expression::Difference(Box::new(left), Box::new(right))
    }

    /// `a/b`.
    pub fn quotient(left: Expression, right: Expression) -> Expression {
        Expression::Quotient(Box::new(left), Box::new(right))
    }

    /// Drops one-term sums and products and factors of 1 in products with other factors, so
    /// `Product[5, 5, 1]·…` reads as the sheet writes it. Values are unchanged.
    pub fn simplified(self) -> Expression {
        match self {
            Expression::Sum(terms) => {
                let mut terms: Vec<Expression> =
                    terms.into_iter().map(Expression::simplified).collect();
                if terms.len() == 1 {
                    terms.remove(0)
                } else if terms.is_empty() {
                    Expression::Number(0)
                } else {
                    Expression::Sum(terms)
                }
            }
            Expression::Product(factors) => {
                let mut factors: Vec<Expression> =
                    factors.into_iter().map(Expression::simplified).collect();
                if factors.len() > 1 {
                    factors.retain(|f| *f != Expression::Number(1));
                }
                match factors.len() {
                    0 => Expression::Number(1),
                    1 => factors.remove(0),
                    _ => Expression::Product(factors),
                }
            }
            Expression::Difference(a, b) => Expression::difference(a.simplified(), b.simplified()),
            Expression::Quotient(a, b) => Expression::quotient(a.simplified(), b.simplified()),
            number => number,
        }
    }

    /// The exact value, or `None` on overflow or division by zero.
    pub fn ratio(&self) -> Option<Ratio> {
        match self {
            Expression::Number(n) => Ratio::new(i128::from(*n), 1),
            Expression::Sum(terms) => terms.iter().try_fold(Ratio::new(0, 1)?, |acc, term| {
                let t = term.ratio()?;
                Ratio::new(
                    acc.numerator
                        .checked_mul(t.denominator)?
                        .checked_add(t.numerator.checked_mul(acc.denominator)?)?,
                    acc.denominator.checked_mul(t.denominator)?,
                )
            }),
            Expression::Difference(a, b) => {
                let (a, b) = (a.ratio()?, b.ratio()?);
                Ratio::new(
                    a.numerator
                        .checked_mul(b.denominator)?
                        .checked_sub(b.numerator.checked_mul(a.denominator)?)?,
                    a.denominator.checked_mul(b.denominator)?,
                )
            }
            Expression::Product(factors) => {
                factors.iter().try_fold(Ratio::new(1, 1)?, |acc, factor| {
                    let f = factor.ratio()?;
                    Ratio::new(
                        acc.numerator.checked_mul(f.numerator)?,
                        acc.denominator.checked_mul(f.denominator)?,
                    )
                })
            }
            Expression::Quotient(a, b) => {
                let (a, b) = (a.ratio()?, b.ratio()?);
                Ratio::new(
                    a.numerator.checked_mul(b.denominator)?,
                    a.denominator.checked_mul(b.numerator)?,
                )
            }
        }
    }

    /// The value as a count: a whole number from 0 to `u64::MAX`.
    pub fn count(&self) -> Result<u64, Overflow> {
        self.ratio()
            .and_then(Ratio::integer)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| Overflow {
                formula: self.to_string(),
            })
    }

    /// The formula with `*` for multiplication, as people type it.
    pub fn ascii(&self) -> String {
        self.render("*")
    }

    fn precedence(&self) -> u8 {
        match self {
            Expression::Sum(_) | Expression::Difference(..) => 1,
            Expression::Product(_) | Expression::Quotient(..) => 2,
            Expression::Number(_) => 3,
        }
    }

    fn render(&self, times: &str) -> String {
        let child = |e: &Expression, strict: bool| {
            let needs = e.precedence() < self.precedence()
                || (strict && e.precedence() == self.precedence());
            if needs {
                format!("({})", e.render(times))
            } else {
                e.render(times)
            }
        };
        let join = |items: &[Expression], separator: &str| {
            items
                .iter()
                .map(|e| child(e, false))
                .collect::<Vec<_>>()
                .join(separator)
        };
        match self {
            Expression::Number(n) => n.to_string(),
            Expression::Sum(terms) => join(terms, "+"),
            Expression::Product(factors) => join(factors, times),
            Expression::Difference(a, b) => format!("{}-{}", child(a, false), child(b, true)),
            Expression::Quotient(a, b) => format!("{}/{}", child(a, false), child(b, true)),
        }
    }
}

impl fmt::Display for Expression {
    /// The formula as the sheet writes it: `11·11·3·96+96`, `(227-11)/4+1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("·"))
    }
}

#[cfg(test)]
mod tests {
    use super::Expression as E;

    fn n(value: u64) -> E {
        E::Number(value)
    }

    #[test]
    fn prints_like_the_sheet() {
        let size = E::sum(vec![E::quotient(E::difference(n(227), n(11)), n(4)), n(1)]);
        assert_eq!(size.to_string(), "(227-11)/4+1");
        assert_eq!(size.count(), Ok(55));
        let params = E::sum(vec![E::product_of(&[11, 11, 3, 96]), n(96)]);
        assert_eq!(params.to_string(), "11·11·3·96+96");
        assert_eq!(params.count(), Ok(34944));
        let with_bias = E::product(vec![
            n(28),
            n(28),
            n(6),
            E::sum(vec![E::product_of(&[5, 5]), n(1)]),
        ]);
        assert_eq!(with_bias.ascii(), "28*28*6*(5*5+1)");
        assert_eq!(with_bias.count(), Ok(122304));
    }

    #[test]
    fn right_operands_of_the_same_precedence_get_parentheses() {
        let e = E::difference(n(10), E::difference(n(4), n(3)));
        assert_eq!(e.to_string(), "10-(4-3)");
        assert_eq!(e.count(), Ok(9));
    }

    #[test]
    fn fractions_print_as_decimals() {
        let size = E::sum(vec![E::quotient(E::difference(n(224), n(11)), n(4)), n(1)]);
        let ratio = size.ratio().unwrap();
        assert_eq!(ratio.to_string(), "54.25");
        assert_eq!((ratio.floor(), ratio.ceil()), (54, 55));
        assert!(size.count().is_err());
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let huge = E::product_of(&[u64::MAX, 2]);
        assert!(huge.count().is_err());
        let huge = E::product_of(&[u64::MAX, u64::MAX, u64::MAX]);
        assert!(huge.ratio().is_none());
        assert!(E::quotient(n(1), n(0)).ratio().is_none());
    }

    #[test]
    fn simplification_keeps_the_value() {
        let e = E::product(vec![n(5), n(5), n(1), E::Sum(vec![n(3)])]);
        assert_eq!(e.clone().simplified().to_string(), "5·5·3");
        assert_eq!(e.count(), Ok(75));
    }
}

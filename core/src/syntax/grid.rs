//! The sweep grid and its configurations. A [`Grid`] is a description's `sweep` section (or a
//! separate grid file's) checked against its `let` parameters: every key a parameter, every entry
//! a non-empty list of values of the parameter's type. Its configurations are the cartesian
//! product of the lists, counted with overflow checked and enumerated in one fixed order: the
//! first key varies slowest, in the order written, so configuration `i` is the same on every
//! machine and in every run. A [`Configuration`] names parameter values; the parameters it does
//! not name keep their defaults when it is instantiated ([`super::instantiate()`]).

use super::ParameterError;
use super::ast::{Attribute, Description, Value};
use crate::source::Span;

/// Values for some of a description's parameters; the others keep their defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Configuration {
    values: Vec<(String, Value)>,
}

impl Configuration {
    /// A configuration setting these parameters, in this order (the order of [`label`]).
    ///
    /// [`label`]: Configuration::label
    pub fn new(values: Vec<(String, Value)>) -> Configuration {
        Configuration { values }
    }

    /// The configuration that keeps every default.
    pub fn defaults() -> Configuration {
        Configuration::default()
    }

    /// The value this configuration gives a parameter, if it sets it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value)
    }

    /// The parameters it sets and their values, in order.
    pub fn values(&self) -> &[(String, Value)] {
        &self.values
    }

    /// The values as one line of DSL text, `NAME=VALUE` separated by spaces in order:
    /// `filters=[[32, 64]] kernel_size=3`. Empty for [`Configuration::defaults`].
    pub fn label(&self) -> String {
        let pairs: Vec<String> = self
            .values
            .iter()
            .map(|(name, value)| format!("{name}={}", super::dsl::value_text(value)))
            .collect();
        pairs.join(" ")
    }
}

/// One swept parameter: its name and candidate values (of the parameter's type).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The parameter's name.
    pub parameter: String,
    /// The sweep key's span.
    pub span: Span,
    /// The candidates in the order written; integers written for a number parameter are numbers.
    pub values: Vec<Value>,
}

/// A checked sweep grid: the axes in the order written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grid {
    axes: Vec<Axis>,
}

impl Grid {
    /// The grid of a description's own `sweep` section.
    pub fn of(description: &Description) -> Result<Grid, ParameterError> {
        Grid::new(description, &description.sweep)
    }

    /// Checks a sweep section (the description's own or a grid file's, read with
    /// [`super::read_grid`]) against the description's parameters: every default is a plain
    /// value (no reference), every key is a `let`
    /// parameter, every value a non-empty list of values of the parameter's type without
    /// references (an integer is taken, as a number, where the default is a number).
    pub fn new(description: &Description, sweep: &[Attribute]) -> Result<Grid, ParameterError> {
        check_defaults(&description.parameters)?;
        let mut axes = Vec::with_capacity(sweep.len());
        for entry in sweep {
            let name = &entry.key.value;
            let Some(default) = description.parameter(name) else {
                return Err(ParameterError::NotAParameter {
                    name: name.clone(),
                    suggestion: closest_parameter(description, name),
                    span: entry.key.span,
                });
            };
            let span = entry.value.span;
            if let Some(reference) = first_reference(&entry.value.value) {
                return Err(ParameterError::ReferenceNotAllowed {
                    place: format!("the grid of `{name}`"),
                    name: reference.to_string(),
                    span,
                });
            }
            let Value::List(candidates) = &entry.value.value else {
                return Err(ParameterError::GridNotAList {
                    name: name.clone(),
                    found: entry.value.value.type_name(),
                    span,
                });
            };
            if candidates.is_empty() {
                return Err(ParameterError::EmptyGrid {
                    name: name.clone(),
                    span,
                });
            }
            let values = candidates
                .iter()
                .enumerate()
                .map(|(index, candidate)| {
                    fitting(&default.value.value, candidate).ok_or_else(|| {
                        ParameterError::GridValueType {
                            name: name.clone(),
                            position: index + 1,
                            written: super::dsl::value_text(candidate),
                            found: candidate.type_name(),
                            expected: default.value.value.type_name(),
                            span,
                        }
                    })
                })
                .collect::<Result<Vec<Value>, ParameterError>>()?;
            axes.push(Axis {
                parameter: name.clone(),
                span: entry.key.span,
                values,
            });
        }
        Ok(Grid { axes })
    }

    /// The swept parameters in the order written.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Whether nothing is swept (the grid's one configuration keeps every default).
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty()
    }

    /// How many configurations the grid spans: the product of the axes' lengths (1 for a grid
    /// without axes), or [`ParameterError::GridTooLarge`] when it does not fit in 64 bits.
    pub fn count(&self) -> Result<u64, ParameterError> {
        self.axes.iter().try_fold(1_u64, |product, axis| {
            u64::try_from(axis.values.len())
                .ok()
                .and_then(|length| product.checked_mul(length))
                .ok_or(ParameterError::GridTooLarge { span: axis.span })
        })
    }

    /// Configuration `index` (from 0) in the grid's order: the first axis varies slowest, the
    /// last fastest, as nested loops written in the axes' order. `None` past the last one.
    pub fn configuration(&self, index: u64) -> Option<Configuration> {
        let mut rest = index;
        let mut picks = vec![0_usize; self.axes.len()];
        for (axis, pick) in self.axes.iter().zip(&mut picks).rev() {
            let length = u64::try_from(axis.values.len()).ok()?;
            *pick = usize::try_from(rest % length).ok()?;
            rest /= length;
        }
        (rest == 0).then(|| self.pick(&picks))
    }

    /// Every configuration in the grid's order (see [`Grid::configuration`]).
    pub fn configurations(&self) -> impl Iterator<Item = Configuration> + '_ {
        let mut picks = Some(vec![0_usize; self.axes.len()]);
        std::iter::from_fn(move || {
            let current = picks.take()?;
            let configuration = self.pick(&current);
            let mut next = current;
            // Count up like an odometer whose last wheel turns fastest.
            for (axis, pick) in self.axes.iter().zip(&mut next).rev() {
                *pick += 1;
                if *pick < axis.values.len() {
                    picks = Some(next);
                    break;
                }
                *pick = 0;
            }
            Some(configuration)
        })
    }

    fn pick(&self, picks: &[usize]) -> Configuration {
        Configuration::new(
            self.axes
                .iter()
                .zip(picks)
                .filter_map(|(axis, &pick)| {
                    let value = axis.values.get(pick)?;
                    Some((axis.parameter.clone(), value.clone()))
                })
                .collect(),
        )
    }
}

/// A parameter's default is a plain value.
pub(super) fn check_defaults(parameters: &[Attribute]) -> Result<(), ParameterError> {
    for parameter in parameters {
        if let Some(name) = first_reference(&parameter.value.value) {
            return Err(ParameterError::ReferenceNotAllowed {
                place: format!("the default of `{}`", parameter.key.value),
                name: name.to_string(),
                span: parameter.value.span,
            });
        }
    }
    Ok(())
}

/// `candidate` as a value of the default's type, if it is one: the same variant, or an integer
/// where the default is a number.
pub(super) fn fitting(default: &Value, candidate: &Value) -> Option<Value> {
    match (default, candidate) {
        (Value::Number(_), Value::Integer(integer)) => Some(Value::Number(*integer as f64)),
        (Value::Reference(_), _) | (_, Value::Reference(_)) => None,
        _ if std::mem::discriminant(default) == std::mem::discriminant(candidate) => {
            Some(candidate.clone())
        }
        _ => None,
    }
}

/// The first reference in a value, lists searched in order.
pub(super) fn first_reference(value: &Value) -> Option<&str> {
    match value {
        Value::Reference(name) => Some(name),
        Value::List(items) => items.iter().find_map(first_reference),
        _ => None,
    }
}

pub(super) fn closest_parameter(description: &Description, name: &str) -> Option<String> {
    let names = description
        .parameters
        .iter()
        .map(|parameter| parameter.key.value.as_str());
    crate::suggestion::closest(name, names).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Locate;

    fn integers(values: &[i64]) -> Value {
        Value::List(values.iter().copied().map(Value::Integer).collect())
    }

    fn description(parameters: Vec<Attribute>, sweep: Vec<Attribute>) -> Description {
        Description {
            parameters,
            sweep,
            ..Description::default()
        }
    }

    fn three_axes() -> Grid {
        let parameters = vec![
            Attribute::new("a", Value::Integer(1)),
            Attribute::new("b", Value::Text("x".into())),
            Attribute::new("c", Value::Number(0.5)),
        ];
        let sweep = vec![
            Attribute::new("a", integers(&[1, 2])),
            Attribute::new(
                "b",
                Value::List(vec![
                    Value::Text("x".into()),
                    Value::Text("y".into()),
                    Value::Text("z".into()),
                ]),
            ),
            Attribute::new(
                "c",
                Value::List(vec![Value::Integer(1), Value::Number(0.1)]),
            ),
        ];
        Grid::of(&description(parameters, sweep)).expect("a valid grid")
    }

    #[test]
    fn the_first_key_varies_slowest() {
        let grid = three_axes();
        assert_eq!(grid.count(), Ok(12));
        let labels: Vec<String> = grid.configurations().map(|c| c.label()).collect();
        assert_eq!(labels.len(), 12);
        assert_eq!(labels[0], "a=1 b=x c=1.0");
        assert_eq!(labels[1], "a=1 b=x c=0.1");
        assert_eq!(labels[2], "a=1 b=y c=1.0");
        assert_eq!(labels[5], "a=1 b=z c=0.1");
        assert_eq!(labels[6], "a=2 b=x c=1.0");
        assert_eq!(labels[11], "a=2 b=z c=0.1");
        // Nested loops in the order written, the reference the order is defined by.
        let mut nested = Vec::new();
        for a in &grid.axes()[0].values {
            for b in &grid.axes()[1].values {
                for c in &grid.axes()[2].values {
                    nested.push(Configuration::new(vec![
                        ("a".into(), a.clone()),
                        ("b".into(), b.clone()),
                        ("c".into(), c.clone()),
                    ]));
                }
            }
        }
        let enumerated: Vec<Configuration> = grid.configurations().collect();
        assert_eq!(enumerated, nested);
        for (index, configuration) in nested.iter().enumerate() {
            assert_eq!(
                grid.configuration(index as u64).as_ref(),
                Some(configuration)
            );
        }
        assert_eq!(grid.configuration(12), None);
    }

    #[test]
    fn an_empty_grid_has_one_configuration_of_defaults() {
        let grid = Grid::default();
        assert_eq!(grid.count(), Ok(1));
        let all: Vec<Configuration> = grid.configurations().collect();
        assert_eq!(all, [Configuration::defaults()]);
        assert_eq!(grid.configuration(0), Some(Configuration::defaults()));
        assert_eq!(grid.configuration(1), None);
        assert_eq!(Configuration::defaults().label(), "");
    }

    #[test]
    fn integers_stand_for_numbers() {
        let grid = three_axes();
        assert_eq!(
            grid.axes()[2].values,
            [Value::Number(1.0), Value::Number(0.1)]
        );
    }

    #[test]
    fn counting_checks_overflow() {
        let axis = |name: &str| Axis {
            parameter: name.to_string(),
            span: Span::default(),
            values: vec![Value::Integer(0); 1 << 16],
        };
        let grid = Grid {
            axes: (0..4).map(|i| axis(&format!("p{i}"))).collect(),
        };
        assert!(matches!(
            grid.count(),
            Err(ParameterError::GridTooLarge { .. })
        ));
        let grid = Grid {
            axes: (0..3).map(|i| axis(&format!("p{i}"))).collect(),
        };
        assert_eq!(grid.count(), Ok(1 << 48));
        let last = grid.configuration((1 << 48) - 1).expect("the last one");
        assert_eq!(last.values().len(), 3);
    }

    #[test]
    fn labels_write_values_as_the_dsl_does() {
        let configuration = Configuration::new(vec![
            ("filters".into(), Value::List(vec![integers(&[32, 64])])),
            ("kernel_size".into(), Value::Integer(3)),
            ("activation".into(), Value::Text("a b".into())),
        ]);
        assert_eq!(
            configuration.label(),
            "filters=[[32, 64]] kernel_size=3 activation=\"a b\""
        );
        assert_eq!(configuration.get("kernel_size"), Some(&Value::Integer(3)));
        assert_eq!(configuration.get("pool_size"), None);
    }

    #[test]
    fn bad_grids() {
        let parameters = || {
            vec![
                Attribute::new("kernel_size", Value::Integer(3)),
                Attribute::new("rate", Value::Number(0.5)),
            ]
        };
        let check = |sweep: Attribute, code: &str, message: &str| {
            let error = Grid::of(&description(parameters(), vec![sweep])).unwrap_err();
            assert_eq!((error.code(), error.to_string().as_str()), (code, message));
            error
        };
        let error = check(
            Attribute::new("kernel_sise", integers(&[3])),
            "netcalc::parameters::not_a_parameter",
            "the grid sweeps `kernel_sise`, but the description has no parameter `kernel_sise`",
        );
        assert_eq!(error.help().as_deref(), Some("did you mean `kernel_size`?"));
        check(
            Attribute::new("kernel_size", Value::Integer(3)),
            "netcalc::parameters::grid_not_a_list",
            "the grid of `kernel_size` must be a list of values, not an integer",
        );
        check(
            Attribute::new("kernel_size", Value::List(vec![])),
            "netcalc::parameters::empty_grid",
            "the grid of `kernel_size` is empty",
        );
        check(
            Attribute::new(
                "kernel_size",
                Value::List(vec![Value::Integer(3), Value::Number(5.0)]),
            ),
            "netcalc::parameters::grid_value_type",
            "value 2 of the grid of `kernel_size` is a number (5.0), but the parameter is an integer",
        );
        check(
            Attribute::new("rate", Value::List(vec![Value::Text("high".into())])),
            "netcalc::parameters::grid_value_type",
            "value 1 of the grid of `rate` is a string (high), but the parameter is a number",
        );
        check(
            Attribute::new(
                "kernel_size",
                Value::List(vec![Value::Reference("rate".into())]),
            ),
            "netcalc::parameters::reference_not_allowed",
            "the grid of `kernel_size` cannot refer to a parameter (`$rate`)",
        );
    }
}

//! What can be wrong with a description's parameters, references, repeated blocks and sweep grid,
//! found when it is instantiated ([`super::instantiate()`]) or its grid is read ([`super::Grid`]).
//! Every error points at what was written: a reference, a key, a repeat's header or a layer name.

use crate::error::Locate;
use crate::source::Span;

/// A parametrised description that cannot be turned into a plain one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParameterError {
    /// `$name` where no parameter or loop variable of that name is in scope.
    #[error("`${name}` refers to no parameter or loop variable")]
    UnknownReference {
        /// The name after `$`.
        name: String,
        /// The closest name in scope.
        suggestion: Option<String>,
        /// Where the reference is written (the value holding it).
        span: Span,
    },
    /// A `let` parameter that no reference uses.
    #[error("the parameter `{name}` is never used")]
    UnusedParameter {
        /// The parameter.
        name: String,
        /// Its key in `let`.
        span: Span,
    },
    /// A reference where only a value may stand: a parameter's default or a grid value.
    #[error("{place} cannot refer to a parameter (`${name}`)")]
    ReferenceNotAllowed {
        /// "the default of `x`" or "the grid of `x`".
        place: String,
        /// The name after `$`.
        name: String,
        /// The value holding it.
        span: Span,
    },
    /// A sweep key that is no `let` parameter.
    #[error("the grid sweeps `{name}`, but the description has no parameter `{name}`")]
    NotAParameter {
        /// The key.
        name: String,
        /// The closest parameter.
        suggestion: Option<String>,
        /// The key's span.
        span: Span,
    },
    /// A sweep entry whose value is not a list.
    #[error("the grid of `{name}` must be a list of values, not {found}")]
    GridNotAList {
        /// The parameter.
        name: String,
        /// The type written.
        found: &'static str,
        /// The value's span.
        span: Span,
    },
    /// A sweep entry with no values.
    #[error("the grid of `{name}` is empty")]
    EmptyGrid {
        /// The parameter.
        name: String,
        /// The list's span.
        span: Span,
    },
    /// A grid value whose type is not the parameter's.
    #[error(
        "value {position} of the grid of `{name}` is {found} ({written}), but the parameter is {expected}"
    )]
    GridValueType {
        /// The parameter.
        name: String,
        /// 1-based position in the list.
        position: usize,
        /// The value as the DSL writes it.
        written: String,
        /// Its type.
        found: &'static str,
        /// The default's type.
        expected: &'static str,
        /// The list's span.
        span: Span,
    },
    /// The grid's configurations cannot be counted in 64 bits.
    #[error("the grid has more configurations than fit in 64 bits")]
    GridTooLarge {
        /// The sweep section (its first key).
        span: Span,
    },
    /// A configuration names no parameter of the description.
    #[error("the configuration sets `{name}`, but the description has no parameter `{name}`")]
    ConfigurationParameter {
        /// The name.
        name: String,
        /// The closest parameter.
        suggestion: Option<String>,
    },
    /// A configuration's value whose type is not the parameter's.
    #[error("the configuration sets `{name}` to {found}, but the parameter is {expected}")]
    ConfigurationType {
        /// The parameter.
        name: String,
        /// The value's type.
        found: &'static str,
        /// The default's type.
        expected: &'static str,
        /// The parameter's default.
        span: Span,
    },
    /// A repeat whose count is negative or not a whole number.
    #[error("a repeat count must be a non-negative integer, not {found}{via}")]
    RepeatCount {
        /// The value as the DSL writes it.
        found: String,
        /// ` (the value of `$n`)` when it came from a reference, else empty.
        via: String,
        /// The header's value.
        span: Span,
    },
    /// A repeat over something that is neither a count nor a list.
    #[error("a repeat runs over a count or a list, not {found}{via}")]
    RepeatOver {
        /// The value's type.
        found: &'static str,
        /// ` (the value of `$n`)` when it came from a reference, else empty.
        via: String,
        /// The header's value.
        span: Span,
    },
    /// A named layer inside a repeat without `as`: every copy would have the same name.
    #[error("layer `{name}` is named inside a repeat without `as`")]
    NamedLayerInUnnamedRepeat {
        /// The layer's name.
        name: String,
        /// The name's span.
        span: Span,
    },
    /// A loop variable with the name of a parameter or of an enclosing loop's variable.
    #[error("the loop variable `{name}` hides {hidden}")]
    HiddenName {
        /// The variable.
        name: String,
        /// "the parameter `x`" or "the variable of an enclosing repeat".
        hidden: String,
        /// The variable's span.
        span: Span,
    },
    /// Two layers with one name once the repeats are expanded.
    #[error("two layers are named `{name}` once the repeats are expanded ({copy})")]
    DuplicateName {
        /// The expanded name.
        name: String,
        /// Which copy the second one is in: "copy 1 of `block`".
        copy: String,
        /// The second layer's name as written.
        span: Span,
    },
    /// The repeats expand to more layers than netcalc builds.
    #[error("the repeats expand to more than {limit} layers")]
    TooManyLayers {
        /// The limit.
        limit: usize,
        /// The layer that passed it.
        span: Span,
    },
    /// The repeats make more copies than netcalc expands, layers or not.
    #[error("the repeats make more than {limit} copies")]
    TooManyCopies {
        /// The limit.
        limit: u64,
        /// The repeat whose copy passed it.
        span: Span,
    },
}

impl Locate for ParameterError {
    fn span(&self) -> Span {
        match self {
            ParameterError::UnknownReference { span, .. }
            | ParameterError::UnusedParameter { span, .. }
            | ParameterError::ReferenceNotAllowed { span, .. }
            | ParameterError::NotAParameter { span, .. }
            | ParameterError::GridNotAList { span, .. }
            | ParameterError::EmptyGrid { span, .. }
            | ParameterError::GridValueType { span, .. }
            | ParameterError::GridTooLarge { span }
            | ParameterError::ConfigurationType { span, .. }
            | ParameterError::RepeatCount { span, .. }
            | ParameterError::RepeatOver { span, .. }
            | ParameterError::NamedLayerInUnnamedRepeat { span, .. }
            | ParameterError::HiddenName { span, .. }
            | ParameterError::DuplicateName { span, .. }
            | ParameterError::TooManyLayers { span, .. }
            | ParameterError::TooManyCopies { span, .. } => *span,
            ParameterError::ConfigurationParameter { .. } => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            ParameterError::UnknownReference { .. } => "not defined",
            ParameterError::UnusedParameter { .. } => "never used",
            ParameterError::ReferenceNotAllowed { .. } => "a reference",
            ParameterError::NotAParameter { .. } => "no parameter",
            ParameterError::GridNotAList { .. } => "not a list",
            ParameterError::EmptyGrid { .. } => "no values",
            ParameterError::GridValueType { .. } => "wrong type",
            ParameterError::GridTooLarge { .. } => "too many configurations",
            ParameterError::ConfigurationParameter { .. } => "here",
            ParameterError::ConfigurationType { .. } => "the parameter's default",
            ParameterError::RepeatCount { .. } => "not a count",
            ParameterError::RepeatOver { .. } => "neither a count nor a list",
            ParameterError::NamedLayerInUnnamedRepeat { .. } => "same name in every copy",
            ParameterError::HiddenName { .. } => "hides a name",
            ParameterError::DuplicateName { .. } => "name used again",
            ParameterError::TooManyLayers { .. } => "one layer too many",
            ParameterError::TooManyCopies { .. } => "too many copies",
        }
        .to_string()
    }

    fn help(&self) -> Option<String> {
        match self {
            ParameterError::UnknownReference {
                name, suggestion, ..
            } => Some(match suggestion {
                Some(near) => format!("did you mean `${near}`?"),
                None => format!("declare it with `let {name}=…` (YAML `let: {{{name}: …}}`)"),
            }),
            ParameterError::UnusedParameter { name, .. } => Some(format!(
                "use it as `${name}` where its value belongs, or remove it"
            )),
            ParameterError::ReferenceNotAllowed { .. } => {
                Some("write the value itself; references stand in layers, `train` and `expect`".to_string())
            }
            ParameterError::NotAParameter {
                name, suggestion, ..
            } => Some(match suggestion {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "a grid sweeps parameters: declare `let {name}=DEFAULT` and use `${name}`"
                ),
            }),
            ParameterError::GridNotAList { name, .. } => {
                Some(format!("write the candidates as a list: `sweep {name}=[3, 5]`"))
            }
            ParameterError::EmptyGrid { .. } => Some(
                "give at least one value, or remove the entry to keep the default".to_string(),
            ),
            ParameterError::GridValueType { expected, .. } => Some(format!(
                "every value of a grid has the type of the parameter's default ({expected}); an integer may stand for a number"
            )),
            ParameterError::GridTooLarge { .. } => {
                Some("sweep fewer parameters or fewer values".to_string())
            }
            ParameterError::ConfigurationParameter { suggestion, .. } => {
                suggestion.as_ref().map(|near| format!("did you mean `{near}`?"))
            }
            ParameterError::ConfigurationType { .. } => None,
            ParameterError::RepeatCount { .. } => Some(
                "write how many copies (0 or more), or a list to repeat over its elements"
                    .to_string(),
            ),
            ParameterError::RepeatOver { .. } => Some(
                "write a count (`repeat 3`) or a list (`repeat [32, 64] as filters`)".to_string(),
            ),
            ParameterError::NamedLayerInUnnamedRepeat { name, .. } => Some(format!(
                "name the repeat (`repeat 2 as block`): its copies' layers are then `block.0.{name}`, `block.1.{name}`, …; or leave the layer unnamed"
            )),
            ParameterError::HiddenName { .. } => {
                Some("give the loop variable a name of its own".to_string())
            }
            ParameterError::DuplicateName { .. } => Some(
                "a layer named in a repeat gets the name `VARIABLE.COPY.NAME`; give each layer its own name"
                    .to_string(),
            ),
            ParameterError::TooManyLayers { .. } => {
                Some("netcalc builds at most this many layers; repeat fewer times".to_string())
            }
            ParameterError::TooManyCopies { .. } => {
                Some("netcalc makes at most this many copies; repeat fewer times".to_string())
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ParameterError::UnknownReference { .. } => "netcalc::parameters::unknown_reference",
            ParameterError::UnusedParameter { .. } => "netcalc::parameters::unused_parameter",
            ParameterError::ReferenceNotAllowed { .. } => {
                "netcalc::parameters::reference_not_allowed"
            }
            ParameterError::NotAParameter { .. } => "netcalc::parameters::not_a_parameter",
            ParameterError::GridNotAList { .. } => "netcalc::parameters::grid_not_a_list",
            ParameterError::EmptyGrid { .. } => "netcalc::parameters::empty_grid",
            ParameterError::GridValueType { .. } => "netcalc::parameters::grid_value_type",
            ParameterError::GridTooLarge { .. } => "netcalc::parameters::grid_too_large",
            ParameterError::ConfigurationParameter { .. } => {
                "netcalc::parameters::configuration_parameter"
            }
            ParameterError::ConfigurationType { .. } => "netcalc::parameters::configuration_type",
            ParameterError::RepeatCount { .. } => "netcalc::parameters::repeat_count",
            ParameterError::RepeatOver { .. } => "netcalc::parameters::repeat_over",
            ParameterError::NamedLayerInUnnamedRepeat { .. } => {
                "netcalc::parameters::named_layer_in_unnamed_repeat"
            }
            ParameterError::HiddenName { .. } => "netcalc::parameters::hidden_name",
            ParameterError::DuplicateName { .. } => "netcalc::parameters::duplicate_name",
            ParameterError::TooManyLayers { .. } => "netcalc::parameters::too_many_layers",
            ParameterError::TooManyCopies { .. } => "netcalc::parameters::too_many_copies",
        }
    }
}
